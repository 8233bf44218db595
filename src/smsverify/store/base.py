"""What the service needs from a code store (:class:`CodeStore`), and the
values that cross the boundary: the deployment's :class:`Limits`, the
requests' outcomes (:class:`Refusal`, :class:`Reserved`, :class:`Replayed`,
:class:`CheckResult`) and :class:`StoreUnavailable`.
:class:`smsverify.store.redis_store.RedisCodeStore` satisfies the protocol on
a single redis-server, a Redis Cluster and fakeredis."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import NamedTuple, Protocol, Sequence, runtime_checkable

from smsverify.clock import Moment
from smsverify.settings.scenes import DEFAULT_SCENE

#: The client key of every request without a client IP (one shared bucket,
#: ``UNKNOWN_IP_SEND_LIMIT`` sends and as many failed logins per window).
UNKNOWN_CLIENT = "unknown"

#: With captcha configured, a limit that is reached asks for a captcha ticket
#: instead of refusing; a verified ticket passes until the count reaches this
#: many times the limit (its hard cap), and past it the request is refused
#: whatever it carries. A client's limits (its sends, its site's sends, its
#: failed logins) go far, since many users share one carrier NAT address
#: (100 users behind one IPv4 still get their codes with the defaults); a
#: phone's (its hourly and daily sends) go twice as far: enough for an owner
#: whose quota a stranger spent, while every SMS past the limit costs a solved
#: captcha.
CLIENT_HARD_LIMIT_FACTOR = 10
PHONE_HARD_LIMIT_FACTOR = 2


@dataclass(frozen=True)
class Limits:
    """The deployment's limits, read once from the environment.

    Each field is named after its environment variable (lower case): a
    ``*_seconds`` field is seconds, every other field a count (0 turns a
    window limit off). The store's Lua scripts get them as constants of the
    same stem (``SEND_INTERVAL_SECONDS`` -> ``send_interval_seconds`` ->
    ``SEND_INTERVAL_MS``), see :func:`smsverify.store.redis_store.policy_lua`.
    ``captcha`` (not a variable: ``CAPTCHA_APP_ID`` is set) turns every
    stepped limit into a captcha step-up, and ``global_send_hard_limit`` is
    ``GLOBAL_SEND_HARD_LIMIT`` in ``CAPTCHA_MODE=adaptive``, else
    ``global_send_limit`` (every getSms already carries a ticket); below
    ``global_send_limit`` it counts as ``global_send_limit``.
    """

    code_ttl_seconds: int = 300
    send_interval_seconds: int = 60
    hourly_send_limit: int = 5
    daily_send_limit: int = 10
    ip_send_limit: int = 20
    ip_send_window_seconds: int = 3600
    ipv6_site_send_limit: int = 100
    unknown_ip_send_limit: int = 50
    prefix_send_limit: int = 0
    prefix_send_window_seconds: int = 3600
    global_send_limit: int = 1000
    global_send_window_seconds: int = 3600
    global_send_hard_limit: int = 0
    max_verify_attempts: int = 3
    daily_verify_limit: int = 30
    ip_verify_limit: int = 0
    ip_verify_window_seconds: int = 3600
    global_verify_limit: int = 0
    global_verify_window_seconds: int = 3600
    verify_captcha_after: int = 0
    voice_daily_limit: int = 0
    captcha: bool = False
    #: Insight (:mod:`smsverify.insight`): ``PUMPING_WINDOW_SENDS`` (0: no judgement by conversion),
    #: ``PUMPING_MIN_CONVERSION`` in thousandths, ``PUMPING_BLOCK_SECONDS``, the sends with tickets a
    #: stepped-up block may make before it is refused, ``METRICS_RETENTION_DAYS`` and
    #: ``SPEND_ALERT_PER_HOUR`` in millionths of a CNY (0: off).
    pumping_window_sends: int = 0
    pumping_min_conversion_permille: int = 200
    pumping_block_seconds: int = 3600
    pumping_block_after: int = 10
    metrics_retention_days: int = 7
    spend_alert_micro: int = 0

    def lua_constants(self) -> dict[str, int | bool]:
        """``{LUA_NAME: value}``: ``*_seconds`` fields as ``*_MS`` milliseconds, the rest as they are."""
        constants: dict[str, int | bool] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.endswith("_seconds"):
                constants[field.name[: -len("_seconds")].upper() + "_MS"] = value * 1000
            else:
                constants[field.name.upper()] = value
        return constants


class StoreUnavailable(Exception):
    """Redis could not be reached or answered with an error; ``__cause__`` has
    the original and :attr:`cause` its class for the operator's log line."""

    @property
    def cause(self) -> str:
        """One of ``refused``, ``timeout``, ``DNS``, ``auth``, ``cluster down``, ``error``."""
        return cause_class(self.__cause__)


