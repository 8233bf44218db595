"""The service clock, kept at this path for its importers: see :mod:`smsverify.clock`."""

from smsverify.clock import CHINA_TZ, Clock, Moment, moment_at

__all__ = ["CHINA_TZ", "Clock", "Moment", "moment_at"]
