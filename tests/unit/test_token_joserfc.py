"""Our signer checked by an independent JOSE library (joserfc), not only by our own verifier.

joserfc (https://jose.authlib.org/) verifies the tokens of :class:`TokenIssuer`
against the published JWKS, recomputes the RFC 7638 ``kid``, and refuses the
same forged, other-key, expired, wrong-audience, wrong-scene, ``alg: none``
and HS256-confusion tokens that :func:`smsverify.tokens.verify_token` refuses
(``test_token.py``), so both ends agree on what a valid token is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc import errors, jwk, jwt

from smsverify.tokens import TokenConfig, TokenIssuer
from tests.support import FakeClock

# The issue asks for alg "EdDSA" for Ed25519 keys (RFC 8037); RFC 9864 (2025) prefers the fully-specified
# "Ed25519", and joserfc warns about "EdDSA". The tokens stay "EdDSA", the contract backends verify today.
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated:joserfc.errors.SecurityWarning")

ISSUER = "https://sms.example.test"
AUDIENCE = "example-backend"
PHONE = "+8613800138000"
SECRET = "Vq3n8Zr1-Kp7wXe2Lm9sTa4yBd6uHc0J"  # pragma: allowlist secret


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def make_issuer(private=None, secret=None, now=None) -> TokenIssuer:
    env = {"TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": AUDIENCE}
    env.update({"TOKEN_PRIVATE_KEY": pem(private)} if private is not None else {"TOKEN_SECRET": secret})
    return TokenIssuer(TokenConfig.from_env(env, in_scf=True), clock=FakeClock(time.time() if now is None else now))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def joserfc_accepts(token: str, key, algorithms: list[str], scene: str = "login") -> dict:
    """joserfc's verdict the way a backend uses it: signature with pinned algorithms, then the claims."""
    decoded = jwt.decode(token, key, algorithms=algorithms)
    registry = jwt.JWTClaimsRegistry(
        leeway=30,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
        scene={"essential": True, "value": scene},
    )
    registry.validate(decoded.claims)
    return {"header": decoded.header, "claims": decoded.claims}


@pytest.fixture(scope="module", params=["ES256", "EdDSA"])
def signer(request):
    private = ec.generate_private_key(ec.SECP256R1()) if request.param == "ES256" else ed25519.Ed25519PrivateKey.generate()
    issuer = make_issuer(private)
    return request.param, private, issuer, jwk.KeySet.import_key_set(issuer.jwks())


def test_joserfc_accepts_our_token_with_the_published_jwks(signer):
    alg, _, issuer, key_set = signer
    issued = issuer.issue(phone_e164=PHONE, scene="login", extra_claims={"openid": "o-1"})
    verdict = joserfc_accepts(issued.token, key_set, [alg])
    assert verdict["header"] == {"alg": alg, "typ": "JWT", "kid": issuer.kid}
    assert verdict["claims"]["phone_number"] == PHONE and verdict["claims"]["openid"] == "o-1"
    assert verdict["claims"]["jti"] == issued.jti
    # The kid is joserfc's own RFC 7638 thumbprint of the published key.
    assert issuer.kid == key_set.keys[0].thumbprint()


def test_joserfc_accepts_hs256_tokens_and_agrees_on_the_secrets_thumbprint():
    issuer = make_issuer(secret=SECRET)
    issued = issuer.issue(phone_e164=PHONE, scene="login")
    key = jwk.OctKey.import_key(SECRET)
    assert joserfc_accepts(issued.token, key, ["HS256"])["header"]["kid"] == key.thumbprint()


def test_joserfc_refuses_a_changed_claim(signer):
    alg, _, issuer, key_set = signer
    header, payload, signature = issuer.issue(phone_e164=PHONE, scene="login").token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = ".".join([header, b64url(json.dumps({**claims, "phone_number": "+8613900139000"}).encode()), signature])
    with pytest.raises(errors.BadSignatureError):
        jwt.decode(forged, key_set, algorithms=[alg])


def test_joserfc_refuses_a_token_of_another_key(signer):
    alg, private, issuer, key_set = signer
    other = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else ed25519.Ed25519PrivateKey.generate()
    token = make_issuer(other).issue(phone_e164=PHONE, scene="login").token
    with pytest.raises(errors.InvalidKeyIdError):  # its kid is the other key's thumbprint
        jwt.decode(token, key_set, algorithms=[alg])
    # Signed by the other key but claiming our kid: the signature fails.
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    impostor = jwt.encode({"alg": alg, "typ": "JWT", "kid": issuer.kid}, claims, jwk.import_key(pem(other), "EC" if alg == "ES256" else "OKP"), algorithms=[alg])
    with pytest.raises(errors.BadSignatureError):
        jwt.decode(impostor, key_set, algorithms=[alg])


def test_joserfc_refuses_expired_wrong_audience_and_wrong_scene(signer):
    alg, private, issuer, key_set = signer
    expired = make_issuer(private, now=time.time() - 331).issue(phone_e164=PHONE, scene="login").token
    with pytest.raises(errors.ExpiredTokenError):
        joserfc_accepts(expired, key_set, [alg])
    other_audience = TokenIssuer(
        TokenConfig.from_env({"TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": "another-backend", "TOKEN_PRIVATE_KEY": pem(private)}, in_scf=True)
    ).issue(phone_e164=PHONE, scene="login").token
    with pytest.raises(errors.InvalidClaimError, match="aud"):
        joserfc_accepts(other_audience, key_set, [alg])
    register = issuer.issue(phone_e164=PHONE, scene="register").token
    with pytest.raises(errors.InvalidClaimError, match="scene"):
        joserfc_accepts(register, key_set, [alg])
    assert joserfc_accepts(register, key_set, [alg], scene="register")["claims"]["scene"] == "register"


def test_joserfc_refuses_alg_none_and_hs256_keyed_with_the_public_key(signer):
    alg, private, issuer, key_set = signer
    _, payload, _ = issuer.issue(phone_e164=PHONE, scene="login").token.split(".")
    unsigned = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.kid}).encode()) + "." + payload + "."
    with pytest.raises(errors.JoseError):
        jwt.decode(unsigned, key_set, algorithms=[alg])
    public = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode())
    signature = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(errors.JoseError):
        jwt.decode(f"{header}.{payload}.{b64url(signature)}", key_set, algorithms=[alg])
