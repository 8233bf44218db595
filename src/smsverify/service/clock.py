"""The service clock and the calendar day that daily limits count in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from smsverify.store.redis_store import Moment

#: Asia/Shanghai: UTC+8 all year (China has had no daylight saving since 1991),
#: so a fixed offset avoids depending on the tz database in the runtime.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def moment_at(now_seconds: float) -> Moment:
    """The :class:`Moment` for a Unix time in seconds."""
    now_ms = int(now_seconds * 1000)
    local = datetime.fromtimestamp(now_seconds, CHINA_TZ)
    next_midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    ms_to_end = max(1, int((next_midnight - local).total_seconds() * 1000))
    return Moment(now_ms=now_ms, day=local.strftime("%Y%m%d"), ms_to_day_end=ms_to_end)


Clock = Callable[[], float]