def cause_class(exc: BaseException | None) -> str:
    """The class of a Redis failure, from the exception only (no message text is logged)."""
    import redis
    from redis.exceptions import AuthenticationError, ClusterDownError, RedisClusterException

    text = str(exc).lower()
    if isinstance(exc, AuthenticationError) or "noauth" in text or "wrongpass" in text:
        return "auth"
    if isinstance(exc, redis.TimeoutError) or "timed out" in text:
        return "timeout"
    if isinstance(exc, (ClusterDownError, RedisClusterException)) or "clusterdown" in text or "cluster unreachable" in text:
        return "cluster down"
    if "name or service not known" in text or "name resolution" in text or "nodename nor servname" in text:
        return "DNS"
    if "refused" in text:
        return "refused"
    return "error"


class RefusalReason(str, enum.Enum):
    """Why ``reserve_send`` refused (the send.lua / window.lua reply word)."""

    COOLDOWN = "COOLDOWN"
    DAILY = "DAILY"
    HOURLY = "HOURLY"
    IP = "IP"  #: the client's send quota (an IPv4 address, an IPv6 /64, or the no-IP bucket)
    SITE = "SITE"  #: the IPv6 site's send quota (``IPV6_SITE_PREFIX_LENGTH``)
    PREFIX = "PREFIX"
    STEPUP = "STEPUP"  #: a limit (or the captcha mode) asks for a captcha; a verified ticket would pass
    GLOBAL = "GLOBAL"
    CONVERSION = "CONVERSION"  #: the number block's conversion is too low (pumping); a limit of STEPUP too


class CheckOutcome(str, enum.Enum):
    """What ``check_code`` found (the check.lua reply word)."""

    OK = "OK"
    EXPIRED = "EXPIRED"
    INVALIDATED = "INVALIDATED"
    WRONG = "WRONG"
    LOCKED = "LOCKED"
    IP = "IP"  #: the client's failed-login quota is spent past its hard cap
    BUSY = "BUSY"  #: the global failed-login quota is spent (captcha not configured)
    CAPTCHA = "CAPTCHA"  #: a captcha ticket is needed; nothing was counted


class Tally(NamedTuple):
    """Where a send counts in the conversion counters (:mod:`smsverify.store.metrics`).

    ``provider`` is the provider expected to send it (the first of the failover
    order that serves the number): the send is counted when it is reserved,
    before the provider is asked."""

    block: str  #: the destination number block, ``"86:1380013"``
    provider: str  #: e.g. ``"tencent"``
    scene: str  #: e.g. ``"login"``
    #: its price in millionths of a CNY (``SMS_PRICE``; 0: unknown), for ``SPEND_ALERT_PER_HOUR``
    price_micro: int = 0
    #: the block is judged by its conversion (``PUMPING_WINDOW_SENDS`` > 0, not in ``PUMPING_ALLOW_PREFIXES``)
    judged: bool = True


class PumpingChange(NamedTuple):
    """A number block's state changed (pumping caught by conversion): log one WARNING."""

    block: str
    old: str  #: ``normal``, ``stepup`` or ``blocked``
    new: str
    sends: int  #: sends in the block's window
    verified: int  #: of those, verified


class Refusal(NamedTuple):
    """Why ``reserve_send`` refused, and for how long (ms) it will refuse."""

    #: COOLDOWN, DAILY, HOURLY, IP, SITE, PREFIX, STEPUP (a captcha ticket would pass) or GLOBAL
    reason: RefusalReason
    #: milliseconds until a retry can pass this limit (0 for STEPUP)
    wait_ms: int
    #: True for the first GLOBAL refusal of a window (log it once)
    first_trip: bool = False
    #: STEPUP only: the limit that asks for the ticket (``None``: the captcha mode asks for every request)
    limit: RefusalReason | None = None
    #: the number block's state changed in this call
    pumping: PumpingChange | None = None


class Reserved(NamedTuple):
    """``reserve_send`` counted the send and stored the code."""

    #: Providers (of those asked about) skipped for now after a failure.
    providers_down: frozenset[str] = frozenset()
    #: The code was stored as pending beside a still-valid one (a resend):
    #: call ``settle_send(accepted=True)`` once the provider accepted the SMS,
    #: ``accepted=False`` after the provider's own per-number limit.
    pending: bool = False
    #: the number block's state changed in this call
    pumping: PumpingChange | None = None
    #: this send took the hour's spend past ``SPEND_ALERT_PER_HOUR`` (the first to do so this hour)
    spend_alert: bool = False


