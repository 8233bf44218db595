"""Alibaba Cloud SMS (阿里云短信服务): ``SendSms`` of Dysmsapi 2017-05-25 through
the maintained SDK ``alibabacloud-dysmsapi20170525``.

Facts this module follows:

- Request ("SendSms - 发送短信", https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms):
  ``PhoneNumbers`` (a mainland number with or without +/+86/0086/86, or for
  international and Hong Kong/Macao/Taiwan messages the country code followed
  by the number, no ``+``), ``SignName``, ``TemplateCode``, ``TemplateParam``
  (a JSON object of the template's variables, values as strings, e.g.
  ``{"code":"123456"}``), ``OutId`` (our reference, kept with the message).
- Success is HTTP 200 ``{"Code":"OK","BizId":...,"RequestId":...}``; a
  business refusal is HTTP 200 with another ``Code`` and no ``BizId``
  ("国内消息API错误码", https://help.aliyun.com/zh/sms/developer-reference/api-error-codes).
  The OpenAPI gateway refuses a bad signature, key or timestamp with HTTP
  4xx and a JSON ``Code`` (``SignatureDoesNotMatch``,
  ``InvalidAccessKeyId.NotFound``, ``InvalidTimeStamp.Expired``...), which
  the SDK raises as ``ClientException``/``ServerException``.
- The SDK signs with ``ACS3-HMAC-SHA256`` ("V3版本请求体&签名机制",
  https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature),
  does not retry unless told to, and wraps a transport failure in an
  ``UnretryableException`` whose inner ``RetryError`` has the ``requests``
  exception as its context (classified by :func:`smsverify.senders.http.transport_failure`).
  An answer that is not JSON (a gateway's HTML error page, whatever its
  status: the SDK reports only the parse failure) cannot be told from a
  garbled success: :class:`SendTimeout` ``InvalidResponse``.
- ``isv.BUSINESS_LIMIT_CONTROL`` is the platform's per-number frequency limit
  (verification codes: 1 a minute, 5 an hour, 10 a day per signature, "短信发送频率限制");
  its ``Message`` names the window (``触发分钟级流控Permits:1``,
  ``触发小时级流控Permits:5``, ``触发天级流控Permits:10``): a day-level one
  (``天级``) is a daily limit, any other a short-term one.
- A verification-code template has one variable of 4-6 characters
  (https://help.aliyun.com/document_detail/463237.htm), so ``CODE_LENGTH``
  must be at most 6.

Variables (``from_env``): ``ALIBABA_CLOUD_ACCESS_KEY_ID``,
``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (the SDK's standard names; a RAM user
allowed ``dysms:SendSms`` only), ``ALIYUN_SMS_SIGN_NAME``,
``ALIYUN_SMS_TEMPLATE_CODE`` (the ``login`` template, e.g. ``SMS_123456789``),
``ALIYUN_SMS_SCENES`` (``scene:TemplateCode`` entries joined by commas;
required when ``SMS_SCENES`` allows a scene other than ``login``),
``ALIYUN_SMS_TEMPLATE_VARIABLES`` [code] (the template's variables and what
fills them: ``variable:value`` entries joined by commas, the value ``code``
or ``minutes``; a bare ``code`` or ``minutes`` names a variable after its
value; e.g. ``code:code,time:minutes`` for ``${code}`` and ``${time}``),
``ALIYUN_SMS_ENDPOINT`` [dysmsapi.aliyuncs.com] (a host, or an
``http(s)://host:port`` URL for local emulators).

The SDK is imported on the first send, so a login, or a deployment that
does not name this provider, never loads it; the client is then reused.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

from smsverify.settings.scenes import DEFAULT_SCENE, provider_scene_map
from smsverify.senders.base import (
    NumberRateLimited,
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
    classify_code,
    mainland_number,
    scene_template,
)
from smsverify.senders.http import transport_failure

if TYPE_CHECKING:
    from smsverify.senders.common import SmsCommon
    from smsverify.settings.env import EnvReader

NAME = "aliyun"
DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"
#: Longest code a verification-code template variable takes.
MAX_CODE_LENGTH = 6
SUCCESS = "OK"
#: The per-number frequency limit; its message says whether the window is a day.
BUSINESS_LIMIT = "isv.BUSINESS_LIMIT_CONTROL"
DAY_WINDOW_MARK = "天级"

#: Codes about the number, not the account: no failover. True marks a per-day
#: limit (for BUSINESS_LIMIT, the message decides: :func:`classify`).
NUMBER_LIMITS: dict[str, bool] = {BUSINESS_LIMIT: False}
NUMBER_REJECTIONS = frozenset({
    "isv.MOBILE_NUMBER_ILLEGAL",  # not a valid number for the template's destination
    # A mainland number sent with an international/HK-Macao-Taiwan template: the
    # destination decides, so another provider would not do better with this account's templates.
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
})
# Everything else is provider-level: account and balance (isv.AMOUNT_NOT_ENOUGH,
# isv.OUT_OF_SERVICE, isv.ACCOUNT_*), the account's own daily/monthly caps
# (isv.DAY_LIMIT_CONTROL, isv.MONTH_LIMIT_CONTROL), signature and template
# (isv.SMS_SIGNATURE_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS,
# isv.PARAM_LENGTH_LIMIT, isv.BLACK_KEY_CONTROL_LIMIT...), a request we built wrong
# (isv.MOBILE_COUNT_OVER_LIMIT: we send one number), permissions, the gateway's
# authentication codes and isp.SYSTEM_ERROR.

TEMPLATE_VALUES = ("code", "minutes")
_VARIABLE = re.compile(r"[A-Za-z0-9_]{1,64}")


def classify(code: str, detail: str = "") -> SendError:
    """The sender-contract error for an Alibaba Cloud ``code`` (business or gateway)."""
    if code == BUSINESS_LIMIT:
        return NumberRateLimited(NAME, code, detail, daily=DAY_WINDOW_MARK in detail)
    return classify_code(NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS)


def phone_numbers(phone: str) -> str:
    """``PhoneNumbers`` for an E.164 ``phone``: the 11-digit national number of a
    mainland mobile, else the country code and number without ``+``."""
    return mainland_number(phone) or phone.lstrip("+")


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """``(protocol, host[:port])`` of an endpoint setting: a bare host is HTTPS."""
    if "://" not in endpoint:
        return "HTTPS", endpoint.rstrip("/")
    parts = urlsplit(endpoint)
    return parts.scheme.upper(), parts.netloc


@dataclass(frozen=True)
class AliyunSettings:
    """Alibaba Cloud SMS settings (``ALIYUN_SMS_*`` and the AccessKey)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    template_code: str  #: the ``login`` template
    endpoint: str
    #: template variable -> ``code`` or ``minutes``
    variables: Mapping[str, str] = field(default_factory=lambda: {"code": "code"})
    #: scene -> TemplateCode, one per allowed scene (``ALIYUN_SMS_SCENES``; ``login`` defaults to ``template_code``)
    scene_templates: Mapping[str, str] = field(default_factory=dict)


