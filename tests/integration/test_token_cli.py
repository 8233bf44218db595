"""``python -m smsverify keys`` / ``token``, run as a user runs them (fresh interpreters).

Proven here: a command without its subcommand prints its usage naming the
subcommands (not argparse's "required: keys_command"); ``keys generate --kind
secret`` prints ``TOKEN_SECRET=``, with ``--var CODE_SECRET`` a ``CODE_SECRET=``
line, and the help says so; an output whose reader has gone (``| head``)
ends without a traceback, for ``token verify`` and ``keys generate``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smsverify.tokens import TokenConfig, TokenIssuer
from tests.support import ROOT, TOKEN_AUDIENCE, TOKEN_ISSUER


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    options = {"capture_output": True} if "stdout" not in kwargs else {"stderr": subprocess.PIPE}
    return subprocess.run([sys.executable, "-m", "smsverify", *args], cwd=ROOT, text=True, timeout=60, **options, **kwargs)


@pytest.mark.parametrize("command, subcommand", [("keys", "generate"), ("token", "verify")])
def test_a_command_alone_prints_its_usage_naming_its_subcommands(command, subcommand):
    done = run_cli(command)
    assert done.returncode == 2
    assert subcommand in done.stderr and "usage:" in done.stderr
    assert "required" not in done.stderr and "_command" not in done.stderr


def test_keys_generate_secret_prints_token_secret_or_the_named_variable():
    token_secret = run_cli("keys", "generate", "--kind", "secret")
    assert token_secret.returncode == 0
    assert [line.split("=")[0] for line in token_secret.stdout.splitlines() if "=" in line and not line.startswith("#")] == ["TOKEN_SECRET"]
    code_secret = run_cli("keys", "generate", "--kind", "secret", "--var", "CODE_SECRET")
    [line] = [line for line in code_secret.stdout.splitlines() if not line.startswith("#")]
    assert line.startswith("CODE_SECRET=") and len(line) - len("CODE_SECRET=") >= 32
    assert "--var CODE_SECRET" in " ".join(run_cli("keys", "generate", "--help").stdout.split())


def closed_reader_run(*args: str) -> subprocess.CompletedProcess:
    """Run with a standard output whose reading end is already closed: every write is a broken pipe."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return run_cli(*args, stdout=write_end)
    finally:
        os.close(write_end)


def test_a_reader_that_has_gone_ends_the_output_without_a_traceback(tmp_path):
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    issuer = TokenIssuer(TokenConfig.from_env(
        {"TOKEN_PRIVATE_KEY": pem, "TOKEN_ISSUER": TOKEN_ISSUER, "TOKEN_AUDIENCE": TOKEN_AUDIENCE}, in_scf=True))
    (tmp_path / "key.pem").write_text(pem, encoding="utf-8")
    token = issuer.issue(phone_e164="+8613800138000", scene="login").token
    verify = closed_reader_run("token", "verify", token, "--audience", TOKEN_AUDIENCE, "--issuer", TOKEN_ISSUER,
                               "--key", str(tmp_path / "key.pem"))
    generate = closed_reader_run("keys", "generate")
    for done in (verify, generate):
        assert done.returncode == 1
        assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
