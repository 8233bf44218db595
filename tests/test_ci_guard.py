"""The guard that keeps CI honest: without redis-server, real-Redis tests are
skipped on a developer machine but make the run fail under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT

TARGET = "tests/e2e/test_roundtrip.py"


def pytest_without_redis(ci: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PATH"] = os.path.dirname(sys.executable)  # the venv's bin: python, no redis-server
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", TARGET, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_without_redis_a_developer_run_skips_with_the_reason():
    done = pytest_without_redis(ci=False)
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout and "redis-server is not installed" in done.stdout


def test_without_redis_a_ci_run_fails():
    done = pytest_without_redis(ci=True)
    assert done.returncode != 0, done.stdout
    assert "real-Redis tests must run in CI" in done.stdout


def test_a_skipped_real_redis_test_fails_a_ci_run(tmp_path):
    """Whatever the reason of the skip, CI=true turns it into a failed run."""
    (tmp_path / "test_skipping.py").write_text(
        "import pytest\n\n\n@pytest.mark.real_redis\ndef test_needs_redis():\n    pytest.skip('pretend redis is missing')\n"
    )
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "-p", "tests.conftest",
               "-p", "no:cacheprovider", "-q", str(tmp_path / "test_skipping.py")]
    for ci, expected in ((False, 0), (True, 1)):
        env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": "true"} if ci else {})
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert "1 skipped" in done.stdout, done.stdout
        assert done.returncode == expected, done.stdout
