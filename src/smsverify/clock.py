"""The service clock: one request's time and the calendar day that daily
limits count in (a leaf module: the service and the store both use it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

#: Asia/Shanghai: UTC+8 all year (China has had no daylight saving since 1991),
#: so a fixed offset avoids depending on the tz database in the runtime.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

#: One hour in milliseconds (the rolling window of HOURLY_SEND_LIMIT; a daily
#: count is also kept this long past the end of its day).
HOUR_MS = 3_600_000

#: Unix time in seconds; tests pass a controllable one.
Clock = Callable[[], float]


@dataclass(frozen=True)
class Moment:
    """The service clock at one request.

    ``now_ms`` is Unix time in ms; ``day`` the Asia/Shanghai calendar day as
    ``YYYYMMDD``; ``ms_to_day_end`` the time left in that day.
    """

    now_ms: int
    day: str
    ms_to_day_end: int


def moment_at(now_seconds: float) -> Moment:
    """The :class:`Moment` for a Unix time in seconds."""
    now_ms = int(now_seconds * 1000)
    local = datetime.fromtimestamp(now_seconds, CHINA_TZ)
    next_midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    ms_to_end = max(1, int((next_midnight - local).total_seconds() * 1000))
    return Moment(now_ms=now_ms, day=local.strftime("%Y%m%d"), ms_to_day_end=ms_to_end)
