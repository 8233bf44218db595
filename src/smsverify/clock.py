"""The service clock: one request's time and the calendar day that daily
limits count in (a leaf module: the service and the store both use it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
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


#: Asia/Shanghai's offset from UTC in milliseconds, and one day.
_OFFSET_MS = 8 * HOUR_MS
_DAY_MS = 24 * HOUR_MS


def moment_at(now_seconds: float) -> Moment:
    """The :class:`Moment` for a Unix time in seconds.

    Integer arithmetic on the fixed UTC+8 offset; the day's text is formatted
    once per day (a warm container computes a Moment on every call).
    """
    now_ms = int(now_seconds * 1000)
    local_ms = now_ms + _OFFSET_MS
    day_index = local_ms // _DAY_MS
    return Moment(now_ms=now_ms, day=_day_text(day_index), ms_to_day_end=max(1, (day_index + 1) * _DAY_MS - local_ms))


@lru_cache(maxsize=8)
def _day_text(day_index: int) -> str:
    """``YYYYMMDD`` of the ``day_index``-th Asia/Shanghai day since 1970-01-01."""
    return (datetime(1970, 1, 1) + timedelta(days=day_index)).strftime("%Y%m%d")
