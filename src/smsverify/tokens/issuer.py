"""The signed login token: its configuration, issuing it, and the JWKS that publishes its keys.

After a right code, ``login`` answers a compact JWS (RFC 7515) carrying a JWT
(RFC 7519) that a backend verifies with any stock JOSE library:

- header: ``alg`` (``ES256``, ``EdDSA`` or ``HS256``), ``typ: "JWT"``, ``kid`` =
  the RFC 7638 JWK thumbprint of the signing key (for HS256, of the secret's
  ``oct`` JWK, so a rotation shows);
- claims: ``iss``, ``aud``, ``sub`` and ``phone_number`` (E.164),
  ``phone_number_verified: true`` (OpenID Connect Core 1.0 section 5.1),
  ``amr`` (RFC 8176; ``["sms"]`` by default), ``scene``, ``iat``, ``exp``
  (= ``iat`` + TTL), ``jti`` (128 random bits, base64url), plus the caller's
  extra claims (``openid`` / ``unionid`` with WeChat binding).

Keys (:meth:`TokenConfig.from_env`): ``TOKEN_PRIVATE_KEY``, a PEM private
key, EC P-256 (``ES256``, RFC 7518 section 3.4) or Ed25519 (``EdDSA``,
RFC 8037), loaded by ``cryptography`` (:mod:`smsverify.tokens.keys`); or
``TOKEN_SECRET``, >= 32 bytes (``HS256``, RFC 7518 section 3.2).
``TOKEN_PRIVATE_KEY_PREVIOUS`` only adds its public key to the JWKS
(RFC 7517), so tokens signed just before a rotation keep verifying.

Cold start: importing this module imports neither PyJWT nor
``cryptography``. Reading a ``TOKEN_PRIVATE_KEY`` loads it with
``cryptography`` at start-up, so a bad key fails the start and not a login;
``TOKEN_SECRET`` and the local ephemeral key need neither library until the
first :meth:`TokenIssuer.issue` or :meth:`TokenIssuer.jwks`, which imports
PyJWT (and makes the ephemeral key).
"""

from __future__ import annotations

import importlib.util
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from smsverify.settings.env import note
from smsverify.errors import ConfigError
from smsverify.settings.secret_strength import weak_secret_reason
from smsverify.tokens.keys import ES256, HS256, SigningKey, b64url, generate, load_private_key, secret_key

DEFAULT_TTL_SECONDS = 300
MIN_TTL_SECONDS = 30
MAX_TTL_SECONDS = 3600
#: ``iss`` and ``aud`` outside SCF when ``TOKEN_ISSUER`` / ``TOKEN_AUDIENCE`` are unset.
LOCAL_ISSUER = "smsverify-local"
LOCAL_AUDIENCE = "smsverify-local"
#: Claims the issuer sets itself; ``extra_claims`` may not replace them.
RESERVED_CLAIMS = frozenset(
    {"iss", "aud", "sub", "phone_number", "phone_number_verified", "amr", "scene", "iat", "exp", "nbf", "jti"}
)
#: ``amr`` of a login proved by an SMS code (RFC 8176 section 2: "sms").
DEFAULT_AMR = ("sms",)

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_AMR_VALUE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class NoPublicKey(Exception):
    """The token is signed with a shared secret (HS256): there is no public key to publish."""


@dataclass(frozen=True)
class IssuedToken:
    """A token made by :meth:`TokenIssuer.issue`."""

    token: str = field(repr=False)  #: the compact JWS
    expires_in: int  #: seconds until ``exp``
    jti: str  #: the token's id (safe to log)


