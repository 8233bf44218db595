"""Signing keys of the login token: loading, public JWKs, thumbprints, new keys.

Reading a private key is ``cryptography``'s job (``load_der_private_key``,
which checks the PKCS#8 or SEC1 structure, the curve and the private
scalar); this module only unwraps the PEM text the SCF console holds and
turns what ``cryptography`` finds into an error that names the variable.

Kinds (RFC 7518, RFC 8037): EC P-256 signs ``ES256``, Ed25519 signs
``EdDSA``, a shared secret signs ``HS256``. A key's ``kid`` is its RFC 7638
JWK thumbprint.

Cold start: importing this module imports neither ``cryptography`` nor
PyJWT; :func:`load_private_key` imports ``cryptography``'s key loading
(a median 12.5 ms after ``import handler`` here, which the first ES256 token no longer pays), and nothing in this module
imports PyJWT except :func:`verifying_key` given a JWK.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from smsverify.errors import ConfigError

ES256 = "ES256"
EDDSA = "EdDSA"
HS256 = "HS256"
#: ``keys generate --kind`` -> the algorithm it signs.
KINDS = {"ec": ES256, "ed25519": EDDSA, "secret": HS256}

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----", re.S)
_KINDS_HINT = "EC P-256 (ES256) or Ed25519 (EdDSA); python -m smsverify keys generate makes one"


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of a JWK: its required members, sorted, no spaces.

    Required members (RFC 7638 section 3.2, RFC 8037 section 2): EC ``crv kty x y``,
    OKP ``crv kty x``, oct ``k kty``. KeyError for another ``kty``.
    """
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True)
class SigningKey:
    """A loaded signing key: what PyJWT signs with, its ``kid`` and public JWK (``None`` for HS256)."""

    algorithm: str  #: ``ES256``, ``EdDSA`` or ``HS256``
    key: Any = field(repr=False)  #: a ``cryptography`` private key, or the secret's bytes
    kid: str  #: RFC 7638 thumbprint of the public JWK (of the ``oct`` JWK for HS256)
    public_jwk: dict[str, Any] | None = field(default=None, compare=False)  #: with ``kid use alg``


def secret_key(secret: bytes) -> SigningKey:
    """The HS256 signing key of a shared secret; its ``kid`` is the thumbprint of ``{"kty": "oct", "k": ...}``."""
    return SigningKey(HS256, secret, jwk_thumbprint({"kty": "oct", "k": b64url(secret)}), None)


