"""Settings of the HTTP edge, read once per container.

``ALLOWED_ORIGINS``: a comma list of exact browser origins (``scheme://host[:port]``,
as the ``Origin`` header spells them, RFC 6454) allowed to call the function
from a web page (CORS, https://fetch.spec.whatwg.org/#http-cors-protocol).
Unset or empty: no CORS headers at all, and an ``Origin`` header is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from smsverify.errors import ConfigError

#: Methods and request headers a preflight allows.
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Content-Type"
#: How long a browser may cache a preflight answer, in seconds.
CORS_MAX_AGE_SECONDS = 600


def _origin_problem(text: str) -> str | None:
    """What is wrong with ``text`` as an origin as browsers send it, or ``None``."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{text!r} is not an origin like https://example.com"
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return f"{text!r} has more than scheme://host[:port] (no path, no trailing slash)"
    try:
        parts.port
    except ValueError:
        return f"{text!r} has an invalid port"
    if text != text.lower():
        return f"{text!r} must be lower case, as browsers send the Origin header"
    return None


@dataclass(frozen=True)
class EdgeSettings:
    """What the edge reads from the environment.

    Attributes
    ----------
    allowed_origins:
        Exact origins allowed by CORS; empty = CORS off.
    """

    allowed_origins: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EdgeSettings:
        """Read ``ALLOWED_ORIGINS``.

        Raises
        ------
        ConfigError
            An entry is not ``scheme://host[:port]`` (``*`` included: list the
            origins); its ``problem`` names every bad entry, joined by ``"; "``.
        """
        raw = env.get("ALLOWED_ORIGINS", "")
        origins = [item.strip() for item in raw.split(",") if item.strip()]
        problems = [problem for problem in map(_origin_problem, origins) if problem is not None]
        if problems:
            raise ConfigError("ALLOWED_ORIGINS", "; ".join(problems))
        return cls(allowed_origins=frozenset(origins))
