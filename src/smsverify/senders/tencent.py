"""Tencent Cloud SMS (API 3.0 ``SendSms``, version 2021-01-11) through the
official slim SDK ``tencentcloud-sdk-python-sms``.

Facts this module follows (see also ../shared/reference/tencent-sms-api.md):

- Request: ``PhoneNumberSet`` (E.164), ``SmsSdkAppId``, ``SignName``,
  ``TemplateId``, ``TemplateParamSet``
  (https://cloud.tencent.com/document/api/382/55981).
- Errors come two ways: a request-level ``Response.Error`` that the SDK raises
  as ``TencentCloudSDKException(code, message, requestId)``, and a per-number
  ``SendStatusSet[i].Code`` other than ``"Ok"`` in an HTTP 200 answer. Codes:
  https://cloud.tencent.com/document/api/382/59177.
- A non-200 HTTP status becomes ``ServerNetworkError``; transport failures
  become ``ClientNetworkError`` with the ``requests`` exception as context.
- ``InternalError.Timeout``: Tencent does not know whether the SMS left.
- Credentials: SCF injects the role's temporary key as
  ``TENCENTCLOUD_SECRETID``/``SECRETKEY``/``SESSIONTOKEN``, names that no SDK
  provider reads, so the credential is built explicitly.

The SDK is imported on the first send, so invocations that never send (login)
do not pay for it at cold start; the client is then reused by the container.
"""

from __future__ import annotations

import threading
from typing import Any

from smsverify.config import TencentCredentials
from smsverify.senders.base import (
    Refusal,
    SendNotDelivered,
    SendReceipt,
    SendRefused,
    SendTimeout,
    SmsMessage,
)
from smsverify.tencent_api import sdk_client

#: Tencent error codes and how the service must treat them. Codes not listed
#: are ``Refusal.OTHER``.
REFUSALS: dict[str, Refusal] = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": Refusal.PHONE_FREQUENCY,
    "LimitExceeded.PhoneNumberOneHourLimit": Refusal.PHONE_FREQUENCY,
    "LimitExceeded.DeliveryFrequencyLimit": Refusal.PHONE_FREQUENCY,
    "LimitExceeded.PhoneNumberDailyLimit": Refusal.PHONE_DAILY,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": Refusal.PHONE_DAILY,
    "InvalidParameterValue.IncorrectPhoneNumber": Refusal.INVALID_NUMBER,
    "FailedOperation.PhoneNumberParseFail": Refusal.INVALID_NUMBER,
}

#: Request-level codes after which the message may have been sent.
UNKNOWN_OUTCOME = frozenset({"InternalError.Timeout"})


class TencentSmsSender:
    """Sends verification codes with ``SendSms``.

    Parameters
    ----------
    credentials:
        The role's key and session token.
    sdk_app_id, sign_name, template_id:
        ``SmsSdkAppId``, ``SignName``, ``TemplateId`` (``SMS_SDKAPPID``,
        ``SMS_SIGN``, ``SMS_TEMPLATE_ID``).
    template_params:
        Ordered names filling ``TemplateParamSet``: ``"code"`` and/or
        ``"minutes"`` (``SMS_TEMPLATE_PARAMS``).
    region, endpoint, timeout_seconds:
        ``SMS_REGION``, ``SMS_API_ENDPOINT``, ``SMS_TIMEOUT_SECONDS``.
    """

    name = "tencent"

    def __init__(
        self,
        credentials: TencentCredentials,
        *,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        template_params: tuple[str, ...],
        region: str,
        endpoint: str,
        timeout_seconds: float,
    ) -> None:
        self.credentials = credentials
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.template_params = template_params
        self.region = region
        self.endpoint = endpoint
        self.timeout_seconds = timeout_seconds
        self._client: Any = None
        self._lock = threading.Lock()

    def _sdk_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from tencentcloud.sms.v20210111.sms_client import SmsClient

                self._client = sdk_client(SmsClient, self.credentials, self.region, self.endpoint, self.timeout_seconds)
            return self._client

    def send(self, message: SmsMessage) -> SendReceipt:
        client = self._sdk_client()
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        values = {"code": message.code, "minutes": str(message.ttl_minutes)}
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.phone]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id
        request.TemplateParamSet = [values[name] for name in self.template_params]
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise _translate(exc) from None
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SendRefused("EmptySendStatusSet", "SendSms answered without a status for the number")
        status = statuses[0]
        if status.Code in UNKNOWN_OUTCOME:
            raise SendTimeout(status.Code, status.Message or "")
        if status.Code != "Ok":
            raise SendRefused(status.Code, status.Message or "", REFUSALS.get(status.Code, Refusal.OTHER))
        return SendReceipt(provider=self.name, serial_no=status.SerialNo or "", request_id=response.RequestId or "")


def _translate(exc: Any) -> Exception:
    """Map a ``TencentCloudSDKException`` to the sender contract."""
    code = exc.get_code() or "UnknownError"
    message = str(exc.get_message() or "")[:200]
    if code == "ClientNetworkError":
        return _transport_failure(exc.__context__, message)
    if code in UNKNOWN_OUTCOME:
        return SendTimeout(code, message)
    return SendRefused(code, message, REFUSALS.get(code, Refusal.OTHER))


def _transport_failure(cause: BaseException | None, message: str) -> Exception:
    """A ``requests`` failure: refused or unreachable before anything was
    sent means not delivered; a read timeout or a dropped answer means the
    outcome is unknown."""
    import requests

    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return SendNotDelivered("ConnectTimeout", message)
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(cause, requests.exceptions.ReadTimeout):
        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        if reason is not None and type(reason).__name__ in ("NewConnectionError", "NameResolutionError"):
            return SendNotDelivered("ConnectionRefused", message)
    return SendTimeout("Timeout", message)
