#!/usr/bin/env bash
# Debian/Ubuntu packages the grader needs, then prints (alone on stdout) the Python 3.11-3.13
# the virtual environment is to be made from. That Python: the one named, else the
# distribution's python3 when it is 3.11-3.13 (Debian 12: 3.11, Ubuntu 24.04: 3.12,
# Debian 13: 3.13), else the newest python3.1x installed or installable (Ubuntu 22.04, whose
# python3 is 3.10: python3.11). It must live outside /root, so sandboxed children under a
# throw-away uid can run it. Also: bubblewrap; Pango + fonts for WeasyPrint: DejaVu, and Noto
# (core: Arabic, Devanagari, Hebrew, Thai and most other scripts; CJK: Korean, Japanese,
# Chinese) so a student's name in any script prints (the same package names on Debian 12/13
# and Ubuntu 22.04/24.04, but for `optional` below); fontconfig's fc-list tells the grader
# which characters no font has.
# Usage: install-system-deps.sh [PYTHON]
set -euo pipefail
wanted=${1:-}
packages=(bubblewrap poppler-utils libpango-1.0-0 libpangoft2-1.0-0
          fontconfig fonts-dejavu-core fonts-dejavu-extra fonts-noto-core fonts-noto-cjk)
# Only where the distribution has it: Ubuntu 22.04 (HarfBuzz 2.7) has no libharfbuzz-subset0,
# and WeasyPrint then subsets fonts with fontTools.
optional=(libharfbuzz-subset0)

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
refreshed=""
refresh() {  # the package lists, once (a fresh container has none)
  [[ -n $refreshed ]] || { as_root apt-get update -qq >&2; refreshed=1; }
}

install() {  # the named Debian packages that are not installed yet
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "installing system packages: ${missing[*]}" >&2
  refresh
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
supported() { case $(version_of "$1") in 3.11 | 3.12 | 3.13) return 0 ;; *) return 1 ;; esac; }

choose_python() {
  if [[ -n $wanted ]]; then
    [[ -x $wanted ]] || install "$(basename "$wanted")"  # e.g. /usr/bin/python3.12
    if [[ ! -x $wanted ]]; then
      echo "error: $wanted does not exist and the package lists have no $(basename "$wanted")." \
           "Name a Python 3.11-3.13 that exists: make PYTHON_SYSTEM=/path/to/python3" >&2
      exit 1
    fi
    supported "$wanted" && { echo "$wanted"; return; }
    echo "error: $wanted is Python $(version_of "$wanted"); the grader needs 3.11 to 3.13" \
         "(TensorFlow 2.21). Name another: make PYTHON_SYSTEM=/usr/bin/python3.12" >&2
    exit 1
  fi
  local candidate
  for candidate in /usr/bin/python3 /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11; do
    [[ -x $candidate ]] && supported "$candidate" && { echo "$candidate"; return; }
  done
  refresh
  for candidate in python3.13 python3.12 python3.11; do  # what the distribution offers
    if apt-cache show "$candidate" >/dev/null 2>&1; then
      install "$candidate"; echo "/usr/bin/$candidate"; return
    fi
  done
  echo "error: no Python 3.11-3.13 here or in this system's package lists (the grader needs" \
       "one: TensorFlow 2.21). Install one and run: make PYTHON_SYSTEM=/path/to/python3.12" >&2
  exit 1
}

python=$(choose_python)
version=$(version_of "$python")
# The distribution's Python needs its venv package; another one (e.g. /opt) brings its own.
if dpkg -S "$(readlink -f "$python")" >/dev/null 2>&1; then
  packages+=("python$version-venv")
fi
for p in "${optional[@]}"; do
  { dpkg-query -W "$p" >/dev/null 2>&1 || { refresh; apt-cache show "$p" >/dev/null 2>&1; }; } &&
    packages+=("$p")
done
install "${packages[@]}"
echo "$python"
