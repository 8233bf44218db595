#!/usr/bin/env bash
# Install what the tests need on a fresh Debian machine, then run them.
# - a virtualenv in .venv with the package and its test extras
# - redis-server from apt when it is missing (as root, or with sudo)
# - node (for the mini-program client's tests, which pytest runs) from apt when it is missing
# - a secret scan of the repository (detect-secrets), an error lint (ruff), a Python 3.10
#   compatibility check of the deployed code (vermin; SCF runs Python3.10), then pytest
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "smsverify tests need Python >= 3.10 (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server with apt-get" >&2
    apt-get install -y redis-server >/dev/null || { apt-get update >/dev/null && apt-get install -y redis-server >/dev/null; }
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "installing redis-server with sudo apt-get" >&2
    sudo apt-get install -y redis-server >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y redis-server >/dev/null; }
  else
    echo "redis-server is missing and cannot be installed here (needs root or sudo with apt-get)." >&2
    echo "Install it (apt-get install -y redis-server) and run this again; real-Redis tests will be skipped, and fail under CI=true." >&2
  fi
fi
# The distribution's service may have started on 6379; the tests start their own servers.

if ! command -v node >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing nodejs with apt-get" >&2
    apt-get install -y nodejs >/dev/null || { apt-get update >/dev/null && apt-get install -y nodejs >/dev/null; }
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "installing nodejs with sudo apt-get" >&2
    sudo apt-get install -y nodejs >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y nodejs >/dev/null; }
  else
    echo "node is missing and cannot be installed here (needs root or sudo with apt-get)." >&2
    echo "Install Node.js 18 or later (apt-get install -y nodejs) and run this again; the mini-program client's tests need it." >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get install -y python3-venv >/dev/null && "$PYTHON" -m venv .venv
    else
      echo "cannot create a virtualenv: install python3-venv (apt-get install -y python3-venv)" >&2
      exit 1
    fi
  fi
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Secret scan: fails on any finding not marked "pragma: allowlist secret" nor audited in the baseline.
# .secrets.baseline holds the audited false positives (the base64 sample body).
git ls-files -z | xargs -0 .venv/bin/detect-secrets-hook --baseline .secrets.baseline --

# Lint for errors (undefined names, unused imports).
.venv/bin/ruff check --quiet src tests bench handler.py

# The deployed code must run on SCF's Python3.10 (this machine may have a newer Python):
# syntax, modules and members newer than 3.10 fail here (tests/deploy/test_workflows.py).
.venv/bin/vermin -q -t=3.10- --no-tips --violations --eval-annotations src handler.py

exec .venv/bin/python -m pytest "$@"