def _read_variables(reader: EnvReader) -> dict[str, str]:
    name = "ALIYUN_SMS_TEMPLATE_VARIABLES"
    raw = reader.text(name, "code") or "code"
    variables: dict[str, str] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        variable, colon, value = (s.strip() for s in entry.partition(":"))
        value = value if colon else variable
        if not _VARIABLE.fullmatch(variable) or value not in TEMPLATE_VALUES or variable in variables:
            reader.problem(name, f"entry {entry[:40]!r}: write variable:value entries (value code or minutes), each variable once")
            return {"code": "code"}
        variables[variable] = value
    if "code" not in variables.values():
        reader.problem(name, "no variable carries the code: add e.g. code:code")
        return {"code": "code"}
    return variables


def from_env(reader: EnvReader, common: SmsCommon) -> AliyunSettings:
    """Read this provider's variables; problems are recorded on ``reader``."""
    purpose = "for the aliyun SMS provider"
    access_key_id = reader.required("ALIBABA_CLOUD_ACCESS_KEY_ID", purpose)
    access_key_secret = reader.required("ALIBABA_CLOUD_ACCESS_KEY_SECRET", purpose)
    sign_name = reader.required("ALIYUN_SMS_SIGN_NAME", purpose)
    scenes_given = reader.text("ALIYUN_SMS_SCENES") is not None
    if DEFAULT_SCENE in common.scenes and not scenes_given:
        template_code = reader.required("ALIYUN_SMS_TEMPLATE_CODE", purpose)
    else:
        template_code = reader.text("ALIYUN_SMS_TEMPLATE_CODE") or ""
    scene_templates = provider_scene_map(
        reader, "ALIYUN_SMS_SCENES", common.scenes, template_code, fallback_variable="ALIYUN_SMS_TEMPLATE_CODE"
    )
    endpoint = reader.text("ALIYUN_SMS_ENDPOINT", DEFAULT_ENDPOINT) or DEFAULT_ENDPOINT
    if "://" in endpoint and not endpoint.startswith(("https://", "http://")):
        reader.problem("ALIYUN_SMS_ENDPOINT", f"must be a host or an http(s) URL, got {endpoint!r}")
    if common.code_length > MAX_CODE_LENGTH:
        reader.problem("CODE_LENGTH", f"Alibaba Cloud verification templates accept at most {MAX_CODE_LENGTH} characters for a code")
    return AliyunSettings(
        access_key_id=access_key_id,
        access_key_secret=access_key_secret,
        sign_name=sign_name,
        template_code=template_code,
        endpoint=endpoint,
        variables=_read_variables(reader),
        scene_templates=scene_templates,
    )


