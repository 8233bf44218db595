"""Cold start: fresh interpreters, timed from outside (wall time of the whole
process, interpreter start-up included), in an SCF-like environment
(``TENCENTCLOUD_RUNENV=SCF``, real Redis, SMS via the emulator):

- ``python -c pass``: the interpreter alone (for scale);
- ``python -c "import redis"``: the floor, the one library the login path
  cannot do without;
- ``import handler``: the SCF module load (builds the container's service);
- ``import handler`` + one login (events/login.json against the real Redis):
  what a cold invocation costs.

The first ``Success`` (:func:`success_runs`): the same login with its code
planted in Redis before each process starts, so it answers ``Success`` and
signs the container's first token. PyJWT (and, for ES256, ``cryptography``)
load only then, so this is the cold cost of a token. Measured with the two
kinds of key, ``TOKEN_SECRET`` (HS256: PyJWT alone) and ``TOKEN_PRIVATE_KEY``
(ES256, P-256: PyJWT + cryptography), interleaved with the failed cold login
and the floor.

The variants run interleaved, ``runs`` times each, after one untimed run of
each (``.pyc`` files written, Lua scripts cached by the server); medians are
reported. Also: the import-time breakdown of ``python -X importtime -c
"import handler"`` (median per module over a few runs) and which heavy
modules the login path loaded.

As deployed: when dist/smsverify.zip exists, the floor and the login are
measured again from the unpacked package with ``-B``, its smsverify and
handler.py replaced by the working tree's (the zip may predate the code under
test; its dependencies are what is deployed). SCF's code directory is
read-only (only /tmp is writable: cloud.tencent.com/document/product/583/33924),
so Python can neither find nor write ``__pycache__`` there unless the package
ships it, and every cold start compiles the modules it imports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from _parts import ROOT, Parts

#: Modules a cold login should not need: the SMS/captcha SDKs, their HTTP
#: stack, werkzeug's development server, the local in-process store.
WATCHED = ("tencentcloud", "requests", "werkzeug.serving", "fakeredis")

LOGIN = f"""
import time
started = time.perf_counter()
import json, sys
import handler
imported = time.perf_counter()
with open("events/login.json", encoding="utf-8") as f:
    event = json.load(f)
answer = handler.main_handler(event, {{}})
served = time.perf_counter()
print(json.dumps({{
    "codeStr": json.loads(answer["body"])["codeStr"],
    "import_ms": (imported - started) * 1000,
    "login_ms": (served - imported) * 1000,
    "loaded": [name for name in {WATCHED!r} if name in sys.modules],
    "smsverify": sys.modules["smsverify"].__file__,
    "redis": sys.modules["redis"].__file__,
}}))
"""
FLOOR = ["-c", "import redis"]

#: Modules a token needs: ``jwt`` loads on the first ``Success`` only; cryptography's EC code at start-up
#: when ``TOKEN_PRIVATE_KEY`` is set (the key is loaded and checked then), else on the first ``Success``
#: (the top-level ``cryptography`` package is not among them: redis-py imports it at start).
TOKEN_LIBRARIES = ("jwt", "cryptography.hazmat.primitives.asymmetric.ec")
#: A cold login that succeeds: which token libraries were loaded after ``import handler`` and after the answer.
SUCCESS = f"""
import time
started = time.perf_counter()
import json, sys
import handler
imported = time.perf_counter()
before = [name for name in {TOKEN_LIBRARIES!r} if name in sys.modules]
with open("events/login.json", encoding="utf-8") as f:
    event = json.load(f)
