"""The Node backend example (examples/backend-node/) against a live ``python -m smsverify serve``.

Runs ``node --test`` in that folder: its suite starts ``serve`` on a free
loopback port with this interpreter, logs in through it, and checks that the
backend (``jose``'s ``createRemoteJWKSet`` + ``jwtVerify`` on the function's
JWKS) accepts the token and refuses it changed, signed by another key,
expired, for another audience, or of another scene.

Without ``node`` or without ``node_modules`` (``npm ci`` in that folder,
run by scripts/test.sh) the test is skipped on a developer machine and fails
under CI (``CI`` in 1/true/yes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support import IN_CI, ROOT

EXAMPLE = ROOT / "examples" / "backend-node"


def need(condition: bool, message: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(message + ": the backend example's tests must run in CI", pytrace=False)
        pytest.skip(message)


def test_the_node_backend_accepts_real_tokens_and_refuses_forged_ones():
    node = shutil.which("node")
    need(node is not None, "node is not installed (Node.js >= 20)")
    need((EXAMPLE / "node_modules" / "jose").is_dir(), "examples/backend-node/node_modules is missing (npm ci --prefix examples/backend-node)")
    env = {**os.environ, "SMSVERIFY_PYTHON": sys.executable}
    done = subprocess.run([node, "--test"], cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 9" in done.stdout, done.stdout[-2000:]