def build(settings: AliyunSettings, common: SmsCommon) -> "AliyunSender":
    """The sender for ``settings``."""
    return AliyunSender(settings)


class AliyunSender:
    """Sends verification codes with ``SendSms``; mainland and international numbers."""

    name = NAME

    def __init__(self, settings: AliyunSettings) -> None:
        self.settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    def supports(self, phone: str) -> bool:
        return True  # one API for mainland and international messages (the template decides)

    def _sdk_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from alibabacloud_dysmsapi20170525.client import Client
                from alibabacloud_tea_openapi.utils_models import Config

                protocol, host = split_endpoint(self.settings.endpoint)
                self._client = Client(Config(
                    access_key_id=self.settings.access_key_id,
                    access_key_secret=self.settings.access_key_secret,
                    endpoint=host,
                    protocol=protocol,
                ))
            return self._client

    def template_param(self, message: SmsMessage) -> str:
        """``TemplateParam``: the JSON object of the template's variables (string values)."""
        known = {"code": message.code, "minutes": str(message.ttl_minutes)}
        return json.dumps({variable: known[value] for variable, value in self.settings.variables.items()},
                          ensure_ascii=False, separators=(",", ":"))

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        client = self._sdk_client()
        from alibabacloud_dysmsapi20170525 import models
        from darabonba.exceptions import ResponseException, RetryError, UnretryableException
        from darabonba.runtime import RuntimeOptions

        s = self.settings
        request = models.SendSmsRequest(
            phone_numbers=phone_numbers(message.phone),
            sign_name=s.sign_name,
            template_code=scene_template(s.scene_templates, message.scene, s.template_code),
            template_param=self.template_param(message),
            out_id=message.reference or None,
        )
        milliseconds = max(1, int(timeout_seconds * 1000))
        runtime = RuntimeOptions(read_timeout=milliseconds, connect_timeout=milliseconds)
        try:
            response = client.send_sms_with_options(request, runtime)
        except ResponseException as exc:  # the gateway's 4xx/5xx with a JSON Code
            raise classify(str(exc.code or f"HTTP{exc.status_code}"), str(exc.message or "")[:200]) from None
        except UnretryableException as exc:
            inner = getattr(exc, "inner_exception", None)
            if isinstance(inner, RetryError):  # the transport failed; the requests exception is its context
                raise transport_failure(NAME, inner.__context__) from None
            # The answer did not parse (the SDK raises a RuntimeError over the JSON error).
            raise SendTimeout(NAME, "InvalidResponse", "answer is not JSON") from None
        body = response.body
        code = (body.code if body is not None else None) or ""
        if code != SUCCESS:
            if not code:
                raise SendTimeout(NAME, "InvalidResponse", "answer without Code")
            raise classify(code, str(body.message or "")[:200])
        return SendReceipt(provider=NAME, serial_no=body.biz_id or "", request_id=body.request_id or "")
