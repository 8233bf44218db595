"""The signed login token: configuration, issuing, JWKS, and a verifier for Python backends.

After a right code, ``login`` answers a compact JWS (RFC 7515) carrying a JWT
(RFC 7519) that a backend verifies with any stock JOSE library:

- header: ``alg`` (``ES256``, ``EdDSA`` or ``HS256``), ``typ: "JWT"``, ``kid`` =
  the RFC 7638 JWK thumbprint of the signing key (for HS256, of the secret's
  ``oct`` JWK, so a rotation shows);
- claims: ``iss``, ``aud``, ``sub`` and ``phone_number`` (E.164),
  ``phone_number_verified: true`` (OpenID Connect Core 1.0 section 5.1),
  ``amr: ["sms"]`` (RFC 8176), ``scene``, ``iat``, ``exp`` (= ``iat`` + TTL),
  ``jti`` (128 random bits, base64url), plus the caller's extra claims
  (``openid`` / ``unionid`` with WeChat binding).

Keys (:meth:`TokenConfig.from_env`): ``TOKEN_PRIVATE_KEY``, a PKCS#8 PEM
private key, EC P-256 (``ES256``, RFC 7518 section 3.4) or Ed25519 (``EdDSA``,
RFC 8037); or ``TOKEN_SECRET``, >= 32 bytes (``HS256``, RFC 7518 section 3.2).
``TOKEN_PRIVATE_KEY_PREVIOUS`` only adds its public key to the JWKS
(RFC 7517), so tokens signed just before a rotation keep verifying.

Cold start: importing this module, reading the configuration and building a
:class:`TokenIssuer` import neither PyJWT nor ``cryptography`` (about 100 ms
together); the first :meth:`TokenIssuer.issue` or :meth:`TokenIssuer.jwks`
does. So that a bad key still fails at start-up, :meth:`TokenConfig.from_env`
checks the key's PKCS#8 structure (RFC 5208 / RFC 5958), its algorithm and
curve, and the range of the private scalar with the standard library.

The verifier (:func:`verify_token`) follows RFC 8725 (JWT Best Current
Practices): the accepted algorithm is pinned to the family of the key it is
given, ``alg: none`` and HMAC against a public key are refused, ``iss``,
``aud`` and ``exp`` are always checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib.util
import json
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from smsverify.env import note
from smsverify.errors import ConfigError
from smsverify.secret_strength import weak_secret_reason

ES256 = "ES256"
EDDSA = "EdDSA"
HS256 = "HS256"

DEFAULT_TTL_SECONDS = 300
MIN_TTL_SECONDS = 30
MAX_TTL_SECONDS = 3600
#: ``iss`` and ``aud`` outside SCF when ``TOKEN_ISSUER`` / ``TOKEN_AUDIENCE`` are unset.
LOCAL_ISSUER = "smsverify-local"
LOCAL_AUDIENCE = "smsverify-local"
#: Clock skew tolerated by :func:`verify_token` and kept by :func:`redeem`, in seconds.
DEFAULT_LEEWAY_SECONDS = 30
#: Claims the issuer sets itself; ``extra_claims`` may not replace them.
RESERVED_CLAIMS = frozenset(
    {"iss", "aud", "sub", "phone_number", "phone_number_verified", "amr", "scene", "iat", "exp", "nbf", "jti"}
)
#: Redis key prefix of :func:`redeem`.
REDEEM_PREFIX = "smsverify:jti:"

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class NoPublicKey(Exception):
    """The token is signed with a shared secret (HS256): there is no public key to publish."""


class TokenInvalid(Exception):
    """A token refused by :func:`verify_token` (or :func:`redeem`).

    Attributes
    ----------
    reason:
        What failed, one of ``malformed``, ``algorithm``, ``signature``,
        ``expired``, ``not_yet_valid``, ``audience``, ``issuer``, ``scene``,
        ``missing_claim``, ``jwks_unavailable`` (the JWKS could not be
        fetched: the token was not judged).
    detail:
        A sentence for logs; it never contains the token.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class IssuedToken:
    """A token made by :meth:`TokenIssuer.issue`."""

    token: str = field(repr=False)  #: the compact JWS
    expires_in: int  #: seconds until ``exp``
    jti: str  #: the token's id (safe to log)


