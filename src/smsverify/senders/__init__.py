"""SMS providers behind one contract (:mod:`smsverify.senders.base`).

One module per provider; a provider module is imported by
:func:`build_senders` only when ``SMS_PROVIDER`` names it.
"""

from __future__ import annotations

from smsverify.config import Settings
from smsverify.senders.base import SmsSender


def build_sender(settings: Settings, name: str) -> SmsSender:
    """The sender for provider ``name`` (one of ``SMS_PROVIDER``'s names)."""
    if name == "console":
        from smsverify.senders.console import ConsoleSender

        return ConsoleSender()
    if name == "ronglian":
        from smsverify.senders.ronglian import RonglianSender

        assert settings.ronglian is not None  # read by Settings.from_env when named
        return RonglianSender(settings.ronglian, settings.sms_template_params)
    if name == "huyi":
        from smsverify.senders.huyi import HuyiSender

        assert settings.huyi is not None
        return HuyiSender(settings.huyi)
    if name == "zhenzi":
        from smsverify.senders.zhenzi import ZhenziSender

        assert settings.zhenzi is not None
        return ZhenziSender(settings.zhenzi, settings.sms_template_params)
    from smsverify.senders.tencent import TencentSmsSender

    assert settings.credentials is not None  # checked by Settings.from_env
    return TencentSmsSender(
        settings.credentials,
        sdk_app_id=settings.sms_sdk_app_id or "",
        sign_name=settings.sms_sign or "",
        template_id=settings.sms_template_id or "",
        template_params=settings.sms_template_params,
        region=settings.sms_region,
        endpoint=settings.sms_api_endpoint,
        timeout_seconds=settings.sms_timeout_seconds,
    )


def build_senders(settings: Settings) -> list[SmsSender]:
    """The senders named by ``SMS_PROVIDER``, in failover order."""
    return [build_sender(settings, name) for name in settings.sms_providers]
