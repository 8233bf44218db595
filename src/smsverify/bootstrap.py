"""Composition root: settings -> store, sender, captcha -> service, once per container."""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from typing import TYPE_CHECKING, Mapping

from smsverify.settings.config import Settings
from smsverify.clock import Clock
from smsverify.settings.env import is_scf
from smsverify.insight import BLOCK_AFTER_FRACTION, MICRO
from smsverify.service.delivery import Delivery
from smsverify.service.policy import ServicePolicy
from smsverify.service.verification import VerificationService
from smsverify.store.connection import connect, describe
from smsverify.store.base import Limits
from smsverify.store.redis_store import RedisCodeStore

if TYPE_CHECKING:  # loaded only where used
    from smsverify.tokens import TokenConfig
    from smsverify.integrations.wechat import WechatConfig


#: Limits fields read from :class:`smsverify.insight.InsightSettings`, not from Settings' own fields.
INSIGHT_LIMITS = ("pumping_", "metrics_", "spend_")


def limits_from(settings: Settings) -> Limits:
    """The store's :class:`Limits` from the settings (the same names, seconds and counts).

    Captcha rules only when captcha is configured: without it no limit steps
    up, ``VERIFY_CAPTCHA_AFTER`` is off and the global hard cap is the limit.
    """
    step_up = settings.captcha_enabled and settings.captcha_mode == "adaptive"
    insight = settings.insight
    names = [field.name for field in dataclasses.fields(Limits)
             if field.name not in ("captcha", "global_send_hard_limit", "voice_daily_limit")
             and not field.name.startswith(INSIGHT_LIMITS)]
    values = {name: getattr(settings, name) for name in names}
    values.update(
        pumping_window_sends=insight.pumping_window_sends,
        pumping_min_conversion_permille=int(round(insight.pumping_min_conversion * 1000)),
        pumping_block_seconds=insight.pumping_block_seconds,
        pumping_block_after=max(1, int(insight.pumping_window_sends * BLOCK_AFTER_FRACTION)),
        metrics_retention_days=insight.metrics_retention_days,
        spend_alert_micro=int(round(insight.spend_alert_per_hour * MICRO)),
    )
    values["verify_captcha_after"] = settings.verify_captcha_after if settings.captcha_enabled else 0
    values["voice_daily_limit"] = settings.voice.daily_limit if settings.voice is not None else 0
    return Limits(
        **values,
        global_send_hard_limit=settings.global_send_hard_limit if step_up else settings.global_send_limit,
        captcha=settings.captcha_enabled,
    )


def policy_from(settings: Settings) -> ServicePolicy:
    """The service's policy (seconds, counts, keys) from the settings."""
    previous = (settings.code_secret_previous,) if settings.code_secret_previous else ()
    return ServicePolicy(
        code_length=settings.code_length,
        code_ttl_seconds=settings.code_ttl_seconds,
        send_interval_seconds=settings.send_interval_seconds,
        provider_backoff_seconds=settings.provider_backoff_seconds,
        global_send_limit=settings.global_send_limit,
        global_send_window_seconds=settings.global_send_window_seconds,
        default_region=settings.default_region,
        allowed_country_codes=settings.allowed_country_codes,
        code_keys=(settings.code_secret, *previous),
        scenes=settings.scenes,
        captcha_required=settings.captcha_enabled,
        captcha_mode=settings.captcha_mode,
        ipv6_prefix_length=settings.ipv6_prefix_length,
        prefix_digits=settings.prefix_digits,
        unknown_ip_send_limit=settings.unknown_ip_send_limit,
        ip_send_window_seconds=settings.ip_send_window_seconds,
        ipv6_site_prefix_length=settings.ipv6_site_prefix_length,
        legacy_login=settings.legacy_login,
        global_verify_window_seconds=settings.global_verify_window_seconds,
        test_phone_numbers=settings.test_phone_numbers,
        insight=settings.insight,
    )


