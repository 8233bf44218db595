"""Ronglian Cloud (容联云通讯, cloopen): template SMS over its REST API.

Written from the protocol rather than with ``ronglian_sms_sdk``, which prints
the auth token to stdout on every send (it would land in the function's log).
Facts (../shared/reference/providers.md section 1; REST doc
https://console.yuntongxun.com/doc/rest/sms/3_2_2_2.html):

- ``POST {base}/2013-12-26/Accounts/{accountSid}/SMS/TemplateSMS?sig={SIG}``
  with ``SIG = MD5(accountSid + authToken + timestamp)`` in upper-case hex and
  the header ``Authorization: base64(accountSid + ":" + timestamp)`` (no
  ``Basic``), both from one ``yyyyMMddHHmmss`` timestamp in China time.
- JSON body ``{"to", "appId", "templateId", "datas"}``; ``to`` is the
  national number; ``datas`` the template values as strings.
- HTTP 200 answers; ``statusCode`` (a string) ``"000000"`` is success, with
  ``templateSMS.smsMessageSid``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

from smsverify.config import RonglianSettings
from smsverify.senders.base import (
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
    classify_code,
    mainland_number,
)
from smsverify.senders.http import ProviderHttp

NAME = "ronglian"
CHINA_TIME = timezone(timedelta(hours=8))

#: Codes about the number (no failover). Number rate limits map to whether
#: they are per day. Every other code is a provider-level refusal
#: (authentication 1611xx, template 1123xx/160043/160052/161125, the test
#: template's registered-numbers rule 113302, app not online 112310).
NUMBER_REJECTIONS = frozenset({"160042"})  # bad number format
NUMBER_LIMITS: dict[str, bool] = {
    "160038": False,  # verification codes sent to this number too often
    "160039": True,  # same template, same number: daily count
    "160040": True,  # verification code: same template, same number daily limit
    "160041": True,  # notification: same template, same number daily limit
}


def classify(code: str, detail: str = "") -> SendError:
    return classify_code(NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS)


class RonglianSender:
    """Sends with the template SMS API; mainland +86 mobile numbers only.

    ``template_params`` orders the values of ``datas`` (``SMS_TEMPLATE_PARAMS``).
    """

    name = NAME

    def __init__(self, settings: RonglianSettings, template_params: tuple[str, ...], *, clock=None) -> None:
        self.settings = settings
        self.template_params = template_params
        self.http = ProviderHttp(NAME, settings.base_url)
        self._now = clock or (lambda: datetime.now(CHINA_TIME))

    def supports(self, phone: str) -> bool:
        return mainland_number(phone) is not None

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        s = self.settings
        timestamp = self._now().astimezone(CHINA_TIME).strftime("%Y%m%d%H%M%S")
        sig = hashlib.md5((s.account_sid + s.auth_token + timestamp).encode()).hexdigest().upper()
        authorization = base64.b64encode(f"{s.account_sid}:{timestamp}".encode()).decode()
        answer = self.http.post(
            f"/2013-12-26/Accounts/{s.account_sid}/SMS/TemplateSMS",
            timeout_seconds,
            params={"sig": sig},
            json={
                "to": mainland_number(message.phone) or message.phone,
                "appId": s.app_id,
                "templateId": s.template_id,
                "datas": message.values(self.template_params),
            },
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json;charset=utf-8",
                "Accept-Charset": "UTF-8",
                "Authorization": authorization,
            },
        )
        if not isinstance(answer, dict) or "statusCode" not in answer:
            raise SendTimeout(NAME, "InvalidResponse", "answer without statusCode")
        code = str(answer["statusCode"])
        if code != "000000":
            raise classify(code, str(answer.get("statusMsg", ""))[:200])
        sms = answer.get("templateSMS") or {}
        return SendReceipt(provider=NAME, serial_no=str(sms.get("smsMessageSid", "")))
