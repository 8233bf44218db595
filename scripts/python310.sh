#!/usr/bin/env bash
# Print the path of a real CPython 3.10 interpreter (SCF's runtime Python3.10), or fail.
#
#   bash scripts/python310.sh            -> /path/to/python3.10 on stdout, exit 0; exit 1 if none
#
# Looked for, in order: $SMSVERIFY_PYTHON310 (must be a 3.10), python3.10 on PATH (Debian's
# package, actions/setup-python's, a pyenv shim), pyenv's versions ($PYENV_ROOT, default
# ~/.pyenv, newest 3.10.x first). Each candidate is run and must report version 3.10 with pip.
# Used by scripts/package.sh (dependencies are resolved by this interpreter, so their
# environment markers are those of Python 3.10) and scripts/test.sh (the package test runs
# the built package under it).
set -euo pipefail

is_310() {
  [ -n "$1" ] && "$1" -c 'import sys, pip; sys.exit(sys.version_info[:2] != (3, 10) or sys.implementation.name != "cpython")' \
    >/dev/null 2>&1
}

if [ -n "${SMSVERIFY_PYTHON310:-}" ]; then
  if is_310 "$SMSVERIFY_PYTHON310"; then
    "$SMSVERIFY_PYTHON310" -c 'import sys; print(sys.executable)'
    exit 0
  fi
  echo "SMSVERIFY_PYTHON310=$SMSVERIFY_PYTHON310 is not a CPython 3.10 with pip" >&2
  exit 1
fi

candidates=()
if command -v python3.10 >/dev/null 2>&1; then
  candidates+=("$(command -v python3.10)")
fi
for root in "${PYENV_ROOT:-}" "${HOME:-/nonexistent}/.pyenv"; do
  [ -n "$root" ] && [ -d "$root/versions" ] || continue
  while IFS= read -r found; do
    candidates+=("$found")
  done < <(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -t. -k3,3nr)
done

for candidate in ${candidates[@]+"${candidates[@]}"}; do
  if is_310 "$candidate"; then
    "$candidate" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
exit 1
