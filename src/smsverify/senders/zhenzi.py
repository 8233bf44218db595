"""Zhenzi Cloud (榛子云): the v2 template send API.

Facts (the official single-file SDKs and the Java SDK doc
https://smsow.zhenzikj.com/doc/java_sdk_doc.html):

- ``POST {base}/sms/v2/send.do``, form-encoded: ``appId``, ``appSecret``
  (sent as is: the API has no signature, so the base URL must be HTTPS),
  ``number`` (national), ``templateId``, ``templateParams`` (a JSON array
  string), ``messageId`` (ours: the request id, to look the message up with
  ``/smslog/findSmsByMessageId.do``).
- ``{"code": 0, "data": "发送成功"}`` is success; other codes carry the
  reason in ``data``.

Variables (``from_env``): ``ZHENZI_APP_ID``, ``ZHENZI_APP_SECRET``,
``ZHENZI_TEMPLATE_ID`` (the ``login`` template), ``ZHENZI_SCENES``
(``scene:templateId`` entries joined by commas; required when ``SMS_SCENES``
allows a scene other than ``login``), ``ZHENZI_BASE_URL`` [:data:`DEFAULT_BASE_URL`].
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from smsverify.settings.scenes import DEFAULT_SCENE, provider_scene_map
from smsverify.senders.base import (
    ProviderRefused,
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

NAME = "zhenzi"
#: Zhenzi's individual-developer host without the underscore of its documented
#: ``sms_developer.zhenzikj.com``: OpenSSL does not match a host name with an
#: underscore against the ``*.zhenzikj.com`` certificate, so certificates could
#: not be verified there (Zhenzi's mini-program SDK uses this spelling).
DEFAULT_BASE_URL = "https://smsdeveloper.zhenzikj.com"
SUCCESS = "0"

#: Codes about the number (no failover, no provider backoff), from Zhenzi's
#: return codes (the Java SDK doc, https://smsow.zhenzikj.com/doc/java_sdk_doc.html);
#: every other code is provider-level. 100 is "bad parameters (empty, or bad
#: phone format)": the number's fault only when every parameter we sent was
#: well formed (:func:`own_parameters_valid`). This provider sends to mainland
#: mobiles only (:meth:`ZhenziSender.supports`), so the number's format is the
#: only destination-dependent answer.
BAD_PARAMETERS = "100"
NUMBER_REJECTIONS = frozenset({BAD_PARAMETERS})
NUMBER_LIMITS: dict[str, bool] = {"109": True}  # over the daily per-number limit


def classify(code: str, detail: str = "", *, own_parameters_valid: bool = True) -> SendError:
    """The sender-contract error for a Zhenzi ``code``; a 100 is provider-level
    unless our own parameters were valid."""
    if code == BAD_PARAMETERS and not own_parameters_valid:
        return ProviderRefused(NAME, code, detail)
    return classify_code(NAME, code, detail, rejections=NUMBER_REJECTIONS, limits=NUMBER_LIMITS)


def own_parameters_valid(form: dict[str, str]) -> bool:
    """Whether the send form is what Zhenzi accepts (every field present,
    ``number`` an 11-digit mainland mobile, ``templateParams`` a JSON array
    of non-empty strings), so a 100 can only be about the number itself."""
    if not all(form.get(name) for name in ("appId", "appSecret", "templateId", "number", "templateParams")):
        return False
    number = form["number"]
    if not (len(number) == 11 and number.isdigit() and number.startswith("1")):
        return False
    try:
        values = json.loads(form["templateParams"])
    except ValueError:
        return False
    return isinstance(values, list) and all(isinstance(v, str) and v for v in values)


@dataclass(frozen=True)
class ZhenziSettings:
    """Zhenzi Cloud v2 template SMS (``ZHENZI_*``)."""

    app_id: str
    app_secret: str = field(repr=False)
    template_id: str
    base_url: str
    #: scene -> template ID, one per allowed scene (``ZHENZI_SCENES``; ``login`` defaults to ``template_id``)
    scene_templates: Mapping[str, str] = field(default_factory=dict)


def from_env(reader: EnvReader, common: SmsCommon) -> ZhenziSettings:
    """Read this provider's variables; problems are recorded on ``reader``."""
    purpose = "for the zhenzi SMS provider"
    app_id = reader.required("ZHENZI_APP_ID", purpose)
    app_secret = reader.required("ZHENZI_APP_SECRET", purpose)
    scenes_given = reader.text("ZHENZI_SCENES") is not None
    if DEFAULT_SCENE in common.scenes and not scenes_given:
        template_id = reader.required("ZHENZI_TEMPLATE_ID", purpose)
    else:
        template_id = reader.text("ZHENZI_TEMPLATE_ID") or ""
    return ZhenziSettings(
        app_id=app_id,
        app_secret=app_secret,
        template_id=template_id,
        base_url=reader.base_url("ZHENZI_BASE_URL", DEFAULT_BASE_URL),
        scene_templates=provider_scene_map(
            reader, "ZHENZI_SCENES", common.scenes, template_id, fallback_variable="ZHENZI_TEMPLATE_ID"
        ),
    )


def build(settings: ZhenziSettings, common: SmsCommon) -> "ZhenziSender":
    """The sender for ``settings``."""
    return ZhenziSender(settings, common.template_params, params_by_template=common.template_params_by_template)


class ZhenziSender:
    """Sends with a v2 template; mainland +86 mobile numbers only.

    ``template_params`` orders the values of ``templateParams``;
    ``params_by_template`` replaces it for the template ids it names.
    """

    name = NAME

    def __init__(
        self,
        settings: ZhenziSettings,
        template_params: tuple[str, ...],
        *,
        params_by_template: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.settings = settings
        self.template_params = template_params
        self.params_by_template = dict(params_by_template or {})
        self.http = ProviderHttp(NAME, settings.base_url)

    def supports(self, phone: str) -> bool:
        return mainland_number(phone) is not None

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        s = self.settings
        template_id = scene_template(s.scene_templates, message.scene, s.template_id)
        form = {
            "appId": s.app_id,
            "appSecret": s.app_secret,
            "number": mainland_number(message.phone) or message.phone,
            "templateId": template_id,
            "templateParams": json.dumps(
                message.values(self.params_by_template.get(template_id, self.template_params)), ensure_ascii=False
            ),
        }
        if message.reference:
            form["messageId"] = message.reference
        answer = self.http.post("/sms/v2/send.do", timeout_seconds, data=form)
        if not isinstance(answer, dict) or "code" not in answer:
            raise SendTimeout(NAME, "InvalidResponse", "answer without code")
        code = str(answer["code"])
        if code != SUCCESS:
            raise classify(code, str(answer.get("data", ""))[:200], own_parameters_valid=own_parameters_valid(form))
        return SendReceipt(provider=NAME, serial_no=message.reference)
