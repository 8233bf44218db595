"""Huyi 106 SMS (互亿无线): the ``sms.php?method=Submit`` form API.

Facts (../shared/reference/providers.md section 2; the official
"互亿无线短信验证码 API v3.3" PDF and demos):

- ``POST {base}/webservice/sms.php?method=Submit``, form-encoded UTF-8:
  ``account`` (APIID), ``password``, ``mobile`` (one national number),
  ``content`` (the full text of an approved template), ``time``, ``format``.
- ``password`` is the dynamic password
  ``md5(account + apikey + mobile + content + time)`` in lower-case hex with
  ``time`` the 10-digit Unix time, so the API key never travels.
- ``format=json`` answers ``{"code": 2, "msg", "smsid"}``; ``code`` 2 is success.
"""

from __future__ import annotations

import hashlib
import time

from smsverify.config import HuyiSettings
from smsverify.senders.base import (
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
    classify_code,
    mainland_number,
)
from smsverify.senders.http import ProviderHttp

NAME = "huyi"
SUCCESS = "2"

#: Codes about the number (no failover); every other code is provider-level
#: (account, password, IP, balance, content and template, signature).
NUMBER_REJECTIONS = frozenset({"406", "4030"})  # bad mobile format; mobile blacklisted
NUMBER_LIMITS: dict[str, bool] = {
    "4080": False,  # more than 1 message per second to the number
    "4082": True,  # more than 5 messages per day to the number
    "4085": True,  # more than 5 verification codes per day to the number
    "408": True,  # over the limit, number blacklisted for the day
}


def classify(code: str, detail: str = "") -> SendError:
    return classify_code(NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS)


class HuyiSender:
    """Sends ``settings.template`` with ``{code}``/``{minutes}`` filled in;
    mainland +86 mobile numbers only."""

    name = NAME

    def __init__(self, settings: HuyiSettings, *, clock=time.time) -> None:
        self.settings = settings
        self.http = ProviderHttp(NAME, settings.base_url)
        self._clock = clock

    def supports(self, phone: str) -> bool:
        return mainland_number(phone) is not None

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        s = self.settings
        mobile = mainland_number(message.phone) or message.phone
        content = s.template.format(code=message.code, minutes=message.ttl_minutes)
        now = str(int(self._clock()))
        password = hashlib.md5((s.account + s.api_key + mobile + content + now).encode("utf-8")).hexdigest()
        answer = self.http.post(
            "/webservice/sms.php",
            timeout_seconds,
            params={"method": "Submit"},
            data={"account": s.account, "password": password, "mobile": mobile, "content": content, "time": now, "format": "json"},
        )
        if not isinstance(answer, dict) or "code" not in answer:
            raise SendTimeout(NAME, "InvalidResponse", "answer without code")
        code = str(answer["code"])
        if code != SUCCESS:
            raise classify(code, str(answer.get("msg", ""))[:200])
        return SendReceipt(provider=NAME, serial_no=str(answer.get("smsid", "")))