@dataclass(frozen=True)
class TokenConfig:
    """How tokens are signed, validated once at start-up by :meth:`from_env`.

    ``private_key_der`` (PKCS#8 DER) is set for ``ES256`` / ``EdDSA``,
    ``secret`` for ``HS256``; both are ``None`` for the ephemeral local key
    (``ephemeral``), made by the issuer on first use.
    """

    algorithm: str
    issuer: str
    audience: str
    ttl_seconds: int
    private_key_der: bytes | None = field(default=None, repr=False)
    secret: bytes | None = field(default=None, repr=False)
    previous_key_der: bytes | None = field(default=None, repr=False)
    previous_algorithm: str | None = None
    ephemeral: bool = False
    #: Local fallbacks taken, one sentence each, for the caller to print once on stderr.
    notices: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, in_scf: bool) -> "TokenConfig":
        """Read and validate the ``TOKEN_*`` variables.

        Variables: ``TOKEN_PRIVATE_KEY`` (PKCS#8 PEM, EC P-256 or Ed25519) or
        ``TOKEN_SECRET`` (>= 32 bytes, random-looking), exactly one inside
        SCF; ``TOKEN_PRIVATE_KEY_PREVIOUS`` (optional, public part published
        only); ``TOKEN_ISSUER``, ``TOKEN_AUDIENCE`` (required inside SCF,
        else ``smsverify-local``); ``TOKEN_TTL_SECONDS`` [300], 30 to 3600.
        A PEM may have its line breaks written as ``\\n`` or as spaces
        (one-line console fields).

        Outside SCF with neither key, tokens are signed with an ephemeral
        P-256 key made on first use, announced in :attr:`notices`.

        Raises
        ------
        ConfigError
            Naming every bad variable in ``.problems`` (both key variables
            as one name when both or neither are set inside SCF).
        """
        from smsverify.env import EnvReader

        reader = EnvReader(env)  # every bad TOKEN_* variable in one ConfigError
        notices: list[str] = []
        pem = reader.text("TOKEN_PRIVATE_KEY", strip_spaces=True)
        secret = reader.text("TOKEN_SECRET")
        algorithm, der, ephemeral = reader.attempt(
            lambda: _signing_key(pem, secret, in_scf, notices), (ES256, None, False)
        )
        previous_der = previous_algorithm = None
        previous_pem = reader.text("TOKEN_PRIVATE_KEY_PREVIOUS", strip_spaces=True)
        if previous_pem is not None:
            if pem is None:
                reader.problem("TOKEN_PRIVATE_KEY_PREVIOUS", "needs TOKEN_PRIVATE_KEY (the key that replaced it)")
            else:
                previous_der = reader.attempt(lambda: _pem_der("TOKEN_PRIVATE_KEY_PREVIOUS", previous_pem))
                if previous_der is not None:
                    previous_algorithm = reader.attempt(
                        lambda: _pkcs8_algorithm("TOKEN_PRIVATE_KEY_PREVIOUS", previous_der)
                    )
        names = {}
        defaulted = []
        for name, default in (("TOKEN_ISSUER", LOCAL_ISSUER), ("TOKEN_AUDIENCE", LOCAL_AUDIENCE)):
            note(env, name, "text", default)
            value = reader.text(name)
            if value is None:
                if in_scf:
                    reader.problem(name, "is required inside SCF (backends check it when verifying a token)")
                value = default
                defaulted.append(f"{name}={default}")
            elif len(value) > 256:
                reader.problem(name, "must be at most 256 characters")
            names[name] = value
        if defaulted:
            notices.append("login tokens carry the local defaults " + ", ".join(defaulted))
        ttl = reader.integer("TOKEN_TTL_SECONDS", DEFAULT_TTL_SECONDS, MIN_TTL_SECONDS, MAX_TTL_SECONDS)
        reader.raise_problems()
        _require_libraries(algorithm, "TOKEN_SECRET" if algorithm == HS256 else "TOKEN_PRIVATE_KEY")
        return cls(
            algorithm=algorithm,
            issuer=names["TOKEN_ISSUER"],
            audience=names["TOKEN_AUDIENCE"],
            ttl_seconds=ttl,
            private_key_der=der,
            secret=secret.encode("utf-8") if secret is not None else None,
            previous_key_der=previous_der,
            previous_algorithm=previous_algorithm,
            ephemeral=ephemeral,
            notices=tuple(notices),
        )


