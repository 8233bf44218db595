"""The example mini-program client (examples/miniprogram/) against the real function.

Proves:

1. ``fixtures/responses.json``, the answers the node tests replay, is exactly
   what the real ``main_handler`` answers today: it is re-recorded into a
   temporary file and compared byte for byte (so the client's tests cannot
   drift from the function), and recording prints nothing but its summary
   line (no SMS code reaches the output);
2. the utility's codeStr table (``CODES`` in ``utils/smsverify.js``) has
   exactly the codeStrs of the Python error model: the STATUS table and every
   ``VerificationError`` class;
3. the node tests of the utility and the login page pass
   (``node --test examples/miniprogram/test/*.test.js``);
4. the login page, with the t-captcha plugin stood in, passes the captcha
   and logs in against ``python -m smsverify serve`` with captcha on (the
   Captcha API emulator checking the tickets), and the backend example
   accepts its token, and with voice codes (Tencent SMS and VMS through the
   emulator) "未收到？" shows the delivery status and the voice code logs in
   (``node --test tests/e2e/clients/miniprogram.test.js``).

Without ``node`` the node-based tests are skipped on a developer machine and
fail under CI (``CI`` in 1/true/yes).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smsverify import errors
from smsverify.edge.responses import STATUS
from tests.support import IN_CI, ROOT

EXAMPLE = ROOT / "examples" / "miniprogram"
RECORDER = EXAMPLE / "test" / "record_fixtures.py"
FIXTURES = EXAMPLE / "test" / "fixtures" / "responses.json"
UTILITY = EXAMPLE / "utils" / "smsverify.js"
RECORD_COMMAND = ".venv/bin/python examples/miniprogram/test/record_fixtures.py"
FLOW_TEST = ROOT / "tests" / "e2e" / "clients" / "miniprogram.test.js"
BACKEND = ROOT / "examples" / "backend-node"


def python_code_strs() -> set[str]:
    """Every codeStr the function can answer: the STATUS table and the error classes."""
    found = set(STATUS)
    pending = [errors.VerificationError]
    while pending:
        cls = pending.pop()
        found.add(cls.code_str)
        pending.extend(cls.__subclasses__())
    return found


@pytest.fixture(scope="module")
def node() -> str:
    binary = shutil.which("node")
    if binary is None:
        message = "node is not installed (the mini-program tests need Node.js >= 18)"
        if IN_CI:
            pytest.fail(message + ": they must run in CI", pytrace=False)
        pytest.skip(message)
    return binary


def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def test_fixtures_are_what_the_function_answers_now(tmp_path: Path) -> None:
    output = tmp_path / "responses.json"
    result = run(sys.executable, str(RECORDER), "--output", str(output))
    assert result.returncode == 0, f"record_fixtures.py failed:\n{result.stdout}\n{result.stderr}"
    scenarios = len(json.loads(output.read_text(encoding="utf-8"))["scenarios"])
    assert result.stdout == f"wrote {scenarios} scenarios to {output}\n"
    assert result.stderr == ""

    fresh = output.read_bytes()
    committed = FIXTURES.read_bytes() if FIXTURES.exists() else b""
    if fresh != committed:
        diff = "".join(difflib.unified_diff(
            committed.decode("utf-8").splitlines(keepends=True), fresh.decode("utf-8").splitlines(keepends=True),
            fromfile="committed responses.json", tofile="recorded now", n=2,
        ))
        pytest.fail(
            "The function's answers changed: the mini-program fixtures are stale.\n"
            f"Re-record them with:\n    {RECORD_COMMAND}\n"
            "then run the node tests (node --test examples/miniprogram/test/*.test.js) and adapt utils/smsverify.js.\n\n"
            + diff[:6000],
            pytrace=False,
        )


def test_fixtures_cover_every_code_str_but_the_unreachable() -> None:
    recorded = json.loads(FIXTURES.read_text(encoding="utf-8"))
    covered = {s["response"]["data"]["codeStr"] for s in recorded["scenarios"]}
    assert set(recorded["codeStrs"]["all"]) == python_code_strs()
    assert set(recorded["codeStrs"]["covered"]) == covered
    # a defect; a browser CORS refusal; the delivery-receipt path and its timer event (never getSms or login)
    unreachable = {"InternalError", "OriginNotAllowed", "NotFound", "ReceiptPullFailed"}
    assert python_code_strs() - covered == unreachable
    assert set(recorded["codeStrs"]["notCovered"]) == unreachable


def test_js_table_has_exactly_the_python_code_strs(node: str) -> None:
    script = "const m = require(process.argv[1]); console.log(JSON.stringify({codes: Object.keys(m.CODES), client: Object.keys(m.CLIENT_CODES)}))"
    result = run(node, "-e", script, str(UTILITY))
    assert result.returncode == 0, result.stderr
    table = json.loads(result.stdout)
    python = python_code_strs()
    assert len(table["codes"]) == len(set(table["codes"]))
    assert set(table["codes"]) == python, (
        f"only in JS: {sorted(set(table['codes']) - python)}; only in Python: {sorted(python - set(table['codes']))}"
    )
    assert set(table["client"]) == {"NetworkError", "UnexpectedResponse", "NoRandom"}
    assert not set(table["client"]) & python


def failures(tap: str, context: int = 30) -> str:
    """The ``not ok`` entries of node's TAP output with their details, then the summary."""
    lines = tap.splitlines()
    shown = [i for i, line in enumerate(lines) if line.lstrip().startswith("not ok")]
    parts = ["\n".join(lines[i:i + context]) for i in shown[:10]]
    return "\n...\n".join(parts + ["\n".join(lines[-9:])])


def test_node_tests_pass(node: str) -> None:
    # Explicit files: a bare directory argument works with node 18 and 20 only.
    files = sorted(str(p.relative_to(ROOT)) for p in (EXAMPLE / "test").glob("*.test.js"))
    assert len(files) >= 2, files
    result = run(node, "--test", *files)
    if result.returncode != 0:
        pytest.fail(f"node --test failed:\n{failures(result.stdout)}\n{result.stderr[-4000:]}", pytrace=False)


def test_the_page_passes_the_captcha_and_logs_in_against_serve(node: str) -> None:
    if not (BACKEND / "node_modules" / "jose").is_dir():
        message = "examples/backend-node/node_modules is missing (npm ci --prefix examples/backend-node)"
        if IN_CI:
            pytest.fail(message + ": the mini-program flow test must run in CI", pytrace=False)
        pytest.skip(message)
    result = run(node, "--test", str(FLOW_TEST.relative_to(ROOT)), timeout=300, env={**os.environ, "SMSVERIFY_PYTHON": sys.executable})
    if result.returncode != 0 or "# pass 3" not in result.stdout:
        pytest.fail(f"node --test {FLOW_TEST.name} failed:\n{failures(result.stdout)}\n{result.stderr[-4000:]}", pytrace=False)
