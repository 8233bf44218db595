"""The SCF code package (scripts/package.sh, ``make package``) is self-contained.

Proven here:

- the zip holds handler.py, exactly the smsverify sources (with the Lua scripts) and the
  runtime dependencies resolved for Python 3.10 (async-timeout, which redis needs below
  Python 3.11.3, included): phonenumberslite (not phonenumbers), the SMS, VMS (voice
  codes) and Captcha SDKs only (not the all-products SDK), no development package, no console scripts, and
  bytecode for CPython 3.10 of every module;
- the zip is deterministic and does not depend on the Python that runs ``make package``:
  built once by the test's interpreter and once by a real 3.10, the two zips are identical
  byte for byte (sorted entries, fixed timestamps); without a 3.10 interpreter the build
  refuses, naming the missing interpreter;
- unpacked SCF's way and run by a real CPython 3.10 (found by scripts/python310.sh, or
  ``SMSVERIFY_PYTHON310``) in isolated mode (``python3.10 -I -S``: no site-packages, no
  user site, the interpreter ignores PYTHON* variables): the code in a read-only folder
  standing for ``/var/user`` (the working directory), an empty one standing for ``/opt``
  (layers), ``PYTHONPATH=/var/user:/opt`` and ``PYTHONDONTWRITEBYTECODE=x`` as SCF sets
  them (Tencent Cloud SCF, "Runtime Environment",
  https://www.tencentcloud.com/document/product/583/40323), applied by a bootstrap since
  ``-I`` makes the interpreter ignore them,
  ``handler.main_handler`` (the handler string of serverless.yml) serves
  events/get_sms.json then events/login.json, inside SCF (``TENCENTCLOUD_RUNENV=SCF``),
  against a real redis-server and the Tencent SMS emulator, and again with ``SMS_PROVIDER=aliyun``
  against the Alibaba Cloud emulator (its SDK, signature included, runs from the package); every module it loads comes
  from those folders or the standard library, pytest, fakeredis, yaml and hypothesis cannot
  even be imported there, and the code folder is left unchanged (nothing written);
- under the same isolated Python 3.10, inside SCF, the voice-code sender built from the
  package (``build_voice_sender``) places one call through the VMS SDK of the package, TC3
  signed and checked by the emulator, every module loaded from the package or the
  standard library;
- inside SCF without Redis settings it refuses to start naming REDIS_HOST and never
  reaches fakeredis (the in-process store is unreachable in SCF);
- every compiled extension in the zip is built for CPython 3.10 (or the stable ABI) on
  manylinux2014 x86_64, and each one loads from the package under the real Python 3.10;
- a cold start plus both events stays below serverless.yml's memorySize.

Without a Python 3.10 interpreter these tests skip, and fail the run under ``CI=true``
(scripts/test.sh finds or installs one and exports ``SMSVERIFY_PYTHON310``).
"""

from __future__ import annotations

import json
import os
import re
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

from tests.support import IN_CI, ROOT, load_event, tencent_env, voice_env

PHONE = "+8613800138000"  # the phone of events/get_sms.json and events/login.json, in E.164
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
#: Distributions that must never be in the package (development tools, the in-process store,
#: the 48 MB phonenumbers, the all-products SDK).
FORBIDDEN_DISTS = {
    "fakeredis", "lupa", "sortedcontainers", "pytest", "hypothesis", "pyyaml", "ruff", "vermin",
    "detect_secrets", "pip", "setuptools", "phonenumbers", "tencentcloud_sdk_python",
}
DEV_MODULES = ("pytest", "fakeredis", "yaml", "hypothesis")
#: A guard against an accidental heavy dependency (the full phonenumbers alone is 48 MB).
#: cryptography (for the login tokens) is most of the 28 MiB: its Rust bindings are 14 MiB.
MAX_UNPACKED_MIB = 40


@dataclass(frozen=True)
class Package:
    zip: Path
    build: Path
    output: str

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.zip) as archive:
            return archive.namelist()


