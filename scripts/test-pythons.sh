#!/usr/bin/env bash
# The fast suite (`pytest -m "not slow"`) on every Python 3.10-3.13 on this machine other
# than the one .venv was made from: each gets a venv of its own (.venv-3.X, kept for the next
# run) with the pinned grading stack. Says which versions ran, passed, or are not here; fails
# when any run failed. Extra arguments go to pytest.
# Usage: scripts/test-pythons.sh [PYTEST_ARGS...]
set -uo pipefail
cd "$(dirname "$0")/.."
version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
own=$(version_of .venv/bin/python)
failed=() passed=() absent=() unusable=()
for version in 3.10 3.11 3.12 3.13; do
  [[ $version == "$own" ]] && continue
  python=$(command -v "python$version" || true)
  # a pyenv shim for a version pyenv does not select is on PATH but does not run
  if [[ -z $python ]] || ! "$python" -c "" 2>/dev/null; then absent+=("$version"); continue; fi
  if ! "$python" -c "import ensurepip, venv" 2>/dev/null; then  # Debian splits them off
    unusable+=("$version (no venv: apt-get install python$version-venv)"); continue
  fi
  venv=".venv-$version"
  echo "== Python $version ($python) in $venv"
  if [[ ! -x $venv/bin/python ]] || [[ pyproject.toml -nt $venv/.installed ]]; then
    "$python" -m venv "$venv" && "$venv/bin/python" -m pip install -q --upgrade pip &&
      "$venv/bin/python" -m pip install -q -e ".[grade,cpu,dev]" && touch "$venv/.installed" ||
      { failed+=("$version (install)"); continue; }
  fi
  if "$venv/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider "$@"; then
    passed+=("$version")
  else
    failed+=("$version")
  fi
done
echo "own .venv: Python $own (make test)"
echo "passed: ${passed[*]:-none}"
echo "not on this machine: ${absent[*]:-none}"
((${#unusable[@]} == 0)) || echo "found but unusable: ${unusable[*]}"
((${#failed[@]} == 0)) || { echo "FAILED: ${failed[*]}"; exit 1; }
