"""Reading environment variables: the primitives every settings reader shares.

An :class:`EnvReader` wraps a mapping (normally ``os.environ``; tests pass
plain dicts) and never raises while reading: a missing or malformed variable
is recorded as a problem and the reader returns the default, so one start-up
reports every bad variable at once (:meth:`EnvReader.raise_problems`). This is
what an operator needs inside Tencent SCF, where each configuration round trip
is a deploy.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, NamedTuple, TypeVar

from smsverify.errors import ConfigError

T = TypeVar("T")


def is_scf(env: Mapping[str, str]) -> bool:
    """True inside Tencent SCF, as told by the runtime's own variables
    (``TENCENTCLOUD_RUNENV=SCF`` or ``SCF_FUNCTIONNAME``)."""
    return env.get("TENCENTCLOUD_RUNENV", "").upper() == "SCF" or bool(env.get("SCF_FUNCTIONNAME"))


class EnvVariable(NamedTuple):
    """What a settings reader knew about one variable it read (see :class:`RecordingEnv`)."""

    name: str
    kind: str  #: ``text``, ``required``, ``integer``, ``seconds``, ``flag`` or ``url``
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    reader: str = ""  #: the module that read it, e.g. ``smsverify.settings.config``


class RecordingEnv(Mapping[str, str]):
    """A mapping that records every variable read from it, for the generated
    configuration reference (``docs/generate.py``), never used to serve.

    Plain lookups record the kind ``text``; the typed reads of
    :class:`EnvReader` (and any reader calling :func:`note`) add the kind,
    default and bounds. :attr:`read` keeps the first read of each name,
    upgraded by a later typed one.
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.read: dict[str, EnvVariable] = {}

    def note(self, name: str, kind: str, default: Any = None, minimum: Any = None, maximum: Any = None) -> None:
        known = self.read.get(name)
        if known is None or (known.kind == "text" and known.default is None and (kind != "text" or default is not None)):
            self.read[name] = EnvVariable(name, kind, default, minimum, maximum, _reading_module())

    def __getitem__(self, name: str) -> str:
        self.note(name, "text")
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _reading_module() -> str:
    """The first module outside this one (and the Mapping ABC) on the call stack."""
    import sys

    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") in (__name__, "collections.abc", "_collections_abc"):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""


def note(env: Mapping[str, str], name: str, kind: str, default: Any = None, minimum: Any = None, maximum: Any = None) -> None:
    """Tell a :class:`RecordingEnv` what a read of ``name`` means; nothing for any other mapping."""
    if isinstance(env, RecordingEnv):
        env.note(name, kind, default, minimum, maximum)


class EnvReader:
    """Typed reads of ``env`` that collect problems instead of raising.

    Attributes
    ----------
    env:
        The mapping read.
    in_scf:
        :func:`is_scf` of ``env``.
    problems:
        ``(variable, problem)`` pairs in the order found, one per variable.
    notices:
        Local fallbacks in effect, one sentence each.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.in_scf = is_scf(env)
        self.problems: list[tuple[str, str]] = []
        self.notices: list[str] = []

    def problem(self, name: str, problem: str) -> None:
        """Record that variable ``name`` is wrong; a variable is reported once."""
        if all(name != known for known, _ in self.problems):
            self.problems.append((name, problem))

    def raise_problems(self) -> None:
        """Raise one :class:`ConfigError` naming every problem recorded, if any."""
        if self.problems:
            raise ConfigError.collected(self.problems)

    def text(self, name: str, default: str | None = None, *, strip_spaces: bool = False) -> str | None:
        """The value of ``name``; ``default`` when unset, empty or malformed.

        Leading or trailing whitespace is a problem (a secret pasted with a
        space would silently differ), unless ``strip_spaces``: then it is
        removed (a PEM block pasted with its final line break).
        """
        note(self.env, name, "text", default)
        value = self.env.get(name)
        if value is None or value.strip() == "":
            return default
        if value != value.strip():
            if strip_spaces:
                return value.strip()
            self.problem(name, "has leading or trailing spaces")
            return default
        return value

    def attempt(self, read: Callable[[], T], default: Any = None) -> T:
        """``read()``, or ``default`` after recording the problems of the
        :class:`ConfigError` it raised: for checks that raise on their first
        problem, so that one ``ConfigError`` still names every variable."""
        try:
            return read()
        except ConfigError as exc:
            for name, problem in exc.problems:
                self.problem(name, problem)
            return default

    def required(self, name: str, purpose: str) -> str:
        """The value of ``name``, recorded as a problem when absent (then ``""``)."""
        note(self.env, name, "required")
        value = self.text(name)
        if value is None:
            self.problem(name, f"is required {purpose}")
            return ""
        return value

    def integer(self, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
        """A whole number within ``[minimum, maximum]``."""
        note(self.env, name, "integer", default, minimum, maximum)
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problem(name, f"must be an integer, got {raw!r}")
            return default
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            self.problem(name, f"must be {bound}, got {value}")
            return default
        return value

    def number(self, name: str, default: float, minimum: float = 0.05, maximum: float = 60.0) -> float:
        """A number of seconds within ``[minimum, maximum]``."""
        note(self.env, name, "seconds", default, minimum, maximum)
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problem(name, f"must be a number of seconds, got {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self.problem(name, f"must be between {minimum} and {maximum} seconds, got {value}")
            return default
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """``1/true/yes/on`` or ``0/false/no/off``, any case."""
        note(self.env, name, "flag", default)
        raw = self.text(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        self.problem(name, f"must be true or false, got {raw!r}")
        return default

    def base_url(self, name: str, default: str) -> str:
        """An ``http(s)://`` URL without its trailing slash."""
        note(self.env, name, "url", default)
        url = self.text(name, default) or default
        if not url.startswith(("https://", "http://")):
            self.problem(name, f"must be an http(s) URL, got {url!r}")
            return default
        return url.rstrip("/")
