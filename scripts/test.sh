#!/usr/bin/env bash
# Install what the tests need on a fresh Debian machine, then run them.
# - a virtualenv in .venv with the package and its test extras
# - redis-server from apt when it is missing (as root, or with sudo)
# - node (for the mini-program client's tests, which pytest runs) from apt when it is missing
# - a CPython 3.10 (SCF's runtime; the package test runs the built package under it): found by
#   scripts/python310.sh (SMSVERIFY_PYTHON310, python3.10 on PATH, pyenv), else installed
#   (apt-get install python3.10, pyenv install 3.10, uv python install 3.10), and exported as
#   SMSVERIFY_PYTHON310. Under CI=true a missing 3.10 fails the run.
# - Debian's chromium (/usr/bin/chromium; the browser tests drive it with playwright-core and
#   never download a browser) from apt when it is missing
# - node_modules (npm ci with a lockfile, else npm install) of every package.json in
#   examples/*/ and tests/e2e/browser/ that has none yet
# - a secret scan of the repository (detect-secrets), an error lint (ruff), a Python 3.10
#   compatibility check of the deployed code (vermin; SCF runs Python3.10), then pytest with
#   branch coverage of src/ (coverage.py; one summary line; `.venv/bin/coverage report -m` for details)
# Every step is skipped when already done. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
IN_CI=false
case "${CI:-}" in 1|true|TRUE|True|yes) IN_CI=true ;; esac

# apt-get install PACKAGE... as root or with sudo; returns 1 when neither is possible.
apt_install() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  echo "installing $* with apt-get" >&2
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || {
    ${sudo[@]+"${sudo[@]}"} apt-get update -qq >/dev/null 2>&1 &&
      ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
  }
}

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

# SCF's Python: the package test builds the package and runs it under a real 3.10.
if ! SMSVERIFY_PYTHON310="$(bash scripts/python310.sh 2>/dev/null)"; then
  unset SMSVERIFY_PYTHON310
  if apt-cache show python3.10 >/dev/null 2>&1 && apt_install python3.10 python3.10-venv; then :
  elif command -v pyenv >/dev/null 2>&1; then
    echo "installing Python 3.10 with pyenv (a few minutes)" >&2
    pyenv install -s 3.10 >/dev/null 2>&1 || true
  elif command -v uv >/dev/null 2>&1; then
    echo "installing Python 3.10 with uv" >&2
    uv python install 3.10 >/dev/null 2>&1 && SMSVERIFY_PYTHON310="$(uv python find 3.10)" || true
  fi
  SMSVERIFY_PYTHON310="$(bash scripts/python310.sh 2>/dev/null)" || SMSVERIFY_PYTHON310=""
fi
if [ -n "${SMSVERIFY_PYTHON310:-}" ]; then
  export SMSVERIFY_PYTHON310
else
  unset SMSVERIFY_PYTHON310
  echo "no CPython 3.10 found or installable (apt-get install python3.10, pyenv install 3.10, or set SMSVERIFY_PYTHON310):" >&2
  echo "the package tests need SCF's Python 3.10; they are skipped, and a CI run fails." >&2
  if [ "$IN_CI" = true ]; then
    exit 1
  fi
fi

# The browser tests drive Debian's chromium (playwright-core with executablePath=/usr/bin/chromium).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || echo "chromium is missing and cannot be installed here (apt-get install -y chromium); the browser tests need it." >&2
fi

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

# Node packages of the examples and the browser tests (never a browser download).
if command -v npm >/dev/null 2>&1; then
  for dir in examples/*/ tests/e2e/browser/; do
    if [ -f "$dir/package.json" ] && [ ! -d "$dir/node_modules" ]; then
      if [ -f "$dir/package-lock.json" ]; then npm_command=ci; else npm_command=install; fi
      echo "npm $npm_command in $dir" >&2
      (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm "$npm_command" --silent --no-audit --no-fund >/dev/null)
    fi
  done
fi

# Secret scan: fails on any finding not marked "pragma: allowlist secret" nor audited in the baseline.
# .secrets.baseline holds the audited false positives (the base64 sample body).
git ls-files -z | xargs -0 .venv/bin/detect-secrets-hook --baseline .secrets.baseline --

# Lint for errors (undefined names, unused imports).
.venv/bin/ruff check --quiet src tests bench handler.py

# The deployed code must run on SCF's Python3.10 (this machine may have a newer Python):
# syntax, modules and members newer than 3.10 fail here (tests/deploy/test_workflows.py).
.venv/bin/vermin -q -t=3.10- --no-tips --violations --eval-annotations src handler.py

# pytest with branch coverage of src/ ([tool.coverage] in pyproject.toml), summed up in one line.
status=0
.venv/bin/python -m pytest --cov --cov-report= "$@" || status=$?
if [ -f .coverage ] && total="$(.venv/bin/coverage report --format=total --precision=1 2>/dev/null)"; then
  echo "branch coverage of src/: $total% (coverage.py, branch=True; details: .venv/bin/coverage report -m)"
fi
exit "$status"
