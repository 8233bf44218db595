"""The H5 example (examples/h5) in Debian's headless Chromium: runs tests/e2e/browser/h5.test.js.

That node:test file drives ``/usr/bin/chromium`` (Debian's ``chromium``
package, never a downloaded browser) with ``playwright-core`` against
``python -m smsverify serve`` (this interpreter) with the page on another
loopback origin; h5-captcha.test.js does the same with captcha on (the Captcha
API emulator, a stand-in for Tencent's TJCaptcha.js) and hands the token to
the backend example, and with voice codes (Tencent SMS and VMS through the
emulator, ``?voice=1``) shows the delivery status and logs in with the voice
code. What is missing is installed first: ``chromium`` with
apt-get (as root), ``playwright-core`` with ``npm ci`` from the lockfile.
Without them the tests are skipped on a developer machine and fail under CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import IN_CI, ROOT

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
TAP_LINE = re.compile(r"^(ok|not ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$")


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message + ": the browser tests must run in CI", pytrace=False)
    pytest.skip(message)


def _install_chromium() -> None:
    if CHROMIUM.exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            subprocess.run(command, capture_output=True, timeout=900, check=False)
            if CHROMIUM.exists():
                return
    _missing("Debian's chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def node() -> str:
    binary = shutil.which("node")
    if binary is None:
        _missing("node is not installed (the browser tests need Node.js >= 18)")
    _install_chromium()
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            _missing("npm is not installed (apt-get install -y npm) to install playwright-core")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            _missing(f"npm ci failed in tests/e2e/browser:\n{done.stderr[-2000:]}")
    return binary


def run_browser_tests(node: str, pattern: str, file: str = "h5.test.js") -> dict[str, str]:
    """Run the node tests of ``file`` whose names match ``pattern``; return ``name -> ok | not ok | skip`` and fail on none."""
    env = {**os.environ, "SMSVERIFY_PYTHON": sys.executable}
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap", f"--test-name-pattern={pattern}", str(HERE / file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    results = {}
    for line in done.stdout.splitlines():
        match = TAP_LINE.match(line)
        if match:
            results[match.group(2)] = "skip" if match.group(3) else match.group(1)
    ran = {name: outcome for name, outcome in results.items() if outcome != "skip"}
    assert ran, f"no browser test matched {pattern!r}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    failed = [name for name, outcome in ran.items() if outcome != "ok"]
    assert not failed and done.returncode == 0, f"failed: {failed}\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    return ran


def test_h5_page_in_chromium_same_origin_refused_origin_and_token_display(node: str) -> None:
    ran = run_browser_tests(node, "same origin|not allowed|decodes")
    assert len(ran) == 3, ran


def test_h5_page_in_chromium_logs_in_across_origins(node: str) -> None:
    ran = run_browser_tests(node, "cross origin, allowed")
    assert len(ran) == 1, ran


def test_h5_page_in_chromium_passes_the_captcha_and_the_backend_accepts_the_token(node: str) -> None:
    if not (ROOT / "examples" / "backend-node" / "node_modules" / "jose").is_dir():
        _missing("examples/backend-node/node_modules is missing (npm ci --prefix examples/backend-node)")
    ran = run_browser_tests(node, "captcha on", "h5-captcha.test.js")
    assert len(ran) == 3, ran
