#!/usr/bin/env bash
# Installs the few Debian packages the suite needs when they are missing:
#   chromium -> the browser Playwright drives (Playwright never downloads a browser of its own here)
#   gettext  -> msgfmt/xgettext for the Spanish catalog
set -euo pipefail
need=()
for pkg in "$@"; do
  case "$pkg" in
    chromium) command -v chromium >/dev/null 2>&1 || need+=(chromium) ;;
    gettext) command -v msgfmt >/dev/null 2>&1 || need+=(gettext) ;;
    *) echo "unknown package $pkg" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: please install: ${need[*]} (Debian/Ubuntu package names)" >&2; exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing ${need[*]} from Debian's packages"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
