"""The code store: verification codes and send limits in Redis, changed only
by the Lua scripts in ``lua/``.

Each script call is atomic on its own slot and run with EVALSHA (redis-py's
:class:`~redis.commands.core.Script` reloads a script once on NOSCRIPT, e.g.
after SCRIPT FLUSH or a fail-over). Lua replies are decoded into
:class:`RefusalReason` / :class:`CheckOutcome` here and nowhere else.

Exactly once under retries
    redis-py re-sends a command after a lost connection
    (:mod:`smsverify.store.connection`), and :meth:`RedisCodeStore._run`
    sends a script again after a timeout, so a script may run twice. Every
    call carries an idempotency key: ``reserve_send`` its reservation id
    (send.lua and window.lua recognise a reservation already made),
    ``check_code`` a fresh attempt id (check.lua records OK / WRONG under
    it), ``release_send`` and ``settle_send`` the reservation id
    (release.lua removes only entries of that id, settle.lua acts only on
    that id's pending code, so a repeat changes nothing more). A repeat
    returns the recorded outcome without acting again. Not covered: a
    reserve that got no answer after all its tries is released by the
    service; should a stalled server run that reserve only after the
    release, the reservation stands (the user then sees a cooldown for an
    SMS that never left).
Single node
    ``reserve_send`` is one EVALSHA that checks the phone's backoff and
    cooldown (legacy codes) or the verification's resend interval (bound
    codes), the phone's daily and hourly caps, the client's, the IPv6
    site's, the destination prefix's and the global windows, and only when
    all pass counts the send in each and writes the code. ``check_code`` is
    one EVALSHA too.
Bound and legacy codes
    A getSms with a ``verificationId`` stores a code of its own
    (:func:`smsverify.store.keys.phone_keys`), which only a login with the
    same id can check; its wrong tries count on it alone. Legacy codes (no
    id) also count guesses on the phone's day and in the client's and the
    global failed-login logs. A login with no live code to check counts
    nothing anywhere.
Captcha step-up
    With captcha configured (``Limits.captcha``) a client- or phone-level
    limit that is reached answers ``STEPUP`` / ``CAPTCHA`` (nothing
    written); the service verifies the request's ticket and calls again
    with ``ticket=True``, which passes until the limit's hard cap
    (:data:`smsverify.store.base.CLIENT_HARD_LIMIT_FACTOR`, ``PHONE_HARD_LIMIT_FACTOR``). A limit at its hard
    cap refuses before any ticket is looked at.
A resend never costs the user the code they have
    Beside a still-valid code, send.lua stores the new code as pending
    (``Reserved.pending``); login accepts either. ``settle_send`` promotes it
    once the provider accepted (one more round trip, on that path and on a
    bound code's accepted send) or drops it after the provider's own
    per-number limit; ``release_send`` drops it. Unsettled (a timeout: maybe
    delivered), both stay valid, each until its own expiry.
Provider health (SMS failover)
    ``reserve_send`` also reads which of the given providers are marked down
    (:meth:`RedisCodeStore.mark_provider_down`), in the same script, so
    failover costs no round trip until a provider fails.
Redis Cluster
    A script may only touch keys of one slot, and the client, site, prefix
    and global logs are on other slots than the phone, so ``reserve_send``
    is not one atomic step there: each window (one script each, on its own
    slot), then the phone script. A refusal or any failure (an exception
    included) at a later step removes the earlier reservations (ZREM of
    this reservation's id), so a refused or failed request keeps no quota.
    Each counter is still checked-and-counted atomically, so no limit is
    ever exceeded; for the few milliseconds before such a removal a
    concurrent request may see a window one entry fuller than it will be
    (refused early, never admitted late). A legacy login reads the two
    failed-login logs first and adds a guess to them after the phone's
    script, so concurrent guesses may pass a quota by their number.
"""

from __future__ import annotations

import uuid
from importlib import resources
from typing import Any, Sequence

import redis

from smsverify.clock import HOUR_MS, Moment
from smsverify.settings.scenes import DEFAULT_SCENE
from smsverify.store import keys, metrics
from smsverify.store.connection import with_timeout_retries
from smsverify.store.base import (
    STATUS_LIMIT,
    STATUS_WINDOW_SECONDS,
    BoundCode,
    CLIENT_HARD_LIMIT_FACTOR,
    PHONE_HARD_LIMIT_FACTOR,
    UNKNOWN_CLIENT,
    CheckOutcome,
    CheckResult,
    Limits,
    PumpingChange,
    Refusal,
    RefusalReason,
    Replayed,
    Reserved,
    StoreUnavailable,
    Tally,
    cause_class,
)

