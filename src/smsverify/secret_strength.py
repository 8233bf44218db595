"""Is an HMAC secret strong enough? A start-up check for ``CODE_SECRET`` and
every other shared secret the function is given.

A secret must be at least :data:`MIN_BYTES` bytes (the SHA-256 block's
security level, RFC 2104 section 3: keys shorter than the hash output are
discouraged) and must not look typed by hand: one character repeated, a short
pattern repeated, a run of consecutive characters (``0123…``, ``abcd…``) or a
tiny alphabet. The estimate is deliberately simple; it rejects the secrets a
person types, and accepts the output of ``secrets.token_urlsafe(32)`` or
``openssl rand -hex 32``.
"""

from __future__ import annotations

import math
from collections import Counter

#: Shortest accepted secret, in bytes (UTF-8).
MIN_BYTES = 32
#: Fewest distinct characters accepted.
MIN_DISTINCT = 10
#: Least estimated entropy accepted, in bits (Shannon entropy of the
#: character frequencies times the length).
MIN_BITS = 100
#: The command that makes a good secret, quoted in every refusal.
GENERATE_COMMAND = "python -m smsverify keys generate --kind secret"


def weak_secret_reason(value: str | bytes) -> str | None:
    """Why ``value`` is too weak to be an HMAC secret, or ``None`` if it is fine.

    The reason is a short English phrase meant to follow the variable's name,
    ending with the command that makes a good secret; it never quotes the value.
    """
    raw = value.encode("utf-8") if isinstance(value, str) else value
    text = raw.decode("utf-8", errors="replace")
    reason = _weakness(raw, text)
    if reason is None:
        return None
    return f"{reason}; generate one with `{GENERATE_COMMAND}`"


def _weakness(raw: bytes, text: str) -> str | None:
    if len(raw) < MIN_BYTES:
        return f"is {len(raw)} bytes long, at least {MIN_BYTES} are needed"
    counts = Counter(text)
    if len(counts) < MIN_DISTINCT:
        return f"uses only {len(counts)} distinct characters"
    period = _period(text)
    if period <= len(text) // 2:
        return f"repeats a pattern of {period} characters"
    steps = [ord(b) - ord(a) for a, b in zip(text, text[1:])]
    if sum(1 for s in steps if s in (1, -1)) * 2 >= len(steps):
        return "is mostly runs of consecutive characters"
    bits = -sum(n * math.log2(n / len(text)) for n in counts.values())
    if bits < MIN_BITS:
        return f"carries about {bits:.0f} bits of entropy, at least {MIN_BITS} are needed"
    return None


def _period(text: str) -> int:
    """The shortest p such that ``text`` is a prefix of its first p characters repeated."""
    for p in range(1, len(text) // 2 + 1):
        if all(text[i] == text[i % p] for i in range(p, len(text))):
            return p
    return len(text)
