"""The code store: verification codes and send limits in Redis, changed only
by the Lua scripts in ``lua/``.

Each script call is atomic on its own slot and run with EVALSHA (redis-py's
:class:`~redis.commands.core.Script` reloads a script once on NOSCRIPT, e.g.
after SCRIPT FLUSH or a fail-over). Lua replies are decoded into
:class:`RefusalReason` / :class:`CheckOutcome` here and nowhere else.

Exactly once under retries
    redis-py re-sends a command after a lost connection or a timeout
    (:mod:`smsverify.store.connection`), so a script may run twice. Every
    call carries an id: ``reserve_send`` its reservation id (send.lua and
    window.lua recognise a reservation already made), ``check_code`` a fresh
    attempt id (check.lua records OK / WRONG under it), ``release_send`` and
    ``settle_send`` the reservation id (release.lua removes only entries of
    that id, settle.lua acts only on that id's pending code, so a repeat
    changes nothing more). A repeat returns the recorded outcome without
    acting again. Not covered: a reserve that got no answer after all its
    tries is released by the service; should a stalled server run that
    reserve only after the release, the reservation stands (the user then
    sees a cooldown for an SMS that never left).
Single node
    ``reserve_send`` is one EVALSHA that checks the cooldown, the daily and
    hourly caps of the phone, the per-IP window and the global window, and
    only when all pass counts the send in each and writes the code.
A resend never costs the user the code they have
    Beside a still-valid code, send.lua stores the new code as pending
    (``Reserved.pending``); login accepts either. ``settle_send`` promotes it
    once the provider accepted (one more round trip, on that path only) or
    drops it after the provider's own per-number limit; ``release_send``
    drops it. Unsettled (a timeout: maybe delivered), both stay valid, each
    until its own expiry.
Provider health (SMS failover)
    ``reserve_send`` also reads which of the given providers are marked down
    (:meth:`RedisCodeStore.mark_provider_down`), in the same script, so
    failover costs no round trip until a provider fails.
Redis Cluster
    A script may only touch keys of one slot, and the per-IP and global logs
    are on other slots than the phone, so ``reserve_send`` is not one atomic
    step there: the per-IP window, then the global window (one script each,
    on their own slots), then the phone script. A refusal or any failure
    (an exception included) at a later step removes the earlier reservations
    (ZREM of this reservation's id), so a refused or failed request keeps no
    quota. Each counter is still checked-and-counted atomically, so no limit
    is ever exceeded; for the few milliseconds before such a removal a
    concurrent request may see a window one entry fuller than it will be
    (refused early, never admitted late).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple, Sequence

import redis

from smsverify.clock import HOUR_MS, Moment
from smsverify.scenes import DEFAULT_SCENE
from smsverify.store import keys



#: Script calls that timed out are sent again on a new connection this many
#: times (a stall of the server, or a thawed container whose idle connection
#: was silently dropped). Safe because every call is exactly once; a call is
#: bounded by (1 + TIMEOUT_RETRIES) x REDIS_TIMEOUT_SECONDS.
TIMEOUT_RETRIES = 2

#: How long check.lua keeps a consumed code's attempt record, for a retry of
#: the same call (the store retries within ~3 timeouts).
ATTEMPT_TTL_MS = 60_000


class StoreUnavailable(Exception):
    """Redis could not be reached or answered with an error; ``__cause__`` has
    the original and :attr:`cause` its class for the operator's log line."""

    @property
    def cause(self) -> str:
        """One of ``refused``, ``timeout``, ``DNS``, ``auth``, ``cluster down``, ``error``."""
        return cause_class(self.__cause__)


def cause_class(exc: BaseException | None) -> str:
    """The class of a Redis failure, from the exception only (no message text is logged)."""
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
    IP = "IP"
    PREFIX = "PREFIX"
    STEPUP = "STEPUP"  #: the global quota is spent; a verified captcha ticket would pass
    GLOBAL = "GLOBAL"


class CheckOutcome(str, enum.Enum):
    """What ``check_code`` found (the check.lua reply word)."""

    OK = "OK"
    EXPIRED = "EXPIRED"
    INVALIDATED = "INVALIDATED"
    WRONG = "WRONG"
    LOCKED = "LOCKED"
    IP = "IP"  #: the client's failed-login quota is spent
    BUSY = "BUSY"  #: the global failed-login quota is spent
    CAPTCHA = "CAPTCHA"  #: a captcha ticket is needed for this phone today