def public_jwk(public: Any) -> dict[str, str]:
    """The required members of the JWK of an EC P-256 or Ed25519 ``cryptography`` public key.

    EC (RFC 7518 section 6.2.1): ``kty crv x y``, coordinates as 32 big-endian
    bytes; OKP (RFC 8037 section 2): ``kty crv x``, the raw public key.
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))}


def signing_key(private: Any) -> SigningKey:
    """The :class:`SigningKey` of an EC P-256 or Ed25519 ``cryptography`` private key; ValueError for another kind."""
    algorithm = _algorithm_of(private)
    if algorithm is None:
        raise ValueError(f"only EC P-256 and Ed25519 keys sign login tokens, not {type(private).__name__}")
    public = public_jwk(private.public_key())
    kid = jwk_thumbprint(public)
    return SigningKey(algorithm, private, kid, {**public, "kid": kid, "use": "sig", "alg": algorithm})


def _algorithm_of(key: Any) -> str | None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return ES256 if isinstance(key.curve, ec.SECP256R1) else None
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return EDDSA
    return None


def pem_der(name: str, text: str) -> bytes:
    """The DER bytes of the PEM private key in ``text``; line breaks may be real, ``\\n`` or spaces.

    Only the PEM frame is read here (RFC 7468): the label says a public key,
    an encrypted key or something else than a private key, and the body must
    be base64. Raises ConfigError naming ``name``; the message never quotes the key.
    """
    match = _PEM.search(text.replace("\\n", "\n"))
    if match is None:
        raise ConfigError(name, f"must be a PEM private key (-----BEGIN PRIVATE KEY----- ...), {_KINDS_HINT}")  # pragma: allowlist secret (a message)
    label, body, end_label = match.groups()
    if label != end_label:
        raise ConfigError(name, "is a PEM block whose BEGIN and END labels differ")
    if label == "ENCRYPTED PRIVATE KEY":
        raise ConfigError(name, "is encrypted with a passphrase: give the unencrypted PKCS#8 key")
    if label not in ("PRIVATE KEY", "EC PRIVATE KEY"):
        raise ConfigError(name, f"must be a PKCS#8 PRIVATE KEY block, got {label!r}: {_KINDS_HINT}")
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(name, "has a PEM body that is not base64") from None


def load_private_key(name: str, text: str) -> SigningKey:
    """Load the PEM private key of variable ``name`` (PKCS#8, or SEC1 for EC) with ``cryptography``.

    Returns
    -------
    SigningKey
        ``ES256`` for EC P-256, ``EdDSA`` for Ed25519.

    Raises
    ------
    ConfigError
        Naming ``name``: not a PEM private key, encrypted, unreadable
        (``cryptography`` refused its structure or its private scalar), or
        of another kind (RSA, another curve, Ed448, X25519 ...).
    """
    der = pem_der(name, text)
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x448, x25519
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    try:
        private = load_der_private_key(der, password=None)
    except UnsupportedAlgorithm:
        raise ConfigError(name, f"is a key of an unsupported algorithm: {_KINDS_HINT}") from None
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise ConfigError(name, "is encrypted with a passphrase: give the unencrypted PKCS#8 key") from None
    except ValueError:  # the message may describe the key's bytes: not repeated
        raise ConfigError(name, f"is not a valid private key (cryptography could not load it): {_KINDS_HINT}") from None
    if _algorithm_of(private) is not None:
        return signing_key(private)
    kinds = (
        (rsa.RSAPrivateKey, "an RSA key"),
        (ed448.Ed448PrivateKey, "an Ed448 key"),
        (x25519.X25519PrivateKey, "an X25519 key (key agreement, not signing)"),
        (x448.X448PrivateKey, "an X448 key (key agreement, not signing)"),
    )
    if isinstance(private, ec.EllipticCurvePrivateKey):
        kind = f"an EC key on {private.curve.name}, not P-256"
    else:
        kind = next((text for cls, text in kinds if isinstance(private, cls)), "a key of an unsupported algorithm")
    raise ConfigError(name, f"is {kind}: {_KINDS_HINT}")


def generate(kind: str) -> SigningKey:
    """A new private key: ``kind`` ``ec`` (P-256, ES256) or ``ed25519`` (EdDSA); ValueError otherwise."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if kind == "ec":
        return signing_key(ec.generate_private_key(ec.SECP256R1()))
    if kind == "ed25519":
        return signing_key(ed25519.Ed25519PrivateKey.generate())
    raise ValueError(f"kind must be ec or ed25519, got {kind!r}")


def private_pem(key: SigningKey) -> str:
    """The PKCS#8 PEM of an ``ES256`` / ``EdDSA`` signing key (what ``TOKEN_PRIVATE_KEY`` takes)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return key.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")


def verifying_key(key: Any) -> tuple[Any, str]:
    """``(public key object, the one algorithm it allows)`` for a PEM, a public JWK dict or a ``cryptography`` key.

    Raises ValueError for a key that is not EC P-256 or Ed25519 (an ``oct``
    JWK included: a shared secret is not a public key).
    """
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

    if isinstance(key, Mapping):
        from jwt.algorithms import ECAlgorithm, OKPAlgorithm
        from jwt.exceptions import InvalidKeyError

        kty = key.get("kty")
        if kty not in ("EC", "OKP"):
            raise ValueError(f"key: a JWK of kty {kty!r} cannot verify (a shared secret goes in secret=)")
        try:
            key = (ECAlgorithm if kty == "EC" else OKPAlgorithm).from_jwk(dict(key))
        except (InvalidKeyError, ValueError) as exc:
            raise ValueError(f"key: not a usable JWK ({exc})") from None
    elif isinstance(key, (str, bytes)):
        data = key.encode("utf-8") if isinstance(key, str) else key
        try:
            key = load_pem_private_key(data, None) if b"PRIVATE KEY-----" in data else load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"key: not a PEM public or private key ({exc})") from None
    algorithm = _algorithm_of(key)
    if algorithm is None:
        raise ValueError("key: only EC P-256 (ES256) and Ed25519 (EdDSA) public keys are accepted")
    return (key.public_key() if hasattr(key, "private_bytes") else key), algorithm
