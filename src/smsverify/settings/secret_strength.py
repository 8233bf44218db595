"""Is a shared secret strong enough to key an HMAC? A start-up check for
``CODE_SECRET``, ``CODE_SECRET_PREVIOUS``, ``TOKEN_SECRET`` and any other
secret the function is given.

It cannot measure randomness; it refuses the values people type instead of
generating them: too short (RFC 7518 section 3.2 asks for an HS256 key of at
least the hash size, 256 bits, and RFC 2104 section 3 discourages HMAC keys
shorter than the hash output), a tiny alphabet, a short unit repeated
(``"password" * 4``), runs of consecutive characters (``"0123456789abcdef"``),
or too little estimated entropy. The output of
``python -m smsverify keys generate --kind secret``, ``openssl rand -hex 32``
or ``secrets.token_urlsafe(32)`` passes. The value is measured as bytes
(text as its UTF-8 encoding).
"""

from __future__ import annotations

import math
from collections import Counter

#: Shortest accepted secret, in bytes (RFC 7518 section 3.2 for HS256).
MIN_SECRET_BYTES = 32
#: Fewest distinct bytes accepted (32 random hex digits use about 14, and
#: fewer than 8 in none of 200,000 samples).
MIN_DISTINCT = 8
#: Consecutive bytes (a, b, c or 3, 2, 1) allowed in one run; random text rarely has 4.
MAX_SEQUENTIAL_RUN = 6
#: Least estimated entropy accepted for a secret of MIN_SECRET_BYTES, in bits
#: (Shannon entropy of the byte frequencies times the length; 32 random hex
#: digits give about 117, and never under 90 in 200,000 samples); a smaller
#: ``min_bytes`` scales it down.
MIN_BITS = 88
#: The command that makes a good secret, quoted in every refusal.
GENERATE_COMMAND = "python -m smsverify keys generate --kind secret"


def generate_command(variable: str | None = None) -> str:
    """The command that prints a good secret, as a ``NAME=value`` line for ``variable`` when given."""
    return GENERATE_COMMAND if variable is None else f"{GENERATE_COMMAND} --var {variable}"


def weak_secret_reason(value: bytes | str, *, min_bytes: int = MIN_SECRET_BYTES, variable: str | None = None) -> str | None:
    """Why ``value`` is too weak to be an HMAC key, or ``None`` when it passes.

    Parameters
    ----------
    value:
        The secret as configured; text is measured as its UTF-8 bytes.
    min_bytes:
        Minimum length in bytes (default 32).
    variable:
        The environment variable that holds it, e.g. ``"CODE_SECRET"``: the
        command quoted then prints that name (:func:`generate_command`).

    Returns
    -------
    A short English phrase to follow the variable's name in an error
    (``"must be at least 32 bytes, got 12; generate one with ..."``), ending
    with the command that makes a good secret, or ``None``. The phrase never
    quotes the value.
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    reason = _weakness(data, min_bytes)
    return None if reason is None else f"{reason}; generate one with `{generate_command(variable)}`"


def _weakness(data: bytes, min_bytes: int) -> str | None:
    if len(data) < min_bytes:
        return f"must be at least {min_bytes} bytes, got {len(data)}"
    counts = Counter(data)
    period = _period(data)
    if period is not None and period > 2:  # a unit of one or two characters is said as a tiny alphabet
        return f"repeats a {period}-character pattern"
    if len(counts) < MIN_DISTINCT:
        return f"uses only {len(counts)} distinct characters"
    run = _longest_sequential_run(data)
    if run > MAX_SEQUENTIAL_RUN:
        return f"contains a run of {run} consecutive characters"
    bits = -sum(n * math.log2(n / len(data)) for n in counts.values())
    needed = math.ceil(MIN_BITS * min_bytes / MIN_SECRET_BYTES)
    if bits < needed:
        return f"carries about {bits:.0f} bits of entropy, at least {needed} are needed"
    return None


def _period(data: bytes) -> int | None:
    """The smallest unit whose repetition makes ``data`` (a tail may be cut short), if it repeats at least twice."""
    for unit in range(1, len(data) // 2 + 1):
        if all(data[i] == data[i - unit] for i in range(unit, len(data))):
            return unit
    return None


def _longest_sequential_run(data: bytes) -> int:
    """Length of the longest run whose neighbours differ by exactly +1 (or exactly -1)."""
    best = run = 1
    step = 0
    for previous, current in zip(data, data[1:]):
        delta = current - previous
        if delta in (1, -1) and (run == 1 or delta == step):
            run += 1
            step = delta
        elif delta in (1, -1):
            run, step = 2, delta
        else:
            run, step = 1, 0
        best = max(best, run)
    return best
