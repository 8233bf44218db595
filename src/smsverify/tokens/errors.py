"""The one exception of token verification, apart so that :mod:`smsverify.tokens.verifier`
and :mod:`smsverify.tokens.jwks` (which the verifier loads on demand) both raise it
without importing each other."""

from __future__ import annotations


class TokenInvalid(Exception):
    """A token refused by :func:`smsverify.tokens.verifier.verify_token` (or ``redeem``).

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
