"""Composition root: settings -> store, sender, captcha -> service, once per container."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Mapping

from smsverify.config import Settings
from smsverify.clock import Clock
from smsverify.env import is_scf
from smsverify.service.delivery import Delivery
from smsverify.service.policy import ServicePolicy
from smsverify.service.verification import VerificationService
from smsverify.store.connection import connect
from smsverify.store.redis_store import RedisCodeStore, SendLimits

if TYPE_CHECKING:  # loaded only where used
    from smsverify.tokens import TokenConfig
    from smsverify.wechat import WechatConfig


def limits_from(settings: Settings) -> SendLimits:
    """The store's policy, in milliseconds, from the settings (seconds)."""
    return SendLimits(
        code_ttl_ms=settings.code_ttl_seconds * 1000,
        cooldown_ms=settings.send_interval_seconds * 1000,
        hourly_limit=settings.hourly_send_limit,
        daily_limit=settings.daily_send_limit,
        ip_limit=settings.ip_send_limit,
        ip_window_ms=settings.ip_send_window_seconds * 1000,
        global_limit=settings.global_send_limit,
        global_window_ms=settings.global_send_window_seconds * 1000,
        max_wrong_tries=settings.max_verify_attempts,
        daily_verify_limit=settings.daily_verify_limit,
        **_abuse_limits(settings),
    )


def _abuse_limits(settings: Settings) -> dict:
    """The abuse limits of :class:`SendLimits`; captcha rules only when captcha is configured."""
    step_up = settings.captcha_enabled and settings.captcha_mode == "adaptive"
    return {
        "unknown_ip_limit": settings.unknown_ip_send_limit,
        "prefix_limit": settings.prefix_send_limit,
        "prefix_window_ms": settings.prefix_send_window_seconds * 1000,
        "global_hard_limit": settings.global_send_hard_limit if step_up else 0,
        "step_up": step_up,
        "ip_verify_limit": settings.ip_verify_limit,
        "ip_verify_window_ms": settings.ip_verify_window_seconds * 1000,
        "global_verify_limit": settings.global_verify_limit,
        "global_verify_window_ms": settings.global_verify_window_seconds * 1000,
        "verify_captcha_after": settings.verify_captcha_after if settings.captcha_enabled else 0,
    }


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
    )


def read_token_config(env: Mapping[str, str]) -> TokenConfig:
    """The ``TOKEN_*`` settings (:meth:`smsverify.tokens.TokenConfig.from_env`); raises ConfigError."""
    from smsverify.tokens import TokenConfig

    return TokenConfig.from_env(env, in_scf=is_scf(env))


def read_wechat_config(env: Mapping[str, str]) -> WechatConfig | None:
    """The ``WECHAT_*`` settings, or ``None`` when WeChat login is off; raises ConfigError.

    :mod:`smsverify.wechat` is imported only when ``WECHAT_APP_ID`` or
    ``WECHAT_APP_SECRET`` is set (a cold start without WeChat pays nothing for it).
    """
    if not (env.get("WECHAT_APP_ID") or env.get("WECHAT_APP_SECRET")):
        return None
    from smsverify.wechat import WechatConfig

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
    client = connect(settings.redis_url, cluster=settings.redis_cluster, timeout_seconds=settings.redis_timeout_seconds)
    store = RedisCodeStore(client, limits_from(settings), cluster=settings.redis_cluster)
    from smsverify.senders import build_senders

    captcha = None
    if settings.captcha_enabled:
        from smsverify.captcha import TencentCaptcha

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
        from smsverify.wechat import WechatLogin

        wechat_login = WechatLogin(wechat_config, timeout_seconds=settings.sms_timeout_seconds)
    return VerificationService(
        policy_from(settings), store, delivery, captcha=captcha, clock=clock, issuer=issuer, wechat=wechat_login
    )