def _signing_key(pem: str | None, secret: str | None, in_scf: bool, notices: list[str]) -> tuple[str, bytes | None, bool]:
    """``(algorithm, PKCS#8 DER or None, ephemeral)`` from ``TOKEN_PRIVATE_KEY`` / ``TOKEN_SECRET``; raises ConfigError."""
    if pem is not None and secret is not None:
        raise ConfigError("TOKEN_PRIVATE_KEY / TOKEN_SECRET", "set exactly one of the two, not both")
    if pem is not None:
        der = _pem_der("TOKEN_PRIVATE_KEY", pem)
        return _pkcs8_algorithm("TOKEN_PRIVATE_KEY", der), der, False
    if secret is not None:
        reason = weak_secret_reason(secret)
        if reason is not None:
            raise ConfigError("TOKEN_SECRET", f"{reason} (python -m smsverify keys generate --kind secret)")
        return HS256, None, False
    if in_scf:
        raise ConfigError(
            "TOKEN_PRIVATE_KEY / TOKEN_SECRET",
            "one of the two is required inside SCF (python -m smsverify keys generate prints a key)",
        )
    notices.append(
        "no TOKEN_PRIVATE_KEY or TOKEN_SECRET: login tokens are signed with an ephemeral P-256 key "
        "(its JWKS changes at every start)"
    )
    return ES256, None, True


def _require_libraries(algorithm: str, variable: str) -> None:
    """Fail at start-up, not at the first login, when the signing library is not deployed.

    ``find_spec`` locates a package without importing it (no cold-start cost).
    """
    needed = ["jwt"] + ([] if algorithm == HS256 else ["cryptography"])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        names = {"jwt": "PyJWT", "cryptography": "cryptography"}
        raise ConfigError(variable, f"{algorithm} signing needs {' and '.join(names[m] for m in missing)}, missing here")


# -- PEM and PKCS#8, standard library only (see the module docstring) --------------------------

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----", re.S)
#: DER encodings of the object identifiers we read (RFC 5480, RFC 8410).
_OID_EC = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey
_OID_P256 = bytes.fromhex("2a8648ce3d030107")  # 1.2.840.10045.3.1.7 prime256v1
_OID_ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112
_OTHER_KINDS = {
    bytes.fromhex("2a864886f70d010101"): "an RSA key",  # pragma: allowlist secret (an OID)
    bytes.fromhex("2b6571"): "an Ed448 key",
    bytes.fromhex("2b656e"): "an X25519 key (key agreement, not signing)",
    bytes.fromhex("2b656f"): "an X448 key (key agreement, not signing)",
}
#: Order of the P-256 group (SEC 2 section 2.4.2): a private scalar d is 1 <= d < n.
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_KINDS_HINT = "EC P-256 (ES256) or Ed25519 (EdDSA); python -m smsverify keys generate makes one"


