"""Local emulator of the Tencent Cloud API 3.0 endpoint for SMS, VMS (voice codes) and Captcha.

The emulator is an HTTP server bound to 127.0.0.1 that the *real*
``tencentcloud-sdk-python`` clients talk to.  Point a client at it with::

    HttpProfile(protocol="http", endpoint=emulator.endpoint)

The server, its lifecycle (``start()`` / ``stop()`` / ``reset()``, the context
manager, ``down()`` / ``up()`` on the same port), request parsing and the
``sent`` / ``sent_to()`` / ``internal_errors`` records come from
:class:`tests.support.emulators._http.ProviderEmulator`, shared with the
Ronglian, Huyi and Zhenzi emulators; this module adds the TC3 signature
checks, the two actions and their knobs.  Unlike the other three, it records
``requests`` only once a request has passed authentication (see
:class:`TencentCloudEmulator`).

Served actions
--------------
* ``SendSms`` of service ``sms``, version ``2021-01-11``
  (https://cloud.tencent.com/document/api/382/55981).
* ``PullSmsSendStatus`` of service ``sms``, version ``2021-01-11``
  (https://cloud.tencent.com/document/product/382/55977): the delivery
  statuses of accepted ``SendSms`` numbers, as a queue.
* ``DescribeCaptchaResult`` of service ``captcha``, version ``2019-07-22``
  (https://cloud.tencent.com/document/api/1110/36926).
* ``SendCodeVoice`` of service ``vms``, version ``2020-09-02``
  (https://cloud.tencent.com/document/api/1128/51559).

What is verified, in this order (failures are answered the way Tencent does:
HTTP 200, ``Content-Type: application/json`` with no charset, body
``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``):

1. Transport: ``POST /`` with a JSON content type
   (``UnsupportedProtocol`` otherwise).
2. Common parameters sent as headers: ``X-TC-Action``, ``X-TC-Version``,
   ``X-TC-Timestamp`` (``MissingParameter`` / ``InvalidParameter``); the
   action must exist (``InvalidAction``) and the version must be the one of
   that action (``NoSuchVersion``).  ``X-TC-Region`` is required by SMS and
   must be one of the regions SMS is deployed in (``MissingParameter`` /
   ``UnsupportedRegion``); VMS requires one too (``MissingParameter``; its
   value is not checked: the product's region list was not confirmed);
   Captcha does not use a region, so it is optional there.
3. Signature v3 (TC3-HMAC-SHA256, https://cloud.tencent.com/document/api/382/52072),
   recomputed exactly like ``tencentcloud/common/abstract_client.py``
   ``_build_req_with_tc3_signature`` / ``_get_tc3_signature`` and
   ``common/sign.py`` ``Sign.sign_tc3``:

   * ``Authorization`` must parse as
     ``TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request,
     SignedHeaders=<h1;h2>, Signature=<64 hex>`` and sign at least
     ``content-type`` and ``host`` (``AuthFailure.InvalidAuthorization``);
   * the timestamp must be within 300 s of now (``AuthFailure.SignatureExpire``);
   * the SecretId must be the configured one (``AuthFailure.SecretIdNotFound``);
   * the scope date must be the UTC date of ``X-TC-Timestamp`` and the scope
     service must be the service of the action (``sms`` / ``vms`` /
     ``captcha``), and
     the signature must match (all ``AuthFailure.SignatureFailure``);
   * when the emulator holds a session token, ``X-TC-Token`` must equal it
     (``AuthFailure.TokenFailure``); without one the header is ignored.

4. Action parameters (error code lists: https://cloud.tencent.com/document/api/382/52075
   for common errors, https://cloud.tencent.com/document/api/382/59177 for the
   SMS send errors, and the SDK's ``sms/v20210111/errorcodes.py``,
   ``vms/v20200902/errorcodes.py`` and ``captcha/v20190722/errorcodes.py``).  Parameters not in the action's model
   give ``UnknownParameter``; wrong JSON types give ``InvalidParameter``.
   See :meth:`TencentCloudEmulator._send_sms`,
   :meth:`TencentCloudEmulator._send_code_voice` and
   :meth:`TencentCloudEmulator._describe_captcha_result` for the rules.

Nothing is written to stdout/stderr by default (no request line, no body):
the project has a test that asserts no secret ever appears in output.

Run standalone (from the repository root)::

    python -m tests.support.emulators.tencent_cloud --port 9100
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import itertools
import json
import re
import secrets
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from tests.support.emulators._http import Answer, ProviderEmulator, Request

__all__ = [
    "TencentCloudEmulator",
    "DEFAULT_SECRET_ID",
    "DEFAULT_SECRET_KEY",
]

# Credentials used by the standalone mode (and handy for tests); not real keys.
DEFAULT_SECRET_ID = "AKIDemulatorTESTsecretid0000000000000"
DEFAULT_SECRET_KEY = "emulatorTESTsecretkey00000000000"  # pragma: allowlist secret

SMS_VERSION = "2021-01-11"
CAPTCHA_VERSION = "2019-07-22"
VMS_VERSION = "2020-09-02"

# action -> (service used in the credential scope, API version)
_ACTIONS = {
    "SendSms": ("sms", SMS_VERSION),
    "PullSmsSendStatus": ("sms", SMS_VERSION),
    "DescribeCaptchaResult": ("captcha", CAPTCHA_VERSION),
    "SendCodeVoice": ("vms", VMS_VERSION),
}

# Regions listed for SMS API 3.0 (SendSms "地域列表": Beijing, Guangzhou, Nanjing).
SMS_REGIONS = frozenset({"ap-beijing", "ap-guangzhou", "ap-nanjing"})

SIGNATURE_MAX_SKEW_SECONDS = 300  # "Timestamp ... 不得超过五分钟" (signature v3 doc)
MAX_PHONE_NUMBERS = 200  # SendSms: at most 200 numbers per request
MAX_TEMPLATE_PARAM_CHARS = 6  # simplified verification-code variable rule
MAX_SESSION_CONTEXT_BYTES = 512  # SendSms: SessionContext length limit
MAX_PULL_LIMIT = 100  # PullSmsSendStatus: "拉取最大条数，最多100条"

_AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 +Credential=(?P<secret_id>[^/\s]+)/(?P<date>[^/\s]+)/"
    r"(?P<service>[^/\s]+)/tc3_request, *SignedHeaders=(?P<signed>[A-Za-z0-9;_-]+), *"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
_E164_RE = re.compile(r"^\+[0-9]{6,15}$")
_CN_MOBILE_RE = re.compile(r"^\+861[0-9]{10}$")

# A few calling codes -> ISO 3166 alpha-2, used for SendStatus.IsoCode.
# Longest prefix wins; unknown prefixes give "".
_ISO_CODES = {
    "86": "CN", "852": "HK", "853": "MO", "886": "TW", "1": "US", "44": "GB",
    "81": "JP", "82": "KR", "65": "SG", "60": "MY", "66": "TH", "84": "VN",
    "61": "AU", "49": "DE", "33": "FR", "7": "RU", "91": "IN", "971": "AE",
}

# Short messages for per-number failure codes (own wording).
_NUMBER_ERROR_MESSAGES = {
    "InvalidParameterValue.IncorrectPhoneNumber": "incorrect phone number",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate":
        "request content does not match the template content",
    "LimitExceeded.PhoneNumberDailyLimit": "the number of sms messages sent from a single mobile number every day exceeds the upper limit",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit",
    "LimitExceeded.PhoneNumberOneHourLimit": "the number of sms messages sent from a single mobile number within 1 hour exceeds the upper limit",
    "FailedOperation.PhoneNumberInBlacklist": "the mobile number is in the blocklist",
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone":
        "a Chinese mainland template cannot be sent to a number outside the mainland",
    "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone":
        "an international template cannot be sent to a Chinese mainland number",
}

# DescribeCaptchaResult CaptchaCode values, taken from the CaptchaCode field
# docstring of DescribeCaptchaResultResponse (captcha/v20190722/models.py).
CAPTCHA_OK = 1  # "OK" - verification passed
CAPTCHA_RANDSTR_MISMATCH = 7  # "captcha no match" - Randstr differs from the front end's
CAPTCHA_TICKET_EXPIRED = 8  # "ticket expired" - tickets live 5 minutes
CAPTCHA_TICKET_REUSED = 9  # "ticket reused" - ticket already verified
CAPTCHA_DECRYPT_FAIL = 15  # "decrypt fail" - ticket is not a valid ticket
CAPTCHA_APPID_MISMATCH = 16  # "appid-ticket mismatch" - CaptchaAppId is wrong
CAPTCHA_DIFF = 21  # "diff" - risk control rejected the ticket
CAPTCHA_SECRET_MISMATCH = 100  # "appid-secretkey-ticket mismatch" - AppSecretKey wrong
_CAPTCHA_MESSAGES = {
    CAPTCHA_OK: "OK",
    CAPTCHA_RANDSTR_MISMATCH: "captcha no match",
    CAPTCHA_TICKET_EXPIRED: "ticket expired",
    CAPTCHA_TICKET_REUSED: "ticket reused",
    CAPTCHA_DECRYPT_FAIL: "decrypt fail",
    CAPTCHA_APPID_MISMATCH: "appid-ticket mismatch",
    CAPTCHA_DIFF: "diff",
    CAPTCHA_SECRET_MISMATCH: "appid-secretkey-ticket mismatch",  # pragma: allowlist secret
}
CAPTCHA_TICKET_TTL_SECONDS = 300  # "Ticket有效期5分钟" (CaptchaCode 8 docstring)

# Fields of the request models (anything else -> UnknownParameter).
_SEND_SMS_FIELDS = {
    "PhoneNumberSet", "SmsSdkAppId", "TemplateId", "SignName",
    "TemplateParamSet", "ExtendCode", "SessionContext", "SenderId",
}
_SEND_CODE_VOICE_FIELDS = {"CodeMessage", "CalledNumber", "VoiceSdkAppid", "PlayTimes", "SessionContext"}
_PULL_FIELDS = {"Limit", "SmsSdkAppId"}
_CAPTCHA_FIELDS = {
    "CaptchaType", "Ticket", "UserIp", "Randstr", "CaptchaAppId", "AppSecretKey",
    "BusinessId", "SceneId", "MacAddress", "Imei", "NeedGetCaptchaTime",
}


class ApiError(Exception):
    """A request-level error, answered as ``Response.Error``."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message


