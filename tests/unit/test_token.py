"""smsverify.tokens: configuration, the token's shape, the JWKS, and the verifier's refusals.

The verifier cases (forged claim, other key, expired, wrong audience / issuer /
scene, ``alg: none``, HS256 with the public key as secret) are checked here
against :func:`verify_token`, and again with an independent JOSE library in
``test_token_joserfc.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import fakeredis
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from smsverify.errors import ConfigError
from smsverify.tokens import (
    ES256,
    HS256,
    NoPublicKey,
    TokenConfig,
    TokenInvalid,
    TokenIssuer,
    jwk_thumbprint,
    redeem,
    verify_token,
)
from tests.support import FakeClock

ISSUER = "https://sms.example.test"
AUDIENCE = "example-backend"
PHONE = "+8613800138000"
SECRET = "Vq3n8Zr1-Kp7wXe2Lm9sTa4yBd6uHc0J"  # pragma: allowlist secret


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ed_key():
    return ed25519.Ed25519PrivateKey.generate()


def env(**extra: str) -> dict[str, str]:
    return {"TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": AUDIENCE, **extra}


def issuer_for(private_pem: str | None = None, secret: str | None = None, clock=None, **extra: str) -> TokenIssuer:
    values = env(**extra)
    if private_pem:
        values["TOKEN_PRIVATE_KEY"] = private_pem
    if secret:
        values["TOKEN_SECRET"] = secret
    return TokenIssuer(TokenConfig.from_env(values, in_scf=True), clock=clock or FakeClock(now_seconds()))


def now_seconds() -> float:
    import time

    return time.time()


def b64url_json(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(payload)))


# -- configuration ------------------------------------------------------------------------------

def test_inside_scf_one_key_is_required_and_both_names_are_given():
    with pytest.raises(ConfigError) as neither:
        TokenConfig.from_env(env(), in_scf=True)
    assert "TOKEN_PRIVATE_KEY" in str(neither.value) and "TOKEN_SECRET" in str(neither.value)


def test_both_keys_at_once_are_refused_inside_and_outside_scf(ec_key):
    for in_scf in (True, False):
        with pytest.raises(ConfigError) as both:
            TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=pem(ec_key), TOKEN_SECRET=SECRET), in_scf=in_scf)
        assert "TOKEN_PRIVATE_KEY" in str(both.value) and "TOKEN_SECRET" in str(both.value)


@pytest.mark.parametrize("missing", ["TOKEN_ISSUER", "TOKEN_AUDIENCE"])
def test_inside_scf_issuer_and_audience_are_required(missing):
    values = env(TOKEN_SECRET=SECRET)
    del values[missing]
    with pytest.raises(ConfigError, match=f"^{missing}: is required inside SCF"):
        TokenConfig.from_env(values, in_scf=True)


def test_outside_scf_an_ephemeral_p256_key_and_local_names_are_announced():
    config = TokenConfig.from_env({}, in_scf=False)
    assert (config.algorithm, config.ephemeral, config.issuer, config.audience) == (ES256, True, "smsverify-local", "smsverify-local")
    assert len(config.notices) == 2 and "ephemeral P-256 key" in config.notices[0]
    issuer = TokenIssuer(config)
    token = issuer.issue(phone_e164=PHONE, scene="login").token
    assert verify_token(token, audience="smsverify-local", issuer="smsverify-local", key=issuer.jwks()["keys"][0])["sub"] == PHONE


def test_the_key_kinds_select_the_algorithm(ec_key, ed_key):
    assert TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=pem(ec_key)), in_scf=True).algorithm == "ES256"
    assert TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=pem(ed_key)), in_scf=True).algorithm == "EdDSA"
    assert TokenConfig.from_env(env(TOKEN_SECRET=SECRET), in_scf=True).algorithm == "HS256"
    assert TokenConfig.from_env(env(TOKEN_SECRET=SECRET), in_scf=True).notices == ()


@pytest.mark.parametrize("form", ["escaped", "spaces", "crlf"])
def test_a_pem_pasted_on_one_line_is_read(ec_key, form):
    text = pem(ec_key)
    text = {"escaped": text.replace("\n", "\\n"), "spaces": " ".join(text.split()), "crlf": text.replace("\n", "\r\n")}[form]
    config = TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=text), in_scf=True)
    assert config.signing_key.key.private_numbers() == ec_key.private_numbers()


def bad_keys():
    p384 = ec.generate_private_key(ec.SECP384R1())
    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pass-phrase")
    ).decode()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    x25519_key = x25519.X25519PrivateKey.generate()
    good = pem(ec.generate_private_key(ec.SECP256R1()))
    body = "".join(good.splitlines()[1:-1])
    der = bytearray(base64.b64decode(body))
    der[2] ^= 0x01  # the outer SEQUENCE's length
    zero_scalar = base64.b64decode(body)
    d_at = zero_scalar.index(bytes.fromhex("0420"), 30) + 2
    zero = zero_scalar[:d_at] + bytes(32) + zero_scalar[d_at + 32:]
    wrap = lambda raw: "-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(raw).decode() + "\n-----END PRIVATE KEY-----\n"  # noqa: E731  # pragma: allowlist secret (a PEM frame)
    return [
        ("not pem", "just some text", "must be a PEM private key"),
        ("p-384", pem(p384), "an EC key on secp384r1, not P-256"),
        ("encrypted", encrypted, "encrypted"),
        ("rsa", pem(rsa_key), "an RSA key"),
        ("x25519", pem(x25519_key), "an X25519 key"),
        ("public key", public_pem(ec.generate_private_key(ec.SECP256R1())), "PUBLIC KEY"),
        ("not base64", "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----", "not base64"),  # pragma: allowlist secret (a PEM frame)
        ("truncated", wrap(base64.b64decode(body)[:-10]), "not a valid private key"),
        ("corrupted", wrap(bytes(der)), "not a valid private key"),
        ("zero scalar", wrap(zero), "not a valid private key"),
    ]


@pytest.mark.parametrize("case, value, words", bad_keys(), ids=[c[0] for c in bad_keys()])
def test_bad_keys_fail_the_start_up_by_name(case, value, words):
    with pytest.raises(ConfigError) as error:
        TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=value), in_scf=True)
    assert str(error.value).startswith("TOKEN_PRIVATE_KEY") and words in str(error.value)
    assert not any(line in str(error.value) for line in value.splitlines() if len(line) > 16 and "-----" not in line)


def test_a_sec1_ec_key_is_read_as_the_same_key():
    """``openssl ecparam -genkey`` writes SEC1 (RFC 5915) ``EC PRIVATE KEY``; cryptography reads it, so do we."""
    key = ec.generate_private_key(ec.SECP256R1())
    sec1 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    config = TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=sec1), in_scf=True)
    assert config.algorithm == ES256 and config.signing_key.kid == issuer_for(pem(key)).kid


@pytest.mark.parametrize(
    "value, words",
    [("short-secret", "at least 32 bytes"), ("x" * 40, "distinct"), ("0123456789" * 4, "pattern"), (f" {SECRET}", "spaces")],
)
def test_weak_secrets_fail_the_start_up(value, words):
    with pytest.raises(ConfigError, match="^TOKEN_SECRET: .*" + words):
        TokenConfig.from_env(env(TOKEN_SECRET=value), in_scf=True)


@pytest.mark.parametrize("value, ok", [("299", True), ("30", True), ("3600", True), ("29", False), ("3601", False), ("5m", False)])
def test_ttl_bounds(value, ok):
    values = env(TOKEN_SECRET=SECRET, TOKEN_TTL_SECONDS=value)
    if ok:
        assert TokenConfig.from_env(values, in_scf=True).ttl_seconds == int(value)
    else:
        with pytest.raises(ConfigError, match="^TOKEN_TTL_SECONDS"):
            TokenConfig.from_env(values, in_scf=True)


def test_a_previous_key_needs_a_current_key(ec_key):
    with pytest.raises(ConfigError, match="^TOKEN_PRIVATE_KEY_PREVIOUS"):
        TokenConfig.from_env(env(TOKEN_SECRET=SECRET, TOKEN_PRIVATE_KEY_PREVIOUS=pem(ec_key)), in_scf=True)


def test_the_config_repr_shows_no_key_material(ec_key):
    config = TokenConfig.from_env(env(TOKEN_PRIVATE_KEY=pem(ec_key), TOKEN_PRIVATE_KEY_PREVIOUS=pem(ec_key)), in_scf=True)
    text = repr(config) + repr(TokenConfig.from_env(env(TOKEN_SECRET=SECRET), in_scf=True))
    assert "signing_key" not in text and "previous_key" not in text and SECRET not in text and "Private" not in text


# -- the token ------------------------------------------------------------------------------------

def test_the_token_header_and_claims_follow_the_contract(ec_key):
    clock = FakeClock(1_795_000_000.0)
    issuer = issuer_for(pem(ec_key), clock=clock)
    issued = issuer.issue(phone_e164=PHONE, scene="login", extra_claims={"openid": "o-123", "unionid": "u-456"})
    header, claims = parts(issued.token)
    jwk = issuer.jwks()["keys"][0]
    assert header == {"alg": "ES256", "typ": "JWT", "kid": jwk_thumbprint(jwk)}
    assert claims == {
        "iss": ISSUER, "aud": AUDIENCE, "sub": PHONE, "phone_number": PHONE, "phone_number_verified": True,
        "amr": ["sms"], "scene": "login", "iat": 1_795_000_000, "exp": 1_795_000_300, "jti": issued.jti,
        "openid": "o-123", "unionid": "u-456",
    }
    assert issued.expires_in == 300
    assert len(base64.urlsafe_b64decode(issued.jti + "==")) == 16 and "=" not in issued.jti
    assert issued.token not in repr(issued)


def test_the_authentication_methods_are_the_callers():
    issuer = issuer_for(secret=SECRET)
    assert parts(issuer.issue(phone_e164=PHONE, scene="login").token)[1]["amr"] == ["sms"]
    assert parts(issuer.issue(phone_e164=PHONE, scene="login", amr=("sms", "test")).token)[1]["amr"] == ["sms", "test"]


def test_jtis_are_unique():
    issuer = issuer_for(secret=SECRET)
    assert len({issuer.issue(phone_e164=PHONE, scene="login").jti for _ in range(500)}) == 500


def test_the_kid_is_the_rfc7638_thumbprint():
    # RFC 7638 section 3.1: the example RSA key's thumbprint; our function covers EC/OKP/oct the same way.
    ec_jwk = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",  # pragma: allowlist secret (a public key)
              "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "kid": "ignored", "use": "sig"}  # pragma: allowlist secret (a public key)
    canonical = '{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}'  # pragma: allowlist secret (a public key)
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert jwk_thumbprint(ec_jwk) == expected


def test_hs256_tokens_carry_the_thumbprint_of_the_secret_and_have_no_jwks():
    issuer = issuer_for(secret=SECRET)
    header, _ = parts(issuer.issue(phone_e164=PHONE, scene="login").token)
    k = base64.urlsafe_b64encode(SECRET.encode()).rstrip(b"=").decode()
    assert header == {"alg": "HS256", "typ": "JWT", "kid": jwk_thumbprint({"kty": "oct", "k": k})}
    with pytest.raises(NoPublicKey):
        issuer.jwks()


def test_the_jwks_has_public_members_only_and_keeps_the_previous_key(ec_key, ed_key):
    issuer = issuer_for(pem(ed_key), TOKEN_PRIVATE_KEY_PREVIOUS=pem(ec_key))
    keys = issuer.jwks()["keys"]
    assert [k["alg"] for k in keys] == ["EdDSA", "ES256"]
    for key in keys:
        assert set(key) <= {"kty", "crv", "x", "y", "kid", "use", "alg"} and key["use"] == "sig"
        assert key["kid"] == jwk_thumbprint(key)
    assert all("d" not in key for key in keys)
    # Tokens of the previous key (signed before the rotation) still verify against the new JWKS.
    old = issuer_for(pem(ec_key)).issue(phone_e164=PHONE, scene="login").token
    assert verify_token(old, audience=AUDIENCE, issuer=ISSUER, key=keys[1])["sub"] == PHONE
    assert parts(issuer.issue(phone_e164=PHONE, scene="login").token)[0]["kid"] == keys[0]["kid"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"phone_e164": "13800138000", "scene": "login"},
        {"phone_e164": PHONE, "scene": ""},
        {"phone_e164": PHONE, "scene": "login", "extra_claims": {"sub": "+8613900139000"}},
        {"phone_e164": PHONE, "scene": "login", "extra_claims": {"exp": 9_999_999_999}},
        {"phone_e164": PHONE, "scene": "login", "amr": ()},
        {"phone_e164": PHONE, "scene": "login", "amr": "sms"},
        {"phone_e164": PHONE, "scene": "login", "amr": ("sms", "Not A Method")},
    ],
)
def test_a_caller_cannot_issue_a_malformed_or_overridden_token(kwargs):
    with pytest.raises(ValueError):
        issuer_for(secret=SECRET).issue(**kwargs)


# -- the verifier ---------------------------------------------------------------------------------

def forge(token: str, **changes) -> str:
    """The same token with claims changed and the original signature kept."""
    header, payload, signature = token.split(".")
    _, claims = parts(token)
    return ".".join([header, b64url_json({**claims, **changes}), signature])


def refusal(token: str, **kwargs) -> str:
    with pytest.raises(TokenInvalid) as refused:
        verify_token(token, **{"audience": AUDIENCE, "issuer": ISSUER, **kwargs})
    return refused.value.reason


def test_a_genuine_token_is_accepted_with_each_kind_of_key(ec_key, ed_key):
    for private in (ec_key, ed_key):
        issuer = issuer_for(pem(private))
        token = issuer.issue(phone_e164=PHONE, scene="login").token
        for key in (issuer.jwks()["keys"][0], public_pem(private), private.public_key(), pem(private)):
            assert verify_token(token, audience=AUDIENCE, issuer=ISSUER, key=key, scene="login")["phone_number"] == PHONE
    token = issuer_for(secret=SECRET).issue(phone_e164=PHONE, scene="login").token
    assert verify_token(token, audience=AUDIENCE, issuer=ISSUER, secret=SECRET)["sub"] == PHONE


def test_the_refusals_say_what_failed(ec_key, other_ec_key):
    now = now_seconds()
    issuer = issuer_for(pem(ec_key), clock=FakeClock(now))
    key = issuer.jwks()["keys"][0]
    token = issuer.issue(phone_e164=PHONE, scene="login").token
    assert refusal(forge(token, phone_number="+8613900139000"), key=key) == "signature"
    assert refusal(issuer_for(pem(other_ec_key)).issue(phone_e164=PHONE, scene="login").token, key=key) == "signature"
    expired = issuer_for(pem(ec_key), clock=FakeClock(now - 300 - 31)).issue(phone_e164=PHONE, scene="login").token
    assert refusal(expired, key=key) == "expired"
    assert verify_token(expired, audience=AUDIENCE, issuer=ISSUER, key=key, leeway_seconds=60)["sub"] == PHONE
    future = issuer_for(pem(ec_key), clock=FakeClock(now + 120)).issue(phone_e164=PHONE, scene="login").token
    assert refusal(future, key=key) == "not_yet_valid"
    assert refusal(token, key=key, audience="another-backend") == "audience"
    assert refusal(token, key=key, issuer="https://evil.example") == "issuer"
    assert refusal(token, key=key, scene="resetPassword") == "scene"
    assert refusal("not-a-token", key=key) == "malformed"
    assert refusal("a.b.c", key=key) == "malformed"
    assert refusal(token + "x", key=key) in ("signature", "malformed")


def test_alg_none_is_refused_whatever_the_key(ec_key):
    issuer = issuer_for(pem(ec_key))
    _, claims = parts(issuer.issue(phone_e164=PHONE, scene="login").token)
    unsigned = b64url_json({"alg": "none", "typ": "JWT"}) + "." + b64url_json(claims) + "."
    assert refusal(unsigned, key=issuer.jwks()["keys"][0]) == "algorithm"
    assert refusal(unsigned, secret=SECRET) == "algorithm"


def test_hs256_signed_with_the_public_key_is_refused(ec_key):
    """The algorithm-confusion attack (RFC 8725 section 2.1): a token signed with HMAC keyed by the public key."""
    issuer = issuer_for(pem(ec_key))
    _, claims = parts(issuer.issue(phone_e164=PHONE, scene="login").token)
    for public in (public_pem(ec_key).encode(), json.dumps(issuer.jwks()["keys"][0]).encode()):
        header = b64url_json({"alg": "HS256", "typ": "JWT", "kid": issuer.kid})
        body = b64url_json({**claims, "phone_number": "+8613900139000"})
        signature = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
        forged = f"{header}.{body}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
        assert refusal(forged, key=public_pem(ec_key)) == "algorithm"
        assert refusal(forged, key=issuer.jwks()["keys"][0]) == "algorithm"


def test_a_token_of_another_family_is_refused_as_algorithm(ec_key, ed_key):
    ed_token = issuer_for(pem(ed_key)).issue(phone_e164=PHONE, scene="login").token
    assert refusal(ed_token, key=public_pem(ec_key)) == "algorithm"
    hs_token = issuer_for(secret=SECRET).issue(phone_e164=PHONE, scene="login").token
    assert refusal(hs_token, key=public_pem(ec_key)) == "algorithm"
    es_token = issuer_for(pem(ec_key)).issue(phone_e164=PHONE, scene="login").token
    assert refusal(es_token, secret=SECRET) == "algorithm"


def test_a_missing_claim_is_refused(ec_key):
    payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": int(now_seconds()), "exp": int(now_seconds()) + 60, "sub": PHONE}
    token = jwt.encode(payload, ec_key, algorithm="ES256")  # no jti
    assert refusal(token, key=public_pem(ec_key)) == "missing_claim"


def test_the_verifier_needs_exactly_one_key_source(ec_key):
    token = issuer_for(pem(ec_key)).issue(phone_e164=PHONE, scene="login").token
    for kwargs in ({}, {"key": public_pem(ec_key), "secret": SECRET}):
        with pytest.raises(ValueError):
            verify_token(token, audience=AUDIENCE, issuer=ISSUER, **kwargs)
    with pytest.raises(ValueError):
        verify_token(token, audience=AUDIENCE, issuer=ISSUER, key={"kty": "oct", "k": "c2VjcmV0"})
    with pytest.raises(ValueError):
        verify_token(token, audience=AUDIENCE, issuer=ISSUER, key=public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))


# -- redeem ---------------------------------------------------------------------------------------

def test_redeem_is_true_once_and_keeps_the_jti_until_exp_plus_leeway():
    client = fakeredis.FakeRedis()
    claims = {"jti": "abc", "exp": 1_000_300}
    assert redeem(claims, client, clock=lambda: 1_000_000.0) is True
    assert redeem(claims, client, clock=lambda: 1_000_001.0) is False
    assert client.ttl("smsverify:jti:abc") == 330
    with pytest.raises(TokenInvalid) as late:
        redeem({"jti": "def", "exp": 1_000_300}, client, clock=lambda: 1_000_331.0)
    assert late.value.reason == "expired"
    with pytest.raises(TokenInvalid):
        redeem({"exp": 1_000_300}, client, clock=lambda: 1_000_000.0)
    assert HS256 == "HS256"
