"""Local emulator of Alibaba Cloud SMS ``SendSms`` (Dysmsapi 2017-05-25) behind
the OpenAPI gateway, with the V3 request signature (``ACS3-HMAC-SHA256``).

Facts come from "V3版本请求体&签名机制"
(https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature),
the gateway's common error codes ("管控OpenAPI的客户端公用错误码",
https://developer.aliyun.com/ask/278265), "SendSms - 发送短信" and "国内消息API错误码"
(https://help.aliyun.com/zh/sms/developer-reference/api-error-codes), and
"短信发送频率限制" (1 a minute, 5 an hour, 10 a day per number and signature
for verification codes). Where they are silent this module says "CHOICE".

Point ``ALIYUN_SMS_ENDPOINT`` at :attr:`AliyunSmsEmulator.url`. Served: an RPC
call to ``/``; the SDK sends ``POST /?<business parameters>`` with an empty body.

The gateway, in this order (after the common knobs of ``_http.py``):

1. ``Authorization``: ``ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b>,Signature=<hex>``;
   missing or malformed -> HTTP 400 ``IncompleteSignature``. Every present
   ``x-acs-*`` header and ``host`` must be among the signed headers ("除Authorization外的
   所有公共请求头，只要存在必须被加入签名") -> else ``IncompleteSignature``.
2. ``x-acs-action`` must be ``SendSms`` (HTTP 404 ``InvalidAction.NotFound``),
   ``x-acs-version`` ``2017-05-25`` (HTTP 400 ``InvalidVersion``, CHOICE).
3. ``x-acs-date`` ``yyyy-MM-ddTHH:mm:ssZ`` (HTTP 400 ``InvalidTimeStamp.Format``),
   within 15 minutes of ``clock()`` (HTTP 400 ``InvalidTimeStamp.Expired``).
4. ``x-acs-content-sha256`` must be the hex SHA-256 of the body (CHOICE:
   ``SignatureDoesNotMatch`` otherwise).
5. An unknown AccessKey ID -> HTTP 404 ``InvalidAccessKeyId.NotFound``; a
   signature other than :func:`acs3_signature` -> HTTP 400 ``SignatureDoesNotMatch``.
6. A ``x-acs-signature-nonce`` seen before -> HTTP 400 ``SignatureNonceUsed``.

Gateway refusals answer ``{"RequestId","HostId","Code","Message","Recommend"}``
with their status. Then ``SendSms`` (query and form parameters), answering
HTTP 200 ``{"Code","Message","RequestId"}`` on a refusal:

7. ``PhoneNumbers``, ``SignName``, ``TemplateCode`` missing -> HTTP 400
   ``Missing<Name>`` (the gateway's ``Missing{ParameterName}``).
8. ``SignName`` not an approved signature -> ``isv.SMS_SIGNATURE_ILLEGAL``;
   ``TemplateCode`` unknown -> ``isv.SMS_TEMPLATE_ILLEGAL``.
9. ``PhoneNumbers``: more than 1000 -> ``isv.MOBILE_COUNT_OVER_LIMIT``. A
   domestic template takes mainland mobiles (11 digits starting with 1, with
   an optional ``+``, ``+86``, ``0086`` or ``86``), anything else ->
   ``isv.MOBILE_NUMBER_ILLEGAL``; an international template takes country
   code and number (7-15 digits, no ``+``, CHOICE), a mainland number ->
   ``isv.DOMESTIC_NUMBER_NOT_SUPPORTED``, anything else ``isv.MOBILE_NUMBER_ILLEGAL``.
10. ``TemplateParam``: not a JSON object of strings -> ``isv.INVALID_JSON_PARAM``;
    a variable of the template missing -> ``isv.TEMPLATE_MISSING_PARAMETERS``;
    a value longer than the template allows (6 for a verification code) ->
    ``isv.PARAM_LENGTH_LIMIT``.
11. Per number and signature, successful sends in the last 60 s, 3600 s and
    this Asia/Shanghai day: 1, 5 and ``daily_limit`` [10] ->
    ``isv.BUSINESS_LIMIT_CONTROL`` with ``触发分钟级流控Permits:1``,
    ``触发小时级流控Permits:5`` or ``触发天级流控Permits:10``.
12. ``force_code`` (knob): answer that code (with its documented message and,
    for a gateway code, its HTTP status) instead of success.

Success: HTTP 200 ``{"Code":"OK","Message":"OK","BizId":"<digits>^0","RequestId"}``;
one :attr:`sent` record per number (``phone`` as sent, ``params`` the
template values in the template's variable order, ``variables`` the decoded
``TemplateParam``, ``message_id`` = ``BizId``, ``out_id``, ``template_code``,
``sign_name``). ``signature_failures`` counts the ``SignatureDoesNotMatch`` refusals (steps 4 and 5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qsl, quote

from tests.support.emulators._http import Answer, ProviderEmulator, Request

__all__ = ["ALIYUN_ERRORS", "AliyunSmsEmulator", "acs3_signature", "canonical_query", "canonical_request"]

ALGORITHM = "ACS3-HMAC-SHA256"
ACTION, VERSION = "SendSms", "2017-05-25"
TIMESTAMP_WINDOW_SECONDS = 15 * 60
MAX_NUMBERS = 1000
HOST_ID = "dysmsapi.aliyuncs.com"

#: Gateway codes -> (HTTP status, message).
GATEWAY_ERRORS: dict[str, tuple[int, str]] = {
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "MissingPhoneNumbers": (400, "PhoneNumbers is mandatory for this action."),
    "MissingSignName": (400, "SignName is mandatory for this action."),
    "MissingTemplateCode": (400, "TemplateCode is mandatory for this action."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
}
#: SendSms business codes (HTTP 200) -> message, from "国内消息API错误码".
BUSINESS_ERRORS: dict[str, str] = {
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": "签名和模板类型不一致",
    "isv.EXTEND_CODE_ERROR": "扩展码使用错误，相同的扩展码不可用于多个签名",
    "isv.SIGN_STATE_ILLEGAL": "签名状态为不可用",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": "国际/港澳台消息模板不支持发送境内号码",
    "isv.DENY_IP_RANGE": "IP地址所在的地区被禁用",
    "isv.DAY_LIMIT_CONTROL": "触发日发送限额",
    "isv.MONTH_LIMIT_CONTROL": "触发月发送限额",
    "isv.SMS_CONTENT_ILLEGAL": "短信内容包含禁止发送内容",
    "isv.SMS_SIGN_ILLEGAL": "签名禁止使用",
    "isp.RAM_PERMISSION_DENY": "RAM权限不足",
    "isv.OUT_OF_SERVICE": "业务停机",
    "isv.PRODUCT_UN_SUBSCRIPT": "未开通云通信产品的阿里云客户",
    "isv.PRODUCT_UNSUBSCRIBE": "产品未开通",
    "isv.ACCOUNT_NOT_EXISTS": "账户不存在",
    "isv.ACCOUNT_ABNORMAL": "账户异常",
    "isv.SMS_TEMPLATE_ILLEGAL": "该账号下找不到对应模板",
    "isv.SMS_SIGNATURE_ILLEGAL": "该账号下找不到对应签名",
    "isv.INVALID_PARAMETERS": "参数格式不正确",
    "isp.SYSTEM_ERROR": "系统出现错误，请重新调用",
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式错误",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制，最多支持1000条",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量中存在未赋值变量",
    "isv.BUSINESS_LIMIT_CONTROL": "触发分钟级流控Permits:1",
    "isv.INVALID_JSON_PARAM": "JSON参数不合法，只接受字符串值",
    "isv.BLACK_KEY_CONTROL_LIMIT": "模板变量中存在黑名单关键字",
    "isv.PARAM_LENGTH_LIMIT": "参数超出长度限制",
    "isv.PARAM_NOT_SUPPORT_URL": "不支持URL",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isv.TEMPLATE_PARAMS_ILLEGAL": "模板变量里包含非法关键字",
}
#: Every code the emulator can answer (gateway and business) -> message.
ALIYUN_ERRORS: dict[str, str] = {**{code: message for code, (_, message) in GATEWAY_ERRORS.items()}, **BUSINESS_ERRORS}

#: (window seconds or None for the calendar day, permits, message) of the per-number limit.
_NUMBER_WINDOWS = ((60, 1, "触发分钟级流控Permits:1"), (3600, 5, "触发小时级流控Permits:5"))
_AUTHORIZATION = re.compile(
    r"^ACS3-HMAC-SHA256 Credential=(?P<key>[^,\s]+),SignedHeaders=(?P<signed>[a-z0-9;_-]+),Signature=(?P<sig>[0-9a-f]{64})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_MAINLAND = re.compile(r"^(?:\+86|0086|86|\+)?(1\d{10})$")
_INTERNATIONAL = re.compile(r"^[1-9]\d{6,14}$")


def _encode(text: str) -> str:
    """RFC 3986 percent-encoding of UTF-8: unreserved characters kept, space ``%20``, ``*`` ``%2A``."""
    return quote(text, safe="-_.~", encoding="utf-8")


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    """``CanonicalQueryString``: names and values encoded, sorted by name, ``name=value`` joined by ``&``."""
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(pairs, key=lambda kv: (_encode(kv[0]), _encode(kv[1]))))


def canonical_request(method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str],
                      signed: list[str], payload_hash: str) -> str:
    """``CanonicalRequest`` of the V3 signature (``headers`` with lower-case names)."""
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed)
    return "\n".join([method.upper(), path or "/", canonical_query(pairs), canonical_headers, ";".join(signed), payload_hash])


def acs3_signature(secret: str, request: str) -> str:
    """``hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex(SHA256(CanonicalRequest))))``."""
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(request.encode('utf-8')).hexdigest()}"
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class _Refusal(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message if message is not None else ALIYUN_ERRORS.get(code, "emulated error")


class AliyunSmsEmulator(ProviderEmulator):
    """``SendSms`` behind the V3-signed OpenAPI gateway (see the module docstring).

    ``keys`` maps AccessKey IDs to secrets; ``sign_names`` are the approved
    signatures; ``templates`` maps a TemplateCode to its variables (name ->
    longest value) and ``international_templates`` lists the codes of
    international/HK-Macao-Taiwan templates. ``daily_limit`` is per number
    and signature.
    """

    provider = "aliyun"
    server_version = "Tengine"

    def __init__(self, keys: dict[str, str], sign_names: set[str], templates: dict[str, dict[str, int]],
                 international_templates: set[str] = frozenset(), daily_limit: int = 10) -> None:
        super().__init__(daily_limit=daily_limit)
        self.keys = dict(keys)
        self.sign_names = set(sign_names)
        self.templates = {code: dict(variables) for code, variables in templates.items()}
        self.international_templates = set(international_templates)
        self._reset_provider_state()

    def _reset_provider_state(self) -> None:
        self._nonces: set[str] = set()
        self._history: dict[tuple[str, str], list[float]] = {}
        self.signature_failures = 0

    # --------------------------------------------------------------- dispatch
    def _dispatch(self, request: Request) -> Answer:
        try:
            self._authenticate(request)
            return self._send_sms(request)
        except _Refusal as refusal:
            return self._failure(refusal)

    def _failure(self, refusal: _Refusal) -> Answer:
        request_id = str(uuid.uuid4()).upper()
        if refusal.code in GATEWAY_ERRORS:
            status = GATEWAY_ERRORS[refusal.code][0]
            payload = {"RequestId": request_id, "HostId": HOST_ID, "Code": refusal.code, "Message": refusal.message,
                       "Recommend": f"https://api.aliyun.com/troubleshoot?q={refusal.code}&product=Dysmsapi"}
            answer = Answer.json(payload, refusal.code)
            answer.status = status
            return answer
        return Answer.json({"Code": refusal.code, "Message": refusal.message, "RequestId": request_id}, refusal.code)

    def _authenticate(self, request: Request) -> None:
        found = _AUTHORIZATION.match(request.headers.get("authorization", "").strip())
        if found is None:
            raise _Refusal("IncompleteSignature")
        signed = found["signed"].split(";")
        headers = request.headers
        present = {name for name in headers if name.startswith("x-acs-")} | {"host"}
        if signed != sorted(set(signed)) or not present <= set(signed) or any(name not in headers for name in signed):
            raise _Refusal("IncompleteSignature")
        if headers.get("x-acs-action") != ACTION:
            raise _Refusal("InvalidAction.NotFound")
        if headers.get("x-acs-version") != VERSION:
            raise _Refusal("InvalidVersion")
        stamp = headers.get("x-acs-date", "")
        if not _DATE.match(stamp):
            raise _Refusal("InvalidTimeStamp.Format")
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        if abs(self.clock() - moment) > TIMESTAMP_WINDOW_SECONDS:
            raise _Refusal("InvalidTimeStamp.Expired")
        payload_hash = hashlib.sha256(request.body).hexdigest()
        secret = self.keys.get(found["key"])
        if secret is None:
            raise _Refusal("InvalidAccessKeyId.NotFound")
        pairs = parse_qsl(request.raw_query, keep_blank_values=True, encoding="utf-8")
        expected = acs3_signature(secret, canonical_request(request.method, request.path, pairs, headers, signed, payload_hash))
        if headers.get("x-acs-content-sha256") != payload_hash or not hmac.compare_digest(found["sig"], expected):
            with self._lock:
                self.signature_failures += 1
            raise _Refusal("SignatureDoesNotMatch")
        with self._lock:
            nonce = headers.get("x-acs-signature-nonce", "")
            if not nonce or nonce in self._nonces:
                raise _Refusal("SignatureNonceUsed")
            self._nonces.add(nonce)

    def _numbers(self, raw: str, international: bool) -> list[str]:
        numbers = [n.strip() for n in raw.split(",")]
        if len(numbers) > MAX_NUMBERS:
            raise _Refusal("isv.MOBILE_COUNT_OVER_LIMIT")
        for number in numbers:
            mainland = _MAINLAND.match(number)
            if international:
                if mainland is not None:
                    raise _Refusal("isv.DOMESTIC_NUMBER_NOT_SUPPORTED")
                if not _INTERNATIONAL.match(number):
                    raise _Refusal("isv.MOBILE_NUMBER_ILLEGAL")
            elif mainland is None:
                raise _Refusal("isv.MOBILE_NUMBER_ILLEGAL")
        return numbers

    def _variables(self, raw: str, template: dict[str, int]) -> dict[str, str]:
        try:
            values = json.loads(raw) if raw else {}
        except ValueError:
            raise _Refusal("isv.INVALID_JSON_PARAM") from None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise _Refusal("isv.INVALID_JSON_PARAM")
        if any(name not in values or values[name] == "" for name in template):
            raise _Refusal("isv.TEMPLATE_MISSING_PARAMETERS")
        if any(len(values[name]) > longest for name, longest in template.items()):
            raise _Refusal("isv.PARAM_LENGTH_LIMIT")
        return values

    def _send_sms(self, request: Request) -> Answer:
        params = request.params()
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                raise _Refusal(f"Missing{name}")
        sign, template_code = params["SignName"], params["TemplateCode"]
        if sign not in self.sign_names:
            raise _Refusal("isv.SMS_SIGNATURE_ILLEGAL")
        if template_code not in self.templates:
            raise _Refusal("isv.SMS_TEMPLATE_ILLEGAL")
        template = self.templates[template_code]
        numbers = self._numbers(params["PhoneNumbers"], template_code in self.international_templates)
        variables = self._variables(params.get("TemplateParam", ""), template)
        with self._lock:
            now = self.clock()
            for number in numbers:
                history = [t for t in self._history.get((sign, number), []) if now - t < 3600]
                for window, permits, message in _NUMBER_WINDOWS:
                    if sum(1 for t in history if now - t < window) >= permits:
                        raise _Refusal("isv.BUSINESS_LIMIT_CONTROL", message)
                if self._daily_reached(sign, number):
                    raise _Refusal("isv.BUSINESS_LIMIT_CONTROL", f"触发天级流控Permits:{self.daily_limit}")
            forced = self.force_code
            if forced is not None:
                raise _Refusal(str(forced))
            biz_id = f"{uuid.uuid4().int % 10**16:016d}^0"
            for number in numbers:
                self._history.setdefault((sign, number), []).append(now)
                self._count_send(sign, number)
                self._record_sent({
                    "phone": number, "params": [variables[name] for name in template], "variables": dict(variables),
                    "message_id": biz_id, "out_id": params.get("OutId", ""), "template_code": template_code,
                    "sign_name": sign,
                })
        return Answer.json({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4()).upper()}, "OK")
