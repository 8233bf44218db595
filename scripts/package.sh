#!/usr/bin/env bash
# Build the SCF code package.
#
#   bash scripts/package.sh [DIST_DIR]        (or: make package)
#
# Writes
#   BUILD_DIR (default ./build)   the unpacked package, the directory serverless.yml deploys (src.src)
#   DIST_DIR  (default ./dist)    smsverify.zip: the same files, zipped deterministically
#
# Contents: handler.py, the smsverify package (with its Lua scripts) and the runtime
# dependencies of requirements.txt, installed as wheels for the SCF runtime Python3.10 on
# Linux x86_64 (PYTHON_VERSION below; tests/deploy checks it against serverless.yml), with
# bytecode for Python 3.10.
#
# Every step runs under a real CPython 3.10 (scripts/python310.sh finds one), whatever Python
# runs `make package`: pip's --python-version selects wheels for 3.10 but evaluates environment
# markers for the interpreter running pip, so a Python >= 3.11.3 would leave out
# `async-timeout; python_full_version < "3.11.3"` (a dependency of redis) and the package would
# fail on SCF with ModuleNotFoundError. Without a 3.10 interpreter the build refuses to run.
# Where a dependency publishes a pure-Python wheel next to its compiled one
# (charset-normalizer), the pure one is used; compiled extensions that remain have a
# pure-Python fallback (tests/deploy/test_package.py proves the package runs without them).
# No __pycache__, no console scripts (bin/), nothing of the developer's environment.
#
# Environment: PYTHON (used when it is a CPython 3.10; otherwise SMSVERIFY_PYTHON310, python3.10
# on PATH or pyenv's 3.10, see scripts/python310.sh), BUILD_DIR, DIST_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

PYTHON_VERSION=3.10
if [ -n "${PYTHON:-}" ] && "$PYTHON" -c 'import sys, pip; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
  PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"
elif ! PYTHON="$(bash scripts/python310.sh)"; then
  cat >&2 <<MSG
package: refusing to build: no CPython $PYTHON_VERSION interpreter with pip found (looked at \$PYTHON,
\$SMSVERIFY_PYTHON310, python$PYTHON_VERSION on PATH, pyenv's versions/$PYTHON_VERSION.*).
SCF runs Python$PYTHON_VERSION, and pip resolves dependency markers for the Python that runs it: built by
another Python, the package can miss $PYTHON_VERSION-only dependencies (redis needs async-timeout below
3.11.3) and fail on SCF. Install one (apt-get install python$PYTHON_VERSION, pyenv install $PYTHON_VERSION,
actions/setup-python) or point SMSVERIFY_PYTHON310 at it, then run make package again.
MSG
  exit 1
fi
echo "package: dependencies resolved and bytecode compiled by $PYTHON ($("$PYTHON" -V 2>&1))" >&2
PLATFORM=manylinux2014_x86_64
DIST_DIR="${1:-${DIST_DIR:-dist}}"
BUILD_DIR="${BUILD_DIR:-build}"
ZIP="$DIST_DIR/smsverify.zip"

PIP=("$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile --only-binary=:all:
     --python-version "$PYTHON_VERSION")

rm -rf "$BUILD_DIR"
mkdir -p "$BUILD_DIR" "$DIST_DIR"
rm -f "$ZIP"

# 1. The runtime dependencies, resolved for CPython 3.10 on manylinux2014 x86_64.
"${PIP[@]}" --target "$BUILD_DIR" --implementation cp --platform "$PLATFORM" -r requirements.txt

# 2. Prefer pure-Python wheels: every distribution installed with a platform-specific
#    wheel is replaced by the pure wheel of the same version when one exists.
"$PYTHON" - "$BUILD_DIR" <<'EOF' > "$BUILD_DIR/.platform-dists"
import pathlib, sys
build = pathlib.Path(sys.argv[1])
for info in sorted(build.glob("*.dist-info")):
    wheel = (info / "WHEEL").read_text()
    if "Root-Is-Purelib: false" in wheel:
        meta = {}
        for line in (info / "METADATA").read_text(encoding="utf-8").splitlines():
            if not line:
                break
            key, _, value = line.partition(": ")
            meta.setdefault(key, value)
        print(info.name, meta["Name"], meta["Version"])
EOF
PURE_TMP="$(mktemp -d)"
trap 'rm -rf "$PURE_TMP"' EXIT
while read -r info name version; do
  if "${PIP[@]}" --no-deps --target "$PURE_TMP/$name" --implementation py --abi none --platform any \
       "$name==$version" 2>/dev/null; then
    "$PYTHON" - "$BUILD_DIR" "$info" <<'EOF'
import pathlib, shutil, sys
build, info = pathlib.Path(sys.argv[1]).resolve(), sys.argv[2]
for line in (build / info / "RECORD").read_text().splitlines():
    path = (build / line.rsplit(",", 2)[0]).resolve()
    if build in path.parents and path.is_file():
        path.unlink()
shutil.rmtree(build / info)
for directory in sorted((p for p in build.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
    if not any(directory.iterdir()):
        directory.rmdir()
EOF
    cp -r "$PURE_TMP/$name/." "$BUILD_DIR/"
    echo "package: $name $version: pure-Python wheel instead of the compiled one" >&2
  fi
done < "$BUILD_DIR/.platform-dists"
rm -f "$BUILD_DIR/.platform-dists"

# 3. The function itself.
cp handler.py "$BUILD_DIR/"
cp -r src/smsverify "$BUILD_DIR/smsverify"

# 4. Nothing that SCF does not run.
rm -rf "$BUILD_DIR/bin"
find "$BUILD_DIR" -name '__pycache__' -prune -exec rm -rf {} +
find "$BUILD_DIR" -name '*.py[co]' -delete

# 4b. Bytecode for SCF's interpreter. SCF's code directory is read-only, so without .pyc files every
# new instance compiles every module it imports (bench/run.py, "as deployed": about 230 ms of a cold
# start). unchecked-hash: deterministic, and never re-validated against the (unchanging) sources.
# Recorded source paths are SCF's (/var/user/...), not this machine's; a fixed hash seed keeps
# the marshalled sets and frozensets in one order, so two builds give the same bytes.
PYTHONHASHSEED=0 "$PYTHON" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$BUILD_DIR" -p /var/user \
  "$BUILD_DIR" >/dev/null

# 5. A deterministic zip: sorted entries, fixed timestamps and permissions.
"$PYTHON" - "$BUILD_DIR" "$ZIP" <<'EOF'
import pathlib, sys, zipfile
build, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
files = sorted((p for p in build.rglob("*") if p.is_file()), key=lambda p: p.relative_to(build).as_posix())
unpacked = 0
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    for path in files:
        entry = zipfile.ZipInfo(path.relative_to(build).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
        entry.external_attr = 0o100644 << 16
        entry.compress_type = zipfile.ZIP_DEFLATED
        data = path.read_bytes()
        unpacked += len(data)
        archive.writestr(entry, data, compresslevel=9)
mib = 1024 * 1024
print(f"{target}: {target.stat().st_size / mib:.1f} MiB zipped, {unpacked / mib:.1f} MiB unpacked, "
      f"{len(files)} files (unpacked copy in {build}/)")
EOF
