"""SMS providers behind one contract (:mod:`smsverify.senders.base`).

Provider modules are imported by :func:`build_sender` only when selected.
"""

from __future__ import annotations

from smsverify.config import Settings
from smsverify.senders.base import SmsSender


def build_sender(settings: Settings) -> SmsSender:
    """The sender named by ``SMS_PROVIDER`` (``tencent`` | ``console``)."""
    if settings.sms_provider == "console":
        from smsverify.senders.console import ConsoleSender

        return ConsoleSender()
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
