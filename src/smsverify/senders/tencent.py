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

Variables (``from_env``): ``SMS_SDKAPPID`` (numeric), ``SMS_SIGN`` (sent
with +86 numbers only), ``SMS_TEMPLATE_ID`` (the ``login`` template, for
every destination), ``SMS_TEMPLATES`` (instead of ``SMS_TEMPLATE_ID``: the
``login`` template per destination, ``cc:templateId`` entries joined by
commas with ``*`` for every other country, e.g. ``86:1234567,*:7654321``: a
mainland template for +86 and an international one for the rest, since
Tencent refuses a mainland template to other numbers), ``SMS_SCENES``
(``scene:templateId`` entries joined by commas, e.g.
``login:1234567,register:1234568``: one approved template per scene; it also
lists the allowed scenes, :mod:`smsverify.settings.config`; a scene's templates per
destination are joined by ``|``, e.g.
``login:86:1234567|*:7654321,register:86:1234568|*:7654322``, and a bare id
serves every destination), ``SMS_REGION`` [ap-guangzhou], ``SMS_API_ENDPOINT``
[sms.tencentcloudapi.com], and the role credentials ``TENCENTCLOUD_SECRETID``,
``TENCENTCLOUD_SECRETKEY``, ``TENCENTCLOUD_SESSIONTOKEN``. Start-up fails when
a country of ``ALLOWED_COUNTRY_CODES`` has no template in some scene.
``SMS_TEMPLATE_PARAMS`` may give an international template its own values
(:mod:`smsverify.settings.config`).

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
)
from smsverify.settings.scenes import DEFAULT_SCENE, read_scene_map
from smsverify.senders.http import transport_failure
from smsverify.integrations.tencent_api import sdk_client, set_request_timeout

if TYPE_CHECKING:
    from smsverify.senders.common import SmsCommon
    from smsverify.settings.env import EnvReader

NAME = "tencent"
#: Setting any of these outside SCF, with ``SMS_PROVIDER`` unset, selects this provider.
IMPLIED_BY = ("SMS_SDKAPPID", "SMS_SIGN", "SMS_TEMPLATE_ID", "SMS_TEMPLATES")
#: Longest code a Tencent verification-code template variable takes (template review rules).
MAX_CODE_LENGTH = 6

#: Error codes about the number, not the provider: no failover, no provider
#: backoff. True marks a per-day limit. Every other code is a provider-level
#: refusal. Codes and meanings: Tencent Cloud SMS "短信 API 3.0 发送错误码"
#: (https://cloud.tencent.com/document/api/382/59177) and the SDK's
#: ``tencentcloud/sms/v20210111/errorcodes.py``.
NUMBER_LIMITS: dict[str, bool] = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": False,
    "LimitExceeded.PhoneNumberOneHourLimit": False,
    "LimitExceeded.DeliveryFrequencyLimit": False,
    "LimitExceeded.PhoneNumberDailyLimit": True,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": True,
    # The account's quotas for a destination outside the mainland (the country's
    # daily count, all international/HK-Macao-Taiwan messages of the day, their
    # sending rate): only numbers of that destination wait; +86 users must not
    # be sent to another provider because of them.
    "LimitExceeded.AppCountryOrRegionDailyLimit": True,
    "LimitExceeded.AppGlobalDailyLimit": True,
    "LimitExceeded.GlobalSmsSendingRateLimit": False,
}
NUMBER_REJECTIONS = frozenset({
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberParseFail",
    # The number opted out (blocklist): another provider must not send to it,
    # and Tencent is not at fault.
    "FailedOperation.PhoneNumberInBlacklist",
    # Answers that depend on the destination, not on Tencent's health: a
    # mainland template to a number outside the mainland and the reverse, a
    # region Tencent does not deliver to, a country the account's
    # international settings do not allow, mainland and other numbers mixed
    # in one request (ours hold one number), a mainland number where only
    # international ones are taken. Backing off from Tencent for them would
    # send the next +86 users to the failover provider.
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
    "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone",
    "UnsupportedOperation.UnsupportedRegion",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
    "UnsupportedOperation.ContainDomesticPhoneNumber",
    "LimitExceeded.AppCountryOrRegionInBlacklist",
})

#: Request-level codes after which the message may have been sent.
UNKNOWN_OUTCOME = frozenset({"InternalError.Timeout"})


def classify(code: str, detail: str = "") -> SendError:
    """The sender-contract error for a Tencent error code (either error path)."""
    return classify_code(
        NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS, unknown_outcome=UNKNOWN_OUTCOME
    )


#: The key of a destination list that serves every country no other key names.
ANY_DESTINATION = "*"
#: Separates the destinations of one scene inside ``SMS_SCENES`` (whose entries are joined by commas).
SCENE_DESTINATION_SEPARATOR = "|"
#: The country calling code of the Chinese mainland: the only destination whose SMS carries ``SignName``.
MAINLAND = "86"


