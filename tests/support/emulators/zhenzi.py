"""Local emulator of the 榛子云 Zhenzi SMS API (template send v2, balance, message lookup).

Facts come from the official single-file SDKs (Python v1/v2, Node v2 in
``ybr54323/GTS_BE`` ``utils/zhenzisms.js`` with the error table ``codeMean``,
the WeChat mini-program v1 SDK) and the Java SDK doc
``smsow.zhenzikj.com/doc/java_sdk_doc.html``.  Production bases:
``https://sms_developer.zhenzikj.com`` (individual developers) and
``https://sms.zhenzikj.com`` (companies).  Where those sources are silent
this module says "CHOICE".

Point a sender's base URL (the SDKs' ``apiUrl``) at :attr:`ZhenziEmulator.url`.
Served paths (the Zhenzi sources); another path is HTTP 404, another
method than POST HTTP 405 (CHOICE)::

    POST /sms/v2/send.do                 number, templateId, templateParams, [messageId], [clientIp]
    POST /account/balance.do             (nothing else)
    POST /smslog/findSmsByMessageId.do   messageId

The v1 free-text ``/sms/send.do`` is not served (the Zhenzi sources: "Prefer v2";
whether v1 still works is unknown).

Every request is ``application/x-www-form-urlencoded`` (UTF-8) and carries
``appId`` and ``appSecret`` in the body (no signing).  CHOICE: only the form
body is read, never the query string, so a sender that puts the secret in
the URL fails here.  Verified in this order (after the common knobs of
``_http.py``: ``delay_seconds``, then ``http_status``):

1. ``appId`` empty -> 100, not the configured app -> 105; ``appSecret``
   empty -> 100, wrong -> 110 (table: "105 appId wrong or app does not
   exist", "110 AppSecret wrong", "100 bad parameters (empty, ...)").
2. ``/sms/v2/send.do``:

   * ``number`` empty or not one 11-digit mainland mobile ``^1[0-9]{10}$``
     -> 100 ("bad phone format");
   * ``templateId`` empty -> 100, unknown -> 117 ("templateId wrong or
     template not approved (v2)");
   * ``templateParams`` must be a JSON-encoded array of strings, e.g.
     ``["9988","15分钟"]`` (the Zhenzi sources table): absent/empty while the
     template has parameters, not JSON, not an array, or an item that is not
     a string -> 100; a count other than ``templates[templateId]`` -> 117
     (CHOICE: the docs do not say which code a wrong count gives; 117 is the
     template code);
   * balance (:attr:`ZhenziEmulator.balance`) of 0 -> 108 "余额不足"; each
     accepted message costs 1;
   * ``daily_limit`` accepted messages to the number on this Asia/Shanghai
     day -> 109 ("over the daily per-number limit"; the limit is set per app
     in the console);
   * ``force_code`` (knob) -> that code instead of success.

   Success: ``{"code":0,"data":"发送成功"}``.  One :attr:`sent` record:
   ``phone`` (= ``number``), ``params`` (the decoded array), ``message_id``
   (the request's ``messageId``, ``None`` when absent), ``template_id``,
   ``client_ip`` (``None`` when absent).
3. ``/account/balance.do``: ``{"code":0,"data":<balance>}`` (the Zhenzi sources:
   "Balance returns only 100, 105, 106, 107, 110 and 1000"; ``force_code``
   does not apply to it, CHOICE: it is a send knob).
4. ``/smslog/findSmsByMessageId.do``: ``messageId`` empty -> 100; a
   ``messageId`` never sent -> 100 (CHOICE: the docs show only the success
   shape); else ``{"code":0,"data":{"message","appName","createTime",
   "status":"success","toNumber","messageId"}}`` (shape of the [W] sample
   in the Zhenzi sources; ``createTime`` ``yyyy-MM-dd HH:mm:ss`` Asia/Shanghai;
   ``message`` is ``"<templateId>:" + the JSON array of values``, since the
   emulator knows no template text).

All answers are HTTP 200 ``application/json;charset=utf-8`` with an int
``code`` and the error text in ``data`` (the Zhenzi sources).

:data:`ZHENZI_ERRORS` holds every code of the Zhenzi sources table;
:data:`ZHENZI_BALANCE_ERRORS` the subset the balance call can return.
"""

from __future__ import annotations

import hmac
import json
import re

from tests.support.emulators._http import Answer, ProviderEmulator, Request, shanghai_datetime

__all__ = [
    "SEND_PATH",
    "BALANCE_PATH",
    "FIND_PATH",
    "SUCCESS_CODE",
    "ZHENZI_BALANCE_ERRORS",
    "ZHENZI_ERRORS",
    "ZhenziEmulator",
]

SUCCESS_CODE = 0
SEND_PATH = "/sms/v2/send.do"
BALANCE_PATH = "/account/balance.do"
FIND_PATH = "/smslog/findSmsByMessageId.do"