def find_python310() -> str | None:
    """A real CPython 3.10: ``SMSVERIFY_PYTHON310`` or what scripts/python310.sh finds."""
    done = subprocess.run(["bash", "scripts/python310.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="session")
def python310() -> str:
    found = find_python310()
    if found is None:
        message = "no CPython 3.10 interpreter (SCF's runtime) found: scripts/test.sh installs one"
        if IN_CI:
            pytest.fail(message + "; the package must be tested under Python 3.10 in CI", pytrace=False)
        pytest.skip(message)
    return found


def run_package_sh(where: Path, python: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/package.sh", str(where / "dist")],
        cwd=ROOT, env={**os.environ, "BUILD_DIR": str(where / "build"), "PYTHON": python, **env},
        capture_output=True, text=True, timeout=600,
    )


def build_package(where: Path, python: str) -> Package:
    done = run_package_sh(where, python)
    assert done.returncode == 0, done.stderr[-3000:]
    return Package(where / "dist" / "smsverify.zip", where / "build", done.stdout)


@pytest.fixture(scope="session")
def package(python310, tmp_path_factory) -> Package:
    """Built as a developer would: ``make package`` run by the test's Python (3.11 here)."""
    return build_package(tmp_path_factory.mktemp("package"), sys.executable)


@dataclass(frozen=True)
class ScfLayout:
    """Temporary folders standing for SCF's ``/var/user`` (the code) and ``/opt`` (layers)."""

    var_user: Path
    opt: Path

    @property
    def pythonpath(self) -> str:
        return f"{self.var_user}:{self.opt}"


def unpack_like_scf(zip_path: Path, folder: Path) -> ScfLayout:
    layout = ScfLayout(folder / "var" / "user", folder / "opt")
    layout.var_user.mkdir(parents=True)
    layout.opt.mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(layout.var_user)
    read_only(layout.var_user)
    return layout


def read_only(folder: Path) -> None:
    """SCF's code directory is read-only (also enforced by comparing snapshots, since root may write)."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [folder]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="session")
def unpacked(package, tmp_path_factory) -> ScfLayout:
    return unpack_like_scf(package.zip, tmp_path_factory.mktemp("scf"))


def handler_string() -> str:
    return yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]["handler"]


def scf_env(layout: ScfLayout, redis_url: str | None, sms_api) -> dict[str, str]:
    """The function's environment in SCF: Redis by host and port (as serverless.yml sets it),
    the Tencent provider against the emulator, the role's key, the runtime's marker, and the
    runtime's PYTHONPATH and PYTHONDONTWRITEBYTECODE."""
    env = tencent_env(None, sms_api, TENCENTCLOUD_RUNENV="SCF", PYTHONPATH=layout.pythonpath, PYTHONDONTWRITEBYTECODE="x")
    if redis_url:
        url = urlsplit(redis_url)
        env |= {"REDIS_HOST": url.hostname, "REDIS_PORT": str(url.port)}
    return env


# The bootstrap the isolated interpreter runs first (cwd = /var/user), as SCF's runtime does:
# -I makes the interpreter ignore PYTHON* variables, so the runtime applies PYTHONPATH
# (/var/user:/opt) and PYTHONDONTWRITEBYTECODE itself.
BOOTSTRAP = r"""
import os, sys
sys.path[:] = [p for p in sys.path if p and "-packages" not in p]  # nothing to drop under -I -S
startup_path = list(sys.path)
sys.path[:0] = os.environ["PYTHONPATH"].split(":")
sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
"""

# The script the isolated interpreter runs after the bootstrap. It reads the two events as
# one JSON line, answers getSms, reads the code from the next line (never printed), answers
# login, and reports where every loaded module came from.
SERVE = BOOTSTRAP + r"""
import importlib, json, resource, sysconfig

ROOTS = [os.path.realpath(p) for p in os.environ["PYTHONPATH"].split(":")]
STDLIB = [os.path.realpath(sysconfig.get_path(name)) for name in ("stdlib", "platstdlib")]

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
    "version": list(sys.version_info[:2]),
    "startup_path": startup_path,
    "stdlib": STDLIB,
    "importable": importable,
    "outside": sorted(f"{n}: {f}" for n, f in files.items() if f and not inside(f, ROOTS + STDLIB)),
    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}), flush=True)
"""


def isolated(python: str, script: str, layout: ScfLayout, env: dict[str, str], *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [python, "-I", "-S", "-c", script, *args],
        cwd=layout.var_user, env=env, text=True, encoding="utf-8", **popen,
    )


def serve_sample_events(python: str, layout: ScfLayout, env: dict[str, str], sms_api, stderr_file: Path,
                        phone: str = PHONE) -> dict:
    """Run getSms then login (with the code the emulator received for ``phone``, as it records it) through the package."""
    events = {"get_sms": load_event("get_sms.json"), "login": load_event("login.json")}
    before = snapshot(layout.var_user)
    with stderr_file.open("w") as stderr, isolated(
        python, SERVE, layout, env, handler_string(), ",".join(DEV_MODULES),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
    ) as process:
        watchdog = threading.Timer(120, process.kill)
        watchdog.start()
        try:
            process.stdin.write(json.dumps(events) + "\n")
            process.stdin.flush()
            first = process.stdout.readline()
            assert first, f"the package died before answering getSms:\n{stderr_file.read_text()[-3000:]}"
            sent = sms_api.sent_to(phone)
            process.stdin.write((sent[0]["params"][0] if sent else "") + "\n")
            process.stdin.close()
            rest = process.stdout.read()
            process.wait()
        finally:
            watchdog.cancel()
    assert process.returncode == 0, stderr_file.read_text()[-3000:]
    assert snapshot(layout.var_user) == before  # nothing written to the read-only code directory
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
    assert {n for n in names if n.startswith("smsverify/") and "/__pycache__/" not in n} == repo_sources()
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
    products = {n.split("/")[1] for n in names if n.startswith("tencentcloud/") and n.count("/") >= 2} - {"__pycache__"}
    assert products == {"common", "sms", "captcha", "vms"}
    assert not [n for n in names if n.startswith("bin/")]
    # Bytecode for SCF's CPython (package.sh step 4b) of every module, whoever ran the build, and no other.
    bytecode = {n for n in names if n.endswith((".pyc", ".pyo"))}
    tag = "cpython-" + PACKAGE_PYTHON.replace(".", "")
    expected = {str(PurePosixPath(n).parent / "__pycache__" / f"{PurePosixPath(n).stem}.{tag}.pyc").lstrip("./")
                for n in names if n.endswith(".py")}
    assert bytecode == expected, sorted(bytecode ^ expected)[:5]


def test_the_dependencies_python_3_10_needs_are_in_the_package_whoever_built_it(package):
    """redis requires ``async-timeout; python_full_version < "3.11.3"``: pip run by a newer Python
    left it out, and ``import handler`` failed on SCF with ModuleNotFoundError."""
    tops = {n.split("/")[0] for n in package.names()}
    assert "async_timeout" in tops and any(t.startswith("async_timeout-") and t.endswith(".dist-info") for t in tops)


def test_the_zip_is_the_unpacked_build_directory_serverless_yml_deploys(package):
    inputs = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]
    assert inputs["src"]["src"] == "./build"  # scripts/package.sh's default BUILD_DIR
    built = sorted(p.relative_to(package.build).as_posix() for p in package.build.rglob("*") if p.is_file())
    assert package.names() == built


def test_the_unpacked_package_stays_small(package):
    with zipfile.ZipFile(package.zip) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    assert unpacked < MAX_UNPACKED_MIB * 1024 * 1024


def test_the_zip_is_deterministic_and_the_same_whatever_python_runs_the_build(package, python310, tmp_path):
    with zipfile.ZipFile(package.zip) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {FIXED_TIME}
    # The session's package was built by the test's Python; this one by the 3.10 itself.
    with zipfile.ZipFile(build_package(tmp_path, python310).zip) as again:
        differing = sorted({(i.filename, i.CRC) for i in again.infolist()} ^ {(i.filename, i.CRC) for i in infos})
    assert differing == []
    assert (tmp_path / "dist/smsverify.zip").read_bytes() == package.zip.read_bytes()


def test_without_a_python_3_10_the_build_refuses_and_says_why(tmp_path):
    fake = tmp_path / "bin" / "python3.10"  # a python3.10 on PATH that is not a usable 3.10
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if k not in ("SMSVERIFY_PYTHON310", "PYENV_ROOT")}
    done = subprocess.run(
        ["bash", "scripts/package.sh", str(tmp_path / "dist")], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=environment | {"PATH": f"{fake.parent}:{os.environ['PATH']}", "HOME": str(tmp_path), "PYTHON": str(fake),
                           "BUILD_DIR": str(tmp_path / "build")},
    )
    assert done.returncode != 0
    assert "refusing to build: no CPython 3.10 interpreter" in done.stderr and "async-timeout" in done.stderr, done.stderr
    assert not (tmp_path / "dist" / "smsverify.zip").exists() and not (tmp_path / "build").exists()