__all__ = ["ATTEMPT_TTL_MS", "CheckOutcome", "CheckResult", "Limits", "RedisCodeStore", "Refusal", "RefusalReason",
           "Replayed", "Reserved", "StoreUnavailable", "cause_class", "policy_lua"]

#: Script calls that timed out are sent again on a new connection this many
#: times (a stall of the server, or a thawed container whose idle connection
#: was silently dropped). Safe because every call is exactly once; a call is
#: bounded by (1 + TIMEOUT_RETRIES) x REDIS_TIMEOUT_SECONDS.
TIMEOUT_RETRIES = 2

#: How long check.lua keeps a consumed code's attempt record, for a retry of
#: the same call (the store retries within ~3 timeouts).
ATTEMPT_TTL_MS = 60_000


def _script_source(name: str, policy: str) -> str:
    """The text loaded for script ``name``: ``policy`` (see :func:`policy_lua`),
    then lib.lua, then the script."""
    folder = resources.files("smsverify.store") / "lua"
    body = (folder / name).read_text(encoding="utf-8")
    return policy + (folder / "lib.lua").read_text(encoding="utf-8") + "\n" + body


def policy_lua(limits: Limits) -> str:
    """The deployment's policy as Lua constants, prepended to every script.

    The limits are fixed for the life of a container, so they are written
    into the script text once instead of travelling as ARGV with every call:
    each call then packs and sends only what changes (the time, the ids, the
    digests, the per-request switches). A container with another policy
    loads other script texts, under their own SHA1s. The constants are
    :meth:`Limits.lua_constants` (``SEND_INTERVAL_SECONDS`` ->
    ``SEND_INTERVAL_MS``) plus ``HOUR_MS``, ``ATTEMPT_TTL_MS`` and the
    two hard-cap factors; all integers or booleans.
    """
    constants = {**limits.lua_constants(), "HOUR_MS": HOUR_MS, "ATTEMPT_TTL_MS": ATTEMPT_TTL_MS,
                 "CLIENT_HARD_LIMIT_FACTOR": CLIENT_HARD_LIMIT_FACTOR, "PHONE_HARD_LIMIT_FACTOR": PHONE_HARD_LIMIT_FACTOR}
    lines = ["-- The deployment's policy (Limits), written in by redis_store.policy_lua."]
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

    def __init__(self, client: Any, limits: Limits, *, cluster: bool = False) -> None:
        self.client = client
        self.limits = limits
        self.cluster = cluster
        policy = policy_lua(limits)
        self._sources = {name: _script_source(f"{name}.lua", policy)
                         for name in ("send", "window", "release", "check", "settle", "metrics")}
        self._scripts: dict[str, Any] = {}

    def _run(self, name: str, script_keys: Sequence[str], args: Sequence[Any]) -> Any:
        def call() -> Any:
            script = self._scripts.get(name)
            if script is None:
                # Registered on first use: a cluster client only exists once reachable.
                script = self._scripts[name] = self.client.register_script(self._sources[name])
            return script(keys=list(script_keys), args=list(args))

        return with_timeout_retries(call, TIMEOUT_RETRIES)

    # -- getSms ----------------------------------------------------------------
    def _client_limit(self, client: str | None, known: int, unknown: int) -> int:
        if not client:
            return 0
        return unknown if client == UNKNOWN_CLIENT else known

    def reserve_send(
        self,
        phone: str,
        digest: str,
        reservation_id: str,
        client: str | None,
        moment: Moment,
        providers: Sequence[str] = (),
        *,
        prefix: str | None = None,
        ticket: bool = False,
        scene: str = DEFAULT_SCENE,
        verification: str | None = None,
        site: str | None = None,
        captcha: int = 0,
        voice: bool = False,
        tally: Tally | None = None,
    ) -> Refusal | Reserved | Replayed:
        """Reserve a send to ``phone`` (E.164) and store the code's HMAC
        under ``scene`` (the limits are the phone's, across scenes), for the
        legacy code or, with ``verification``, that verification's bound code.

        ``client`` is the client's limit key (an IPv4 address, an IPv6
        prefix, or :data:`UNKNOWN_CLIENT`, which has its own limit); ``None``
        turns the per-client step off. ``site`` is the IPv6 site's key
        (``None``: no site step). ``prefix`` is the destination number block
        (``None``: no prefix step). ``ticket``: a verified captcha ticket came
        with the request; ``captcha``: see :class:`~smsverify.store.base.CodeStore`;
        ``voice``: a voice code, also counted against ``VOICE_DAILY_LIMIT``.

        Returns :class:`Reserved`, with which of ``providers`` are marked
        down; :class:`Replayed` for a bound code asked again inside its
        resend interval; or the first limit that refused (:class:`Refusal`,
        ``STEPUP`` when a ticket would pass); nothing is counted or written
        on a refusal or a replay.

        ``tally``: where the send counts in the conversion counters, and
        whether its number block is judged by its conversion
        (:mod:`smsverify.store.metrics`); a block whose state changes says so
        in the outcome's ``pumping`` (a refusal included), and a send that
        took the hour's spend past ``SPEND_ALERT_PER_HOUR`` in ``spend_alert``.
        Single node: all in the same script. Cluster: one script on the
        ``{metrics}`` slot after the windows, before the phone's script,
        given back if that refuses.
        """
        lim = self.limits
        bucket = metrics.bucket(moment.now_ms, tally.block, tally.provider, tally.scene) if tally else ""
        judged = bool(tally and tally.judged and lim.pumping_window_sends > 0)
        tally_args = [bucket, 0, tally.price_micro if tally else 0, int(judged)]
        pk = keys.phone_keys(phone, moment.day, scene, verification)
        client_limit = self._client_limit(client, lim.ip_send_limit, lim.unknown_ip_send_limit)
        site_on = bool(site and lim.ipv6_site_send_limit)
        prefix_on = bool(prefix and lim.prefix_send_limit)
        health = [keys.provider_down_key(name) for name in providers]
        script_keys = [pk.code, pk.sends]
        if not self.cluster:
            # A step that is off (limit 0) never reads its key, a placeholder.
            script_keys += [keys.ip_log_key(client or "-"), keys.site_log_key(site or "-"),
                            keys.prefix_log_key(prefix or "-"), keys.GLOBAL_LOG_KEY, keys.GLOBAL_TRIPPED_KEY,
                            metrics.day_key(moment.day if not tally else bucket[:8]),
                            metrics.conversion_key(tally.block if tally else "-"), *health]
            tally_args[1] = 1 if tally else 0
            reply = self._reserve_phone(script_keys, digest, reservation_id, moment, client_limit, site_on, prefix_on,
                                        True, len(health), ticket, captcha, verification is not None, voice, tally_args)
            return _refusal(reply, tally) or _reserved(reply, providers, tally)

        held: list[str] = []
        counted = False  # the send is counted on the {metrics} slot (to be given back on a refusal)
        stepped = lim.captcha
        try:
            # Each key is held before its call: a call that failed may still have reserved.
            steps = [(RefusalReason.IP, keys.ip_log_key(client or "-"), lim.ip_send_window_seconds, client_limit, stepped),
                     (RefusalReason.SITE, keys.site_log_key(site or "-"), lim.ip_send_window_seconds,
                      lim.ipv6_site_send_limit if site_on else 0, stepped),
                     (RefusalReason.PREFIX, keys.prefix_log_key(prefix or "-"), lim.prefix_send_window_seconds,
                      lim.prefix_send_limit if prefix_on else 0, False)]
            for reason, key, window_seconds, limit, step_up in steps:
                if not limit:
                    continue
                held.append(key)
                reply = self._reserve_window(
                    [key], reservation_id, moment, window_seconds * 1000, limit,
                    hard_limit=limit * CLIENT_HARD_LIMIT_FACTOR if step_up else limit, ticket=ticket, step_up=step_up)
                if _text(reply[0]) != "OK":
                    held.pop()
                    self._forget(held, reservation_id)
                    if _text(reply[0]) == "STEPUP":
                        return Refusal(RefusalReason.STEPUP, 0, limit=reason)
                    return Refusal(reason, int(reply[1]))
            held.append(keys.GLOBAL_LOG_KEY)
            reply = self._reserve_window(
                [keys.GLOBAL_LOG_KEY, keys.GLOBAL_TRIPPED_KEY, *health], reservation_id, moment,
                lim.global_send_window_seconds * 1000, lim.global_send_limit, report_trip=True, providers=len(health),
                hard_limit=lim.global_send_hard_limit, ticket=ticket,
                step_up=lim.captcha and lim.global_send_hard_limit > lim.global_send_limit,
            )
            if _text(reply[0]) != "OK":
                held.pop()
                if _text(reply[0]) == "STEPUP":
                    outcome: Refusal | Reserved | Replayed = Refusal(RefusalReason.STEPUP, 0, limit=RefusalReason.GLOBAL)
                else:
                    outcome = Refusal(RefusalReason.GLOBAL, int(reply[1]), bool(int(reply[2])))
            else:
                reserved = _reserved(reply, providers)
                change = None
                if tally:
                    counted = True
                    tallied = self._metrics("send", tally, moment, bucket, [int(judged), int(ticket), captcha])
                    change = _pumping(tallied, tally)
                    refused = _refusal(tallied, tally)
                    if refused:
                        counted = False
                        self._forget(held, reservation_id)
                        return refused
                    reserved = reserved._replace(pumping=change, spend_alert="SPEND" in [_text(r) for r in tallied])
                phone_reply = self._reserve_phone(script_keys, digest, reservation_id, moment, 0, False, False, False, 0,
                                                  ticket, captcha, verification is not None, voice, tally_args)
                on_phone = _refusal(phone_reply) or _reserved(phone_reply, ())
                outcome = reserved._replace(pending=on_phone.pending) if isinstance(on_phone, Reserved) else on_phone
                if isinstance(outcome, Refusal) and change:
                    outcome = outcome._replace(pumping=change)
        except StoreUnavailable:
            self._forget_quietly(held, reservation_id)
            if counted:
                self._uncount_quietly(tally, moment, bucket, judged)
            raise
        if not isinstance(outcome, Reserved):
            self._forget(held, reservation_id)
            if counted:
                self._uncount_quietly(tally, moment, bucket, judged)
        return outcome

    # -- conversion counters (cluster mode: their own slot) ----------------------
    def _metrics(self, mode: str, tally: Tally, moment: Moment, bucket: str, extra: Sequence[Any]) -> Sequence[Any]:
        """One metrics.lua call on the ``{metrics}`` slot (cluster mode)."""
        return self._run("metrics", [metrics.day_key(bucket[:8]), metrics.conversion_key(tally.block)],
                         [mode, moment.now_ms, bucket, tally.price_micro, *extra])

    def _uncount_quietly(self, tally: Tally, moment: Moment, bucket: str, judged: bool) -> None:
        """Give back a send counted on the ``{metrics}`` slot whose reservation did not stand."""
        try:
            self._metrics("unsend", tally, moment, bucket, [int(judged)])
        except StoreUnavailable:
            pass

    def record_failover(self, moment: Moment, tally: Tally, provider: str) -> None:
        """A reserved send went out through ``provider``, not the expected ``tally.provider``:
        move its ``sent`` count (one pipelined call on the ``{metrics}`` slot, only on this path).
        The code keeps the expected provider in its bucket, so its verification counts there."""
        day, hour = metrics.local_hour(moment.now_ms)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hincrby(metrics.day_key(day), metrics.counter_field(hour, tally.block, tally.provider, tally.scene, "sent"), -1)
            pipe.hincrby(metrics.day_key(day), metrics.counter_field(hour, tally.block, provider, tally.scene, "sent"), 1)
            pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    def mark_provider_down(self, provider: str, moment: Moment, seconds: int) -> None:
        """Skip ``provider`` for ``seconds`` (service clock) in every instance."""
        until_ms = moment.now_ms + seconds * 1000
        try:
            self.client.set(keys.provider_down_key(provider), str(until_ms), px=seconds * 1000)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    def first_of_window(self, name: str, moment: Moment, window_seconds: int) -> bool:
        """True for the first call of a window of ``window_seconds`` for ``name``, across instances
        (a SET NX with the window as TTL): the caller logs a tripped quota once per window."""
        try:
            return bool(self.client.set(keys.window_marker_key(name), str(moment.now_ms), nx=True,
                                        px=max(1, window_seconds) * 1000))
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

    def bound_code(self, phone: str, scene: str, verification: str, moment: Moment) -> BoundCode | None:
        """The live bound code of ``verification`` for (``phone``, ``scene``), or ``None`` when
        there is none (never sent, expired, consumed or dead after its wrong tries), with the
        delivery state of its send when a receipt came. One HMGET, and one more once it has a serial."""
        key = keys.phone_keys(phone, moment.day, scene, verification).code
        try:
            d, x, n, pd, px, p, serial, c = self.client.hmget(key, ["d", "x", "n", "pd", "px", "p", "s", "c"])
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
        now = moment.now_ms
        live = bool(d) and int(x) > now and int(n or 0) < self.limits.max_verify_attempts
        pending = bool(pd) and int(px) > now
        if not (live or pending):
            return None
        serial_no = _text(serial) if serial else ""
        delivery = None
        if serial_no:
            from smsverify.store.delivery import delivery_state

            found = delivery_state(self.client, phone, serial_no)
            delivery = (found[0].value, found[1]) if found is not None else None
        return BoundCode(_text(p) if p else "", serial_no, max(0, int(c or 0) - now), delivery)

    def count_status(self, client: str, moment: Moment) -> int:
        """Count one ``method=status`` request of ``client`` in its window (:data:`STATUS_LIMIT`
        per :data:`STATUS_WINDOW_SECONDS`); returns the ms to wait when the quota is spent, else 0."""
        reply = self._reserve_window([keys.status_log_key(client)], uuid.uuid4().hex, moment,
                                     STATUS_WINDOW_SECONDS * 1000, STATUS_LIMIT)
        return 0 if _text(reply[0]) == "OK" else max(1, int(reply[1]))

    def _reserve_phone(
        self, script_keys: list[str], digest: str, reservation_id: str, moment: Moment, client_limit: int,
        site_on: bool, prefix_on: bool, global_on: bool, providers: int, ticket: bool, captcha: int, bound: bool,
        voice: bool = False,
        tally_args: Sequence[Any] = ("", 0, 0, 0),
    ) -> Sequence[Any]:
        return self._run(
            "send",
            script_keys,
            [moment.now_ms, reservation_id, digest, moment.ms_to_day_end, moment.day, client_limit, int(site_on),
             int(prefix_on), int(global_on), providers, int(ticket), captcha, int(bound), int(voice), *tally_args],
        )

    def _reserve_window(
        self, script_keys: list[str], reservation_id: str, moment: Moment, window_ms: int, limit: int,
        *, report_trip: bool = False, providers: int = 0, hard_limit: int = 0, ticket: bool = False,
        step_up: bool = False, read: bool = False,
    ) -> Sequence[Any]:
        return self._run(
            "window", script_keys, [
                moment.now_ms, reservation_id, window_ms, limit, "1" if report_trip else "0", providers,
                hard_limit, int(ticket), int(step_up), "read" if read else "",
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
        verification: str | None = None, provider: str = "", serial_no: str = "",
    ) -> bool:
        """Settle a pending code (``Reserved.pending``) once the provider answered:
        ``accepted`` makes it the phone's code (the one it was kept beside stops
        working), else it is dropped and that one stays valid with its
        remaining TTL and wrong tries. For a bound code (``verification``),
        an accepted send also records ``provider`` and ``serial_no``. One
        script on the phone's slot; a repeat, or a call after a login consumed
        the code, changes nothing. Returns True when it changed the pending code.
        """
        pk = keys.phone_keys(phone, moment.day, scene, verification)
        action = "accept" if accepted else "drop"
        recorded = provider if verification is not None else ""
        return bool(int(self._run("settle", [pk.code], [moment.now_ms, reservation_id, action, recorded, serial_no])))

    def release_send(
        self, phone: str, reservation_id: str, client: str | None, moment: Moment, *, prefix: str | None = None,
        scene: str = DEFAULT_SCENE, backoff_ms: int = 0, verification: str | None = None, site: str | None = None,
        keep_client: bool = False, voice: bool = False, tally: Tally | None = None,
    ) -> int:
        """Undo a reservation after the provider refused the SMS, or after
        ``reserve_send`` failed without an answer (it may have run).

        Removes only what this reservation wrote: its code (a pending code
        goes and the code it was kept beside stays valid, see send.lua), its
        cooldown, its entries in the hourly, client, site, prefix and global
        logs, one daily count; a repeat removes nothing more. Returns the
        number of entries removed. ``backoff_ms`` > 0 (a number-level refusal)
        then refuses getSms for the phone that long (``COOLDOWN``), so the
        provider is not asked again and again for a number it refuses;
        ``keep_client`` leaves the client's and the site's entries (a send
        the provider refused for the number still counts against the client).
        In cluster mode the other slots' logs are cleaned first, so a paused
        phone shard does not keep them. ``tally`` (the one given to
        ``reserve_send``, with the reservation's moment): the send's
        ``sent`` count is given back too, once, when this call removed the
        reservation from the phone's hourly log (cluster: when the phone's
        script released anything, by one more call on the ``{metrics}`` slot).
        """
        pk = keys.phone_keys(phone, moment.day, scene, verification)
        window_keys = []
        if not keep_client:
            window_keys += [keys.ip_log_key(client)] if client else []
            window_keys += [keys.site_log_key(site)] if site else []
        window_keys += [keys.GLOBAL_LOG_KEY] + ([keys.prefix_log_key(prefix)] if prefix else [])
        script_keys = [pk.code, pk.sends]
        args = [reservation_id, moment.now_ms, backoff_ms, "voice" if voice else "sms"]
        bucket = metrics.bucket(moment.now_ms, tally.block, tally.provider, tally.scene) if tally else ""
        judged = bool(tally and tally.judged and self.limits.pumping_window_sends > 0)
        if not self.cluster:
            if tally:
                window_keys += [metrics.day_key(bucket[:8]), metrics.conversion_key(tally.block)]
                args += [bucket, tally.price_micro, int(judged)]
            return int(self._run("release", script_keys + window_keys, args))
        removed = self._forget(window_keys, reservation_id)
        released = int(self._run("release", script_keys, args))
        if tally and released:
            self._metrics("unsend", tally, moment, bucket, [int(judged)])
        return removed + released

    # -- login -------------------------------------------------------------------
    def check_code(
        self, phone: str, digests: Sequence[str], moment: Moment, attempt_id: str | None = None, *,
        client: str | None = None, ticket: bool = False, scene: str = DEFAULT_SCENE,
        verification: str | None = None, captcha: int = 0, peek: bool = False, block: str | None = None,
    ) -> CheckResult:
        """Check a submitted code, given as its HMACs under the current (and
        previous) key; consume it when it matches (``peek``: report a match
        without consuming, for a WeChat exchange that must come first).

        ``attempt_id`` (default: a fresh random one) is the idempotency key
        of the store's own retries: a retry returns the recorded OK / WRONG
        without consuming or counting again. Only the code of ``scene`` (and
        of ``verification``, when given) is checked.
        Only a wrong code counts anything. A bound code's wrong tries are its
        own. A legacy code's also count on the phone's day
        (``DAILY_VERIFY_LIMIT``) and, with ``client`` (its limit key), in the
        client's and the global failed-login logs, whose limits are checked
        first: at its hard cap the client is refused (IP); with captcha
        configured a reached limit asks for a ticket (CAPTCHA), else the
        global one refuses (BUSY). Single node: one script. Cluster: the two
        logs are read on their own slots first and the guess is added to
        them after the phone's script.
        ``block`` (the phone's number block): a consumed code counts as
        ``verified`` in its send's bucket and in the block's conversion
        window (single node: in the same script; cluster: one more call on
        the ``{metrics}`` slot after a success).
        """
        lim = self.limits
        pk = keys.phone_keys(phone, moment.day, scene, verification)
        attempt = attempt_id or uuid.uuid4().hex
        tallies = [metrics.day_key(moment.day), metrics.day_key(metrics.previous_day(moment.day)),
                   metrics.conversion_key(block)] if block and not self.cluster else []
        client_limit = self._client_limit(client, lim.ip_verify_limit, lim.unknown_ip_send_limit)
        tail = [len(digests), *digests]
        head = [moment.now_ms, attempt, moment.ms_to_day_end]
        flags = [int(ticket), captcha, int(peek), client_limit]
        if verification is not None:
            script_keys = [pk.code, *(["-", "-", "-"] + tallies if tallies else [])]
            reply = self._run("check", script_keys, [*head, "bound", *flags, 0, 0, 0, 0, *tail])
            return self._verified(_check_result(reply), reply, block, moment)
        client_key = keys.ip_verify_key(client or "-")
        if not self.cluster:
            script_keys = [pk.code, pk.daily_verifies, client_key, keys.GLOBAL_VERIFY_KEY, *tallies]
            return _check_result(self._run("check", script_keys, [*head, "legacy", *flags, 0, 0, 0, 0, *tail]))
        windows = ((client_key, lim.ip_verify_window_seconds, client_limit),
                   (keys.GLOBAL_VERIFY_KEY, lim.global_verify_window_seconds, lim.global_verify_limit))
        counts: list[Any] = []
        for key, window_seconds, limit in windows:
            counts += self._reserve_window([key], attempt, moment, window_seconds * 1000, limit, read=True) if limit else [0, 0]
        reply = self._run("check", [pk.code, pk.daily_verifies], [*head, "legacy-read", *flags, *counts, *tail])
        result = self._verified(_check_result(reply), reply, block, moment)
        if result.status is CheckOutcome.WRONG:
            for key, window_seconds, limit in windows:
                if limit:
                    self._add_entry(key, attempt, moment, window_seconds)
        return result

    def _verified(self, result: CheckResult, reply: Sequence[Any], block: str | None, moment: Moment) -> CheckResult:
        """Cluster mode: count a consumed code on the ``{metrics}`` slot (check.lua answered its bucket).
        A failure there is not the user's: the login stands, the count is lost."""
        if not (self.cluster and block and result.status is CheckOutcome.OK and len(reply) > 1 and _text(reply[1])):
            return result
        bucket = _text(reply[1])
        try:
            self._run("metrics", [metrics.day_key(bucket[:8]), metrics.conversion_key(block)],
                      ["verified", moment.now_ms, bucket, 0])
        except StoreUnavailable:
            pass
        return result

    def _add_entry(self, key: str, member: str, moment: Moment, window_seconds: int) -> None:
        """Add ``member`` to a window log on another slot (a guess, cluster mode)."""
        window_ms = window_seconds * 1000
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.zremrangebyscore(key, "-inf", moment.now_ms - window_ms)
            pipe.zadd(key, {member: moment.now_ms})
            pipe.pexpire(key, window_ms)
            pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc


def _check_result(reply: Sequence[Any]) -> CheckResult:
    status = CheckOutcome(_text(reply[0]))
    if status is CheckOutcome.WRONG:
        return CheckResult(status, tries_left=int(reply[1]))
    if status in (CheckOutcome.LOCKED, CheckOutcome.IP):
        return CheckResult(status, wait_ms=int(reply[1]))
    if status is CheckOutcome.BUSY:
        return CheckResult(status, wait_ms=int(reply[1]), global_quota=True)
    if status is CheckOutcome.CAPTCHA:
        return CheckResult(status, global_quota=bool(int(reply[1])))
    return CheckResult(status)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


#: Words that end a script reply's own elements and start its notes (send.lua, metrics.lua).
_NOTES = ("PUMP", "SPEND")


def _own(reply: Sequence[Any]) -> list[Any]:
    """A reply's elements before its notes (``PUMP ...``, ``SPEND``)."""
    own = []
    for item in reply:
        if isinstance(item, (bytes, str)) and _text(item) in _NOTES:
            break
        own.append(item)
    return own


def _pumping(reply: Sequence[Any], tally: Tally | None) -> PumpingChange | None:
    """The ``PUMP old new sends verified`` note of a reply, if any."""
    texts = [_text(item) for item in reply]
    if tally is None or "PUMP" not in texts:
        return None
    at = texts.index("PUMP")
    old, new, sends, verified = texts[at + 1:at + 5]
    return PumpingChange(tally.block, old or "normal", new or "normal", int(sends), int(verified))


def _reserved(reply: Sequence[Any], providers: Sequence[str], tally: Tally | None = None) -> Reserved | Replayed:
    own = _own(reply)
    if _text(own[0]) == "REPLAY":
        return Replayed(_text(own[1]))
    flags = [int(flag) for flag in own[1:]]
    return Reserved(frozenset(name for name, flag in zip(providers, flags) if flag), _text(own[0]) == "PENDING",
                    pumping=_pumping(reply, tally), spend_alert="SPEND" in [_text(item) for item in reply])


def _refusal(reply: Sequence[Any], tally: Tally | None = None) -> Refusal | None:
    own = _own(reply)
    word = _text(own[0])
    if word in ("OK", "PENDING", "REPLAY"):
        return None
    change = _pumping(reply, tally)
    if word == "STEPUP":
        limit = _text(own[1])
        return Refusal(RefusalReason.STEPUP, 0, limit=RefusalReason(limit) if limit else None, pumping=change)
    first_trip = len(own) > 2 and bool(int(own[2]))
    return Refusal(RefusalReason(word), int(own[1]), first_trip, pumping=change)
