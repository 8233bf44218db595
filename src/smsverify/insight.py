"""Insight settings: conversion counters, pumping caught by conversion, spend.

Read once per container by :meth:`InsightSettings.from_reader` (called from
:meth:`smsverify.settings.config.Settings.from_env`). Variables (defaults in brackets):

``METRICS_RETENTION_DAYS`` [7]
    Days the hourly conversion counters are kept (the TTL of each day's
    counter hash, renewed while it is written).
``PUMPING_WINDOW_SENDS`` [50]
    A number block (country code + ``PREFIX_DIGITS`` national digits) is
    judged by its conversion (codes verified / codes sent) over its last
    ``PUMPING_WINDOW_SENDS`` to ``2 x PUMPING_WINDOW_SENDS`` sends; 0 turns the
    judgement off (the counters stay).
``PUMPING_MIN_CONVERSION`` [0.2]
    Below it a block steps up to a captcha for its next sends; below half of
    it, once :data:`BLOCK_AFTER_FRACTION` of a window more was sent with
    tickets, it is refused (``PrefixLimitExceeded``, ``reason: "conversion"``).
``PUMPING_BLOCK_SECONDS`` [3600]
    How long a stepped-up or refused block stays so unless its conversion
    recovers; then its window starts again from nothing.
``PUMPING_ALLOW_PREFIXES`` [none]
    Comma list of blocks never judged, as they appear in the logs' ``prefix``
    field (``86:1380013``); a shorter entry (``86:138``) exempts every block
    it starts.
``SMS_PRICE`` [none]
    ``provider:countrycode=price`` entries, comma separated, CNY per message,
    e.g. ``tencent:86=0.045,ronglian:86=0.06`` (examples, not quoted prices:
    use your contract's). ``provider:*=price`` prices every other country.
    Turns the ``sent`` counters into spend (``python -m smsverify stats``).
``SPEND_ALERT_PER_HOUR`` [0: off]
    CNY; when the hour's spend (priced sends of that Asia/Shanghai hour, all
    instances together) passes it, one ERROR line is logged, once per hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from smsverify.settings.env import EnvReader, note

#: Once stepped up, a block is refused only after this fraction of a window
#: (``PUMPING_WINDOW_SENDS``) more sends passed with captcha tickets while its
#: conversion stayed below half of ``PUMPING_MIN_CONVERSION``.
BLOCK_AFTER_FRACTION = 0.2

#: Prices are kept in millionths of a CNY (integers, for the Redis counters).
MICRO = 1_000_000


@dataclass(frozen=True)
class InsightSettings:
    """The insight variables (module doc), validated. Prices are CNY per message."""

    metrics_retention_days: int = 7
    pumping_window_sends: int = 50
    pumping_min_conversion: float = 0.2
    pumping_block_seconds: int = 3600
    pumping_allow_prefixes: tuple[str, ...] = ()
    #: ``{(provider, country code or "*"): CNY per message}``
    sms_prices: Mapping[tuple[str, str], float] = field(default_factory=dict)
    spend_alert_per_hour: float = 0.0

    def exempt(self, block: str) -> bool:
        """Whether number block ``block`` (``"86:1380013"``) is never judged by its conversion."""
        return any(block.startswith(entry) for entry in self.pumping_allow_prefixes)

    def price(self, provider: str, country_code: int | str) -> float | None:
        """CNY per message of ``provider`` to ``country_code``, ``None`` when ``SMS_PRICE`` has none."""
        prices = self.sms_prices
        return prices.get((provider, str(country_code)), prices.get((provider, "*")))

    def price_micro(self, provider: str, country_code: int | str) -> int:
        """:meth:`price` in millionths of a CNY, 0 when unknown."""
        price = self.price(provider, country_code)
        return int(round(price * MICRO)) if price is not None else 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> InsightSettings:
        """Read and validate the variables; raises ``ConfigError`` naming every bad one."""
        reader = EnvReader(env)
        settings = cls.from_reader(reader)
        reader.raise_problems()
        return settings

    @classmethod
    def from_reader(cls, reader: EnvReader) -> InsightSettings:
        """Read the variables, recording problems on ``reader`` (defaults stand in for bad values)."""
        return cls(
            metrics_retention_days=reader.integer("METRICS_RETENTION_DAYS", 7, minimum=1, maximum=366),
            pumping_window_sends=reader.integer("PUMPING_WINDOW_SENDS", 50, minimum=0, maximum=100_000),
            pumping_min_conversion=_fraction(reader, "PUMPING_MIN_CONVERSION", 0.2),
            pumping_block_seconds=reader.integer("PUMPING_BLOCK_SECONDS", 3600, minimum=1, maximum=86400 * 7),
            pumping_allow_prefixes=_blocks(reader, "PUMPING_ALLOW_PREFIXES"),
            sms_prices=_prices(reader, "SMS_PRICE"),
            spend_alert_per_hour=_amount(reader, "SPEND_ALERT_PER_HOUR"),
        )


def _fraction(reader: EnvReader, name: str, default: float) -> float:
    note(reader.env, name, "number", default, 0.0, 1.0)
    raw = reader.text(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        reader.problem(name, f"must be a number between 0 and 1, got {raw!r}")
        return default
    return value


def _amount(reader: EnvReader, name: str) -> float:
    note(reader.env, name, "number", 0.0, 0.0, None)
    raw = reader.text(name)
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0.0 or value == float("inf"):
        reader.problem(name, f"must be an amount of CNY >= 0, got {raw!r}")
        return 0.0
    return value


def _blocks(reader: EnvReader, name: str) -> tuple[str, ...]:
    raw = reader.text(name)
    if raw is None:
        return ()
    blocks = []
    for part in raw.split(","):
        part = part.strip()
        cc, sep, digits = part.partition(":")
        if not (sep and cc.isdigit() and cc.isascii() and (digits == "" or (digits.isdigit() and digits.isascii()))):
            reader.problem(name, f"entries are number blocks like 86:1380013, got {part!r}")
            return ()
        blocks.append(part)
    return tuple(blocks)


def _prices(reader: EnvReader, name: str) -> dict[tuple[str, str], float]:
    raw = reader.text(name)
    if raw is None:
        return {}
    prices: dict[tuple[str, str], float] = {}
    for part in raw.split(","):
        part = part.strip()
        target, sep, amount = part.partition("=")
        provider, colon, country = target.partition(":")
        try:
            value = float(amount)
        except ValueError:
            value = -1.0
        country_ok = country == "*" or (country.isdigit() and country.isascii())
        if not (sep and colon and provider and country_ok and 0.0 <= value < 1000.0):
            reader.problem(name, f"entries are provider:countrycode=CNY like tencent:86=0.045, got {part!r}")
            return {}
        prices[(provider, country)] = value
    return prices
