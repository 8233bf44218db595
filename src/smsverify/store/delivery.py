"""Delivery state of each SMS, kept in Redis next to the code.

One hash per SMS, ``smsverify:{<E.164 phone>}:delivery:<serial number>``
(:func:`smsverify.store.keys.delivery_key`), with the fields

- ``state``: ``sent``, ``failed`` or ``delivered`` (:class:`DeliveryState`);
- ``description``: the carrier's code as the provider passed it on (``DELIVRD``), or ``""``;
- ``at``: unix seconds of the report (for ``sent``: of the send).

and the code's TTL (``CODE_TTL_SECONDS``) from its creation: a receipt
rewrites the fields but keeps the TTL the hash already has. A report for a
serial number this store never saw (sent by another instance, or before the
send was recorded) is stored the same way, under the same TTL, so nothing
grows without bound.

A state only moves up, ``sent`` < ``failed`` < ``delivered``
(:attr:`DeliveryState.rank`; ``store/lua/receipt.lua``): duplicates and
reports arriving out of order (push and pull both on) change nothing, and a
late success after a failure report wins.

Every key of one report is on the phone's slot, and each report is one script
call, so the same code serves a single redis-server, a Redis Cluster
(redis-py's ``RedisCluster``) and fakeredis. On a single server (and
fakeredis) the calls travel in pipelines of :data:`PIPELINE_REPORTS`, one
round trip each; redis-py's cluster pipeline does not run scripts, so on a
cluster each report is its own round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Iterable

import redis

from smsverify.senders.receipts import DeliveryReport, DeliveryState
from smsverify.store.base import StoreUnavailable
from smsverify.store import metrics
from smsverify.store.connection import with_timeout_retries
from smsverify.store.keys import delivery_key

#: Tries of one script call (or pipeline) after a Redis timeout; recording is idempotent, so a retry is safe.
TIMEOUT_RETRIES = 1
#: Reports per pipeline on a single server.
PIPELINE_REPORTS = 100

_SOURCE: str | None = None


def _source() -> str:
    global _SOURCE
    if _SOURCE is None:
        _SOURCE = (resources.files("smsverify.store") / "lua" / "receipt.lua").read_text(encoding="utf-8")
    return _SOURCE


@dataclass(frozen=True)
class Recorded:
    """What :func:`record_deliveries` did, counts of reports."""

    changed: int  #: reports that wrote a state (new, or a step up)
    unchanged: int  #: duplicates and reports below the stored state


def record_deliveries(client: Any, reports: Iterable[DeliveryReport], ttl_seconds: int, *,
                      block_of: Callable[[str], str | None] | None = None, retention_days: int = 7,
                      now: float | None = None) -> Recorded:
    """Record each report's state under its phone and serial number.

    Parameters
    ----------
    client:
        A ``redis.Redis``, ``redis.cluster.RedisCluster`` (or the store's lazy
        cluster wrapper) or fakeredis client.
    reports:
        In any order, duplicates allowed.
    ttl_seconds:
        Lifetime of a hash created by a report (``CODE_TTL_SECONDS``); a hash
        that exists keeps its TTL.
    block_of:
        The number block of an E.164 phone (``86:1380013``), or ``None``:
        with it, a report that changes a state counts one ``delivered`` or
        ``failed`` in the conversion counters (:mod:`smsverify.store.metrics`)
        of its hour, under its provider and scene ``-``; single server: in the
        same script; cluster: one pipeline of HINCRBY on the ``{metrics}``
        slot after the batch.
    retention_days:
        ``METRICS_RETENTION_DAYS``, the counters' TTL.
    now:
        Unix seconds of the recording (the function's clock): the hour the
        counters count in (receipts arrive seconds after the send, and the
        handset's time in a report may be anything); ``None``: each report's own.

    Returns
    -------
    Recorded
        How many reports changed a state and how many changed nothing.

    Raises
    ------
    StoreUnavailable
        Redis failed; reports before the failing one are recorded, and
        recording the whole batch again is harmless.
    """
    script = client.register_script(_source())
    ttl_ms = max(1, int(ttl_seconds * 1000))
    single = isinstance(client, redis.Redis)  # a single server or fakeredis
    retention_ms = max(1, retention_days) * 86_400_000
    reports = list(reports)
    counted: list[tuple[str, str] | None] = []  # (day key, field base) of each report, None: not counted
    calls = []
    for r in reports:
        block = block_of(r.phone) if block_of else None
        day, hour = metrics.local_hour(int((r.received_at if now is None else now) * 1000))
        counted.append((metrics.day_key(day), f"{hour}|{block}|{r.provider}|{metrics.UNKNOWN_SCENE}") if block else None)
        keys = [delivery_key(r.phone, r.serial_no)]
        args = [r.state.value, r.description, int(r.received_at), ttl_ms]
        if single and counted[-1]:
            keys.append(counted[-1][0])
            args += [counted[-1][1], retention_ms]
        calls.append((keys, args))
    if single:  # pipelined
        results: list[Any] = []
        for start in range(0, len(calls), PIPELINE_REPORTS):
            chunk = calls[start:start + PIPELINE_REPORTS]
            results += with_timeout_retries(lambda chunk=chunk: _pipelined(client, script, chunk), TIMEOUT_RETRIES)
    else:
        results = [with_timeout_retries(lambda keys=keys, args=args: script(keys=keys, args=args), TIMEOUT_RETRIES) for keys, args in calls]
        _count_on_cluster(client, reports, results, counted, retention_ms)
    changed = sum(1 for done in results if int(done) >= 1)
    return Recorded(changed=changed, unchanged=len(results) - changed)


def _count_on_cluster(client: Any, reports: list[DeliveryReport], results: list[Any],
                      counted: list[tuple[str, str] | None], retention_ms: int) -> None:
    """Count the changed reports on the ``{metrics}`` slot: one pipeline (a failure loses the counts, not the reports)."""
    items = [(where, r.state.value) for r, done, where in zip(reports, results, counted) if where and int(done) >= 1]
    if not items:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for (key, base), state in items:
            pipe.hincrby(key, f"{base}|{state}", 1)
        for key in {key for (key, _), _ in items}:
            pipe.pexpire(key, retention_ms)
        pipe.execute()
    except redis.RedisError:
        pass


def _pipelined(client: Any, script: Any, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
    pipe = client.pipeline(transaction=False)
    for keys, args in calls:
        script(keys=keys, args=args, client=pipe)
    return pipe.execute()


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def delivery_state(client: Any, phone: str, serial_no: str) -> tuple[DeliveryState, str] | None:
    """The stored ``(state, description)`` of the SMS ``serial_no`` to ``phone`` (E.164).

    ``None`` when nothing is stored: no receipt yet (and no ``sent`` record),
    or the TTL has passed. One HMGET on the phone's slot.

    Raises
    ------
    StoreUnavailable
        Redis failed.
    """
    try:
        state, description = client.hmget(delivery_key(phone, serial_no), ["state", "description"])
    except redis.RedisError as exc:
        raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
    if state is None:
        return None
    try:
        return DeliveryState(_text(state)), _text(description) if description is not None else ""
    except ValueError:
        return None