def read_destinations(reader: EnvReader, name: str, raw: str, separator: str) -> dict[str, str] | None:
    """A destination list, ``{country calling code or "*": TemplateId}``, in the order written.

    ``raw`` is ``cc:templateId`` entries joined by ``separator``, e.g.
    ``86:1234567,*:7654321``; a bare ``templateId`` stands for
    ``*:templateId`` (every country no other entry names), so today's single
    template id is the one-entry list. A problem (a country code that is not
    one, a non-numeric template id, a destination given twice) is recorded on
    ``reader`` against ``name``; then ``None``.
    """
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    templates: dict[str, str] = {}
    for entry in raw.split(separator):
        key, _colon, template_id = entry.strip().rpartition(":")
        key, template_id = key.strip().lstrip("+") or ANY_DESTINATION, template_id.strip()
        if not template_id.isdigit():
            reader.problem(name, f"must give numeric Tencent template ids, got {template_id[:40]!r}")
            return None
        if key != ANY_DESTINATION and (not key.isdigit() or int(key) not in COUNTRY_CODE_TO_REGION_CODE):
            reader.problem(name, f"{key[:40]!r} is not a country calling code (write e.g. 86:1234567{separator}*:7654321)")
            return None
        if key in templates:
            reader.problem(name, f"gives destination {key!r} two templates")
            return None
        templates[key] = template_id
    return templates


@dataclass(frozen=True)
class TencentSettings:
    """Tencent Cloud SMS settings (``SMS_*`` and the role credentials)."""

    sdk_app_id: str  #: ``SMS_SDKAPPID``, e.g. ``"1400000000"``
    sign_name: str  #: ``SMS_SIGN``
    template_id: str  #: ``SMS_TEMPLATE_ID`` (``login``), or the ``*`` template of ``SMS_TEMPLATES``
    region: str  #: ``SMS_REGION``
    endpoint: str  #: ``SMS_API_ENDPOINT``: a host, or a URL for local emulators
    credentials: TencentCredentials
    #: scene -> destination list (``{"86": TemplateId, "*": TemplateId}``, :func:`read_destinations`),
    #: one for every allowed scene (``SMS_SCENES``; ``SMS_TEMPLATES`` or ``SMS_TEMPLATE_ID`` for ``login``)
    scene_templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _login_templates(reader: EnvReader, listed: Mapping[str, Mapping[str, str]], common: SmsCommon) -> tuple[dict[str, str], str]:
    """``login``'s destination list and the variable it came from.

    ``SMS_SCENES``' ``login`` entry wins, then ``SMS_TEMPLATES``, then
    ``SMS_TEMPLATE_ID`` (one template for every destination). ``SMS_TEMPLATE_ID``
    set beside ``SMS_TEMPLATES`` must be one of its templates.
    """
    purpose = "for the tencent SMS provider"
    single = reader.text("SMS_TEMPLATE_ID")
    raw = reader.text("SMS_TEMPLATES")
    by_destination = read_destinations(reader, "SMS_TEMPLATES", raw, ",") if raw is not None else None
    if by_destination is not None and single is not None and single not in by_destination.values():
        reader.problem("SMS_TEMPLATE_ID", "is replaced by SMS_TEMPLATES: remove it, or make it one of SMS_TEMPLATES' ids")
    if DEFAULT_SCENE in listed:
        return dict(listed[DEFAULT_SCENE]), "SMS_SCENES"
    if raw is not None:
        return by_destination or {}, "SMS_TEMPLATES"
    if DEFAULT_SCENE in common.scenes:
        single = reader.required("SMS_TEMPLATE_ID", purpose)  # login's template; reported here when missing
    return ({ANY_DESTINATION: single} if single else {}), "SMS_TEMPLATE_ID"


def _check_coverage(reader: EnvReader, scene: str, templates: Mapping[str, str], variable: str, common: SmsCommon) -> None:
    """Record a problem of ``variable`` when ``ALLOWED_COUNTRY_CODES`` allows a country ``templates`` does not cover."""
    if not templates or ANY_DESTINATION in templates:
        return
    allowed = common.allowed_country_codes
    if allowed is None:
        uncovered = "every country (ALLOWED_COUNTRY_CODES=*)"
    else:
        missing = sorted(code for code in allowed if str(code) not in templates)
        if not missing:
            return
        uncovered = "country code(s) " + ", ".join(str(code) for code in missing) + " of ALLOWED_COUNTRY_CODES"
    reader.problem(
        variable,
        f"has no Tencent template of scene {scene!r} for {uncovered}: add cc:templateId entries, or *:templateId for every other country",
    )


