"""Destinations outside the Chinese mainland, end to end through ``main_handler``.

Real redis-server, the Tencent Cloud API emulator (the real SDK, signed
requests), which keeps mainland and international body templates apart as
Tencent does (``UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone``
and the reverse, per number). Proven here:

* an answer that depends on the destination (a mainland template to a +852
  number) is number-level: that request is ``InValidParam``, and Tencent is
  neither failed over nor backed off from, so the next +86 users are still
  served by Tencent, none by the failover provider;
* ``SMS_TEMPLATES=86:<mainland>,*:<international>``: a +852 number gets the
  international template, its own ``TemplateParamSet`` (``SMS_TEMPLATE_PARAMS``'
  ``;templateId:code`` entry) and no ``SignName``; a +86 number the mainland
  template with the signature; both codes log in;
* a scene's templates per destination in ``SMS_SCENES`` (``|``-joined);
* an international template sent to a +86 number is the number-level
  ``GlobalTemplateToChineseMainlandPhone`` at the sender.
"""

from __future__ import annotations

import pytest

from smsverify.integrations.credentials import TencentCredentials
from smsverify.edge.handler import create_handler
from smsverify.senders.base import NumberRejected, SendError, SmsMessage
from smsverify.senders.tencent import TencentSmsSender
from tests.support import (
    GLOBAL_TEMPLATE_ID,
    SDK_APP_ID,
    SECRET_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    SIGN,
    TEMPLATE_ID,
    answer,
    get_sms,
    huyi_env,
    login,
)

HONG_KONG = "+85251234567"
MAINLAND = ("+8613800138000", "+8613900139000", "+8613700137000")
CODE_ONLY = "100021"  # an international template with one variable, the code


def send(handler, phone: str, **extra: str) -> dict:
    return answer(handler(get_sms(phone, **extra), {}))


def send_sms_bodies(sms_api, phone: str) -> list[dict]:
    """The SendSms bodies that reached the emulator for ``phone``."""
    return [r["body"] for r in sms_api.requests if r["action"] == "SendSms" and r["body"]["PhoneNumberSet"] == [phone]]


@pytest.fixture
def code_only_template(sms_api, monkeypatch):
    """An approved international template taking the code only."""
    monkeypatch.setitem(sms_api.sms_templates, CODE_ONLY, 1)
    monkeypatch.setattr(sms_api, "sms_global_templates", {*sms_api.sms_global_templates, CODE_ONLY})
    return CODE_ONLY


def test_a_destination_refusal_leaves_tencent_the_primary(redis_url, make_env, sms_api, huyi_api, clock):
    env = make_env(redis_url, SMS_PROVIDER="tencent,huyi", ALLOWED_COUNTRY_CODES="86,852", **huyi_env(huyi_api))
    handler = create_handler(env, clock=clock)  # SMS_TEMPLATE_ID: a mainland template for every destination

    refused = send(handler, HONG_KONG)
    served = [send(handler, phone) for phone in MAINLAND]

    assert (refused["codeStr"], refused["providerCode"]) == (
        "InValidParam", "tencent:UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone")
    assert [(s["codeStr"], s["provider"]) for s in served] == [("Ok", "tencent")] * 3
    assert [m["phone"] for m in sms_api.sent] == list(MAINLAND)
    assert huyi_api.requests == []  # neither failed over to nor preferred after the refusal


def test_each_destination_gets_its_template_and_only_the_mainland_the_signature(
    build, sms_api, code_only_template
):
    handler = build(
        ALLOWED_COUNTRY_CODES="86,852", SMS_TEMPLATES=f"86:{TEMPLATE_ID},*:{code_only_template}",
        SMS_TEMPLATE_PARAMS=f"code,minutes;{code_only_template}:code",
    )

    abroad = send(handler, HONG_KONG)
    home = send(handler, MAINLAND[0])

    assert abroad["codeStr"] == home["codeStr"] == "Ok"
    [hk] = send_sms_bodies(sms_api, HONG_KONG)
    [cn] = send_sms_bodies(sms_api, MAINLAND[0])
    assert (hk["TemplateId"], len(hk["TemplateParamSet"]), "SignName" in hk) == (code_only_template, 1, False)
    assert (cn["TemplateId"], len(cn["TemplateParamSet"]), cn["SignName"]) == (TEMPLATE_ID, 2, SIGN)
    for phone, body in ((HONG_KONG, hk), (MAINLAND[0], cn)):
        assert answer(handler(login(phone, body["TemplateParamSet"][0]), {}))["codeStr"] == "Success"


def test_a_scene_gives_its_templates_per_destination_in_sms_scenes(build, sms_api, monkeypatch):
    monkeypatch.setitem(sms_api.sms_templates, "100003", 2)
    handler = build(
        ALLOWED_COUNTRY_CODES="86,852",
        SMS_SCENES=f"login:86:{TEMPLATE_ID}|*:{GLOBAL_TEMPLATE_ID},register:100003|852:{GLOBAL_TEMPLATE_ID}",
    )

    sent = [send(handler, phone, scene="register")["codeStr"] for phone in (HONG_KONG, MAINLAND[0])]

    assert sent == ["Ok", "Ok"]
    assert [m["template_id"] for m in sms_api.sent] == [GLOBAL_TEMPLATE_ID, "100003"]


def test_an_international_template_to_a_mainland_number_is_number_level(sms_api):
    sender = TencentSmsSender(
        TencentCredentials(SECRET_ID, SECRET_KEY, SESSION_TOKEN), sdk_app_id=SDK_APP_ID, sign_name=SIGN,
        template_id=GLOBAL_TEMPLATE_ID, template_params=("code", "minutes"), region="ap-guangzhou",
        endpoint=sms_api.url, timeout_seconds=2.0,
    )

    with pytest.raises(SendError) as raised:
        sender.send(SmsMessage(phone=MAINLAND[0], code="482913", ttl_minutes=5), 2.0)

    assert type(raised.value) is NumberRejected
    assert raised.value.provider_code == "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone"
    assert sms_api.sent == []
