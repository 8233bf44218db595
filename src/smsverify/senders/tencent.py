"""Tencent Cloud SMS (API 3.0 ``SendSms``, version 2021-01-11) through the
official slim SDK ``tencentcloud-sdk-python-sms``.

Facts this module follows:

- Request: ``PhoneNumberSet`` (E.164), ``SmsSdkAppId``, ``SignName``,
  ``TemplateId``, ``TemplateParamSet``
  (https://cloud.tencent.com/document/api/382/55981).
- Errors come two ways: a request-level ``Response.Error`` that the SDK raises
  as ``TencentCloudSDKException(code, message, requestId)``, and a per-number
  ``SendStatusSet[i].Code`` other than ``"Ok"`` in an HTTP 200 answer. Codes:
  https://cloud.tencent.com/document/api/382/59177.
- A non-200 HTTP status becomes ``ServerNetworkError``; transport failures
  become ``ClientNetworkError`` with the ``requests`` exception as context
  (classified by :func:`smsverify.senders.http.transport_failure`).
- ``InternalError.Timeout``: Tencent does not know whether the SMS left.
- Credentials: SCF injects the role's temporary key as
  ``TENCENTCLOUD_SECRETID``/``SECRETKEY``/``SESSIONTOKEN``, names that no SDK
  provider reads, so the credential is built explicitly.
- Template review: a verification-code variable holds 0-6 digits
  (https://cloud.tencent.com/document/product/382/39023), so ``CODE_LENGTH``
  must be at most 6.

Variables (``from_env``): ``SMS_SDKAPPID`` (numeric), ``SMS_SIGN``,
``SMS_TEMPLATE_ID`` (the ``login`` template), ``SMS_SCENES`` (``scene:templateId``
entries joined by commas, e.g. ``login:1234567,register:1234568``: one approved
template per scene; it also lists the allowed scenes, :mod:`smsverify.config`),
``SMS_REGION`` [ap-guangzhou], ``SMS_API_ENDPOINT``
[sms.tencentcloudapi.com], and the role credentials ``TENCENTCLOUD_SECRETID``,
``TENCENTCLOUD_SECRETKEY``, ``TENCENTCLOUD_SESSIONTOKEN``.

The SDK is imported on the first send, so invocations that never send (login)
do not pay for it at cold start; the client is then reused by the container.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from smsverify.integrations.credentials import TencentCredentials
from smsverify.senders.base import (
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
    classify_code,
    scene_template,
)
from smsverify.settings.scenes import DEFAULT_SCENE, read_scene_map
from smsverify.senders.http import transport_failure
from smsverify.integrations.tencent_api import sdk_client, set_request_timeout

if TYPE_CHECKING:
    from smsverify.senders.common import SmsCommon
    from smsverify.settings.env import EnvReader

NAME = "tencent"
#: Setting any of these outside SCF, with ``SMS_PROVIDER`` unset, selects this provider.
IMPLIED_BY = ("SMS_SDKAPPID", "SMS_SIGN", "SMS_TEMPLATE_ID")
#: Longest code a Tencent verification-code template variable takes (template review rules).
MAX_CODE_LENGTH = 6

#: Error codes about the number, not the provider: no failover. True marks a
#: per-day limit. Every other code is a provider-level refusal.
NUMBER_LIMITS: dict[str, bool] = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": False,
    "LimitExceeded.PhoneNumberOneHourLimit": False,
    "LimitExceeded.DeliveryFrequencyLimit": False,
    "LimitExceeded.PhoneNumberDailyLimit": True,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": True,
}
NUMBER_REJECTIONS = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberParseFail",
    # The number opted out (blocklist): another provider must not send to it,
    # and Tencent is not at fault.
    "FailedOperation.PhoneNumberInBlacklist",
})

#: Request-level codes after which the message may have been sent.
UNKNOWN_OUTCOME = frozenset({"InternalError.Timeout"})


def classify(code: str, detail: str = "") -> SendError:
    """The sender-contract error for a Tencent error code (either error path)."""
    return classify_code(
        NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS, unknown_outcome=UNKNOWN_OUTCOME
    )


@dataclass(frozen=True)
class TencentSettings:
    """Tencent Cloud SMS settings (``SMS_*`` and the role credentials)."""

    sdk_app_id: str  #: ``SMS_SDKAPPID``, e.g. ``"1400000000"``
    sign_name: str  #: ``SMS_SIGN``
    template_id: str  #: ``SMS_TEMPLATE_ID`` (``login``)
    region: str  #: ``SMS_REGION``
    endpoint: str  #: ``SMS_API_ENDPOINT``: a host, or a URL for local emulators
    credentials: TencentCredentials
    #: scene -> TemplateId, one for every allowed scene (``SMS_SCENES``, ``SMS_TEMPLATE_ID`` for ``login``)
    scene_templates: Mapping[str, str] = field(default_factory=dict)


def from_env(reader: EnvReader, common: SmsCommon) -> TencentSettings:
    """Read this provider's variables; problems are recorded on ``reader``."""
    purpose = "for the tencent SMS provider"
    sdk_app_id = reader.required("SMS_SDKAPPID", purpose)
    listed = {scene: tid for scene, tid in (read_scene_map(reader, "SMS_SCENES", value_required=False) or {}).items() if tid}
    if DEFAULT_SCENE in common.scenes and DEFAULT_SCENE not in listed:
        template_id = reader.required("SMS_TEMPLATE_ID", purpose)  # login's template; reported here when missing
    else:
        template_id = reader.text("SMS_TEMPLATE_ID") or listed.get(DEFAULT_SCENE, "")
    scene_templates = {DEFAULT_SCENE: template_id, **listed}
    missing = [scene for scene in common.scenes if scene != DEFAULT_SCENE and scene not in scene_templates]
    if missing:
        reader.problem("SMS_SCENES", f"has no Tencent template id for scene(s) {', '.join(missing)}: write scene:templateId")
    bad = [tid for tid in listed.values() if not tid.isdigit()]
    if bad:
        reader.problem("SMS_SCENES", f"must map scenes to numeric Tencent template ids, got {bad[0]!r}")
    sign_name = reader.required("SMS_SIGN", purpose)
    if sdk_app_id and not sdk_app_id.isdigit():
        reader.problem("SMS_SDKAPPID", "must be the numeric SdkAppId, e.g. 1400000000")
    if common.code_length > MAX_CODE_LENGTH:
        reader.problem("CODE_LENGTH", f"Tencent SMS templates accept at most {MAX_CODE_LENGTH} digits for a code")
    return TencentSettings(
        sdk_app_id=sdk_app_id,
        sign_name=sign_name,
        template_id=template_id,
        region=reader.text("SMS_REGION", "ap-guangzhou") or "ap-guangzhou",
        endpoint=reader.text("SMS_API_ENDPOINT", "sms.tencentcloudapi.com") or "sms.tencentcloudapi.com",
        credentials=TencentCredentials.from_env(reader, purpose),
        scene_templates={scene: scene_templates.get(scene, template_id) for scene in common.scenes},
    )


