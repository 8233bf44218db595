#!/usr/bin/env bash
# Build ./build, the SCF code package: handler.py, the smsverify package and the
# runtime dependencies (requirements.txt) as wheels for CPython 3.10 on Linux x86_64.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build
mkdir -p build
python3 -m pip install --quiet --disable-pip-version-check --target build \
  --platform manylinux2014_x86_64 --implementation cp --python-version 3.10 --only-binary=:all: \
  -r requirements.txt
cp handler.py build/
cp -r src/smsverify build/smsverify
find build -name '__pycache__' -prune -exec rm -rf {} +
echo "build/ ready: $(du -sh build | cut -f1)"