@dataclass(frozen=True)
class TokenConfig:
    """How tokens are signed, validated once at start-up by :meth:`from_env`.

    ``signing_key`` is the loaded key (``cryptography`` private key, or the
    HS256 secret); ``None`` only for the ephemeral local key (``ephemeral``),
    made by the issuer on first use.
    """

    algorithm: str
    issuer: str
    audience: str
    ttl_seconds: int
    signing_key: SigningKey | None = field(default=None, repr=False)
    previous_key: SigningKey | None = field(default=None, repr=False)
    ephemeral: bool = False
    #: Local fallbacks taken, one sentence each, for the caller to print once on stderr.
    notices: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, in_scf: bool) -> "TokenConfig":
        """Read and validate the ``TOKEN_*`` variables.

        Variables: ``TOKEN_PRIVATE_KEY`` (PEM, PKCS#8 or SEC1, EC P-256 or
        Ed25519) or ``TOKEN_SECRET`` (>= 32 bytes, random-looking), exactly
        one inside SCF; ``TOKEN_PRIVATE_KEY_PREVIOUS`` (optional, public part
        published only); ``TOKEN_ISSUER``, ``TOKEN_AUDIENCE`` (required inside
        SCF, else ``smsverify-local``); ``TOKEN_TTL_SECONDS`` [300], 30 to 3600.
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
        from smsverify.settings.env import EnvReader

        reader = EnvReader(env)  # every bad TOKEN_* variable in one ConfigError
        notices: list[str] = []
        pem = reader.text("TOKEN_PRIVATE_KEY", strip_spaces=True)
        secret = reader.text("TOKEN_SECRET")
        algorithm, key, ephemeral = reader.attempt(
            lambda: _signing_key(pem, secret, in_scf, notices), (ES256, None, False)
        )
        previous = None
        previous_pem = reader.text("TOKEN_PRIVATE_KEY_PREVIOUS", strip_spaces=True)
        if previous_pem is not None:
            if pem is None:
                reader.problem("TOKEN_PRIVATE_KEY_PREVIOUS", "needs TOKEN_PRIVATE_KEY (the key that replaced it)")
            else:
                previous = reader.attempt(lambda: load_private_key("TOKEN_PRIVATE_KEY_PREVIOUS", previous_pem))
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
            signing_key=key,
            previous_key=previous,
            ephemeral=ephemeral,
            notices=tuple(notices),
        )


def _signing_key(pem: str | None, secret: str | None, in_scf: bool, notices: list[str]) -> tuple[str, SigningKey | None, bool]:
    """``(algorithm, key or None, ephemeral)`` from ``TOKEN_PRIVATE_KEY`` / ``TOKEN_SECRET``; raises ConfigError."""
    if pem is not None and secret is not None:
        raise ConfigError("TOKEN_PRIVATE_KEY / TOKEN_SECRET", "set exactly one of the two, not both")
    if pem is not None:
        _require_libraries(ES256, "TOKEN_PRIVATE_KEY", ("cryptography",))
        key = load_private_key("TOKEN_PRIVATE_KEY", pem)
        return key.algorithm, key, False
    if secret is not None:
        reason = weak_secret_reason(secret)
        if reason is not None:
            raise ConfigError("TOKEN_SECRET", f"{reason} (python -m smsverify keys generate --kind secret)")
        return HS256, secret_key(secret.encode("utf-8")), False
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


def _require_libraries(algorithm: str, variable: str, needed: tuple[str, ...] | None = None) -> None:
    """Fail at start-up, not at the first login, when a signing library is not deployed.

    ``find_spec`` locates a package without importing it (no cold-start cost).
    """
    if needed is None:
        needed = ("jwt",) + (() if algorithm == HS256 else ("cryptography",))
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        names = {"jwt": "PyJWT", "cryptography": "cryptography"}
        raise ConfigError(variable, f"{algorithm} signing needs {' and '.join(names[m] for m in missing)}, missing here")


class TokenIssuer:
    """Signs login tokens with the configured key.

    Parameters
    ----------
    config:
        From :meth:`TokenConfig.from_env`.
    clock:
        Unix time in seconds, for ``iat``; the service's clock.

    PyJWT is imported on the first :meth:`issue`; the ephemeral local key is
    made on the first :meth:`issue` or :meth:`jwks`, once, thread-safely.
    """

    def __init__(self, config: TokenConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._key: SigningKey | None = config.signing_key

    @property
    def algorithm(self) -> str:
        return self.config.algorithm

    def _current(self) -> SigningKey:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = generate("ec")
        return self._key

    @property
    def kid(self) -> str:
        """The ``kid`` of the signing key (RFC 7638 thumbprint)."""
        return self._current().kid

    def issue(
        self,
        *,
        phone_e164: str,
        scene: str,
        amr: tuple[str, ...] = DEFAULT_AMR,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> IssuedToken:
        """Sign a token saying the owner of ``phone_e164`` proved it for ``scene`` by the methods ``amr``.

        Parameters
        ----------
        phone_e164:
            The verified phone, E.164 (``+8613800138000``): ``sub`` and ``phone_number``.
        scene:
            The purpose the code was sent for (``login``, ``register`` ...).
        amr:
            Authentication Method Reference values (RFC 8176), in order:
            ``("sms",)`` by default; a test number signs ``("sms", "test")``
            so a backend can tell. Lower-case names of at most 32 characters.
        extra_claims:
            More claims (``openid``, ``unionid``); may not replace a claim of
            :data:`RESERVED_CLAIMS`.

        Returns
        -------
        IssuedToken
            The compact JWS, its life in seconds (``TOKEN_TTL_SECONDS``) and its ``jti``.

        Raises
        ------
        ValueError
            A phone not in E.164, an empty scene, an empty or malformed
            ``amr``, or a reserved extra claim (a caller's defect, not a
            client's input).
        """
        if not _E164.fullmatch(phone_e164 or ""):
            raise ValueError("phone_e164 must be an E.164 number such as +8613800138000")
        if not scene:
            raise ValueError("scene must be a non-empty string")
        if isinstance(amr, str) or not amr or not all(isinstance(m, str) and _AMR_VALUE.fullmatch(m) for m in amr):
            raise ValueError("amr must be a non-empty tuple of lower-case method names such as ('sms',)")
        extra = dict(extra_claims or {})
        clash = RESERVED_CLAIMS & extra.keys()
        if clash:
            raise ValueError(f"extra_claims may not set {sorted(clash)}")
        key = self._current()
        import jwt

        iat = int(self.clock())
        ttl = self.config.ttl_seconds
        jti = b64url(secrets.token_bytes(16))
        claims = {
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "sub": phone_e164,
            "phone_number": phone_e164,
            "phone_number_verified": True,
            "amr": list(amr),
            "scene": scene,
            "iat": iat,
            "exp": iat + ttl,
            "jti": jti,
            **extra,
        }
        token = jwt.encode(claims, key.key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "JWT"})
        return IssuedToken(token=token, expires_in=ttl, jti=jti)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWK Set (RFC 7517): ``{"keys": [current, previous]}``, public members only.

        Each key has ``kty``, ``crv``, ``x`` (``y`` for EC), ``kid``, ``use: "sig"``, ``alg``.

        Raises
        ------
        NoPublicKey
            With ``HS256``: a shared secret is never published.
        """
        current, previous = self._current(), self.config.previous_key
        if current.public_jwk is None:
            raise NoPublicKey("tokens are signed with TOKEN_SECRET (HS256): there is no public key")
        keys = [dict(current.public_jwk)]
        if previous is not None and previous.public_jwk is not None and previous.kid != current.kid:
            keys.append(dict(previous.public_jwk))
        return {"keys": keys}