def build(settings: TencentSettings, common: SmsCommon) -> "TencentSmsSender":
    """The sender for ``settings``."""
    return TencentSmsSender(
        settings.credentials,
        sdk_app_id=settings.sdk_app_id,
        sign_name=settings.sign_name,
        template_id=settings.template_id,
        scene_templates=settings.scene_templates,
        template_params=common.template_params,
        region=settings.region,
        endpoint=settings.endpoint,
        timeout_seconds=common.timeout_seconds,
    )


class TencentSmsSender:
    """Sends verification codes with ``SendSms``.

    Parameters
    ----------
    credentials:
        The role's key and session token.
    sdk_app_id, sign_name, template_id:
        ``SmsSdkAppId``, ``SignName``, ``TemplateId`` (``SMS_SDKAPPID``,
        ``SMS_SIGN``, ``SMS_TEMPLATE_ID``).
    scene_templates:
        ``TemplateId`` per scene (``SMS_SCENES``); a scene it lacks uses ``template_id``.
    template_params:
        Ordered names filling ``TemplateParamSet``: ``"code"`` and/or
        ``"minutes"`` (``SMS_TEMPLATE_PARAMS``).
    region, endpoint, timeout_seconds:
        ``SMS_REGION``, ``SMS_API_ENDPOINT``, ``SMS_TIMEOUT_SECONDS``.
    """

    name = NAME

    def __init__(
        self,
        credentials: TencentCredentials,
        *,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        template_params: tuple[str, ...],
        scene_templates: Mapping[str, str] | None = None,
        region: str,
        endpoint: str,
        timeout_seconds: float,
    ) -> None:
        self.credentials = credentials
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.scene_templates = dict(scene_templates or {})
        self.template_params = template_params
        self.region = region
        self.endpoint = endpoint
        self.timeout_seconds = timeout_seconds
        self._client: Any = None
        self._lock = threading.Lock()

    def supports(self, phone: str) -> bool:
        return True  # domestic and international SMS share one API

    def _sdk_client(self, timeout_seconds: float) -> Any:
        with self._lock:
            if self._client is None:
                from tencentcloud.sms.v20210111.sms_client import SmsClient

                self._client = sdk_client(SmsClient, self.credentials, self.region, self.endpoint, self.timeout_seconds)
            set_request_timeout(self._client, timeout_seconds)  # a failover attempt may have less time left
            return self._client

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        client = self._sdk_client(timeout_seconds)
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.phone]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = scene_template(self.scene_templates, message.scene, self.template_id)
        request.TemplateParamSet = message.values(self.template_params)
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise _translate(exc) from None
        statuses = response.SendStatusSet or []
        if not statuses:
            raise SendTimeout(NAME, "EmptySendStatusSet", "SendSms answered without a status for the number")
        status = statuses[0]
        if status.Code != "Ok":
            raise classify(status.Code or "UnknownError", status.Message or "")
        return SendReceipt(provider=NAME, serial_no=status.SerialNo or "", request_id=response.RequestId or "")


def _translate(exc: Any) -> Exception:
    """Map a ``TencentCloudSDKException`` to the sender contract."""
    code = exc.get_code() or "UnknownError"
    message = str(exc.get_message() or "")[:200]
    if code == "ClientNetworkError":
        return transport_failure(NAME, exc.__context__)
    return classify(code, message)