answer = handler.main_handler(event, {{}})
served = time.perf_counter()
body = json.loads(answer["body"])
print(json.dumps({{
    "codeStr": body["codeStr"],
    "token": bool(body.get("token")),
    "import_ms": (imported - started) * 1000,
    "login_ms": (served - imported) * 1000,
    "before": before,
    "after": [name for name in {TOKEN_LIBRARIES!r} if name in sys.modules],
}}))
"""

#: The same login with ``handler.py``'s ``lean_imports.install()`` made a no-op: what the deferral gains.
NO_LEAN = "import smsverify.lean_imports as lean\nlean.install = lambda: None\n" + LOGIN

VARIANTS = {
    "python -c pass": ["-c", "pass"],
    "import redis": FLOOR,
    "import handler": ["-c", "import handler"],
    "import handler + one login": ["-c", LOGIN],
    "import handler + one login, without lean_imports": ["-c", NO_LEAN],
}

_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


@dataclass
class ImportRow:
    name: str
    depth: int
    self_us: float
    cumulative_us: float


@dataclass
class ColdStart:
    runs: int
    #: variant -> median wall time (ms)
    wall_ms: dict[str, float]
    #: what the login process printed (last run), plus medians of its own timers
    login: dict
    #: top modules by cumulative import time
    imports: list[ImportRow]
    #: cumulative import time of ``handler`` (median, µs)
    handler_import_us: float
    #: import time beyond the floor: (top-level package, modules, summed self time µs) for the
    #: modules ``import handler`` loads and ``import redis`` alone does not, largest first
    beyond_floor: list[tuple[str, int, float]] = field(default_factory=list)
    #: as deployed (dist/smsverify.zip, no .pyc): {"import redis": ms, "import handler + one login": ms}, or empty
    deployed_ms: dict[str, float] = field(default_factory=dict)
    #: what the deployed login printed, with medians of its own timers
    deployed_login: dict = field(default_factory=dict)
    #: the first ``Success`` (:func:`success_runs`), empty when not measured
    success: "SuccessStart | None" = None


@dataclass
class SuccessStart:
    """Cold first ``Success`` against a cold failed login, in one interleaved batch."""

    #: variant -> median wall time (ms)
    wall_ms: dict[str, float]
    #: variant -> what its process printed (last run), with medians of its own timers
    reports: dict[str, dict]


def child_env(parts: Parts) -> dict[str, str]:
    """The SCF-like environment, and nothing of this shell's but PATH.

    Every cold login is a failed login from the event's one client IP, so the failed-login
    throttles get limits the runs never reach (still on: the same script path, not the default 10).
    """
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **parts.env,
            "IP_VERIFY_LIMIT": "1000000000", "GLOBAL_VERIFY_LIMIT": "1000000000"}


def _launcher(env: dict[str, str], cwd: Path, flags: tuple[str, ...] = ()):
    def launch(args: list[str]) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, *flags, *args], cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{args[:2]} failed: {done.stderr[-2000:]}")
        return done

    return launch


def _timed_runs(launch, variants: dict[str, list[str]], runs: int) -> tuple[dict[str, float], dict]:
    """Median wall time (ms) per variant, interleaved; and the login's own report."""
    for args in variants.values():
        launch(args)  # untimed: .pyc written (where it can be), scripts cached by the server
    samples: dict[str, list[float]] = {name: [] for name in variants}
    login_runs: list[dict] = []
    for _ in range(runs):
        for name, args in variants.items():
            started = time.perf_counter()
            done = launch(args)
            samples[name].append((time.perf_counter() - started) * 1000)
            if args[-1] == LOGIN:
                login_runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if any(r["codeStr"] != login_runs[0]["codeStr"] for r in login_runs):
        raise RuntimeError(f"cold logins answered differently: {[r['codeStr'] for r in login_runs]}")
    login = dict(login_runs[-1])
    for key in ("import_ms", "login_ms"):
        login[key] = statistics.median(r[key] for r in login_runs)
    return {name: statistics.median(values) for name, values in samples.items()}, login