def read_token_config(env: Mapping[str, str]) -> TokenConfig:
    """The ``TOKEN_*`` settings (:meth:`smsverify.tokens.TokenConfig.from_env`); raises ConfigError."""
    from smsverify.tokens import TokenConfig

    return TokenConfig.from_env(env, in_scf=is_scf(env))


def read_wechat_config(env: Mapping[str, str]) -> WechatConfig | None:
    """The ``WECHAT_*`` settings, or ``None`` when WeChat login is off; raises ConfigError.

    :mod:`smsverify.integrations.wechat` is imported only when ``WECHAT_APP_ID`` or
    ``WECHAT_APP_SECRET`` is set (a cold start without WeChat pays nothing for it).
    """
    if not (env.get("WECHAT_APP_ID") or env.get("WECHAT_APP_SECRET")):
        return None
    from smsverify.integrations.wechat import WechatConfig

    return WechatConfig.from_env(env)


def build_service(
    settings: Settings,
    *,
    clock: Clock = time.time,
    env: Mapping[str, str] | None = None,
    token_config: TokenConfig | None = None,
    wechat_config: WechatConfig | None = None,
) -> VerificationService:
    """Wire the service for ``settings``; announce local fallbacks once on stderr.

    A login also issues a signed token with ``token_config`` and exchanges a
    ``wxCode`` at WeChat with ``wechat_config``, each read from ``env``
    when not given (:func:`read_token_config`, :func:`read_wechat_config`;
    both raise ConfigError). Without either, no token and no WeChat login.
    Connections open lazily: building does no network I/O.
    """
    if env is not None:
        if token_config is None:
            token_config = read_token_config(env)
        if wechat_config is None:
            wechat_config = read_wechat_config(env)
    issuer = None
    if token_config is not None:
        from smsverify.tokens import TokenIssuer

        issuer = TokenIssuer(token_config, clock=clock)
    for notice in settings.notices + (issuer.config.notices if issuer else ()):
        print(f"smsverify: {notice}", file=sys.stderr)
    if settings.in_scf and settings.legacy_login:
        logging.getLogger("smsverify").warning(
            "LEGACY_LOGIN=on: getSms without a verificationId still issues the phone's legacy code, which anyone "
            "may guess at (bounded by MAX_VERIFY_ATTEMPTS per code and DAILY_VERIFY_LIMIT per phone), and whose "
            "guesses count against the client's and the global failed-login quotas; set LEGACY_LOGIN=off once "
            "every client sends verificationId"
        )
    client = connect(settings.redis_url, cluster=settings.redis_cluster, timeout_seconds=settings.redis_timeout_seconds)
    store = RedisCodeStore(client, limits_from(settings), cluster=settings.redis_cluster)
    from smsverify.senders import build_senders, build_voice_sender

    captcha = None
    if settings.captcha_enabled:
        from smsverify.integrations.captcha import TencentCaptcha

        if settings.credentials is None or settings.captcha_app_id is None:
            raise ValueError("captcha is enabled without its settings: build Settings with Settings.from_env")
        captcha = TencentCaptcha(
            settings.credentials,
            app_id=settings.captcha_app_id,
            app_secret_key=settings.captcha_app_secret_key or "",
            endpoint=settings.captcha_api_endpoint,
            timeout_seconds=settings.sms_timeout_seconds,
        )
    delivery = Delivery(
        build_senders(settings),
        timeout_seconds=settings.sms_timeout_seconds,
        budget_seconds=settings.sms_send_budget_seconds,
    )
    wechat_login = None
    if wechat_config is not None:
        from smsverify.integrations.wechat import WechatLogin

        wechat_login = WechatLogin(wechat_config, timeout_seconds=settings.sms_timeout_seconds)
    voice_sender = build_voice_sender(settings)
    voice = None
    if voice_sender is not None:
        voice = Delivery([voice_sender], timeout_seconds=settings.sms_timeout_seconds,
                         budget_seconds=settings.sms_send_budget_seconds)
    return VerificationService(
        policy_from(settings), store, delivery, captcha=captcha, clock=clock, issuer=issuer, wechat=wechat_login,
        voice=voice, store_address=describe(settings.redis_url, cluster=settings.redis_cluster),
    )
