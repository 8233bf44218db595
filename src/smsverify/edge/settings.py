"""Settings of the HTTP edge, read once per container.

``ALLOWED_ORIGINS``: a comma list of exact browser origins (``scheme://host[:port]``,
as the ``Origin`` header spells them, RFC 6454) allowed to call the function
from a web page (CORS, https://fetch.spec.whatwg.org/#http-cors-protocol).
Unset or empty: no CORS headers at all, and an ``Origin`` header is not checked.

``DEFAULT_LANGUAGE`` [zh-CN]: the language of ``msg`` when a request names none
(no usable ``lang`` parameter or ``Accept-Language`` header,
:func:`smsverify.edge.messages.choose`): ``zh-CN`` or ``en`` (``zh``, ``en-US``
and the other spellings ``lang`` accepts are read as these two).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

from smsverify.edge.messages import DEFAULT_LANGUAGE, LANGUAGES, normalise
from smsverify.settings.env import note
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
    default_language:
        ``"zh-CN"`` or ``"en"``: the language of ``msg`` when the request names none.
    """

    allowed_origins: frozenset[str] = frozenset()
    default_language: str = DEFAULT_LANGUAGE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EdgeSettings:
        """Read ``ALLOWED_ORIGINS`` and ``DEFAULT_LANGUAGE``.

        Raises
        ------
        ConfigError
            An entry of ``ALLOWED_ORIGINS`` is not ``scheme://host[:port]``
            (``*`` included: list the origins); its problem names every bad
            entry, joined by ``"; "``. ``DEFAULT_LANGUAGE`` is not a tag of
            Chinese or English. ``.problems`` has one pair per bad variable.
        """
        problems: list[tuple[str, str]] = []
        raw = env.get("ALLOWED_ORIGINS", "")
        origins = [item.strip() for item in raw.split(",") if item.strip()]
        bad_origins = [problem for problem in map(_origin_problem, origins) if problem is not None]
        if bad_origins:
            problems.append(("ALLOWED_ORIGINS", "; ".join(bad_origins)))
        note(env, "DEFAULT_LANGUAGE", "text", DEFAULT_LANGUAGE)
        written = (env.get("DEFAULT_LANGUAGE") or "").strip()
        language = normalise(written) if written else DEFAULT_LANGUAGE
        if language is None:
            problems.append(("DEFAULT_LANGUAGE", f"must be {' or '.join(LANGUAGES)}, got {written[:64]!r}"))
        if problems:
            raise ConfigError.collected(problems)
        return cls(allowed_origins=frozenset(origins), default_language=language or DEFAULT_LANGUAGE)
