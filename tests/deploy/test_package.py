"""The SCF code package (scripts/package.sh, ``make package``) is self-contained.

Proven here:

- the zip holds handler.py, exactly the smsverify sources (with the Lua scripts) and the
  runtime dependencies: phonenumberslite (not phonenumbers), the SMS and Captcha SDKs only
  (not the all-products SDK), no development package, no bytecode, no console scripts;
- the zip is deterministic (sorted entries, fixed timestamps; two builds are identical);
- unpacked into an empty folder and run by a separate interpreter in isolated mode
  (``python -I -S``: no site-packages, no user site, no PYTHON* variables, only that folder
  and the standard library on the path), ``handler.main_handler`` (the handler string of
  serverless.yml) serves events/get_sms.json then events/login.json, inside SCF
  (``TENCENTCLOUD_RUNENV=SCF``), against a real redis-server and the Tencent SMS emulator;
  every module it loads comes from the folder or the standard library, and pytest,
  fakeredis, yaml and hypothesis cannot even be imported there;
- inside SCF without Redis settings it refuses to start naming REDIS_HOST and never
  reaches fakeredis (the in-process store is unreachable in SCF);
- every compiled extension in the zip has a pure-Python fallback: the package serves the
  same events with all ``.so`` files deleted. (This machine has Python 3.11 and the wheels
  are for 3.10, so a 3.10 extension could not load here anyway; the test with the ``.so``
  files deleted makes the proof independent of the interpreter.)
- a cold start plus both events stays below serverless.yml's memorySize.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import PurePosixPath
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import ROOT, load_event, tencent_env

PHONE = "+8613800138000"  # the phone of events/get_sms.json and events/login.json, in E.164
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Compiled extension (path without the ABI suffix) -> the pure-Python module used without it.
FALLBACKS = {"markupsafe/_speedups": "markupsafe/_native.py"}
#: Distributions that must never be in the package (development tools, the in-process store,
#: the 48 MB phonenumbers, the all-products SDK).
FORBIDDEN_DISTS = {
    "fakeredis", "lupa", "sortedcontainers", "pytest", "hypothesis", "pyyaml", "ruff", "vermin",
    "detect_secrets", "pip", "setuptools", "phonenumbers", "tencentcloud_sdk_python",
}
DEV_MODULES = ("pytest", "fakeredis", "yaml", "hypothesis")
#: A guard against an accidental heavy dependency (the full phonenumbers alone is 48 MB).
MAX_UNPACKED_MIB = 15


@dataclass(frozen=True)
class Package:
    zip: Path
    build: Path
    output: str

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.zip) as archive:
            return archive.namelist()


def build_package(where: Path) -> Package:
    done = subprocess.run(
        ["bash", "scripts/package.sh", str(where / "dist")],
        cwd=ROOT, env={**os.environ, "BUILD_DIR": str(where / "build"), "PYTHON": sys.executable},
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Package(where / "dist" / "smsverify.zip", where / "build", done.stdout)


@pytest.fixture(scope="session")
def package(tmp_path_factory) -> Package:
    return build_package(tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="session")
def unpacked(package, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked")
    assert not any(folder.iterdir())
    with zipfile.ZipFile(package.zip) as archive:
        archive.extractall(folder)
    return folder


def handler_string() -> str:
    return yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]["handler"]


def scf_env(redis_url: str | None, sms_api) -> dict[str, str]:
    """The function's environment in SCF: Redis by host and port (as serverless.yml sets it),
    the Tencent provider against the emulator, the role's key, the runtime's marker."""
    env = tencent_env(None, sms_api, TENCENTCLOUD_RUNENV="SCF")
    if redis_url:
        url = urlsplit(redis_url)
        env |= {"REDIS_HOST": url.hostname, "REDIS_PORT": str(url.port)}
    return env


# The script the isolated interpreter runs (cwd = the unpacked package). It reads the two
# events as one JSON line, answers getSms, reads the code from the next line (never printed),
# answers login, and reports where every loaded module came from.
SERVE = r"""
import importlib, json, os, resource, sys, sysconfig

PACKAGE = os.getcwd()
STDLIB = [os.path.realpath(sysconfig.get_path(name)) for name in ("stdlib", "platstdlib")]
sys.path[:] = [p for p in sys.path if p and "-packages" not in p]  # nothing to drop under -I -S
startup_path = list(sys.path)
sys.path.insert(0, PACKAGE)