def _pem_der(name: str, text: str) -> bytes:
    """The DER bytes of a PEM ``PRIVATE KEY`` block; line breaks may be real, ``\\n`` or spaces."""
    match = _PEM.search(text.replace("\\n", "\n"))
    if match is None:
        raise ConfigError(name, f"must be a PEM private key (-----BEGIN PRIVATE KEY----- ...), {_KINDS_HINT}")  # pragma: allowlist secret (a message)
    label, body, end_label = match.groups()
    if label != end_label:
        raise ConfigError(name, "is a PEM block whose BEGIN and END labels differ")
    if label == "EC PRIVATE KEY":
        raise ConfigError(name, "is a SEC1 EC key: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in key.pem)")
    if label == "ENCRYPTED PRIVATE KEY":
        raise ConfigError(name, "is encrypted with a passphrase: give the unencrypted PKCS#8 key")
    if label != "PRIVATE KEY":
        raise ConfigError(name, f"must be a PKCS#8 PRIVATE KEY block, got {label!r}: {_KINDS_HINT}")
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(name, "has a PEM body that is not base64") from None


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """``(tag, contents, next position)`` of the DER element at ``pos``; ValueError when truncated."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 3 or pos + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, data[pos:pos + length], pos + length


def _children(contents: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(contents):
        tag, value, pos = _tlv(contents, pos)
        items.append((tag, value))
    return items


def _pkcs8_algorithm(name: str, der: bytes) -> str:
    """``ES256`` or ``EdDSA`` for a well-formed PKCS#8 P-256 or Ed25519 key; ConfigError otherwise."""
    try:
        tag, info, end = _tlv(der, 0)
        if tag != 0x30 or end != len(der):
            raise ValueError("not one SEQUENCE")
        items = _children(info)
        if len(items) < 3 or items[0] not in ((0x02, b"\x00"), (0x02, b"\x01")) or items[1][0] != 0x30 or items[2][0] != 0x04:
            raise ValueError("not a PrivateKeyInfo")
        algorithm = _children(items[1][1])
        if not algorithm or algorithm[0][0] != 0x06:
            raise ValueError("no algorithm identifier")
        oid, private = algorithm[0][1], items[2][1]
    except ValueError:
        raise ConfigError(name, f"is not a valid PKCS#8 private key: {_KINDS_HINT}") from None
    if oid == _OID_EC:
        if algorithm[1:2] != [(0x06, _OID_P256)]:
            raise ConfigError(name, f"is an EC key on another curve than P-256: {_KINDS_HINT}")
        try:
            tag, inner, end = _tlv(private, 0)
            fields = _children(inner) if tag == 0x30 and end == len(private) else []
        except ValueError:
            fields = []
        if len(fields) < 2 or fields[0] != (0x02, b"\x01") or fields[1][0] != 0x04 or len(fields[1][1]) != 32:
            raise ConfigError(name, "is not a valid P-256 private key (ECPrivateKey of RFC 5915)")
        if not 1 <= int.from_bytes(fields[1][1], "big") < _P256_ORDER:
            raise ConfigError(name, "holds a P-256 private scalar out of range")
        return ES256
    if oid == _OID_ED25519:
        if len(private) != 34 or private[:2] != b"\x04\x20":
            raise ConfigError(name, "is not a valid Ed25519 private key (RFC 8410)")
        return EDDSA
    kind = _OTHER_KINDS.get(oid, "a key of an unsupported algorithm")
    raise ConfigError(name, f"is {kind}: {_KINDS_HINT}")


