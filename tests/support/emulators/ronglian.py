"""Local emulator of the Ronglian Cloud (容联云通讯, cloopen) template-SMS REST call.

Facts come from the official REST doc
https://console.yuntongxun.com/doc/rest/sms/3_2_2_2.html, the Python SDK doc
https://doc.yuntongxun.com/p/5f029ae7a80948a1006e776e, the ``ronglian_sms_sdk``
1.0.0 source (``SmsSDK.py``) and ``dromara/SMS4J`` ``CloopenHelper.java``.
Where those sources are silent this module says "CHOICE".

Point a sender's base URL at :attr:`RonglianEmulator.url`.  Served::

    POST /2013-12-26/Accounts/{accountSid}/SMS/TemplateSMS?sig={SIG}

What is verified, in this order (after the common knobs of ``_http.py``:
``delay_seconds``, then ``http_status``):

1. Route: another path is HTTP 404, another method on the route HTTP 405
   (CHOICE: the docs only describe the one call).
2. Headers (the Ronglian sources, from the REST doc and ``SmsSDK.py``):
   ``Content-Type`` must be ``application/json`` with ``charset=utf-8``
   (else HTTP 415), ``Accept`` must list ``application/json`` (else HTTP 406).
   CHOICE: the docs give no error code for a wrong media type; the REST API
   also speaks XML, so a request that does not ask for JSON is answered the
   way a Java REST server refuses a media type, with an empty-bodied 415/406.
   This is stricter than necessary only for a sender that ignores the doc.
3. ``Authorization`` = ``base64(accountSid + ":" + timestamp)`` with **no**
   ``Basic`` prefix (the Ronglian sources; codes from the Ronglian sources table):
   empty -> ``161101``; not strict base64, not UTF-8, or no ``:`` ->
   ``161102`` (so ``Basic xxx`` is ``161102``).
4. Timestamp ``yyyyMMddHHmmss`` in Asia/Shanghai time (``SmsSDK.py`` uses
   ``time.localtime()`` on Chinese servers): does not parse -> ``161108``;
   more than 24 hours away from the emulator's ``clock()`` -> ``161106``
   ("a timestamp is valid for 24 hours", REST doc).  CHOICE: the window is
   symmetric (a timestamp 24 h in the future is refused too).
5. The ``accountSid`` decoded from ``Authorization`` must equal the one in the
   path (the Ronglian sources) -> CHOICE ``161103``;
   an unknown ``accountSid`` -> CHOICE ``161100``.
6. ``sig`` query parameter = ``MD5(accountSid + authToken + timestamp)`` as
   **uppercase** hex (the Ronglian sources), missing or different ->
   CHOICE ``161100``.  The Ronglian sources name only 161101/161102/161106/161108
   inside the "161100–161108 authentication problems" range; the meanings of
   161100 and 161103 used here are this emulator's choice, and 161104,
   161105 and 161107 are reachable only through ``force_code``.
7. Body: a UTF-8 JSON object, else HTTP 400 (CHOICE).  Fields (the Ronglian sources
   §1 "Body" and error table):

   * ``to``: absent/null -> ``112300``; not a string -> ``160042``; empty or
     blank -> ``160044``; more than 200 comma-separated numbers -> ``160048``
     (REST doc and Python SDK doc); any number not an 11-digit mainland
     mobile ``^1[0-9]{10}$`` -> ``160042`` (CHOICE: no ``+86``/``86``
     prefix, no spaces, like the SDK's captured request ``"13800138000"``).
   * ``appId`` not the configured app -> ``160043`` ("app and template ID do
     not match"; CHOICE, no dedicated "unknown app" code in the table).
   * ``templateId``: absent/empty -> ``112307``; not all ASCII digits ->
     ``160057`` (a JSON integer is accepted as its decimal string, CHOICE,
     as a Java server would coerce it); unknown -> ``112311``.
   * ``datas``: absent/null/``[]`` while the template has parameters ->
     ``112308``; not a list of strings, or a count other than
     ``templates[templateId]`` -> ``160052``.
   * Free test template ``"1"`` (the Ronglian sources):
     ``datas[0]`` must match ``^[0-9]{1,4}$`` else ``161125`` with
     ``statusMsg`` "请输入1到4位的数字"; when ``test_numbers`` is set, every
     number must be one of them else ``113302``.
8. Per-number daily limit: once ``daily_limit`` messages of this template
   went to a number on this Asia/Shanghai day -> ``160040`` (the Ronglian sources:
   "verification code: same template + same number daily limit").  CHOICE:
   with several numbers, one number over its limit refuses the whole request.
9. ``force_code`` (knob): answer that code instead of success.

Success (the Ronglian sources): HTTP 200
``{"statusCode":"000000","templateSMS":{"dateCreated":"yyyyMMddHHmmss",
"smsMessageSid":"<32 lowercase hex>"}}``; one :attr:`sent` record per number
(``phone``, ``params`` = ``datas``, ``message_id`` = ``smsMessageSid``,
``template_id``, ``app_id``, ``date_created``) and the per-number counters
move.  Failure: HTTP 200 ``{"statusCode":"<code>","statusMsg":"…"}``.
``statusCode`` is always a JSON string.  Answers are
``application/json;charset=utf-8``.

:data:`RONGLIAN_ERRORS` holds every server code of the Ronglian sources table
(the 161100–161108 range expanded).  ``172001`` ("网络错误") and a bare HTTP
status are values the SDK makes up itself (the Ronglian sources "Values the SDK
makes up"), never server answers, so they are kept apart in
:data:`RONGLIAN_SDK_ONLY_CODES`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from datetime import datetime

from tests.support.emulators._http import SHANGHAI, Answer, ProviderEmulator, Request, shanghai_datetime

__all__ = [
    "RONGLIAN_ERRORS",
    "RONGLIAN_SDK_ONLY_CODES",
    "RonglianEmulator",
    "SUCCESS_CODE",
    "TEST_TEMPLATE_ID",
    "ronglian_sig",
]

SUCCESS_CODE = "000000"
TEST_TEMPLATE_ID = "1"
MAX_NUMBERS = 200
TIMESTAMP_WINDOW_SECONDS = 24 * 3600
API_PATH = re.compile(r"^/2013-12-26/Accounts/(?P<sid>[^/]+)/SMS/TemplateSMS$")

#: Every server error code of the Ronglian sources (code -> meaning).
RONGLIAN_ERRORS: dict[str, str] = {
    "112300": "recipient number empty",
    "112306": "recipient number empty",
    "112307": "templateId empty",
    "112308": "datas empty",
    "112310": "app not online: template SMS may only go to test numbers",
    "112311": "template does not exist",
    "112314": "daily send limit exceeded",
    "112318": "template ID must be numeric",
    "112323": "template not approved",
    "113302": "test template used for a number that is not a registered test number",
    "160038": "verification codes sent too often",
    "160039": "same template + same number: daily send-count limit",
    "160040": "verification code: same template + same number daily limit",
    "160041": "notification: same template + same number daily limit",
    "160042": "bad number format",
    "160043": "app and template ID do not match",
    "160044": "number empty",
    "160048": "more than 200 numbers",
    "160052": "bad template-variable format",
    "160053": "IP authentication failed",
    "160057": "template ID must be numeric",
    "161100": "authentication failed (sig missing or wrong, unknown account: emulator's choice)",
    "161101": "Authorization empty",
    "161102": "Authorization Base64 decode failed",
    "161103": "authentication failed (Authorization account differs from the URL: emulator's choice)",
    "161104": "authentication problem (meaning not documented)",
    "161105": "authentication problem (meaning not documented)",
    "161106": "timestamp expired",
    "161107": "authentication problem (meaning not documented)",
    "161108": "bad timestamp format",
    "161125": "请输入1到4位的数字",
}

#: Codes the ``ronglian_sms_sdk`` invents client-side; the server never sends them.
RONGLIAN_SDK_ONLY_CODES: dict[str, str] = {
    "172001": "网络错误 (any exception in the SDK, e.g. a timeout)",
}

_MOBILE = re.compile(r"^1[0-9]{10}$")
_TIMESTAMP = re.compile(r"^[0-9]{14}$")
_TEST_TEMPLATE_VALUE = re.compile(r"^[0-9]{1,4}$")


def ronglian_sig(account_sid: str, auth_token: str, timestamp: str) -> str:
    """``MD5(accountSid + authToken + timestamp)`` as uppercase hex (the Ronglian sources)."""
    return hashlib.md5((account_sid + auth_token + timestamp).encode("utf-8")).hexdigest().upper()


class _Refusal(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _media_type_and_params(value: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in value.split(";")]
    params = {}
    for part in parts[1:]:
        name, _, val = part.partition("=")
        params[name.strip().lower()] = val.strip().strip('"').lower()
    return parts[0].lower(), params


def _is_json_utf8(content_type: str) -> bool:
    media, params = _media_type_and_params(content_type)
    return media == "application/json" and params.get("charset") in ("utf-8", "utf8")


def _accepts_json(accept: str) -> bool:
    return any(_media_type_and_params(item)[0] == "application/json" for item in accept.split(","))


class RonglianEmulator(ProviderEmulator):
    """Ronglian ``TemplateSMS`` emulator (see the module docstring for the rules).

    ``templates`` maps a template id to its number of ``datas`` values;
    ``test_numbers`` (when not ``None``) are the registered test numbers the
    free test template ``"1"`` may reach; ``daily_limit`` is per number and
    template.  ``daily_count(phone, template_id)`` reads today's counter.
    """

    provider = "ronglian"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        app_id: str,
        templates: dict[str, int] | None = None,
        test_numbers: set[str] | None = None,
        daily_limit: int = 10,
    ) -> None:
        super().__init__(daily_limit=daily_limit)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.app_id = app_id
        self.templates = dict(templates) if templates is not None else {TEST_TEMPLATE_ID: 2}
        self.test_numbers = set(test_numbers) if test_numbers is not None else None

    # --------------------------------------------------------------- dispatch
    def _dispatch(self, request: Request) -> Answer:
        route = API_PATH.match(request.path)
        if route is None:
            return Answer.http_error(404)
        if request.method != "POST":
            return Answer.http_error(405)
        if not _is_json_utf8(request.headers.get("content-type", "")):
            return Answer.http_error(415)
        if not _accepts_json(request.headers.get("accept", "")):
            return Answer.http_error(406)
        try:
            self._authenticate(route["sid"], request)
            try:
                body = request.json()
            except ValueError:
                return Answer.http_error(400)
            if not isinstance(body, dict):
                return Answer.http_error(400)
            return self._template_sms(body)
        except _Refusal as refusal:
            return self._failure(refusal.code)

    def _failure(self, code: str) -> Answer:
        message = RONGLIAN_ERRORS.get(code, "emulated error")
        return Answer.json({"statusCode": code, "statusMsg": message}, code)

    def _authenticate(self, path_sid: str, request: Request) -> None:
        authorization = request.headers.get("authorization", "").strip()
        if not authorization:
            raise _Refusal("161101")
        try:
            decoded = base64.b64decode(authorization, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _Refusal("161102") from None
        sid, colon, timestamp = decoded.partition(":")
        if not colon:
            raise _Refusal("161102")
        if not _TIMESTAMP.match(timestamp):
            raise _Refusal("161108")
        try:
            stamped = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI)
        except ValueError:
            raise _Refusal("161108") from None
        if abs(self.clock() - stamped.timestamp()) > TIMESTAMP_WINDOW_SECONDS:
            raise _Refusal("161106")
        if sid != path_sid:
            raise _Refusal("161103")
        if sid != self.account_sid:
            raise _Refusal("161100")
        expected = ronglian_sig(self.account_sid, self.auth_token, timestamp)
        if not hmac.compare_digest(request.query.get("sig", "").encode("utf-8"), expected.encode("ascii")):
            raise _Refusal("161100")

    def _template_sms(self, body: dict) -> Answer:
        to = body.get("to")
        if to is None:
            raise _Refusal("112300")
        if not isinstance(to, str):
            raise _Refusal("160042")
        if not to.strip():
            raise _Refusal("160044")
        numbers = to.split(",")
        if len(numbers) > MAX_NUMBERS:
            raise _Refusal("160048")
        if not all(_MOBILE.match(n) for n in numbers):
            raise _Refusal("160042")

        if body.get("appId") != self.app_id:
            raise _Refusal("160043")

        template_id = body.get("templateId")
        if isinstance(template_id, int) and not isinstance(template_id, bool):
            template_id = str(template_id)
        if template_id is None or template_id == "":
            raise _Refusal("112307")
        if not isinstance(template_id, str) or not re.fullmatch(r"[0-9]+", template_id):
            raise _Refusal("160057")
        if template_id not in self.templates:
            raise _Refusal("112311")

        expected = self.templates[template_id]
        datas = body.get("datas")
        if datas is None or datas == []:
            if expected > 0:
                raise _Refusal("112308")
            datas = []
        if not isinstance(datas, list) or not all(isinstance(d, str) for d in datas):
            raise _Refusal("160052")
        if len(datas) != expected:
            raise _Refusal("160052")

        if template_id == TEST_TEMPLATE_ID:
            if not datas or not _TEST_TEMPLATE_VALUE.match(datas[0]):
                raise _Refusal("161125")
            if self.test_numbers is not None and any(n not in self.test_numbers for n in numbers):
                raise _Refusal("113302")

        with self._lock:
            if any(self._daily_reached(n, template_id) for n in numbers):
                raise _Refusal("160040")
            forced = self.force_code
            if forced is not None:
                raise _Refusal(str(forced))
            message_id = uuid.uuid4().hex
            created = shanghai_datetime(self.clock()).strftime("%Y%m%d%H%M%S")
            for number in numbers:
                self._count_send(number, template_id)
                self._record_sent({
                    "phone": number, "params": list(datas), "message_id": message_id,
                    "template_id": template_id, "app_id": self.app_id, "date_created": created,
                })
        payload = {"statusCode": SUCCESS_CODE,
                   "templateSMS": {"dateCreated": created, "smsMessageSid": message_id}}
        return Answer.json(payload, SUCCESS_CODE)
