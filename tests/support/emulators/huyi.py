"""Local emulator of the 互亿无线 ihuyi 106 SMS legacy HTTP API (``sms.php``).

Facts come from the official PDF "互亿无线短信验证码 API v3.3" (2018-05-16,
§2.6-2.7, §3.5, §8) and the official demos (``DEMO/python/sms2.py``,
``DEMO/GO/sms.go``, ``DEMO/shell/sms.sh``, ``DEMO/PHP/sms/sms.class.php``);
the production URL is ``http://106.ihuyi.com/webservice/sms.php`` (HTTPS
also supported).  Where those sources are silent this module says "CHOICE".

Point a sender's base URL at :attr:`HuyiEmulator.url`.  Served:
``/webservice/sms.php`` (GET or POST; another path is HTTP 404, another method
HTTP 405, CHOICE) with ``method`` **in the query string** (the Huyi sources:
"``method`` is always in the query string"; CHOICE: a ``method`` only in the
form body is not seen, and a missing/unknown method answers code ``0``
"submit failed").  Parameters are read from the query string and from an
``application/x-www-form-urlencoded`` UTF-8 body, the body winning for a
name given twice (CHOICE, PHP's ``$_REQUEST`` order).  ``format=json`` gives
JSON, anything else the default XML (the Huyi sources).

``method=Submit`` is verified in this order (after the common knobs of
``_http.py``: ``delay_seconds``, then ``http_status``):

1. Required fields (doc §3.5): ``account`` empty -> 401, ``password`` ->
   402, ``mobile`` -> 403, ``content`` -> 404.
2. ``account`` not the configured APIID -> 405.
3. ``password`` (doc §8, Go demo): the plain APIKEY is accepted (and counted
   in :attr:`HuyiEmulator.plain_key_requests`); otherwise the dynamic
   password ``md5(account + apikey + mobile + content + time)``, lowercase
   hex of the UTF-8 bytes, with ``time`` the 10-digit Unix time:

   * a wrong password without ``time`` -> 405 ("API ID or API KEY wrong");
   * ``time`` not 10 ASCII digits -> 40502 (CHOICE);
   * ``time`` more than :data:`PASSWORD_WINDOW_SECONDS` (300 s) away from the
     emulator's ``clock()`` -> 40501 "dynamic password expired".  CHOICE:
     the Huyi sources ("Gaps") found no documented window, only that 40501
     exists; 300 s is the usual window of Chinese SMS APIs (and of
     Tencent's signature v3);
   * md5 different (uppercase hex included) -> 40502 "check failed".

4. ``mobile`` must be exactly one 11-digit mainland mobile number
   ``^1[0-9]{10}$`` (the Huyi sources: "only one number"; "else 406").
5. ``content``: more than 300 characters -> 4073 (doc: "at most 300
   characters"); then it must match one of ``templates`` (approved template
   texts, each variable written ``【变量】`` as in the default template of doc
   §2.6): the fixed text must be identical and each variable must be ASCII
   digits, else 4072; a matching content whose digit variable is longer than
   8 -> 40722 ("变量内容超过指定的长度【8】").  CHOICE: the shell demo says the
   default template's variable is "任意4-8位数字"; the emulator accepts 1-8
   digits so a second, minutes variable ("5") fits, and does not enforce
   the 4-digit minimum.
6. Balance (:attr:`HuyiEmulator.balance`, messages left, default 100,
   CHOICE) of 0 -> 4051; each accepted message costs 1 (CHOICE: a content
   of up to 300 characters is billed as one message here).
7. Per-number daily limit: ``daily_limit`` (default 5, the "【5】" of code
   4085) accepted messages to the number on this Asia/Shanghai day -> 4085.
8. ``force_code`` (knob): answer that code instead of success.

Success: ``{"code":2,"msg":"提交成功","smsid":"<20 digits>"}`` with
``format=json`` (``code`` int, ``smsid`` string), else
``<SubmitResult xmlns="106.ihuyi.com"><code>2</code><msg>提交成功</msg>
<smsid>…</smsid></SubmitResult>`` (after an XML declaration).  Failures carry
the code, a message and ``smsid`` ``"0"``.  HTTP status is always 200 (also
for failures); JSON answers are ``application/json;charset=utf-8`` and XML
answers ``text/xml;charset=utf-8`` (CHOICE: the docs do not name the types).
Each accepted message is one :attr:`sent` record: ``phone`` (= ``mobile``),
``params`` (``[content]``), ``message_id`` (= ``smsid``), ``content``,
``variables`` (the template values found in the content).

``method=GetNum`` (the Huyi sources): ``account``/``password`` checked
as above (401, 402, 405, 40501, 40502) with the dynamic password
``md5(account + apikey + time)``; answers ``{"code":2,"msg":"查询成功",
"num":<balance>}`` (or ``<GetNumResult>`` XML).  ``force_code`` does not
apply to GetNum (CHOICE: it is a send knob).

:data:`HUYI_ERRORS` holds every code of the doc §3.5 table (all but 2).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

from tests.support.emulators._http import Answer, ProviderEmulator, Request

__all__ = [
    "DEFAULT_TEMPLATE",
    "HUYI_ERRORS",
    "HuyiEmulator",
    "MAX_CONTENT_CHARS",
    "MAX_VARIABLE_DIGITS",
    "PASSWORD_WINDOW_SECONDS",
    "SUCCESS_CODE",
    "TEMPLATE_VARIABLE",
    "getnum_password",
    "submit_password",
]

SUCCESS_CODE = 2
TEMPLATE_VARIABLE = "【变量】"
DEFAULT_TEMPLATE = "您的验证码是：【变量】。请不要把验证码泄露给其他人。"
MAX_CONTENT_CHARS = 300
MAX_VARIABLE_DIGITS = 8
PASSWORD_WINDOW_SECONDS = 300
DEFAULT_BALANCE = 100
API_PATH = "/webservice/sms.php"

#: Every code of the doc §3.5 table except 2 (success): code -> meaning.
HUYI_ERRORS: dict[int, str] = {
    0: "提交失败 (submit failed)",
    400: "非法ip访问 (illegal IP)",
    401: "帐号不能为空 (account empty)",
    402: "密码不能为空 (password empty)",
    403: "手机号码不能为空 (mobile empty)",
    404: "短信内容不能为空 (content empty)",
    4030: "手机号码已被列入黑名单 (mobile blacklisted)",
    405: "API ID 或 API KEY 不正确 (API ID or API KEY wrong)",
    4050: "账号被冻结 (account frozen)",
    40501: "动态密码已过期 (dynamic password expired)",
    40502: "动态密码校验失败 (dynamic password check failed)",
    4051: "剩余条数不足 (balance insufficient)",
    4052: "访问ip与备案ip不符 (IP does not match the registered IP)",
    406: "手机格式不正确 (bad mobile format)",
    407: "短信内容含有敏感字符 (sensitive words)",
    4070: "签名格式不正确 (bad signature format)",
    4071: "没有提交备案模板 (no registered template)",
    4072: "提交的短信内容与审核通过的模板内容不匹配 (content does not match an approved template)",
    40722: "变量内容超过指定的长度【8】 (variable longer than 8)",
    4073: "短信内容超出长度限制 (content too long)",
    4074: "短信内容包含emoji符号 (contains emoji)",
    4075: "签名未通过审核 (signature not approved)",
    408: "超出发送限制【20】条，号码被列入黑名单 (over limit, number blacklisted)",
    4080: "同一手机号码同一秒钟之内发送频率不能超过1条 (more than 1 message per second to the same number)",
    4082: "同一手机号码一天之内发送频率不能超过【5】条 (more than 5 messages per day to the same number)",
    4085: "同一手机号码验证码短信发送超出【5】条 (more than 5 verification codes to the same number)",
}

_MOBILE = re.compile(r"^1[0-9]{10}$")
_UNIX_TIME = re.compile(r"^[0-9]{10}$")
_DIGITS = re.compile(r"^[0-9]+$")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def submit_password(account: str, api_key: str, mobile: str, content: str, unix_time: str) -> str:
    """Dynamic password of ``Submit``: ``md5(account+apikey+mobile+content+time)`` (doc §8)."""
    return _md5(account + api_key + mobile + content + unix_time)


def getnum_password(account: str, api_key: str, unix_time: str) -> str:
    """Dynamic password of ``GetNum``: ``md5(account+apikey+time)`` (the Huyi sources)."""
    return _md5(account + api_key + unix_time)


class _Refusal(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _template_regex(template: str) -> re.Pattern[str]:
    parts = template.split(TEMPLATE_VARIABLE)
    return re.compile("(.*?)".join(re.escape(p) for p in parts), re.S)


class HuyiEmulator(ProviderEmulator):
    """ihuyi ``sms.php`` emulator (``Submit`` and ``GetNum``; rules in the module docstring).

    Attributes besides the common ones: ``balance`` (messages left; restored
    to 100 by :meth:`reset`), ``plain_key_requests`` (requests in which the
    plain APIKEY appeared anywhere: query, body or a header),
    ``templates``.  ``daily_count(phone)`` reads today's counter.
    """

    provider = "huyi"

    def __init__(
        self,
        account: str,
        api_key: str,
        templates: list[str] | None = None,
        daily_limit: int = 5,
    ) -> None:
        self.account = account
        self.api_key = api_key
        self.templates = list(templates) if templates is not None else [DEFAULT_TEMPLATE]
        self.balance = DEFAULT_BALANCE
        self.plain_key_requests = 0
        self.force_xml = False
        super().__init__(daily_limit=daily_limit)

    def _reset_provider_state(self) -> None:
        self.balance = DEFAULT_BALANCE
        self.plain_key_requests = 0
        #: Knob: answer in XML even when ``format=json`` was asked for.
        self.force_xml = False

    # --------------------------------------------------------------- dispatch
    def _observe(self, request: Request) -> None:
        key = self.api_key
        if not key:
            return
        try:
            body_text = unquote_plus(request.body.decode("utf-8"))
        except UnicodeDecodeError:
            body_text = ""
        seen = (
            key in unquote_plus(request.raw_query)
            or key in body_text
            or any(key in value for value in request.headers.values())
        )
        if seen:
            with self._lock:
                self.plain_key_requests += 1

    def _dispatch(self, request: Request) -> Answer:
        if request.path != API_PATH:
            return Answer.http_error(404)
        if request.method not in ("GET", "POST"):
            return Answer.http_error(405)
        params = request.params()
        as_json = params.get("format", "").strip().lower() == "json" and not self.force_xml
        method = request.query.get("method", "")
        if method == "GetNum":
            return self._get_num(params, as_json)
        root = "SubmitResult"
        try:
            if method != "Submit":
                raise _Refusal(0)
            smsid = self._submit(params)
        except _Refusal as refusal:
            return self._answer(root, as_json, refusal.code, {"smsid": "0"})
        return self._answer(root, as_json, SUCCESS_CODE, {"smsid": smsid})

    def _answer(self, root: str, as_json: bool, code: int, extra: dict) -> Answer:
        if code == SUCCESS_CODE:
            message = "提交成功" if root == "SubmitResult" else "查询成功"
        else:
            message = HUYI_ERRORS.get(code, "emulated error").split(" (")[0]
        if as_json:
            return Answer.json({"code": code, "msg": message, **extra}, code)
        items = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in
                        [("code", code), ("msg", message), *extra.items()])
        xml = f'<?xml version="1.0" encoding="utf-8"?>\n<{root} xmlns="106.ihuyi.com">{items}</{root}>'
        return Answer.text(xml, code, "text/xml;charset=utf-8")

    def _check_password(self, account: str, password: str, unix_time: str, dynamic_plain: str) -> None:
        if not hmac.compare_digest(account.encode("utf-8"), self.account.encode("utf-8")):
            raise _Refusal(405)
        if hmac.compare_digest(password.encode("utf-8"), self.api_key.encode("utf-8")):
            return
        if not unix_time:
            raise _Refusal(405)
        if not _UNIX_TIME.match(unix_time):
            raise _Refusal(40502)
        if abs(self.clock() - int(unix_time)) > PASSWORD_WINDOW_SECONDS:
            raise _Refusal(40501)
        if not hmac.compare_digest(password.encode("utf-8"), _md5(dynamic_plain).encode("ascii")):
            raise _Refusal(40502)

    def _match_template(self, content: str) -> list[str]:
        too_long = False
        for template in self.templates:
            match = _template_regex(template).fullmatch(content)
            if match is None:
                continue
            variables = list(match.groups())
            if not all(_DIGITS.match(v) for v in variables):
                continue
            if any(len(v) > MAX_VARIABLE_DIGITS for v in variables):
                too_long = True
                continue
            return variables
        raise _Refusal(40722 if too_long else 4072)

    def _submit(self, p: dict[str, str]) -> str:
        account, password = p.get("account", ""), p.get("password", "")
        mobile, content, unix_time = p.get("mobile", ""), p.get("content", ""), p.get("time", "")
        for value, code in ((account, 401), (password, 402), (mobile, 403), (content, 404)):
            if not value:
                raise _Refusal(code)
        self._check_password(account, password, unix_time,
                             account + self.api_key + mobile + content + unix_time)
        if not _MOBILE.match(mobile):
            raise _Refusal(406)
        if len(content) > MAX_CONTENT_CHARS:
            raise _Refusal(4073)
        variables = self._match_template(content)
        with self._lock:
            if self.balance <= 0:
                raise _Refusal(4051)
            if self._daily_reached(mobile):
                raise _Refusal(4085)
            forced = self.force_code
            if forced is not None:
                raise _Refusal(int(forced))
            smsid = f"{secrets.randbelow(9 * 10**19) + 10**19}"
            self.balance -= 1
            self._count_send(mobile)
            self._record_sent({
                "phone": mobile, "params": [content], "message_id": smsid,
                "content": content, "variables": variables,
            })
        return smsid

    def _get_num(self, p: dict[str, str], as_json: bool) -> Answer:
        root = "GetNumResult"
        account, password, unix_time = p.get("account", ""), p.get("password", ""), p.get("time", "")
        try:
            if not account:
                raise _Refusal(401)
            if not password:
                raise _Refusal(402)
            self._check_password(account, password, unix_time, account + self.api_key + unix_time)
        except _Refusal as refusal:
            return self._answer(root, as_json, refusal.code, {"num": 0})
        with self._lock:
            num = self.balance
        return self._answer(root, as_json, SUCCESS_CODE, {"num": num})
