"""The backend side of the login token: :func:`verify_token` and :func:`redeem`.

The rules (RFC 8725, JWT Best Current Practices):

- the accepted algorithm is the one the verifying key allows (``ES256`` for
  EC P-256, ``EdDSA`` for Ed25519, ``HS256`` for a shared secret), whatever
  the token's header says; ``alg: none`` and HMAC keyed by a public key are
  refused;
- ``iss``, ``aud``, ``exp``, ``iat``, ``sub`` and ``jti`` are required and
  checked (``exp`` with a leeway for clock skew);
- the ``scene`` claim must be the scene the endpoint serves: ``login``
  unless the caller names another (a ``register`` token is refused where a
  login is expected);
- with a ``jwks_url``, the key is the JWK Set's key of the token's ``kid``,
  fetched within limits (https only, no redirects, bounded size, bounded
  refetches for unknown ``kid`` values: :mod:`smsverify.tokens.jwks`).

Importing this module imports neither PyJWT nor ``cryptography``; a call does.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, Mapping

from smsverify.tokens.errors import TokenInvalid
from smsverify.tokens.keys import EDDSA, ES256, HS256, verifying_key

#: Clock skew tolerated by :func:`verify_token` and kept by :func:`redeem`, in seconds.
DEFAULT_LEEWAY_SECONDS = 30
#: The scene :func:`verify_token` requires unless told another.
DEFAULT_SCENE = "login"
#: Redis key prefix of :func:`redeem`.
REDEEM_PREFIX = "smsverify:jti:"


def verify_token(
    token: str,
    *,
    audience: str,
    issuer: str,
    scene: str | Iterable[str] = DEFAULT_SCENE,
    jwks_url: str | None = None,
    jwks: Any = None,
    key: Any = None,
    secret: str | bytes | None = None,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """Verify a login token and return its claims.

    Give exactly one key source:

    - ``jwks_url``: the function's ``/.well-known/jwks.json``, ``https``
      (``http`` only to 127.0.0.1 / localhost / ::1 for local runs); one
      cached :class:`smsverify.tokens.jwks.JwksKeys` per URL for the process
      (key set kept 300 s, refetched for an unknown ``kid`` at most once per
      30 s, no redirects, at most 64 KiB read);
    - ``jwks``: a :class:`smsverify.tokens.jwks.JwksKeys` of your own (other
      limits, an ``ssl_context``);
    - ``key``: a public or private PEM, a public JWK dict or a
      ``cryptography`` key, EC P-256 or Ed25519;
    - ``secret``: the ``TOKEN_SECRET`` (HS256).

    Parameters
    ----------
    audience, issuer:
        Expected ``aud`` and ``iss`` (``TOKEN_AUDIENCE``, ``TOKEN_ISSUER``).
    scene:
        The scene this endpoint accepts (``login`` by default), or several
        (``("login", "register")``); a token of any other scene, or of none,
        is refused with ``scene``.
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
        Not exactly one key source, an unusable key, a ``jwks_url`` that is
        not ``https`` (or local ``http``), or no scene.
    """
    if sum(source is not None for source in (jwks_url, jwks, key, secret)) != 1:
        raise ValueError("give exactly one of jwks_url, jwks, key, secret")
    try:
        scenes = (scene,) if isinstance(scene, str) else tuple(scene)
    except TypeError:
        scenes = ()
    if not scenes or not all(isinstance(s, str) and s for s in scenes):
        raise ValueError("scene must name the scene (or scenes) this endpoint accepts, such as 'login'")
    if jwks_url is not None:
        from smsverify.tokens.jwks import keys_at

        jwks = keys_at(jwks_url)  # ValueError for a refused URL, before the token is read
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
        verifying: Any = secret.encode("utf-8") if isinstance(secret, str) else secret
        allowed = HS256
    elif key is not None:
        verifying, allowed = verifying_key(key)
    else:
        if alg not in (ES256, EDDSA):
            raise TokenInvalid("algorithm", f"alg {alg!r} cannot be verified with a JWKS (ES256 or EdDSA)")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise TokenInvalid("signature", "the token names no kid")
        try:
            verifying, allowed = verifying_key(jwks.key_for(kid).key)
        except ValueError:
            raise TokenInvalid("algorithm", "the JWKS key with this kid is neither EC P-256 nor Ed25519") from None
    if alg != allowed:
        raise TokenInvalid("algorithm", f"alg {alg!r} where the key allows only {allowed}")
    try:
        claims = jwt.decode(
            token,
            verifying,
            algorithms=[allowed],
            audience=audience,
            issuer=issuer,
            leeway=leeway_seconds,
            options={"require": ["iss", "aud", "sub", "iat", "exp", "jti"], "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        raise TokenInvalid(_reason(exc), str(exc)) from None
    if claims.get("scene") not in scenes:
        wanted = scenes[0] if len(scenes) == 1 else list(scenes)
        raise TokenInvalid("scene", f"scene {claims.get('scene')!r} where {wanted!r} is required")
    return claims


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
