"""Composition root: settings -> store, sender, captcha -> service, once per container."""

from __future__ import annotations

import sys
import time
from typing import Mapping

from smsverify.config import Settings
from smsverify.service.clock import Clock
from smsverify.service.delivery import Delivery
from smsverify.service.verification import VerificationService, limits_from
from smsverify.store.connection import connect
from smsverify.store.redis_store import RedisCodeStore


def build_service(settings: Settings, *, clock: Clock = time.time, env: Mapping[str, str] | None = None) -> VerificationService:
    """Wire the service for ``settings``; announce local fallbacks once on stderr.

    With ``env``, a login also issues a signed token (``TOKEN_*`` variables,
    :meth:`smsverify.token.TokenConfig.from_env`; raises ConfigError).
    Connections open lazily: building does no network I/O.
    """
    issuer = None
    if env is not None:
        from smsverify.token import TokenConfig, TokenIssuer

        token_config = TokenConfig.from_env(env, in_scf=settings.in_scf)
        issuer = TokenIssuer(token_config, clock=clock)
    for notice in settings.notices + (issuer.config.notices if issuer else ()):
        print(f"smsverify: {notice}", file=sys.stderr)
    client = connect(settings.redis_url, cluster=settings.redis_cluster, timeout_seconds=settings.redis_timeout_seconds)
    store = RedisCodeStore(client, limits_from(settings), cluster=settings.redis_cluster)
    from smsverify.senders import build_senders

    captcha = None
    if settings.captcha_enabled:
        from smsverify.captcha import TencentCaptcha

        assert settings.credentials is not None  # required with captcha by Settings.from_env
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
    return VerificationService(settings, store, delivery, captcha=captcha, clock=clock, issuer=issuer)