# -- signing ----------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint (SHA-256, base64url) of a JWK: its required members, sorted, no spaces.

    Required members (RFC 7638 section 3.2, RFC 8037 section 2): EC ``crv kty x y``,
    OKP ``crv kty x``, oct ``k kty``.
    """
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "oct": ("k", "kty")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


@dataclass(frozen=True)
class _Key:
    """A loaded signing key: what PyJWT signs with, its ``kid`` and public JWK (``None`` for HS256)."""

    algorithm: str
    signing_key: Any = field(repr=False)
    kid: str
    public_jwk: dict[str, Any] | None


def _load_private(algorithm: str, der: bytes) -> _Key:
    from cryptography.hazmat.primitives.serialization import load_der_private_key
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm

    private = load_der_private_key(der, password=None)
    exporter = ECAlgorithm if algorithm == ES256 else OKPAlgorithm
    full = exporter.to_jwk(private.public_key(), as_dict=True)
    public = {name: full[name] for name in ("kty", "crv", "x", "y") if name in full}
    kid = jwk_thumbprint(public)
    return _Key(algorithm, private, kid, {**public, "kid": kid, "use": "sig", "alg": algorithm})


def _ephemeral_der() -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


class TokenIssuer:
    """Signs login tokens with the configured key.

    Parameters
    ----------
    config:
        From :meth:`TokenConfig.from_env`.
    clock:
        Unix time in seconds, for ``iat``; the service's clock.

    The key is loaded (and PyJWT imported) on the first :meth:`issue` or
    :meth:`jwks`, once, thread-safely.
    """

    def __init__(self, config: TokenConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: tuple[_Key, _Key | None] | None = None

    @property
    def algorithm(self) -> str:
        return self.config.algorithm

    def _loaded(self) -> tuple[_Key, _Key | None]:
        if self._keys is None:
            with self._lock:
                if self._keys is None:
                    self._keys = self._load()
        return self._keys

    def _load(self) -> tuple[_Key, _Key | None]:
        config = self.config
        if config.algorithm == HS256:
            assert config.secret is not None
            kid = jwk_thumbprint({"kty": "oct", "k": _b64url(config.secret)})
            return _Key(HS256, config.secret, kid, None), None
        der = config.private_key_der if config.private_key_der is not None else _ephemeral_der()
        current = _load_private(config.algorithm, der)
        previous = None
        if config.previous_key_der is not None and config.previous_algorithm is not None:
            previous = _load_private(config.previous_algorithm, config.previous_key_der)
        return current, previous

    @property
    def kid(self) -> str:
        """The ``kid`` of the signing key (RFC 7638 thumbprint)."""
        return self._loaded()[0].kid

    def issue(self, *, phone_e164: str, scene: str, extra_claims: Mapping[str, Any] | None = None) -> IssuedToken:
        """Sign a token saying the owner of ``phone_e164`` proved it by SMS for ``scene``.

        Parameters
        ----------
        phone_e164:
            The verified phone, E.164 (``+8613800138000``): ``sub`` and ``phone_number``.
        scene:
            The purpose the code was sent for (``login``, ``register`` ...).
        extra_claims:
            More claims (``openid``, ``unionid``); may not replace a claim of
            :data:`RESERVED_CLAIMS`.

        Returns
        -------
        IssuedToken
            The compact JWS, its life in seconds and its ``jti``.

        Raises
        ------
        ValueError
            A phone not in E.164, an empty scene, or a reserved extra claim
            (a caller's defect, not a client's input).
        """
        if not _E164.fullmatch(phone_e164 or ""):
            raise ValueError("phone_e164 must be an E.164 number such as +8613800138000")
        if not scene:
            raise ValueError("scene must be a non-empty string")
        extra = dict(extra_claims or {})
        clash = RESERVED_CLAIMS & extra.keys()
        if clash:
            raise ValueError(f"extra_claims may not set {sorted(clash)}")
        key, _ = self._loaded()
        import jwt

        iat = int(self.clock())
        ttl = self.config.ttl_seconds
        jti = _b64url(secrets.token_bytes(16))
        claims = {
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "sub": phone_e164,
            "phone_number": phone_e164,
            "phone_number_verified": True,
            "amr": ["sms"],
            "scene": scene,
            "iat": iat,
            "exp": iat + ttl,
            "jti": jti,
            **extra,
        }
        token = jwt.encode(claims, key.signing_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"})
        return IssuedToken(token=token, expires_in=ttl, jti=jti)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWK Set (RFC 7517): ``{"keys": [current, previous]}``, public members only.

        Each key has ``kty``, ``crv``, ``x`` (``y`` for EC), ``kid``, ``use: "sig"``, ``alg``.

        Raises
        ------
        NoPublicKey
            With ``HS256``: a shared secret is never published.
        """
        current, previous = self._loaded()
        if current.public_jwk is None:
            raise NoPublicKey("tokens are signed with TOKEN_SECRET (HS256): there is no public key")
        keys = [dict(current.public_jwk)]
        if previous is not None and previous.public_jwk is not None and previous.kid != current.kid:
            keys.append(dict(previous.public_jwk))
        return {"keys": keys}


