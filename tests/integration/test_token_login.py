"""The login token end to end through ``main_handler`` (real Redis, Tencent SMS emulator).

getSms -> the code from the emulator -> login -> the ``token`` of the Success
body verifies with the JWKS of :meth:`TokenIssuer.jwks` (and the one the
function serves), carries the phone and scene, and is redeemable once; the
JWKS route answers without a log line; HS256 has no JWKS; the invocation log
line carries the ``jti`` and never the token. Also the CLI: ``keys generate``
prints keys the configuration accepts, ``token verify`` accepts and refuses.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smsverify.edge.handler import create_handler
from smsverify.observability import LOGGER_NAME, JsonFormatter
from smsverify.tokens import TokenConfig, TokenInvalid, TokenIssuer, redeem, verify_token
from tests.support import (
    ROOT,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    TOKEN_SECRET,
    call,
    get_sms,
    last_code,
    load_event,
    login,
)

PHONE = "+8613800138000"


@pytest.fixture(scope="module")
def private_pem() -> str:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def token_env(make_env, redis_url, private_pem: str | None) -> dict[str, str]:
    env = make_env(redis_url, TENCENTCLOUD_RUNENV="SCF")
    if private_pem is not None:
        del env["TOKEN_SECRET"]
        env["TOKEN_PRIVATE_KEY"] = private_pem
    return env


class LogLines(logging.Handler):
    """The ``smsverify`` logger's lines, formatted as in production, for this test only."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def run_and_fetch_jwks(handler, sms_api) -> tuple[dict, dict, dict]:
    body = sign_in(handler, sms_api)
    served = handler(load_event("get_sms.json") | {"path": "/sms/.well-known/jwks.json", "queryString": {}}, {})
    by_method = handler(load_event("get_sms.json") | {"queryString": {"method": "jwks"}}, {})
    return body, served, by_method


def sign_in(handler, sms_api) -> dict:
    assert call(handler, get_sms())["codeStr"] == "Ok"
    return call(handler, login(code=last_code(sms_api, PHONE)))