#: Every code of the Zhenzi sources (``codeMean`` of the Node v2 SDK): code -> meaning.
ZHENZI_ERRORS: dict[int, str] = {
    100: "参数错误 (bad parameters: empty, or bad phone format)",
    101: "短信内容超过1000字 (content longer than 1000 characters)",
    105: "appId错误或应用不存在 (appId wrong or app does not exist)",
    106: "应用被禁止 (app banned)",
    107: "ip错误 (IP not on the whitelist)",
    108: "余额不足 (balance insufficient)",
    109: "今日发送超过限额 (over the daily per-number limit)",
    110: "应用秘钥(AppSecret)错误 (AppSecret wrong)",
    111: "账号不存在 (account does not exist)",
    117: "模板ID错误或模板未审核通过 (templateId wrong or template not approved)",
    1000: "系统错误 (system error)",
}

#: The codes the balance call can return (the Zhenzi sources).
ZHENZI_BALANCE_ERRORS = frozenset({100, 105, 106, 107, 110, 1000})

_MOBILE = re.compile(r"^1[0-9]{10}$")


class _Refusal(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ZhenziEmulator(ProviderEmulator):
    """Zhenzi emulator (rules in the module docstring).

    ``templates`` maps a template id to its number of parameters; ``balance``
    (messages left) is restored to the constructor's value by :meth:`reset`;
    ``messages`` maps each ``messageId`` to its sent record.
    ``daily_count(phone)`` reads today's counter.
    """

    provider = "zhenzi"

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        templates: dict[str, int] | None = None,
        daily_limit: int = 10,
        balance: int = 100,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.templates = dict(templates) if templates is not None else {"1001": 2}
        self.initial_balance = balance
        self.balance = balance
        self.messages: dict[str, dict] = {}
        super().__init__(daily_limit=daily_limit)

    def _reset_provider_state(self) -> None:
        self.balance = self.initial_balance
        self.messages.clear()

    # --------------------------------------------------------------- dispatch
    def _dispatch(self, request: Request) -> Answer:
        routes = {SEND_PATH: self._send, BALANCE_PATH: self._balance, FIND_PATH: self._find}
        route = routes.get(request.path)
        if route is None:
            return Answer.http_error(404)
        if request.method != "POST":
            return Answer.http_error(405)
        params = request.form
        try:
            self._authenticate(params)
            data = route(params)
        except _Refusal as refusal:
            message = ZHENZI_ERRORS.get(refusal.code, "emulated error").split(" (")[0]
            return Answer.json({"code": refusal.code, "data": message}, refusal.code)
        return Answer.json({"code": SUCCESS_CODE, "data": data}, SUCCESS_CODE)

    def _authenticate(self, p: dict[str, str]) -> None:
        app_id, app_secret = p.get("appId", ""), p.get("appSecret", "")
        if not app_id:
            raise _Refusal(100)
        if not hmac.compare_digest(app_id.encode("utf-8"), self.app_id.encode("utf-8")):
            raise _Refusal(105)
        if not app_secret:
            raise _Refusal(100)
        if not hmac.compare_digest(app_secret.encode("utf-8"), self.app_secret.encode("utf-8")):
            raise _Refusal(110)

    def _send(self, p: dict[str, str]) -> str:
        number = p.get("number", "")
        if not _MOBILE.match(number):
            raise _Refusal(100)
        template_id = p.get("templateId", "")
        if not template_id:
            raise _Refusal(100)
        if template_id not in self.templates:
            raise _Refusal(117)
        expected = self.templates[template_id]
        raw = p.get("templateParams", "")
        if raw == "":
            if expected > 0:
                raise _Refusal(100)
            values: list = []
        else:
            try:
                values = json.loads(raw)
            except ValueError:
                raise _Refusal(100) from None
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise _Refusal(100)
        if len(values) != expected:
            raise _Refusal(117)
        message_id = p.get("messageId") or None
        client_ip = p.get("clientIp") or None
        with self._lock:
            if self.balance <= 0:
                raise _Refusal(108)
            if self._daily_reached(number):
                raise _Refusal(109)
            forced = self.force_code
            if forced is not None:
                raise _Refusal(int(forced))
            created = shanghai_datetime(self.clock()).strftime("%Y-%m-%d %H:%M:%S")
            self.balance -= 1
            self._count_send(number)
            record = {
                "phone": number, "params": list(values), "message_id": message_id,
                "template_id": template_id, "client_ip": client_ip, "create_time": created,
            }
            self._record_sent(record)
            if message_id is not None:
                self.messages[message_id] = record
        return "发送成功"

    def _balance(self, p: dict[str, str]) -> int:
        with self._lock:
            return self.balance

    def _find(self, p: dict[str, str]) -> dict:
        message_id = p.get("messageId", "")
        if not message_id:
            raise _Refusal(100)
        with self._lock:
            record = self.messages.get(message_id)
        if record is None:
            raise _Refusal(100)
        return {
            "message": f"{record['template_id']}:" + json.dumps(record["params"], ensure_ascii=False),
            "appName": "emulator", "createTime": record["create_time"], "status": "success",
            "toNumber": record["phone"], "messageId": message_id,
        }