def run(parts: Parts, *, runs: int, importtime_runs: int, package: Path | None = None) -> ColdStart:
    env = child_env(parts)
    parts.server.client().flushall()  # no code stored for the event's phone: the login answers CodeHasExpired
    launch = _launcher(env, ROOT)
    wall_ms, login = _timed_runs(launch, VARIANTS, runs)

    deployed_ms, deployed_login = {}, {}
    if package is not None and package.exists():
        with tempfile.TemporaryDirectory() as unpacked:
            with zipfile.ZipFile(package) as archive:
                archive.extractall(unpacked)
            shutil.rmtree(Path(unpacked) / "smsverify", ignore_errors=True)
            shutil.copytree(ROOT / "src" / "smsverify", Path(unpacked) / "smsverify",
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy2(ROOT / "handler.py", Path(unpacked) / "handler.py")
            (Path(unpacked) / "events").mkdir()
            (Path(unpacked) / "events" / "login.json").write_bytes((ROOT / "events" / "login.json").read_bytes())
            deployed = _launcher({**env, "PYTHONDONTWRITEBYTECODE": "1"}, Path(unpacked), ("-B",))
            deployed_ms, deployed_login = _timed_runs(deployed, {"import redis": FLOOR, "import handler + one login": ["-c", LOGIN]}, runs)
            for module in ("smsverify", "redis"):
                if not deployed_login[module].startswith(unpacked):
                    raise RuntimeError(f"the deployed run imported {module} from {deployed_login[module]}, not the package")

    per_module: dict[str, list[ImportRow]] = {}
    floor_modules: set[str] = set()
    for _ in range(importtime_runs):
        done = launch(["-X", "importtime", "-c", "import handler"])
        for row in parse_importtime(done.stderr):
            per_module.setdefault(row.name, []).append(row)
        floor_modules |= {row.name for row in parse_importtime(launch(["-X", "importtime", *FLOOR]).stderr)}
    medians = [
        ImportRow(
            name, rows[0].depth,
            statistics.median(r.self_us for r in rows), statistics.median(r.cumulative_us for r in rows),
        )
        for name, rows in per_module.items()
    ]
    medians.sort(key=lambda r: r.cumulative_us, reverse=True)
    groups: dict[str, list[float]] = {}
    for row in medians:
        if row.name not in floor_modules and row.name != "handler":
            groups.setdefault(row.name.split(".")[0], []).append(row.self_us)
    beyond_floor = sorted(((name, len(v), sum(v)) for name, v in groups.items()), key=lambda g: g[2], reverse=True)
    handler_row = next((r for r in medians if r.name == "handler"), None)
    success = success_runs(parts, runs=runs)
    return ColdStart(
        success=success,
        runs=runs,
        wall_ms=wall_ms,
        login=login,
        imports=medians[:10],
        handler_import_us=handler_row.cumulative_us if handler_row else float("nan"),
        beyond_floor=beyond_floor,
        deployed_ms=deployed_ms,
        deployed_login=deployed_login,
    )


def parse_importtime(stderr: str) -> list[ImportRow]:
    """Rows of ``-X importtime`` output: ``import time: self | cumulative | <indent>name``."""
    rows = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            self_us, cumulative_us, indent, name = match.groups()
            rows.append(ImportRow(name, (len(indent) - 1) // 2, float(self_us), float(cumulative_us)))
    return rows


#: The variants of :func:`success_runs`, in the order they run in each round.
FAILED_LOGIN = "import handler + one login (CodeHasExpired)"
SUCCESS_HS256 = "import handler + first Success, HS256 token (PyJWT)"
SUCCESS_ES256 = "import handler + first Success, ES256 token (PyJWT + cryptography)"


def _p256_pem() -> str:
    """A fresh EC P-256 key as the PKCS#8 PEM ``TOKEN_PRIVATE_KEY`` takes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _planter(parts: Parts, env: dict[str, str]):
    """Stores events/login.json's code for its phone as getSms would (send.lua's fields), so the next login succeeds."""
    from smsverify.clock import moment_at
    from smsverify.service.codes import code_digest
    from smsverify.store import keys

    event = json.loads((ROOT / "events" / "login.json").read_text(encoding="utf-8"))
    phone, code = "+" + event["queryString"]["phone"], event["queryString"]["code"]
    client = parts.server.client()

    def plant() -> None:
        now_ms = int(time.time() * 1000)
        key = keys.phone_keys(phone, moment_at(time.time()).day).code
        client.delete(key)
        client.hset(key, mapping={"d": code_digest(env["CODE_SECRET"].encode(), phone, code), "n": 0,
                                  "x": now_ms + 300_000, "m": "bench"})
        client.pexpire(key, 300_000)

    return plant


def success_runs(parts: Parts, *, runs: int) -> SuccessStart:
    """Median wall time of a cold first ``Success`` with each kind of key, interleaved with
    the floor and the cold failed login (whose code was consumed by the ``Success`` before it)."""
    env = child_env(parts)
    es256_env = {k: v for k, v in env.items() if k != "TOKEN_SECRET"} | {"TOKEN_PRIVATE_KEY": _p256_pem()}
    plant = _planter(parts, env)
    hs256, es256 = _launcher(env, ROOT), _launcher(es256_env, ROOT)
    variants = {
        "import redis": (hs256, FLOOR, None),
        SUCCESS_HS256: (hs256, ["-c", SUCCESS], plant),
        FAILED_LOGIN: (hs256, ["-c", LOGIN], None),
        SUCCESS_ES256: (es256, ["-c", SUCCESS], plant),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    reports: dict[str, list[dict]] = {name: [] for name in variants}
    for round_ in range(runs + 1):  # round 0 untimed: .pyc written, scripts cached by the server
        for name, (launch, args, prepare) in variants.items():
            if prepare is not None:
                prepare()
            started = time.perf_counter()
            done = launch(args)
            if round_ == 0:
                continue
            samples[name].append((time.perf_counter() - started) * 1000)
            if args is not FLOOR:
                reports[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    expected = {SUCCESS_HS256: "Success", SUCCESS_ES256: "Success", FAILED_LOGIN: "CodeHasExpired"}
    summary: dict[str, dict] = {}
    for name, want in expected.items():
        answered = {r["codeStr"] for r in reports[name]}
        if answered != {want}:
            raise RuntimeError(f"{name} answered {sorted(answered)}, not {want}")
        summary[name] = dict(reports[name][-1])
        for key in ("import_ms", "login_ms"):
            summary[name][key] = statistics.median(r[key] for r in reports[name])
    return SuccessStart({name: statistics.median(v) for name, v in samples.items()}, summary)