# -- the package runs on its own ------------------------------------------------------------

def test_the_package_serves_the_sample_events_under_python_3_10_isolated(python310, unpacked, redis_url, sms_api, tmp_path):
    report = serve_sample_events(python310, unpacked, scf_env(unpacked, redis_url, sms_api), sms_api, tmp_path / "stderr")
    assert report["version"] == [3, 10]
    assert_served(report, sms_api)
    # Nothing of the developer's environment: no site-packages on the path, no dev module
    # importable, every loaded module from the package or the standard library.
    stdlib = report["stdlib"]
    assert all(any(p.startswith(root) for root in stdlib) or not os.path.exists(p) for p in report["startup_path"]), report
    assert report["importable"] == []
    assert report["outside"] == []
    memory_mb = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]["memorySize"]
    assert report["maxrss_kb"] < memory_mb * 1024


def test_the_package_sends_through_alibaba_cloud_under_python_3_10_isolated(python310, unpacked, redis_url, sms_api, tmp_path):
    """The Alibaba Cloud SDK and everything it imports come from the package, and its signature passes the emulator."""
    from tests.support.emulators.aliyun import AliyunSmsEmulator

    key_id, secret = "LTAI5tPackageTest", "package-test-aliyun-secret"  # pragma: allowlist secret
    aliyun = AliyunSmsEmulator({key_id: secret}, {"测试签名"}, {"SMS_100001": {"code": 6}}).start()
    try:
        env = scf_env(unpacked, redis_url, sms_api) | {
            "SMS_PROVIDER": "aliyun", "ALIBABA_CLOUD_ACCESS_KEY_ID": key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
            "ALIYUN_SMS_SIGN_NAME": "测试签名", "ALIYUN_SMS_TEMPLATE_CODE": "SMS_100001", "ALIYUN_SMS_ENDPOINT": aliyun.url,
        }
        report = serve_sample_events(python310, unpacked, env, aliyun, tmp_path / "stderr", phone=PHONE[3:])
    finally:
        aliyun.stop()
    assert report["version"] == [3, 10]
    assert (body(report["getSms"])["codeStr"], body(report["getSms"])["provider"]) == ("Ok", "aliyun"), report["getSms"]
    assert body(report["login"])["codeStr"] == "Success", report["login"]
    assert len(aliyun.sent) == 1 and aliyun.signature_failures == 0 and aliyun.internal_errors == [] and sms_api.sent == []
    assert report["importable"] == [] and report["outside"] == []
    memory_mb = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))["inputs"]["memorySize"]
    assert report["maxrss_kb"] < memory_mb * 1024, report["maxrss_kb"]


