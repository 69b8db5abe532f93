#!/usr/bin/env bash
# Copies the design system and htmx from node_modules into static/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf static/vendor && mkdir -p static/vendor/uswds static/vendor/htmx static/vendor/leaflet
cp -r node_modules/@uswds/uswds/dist/css node_modules/@uswds/uswds/dist/js \
      node_modules/@uswds/uswds/dist/fonts node_modules/@uswds/uswds/dist/img static/vendor/uswds/
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
mkdir -p static/vendor/leaflet && cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
  node_modules/leaflet/dist/images static/vendor/leaflet/
echo "static/vendor built"