def inside(path, roots):
    path = os.path.realpath(path)
    return any(path == root or path.startswith(root + os.sep) for root in roots)

importable = []
for name in sys.argv[2].split(","):
    try:
        importlib.import_module(name)
    except ImportError:
        continue
    importable.append(name)

module_name, _, attribute = sys.argv[1].rpartition(".")
main_handler = getattr(importlib.import_module(module_name), attribute)
events = json.loads(sys.stdin.readline())
print(json.dumps({"getSms": main_handler(events["get_sms"], {})}), flush=True)
events["login"]["queryString"]["code"] = sys.stdin.readline().strip()
login = main_handler(events["login"], {})
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps({
    "login": login,
    "startup_path": startup_path,
    "stdlib": STDLIB,
    "importable": importable,
    "outside": sorted(f"{n}: {f}" for n, f in files.items() if f and not inside(f, [PACKAGE] + STDLIB)),
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}), flush=True)
"""


def isolated(script: str, folder: Path, env: dict[str, str], *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", script, *args],
        cwd=folder, env=env, text=True, encoding="utf-8", **popen,
    )


def serve_sample_events(folder: Path, env: dict[str, str], sms_api, stderr_file: Path) -> dict:
    """Run getSms then login (with the code the emulator received) through the package."""
    events = {"get_sms": load_event("get_sms.json"), "login": load_event("login.json")}
    with stderr_file.open("w") as stderr, isolated(
        SERVE, folder, env, handler_string(), ",".join(DEV_MODULES),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
    ) as process:
        watchdog = threading.Timer(120, process.kill)
        watchdog.start()
        try:
            process.stdin.write(json.dumps(events) + "\n")
            process.stdin.flush()
            first = process.stdout.readline()
            assert first, f"the package died before answering getSms:\n{stderr_file.read_text()[-3000:]}"
            sent = sms_api.sent_to(PHONE)
            process.stdin.write((sent[0]["params"][0] if sent else "") + "\n")
            process.stdin.close()
            rest = process.stdout.read()
            process.wait()
        finally:
            watchdog.cancel()
    assert process.returncode == 0, stderr_file.read_text()[-3000:]
    return json.loads(first) | json.loads(rest)


def body(response: dict) -> dict:
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}, response
    return json.loads(response["body"]) | {"_status": response["statusCode"]}


def assert_served(report: dict, sms_api) -> None:
    assert body(report["getSms"])["codeStr"] == "Ok", report["getSms"]
    assert body(report["getSms"])["_status"] == 200
    assert body(report["login"])["codeStr"] == "Success", report["login"]
    assert body(report["login"])["_status"] == 200
    assert len(sms_api.sent_to(PHONE)) == 1


def so_stem(name: str) -> str:
    """``markupsafe/_speedups.cpython-310-x86_64-linux-gnu.so`` -> ``markupsafe/_speedups``."""
    folder, _, file = name.rpartition("/")
    return f"{folder}/{file.split('.', 1)[0]}"


def repo_sources() -> set[str]:
    src = ROOT / "src"
    return {
        p.relative_to(src).as_posix() for p in (src / "smsverify").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }


# -- what the zip holds ---------------------------------------------------------------------

#: The Python the package is built for (scripts/package.sh PYTHON_VERSION).
PACKAGE_PYTHON = re.search(r"^PYTHON_VERSION=(\S+)$", (ROOT / "scripts" / "package.sh").read_text(), re.M).group(1)


def test_the_build_reports_the_zip_and_unpacked_sizes(package):
    assert re.search(r"smsverify\.zip: [\d.]+ MiB zipped, [\d.]+ MiB unpacked, \d+ files", package.output), package.output


def test_the_zip_holds_handler_py_and_exactly_the_smsverify_sources(package):
    names = set(package.names())
    assert "handler.py" in names
    assert {n for n in names if n.startswith("smsverify/")} == repo_sources()
    assert {n for n in names if n.endswith(".lua")} == {
        f"smsverify/store/lua/{p.name}" for p in (ROOT / "src/smsverify/store/lua").glob("*.lua")
    }


def test_the_zip_holds_every_runtime_requirement_and_nothing_of_development(package):
    names = package.names()
    dists = {re.sub(r"-[^-]+\.dist-info$", "", n.split("/")[0]).lower().replace("-", "_")
             for n in names if n.split("/")[0].endswith(".dist-info")}
    required = {
        re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower().replace("-", "_")
        for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip() and not line.startswith("#")
    }
    assert required <= dists, required - dists
    assert "phonenumberslite" in dists and not dists & FORBIDDEN_DISTS, dists & FORBIDDEN_DISTS
    products = {n.split("/")[1] for n in names if n.startswith("tencentcloud/") and n.count("/") >= 2}
    assert products == {"common", "sms", "captcha"}
    assert not [n for n in names if n.startswith("bin/")]
    # Bytecode only from an interpreter of SCF's version (package.sh step 4b), and then for every module.
    bytecode = [n for n in names if n.endswith((".pyc", ".pyo"))]
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == PACKAGE_PYTHON:  # the deploy workflow's case
        tag = sys.implementation.cache_tag
        expected = {str(PurePosixPath(n).parent / "__pycache__" / f"{PurePosixPath(n).stem}.{tag}.pyc").lstrip("./")
                    for n in names if n.endswith(".py")}
        assert expected <= set(bytecode), sorted(expected - set(bytecode))[:5]
    else:
        assert bytecode == [] and not [n for n in names if "__pycache__" in n]


def test_the_zip_is_the_unpacked_build_directory_serverless_yml_deploys(package):
    inputs = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]
    assert inputs["src"]["src"] == "./build"  # scripts/package.sh's default BUILD_DIR
    built = sorted(p.relative_to(package.build).as_posix() for p in package.build.rglob("*") if p.is_file())
    assert package.names() == built


def test_the_unpacked_package_stays_small(package):
    with zipfile.ZipFile(package.zip) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    assert unpacked < MAX_UNPACKED_MIB * 1024 * 1024


def test_the_zip_is_deterministic(package, tmp_path):
    with zipfile.ZipFile(package.zip) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {FIXED_TIME}
    with zipfile.ZipFile(build_package(tmp_path).zip) as again:
        differing = sorted({(i.filename, i.CRC) for i in again.infolist()} ^ {(i.filename, i.CRC) for i in infos})
    assert differing == []
    assert (tmp_path / "dist/smsverify.zip").read_bytes() == package.zip.read_bytes()


# -- the package runs on its own ------------------------------------------------------------

def test_the_package_serves_the_sample_events_in_an_isolated_interpreter(unpacked, redis_url, sms_api, tmp_path):
    report = serve_sample_events(unpacked, scf_env(redis_url, sms_api), sms_api, tmp_path / "stderr")
    assert_served(report, sms_api)
    # Nothing of the developer's environment: no site-packages on the path, no dev module
    # importable, every loaded module from the package or the standard library.
    stdlib = report["stdlib"]
    assert all(any(p.startswith(root) for root in stdlib) or not os.path.exists(p) for p in report["startup_path"]), report
    assert report["importable"] == []
    assert report["outside"] == []
    memory_mb = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]["memorySize"]
    assert report["maxrss_kb"] < memory_mb * 1024


def test_compiled_extensions_all_have_pure_python_fallbacks(package, unpacked, redis_url, sms_api, tmp_path):
    extensions = [n for n in package.names() if n.endswith(".so") or ".so." in n]
    assert {so_stem(n) for n in extensions} <= set(FALLBACKS), extensions
    for extension in extensions:
        assert FALLBACKS[so_stem(extension)] in package.names()
    stripped = tmp_path / "stripped"
    shutil.copytree(unpacked, stripped, ignore=shutil.ignore_patterns("*.so", "*.so.*"))
    assert not list(stripped.rglob("*.so"))
    report = serve_sample_events(stripped, scf_env(redis_url, sms_api), sms_api, tmp_path / "stderr")
    assert_served(report, sms_api)
    assert report["outside"] == []


START_WITHOUT_REDIS = r"""
import json, os, sys
sys.path[:] = [os.getcwd()] + [p for p in sys.path if p and "-packages" not in p]
try:
    import handler
    outcome = {"error": None}
except Exception as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
outcome["fakeredis_loaded"] = "fakeredis" in sys.modules
print(json.dumps(outcome))
"""


def test_inside_scf_without_redis_settings_the_package_refuses_to_start_and_never_reaches_fakeredis(unpacked, sms_api):
    process = isolated(START_WITHOUT_REDIS, unpacked, scf_env(None, sms_api), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    outcome = json.loads(out)
    assert outcome["error"] == "ConfigError", err
    assert "REDIS_HOST" in outcome["message"] and "SCF" in outcome["message"]
    assert "fakeredis" not in outcome["message"] and outcome["fakeredis_loaded"] is False
