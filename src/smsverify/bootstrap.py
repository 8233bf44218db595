"""Composition root: settings -> store, sender, captcha -> service, once per container."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from smsverify.config import Settings
from smsverify.service.clock import Clock
from smsverify.service.delivery import Delivery
from smsverify.service.verification import VerificationService, limits_from
from smsverify.store.connection import connect
from smsverify.store.redis_store import RedisCodeStore

if TYPE_CHECKING:
    from smsverify.wechat import WechatConfig


def build_service(
    settings: Settings, *, clock: Clock = time.time, wechat: WechatConfig | None = None
) -> VerificationService:
    """Wire the service for ``settings`` (and WeChat login when ``wechat`` is given);
    announce local fallbacks once on stderr.

    Connections open lazily: building does no network I/O.
    """
    for notice in settings.notices:
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
    wechat_login = None
    if wechat is not None:
        from smsverify.wechat import WechatLogin

        wechat_login = WechatLogin(wechat, timeout_seconds=settings.sms_timeout_seconds)
    return VerificationService(settings, store, delivery, captcha=captcha, clock=clock, wechat=wechat_login)
