"""Tencent Cloud CAM credentials, as SCF injects them.

SCF sets the execution role's temporary key as ``TENCENTCLOUD_SECRETID``,
``TENCENTCLOUD_SECRETKEY`` and ``TENCENTCLOUD_SESSIONTOKEN`` (Tencent Cloud
SCF documentation, "Environment variables"), names no SDK credential provider
reads (the SDK's environment provider reads ``TENCENTCLOUD_SECRET_ID`` and
``TENCENTCLOUD_SECRET_KEY``), so the Tencent SMS and voice senders, the
delivery-receipt pull and the captcha check build their credential from this
value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smsverify.settings.env import EnvReader


@dataclass(frozen=True)
class TencentCredentials:
    """A Tencent Cloud CAM key pair with an optional STS session token."""

    secret_id: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, reader: EnvReader, purpose: str) -> "TencentCredentials":
        """Read the role's key; a missing part is recorded on ``reader``
        as required ``purpose`` (e.g. ``"to check captcha tickets"``)."""
        why = f"{purpose} (SCF sets it from the function's execution role)"
        secret_id = reader.required("TENCENTCLOUD_SECRETID", why)
        secret_key = reader.required("TENCENTCLOUD_SECRETKEY", why)
        return cls(secret_id, secret_key, reader.text("TENCENTCLOUD_SESSIONTOKEN"))
