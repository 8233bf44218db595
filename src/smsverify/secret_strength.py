"""A start-up check that a configured secret looks random enough to key an HMAC.

Used for ``TOKEN_SECRET`` (HS256 token signing, RFC 7518 section 3.2 asks for
a key of at least the hash size, 256 bits) and reusable for any other HMAC key
read from the environment. It cannot measure randomness; it refuses the
values people type instead of generating: too short, one or a few characters
repeated, a short unit repeated (``"password" * 4``), runs of consecutive
characters (``"0123456789abcdef..."``).

A value from ``python -m smsverify keys generate --kind secret``,
``openssl rand -base64 32`` or ``secrets.token_urlsafe(32)`` passes.
"""

from __future__ import annotations

#: RFC 7518 section 3.2: an HS256 key must be at least 256 bits.
MIN_SECRET_BYTES = 32
#: Fewer distinct characters than this is a tiny alphabet (32 random hex digits use ~14).
MIN_DISTINCT = 8
#: Consecutive characters (a, b, c or 3, 2, 1) allowed in one run; random text rarely has 4.
MAX_SEQUENTIAL_RUN = 6


def weak_secret_reason(value: bytes | str, *, min_bytes: int = MIN_SECRET_BYTES) -> str | None:
    """Why ``value`` is too weak to be an HMAC key, or ``None`` when it passes.

    Parameters
    ----------
    value:
        The secret as configured; text is measured as its UTF-8 bytes.
    min_bytes:
        Minimum length in bytes (default 32, RFC 7518 section 3.2 for HS256).

    Returns
    -------
    A short English phrase to follow the variable's name in an error
    (``"must be at least 32 bytes, got 12"``), or ``None``. The phrase never
    quotes the value.
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(data) < min_bytes:
        return f"must be at least {min_bytes} bytes, got {len(data)}"
    distinct = len(set(data))
    if distinct < MIN_DISTINCT:
        return f"uses only {distinct} distinct characters: generate a random value instead"
    period = _period(data)
    if period is not None:
        return f"repeats a {period}-character pattern: generate a random value instead"
    run = _longest_sequential_run(data)
    if run > MAX_SEQUENTIAL_RUN:
        return f"contains a run of {run} consecutive characters: generate a random value instead"
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