def from_env(reader: EnvReader, common: SmsCommon) -> TencentSettings:
    """Read this provider's variables; problems are recorded on ``reader``.

    Every allowed scene gets a destination list, and every country
    ``ALLOWED_COUNTRY_CODES`` allows must be covered by it (a ``cc`` entry or
    ``*``); otherwise start-up fails naming ``SMS_TEMPLATES`` or ``SMS_SCENES``.
    """
    purpose = "for the tencent SMS provider"
    sdk_app_id = reader.required("SMS_SDKAPPID", purpose)
    listed: dict[str, dict[str, str]] = {}
    for scene, value in (read_scene_map(reader, "SMS_SCENES", value_required=False) or {}).items():
        if value:
            destinations = read_destinations(reader, "SMS_SCENES", value, SCENE_DESTINATION_SEPARATOR)
            listed[scene] = destinations if destinations is not None else {}
    login, login_variable = _login_templates(reader, listed, common)
    scene_templates = {DEFAULT_SCENE: login, **listed}
    missing = [scene for scene in common.scenes if scene != DEFAULT_SCENE and scene not in scene_templates]
    if missing:
        reader.problem("SMS_SCENES", f"has no Tencent template id for scene(s) {', '.join(missing)}: write scene:templateId")
    for scene in common.scenes:
        variable = login_variable if scene == DEFAULT_SCENE else "SMS_SCENES"
        _check_coverage(reader, scene, scene_templates.get(scene, {}), variable, common)
    sign_name = reader.required("SMS_SIGN", purpose)
    if sdk_app_id and not sdk_app_id.isdigit():
        reader.problem("SMS_SDKAPPID", "must be the numeric SdkAppId, e.g. 1400000000")
    if common.code_length > MAX_CODE_LENGTH:
        reader.problem("CODE_LENGTH", f"Tencent SMS templates accept at most {MAX_CODE_LENGTH} digits for a code")
    return TencentSettings(
        sdk_app_id=sdk_app_id,
        sign_name=sign_name,
        template_id=login.get(ANY_DESTINATION) or login.get(MAINLAND, ""),
        region=reader.text("SMS_REGION", "ap-guangzhou") or "ap-guangzhou",
        endpoint=reader.text("SMS_API_ENDPOINT", "sms.tencentcloudapi.com") or "sms.tencentcloudapi.com",
        credentials=TencentCredentials.from_env(reader, purpose),
        scene_templates={scene: scene_templates.get(scene, login) for scene in common.scenes},
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
        params_by_template=common.template_params_by_template,
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
        ``SMS_SIGN``, ``SMS_TEMPLATE_ID``). ``SignName`` goes with +86
        numbers only: SendSms requires it for mainland SMS and it is optional
        for international and Hong Kong/Macao/Taiwan SMS
        (https://cloud.tencent.com/document/api/382/55981), where a mainland
        signature does not apply.
    scene_templates:
        Per scene, a ``TemplateId`` or a destination list (country calling
        code or ``"*"`` -> ``TemplateId``, :func:`read_destinations`); a scene
        it lacks, or a destination its list does not cover, uses ``template_id``.
    template_params, params_by_template:
        Ordered names filling ``TemplateParamSet``: ``"code"`` and/or
        ``"minutes"``, for every template, or for the ``TemplateId`` keys of
        ``params_by_template`` (``SMS_TEMPLATE_PARAMS``).
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
        scene_templates: Mapping[str, str | Mapping[str, str]] | None = None,
        params_by_template: Mapping[str, tuple[str, ...]] | None = None,
        region: str,
        endpoint: str,
        timeout_seconds: float,
    ) -> None:
        self.credentials = credentials
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.scene_templates = {
            scene: {ANY_DESTINATION: value} if isinstance(value, str) else dict(value)
            for scene, value in (scene_templates or {}).items()
        }
        self.template_params = template_params
        self.params_by_template = dict(params_by_template or {})
        self.region = region
        self.endpoint = endpoint
        self.timeout_seconds = timeout_seconds
        self._client: Any = None
        self._lock = threading.Lock()

    def supports(self, phone: str) -> bool:
        return True  # domestic and international SMS share one API

    def template_for(self, scene: str, phone: str) -> str:
        """The ``TemplateId`` for ``scene`` and the E.164 ``phone``'s country.

        Country calling codes are prefix-free (ITU-T E.164), so at most one
        key of the scene's list starts the number.
        """
        destinations = self.scene_templates.get(scene, {})
        digits = phone.lstrip("+")
        for key, template_id in destinations.items():
            if key != ANY_DESTINATION and digits.startswith(key):
                return template_id
        return destinations.get(ANY_DESTINATION) or self.template_id

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

        template_id = self.template_for(message.scene, message.phone)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [message.phone]
        request.SmsSdkAppId = self.sdk_app_id
        if message.phone.startswith("+" + MAINLAND):
            request.SignName = self.sign_name  # left None otherwise: the SDK then leaves it out
        request.TemplateId = template_id
        request.TemplateParamSet = message.values(self.params_by_template.get(template_id, self.template_params))
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