# -- verifying --------------------------------------------------------------------------------

_jwks_clients: dict[str, Any] = {}
_jwks_lock = threading.Lock()
#: Seconds a fetched JWKS is trusted before it is fetched again (the function serves it with max-age=300).
JWKS_CACHE_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 5.0


def _jwks_client(url: str) -> Any:
    """One PyJWKClient per URL for the process (it caches the JWK Set)."""
    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            from jwt import PyJWKClient, PyJWKClientError

            try:
                client = PyJWKClient(url, cache_jwk_set=True, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_TIMEOUT_SECONDS)
            except PyJWKClientError as exc:
                raise ValueError(f"jwks_url: {exc}") from None
            _jwks_clients[url] = client
        return client


def _public_key(key: Any) -> tuple[Any, str]:
    """``(public key object, the one algorithm it allows)`` for a PEM, a JWK dict or a cryptography key.

    Raises ValueError for a key that is not EC P-256 or Ed25519 (an ``oct``
    JWK included: a shared secret goes in ``secret=``).
    """
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

    if isinstance(key, Mapping):
        from jwt.algorithms import ECAlgorithm, OKPAlgorithm

        kty = key.get("kty")
        if kty == "EC":
            key = ECAlgorithm.from_jwk(dict(key))
        elif kty == "OKP":
            key = OKPAlgorithm.from_jwk(dict(key))
        else:
            raise ValueError(f"key: a JWK of kty {kty!r} cannot verify (a shared secret goes in secret=)")
    elif isinstance(key, (str, bytes)):
        data = key.encode("utf-8") if isinstance(key, str) else key
        try:
            key = load_pem_private_key(data, None) if b"PRIVATE KEY-----" in data else load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"key: not a PEM public or private key ({exc})") from None
    if isinstance(key, (ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)):
        key = key.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return key, ES256
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, EDDSA
    raise ValueError("key: only EC P-256 (ES256) and Ed25519 (EdDSA) public keys are accepted")