@dataclass(frozen=True)
class SendLimits:
    """Send policy of one deployment, in milliseconds and counts."""

    code_ttl_ms: int
    cooldown_ms: int
    hourly_limit: int
    daily_limit: int
    ip_limit: int
    ip_window_ms: int
    global_limit: int
    global_window_ms: int
    max_wrong_tries: int
    daily_verify_limit: int
    # Abuse limits; 0 turns a limit off (global_hard_limit 0: = global_limit).
    unknown_ip_limit: int = 0
    prefix_limit: int = 0
    prefix_window_ms: int = 0
    global_hard_limit: int = 0
    step_up: bool = False  #: CAPTCHA_MODE=adaptive: a spent global_limit asks for a ticket
    ip_verify_limit: int = 0
    ip_verify_window_ms: int = 0
    global_verify_limit: int = 0
    global_verify_window_ms: int = 0
    verify_captcha_after: int = 0


class Refusal(NamedTuple):
    """Why ``reserve_send`` refused, and for how long (ms) it will refuse."""

    #: COOLDOWN, DAILY, HOURLY, IP, PREFIX, STEPUP (a captcha ticket would pass) or GLOBAL
    reason: RefusalReason
    #: milliseconds until a retry can pass this limit
    wait_ms: int
    #: True for the first GLOBAL refusal of a window (log it once)
    first_trip: bool = False


class Reserved(NamedTuple):
    """``reserve_send`` counted the send and stored the code."""

    #: Providers (of those asked about) skipped for now after a failure.
    providers_down: frozenset[str] = frozenset()
    #: The code was stored as pending beside a still-valid one (a resend):
    #: call ``settle_send(accepted=True)`` once the provider accepted the SMS,
    #: ``accepted=False`` after the provider's own per-number limit.
    pending: bool = False


class CheckResult(NamedTuple):
    """Outcome of ``check_code``."""

    #: OK, EXPIRED, INVALIDATED, WRONG, LOCKED, or before the phone is counted IP / BUSY (the
    #: client's / the global failed-login quota is spent) and CAPTCHA (a ticket is needed)
    status: CheckOutcome
    #: WRONG: tries left for this code
    tries_left: int = 0
    #: LOCKED, IP, BUSY: milliseconds until a retry can pass
    wait_ms: int = 0


def _script_source(name: str, policy: str) -> str:
    """The text loaded for script ``name``: ``policy`` (see :func:`policy_lua`),
    then lib.lua, then the script."""
    folder = resources.files("smsverify.store") / "lua"
    body = (folder / name).read_text(encoding="utf-8")
    return policy + (folder / "lib.lua").read_text(encoding="utf-8") + "\n" + body


def policy_lua(limits: SendLimits) -> str:
    """The deployment's policy as Lua constants, prepended to every script.

    The limits are fixed for the life of a container, so they are written
    into the script text once instead of travelling as ARGV with every call:
    each call then packs and sends only what changes (the time, the ids, the
    digests, the per-request switches). A container with another policy
    loads other script texts, under their own SHA1s. All values are
    integers (milliseconds and counts) or booleans.
    """
    constants = {
        "CODE_TTL_MS": limits.code_ttl_ms,
        "COOLDOWN_MS": limits.cooldown_ms,
        "HOURLY_LIMIT": limits.hourly_limit,
        "DAILY_LIMIT": limits.daily_limit,
        "HOUR_MS": HOUR_MS,
        "IP_WINDOW_MS": limits.ip_window_ms,
        "GLOBAL_LIMIT": limits.global_limit,
        "GLOBAL_WINDOW_MS": limits.global_window_ms,
        "GLOBAL_HARD_LIMIT": max(limits.global_hard_limit, limits.global_limit),
        "STEP_UP": limits.step_up,
        "PREFIX_LIMIT": limits.prefix_limit,
        "PREFIX_WINDOW_MS": limits.prefix_window_ms,
        "MAX_WRONG_TRIES": limits.max_wrong_tries,
        "DAILY_VERIFY_LIMIT": limits.daily_verify_limit,
        "ATTEMPT_TTL_MS": ATTEMPT_TTL_MS,
        "IP_VERIFY_LIMIT": limits.ip_verify_limit,
        "IP_VERIFY_WINDOW_MS": limits.ip_verify_window_ms,
        "GLOBAL_VERIFY_LIMIT": limits.global_verify_limit,
        "GLOBAL_VERIFY_WINDOW_MS": limits.global_verify_window_ms,
        "VERIFY_CAPTCHA_AFTER": limits.verify_captcha_after,
    }
    lines = ["-- The deployment's policy (SendLimits), written in by redis_store.policy_lua."]
    for name, value in constants.items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(int(value))
        lines.append(f"local {name} = {text}")
    return "\n".join(lines) + "\n"


