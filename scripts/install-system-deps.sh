#!/usr/bin/env bash
# Debian packages the grader needs: a Python 3.11-3.13 (what tensorflow-cpu 2.21 supports)
# outside /root, so sandboxed children under a throw-away uid can run it, with its venv
# module; bubblewrap; Pango + fonts for WeasyPrint: DejaVu, and Noto (core: Arabic, Devanagari,
# Hebrew, Thai and most other scripts; CJK: Korean, Japanese, Chinese) so a student's name in
# any script prints (the same package names on Debian 12/13 and Ubuntu 22.04/24.04);
# fontconfig's fc-list tells the grader which characters no font has (a name warning).
# Usage: install-system-deps.sh [PYTHON]   (default: /usr/bin/python3, the distribution's)
set -euo pipefail
python=${1:-/usr/bin/python3}
packages=(bubblewrap poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
          fontconfig fonts-dejavu-core fonts-dejavu-extra fonts-noto-core fonts-noto-cjk)

install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing system packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

[[ -x $python ]] || install "$(basename "$python")"  # python3, or e.g. python3.12
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
case $version in
  3.11 | 3.12 | 3.13) ;;
  *)
    echo "error: $python is Python $version; the grader needs 3.11 to 3.13 (tensorflow-cpu" \
         "2.21). Install one and run: make PYTHON_SYSTEM=/usr/bin/python3.12" >&2
    exit 1 ;;
esac
# The distribution's Python needs its venv package; another one (e.g. /opt) brings its own.
if dpkg -S "$(readlink -f "$python")" >/dev/null 2>&1; then
  packages+=("python$version-venv")
fi
install "${packages[@]}"