class _HttpStatusAnswer(Exception):
    """Answer with a non-200 status and a text/plain body (gateway failure, ``sms_http_status``)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def _hmac_sha256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """TC3 key chain: ``"TC3"+key`` -> date -> service -> ``"tc3_request"``."""
    k_date = _hmac_sha256(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac_sha256(k_date, service)
    k_signing = _hmac_sha256(k_service, "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def _iso_code(phone: str) -> str:
    digits = phone[1:]
    for length in (3, 2, 1):
        code = _ISO_CODES.get(digits[:length])
        if code:
            return code
    return ""


def _country_code(phone: str) -> str:
    """The calling code of an E.164 number: a prefix of ``_ISO_CODES``, longest first, else 2 digits."""
    digits = phone[1:]
    for length in (3, 2, 1):
        if digits[:length] in _ISO_CODES:
            return digits[:length]
    return digits[:2]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TencentCloudEmulator(ProviderEmulator):
    """Emulates ``SendSms`` (2021-01-11), ``SendCodeVoice`` (2020-09-02) and
    ``DescribeCaptchaResult`` (2019-07-22).

    Every request is authenticated with signature v3 against ``secret_id`` /
    ``secret_key`` (and ``token`` when given) exactly like the real endpoint
    (see the module docstring).  Then:

    **SendSms** (https://cloud.tencent.com/document/api/382/55981; codes from
    https://cloud.tencent.com/document/api/382/59177 and ``errorcodes.py``)

    Request-level errors (``Response.Error``):

    * ``UnknownParameter`` - a field not in ``SendSmsRequest``;
    * ``MissingParameter`` - ``PhoneNumberSet``, ``SmsSdkAppId`` or
      ``TemplateId`` absent, or ``SignName`` absent while sending to +86;
    * ``InvalidParameter`` - a field of the wrong JSON type;
    * ``MissingParameter.EmptyPhoneNumberSet`` - empty ``PhoneNumberSet``;
    * ``LimitExceeded.PhoneNumberCountLimit`` - more than 200 numbers;
    * ``InvalidParameterValue.SdkAppIdNotExist`` - other ``SmsSdkAppId``;
    * ``FailedOperation.TemplateIncorrectOrUnapproved`` - unknown ``TemplateId``;
    * ``InvalidParameterValue.TemplateParameterFormatError`` - a template
      parameter longer than 6 characters (simplified verification-code rule);
    * ``InvalidParameterValue`` - ``SessionContext`` of 512 bytes or more;
    * ``UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber`` -
      +86 and non-+86 numbers in one request;
    * ``FailedOperation.SignatureIncorrectOrUnapproved`` - ``SignName`` not in
      ``sms_signs`` (checked only when there are +86 numbers).

    Per-number results (HTTP 200, no Error; ``SerialNo ""``, ``Fee 0``,
    ``IsoCode ""`` like the official tccli example):

    * ``InvalidParameterValue.IncorrectPhoneNumber`` - not ``+`` and 6-15
      digits (bare/``0086`` domestic forms, which the real API tolerates, are
      rejected on purpose so code under test always sends E.164), or a +86
      number that is not an 11-digit mobile number starting with 1;
    * ``UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone`` - a
      mainland template (every template not in ``sms_global_templates``) to a
      number outside +86, and ``UnsupportedOperation.GlobalTemplateToChineseMainlandPhone``
      - an international/HK-Macao-Taiwan template (``sms_global_templates``)
      to a +86 number: Tencent keeps the two kinds of body templates apart
      (SDK ``errorcodes.py``; whether Tencent answers them per number or for
      the whole request is not published: per number here, like the other
      per-destination answers);
    * ``FailedOperation.TemplateParamSetNotMatchApprovedTemplate`` - parameter
      count differs from ``sms_templates[TemplateId]``;
    * ``sms_number_error`` when that knob is set.

    Accepted numbers get ``Code "Ok"``, ``Message "send success"``, ``Fee 1``
    and a fresh ``SerialNo``, and are appended to :attr:`sent`.

    Knobs (apply after authentication and validation, in this order):
    ``sms_delay_seconds`` (sleep in the handling thread only),
    ``sms_http_status``, ``sms_request_error``, ``sms_number_error``.  A
    request whose client timed out during the delay is still processed and
    recorded, like a real send the caller gave up waiting for.

    **SendCodeVoice** (https://cloud.tencent.com/document/api/1128/51559; codes
    from the SDK's ``vms/v20200902/errorcodes.py``)

    Request-level errors only (a call has one number), in this order:
    ``UnknownParameter``; ``MissingParameter`` for an absent ``CodeMessage``,
    ``CalledNumber`` or ``VoiceSdkAppid``; ``InvalidParameter`` for a wrong
    JSON type (``PlayTimes`` an integer, the rest strings);
    ``InvalidParameterValue.SdkAppidNotExist`` for another ``VoiceSdkAppid``
    than ``vms_sdk_app_id``; ``FailedOperation.FailResolvePacket`` for
    ``PlayTimes`` outside 1-3 or a ``CodeMessage`` that is not 1-10 digits
    (the product FAQ's "1004" cause: a field outside its documented values,
    https://cloud.tencent.com/document/product/1128/38004; the digit bound is
    this emulator's choice); ``InvalidParameterValue.CalledNumberVerifyFail``
    for a ``CalledNumber`` that is not ``+861`` and ten digits (mainland
    mobiles only).  Then the knobs ``vms_delay_seconds`` (sleep; the call is
    still recorded when the client gave up) and ``vms_request_error``
    (``(code, message)`` answered instead of success, nothing recorded).
    An accepted call answers ``SendStatus{CallId, SessionContext}`` and is
    appended to :attr:`voice_calls` (``phone``, ``code``, ``play_times``: as
    sent, ``None`` when absent, ``sdk_app_id``, ``session_context``,
    ``call_id``, ``request_id``); :meth:`voice_calls_to` filters it.
    **PullSmsSendStatus** (https://cloud.tencent.com/document/product/382/55977)

    Each number ``SendSms`` accepts queues one status, as the carrier's
    report would: ``sms_delivery`` is ``("SUCCESS", "DELIVRD")`` by default,
    e.g. ``("FAIL", "MK:0001")`` for a failure, or ``None`` to queue nothing
    (no report yet). A pull returns the oldest ``Limit`` statuses and removes
    them (each is pulled at most once), as ``PullSmsSendStatusSet`` entries
    ``{UserReceiveTime (clock, unix s), CountryCode, SubscriberNumber,
    PhoneNumber, SerialNo, ReportStatus, Description, SessionContext}``.
    Errors: ``UnknownParameter``; ``MissingParameter`` (``Limit``,
    ``SmsSdkAppId``); ``InvalidParameter`` (``Limit`` not an integer,
    ``SmsSdkAppId`` not a string); ``InvalidParameterValue`` for a ``Limit``
    outside 1-100 (this emulator's choice of code: the docs state the bound,
    not the error); ``InvalidParameterValue.SdkAppIdNotExist``; and
    ``sms_pull_error`` when set (e.g. the code of an account where pull mode is
    not enabled). :attr:`pulls` counts the pull requests that got an answer.
    :meth:`callback_body` writes the push form of statuses (the callback
    Tencent would POST) for given serial numbers.

    **DescribeCaptchaResult** (https://cloud.tencent.com/document/api/1110/36926)

    Request-level errors: ``UnknownParameter``; ``MissingParameter`` for an
    absent ``CaptchaType``/``Ticket``/``UserIp``/``Randstr``/``CaptchaAppId``/
    ``AppSecretKey``; ``InvalidParameter`` for a wrong JSON type (the two ids
    and the optional ``BusinessId``/``SceneId``/``NeedGetCaptchaTime`` are
    integers, the rest strings); ``InvalidParameterValue`` for ``CaptchaType``
    other than 9, an empty ``Ticket``/``Randstr``, or a ``UserIp`` that is not
    an IP address.

    Otherwise ``CaptchaCode`` (values documented in the ``CaptchaCode``
    docstring of ``DescribeCaptchaResultResponse``), checked in this order:
    16 wrong ``CaptchaAppId``; 100 wrong ``AppSecretKey``; 15 ticket never
    issued; 7 ``Randstr`` not the one issued with the ticket; 9 ticket already
    verified; 8 ticket older than ``captcha_ticket_ttl_seconds`` (300 s);
    21 ``UserIp`` differs from the ``user_ip`` given to
    :meth:`issue_captcha_ticket` (the mapping of an IP mismatch to 21 "diff",
    a risk-control rejection, is this emulator's choice: the docs do not say
    what an IP mismatch returns); else 1 "OK".  A ticket is consumed by the
    first request that reaches the 9/8/21/1 stage, so 7 and 15 do not burn it.
    ``captcha_force_code`` replaces the code of a valid ticket (e.g. 21).

    **Records and shared knobs.**  :attr:`requests` holds one dict per request
    that passed authentication (``action``, ``service``, ``body``: the JSON
    object sent, ``headers``: as sent); requests refused before that are not
    recorded.  The base's ``delay_seconds`` and ``http_status`` apply before
    authentication (an ``http_status`` answer is an HTML page and nothing is
    recorded); ``clock`` is used for the signature's 300 s window and the
    captcha tickets' times.  ``force_code`` and the daily counters are not
    used: daily limits are emulated with ``sms_number_error =
    "LimitExceeded.PhoneNumberDailyLimit"``.
    """

    provider = "tencent-cloud"
    server_version = "TencentCloudEmulator/1.0"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        token: str | None = None,
        sms_sdk_app_id: str = "1400000000",
        sms_templates: dict[str, int] | None = None,
        sms_global_templates: set[str] | None = None,
        sms_signs: set[str] | None = None,
        captcha_app_id: int = 190000000,
        captcha_app_secret_key: str = "captcha-test-key",
        vms_sdk_app_id: str = "1400006666",
    ) -> None:
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.token = token
        self.sms_sdk_app_id = sms_sdk_app_id
        self.sms_templates = dict(sms_templates) if sms_templates is not None else {"100001": 2, "100002": 1}
        self.sms_global_templates = set(sms_global_templates or ())
        self.sms_signs = set(sms_signs) if sms_signs is not None else {"测试签名"}
        self.captcha_app_id = captcha_app_id
        self.captcha_app_secret_key = captcha_app_secret_key
        self.vms_sdk_app_id = vms_sdk_app_id
        #: Accepted SendCodeVoice calls (see the class docstring); cleared by ``reset()``.
        self.voice_calls: list[dict] = []
        self._serial = itertools.count(1)
        # When False, one line per request (action and outcome, never bodies
        # or headers) goes to stderr; the standalone mode turns it on.
        self.quiet = True
        self._tickets: dict[str, dict] = {}
        self._statuses: list[dict] = []
        self.pulls = 0
        super().__init__(daily_limit=0)  # no daily counters here (see the class docstring)

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT`` (what ``HttpProfile(endpoint=...)`` takes); ``""`` before start."""
        return f"{self.host}:{self.port}" if self.port else ""

    # ------------------------------------------------------------------ knobs
    def _set_default_knobs(self) -> None:
        super()._set_default_knobs()
        self.sms_delay_seconds: float = 0.0
        self.sms_http_status: int = 200
        self.sms_request_error: tuple[str, str] | None = None
        self.sms_number_error: str | None = None
        self.captcha_ticket_ttl_seconds: float = CAPTCHA_TICKET_TTL_SECONDS
        self.captcha_force_code: int | None = None
        self.vms_delay_seconds: float = 0.0
        self.vms_request_error: tuple[str, str] | None = None

        self.sms_delivery: tuple[str, str] | None = ("SUCCESS", "DELIVRD")
        self.sms_pull_error: tuple[str, str] | None = None

    def _reset_provider_state(self) -> None:
        """``reset()`` also forgets the captcha tickets, the voice calls and the queued delivery statuses."""
        self._tickets.clear()
        self.voice_calls.clear()
        self._statuses.clear()
        self.pulls = 0

    @property
    def queued_statuses(self) -> int:
        """Delivery statuses waiting to be pulled."""
        with self._lock:
            return len(self._statuses)

    def callback_body(self, *serial_nos: str, report_status: str = "SUCCESS", errmsg: str = "DELIVRD",
                      description: str | None = None, receive_time: str = "2026-11-18 10:00:00") -> str:
        """The JSON array Tencent POSTs to a status callback URL, one item per
        serial number (of a number :attr:`sent` holds, else a made-up +86 mobile),
        in the documented form (https://cloud.tencent.com/document/api/382/5807)."""
        phones = {record["serial_no"]: record["phone"] for record in self.sent}
        if description is None:
            description = "用户短信送达成功" if report_status == "SUCCESS" else "用户短信发送失败"
        items = []
        for serial in serial_nos:
            phone = phones.get(serial, "+8613900000000")
            code = _country_code(phone)
            items.append({
                "user_receive_time": receive_time, "nationcode": code, "mobile": phone[1 + len(code):],
                "report_status": report_status, "errmsg": errmsg, "description": description, "sid": serial,
            })
        return json.dumps(items, ensure_ascii=False)

    # ---------------------------------------------------------------- records
    def issue_captcha_ticket(self, user_ip: str | None = None) -> tuple[str, str]:
        """Return a fresh ``(ticket, randstr)`` pair, accepted once.

        With ``user_ip``, verification must pass the same ``UserIp``.
        """
        ticket = "t03" + secrets.token_urlsafe(48)
        randstr = "@" + secrets.token_urlsafe(3)
        with self._lock:
            self._tickets[ticket] = {
                "randstr": randstr, "user_ip": user_ip, "issued_at": self.clock(),
                "used": False,
            }
        return ticket, randstr

    def voice_calls_to(self, phone: str) -> list[dict]:
        """Copies of the :attr:`voice_calls` records for ``phone`` (E.164, as sent)."""
        with self._lock:
            return [dict(call) for call in self.voice_calls if call["phone"] == phone]

    # --------------------------------------------------------------- dispatch
    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """The base's handling, then (``quiet`` off) one line to stderr: action and outcome only."""
        answer = super().handle(method, target, headers, body)
        if not self.quiet:
            action = dict(headers).get("X-TC-Action", "-")
            sys.stderr.write(f"{method} {target} {action} -> {answer.code}\n")
        return answer

    def _record_request(self, request: Request, answer: Answer) -> None:
        """Not here: :meth:`_dispatch` records a request once it is authenticated."""

    def _dispatch(self, request: Request) -> Answer:
        request_id = str(uuid.uuid4())
        body = request.body
        try:
            action, service = self._authenticate(request)
            try:
                params = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                params = None
            with self._lock:
                self.requests.append({
                    "action": action, "service": service,
                    "body": params if isinstance(params, dict) else {},
                    "headers": dict(request.raw_headers),
                })
            if not isinstance(params, dict):
                raise ApiError("InvalidParameter", "The request body is not a JSON object.")
            if action == "SendSms":
                payload = self._send_sms(params, request_id)
            elif action == "SendCodeVoice":
                payload = self._send_code_voice(params, request_id)
            elif action == "PullSmsSendStatus":
                payload = self._pull_sms_send_status(params)
            else:
                payload = self._describe_captcha_result(params)
        except ApiError as err:
            payload = {"Error": {"Code": err.code, "Message": err.message}}
            note = err.code
        except _HttpStatusAnswer as answer:
            text = f"{answer.status} emulated gateway error\n".encode()
            return Answer(answer.status, "text/plain", text, f"HTTP {answer.status}")
        else:
            note = "OK"
        payload["RequestId"] = request_id
        data = json.dumps({"Response": payload}, ensure_ascii=False).encode("utf-8")
        return Answer(200, "application/json", data, note)

    def _authenticate(self, request: Request) -> tuple[str, str]:
        h, method, target, body = request.headers, request.method, request.target, request.body
        if method != "POST" or target != "/":
            raise ApiError("UnsupportedProtocol", f"Only POST / is served here, got {method} {target}.")
        content_type = h.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise ApiError(
                "UnsupportedProtocol",
                "Content-Type must be application/json (signature v3 JSON requests only).",
            )

        action = h.get("x-tc-action", "")
        if not action:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Action`.")
        if action not in _ACTIONS:
            raise ApiError("InvalidAction", f"The requested action `{action}` does not exist.")
        service, version = _ACTIONS[action]
        got_version = h.get("x-tc-version", "")
        if not got_version:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Version`.")
        if got_version != version:
            raise ApiError("NoSuchVersion", f"The API version `{got_version}` of `{action}` does not exist.")
        region = h.get("x-tc-region", "")
        if service == "sms":
            if not region:
                raise ApiError("MissingParameter", "The request is missing a required parameter `Region`.")
            if region not in SMS_REGIONS:
                raise ApiError("UnsupportedRegion", f"The region `{region}` is not supported by this action.")
        elif service == "vms" and not region:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Region`.")
        ts_text = h.get("x-tc-timestamp", "")
        if not ts_text:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Timestamp`.")
        if not ts_text.isdigit():
            raise ApiError("InvalidParameter", "The parameter `Timestamp` must be an integer.")
        timestamp = int(ts_text)

        match = _AUTH_RE.match(h.get("authorization", "").strip())
        if match is None:
            raise ApiError("AuthFailure.InvalidAuthorization",
                           "The Authorization header does not follow the TC3-HMAC-SHA256 format.")
        signed_headers = match["signed"].split(";")
        if "content-type" not in signed_headers or "host" not in signed_headers:
            raise ApiError("AuthFailure.InvalidAuthorization",
                           "SignedHeaders must include content-type and host.")
        if abs(self.clock() - timestamp) > SIGNATURE_MAX_SKEW_SECONDS:
            raise ApiError("AuthFailure.SignatureExpire",
                           "Signature expired: the timestamp differs from server time by more than 300 seconds.")
        if match["secret_id"] != self.secret_id:
            raise ApiError("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        if match["date"] != _utc_date(timestamp):
            raise ApiError("AuthFailure.SignatureFailure",
                           "The credential scope date does not match the UTC date of X-TC-Timestamp.")
        if match["service"] != service:
            raise ApiError("AuthFailure.SignatureFailure",
                           f"The credential scope service must be `{service}` for `{action}`.")

        canonical_headers = "".join(
            f"{name}:{h.get(name, '').strip().lower()}\n" for name in signed_headers
        )
        if h.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD":
            payload_hash = hashlib.sha256(b"UNSIGNED-PAYLOAD").hexdigest()
        else:
            payload_hash = hashlib.sha256(body).hexdigest()
        canonical_request = "\n".join(
            ["POST", "/", "", canonical_headers, match["signed"], payload_hash]
        )
        scope = f"{match['date']}/{service}/tc3_request"
        string_to_sign = "\n".join([
            "TC3-HMAC-SHA256", ts_text, scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ])
        expected = tc3_signature(self.secret_key, match["date"], service, string_to_sign)
        if not hmac.compare_digest(expected, match["signature"]):
            raise ApiError("AuthFailure.SignatureFailure",
                           "The provided credentials could not be validated. Check the signature.")

        if self.token is not None and not hmac.compare_digest(
            h.get("x-tc-token", "").encode("utf-8"), self.token.encode("utf-8")
        ):
            raise ApiError("AuthFailure.TokenFailure", "The session token is missing or invalid.")
        return action, service

    # --------------------------------------------------------------- SendSms
    def _send_sms(self, p: dict, request_id: str) -> dict:
        unknown = sorted(set(p) - _SEND_SMS_FIELDS)
        if unknown:
            raise ApiError("UnknownParameter", f"The parameter `{unknown[0]}` is not recognized.")
        for name in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if name not in p or p[name] is None:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        for name in ("SmsSdkAppId", "TemplateId", "SignName", "ExtendCode", "SessionContext", "SenderId"):
            if name in p and not isinstance(p[name], str):
                raise ApiError("InvalidParameter", f"The parameter `{name}` must be a string.")
        for name in ("PhoneNumberSet", "TemplateParamSet"):
            value = p.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ApiError("InvalidParameter", f"The parameter `{name}` must be an array of strings.")

        phones: list[str] = p["PhoneNumberSet"]
        if not phones:
            raise ApiError("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
        if len(phones) > MAX_PHONE_NUMBERS:
            raise ApiError("LimitExceeded.PhoneNumberCountLimit",
                           f"At most {MAX_PHONE_NUMBERS} phone numbers per request.")
        if p["SmsSdkAppId"] != self.sms_sdk_app_id:
            raise ApiError("InvalidParameterValue.SdkAppIdNotExist", "The SmsSdkAppId does not exist.")
        template_id = p["TemplateId"]
        if template_id not in self.sms_templates:
            raise ApiError("FailedOperation.TemplateIncorrectOrUnapproved",
                           "The template is incorrect or not approved.")
        params: list[str] = p.get("TemplateParamSet", [])
        if any(len(v) > MAX_TEMPLATE_PARAM_CHARS for v in params):
            raise ApiError("InvalidParameterValue.TemplateParameterFormatError",
                           f"Each template parameter must be at most {MAX_TEMPLATE_PARAM_CHARS} characters.")
        session_context = p.get("SessionContext", "")
        if len(session_context.encode("utf-8")) >= MAX_SESSION_CONTEXT_BYTES:
            raise ApiError("InvalidParameterValue", "SessionContext must be shorter than 512 bytes.")

        well_formed = [n for n in phones if _E164_RE.match(n)]
        domestic = [n for n in well_formed if n.startswith("+86")]
        if domestic and len(domestic) != len(well_formed):
            raise ApiError("UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
                           "Domestic (+86) and international numbers cannot be mixed in one request.")
        sign = p.get("SignName")
        if domestic:
            if sign is None:
                raise ApiError("MissingParameter",
                               "The request is missing a required parameter `SignName`.")
            if sign not in self.sms_signs:
                raise ApiError("FailedOperation.SignatureIncorrectOrUnapproved",
                               "The signature is incorrect or not approved.")

        # Knobs, after authentication and validation.
        delay = self.sms_delay_seconds
        if delay > 0:
            time.sleep(delay)
        status = self.sms_http_status
        if status != 200:
            raise _HttpStatusAnswer(status)
        request_error = self.sms_request_error
        if request_error is not None:
            raise ApiError(request_error[0], request_error[1])
        number_error = self.sms_number_error

        expected_count = self.sms_templates[template_id]
        statuses = []
        accepted = []
        for phone in phones:
            code = "Ok"
            if not _E164_RE.match(phone) or (phone.startswith("+86") and not _CN_MOBILE_RE.match(phone)):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            elif phone.startswith("+86") and template_id in self.sms_global_templates:
                code = "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone"
            elif not phone.startswith("+86") and template_id not in self.sms_global_templates:
                code = "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone"
            elif len(params) != expected_count:
                code = "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
            elif number_error:
                code = number_error
            if code != "Ok":
                statuses.append({
                    "SerialNo": "", "PhoneNumber": phone, "Fee": 0,
                    "SessionContext": session_context, "Code": code,
                    "Message": _NUMBER_ERROR_MESSAGES.get(code, "send failed"), "IsoCode": "",
                })
                continue
            serial_no = f"3369:{next(self._serial):04d}{secrets.randbelow(10**16):016d}"
            statuses.append({
                "SerialNo": serial_no, "PhoneNumber": phone, "Fee": 1,
                "SessionContext": session_context, "Code": "Ok",
                "Message": "send success", "IsoCode": _iso_code(phone),
            })
            accepted.append({
                "phone": phone, "template_id": template_id, "params": list(params),
                "sign": sign, "sdk_app_id": p["SmsSdkAppId"],
                "session_context": session_context, "serial_no": serial_no,
                "request_id": request_id,
            })
        if accepted:
            delivery = self.sms_delivery
            now = int(self.clock())
            with self._lock:
                self.sent.extend(accepted)
                if delivery is not None:
                    for record in accepted:
                        phone = record["phone"]
                        code = _country_code(phone)
                        self._statuses.append({
                            "UserReceiveTime": now, "CountryCode": code, "SubscriberNumber": phone[1 + len(code):],
                            "PhoneNumber": phone, "SerialNo": record["serial_no"], "ReportStatus": delivery[0],
                            "Description": delivery[1], "SessionContext": record["session_context"],
                        })
        return {"SendStatusSet": statuses}

    # ---------------------------------------------------------- SendCodeVoice
    def _send_code_voice(self, p: dict, request_id: str) -> dict:
        unknown = sorted(set(p) - _SEND_CODE_VOICE_FIELDS)
        if unknown:
            raise ApiError("UnknownParameter", f"The parameter `{unknown[0]}` is not recognized.")
        for name in ("CodeMessage", "CalledNumber", "VoiceSdkAppid"):
            if name not in p or p[name] is None:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        for name in ("CodeMessage", "CalledNumber", "VoiceSdkAppid", "SessionContext"):
            if name in p and not isinstance(p[name], str):
                raise ApiError("InvalidParameter", f"The parameter `{name}` must be a string.")
        if "PlayTimes" in p and not _is_int(p["PlayTimes"]):
            raise ApiError("InvalidParameter", "The parameter `PlayTimes` must be an integer.")
        if p["VoiceSdkAppid"] != self.vms_sdk_app_id:
            raise ApiError("InvalidParameterValue.SdkAppidNotExist", "The VoiceSdkAppid does not exist.")
        play_times = p.get("PlayTimes")
        if play_times is not None and not 1 <= play_times <= 3:
            raise ApiError("FailedOperation.FailResolvePacket", "PlayTimes must be 1, 2 or 3.")
        code = p["CodeMessage"]
        if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 10):
            raise ApiError("FailedOperation.FailResolvePacket", "CodeMessage must be digits only.")
        phone = p["CalledNumber"]
        if not _CN_MOBILE_RE.match(phone):
            raise ApiError("InvalidParameterValue.CalledNumberVerifyFail",
                           "The called number is not a mainland China mobile number in E.164 form.")

        # Knobs, after authentication and validation.
        delay = self.vms_delay_seconds
        if delay > 0:
            time.sleep(delay)
        request_error = self.vms_request_error
        if request_error is not None:
            raise ApiError(request_error[0], request_error[1])
        call_id = str(uuid.uuid4())
        session_context = p.get("SessionContext", "")
        with self._lock:
            self.voice_calls.append({
                "phone": phone, "code": code, "play_times": play_times, "sdk_app_id": p["VoiceSdkAppid"],
                "session_context": session_context, "call_id": call_id, "request_id": request_id,
            })
        return {"SendStatus": {"CallId": call_id, "SessionContext": session_context}}
    # ------------------------------------------------------ PullSmsSendStatus
    def _pull_sms_send_status(self, p: dict) -> dict:
        unknown = sorted(set(p) - _PULL_FIELDS)
        if unknown:
            raise ApiError("UnknownParameter", f"The parameter `{unknown[0]}` is not recognized.")
        for name in ("Limit", "SmsSdkAppId"):
            if name not in p or p[name] is None:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        if not _is_int(p["Limit"]):
            raise ApiError("InvalidParameter", "The parameter `Limit` must be an integer.")
        if not isinstance(p["SmsSdkAppId"], str):
            raise ApiError("InvalidParameter", "The parameter `SmsSdkAppId` must be a string.")
        if not 1 <= p["Limit"] <= MAX_PULL_LIMIT:
            raise ApiError("InvalidParameterValue", f"`Limit` must be between 1 and {MAX_PULL_LIMIT}.")
        if p["SmsSdkAppId"] != self.sms_sdk_app_id:
            raise ApiError("InvalidParameterValue.SdkAppIdNotExist", "The SmsSdkAppId does not exist.")
        error = self.sms_pull_error
        if error is not None:
            raise ApiError(error[0], error[1])
        with self._lock:
            taken, self._statuses[:] = self._statuses[: p["Limit"]], self._statuses[p["Limit"]:]
            self.pulls += 1
        return {"PullSmsSendStatusSet": taken}

    # ------------------------------------------------- DescribeCaptchaResult
    def _describe_captcha_result(self, p: dict) -> dict:
        unknown = sorted(set(p) - _CAPTCHA_FIELDS)
        if unknown:
            raise ApiError("UnknownParameter", f"The parameter `{unknown[0]}` is not recognized.")
        for name in ("CaptchaType", "Ticket", "UserIp", "Randstr", "CaptchaAppId", "AppSecretKey"):
            if name not in p or p[name] is None:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        for name in ("CaptchaType", "CaptchaAppId", "BusinessId", "SceneId", "NeedGetCaptchaTime"):
            if name in p and not _is_int(p[name]):
                raise ApiError("InvalidParameter", f"The parameter `{name}` must be an integer.")
        for name in ("Ticket", "UserIp", "Randstr", "AppSecretKey", "MacAddress", "Imei"):
            if name in p and not isinstance(p[name], str):
                raise ApiError("InvalidParameter", f"The parameter `{name}` must be a string.")
        if p["CaptchaType"] != 9:
            raise ApiError("InvalidParameterValue", "The parameter `CaptchaType` must be 9.")
        for name in ("Ticket", "Randstr"):
            if not p[name]:
                raise ApiError("InvalidParameterValue", f"The parameter `{name}` must not be empty.")
        try:
            ipaddress.ip_address(p["UserIp"])
        except ValueError:
            raise ApiError("InvalidParameterValue", "The parameter `UserIp` must be an IP address.") from None

        now = self.clock()
        code = self._captcha_code(p, now)
        answer = {
            "CaptchaCode": code, "CaptchaMsg": _CAPTCHA_MESSAGES.get(code, "error"),
            "EvilLevel": 100 if code == CAPTCHA_DIFF else 0,
            "GetCaptchaTime": 0, "EvilBitmap": 0, "SubmitCaptchaTime": 0,
        }
        if code == CAPTCHA_OK:
            issued = int(self._tickets_issued_at(p["Ticket"]))
            answer["GetCaptchaTime"] = issued
            answer["SubmitCaptchaTime"] = issued
        return answer

    def _captcha_code(self, p: dict, now: float) -> int:
        if p["CaptchaAppId"] != self.captcha_app_id:
            return CAPTCHA_APPID_MISMATCH
        if not hmac.compare_digest(p["AppSecretKey"].encode("utf-8"),
                                   self.captcha_app_secret_key.encode("utf-8")):
            return CAPTCHA_SECRET_MISMATCH
        with self._lock:
            entry = self._tickets.get(p["Ticket"])
            if entry is None:
                return CAPTCHA_DECRYPT_FAIL
            if entry["randstr"] != p["Randstr"]:
                return CAPTCHA_RANDSTR_MISMATCH
            if entry["used"]:
                return CAPTCHA_TICKET_REUSED
            entry["used"] = True
            if now - entry["issued_at"] > self.captcha_ticket_ttl_seconds:
                return CAPTCHA_TICKET_EXPIRED
            if entry["user_ip"] is not None and entry["user_ip"] != p["UserIp"]:
                return CAPTCHA_DIFF
        forced = self.captcha_force_code
        return forced if forced is not None else CAPTCHA_OK

    def _tickets_issued_at(self, ticket: str) -> float:
        with self._lock:
            entry = self._tickets.get(ticket)
            return entry["issued_at"] if entry else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9100, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--secret-id", default=DEFAULT_SECRET_ID)
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    parser.add_argument("--token", default=None, help="require this X-TC-Token")
    parser.add_argument("--tickets", type=int, default=3, help="captcha tickets to issue and print")
    parser.add_argument("--verbose", action="store_true",
                        help="log one line per request to stderr (action and outcome only)")
    args = parser.parse_args(argv)

    emulator = TencentCloudEmulator(secret_id=args.secret_id, secret_key=args.secret_key, token=args.token)
    emulator.quiet = not args.verbose
    emulator.start(args.port)
    lines = [
        f"endpoint: {emulator.endpoint}",
        f"url: {emulator.url}",
        f"secret_id: {emulator.secret_id}",
        f"secret_key: {emulator.secret_key}",
        f"token: {emulator.token or '(none)'}",
        f"sms_sdk_app_id: {emulator.sms_sdk_app_id}",
        f"sms_templates: {json.dumps(emulator.sms_templates)}",
        f"sms_signs: {json.dumps(sorted(emulator.sms_signs), ensure_ascii=False)}",
        f"sms_regions: {', '.join(sorted(SMS_REGIONS))}",
        f"vms_sdk_app_id: {emulator.vms_sdk_app_id}",
        f"captcha_app_id: {emulator.captcha_app_id}",
        f"captcha_app_secret_key: {emulator.captcha_app_secret_key}",
    ]
    for _ in range(max(args.tickets, 0)):
        ticket, randstr = emulator.issue_captcha_ticket()
        lines.append(f"captcha_ticket: {ticket} randstr: {randstr}")
    print("\n".join(lines), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
