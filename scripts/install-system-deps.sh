#!/usr/bin/env bash
# Debian packages the grader needs: a Python 3.11 outside /root (so sandboxed children
# under a throw-away uid can run it), bubblewrap, and Pango + fonts for WeasyPrint.
set -euo pipefail
packages=(python3.11 python3.11-venv bubblewrap poppler-utils libpango-1.0-0
          libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-dejavu-extra)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "installing system packages: ${missing[*]}"
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