class Replayed(NamedTuple):
    """A getSms repeated with the same ``verificationId`` inside the resend
    interval: nothing was sent or counted, the first request's answer stands."""

    #: The provider that accepted the first request's SMS ("" while that request is still sending).
    provider: str = ""


class BoundCode(NamedTuple):
    """What ``bound_code`` found of a verification's code (for ``method=status``)."""

    #: the provider that accepted its send ("" while sending); ``tencent_voice`` for a voice code
    provider: str
    #: the provider's serial number of that send ("" when unknown)
    serial_no: str
    #: milliseconds until the verification may be sent again (0: now)
    resend_wait_ms: int
    #: the receipt's state word (``delivered``, ``failed``, ``sent``) and the carrier's description; None: no record
    delivery: tuple[str, str] | None = None


#: ``method=status`` requests one client may make per :data:`STATUS_WINDOW_SECONDS`
#: (a client polling every 2 s for a minute, with room for a NAT's other users).
STATUS_LIMIT = 120
STATUS_WINDOW_SECONDS = 60


class CheckResult(NamedTuple):
    """Outcome of ``check_code``."""

    #: OK, EXPIRED, INVALIDATED, WRONG, LOCKED, or before the phone is counted IP / BUSY (the
    #: client's / the global failed-login quota is spent) and CAPTCHA (a ticket is needed)
    status: CheckOutcome
    #: WRONG: tries left for this code
    tries_left: int = 0
    #: LOCKED, IP, BUSY: milliseconds until a retry can pass
    wait_ms: int = 0
    #: CAPTCHA / BUSY: the global failed-login quota is what asked (the caller logs it once a window)
    global_quota: bool = False


@runtime_checkable
class CodeStore(Protocol):
    """Codes and send limits. Every method raises :class:`StoreUnavailable`
    when the store fails; each call is exactly once under the store's own
    retries (a repeat of the same idempotency key returns the recorded outcome).

    ``verification`` names a bound code (the client's ``verificationId``):
    its code, its resend interval and its wrong tries are its own, and it
    counts nothing of the client's or the global failed-login quotas;
    ``None`` is the legacy code of (phone, scene).
    ``captcha``: 0 captcha not configured, 1 configured (reached limits step
    up), 2 a ticket is required for this request whatever the counts.
    """

    def reserve_send(
        self, phone: str, digest: str, reservation_id: str, client: str | None, moment: Moment,
        providers: Sequence[str] = (), *, prefix: str | None = None, ticket: bool = False, scene: str = DEFAULT_SCENE,
        verification: str | None = None, site: str | None = None, captcha: int = 0, voice: bool = False,
    ) -> Refusal | Reserved | Replayed:
        """Count a send to ``phone`` (E.164) under every limit and store the
        code's HMAC for ``scene``, or return the first limit that refused."""
        ...

    def release_send(
        self, phone: str, reservation_id: str, client: str | None, moment: Moment, *, prefix: str | None = None,
        scene: str = DEFAULT_SCENE, backoff_ms: int = 0, verification: str | None = None, site: str | None = None,
        keep_client: bool = False, voice: bool = False,
    ) -> int:
        """Undo what reservation ``reservation_id`` wrote; returns how many entries."""
        ...

    def settle_send(
        self, phone: str, reservation_id: str, moment: Moment, *, accepted: bool, scene: str = DEFAULT_SCENE,
        verification: str | None = None, provider: str = "", serial_no: str = "",
    ) -> bool:
        """Promote (``accepted``) or drop a pending code; for a bound code also record who sent it."""
        ...

    def check_code(
        self, phone: str, digests: Sequence[str], moment: Moment, attempt_id: str | None = None, *,
        client: str | None = None, ticket: bool = False, scene: str = DEFAULT_SCENE,
        verification: str | None = None, captcha: int = 0, peek: bool = False,
    ) -> CheckResult:
        """Check the code given as its HMACs; consume it when one matches (``peek``: only say so)."""
        ...

    def mark_provider_down(self, provider: str, moment: Moment, seconds: int) -> None:
        """Skip ``provider`` in failover for ``seconds`` in every instance."""
        ...

    def record_failover(self, moment: Moment, tally: Tally, provider: str) -> None:
        """A reserved send went out through ``provider``, not ``tally.provider``: move its ``sent`` count."""
        ...

    def bound_code(self, phone: str, scene: str, verification: str, moment: Moment) -> BoundCode | None:
        """The live bound code of ``verification`` (``None``: none, expired or consumed)."""
        ...

    def count_status(self, client: str, moment: Moment) -> int:
        """Count one ``method=status`` request of ``client``; returns ms to wait when over its quota, else 0."""
        ...

    def first_of_window(self, name: str, moment: Moment, window_seconds: int) -> bool:
        """True once per window of ``window_seconds`` across instances (to log a tripped quota once)."""
        ...
