"""Signed login tokens: issuing (:mod:`.issuer`), keys (:mod:`.keys`), verifying (:mod:`.verifier`, :mod:`.jwks`, :mod:`.errors`), CLI (:mod:`.cli`).

The names below are importable from here; each loads its module on first
access (PEP 562), so ``import smsverify.tokens`` costs nothing and imports
neither PyJWT nor ``cryptography``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "TokenConfig": "issuer",
    "TokenIssuer": "issuer",
    "IssuedToken": "issuer",
    "NoPublicKey": "issuer",
    "DEFAULT_TTL_SECONDS": "issuer",
    "TokenInvalid": "errors",
    "verify_token": "verifier",
    "redeem": "verifier",
    "DEFAULT_LEEWAY_SECONDS": "verifier",
    "ES256": "keys",
    "EDDSA": "keys",
    "HS256": "keys",
    "jwk_thumbprint": "keys",
    "JwksKeys": "jwks",
}

__all__ = sorted(_HOMES)

if TYPE_CHECKING:  # for type checkers; at run time __getattr__ below loads them
    from smsverify.tokens.issuer import DEFAULT_TTL_SECONDS, IssuedToken, NoPublicKey, TokenConfig, TokenIssuer  # noqa: F401
    from smsverify.tokens.jwks import JwksKeys  # noqa: F401
    from smsverify.tokens.keys import EDDSA, ES256, HS256, jwk_thumbprint  # noqa: F401
    from smsverify.tokens.errors import TokenInvalid  # noqa: F401
    from smsverify.tokens.verifier import DEFAULT_LEEWAY_SECONDS, redeem, verify_token  # noqa: F401


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
