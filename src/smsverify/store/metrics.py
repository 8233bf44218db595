"""Conversion counters: codes sent, delivered, failed and verified per hour and
per (number block, provider, scene), kept in Redis by the scripts that
already run, plus each number block's conversion window (pumping).

Keys (all under the hash tag ``{metrics}``, one Redis Cluster slot):

``smsverify:{metrics}:<YYYYMMDD>``
    One hash per Asia/Shanghai day; field ``<HH>|<block>|<provider>|<scene>|<event>``
    (``08|86:1380013|tencent|login|sent``) counts the events of that hour,
    with ``event`` one of :data:`EVENTS`; field ``<HH>|spend`` is the hour's
    priced sends in millionths of a CNY (written only when
    ``SPEND_ALERT_PER_HOUR`` is set). TTL ``METRICS_RETENTION_DAYS`` days,
    renewed whenever a field is created, so memory is bounded by the blocks
    actually sent to within the retention.
``smsverify:{metrics}:conversion:<block>``
    The block's conversion window (send.lua / check.lua: ``s``, ``v`` sends and
    verifications of the current batch, ``ps``, ``pv`` of the previous one,
    ``st`` state, ``u`` until when, ``k`` sends since the state changed).

What counts where (single node: inside the scripts, no extra command sent):

- ``sent``: send.lua, when a getSms is reserved, under the provider expected
  to send it (:class:`smsverify.store.base.Tally`); release.lua takes it
  back when the reservation is released (the provider refused); after a
  failover to another provider the service moves it (one pipelined call,
  only on that path).
- ``verified``: check.lua, when a code is consumed, in the bucket of its
  send (the code hash keeps it in field ``b``: ``YYYYMMDD|HH|block|provider|scene``).
- ``delivered`` / ``failed``: receipt.lua, when a report changes the SMS's
  state, in the hour of the report; the scene of a receipt is not known, so
  it counts under scene ``-``.
- expired unused is not written: it is ``sent - verified`` of the hours whose
  codes have all expired (:func:`read_counters`).

Redis Cluster: a script touches one slot, and these keys are not on the
phone's, so there the store writes them with :data:`METRICS_SCRIPT` on the
``{metrics}`` slot, one call after (or, for a send, before) the phone's
script: one more round trip per getSms, per successful login and per receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Iterable

from smsverify.clock import CHINA_TZ, HOUR_MS

PREFIX = "smsverify"
#: The counted events (the last part of a counter field).
EVENTS = ("sent", "delivered", "failed", "verified")
#: The scene of counters written by receipts (which do not know it).
UNKNOWN_SCENE = "-"


def day_key(day: str) -> str:
    """The counter hash of one Asia/Shanghai day (``YYYYMMDD``)."""
    return f"{PREFIX}:{{metrics}}:{day}"


def conversion_key(block: str) -> str:
    """The conversion window of number block ``block`` (``86:1380013``)."""
    return f"{PREFIX}:{{metrics}}:conversion:{block}"


def local_hour(now_ms: int) -> tuple[str, str]:
    """``(YYYYMMDD, HH)`` of ``now_ms`` (unix ms) in Asia/Shanghai."""
    return _local_hour(now_ms // HOUR_MS)


@lru_cache(maxsize=64)
def _local_hour(hour_index: int) -> tuple[str, str]:
    """``local_hour`` of an hour since the epoch (Asia/Shanghai is a whole-hour offset): formatted once per hour."""
    local = datetime.fromtimestamp(hour_index * 3600, CHINA_TZ)
    return local.strftime("%Y%m%d"), local.strftime("%H")


@lru_cache(maxsize=64)
def previous_day(day: str) -> str:
    """The day before ``day`` (``YYYYMMDD``); parsed once per day."""
    return (datetime.strptime(day, "%Y%m%d") - timedelta(days=1)).strftime("%Y%m%d")


def bucket(now_ms: int, block: str, provider: str, scene: str) -> str:
    """The bucket a send counts in: ``YYYYMMDD|HH|block|provider|scene``."""
    day, hour = local_hour(now_ms)
    return f"{day}|{hour}|{block}|{provider}|{scene}"


def counter_field(hour: str, block: str, provider: str, scene: str, event: str) -> str:
    return f"{hour}|{block}|{provider}|{scene}|{event}"


@dataclass
class Counts:
    """Counts of one hour and bucket (or an aggregate of several)."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    verified: int = 0

    def add(self, other: Counts) -> None:
        for name in EVENTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def conversion(self) -> float | None:
        """verified / sent, ``None`` with nothing sent."""
        return self.verified / self.sent if self.sent > 0 else None


@dataclass
class Row:
    """One hour of one (block, provider, scene): its counts."""

    hour: datetime  #: the hour's start, Asia/Shanghai
    block: str
    provider: str
    scene: str
    counts: Counts = field(default_factory=Counts)

    @property
    def country(self) -> str:
        return self.block.partition(":")[0]


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def parse_fields(day: str, fields: dict[Any, Any]) -> tuple[list[Row], dict[datetime, int]]:
    """The rows and the hourly spend (millionths of a CNY) of one day's hash."""
    rows: dict[tuple[str, str, str, str], Row] = {}
    spend: dict[datetime, int] = {}
    for raw_name, raw_value in fields.items():
        parts = _text(raw_name).split("|")
        try:
            value = int(_text(raw_value))
            hour = datetime.strptime(day + parts[0], "%Y%m%d%H").replace(tzinfo=CHINA_TZ)
        except ValueError:
            continue
        if len(parts) == 2 and parts[1] == "spend":
            spend[hour] = value
            continue
        if len(parts) != 5 or parts[4] not in EVENTS:
            continue
        key = (parts[0], parts[1], parts[2], parts[3])
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(hour, parts[1], parts[2], parts[3])
        setattr(row.counts, parts[4], getattr(row.counts, parts[4]) + value)
    return list(rows.values()), spend


def read_counters(client: Any, now_ms: int, hours: int) -> tuple[list[Row], dict[datetime, int]]:
    """The counters of the last ``hours`` hours (the current one included), and the hourly spend.

    Reads one HGETALL per Asia/Shanghai day the hours span. Raises
    ``redis.RedisError`` when Redis fails.
    """
    now = datetime.fromtimestamp(now_ms / 1000, CHINA_TZ).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=max(1, hours) - 1)
    days = sorted({(first + timedelta(hours=h)).strftime("%Y%m%d") for h in range(max(1, hours))})
    rows: list[Row] = []
    spend: dict[datetime, int] = {}
    for day in days:
        day_rows, day_spend = parse_fields(day, client.hgetall(day_key(day)))
        rows += [row for row in day_rows if first <= row.hour <= now]
        spend.update({hour: value for hour, value in day_spend.items() if first <= hour <= now})
    return rows, spend


def increments(items: Iterable[tuple[str, str, int]]) -> list[str]:
    """ARGV of :data:`METRICS_SCRIPT`'s ``add`` mode for ``(day, field, by)`` items."""
    args: list[str] = []
    for day, name, by in items:
        args += [day, name, str(by)]
    return args
