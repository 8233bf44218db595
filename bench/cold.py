"""Cold start: fresh interpreters, timed from outside (wall time of the whole
process, interpreter start-up included), in an SCF-like environment
(``TENCENTCLOUD_RUNENV=SCF``, real Redis, SMS via the emulator):

- ``python -c pass``: the interpreter alone (for scale);
- ``python -c "import redis"``: the floor, the one library the login path
  cannot do without;
- ``import handler``: the SCF module load (builds the container's service);
- ``import handler`` + one login (events/login.json against the real Redis):
  what a cold invocation costs.

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


def child_env(parts: Parts) -> dict[str, str]:
    """The SCF-like environment, and nothing of this shell's but PATH."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **parts.env}


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
    return ColdStart(
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