class RedisCodeStore:
    """Verification codes and send limits kept in Redis.

    Parameters
    ----------
    client:
        A ``redis.Redis``, ``redis.cluster.RedisCluster`` or fakeredis client,
        created once per container.
    limits:
        The deployment's policy.
    cluster:
        True for Redis Cluster: the send step is split by slot (module doc).

    Every method raises :class:`StoreUnavailable` when Redis fails.
    """

    def __init__(self, client: Any, limits: SendLimits, *, cluster: bool = False) -> None:
        self.client = client
        self.limits = limits
        self.cluster = cluster
        policy = policy_lua(limits)
        self._sources = {name: _script_source(f"{name}.lua", policy)
                         for name in ("send", "window", "release", "check", "settle")}
        self._scripts: dict[str, Any] = {}

    def _run(self, name: str, script_keys: Sequence[str], args: Sequence[Any]) -> Any:
        tries = 0
        while True:
            try:
                script = self._scripts.get(name)
                if script is None:
                    # Registered on first use: a cluster client only exists once reachable.
                    script = self._scripts[name] = self.client.register_script(self._sources[name])
                return script(keys=list(script_keys), args=list(args))
            except redis.TimeoutError as exc:
                # redis-py dropped the timed-out connection; the same call (same
                # ids) goes again on a new one and learns what happened.
                tries += 1
                if tries > TIMEOUT_RETRIES:
                    raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
            except redis.RedisError as exc:
                raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    # -- getSms ----------------------------------------------------------------
    def reserve_send(
        self,
        phone: str,
        digest: str,
        reservation_id: str,
        client_ip: str | None,
        moment: Moment,
        providers: Sequence[str] = (),
        *,
        prefix: str | None = None,
        ticket: bool = False,
        scene: str = DEFAULT_SCENE,
    ) -> Refusal | Reserved:
        """Reserve a send to ``phone`` (E.164) and store the code's HMAC
        under ``scene`` (the limits are the phone's, across scenes).

        ``client_ip`` is the client's limit key (an IPv4 address, an IPv6
        prefix, or :data:`keys.UNKNOWN_CLIENT`, which has its own limit);
        ``None`` turns the per-client step off. ``prefix`` is the destination
        number block (``None``: no prefix step). ``ticket``: a verified
        captcha ticket came with the request (passes the global step-up).

        Returns :class:`Reserved`, with which of ``providers`` are marked
        down, or the first limit that refused (:class:`Refusal`); nothing is
        counted or written on a refusal.
        """
        lim = self.limits
        pk = keys.phone_keys(phone, moment.day, scene)
        ip_limit = (lim.unknown_ip_limit if client_ip == keys.UNKNOWN_CLIENT else lim.ip_limit) if client_ip else 0
        prefix_limit = lim.prefix_limit if prefix else 0
        health = [keys.provider_down_key(name) for name in providers]
        script_keys = [pk.code, pk.sends]
        if not self.cluster:
            # A step that is off (limit 0) never reads its key, a placeholder.
            script_keys += [keys.ip_log_key(client_ip or "-"), keys.GLOBAL_LOG_KEY, keys.GLOBAL_TRIPPED_KEY,
                            keys.prefix_log_key(prefix or "-"), *health]
            reply = self._reserve_phone(
                script_keys, digest, reservation_id, moment, ip_limit, True, len(health),
                prefix_step=bool(prefix_limit), ticket=ticket,
            )
            return _refusal(reply) or _reserved(reply, providers)

        held: list[str] = []
        try:
            # Each key is held before its call: a call that failed may still have reserved.
            steps = [(RefusalReason.IP, keys.ip_log_key(client_ip or "-"), lim.ip_window_ms, ip_limit),
                     (RefusalReason.PREFIX, keys.prefix_log_key(prefix or "-"), lim.prefix_window_ms, prefix_limit)]
            for reason, key, window_ms, limit in steps:
                if not limit:
                    continue
                held.append(key)
                reply = self._reserve_window([key], reservation_id, moment, window_ms, limit)
                if _text(reply[0]) != "OK":
                    held.pop()
                    self._forget(held, reservation_id)
                    return Refusal(reason, int(reply[1]))
            held.append(keys.GLOBAL_LOG_KEY)
            reply = self._reserve_window(
                [keys.GLOBAL_LOG_KEY, keys.GLOBAL_TRIPPED_KEY, *health], reservation_id, moment,
                lim.global_window_ms, lim.global_limit, report_trip=True, providers=len(health),
                hard_limit=lim.global_hard_limit, ticket=ticket, step_up=lim.step_up,
            )
            if _text(reply[0]) != "OK":
                held.pop()
                reason = RefusalReason.STEPUP if _text(reply[0]) == "STEPUP" else RefusalReason.GLOBAL
                outcome: Refusal | Reserved = Refusal(reason, int(reply[1]), bool(int(reply[2])))
            else:
                reserved = _reserved(reply, providers)
                phone_reply = self._reserve_phone(script_keys, digest, reservation_id, moment, 0, False, 0)
                outcome = _refusal(phone_reply) or reserved._replace(pending=_text(phone_reply[0]) == "PENDING")
        except StoreUnavailable:
            self._forget_quietly(held, reservation_id)
            raise
        if isinstance(outcome, Refusal):
            self._forget(held, reservation_id)
        return outcome

    def mark_provider_down(self, provider: str, moment: Moment, seconds: int) -> None:
        """Skip ``provider`` for ``seconds`` (service clock) in every instance."""
        until_ms = moment.now_ms + seconds * 1000
        try:
            self.client.set(keys.provider_down_key(provider), str(until_ms), px=seconds * 1000)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    def _reserve_phone(
        self, script_keys: list[str], digest: str, reservation_id: str, moment: Moment,
        ip_limit: int, global_step: bool, providers: int, *, prefix_step: bool = False, ticket: bool = False,
    ) -> Sequence[Any]:
        return self._run(
            "send",
            script_keys,
            [moment.now_ms, reservation_id, digest, moment.ms_to_day_end, ip_limit, int(prefix_step),
             int(global_step), providers, int(ticket), moment.day],
        )

    def _reserve_window(
        self, script_keys: list[str], reservation_id: str, moment: Moment, window_ms: int, limit: int,
        *, report_trip: bool = False, providers: int = 0, hard_limit: int = 0, ticket: bool = False,
        step_up: bool = False,
    ) -> Sequence[Any]:
        return self._run(
            "window", script_keys, [
                moment.now_ms, reservation_id, window_ms, limit, "1" if report_trip else "0", providers,
                hard_limit, int(ticket), int(step_up),
            ]
        )

    def _forget(self, window_keys: list[str], reservation_id: str) -> int:
        """Remove this reservation from window logs on other slots; returns how many held it."""
        removed = 0
        for key in window_keys:
            try:
                removed += int(self.client.zrem(key, reservation_id))
            except redis.RedisError as exc:
                raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
        return removed

    def _forget_quietly(self, window_keys: list[str], reservation_id: str) -> None:
        """:meth:`_forget` after another failure: one slot down must not keep the others' entries."""
        for key in window_keys:
            try:
                self._forget([key], reservation_id)
            except StoreUnavailable:
                pass

    def settle_send(
        self, phone: str, reservation_id: str, moment: Moment, *, accepted: bool, scene: str = DEFAULT_SCENE,
    ) -> bool:
        """Settle a pending code (``Reserved.pending``) once the provider answered:
        ``accepted`` makes it the phone's code (the one it was kept beside stops
        working), else it is dropped and that one stays valid with its
        remaining TTL and wrong tries. One script on the phone's slot; a
        repeat, or a call after a login consumed the code, changes nothing.
        Returns True when it changed the code.
        """
        pk = keys.phone_keys(phone, moment.day, scene)
        action = "accept" if accepted else "drop"
        return bool(int(self._run("settle", [pk.code], [moment.now_ms, reservation_id, action])))

    def release_send(
        self, phone: str, reservation_id: str, client_ip: str | None, moment: Moment, *, prefix: str | None = None,
        scene: str = DEFAULT_SCENE, backoff_ms: int = 0,
    ) -> int:
        """Undo a reservation after the provider refused the SMS, or after
        ``reserve_send`` failed without an answer (it may have run).

        Removes only what this reservation wrote: its code (a pending code
        goes and the code it was kept beside stays valid, see send.lua), its
        cooldown, its entries in the hourly, per-IP, prefix and global logs,
        one daily count; a repeat removes nothing more. Returns the number of
        entries removed. ``backoff_ms`` > 0 (a number-level refusal) then
        refuses getSms for the phone that long (``COOLDOWN``), so the provider
        is not asked again and again for a number it refuses.
        In cluster mode the other slots' logs are cleaned first, so a paused
        phone shard does not keep them.
        """
        pk = keys.phone_keys(phone, moment.day, scene)
        window_keys = ([keys.ip_log_key(client_ip)] if client_ip else []) + [keys.GLOBAL_LOG_KEY]
        window_keys += [keys.prefix_log_key(prefix)] if prefix else []
        script_keys = [pk.code, pk.sends]
        args = [reservation_id, moment.now_ms, backoff_ms]
        if not self.cluster:
            return int(self._run("release", script_keys + window_keys, args))
        removed = self._forget(window_keys, reservation_id)
        return removed + int(self._run("release", script_keys, args))

    # -- login -------------------------------------------------------------------
    def check_code(
        self, phone: str, digests: Sequence[str], moment: Moment, attempt_id: str | None = None, *,
        client: str | None = None, ticket: bool = False, scene: str = DEFAULT_SCENE,
    ) -> CheckResult:
        """Check a submitted code, given as its HMACs under the current (and
        previous) key; consume it when it matches.

        ``attempt_id`` (default: a fresh random one) makes the call exactly
        once: a retry of it returns the recorded OK / WRONG without consuming
        or counting again, and the failed-login logs hold it once. Only the
        code of ``scene`` is checked; the daily wrong-code count is the
        phone's, across scenes.
        With ``client`` (the client's limit key) the login throttles apply:
        the client's and the global failed-login quotas are checked before the
        phone is counted (IP / BUSY refusals touch nothing of the phone), every
        failed login counts in both, and past ``verify_captcha_after`` wrong
        codes today the phone needs ``ticket`` (a verified captcha ticket).
        Single node: one script. Cluster: the two quotas are reserved on their
        own slots first (under the attempt id) and given back when the login
        succeeds, needs a captcha or fails without an answer.
        """
        lim = self.limits
        pk = keys.phone_keys(phone, moment.day, scene)
        attempt = attempt_id or uuid.uuid4().hex
        def args(throttles: str) -> list[Any]:
            return [moment.now_ms, attempt, moment.ms_to_day_end, throttles, int(ticket), len(digests), *digests]

        if client is None:
            return _check_result(self._run("check", [pk.code, pk.daily_verifies], args("none")))
        client_key = keys.ip_verify_key(client)
        if not self.cluster:
            script_keys = [pk.code, pk.daily_verifies, client_key, keys.GLOBAL_VERIFY_KEY]
            return _check_result(self._run("check", script_keys, args("all")))
        held: list[str] = []
        try:
            for status, key, window_ms, limit in (
                (CheckOutcome.IP, client_key, lim.ip_verify_window_ms, lim.ip_verify_limit),
                (CheckOutcome.BUSY, keys.GLOBAL_VERIFY_KEY, lim.global_verify_window_ms, lim.global_verify_limit),
            ):
                if not limit:
                    continue
                held.append(key)
                reply = self._reserve_window([key], attempt, moment, window_ms, limit)
                if _text(reply[0]) != "OK":
                    held.pop()
                    self._forget(held, attempt)
                    return CheckResult(status, wait_ms=int(reply[1]))
            result = _check_result(self._run("check", [pk.code, pk.daily_verifies], args("captcha")))
        except StoreUnavailable:
            self._forget_quietly(held, attempt)
            raise
        if result.status in (CheckOutcome.OK, CheckOutcome.CAPTCHA):
            self._forget(held, attempt)  # only failed logins count
        return result


def _check_result(reply: Sequence[Any]) -> CheckResult:
    status = CheckOutcome(_text(reply[0]))
    if status is CheckOutcome.WRONG:
        return CheckResult(status, tries_left=int(reply[1]))
    if status in (CheckOutcome.LOCKED, CheckOutcome.IP, CheckOutcome.BUSY):
        return CheckResult(status, wait_ms=int(reply[1]))
    return CheckResult(status)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _reserved(reply: Sequence[Any], providers: Sequence[str]) -> Reserved:
    flags = [int(flag) for flag in reply[1:]]
    return Reserved(frozenset(name for name, flag in zip(providers, flags) if flag), _text(reply[0]) == "PENDING")


def _refusal(reply: Sequence[Any]) -> Refusal | None:
    reason = _text(reply[0])
    if reason in ("OK", "PENDING"):
        return None
    first_trip = len(reply) > 2 and bool(int(reply[2]))
    return Refusal(RefusalReason(reason), int(reply[1]), first_trip)