LOAD_EXTENSIONS = BOOTSTRAP + r"""
import importlib, json
loaded = {}
for name in sys.argv[1].split(","):
    module = importlib.import_module(name)
    loaded[name] = os.path.realpath(module.__file__)
print(json.dumps(loaded))
"""


def test_every_compiled_extension_is_for_cpython_3_10_on_manylinux2014_and_loads_there(python310, package, unpacked):
    extensions = [n for n in package.names() if n.endswith(".so") or ".so." in n]
    assert extensions  # markupsafe's speedups, cffi's backend, cryptography's Rust bindings
    tag = PACKAGE_PYTHON.replace(".", "")
    for name in extensions:
        suffix = PurePosixPath(name).name.split(".", 1)[1]
        assert suffix in (f"cpython-{tag}-x86_64-linux-gnu.so", "abi3.so"), name
    # Every wheel installed carries a tag of pure Python or of manylinux2014 (glibc 2.17) x86_64, the build's --platform.
    for wheel in (n for n in package.names() if n.endswith(".dist-info/WHEEL")):
        tags = [line.split(": ", 1)[1] for line in (unpacked.var_user / wheel).read_text().splitlines() if line.startswith("Tag: ")]
        assert any(t.endswith(("-any", "-manylinux2014_x86_64", "-manylinux_2_17_x86_64")) for t in tags), (wheel, tags)
    modules = [so_stem(n).strip("/").replace("/", ".") for n in extensions]
    process = isolated(python310, LOAD_EXTENSIONS, unpacked, {"PYTHONPATH": unpacked.pythonpath, "PYTHONDONTWRITEBYTECODE": "x"},
                       ",".join(modules), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    loaded = json.loads(out)
    assert sorted(loaded) == sorted(modules)
    assert all(path.startswith(os.path.realpath(unpacked.var_user) + os.sep) for path in loaded.values()), loaded


VOICE_CALL = BOOTSTRAP + r"""
import json, sysconfig
from smsverify.settings.config import Settings
from smsverify.senders import build_voice_sender
from smsverify.senders.base import SmsMessage
sender = build_voice_sender(Settings.from_env(os.environ))
receipt = sender.send(SmsMessage(phone="+8613800138000", code="4829", ttl_minutes=5), 5.0)
roots = [os.path.realpath(p) for p in sys.path[:2]] + [os.path.realpath(sysconfig.get_path("stdlib"))]
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps({
    "name": sender.name, "serial_no": receipt.serial_no, "version": list(sys.version_info[:2]),
    "vms": os.path.realpath(sys.modules["tencentcloud.vms.v20200902.vms_client"].__file__),
    "outside": sorted(f for f in files if f and not any(os.path.realpath(f).startswith(r + os.sep) for r in roots)),
}))
"""


def test_the_package_places_a_voice_call_under_python_3_10_isolated(python310, unpacked, redis_url, sms_api):
    env = scf_env(unpacked, redis_url, sms_api) | voice_env(sms_api)
    process = isolated(python310, VOICE_CALL, unpacked, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    report = json.loads(out)
    [call] = sms_api.voice_calls
    assert (report["name"], report["serial_no"], report["version"]) == ("tencent_voice", call["call_id"], [3, 10])
    assert (call["phone"], call["code"]) == ("+8613800138000", "4829")
    assert report["vms"].startswith(os.path.realpath(unpacked.var_user) + os.sep)
    assert report["outside"] == []


START_WITHOUT_REDIS = BOOTSTRAP + r"""
import json
try:
    import handler
    outcome = {"error": None}
except Exception as exc:
    outcome = {"error": type(exc).__name__, "message": str(exc)}
outcome["fakeredis_loaded"] = "fakeredis" in sys.modules
print(json.dumps(outcome))
"""


def test_inside_scf_without_redis_settings_the_package_refuses_to_start_and_never_reaches_fakeredis(python310, unpacked, sms_api):
    process = isolated(python310, START_WITHOUT_REDIS, unpacked, scf_env(unpacked, None, sms_api),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    outcome = json.loads(out)
    assert outcome["error"] == "ConfigError", err
    assert "REDIS_HOST" in outcome["message"] and "SCF" in outcome["message"]
    assert "fakeredis" not in outcome["message"] and outcome["fakeredis_loaded"] is False
