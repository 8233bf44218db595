"""Huyi 106 SMS (互亿无线): the ``sms.php?method=Submit`` form API.

Facts (the official "互亿无线短信验证码 API v3.3" PDF and demos, https://www.ihuyi.com):

- ``POST {base}/webservice/sms.php?method=Submit``, form-encoded UTF-8:
  ``account`` (APIID), ``password``, ``mobile`` (one national number),
  ``content`` (the full text of an approved template), ``time``, ``format``.
- ``password`` is the dynamic password
  ``md5(account + apikey + mobile + content + time)`` in lower-case hex with
  ``time`` the 10-digit Unix time, so the API key never travels.
- ``format=json`` answers ``{"code": 2, "msg", "smsid"}``; ``code`` 2 is success.
  Without it the API answers XML (``<SubmitResult><code>2</code><msg>..</msg>
  <smsid>..</smsid></SubmitResult>``); such an answer is read too, so a
  success is never mistaken for an unknown outcome.
- Template variables hold at most 8 characters (error 40722).

Variables (``from_env``): ``HUYI_ACCOUNT`` (APIID), ``HUYI_API_KEY``,
``HUYI_TEMPLATE`` (the approved text with ``{code}`` and optionally
``{minutes}``) [the unpaid accounts' default template, :data:`DEFAULT_TEMPLATE`;
the ``login`` template], ``HUYI_SCENES`` (one approved text per scene:
``scene:text`` entries joined by ``|``, since texts hold commas and colons; the
text is everything after the entry's first ``:``, so it may not contain ``|``;
e.g. ``login:您的验证码是：{code}。|register:您正在注册，验证码{code}，{minutes}分钟内有效。``;
required when ``SMS_SCENES`` allows a scene other than ``login``),
``HUYI_BASE_URL`` [https://106.ihuyi.com].
"""

from __future__ import annotations

import hashlib
import json
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from smsverify.settings.scenes import TEXT_ENTRY_SEPARATOR, provider_scene_map
from smsverify.senders.base import (
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
    classify_code,
    mainland_number,
    scene_template,
)
from smsverify.senders.http import ProviderHttp

if TYPE_CHECKING:
    from smsverify.senders.common import SmsCommon
    from smsverify.settings.env import EnvReader

NAME = "huyi"
#: The template unpaid Huyi accounts may use (Huyi API doc v3.3, section 2.6).
DEFAULT_TEMPLATE = "您的验证码是：{code}。请不要把验证码泄露给其他人。"
#: Longest template variable Huyi accepts (error 40722).
MAX_CODE_LENGTH = 8
SUCCESS = "2"

#: Codes about the number (no failover, no provider backoff), from the return
#: codes of the Huyi API doc v3.3 (section 3.5, https://www.ihuyi.com); every
#: other code is provider-level (account, password, IP, balance, content and
#: template, signature, an empty mobile field we never send: 403). The
#: destination-dependent answers are the number's format and its blacklist:
#: this provider sends to mainland mobiles only (:meth:`HuyiSender.supports`),
#: so no country answer can come back.
NUMBER_REJECTIONS = frozenset({"406", "4030"})  # bad mobile format; mobile blacklisted
NUMBER_LIMITS: dict[str, bool] = {
    "4080": False,  # more than 1 message per second to the number
    "4082": True,  # more than 5 messages per day to the number
    "4085": True,  # more than 5 verification codes per day to the number
    "408": True,  # over the limit, number blacklisted for the day
}


def classify(code: str, detail: str = "") -> SendError:
    return classify_code(NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS)


@dataclass(frozen=True)
class HuyiSettings:
    """Huyi 106 SMS (``HUYI_*``); ``template`` holds ``{code}`` (and ``{minutes}``)."""

    account: str
    api_key: str = field(repr=False)
    template: str
    base_url: str
    #: scene -> template text, one per allowed scene (``HUYI_SCENES``; ``login`` defaults to ``template``)
    scene_templates: Mapping[str, str] = field(default_factory=dict)


def from_env(reader: EnvReader, common: SmsCommon) -> HuyiSettings:
    """Read this provider's variables; problems are recorded on ``reader``."""
    purpose = "for the huyi SMS provider"
    template = reader.text("HUYI_TEMPLATE", DEFAULT_TEMPLATE) or DEFAULT_TEMPLATE
    _check_template(reader, "HUYI_TEMPLATE", template)
    scene_templates = provider_scene_map(
        reader, "HUYI_SCENES", common.scenes, template, separator=TEXT_ENTRY_SEPARATOR, fallback_variable="HUYI_TEMPLATE"
    )
    for text in scene_templates.values():
        if text is not template and not _check_template(reader, "HUYI_SCENES", text):
            break
    if common.code_length > MAX_CODE_LENGTH:
        reader.problem("CODE_LENGTH", f"Huyi accepts template variables of at most {MAX_CODE_LENGTH} characters (error 40722)")
    return HuyiSettings(
        account=reader.required("HUYI_ACCOUNT", purpose),
        api_key=reader.required("HUYI_API_KEY", purpose),
        template=template,
        base_url=reader.base_url("HUYI_BASE_URL", "https://106.ihuyi.com"),
        scene_templates=scene_templates,
    )


def _check_template(reader: EnvReader, name: str, template: str) -> bool:
    """Whether ``template`` holds ``{code}`` and no placeholder but ``{code}``/``{minutes}``; else a problem of ``name``."""
    try:
        template.format(code="0", minutes="0")
    except (KeyError, IndexError, ValueError):
        reader.problem(name, "may only contain the placeholders {code} and {minutes}")
        return False
    if "{code}" not in template:
        reader.problem(name, "must contain {code}, where the verification code goes")
        return False
    return True


def build(settings: HuyiSettings, common: SmsCommon) -> "HuyiSender":
    """The sender for ``settings``."""
    return HuyiSender(settings)


def parse_answer(raw: bytes) -> object:
    """The answer as a dict (``code``, ``msg``, ``smsid``), from JSON or from
    Huyi's XML form; ``None`` when it is neither."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        root = ElementTree.fromstring(text.encode("utf-8"))
    except ElementTree.ParseError:
        return None
    # Children are namespaced ({106.ihuyi.com}code); keep the local names.
    fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in root}
    return fields if "code" in fields else None


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
        template = scene_template(s.scene_templates, message.scene, s.template)
        content = template.format(code=message.code, minutes=message.ttl_minutes)
        now = str(int(self._clock()))
        password = hashlib.md5((s.account + s.api_key + mobile + content + now).encode("utf-8")).hexdigest()
        raw = self.http.post_raw(
            "/webservice/sms.php",
            timeout_seconds,
            params={"method": "Submit"},
            data={"account": s.account, "password": password, "mobile": mobile, "content": content, "time": now, "format": "json"},
        )
        answer = parse_answer(raw)
        if not isinstance(answer, dict) or "code" not in answer:
            raise SendTimeout(NAME, "InvalidResponse", "answer without code")
        code = str(answer["code"])
        if code != SUCCESS:
            raise classify(code, str(answer.get("msg", ""))[:200])
        return SendReceipt(provider=NAME, serial_no=str(answer.get("smsid", "")))