def verify_token(
    token: str,
    *,
    audience: str,
    issuer: str,
    jwks_url: str | None = None,
    key: Any = None,
    secret: str | bytes | None = None,
    scene: str | None = None,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Verify a login token and return its claims.

    Give exactly one of ``jwks_url`` (the function's
    ``/.well-known/jwks.json``; fetched with PyJWT's ``PyJWKClient``, cached
    :data:`JWKS_CACHE_SECONDS` per URL for the process), ``key`` (a public
    or private PEM, a public JWK dict or a ``cryptography`` key, EC P-256 or
    Ed25519) or ``secret`` (the ``TOKEN_SECRET``). The accepted algorithm is
    the one the key allows (``ES256``, ``EdDSA`` or ``HS256``), whatever the
    token's header says (RFC 8725 section 3.1).

    Parameters
    ----------
    audience, issuer:
        Expected ``aud`` and ``iss`` (``TOKEN_AUDIENCE``, ``TOKEN_ISSUER``).
    scene:
        When given, the token's ``scene`` must equal it (a ``register``
        token is refused on a password-reset endpoint).
    leeway_seconds:
        Clock skew tolerated on ``exp`` and ``iat``, seconds.

    Returns
    -------
    dict
        The claims: ``iss aud sub phone_number phone_number_verified amr
        scene iat exp jti`` (+ ``openid``, ``unionid``).

    Raises
    ------
    TokenInvalid
        ``.reason`` in ``malformed``, ``algorithm``, ``signature``,
        ``expired``, ``not_yet_valid``, ``audience``, ``issuer``,
        ``missing_claim``, ``scene``, ``jwks_unavailable``.
    ValueError
        Not exactly one of ``jwks_url``, ``key``, ``secret``, or an unusable one.
    """
    if sum(source is not None for source in (jwks_url, key, secret)) != 1:
        raise ValueError("give exactly one of jwks_url, key, secret")
    import jwt

    if isinstance(token, bytes):
        token = token.decode("ascii", "replace")
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenInvalid("malformed", "not a compact JWS (three dot-separated parts)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenInvalid("malformed", f"unreadable header ({exc})") from None
    alg = header.get("alg")
    if secret is not None:
        verifying_key: Any = secret.encode("utf-8") if isinstance(secret, str) else secret
        allowed = HS256
    elif key is not None:
        verifying_key, allowed = _public_key(key)
    else:
        if alg not in (ES256, EDDSA):
            raise TokenInvalid("algorithm", f"alg {alg!r} cannot be verified with a JWKS (ES256 or EdDSA)")
        verifying_key, allowed = _jwks_key(jwks_url, header.get("kid"))
    if alg != allowed:
        raise TokenInvalid("algorithm", f"alg {alg!r} where the key allows only {allowed}")
    try:
        claims = jwt.decode(
            token,
            verifying_key,
            algorithms=[allowed],
            audience=audience,
            issuer=issuer,
            leeway=leeway_seconds,
            options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"], "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(_reason(exc), str(exc)) from None
    if scene is not None and claims.get("scene") != scene:
        raise TokenInvalid("scene", f"scene {claims.get('scene')!r} where {scene!r} is required")
    return claims


def _jwks_key(url: str, kid: Any) -> tuple[Any, str]:
    import jwt

    client = _jwks_client(url)
    try:
        client.get_jwk_set()
    except jwt.PyJWTError as exc:
        raise TokenInvalid("jwks_unavailable", f"JWKS not fetched: {exc}") from None
    if not isinstance(kid, str):
        raise TokenInvalid("signature", "the token names no kid")
    try:
        found = client.get_signing_key(kid)
    except jwt.PyJWKClientConnectionError as exc:
        raise TokenInvalid("jwks_unavailable", f"JWKS not fetched: {exc}") from None
    except jwt.PyJWTError:
        raise TokenInvalid("signature", "no key of the JWKS has this kid") from None
    try:
        return _public_key(found.key)
    except ValueError:
        raise TokenInvalid("algorithm", "the JWKS key with this kid is neither EC P-256 nor Ed25519") from None


def _reason(exc: Exception) -> str:
    import jwt

    for kind, reason in (
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.ImmatureSignatureError, "not_yet_valid"),
        (jwt.InvalidAudienceError, "audience"),
        (jwt.InvalidIssuerError, "issuer"),
        (jwt.InvalidSignatureError, "signature"),
        (jwt.InvalidAlgorithmError, "algorithm"),
        (jwt.MissingRequiredClaimError, "missing_claim"),
    ):
        if isinstance(exc, kind):
            return reason
    return "malformed"


def redeem(
    claims: Mapping[str, Any],
    redis_client: Any,
    *,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
    key_prefix: str = REDEEM_PREFIX,
    clock: Callable[[], float] = time.time,
) -> bool:
    """Record a verified token's ``jti`` so it is used once: ``True`` the first time, ``False`` after.

    One ``SET key 1 NX EX seconds`` (one round trip, atomic; works on a
    single node and a cluster), kept until ``exp`` + ``leeway_seconds``,
    as long as :func:`verify_token` would still accept the token.

    Parameters
    ----------
    claims:
        From :func:`verify_token` (``jti`` and ``exp`` are read).
    redis_client:
        A redis-py client (``redis.Redis`` or ``redis.RedisCluster``).

    Raises
    ------
    TokenInvalid
        ``expired`` when ``exp`` + leeway has passed, ``missing_claim``
        without ``jti`` or ``exp``.
    """
    jti, exp = claims.get("jti"), claims.get("exp")
    if not isinstance(jti, str) or not jti or not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise TokenInvalid("missing_claim", "redeem needs the jti and exp claims")
    seconds = math.ceil(exp + leeway_seconds - clock())
    if seconds <= 0:
        raise TokenInvalid("expired", "the token expired before it was redeemed")
    return bool(redis_client.set(key_prefix + jti, b"1", nx=True, ex=seconds))
