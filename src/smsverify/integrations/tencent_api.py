"""What the Tencent Cloud API 3.0 clients (SMS, VMS, Captcha) share: the endpoint
setting and a client built from the SCF role's credentials.

The SDK modules are imported by :func:`sdk_client` only, on first use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from smsverify.integrations.credentials import TencentCredentials


def parse_endpoint(endpoint: str) -> tuple[str, str]:
    """Split an endpoint setting into the SDK's ``(protocol, host[:port])``.

    ``sms.tencentcloudapi.com`` -> ``("https", "sms.tencentcloudapi.com")``;
    ``http://127.0.0.1:9100`` -> ``("http", "127.0.0.1:9100")`` (local emulators).
    """
    if "://" not in endpoint:
        return "https", endpoint
    parts = urlsplit(endpoint)
    return parts.scheme, parts.netloc


def sdk_client(client_class: type, credentials: TencentCredentials, region: str, endpoint: str, timeout_seconds: float) -> Any:
    """An SDK client (``SmsClient``, ``VmsClient``, ``CaptchaClient``) for ``endpoint``.

    The credential is built explicitly from the key and session token: SCF
    injects them as ``TENCENTCLOUD_SECRETID``/``SECRETKEY``/``SESSIONTOKEN``,
    names no SDK credential provider reads. ``timeout_seconds`` bounds each
    request (``HttpProfile.reqTimeout``); the SDK does not retry.
    """
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    protocol, host = parse_endpoint(endpoint)
    http = HttpProfile(protocol=protocol, endpoint=host, reqTimeout=timeout_seconds)
    cred = credential.Credential(credentials.secret_id, credentials.secret_key, credentials.session_token)
    return client_class(cred, region, ClientProfile(httpProfile=http))


def set_request_timeout(client: Any, timeout_seconds: float) -> None:
    """Bound the next requests of an SDK ``client`` to ``timeout_seconds``.

    The SDK fixes the timeout (``HttpProfile.reqTimeout``) when it builds its
    connection; a failover attempt may have less time left than configured.
    """
    connection = getattr(getattr(client, "request", None), "conn", None)
    if connection is not None and hasattr(connection, "timeout"):
        connection.timeout = timeout_seconds
