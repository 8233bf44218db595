"""Ronglian Cloud (容联云通讯, cloopen): template SMS over its REST API.

Written from the protocol rather than with ``ronglian_sms_sdk``, which prints
the auth token to stdout on every send (it would land in the function's log).
Facts (Ronglian's REST doc "发送模板短信",
https://console.yuntongxun.com/doc/rest/sms/3_2_2_2.html):

- ``POST {base}/2013-12-26/Accounts/{accountSid}/SMS/TemplateSMS?sig={SIG}``
  with ``SIG = MD5(accountSid + authToken + timestamp)`` in upper-case hex and
  the header ``Authorization: base64(accountSid + ":" + timestamp)`` (no
  ``Basic``), both from one ``yyyyMMddHHmmss`` timestamp in China time.
- JSON body ``{"to", "appId", "templateId", "datas"}``; ``to`` is the
  national number; ``datas`` the template values as strings.
- HTTP 200 answers; ``statusCode`` (a string) ``"000000"`` is success, with
  ``templateSMS.smsMessageSid``.
- The free test template ``1`` takes values of 1-4 digits only (error 161125).

Variables (``from_env``): ``RONGLIAN_ACCOUNT_SID``, ``RONGLIAN_AUTH_TOKEN``,
``RONGLIAN_APP_ID``, ``RONGLIAN_TEMPLATE_ID`` [1, the free test template, so
``CODE_LENGTH`` must then be 4; the ``login`` template], ``RONGLIAN_SCENES``
(``scene:templateId`` entries joined by commas, e.g. ``login:2345678,register:2345679``;
required when ``SMS_SCENES`` allows a scene other than ``login``), ``RONGLIAN_BASE_URL``
[https://app.cloopen.com:8883].
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Mapping

from smsverify.settings.scenes import provider_scene_map
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

NAME = "ronglian"
#: Ronglian's free test template: values of 1-4 digits only.
TEST_TEMPLATE = "1"
CHINA_TIME = timezone(timedelta(hours=8))

#: Codes about the number (no failover, no provider backoff), from Ronglian's
#: error-code table ("错误码", linked from the REST doc above). Number rate
#: limits map to whether they are per day. Every other code is a
#: provider-level refusal (authentication 1611xx, template
#: 1123xx/160043/160052/161125, empty number fields we never send
#: 112300/112306/160044). The only answer that depends on the destination is
#: the number's format: this provider sends to mainland mobiles only
#: (:meth:`RonglianSender.supports`), so no country or template-region answer
#: can come back. The test template's registered-numbers rule (113302) and an
#: app not yet online (112310) do depend on the number, but on the account's
#: test mode, not the number: another provider delivers, so they fail over.
NUMBER_REJECTIONS = frozenset({"160042"})  # bad number format
NUMBER_LIMITS: dict[str, bool] = {
    "160038": False,  # verification codes sent to this number too often
    "160039": True,  # same template, same number: daily count
    "160040": True,  # verification code: same template, same number daily limit
    "160041": True,  # notification: same template, same number daily limit
}


def classify(code: str, detail: str = "") -> SendError:
    return classify_code(NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS)


@dataclass(frozen=True)
class RonglianSettings:
    """Ronglian Cloud template SMS (``RONGLIAN_*``)."""

    account_sid: str
    auth_token: str = field(repr=False)
    app_id: str
    template_id: str
    base_url: str
    #: scene -> template ID, one per allowed scene (``RONGLIAN_SCENES``; ``login`` defaults to ``template_id``)
    scene_templates: Mapping[str, str] = field(default_factory=dict)


def from_env(reader: EnvReader, common: SmsCommon) -> RonglianSettings:
    """Read this provider's variables; problems are recorded on ``reader``."""
    purpose = "for the ronglian SMS provider"
    template_id = reader.text("RONGLIAN_TEMPLATE_ID", TEST_TEMPLATE) or TEST_TEMPLATE
    if not template_id.isdigit():
        reader.problem("RONGLIAN_TEMPLATE_ID", f"must be a numeric template ID, got {template_id!r}")
    elif template_id == TEST_TEMPLATE and common.code_length > 4:
        reader.problem(
            "CODE_LENGTH",
            f"is {common.code_length}, but Ronglian's free test template 1 accepts only 1-4 digit values "
            "(error 161125): set CODE_LENGTH=4 or RONGLIAN_TEMPLATE_ID to your approved template",
        )
    scene_templates = provider_scene_map(
        reader, "RONGLIAN_SCENES", common.scenes, template_id, fallback_variable="RONGLIAN_TEMPLATE_ID"
    )
    bad = [tid for tid in scene_templates.values() if not tid.isdigit()]
    if bad and bad[0] != template_id:
        reader.problem("RONGLIAN_SCENES", f"must map scenes to numeric template IDs, got {bad[0]!r}")
    return RonglianSettings(
        account_sid=reader.required("RONGLIAN_ACCOUNT_SID", purpose),
        auth_token=reader.required("RONGLIAN_AUTH_TOKEN", purpose),
        app_id=reader.required("RONGLIAN_APP_ID", purpose),
        template_id=template_id,
        base_url=reader.base_url("RONGLIAN_BASE_URL", "https://app.cloopen.com:8883"),
        scene_templates=scene_templates,
    )


def build(settings: RonglianSettings, common: SmsCommon) -> "RonglianSender":
    """The sender for ``settings``."""
    return RonglianSender(settings, common.template_params, params_by_template=common.template_params_by_template)


class RonglianSender:
    """Sends with the template SMS API; mainland +86 mobile numbers only.

    ``template_params`` orders the values of ``datas`` (``SMS_TEMPLATE_PARAMS``);
    ``params_by_template`` replaces it for the template ids it names.
    """

    name = NAME

    def __init__(
        self,
        settings: RonglianSettings,
        template_params: tuple[str, ...],
        *,
        params_by_template: Mapping[str, tuple[str, ...]] | None = None,
        clock=None,
    ) -> None:
        self.settings = settings
        self.template_params = template_params
        self.params_by_template = dict(params_by_template or {})
        self.http = ProviderHttp(NAME, settings.base_url)
        self._now = clock or (lambda: datetime.now(CHINA_TIME))

    def supports(self, phone: str) -> bool:
        return mainland_number(phone) is not None

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        s = self.settings
        template_id = scene_template(s.scene_templates, message.scene, s.template_id)
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
                "templateId": template_id,
                "datas": message.values(self.params_by_template.get(template_id, self.template_params)),
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
