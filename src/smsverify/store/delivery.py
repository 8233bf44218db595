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
from typing import Any, Iterable

import redis

from smsverify.senders.receipts import DeliveryReport, DeliveryState
from smsverify.store.base import StoreUnavailable
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


def _retried(call: Any) -> Any:
    tries = 0
    while True:
        try:
            return call()
        except redis.TimeoutError as exc:
            tries += 1
            if tries > TIMEOUT_RETRIES:
                raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc


def record_deliveries(client: Any, reports: Iterable[DeliveryReport], ttl_seconds: int) -> Recorded:
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
    calls = [([delivery_key(r.phone, r.serial_no)], [r.state.value, r.description, int(r.received_at), ttl_ms])
             for r in reports]
    if isinstance(client, redis.Redis):  # a single server or fakeredis: pipelined
        results: list[Any] = []
        for start in range(0, len(calls), PIPELINE_REPORTS):
            chunk = calls[start:start + PIPELINE_REPORTS]
            results += _retried(lambda chunk=chunk: _pipelined(client, script, chunk))
    else:
        results = [_retried(lambda keys=keys, args=args: script(keys=keys, args=args)) for keys, args in calls]
    changed = sum(1 for done in results if int(done) == 1)
    return Recorded(changed=changed, unchanged=len(results) - changed)


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
