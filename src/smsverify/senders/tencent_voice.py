"""Voice verification codes: Tencent Cloud VMS (语音消息) API 3.0
``SendCodeVoice``, version 2020-09-02, through the official slim SDK
``tencentcloud-sdk-python-vms``.

Not an SMS provider of ``SMS_PROVIDER`` (it never takes part in SMS
failover): the service builds it apart, with
:func:`smsverify.senders.build_voice_sender`, for a caller who asks for the
code by phone call. It honours the same sender contract
(:mod:`smsverify.senders.base`).

Facts this module follows:

- Request ("发送语音验证码", https://cloud.tencent.com/document/api/1128/51559):
  ``CodeMessage`` (digits only; the call speaks "您的验证码是" before them),
  ``CalledNumber`` (E.164 with ``+``), ``VoiceSdkAppid`` (the application
  created in the VMS console), ``PlayTimes`` (1-3, default 2),
  ``SessionContext`` (echoed back). No template: the spoken text is fixed.
  Answer: ``SendStatus{CallId, SessionContext}`` and ``RequestId``.
- Errors: ``Response.Error{Code, Message}`` like every API 3.0 call, raised
  by the SDK as ``TencentCloudSDKException``; the codes are those of the
  SDK's ``vms/v20200902/errorcodes.py`` (the API 3.0 names of the product's
  "错误码" page, https://cloud.tencent.com/document/api/1128/37531).
- Limits: 20 requests/s per API, region and sub-account by default
  (https://cloud.tencent.com/document/api/1128/51559); mainland China mobile
  numbers only (API overview, https://cloud.tencent.com/document/api/1128/51568).
  Tencent's own per-number policy for voice codes (VMS "常见问题",
  https://cloud.tencent.com/document/product/1128/38004): one call per 30 s,
  two per 10 minutes, three per day, none from 22:00 to 08:00; every one of
  them answers ``LimitExceeded.DeliveryFrequencyLimit``.
- Credentials and endpoint: the SCF role's temporary key, exactly as
  :mod:`smsverify.senders.tencent` uses it (:func:`smsverify.integrations.tencent_api.sdk_client`).

Variables (:func:`from_env`): ``VOICE_SDKAPPID`` (numeric; unset: no voice
codes, and the other three must be unset too), ``VMS_API_ENDPOINT``
[vms.tencentcloudapi.com], ``VOICE_PLAY_TIMES`` [2] (1-3),
``VOICE_DAILY_LIMIT`` [3] (voice codes per phone per day, >= 0, enforced by
the service, not here); the role credentials ``TENCENTCLOUD_SECRETID``,
``TENCENTCLOUD_SECRETKEY``, ``TENCENTCLOUD_SESSIONTOKEN``; the per-request
timeout is ``SMS_TIMEOUT_SECONDS``.

The SDK is imported on the first call, so an SMS-only deployment never
loads it; the client is then reused by the container.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smsverify.integrations.credentials import TencentCredentials
from smsverify.senders.base import (
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
    classify_code,
    mainland_number,
)
from smsverify.senders.http import transport_failure
from smsverify.integrations.tencent_api import sdk_client, set_request_timeout

if TYPE_CHECKING:
    from smsverify.senders.common import SmsCommon
    from smsverify.settings.env import EnvReader

NAME = "tencent_voice"
DEFAULT_ENDPOINT = "vms.tencentcloudapi.com"
#: The API region (``X-TC-Region``): where the API is served, not where the call goes.
#: Guangzhou is the region of the product's own quick start (API overview 1128/51568).
REGION = "ap-guangzhou"
DEFAULT_PLAY_TIMES = 2
MAX_PLAY_TIMES = 3
#: Tencent's default for voice codes: three per called number per day (VMS "常见问题").
DEFAULT_DAILY_LIMIT = 3
#: Variables that mean nothing without ``VOICE_SDKAPPID``.
OPTIONAL = ("VMS_API_ENDPOINT", "VOICE_PLAY_TIMES", "VOICE_DAILY_LIMIT")

#: Codes about the called number: no failover. True would mark a per-day limit;
#: Tencent answers one code for its 30 s, 10 min, daily and night limits alike,
#: so the code cannot tell which one was hit.
NUMBER_LIMITS: dict[str, bool] = {
    "LimitExceeded.DeliveryFrequencyLimit": False,  # "下发语音消息时命中频率限制策略"
}
NUMBER_REJECTIONS = frozenset({
    "InvalidParameterValue.CalledNumberVerifyFail",  # "被叫手机号码格式校验失败"
})
#: Timeouts inside Tencent ("访问上游超时", "内部sso通道超时"): the call may have been placed.
UNKNOWN_OUTCOME = frozenset({
    "FailedOperation.AccessUpstreamTimeout",
    "InternalError.AccessUpstreamTimeout",
    "InternalError.SsoSendRecvFail",
})
#: Every other code of ``errorcodes.py`` is provider-level (configuration, balance,
#: account, our request): listed so that the table test classifies each one.
PROVIDER_LEVEL = frozenset({
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.FailResolvePacket",
    "FailedOperation.InsufficientBalanceInVoicePackage",
    "FailedOperation.InvalidJsonParameters",
    "FailedOperation.InvalidParameters",
    "FailedOperation.JsonParseFail",
    "FailedOperation.ParametersOtherError",
    "FailedOperation.PhonenumberUnappliedOrExpired",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "InternalError.RequestTimeException",
    "InternalError.RestApiInterfaceNotExist",
    "InternalError.SigVerificationFail",
    "InternalError.UpstreamError",
    "InvalidParameterValue.ContentLengthLimit",
    "InvalidParameterValue.SdkAppidNotExist",
    "UnauthorizedOperation.SdkAppidIsDisabled",
    "UnauthorizedOperation.ServiceSuspendDueToArrears",
    "UnauthorizedOperation.VoiceSdkAppidVerifyFail",
    "UnsupportedOperation",
})


def classify(code: str, detail: str = "") -> SendError:
    """The sender-contract error for a VMS error code."""
    return classify_code(
        NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS, unknown_outcome=UNKNOWN_OUTCOME
    )


@dataclass(frozen=True)
class VoiceSettings:
    """Tencent Cloud VMS settings (``VOICE_*``, ``VMS_API_ENDPOINT`` and the role credentials)."""

    sdk_app_id: str  #: ``VOICE_SDKAPPID``, e.g. ``"1400006666"``
    endpoint: str  #: ``VMS_API_ENDPOINT``: a host, or a URL for local emulators
    play_times: int  #: ``VOICE_PLAY_TIMES``, 1-3
    daily_limit: int  #: ``VOICE_DAILY_LIMIT``: voice codes per phone per day (0: none); the service enforces it
    credentials: TencentCredentials
    timeout_seconds: float  #: ``SMS_TIMEOUT_SECONDS``, per request
    region: str = REGION


def from_env(reader: EnvReader, common: SmsCommon) -> VoiceSettings | None:
    """The voice settings, or ``None`` when ``VOICE_SDKAPPID`` is unset.

    Problems are recorded on ``reader``: a non-numeric ``VOICE_SDKAPPID``,
    ``VOICE_PLAY_TIMES`` outside 1-3, a negative ``VOICE_DAILY_LIMIT``, the
    role credentials missing, or one of :data:`OPTIONAL` set without
    ``VOICE_SDKAPPID`` (voice codes would silently stay off).
    """
    sdk_app_id = reader.text("VOICE_SDKAPPID")
    endpoint = reader.text("VMS_API_ENDPOINT", DEFAULT_ENDPOINT) or DEFAULT_ENDPOINT
    play_times = reader.integer("VOICE_PLAY_TIMES", DEFAULT_PLAY_TIMES, minimum=1, maximum=MAX_PLAY_TIMES)
    daily_limit = reader.integer("VOICE_DAILY_LIMIT", DEFAULT_DAILY_LIMIT, minimum=0)
    if sdk_app_id is None:
        for name in OPTIONAL:
            if reader.text(name) is not None:
                reader.problem(name, "is set but VOICE_SDKAPPID is not: voice codes need the VMS application id")
        return None
    if not sdk_app_id.isdigit():
        reader.problem("VOICE_SDKAPPID", "must be the numeric VoiceSdkAppid of the VMS console, e.g. 1400006666")
    return VoiceSettings(
        sdk_app_id=sdk_app_id,
        endpoint=endpoint,
        play_times=play_times,
        daily_limit=daily_limit,
        credentials=TencentCredentials.from_env(reader, "for voice codes (VOICE_SDKAPPID is set)"),
        timeout_seconds=common.timeout_seconds,
    )


def build(settings: VoiceSettings) -> "TencentVoiceSender":
    """The sender for ``settings``."""
    return TencentVoiceSender(
        settings.credentials,
        sdk_app_id=settings.sdk_app_id,
        play_times=settings.play_times,
        region=settings.region,
        endpoint=settings.endpoint,
        timeout_seconds=settings.timeout_seconds,
    )


class TencentVoiceSender:
    """Calls the phone and speaks the code, with ``SendCodeVoice``.

    Uses :attr:`SmsMessage.phone` (``CalledNumber``), :attr:`SmsMessage.code`
    (``CodeMessage``, digits) and :attr:`SmsMessage.reference`
    (``SessionContext``, when not empty); the scene and the minutes are not
    spoken (the text is fixed). The receipt's ``serial_no`` is the ``CallId``
    and its ``request_id`` the ``RequestId``.

    Parameters
    ----------
    credentials:
        The role's key and session token.
    sdk_app_id:
        ``VoiceSdkAppid`` (``VOICE_SDKAPPID``).
    play_times:
        ``PlayTimes``, 1-3 (``VOICE_PLAY_TIMES``).
    region, endpoint, timeout_seconds:
        :data:`REGION`, ``VMS_API_ENDPOINT``, ``SMS_TIMEOUT_SECONDS`` (seconds).
    """

    name = NAME

    def __init__(
        self,
        credentials: TencentCredentials,
        *,
        sdk_app_id: str,
        play_times: int = DEFAULT_PLAY_TIMES,
        region: str = REGION,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout_seconds: float = 5.0,
    ) -> None:
        self.credentials = credentials
        self.sdk_app_id = sdk_app_id
        self.play_times = play_times
        self.region = region
        self.endpoint = endpoint
        self.timeout_seconds = timeout_seconds
        self._client: Any = None
        self._lock = threading.Lock()

    def supports(self, phone: str) -> bool:
        """Mainland China mobile numbers only (``+861`` and ten digits)."""
        return mainland_number(phone) is not None

    def _sdk_client(self, timeout_seconds: float) -> Any:
        with self._lock:
            if self._client is None:
                from tencentcloud.vms.v20200902.vms_client import VmsClient

                self._client = sdk_client(VmsClient, self.credentials, self.region, self.endpoint, self.timeout_seconds)
            set_request_timeout(self._client, timeout_seconds)
            return self._client

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        """Place the call; see the class docstring for the fields used.

        Raises :class:`~smsverify.senders.base.NumberRejected`,
        :class:`~smsverify.senders.base.NumberRateLimited`,
        :class:`~smsverify.senders.base.ProviderRefused` (or its
        :class:`~smsverify.senders.base.ProviderUnreachable`) or
        :class:`~smsverify.senders.base.SendTimeout` (:func:`classify`).
        """
        client = self._sdk_client(timeout_seconds)
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.vms.v20200902 import models

        request = models.SendCodeVoiceRequest()
        request.CodeMessage = message.code
        request.CalledNumber = message.phone
        request.VoiceSdkAppid = self.sdk_app_id
        request.PlayTimes = self.play_times
        if message.reference:
            request.SessionContext = message.reference
        try:
            response = client.SendCodeVoice(request)
        except TencentCloudSDKException as exc:
            raise _translate(exc) from None
        call_id = getattr(response.SendStatus, "CallId", None) or ""
        if not call_id:
            # Accepted without an id: Tencent may be placing the call.
            raise SendTimeout(NAME, "EmptySendStatus", "SendCodeVoice answered without a CallId")
        return SendReceipt(provider=NAME, serial_no=call_id, request_id=response.RequestId or "")


def _translate(exc: Any) -> Exception:
    """Map a ``TencentCloudSDKException`` to the sender contract."""
    code = exc.get_code() or "UnknownError"
    message = str(exc.get_message() or "")[:200]
    if code == "ClientNetworkError":
        return transport_failure(NAME, exc.__context__)
    return classify(code, message)