def test_a_login_answers_a_token_that_verifies_with_the_jwks(redis_url, make_env, sms_api, private_pem):
    env = token_env(make_env, redis_url, private_pem)
    handler = create_handler(env, clock=time.time)  # real time: the token is checked against the real clock
    logged = LogLines()
    logging.getLogger(LOGGER_NAME).addHandler(logged)
    try:
        body, served, by_method = run_and_fetch_jwks(handler, sms_api)
    finally:
        logging.getLogger(LOGGER_NAME).removeHandler(logged)
    assert body["codeStr"] == "Success" and body["tokenType"] == "Bearer" and body["expiresIn"] == 300

    jwks = TokenIssuer(TokenConfig.from_env(env, in_scf=True)).jwks()
    claims = verify_token(body["token"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, key=jwks["keys"][0], scene="login")
    assert claims["sub"] == claims["phone_number"] == PHONE and claims["amr"] == ["sms"]
    assert claims["exp"] - claims["iat"] == 300

    assert served["statusCode"] == 200 and json.loads(served["body"]) == jwks
    assert served["headers"]["Cache-Control"] == "public, max-age=300"
    assert json.loads(by_method["body"]) == jwks

    lines = logged.lines
    assert [line.get("codeStr") for line in lines] == ["Ok", "Success"]  # the two JWKS answers log nothing
    assert lines[1]["jti"] == claims["jti"]
    assert body["token"] not in json.dumps(lines) and body["token"].split(".")[2] not in json.dumps(lines)

    # A backend that wants each token used once.
    client = __import__("redis").Redis.from_url(redis_url)
    assert redeem(claims, client) is True
    assert redeem(claims, client) is False


def test_the_token_lives_token_ttl_seconds(redis_url, make_env, sms_api, private_pem):
    env = token_env(make_env, redis_url, private_pem) | {"TOKEN_TTL_SECONDS": "120"}
    body = sign_in(create_handler(env, clock=time.time), sms_api)
    assert body["codeStr"] == "Success" and body["expiresIn"] == 120
    claims = verify_token(body["token"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, key=private_pem)
    assert claims["exp"] - claims["iat"] == 120


def test_a_failed_login_issues_no_token(redis_url, make_env, sms_api, private_pem):
    handler = create_handler(token_env(make_env, redis_url, private_pem), clock=time.time)
    assert call(handler, get_sms())["codeStr"] == "Ok"
    code = last_code(sms_api, PHONE)
    wrong = call(handler, login(code=str((int(code) + 1) % 1_000_000).zfill(6)))
    assert wrong["codeStr"] == "CodeIsError" and "token" not in wrong


def test_with_a_shared_secret_the_token_is_hs256_and_there_is_no_jwks(redis_url, make_env, sms_api):
    handler = create_handler(token_env(make_env, redis_url, None), clock=time.time)
    body = sign_in(handler, sms_api)
    assert verify_token(body["token"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, secret=TOKEN_SECRET)["sub"] == PHONE
    with pytest.raises(TokenInvalid) as refused:
        verify_token(body["token"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, secret=TOKEN_SECRET, scene="register")
    assert refused.value.reason == "scene"
    jwks = call(handler, load_event("get_sms.json") | {"queryString": {"method": "jwks"}})
    assert jwks["codeStr"] == "InValidParam" and jwks["_status"] == 400 and "HS256" in jwks["msg"]


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smsverify", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})}, input=stdin,
    )


@pytest.mark.parametrize("kind, alg", [("ec", "ES256"), ("ed25519", "EdDSA"), ("secret", "HS256")])
def test_keys_generate_prints_lines_the_configuration_accepts(kind, alg):
    done = run_cli("keys", "generate", "--kind", kind)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines() if line.startswith("TOKEN_") and "<" not in line)
    config = TokenConfig.from_env({**lines, "TOKEN_ISSUER": "i", "TOKEN_AUDIENCE": "a"}, in_scf=True)
    assert config.algorithm == alg
    if kind != "secret":
        public = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
        assert TokenIssuer(config).jwks() == {"keys": [public]}
        assert "d" not in public


def test_token_verify_accepts_and_refuses(tmp_path, private_pem):
    env = {"TOKEN_PRIVATE_KEY": private_pem, "TOKEN_ISSUER": TOKEN_ISSUER, "TOKEN_AUDIENCE": TOKEN_AUDIENCE}
    issuer = TokenIssuer(TokenConfig.from_env(env, in_scf=True))
    token = issuer.issue(phone_e164=PHONE, scene="login").token
    key_file = tmp_path / "jwk.json"
    key_file.write_text(json.dumps(issuer.jwks()["keys"][0]), encoding="utf-8")
    common = ["--issuer", TOKEN_ISSUER, "--key", str(key_file)]

    accepted = run_cli("token", "verify", token, "--audience", TOKEN_AUDIENCE, "--scene", "login", *common)
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["phone_number"] == PHONE
    from_stdin = run_cli("token", "verify", "-", "--audience", TOKEN_AUDIENCE, *common, stdin=token + "\n")
    assert from_stdin.returncode == 0, from_stdin.stderr

    refused = run_cli("token", "verify", token, "--audience", "another-backend", *common)
    assert refused.returncode == 1 and refused.stderr.startswith("token refused: audience")
    assert token not in refused.stderr

    hs_token = TokenIssuer(TokenConfig.from_env({**env, "TOKEN_PRIVATE_KEY": "", "TOKEN_SECRET": TOKEN_SECRET}, in_scf=True)).issue(
        phone_e164=PHONE, scene="login").token
    by_secret = run_cli("token", "verify", hs_token, "--audience", TOKEN_AUDIENCE, "--issuer", TOKEN_ISSUER,
                        "--secret-env", "MY_TOKEN_SECRET", env={"MY_TOKEN_SECRET": TOKEN_SECRET})
    assert by_secret.returncode == 0, by_secret.stderr
    unset = run_cli("token", "verify", hs_token, "--audience", TOKEN_AUDIENCE, "--issuer", TOKEN_ISSUER, "--secret-env", "UNSET_VAR_X")
    assert unset.returncode == 2 and "UNSET_VAR_X" in unset.stderr


LEAN_PATHS = r"""
import json, sys, time
sys.path.insert(0, "src")
from smsverify.edge.handler import create_handler
from smsverify.observability import LOGGER_NAME, JsonFormatter
from tests.support import get_sms, login
env = json.loads(sys.argv[1])
handler = create_handler(env, clock=time.time)
# redis-py imports the bare "cryptography" package (0.4 ms, a version check); signing needs jwt and cryptography.hazmat.
loaded = lambda: sorted({".".join(m.split(".")[:2]) for m in sys.modules} & {"jwt", "cryptography.hazmat"})
steps = {}
steps["start"] = loaded()
steps["getSms"] = (json.loads(handler(get_sms(), {})["body"])["codeStr"], loaded())
steps["wrong login"] = (json.loads(handler(login(code="000000"), {})["body"])["codeStr"], loaded())
jwks = json.loads(handler(dict(get_sms(), queryString={"method": "jwks"}), {})["body"])
steps["jwks"] = (jwks["keys"][0]["alg"] if "keys" in jwks else jwks["codeStr"], loaded())
print(json.dumps(steps))
"""


@pytest.mark.parametrize("kind", ["TOKEN_PRIVATE_KEY", "TOKEN_SECRET"])
def test_no_path_but_a_success_loads_pyjwt_and_only_a_private_key_loads_cryptography(redis_url, make_env, sms_api, private_pem, kind):
    """A ``TOKEN_PRIVATE_KEY`` is loaded by cryptography at start-up (a bad key fails the start, not a login);
    PyJWT waits for the first token, so getSms, a failed login and the JWKS never load it."""
    env = token_env(make_env, redis_url, private_pem if kind == "TOKEN_PRIVATE_KEY" else None)
    done = subprocess.run([sys.executable, "-c", LEAN_PATHS, json.dumps(env)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = json.loads(done.stdout.strip().splitlines()[-1])
    crypto = ["cryptography.hazmat"] if kind == "TOKEN_PRIVATE_KEY" else []
    assert steps == {
        "start": crypto,
        "getSms": ["Ok", crypto],
        "wrong login": ["CodeIsError", crypto],
        "jwks": ["ES256" if crypto else "InValidParam", crypto],
    }
