"""The numbers the verification service needs, as one small frozen value.

Built once per container by :mod:`smsverify.bootstrap` from the settings, so
the service depends on this value, not on the whole configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from smsverify.insight import InsightSettings
from smsverify.settings.scenes import DEFAULT_SCENE


@dataclass(frozen=True)
class ServicePolicy:
    """What :class:`~smsverify.service.verification.VerificationService` decides with.

    Durations are seconds.
    """

    code_length: int  #: digits of a new code (``CODE_LENGTH``)
    code_ttl_seconds: int  #: life of a code (``CODE_TTL_SECONDS``)
    send_interval_seconds: int  #: the resend cooldown (``SEND_INTERVAL_SECONDS``)
    provider_backoff_seconds: int  #: a failed provider is tried last this long (``PROVIDER_BACKOFF_SECONDS``)
    global_send_limit: int  #: the global send quota, for its log line (``GLOBAL_SEND_LIMIT``)
    global_send_window_seconds: int  #: its window (``GLOBAL_SEND_WINDOW_SECONDS``)
    default_region: str  #: region of national numbers (``DEFAULT_REGION``)
    allowed_country_codes: frozenset[int] | None  #: ``None``: any country (``ALLOWED_COUNTRY_CODES``)
    #: HMAC keys: the current one first, then the previous one if any (``CODE_SECRET``, ``CODE_SECRET_PREVIOUS``).
    code_keys: tuple[bytes, ...] = field(repr=False)
    scenes: tuple[str, ...] = (DEFAULT_SCENE,)  #: allowed scenes, in order (``SMS_SCENES``)
    captcha_required: bool = False  #: getSms needs a captcha ticket (``CAPTCHA_APP_ID`` set)
    #: with ``captcha_required``: ``always`` (every getSms needs a ticket) or ``adaptive``
    #: (only a request without a client IP, or past the global quota: step-up) (``CAPTCHA_MODE``)
    captcha_mode: str = "always"
    ipv6_prefix_length: int = 64  #: IPv6 clients are grouped by this prefix (``IPV6_PREFIX_LENGTH``)
    prefix_digits: int = 7  #: national digits of a destination prefix (``PREFIX_DIGITS``)
    unknown_ip_send_limit: int = 0  #: getSms of the shared no-IP bucket, for its warning (``UNKNOWN_IP_SEND_LIMIT``)
    ip_send_window_seconds: int = 0  #: its window (``IP_SEND_WINDOW_SECONDS``)
    ipv6_site_prefix_length: int = 48  #: IPv6 sites are grouped by this prefix (``IPV6_SITE_PREFIX_LENGTH``)
    legacy_login: bool = True  #: getSms without ``verificationId`` still issues a code (``LEGACY_LOGIN``)
    global_verify_window_seconds: int = 3600  #: the global failed-login window, for its log line
    #: E.164 -> fixed code of the test numbers (``TEST_PHONE_NUMBERS``): no SMS, every other rule applies
    test_phone_numbers: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: conversion counters, pumping, prices (``PUMPING_*``, ``SMS_PRICE``, ``SPEND_ALERT_PER_HOUR``)
    insight: InsightSettings = InsightSettings()
