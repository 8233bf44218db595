"""Scenes (what a code is for), end to end through ``main_handler`` on a real
redis-server and the Tencent Cloud SMS emulator (the real SDK; the emulator
refuses a ``TemplateId`` it has not approved).

Proven here:

- ``SMS_SCENES=login:100001,register:100003``: each scene's SMS goes out with
  its own ``TemplateId``; a request without ``scene`` is ``login``;
- a code is stored per (phone, scene): a ``register`` code is
  ``CodeHasExpired`` for ``login`` and the other way round, both live at once,
  and wrong tries of one scene leave the other's code valid;
- the resend cooldown, hourly and daily send limits and the daily wrong-code
  count are the phone's, across scenes;
- the token's ``scene`` claim is the scene the code was sent for, so a
  verifier asking for another scene refuses it;
- an unknown or malformed scene is ``InValidParam`` naming the allowed ones,
  before anything is sent or stored;
- a scene whose template the provider has not approved fails that send
  (``SmsSendFailed``) and releases its reservation.
"""

from __future__ import annotations

import time

import pytest

from smsverify.tokens import TokenInvalid, verify_token
from tests.support import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_SECRET, call, get_sms, last_code, login, wrong

PHONE = "+8613800138000"
SCENES = "login:100001,register:100003,resetPassword:100004"


@pytest.fixture
def scenes_api(sms_api, monkeypatch):
    """The emulator with the register and resetPassword templates (two parameters each) approved too."""
    monkeypatch.setitem(sms_api.sms_templates, "100003", 2)
    monkeypatch.setitem(sms_api.sms_templates, "100004", 2)
    return sms_api


@pytest.fixture
def handler(build, scenes_api, clock):
    """Scenes on, no resend cooldown, and the FakeClock at the real time, so the tokens verify now."""
    clock.now = time.time()
    return build(SMS_SCENES=SCENES, SEND_INTERVAL_SECONDS="0")


def send(handler, api, scene: str | None = None) -> str:
    sent = call(handler, get_sms(**({"scene": scene} if scene else {})))
    assert (sent["codeStr"], sent["_status"]) == ("Ok", 200), sent
    return last_code(api, PHONE)


def claims_of(body: dict, scene: str) -> dict:
    return verify_token(body["token"], audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, secret=TOKEN_SECRET, scene=scene)


def test_each_scene_is_sent_with_its_own_template_and_defaults_to_login(handler, scenes_api):
    send(handler, scenes_api, "register")
    send(handler, scenes_api, "resetPassword")
    send(handler, scenes_api)  # no scene: login
    assert [sms["template_id"] for sms in scenes_api.sent_to(PHONE)] == ["100003", "100004", "100001"]


def test_a_register_code_is_expired_for_login_and_logs_in_for_register_with_its_scene_in_the_token(handler, scenes_api):
    code = send(handler, scenes_api, "register")
    assert call(handler, login(code=code))["codeStr"] == "CodeHasExpired"
    assert call(handler, login(code=code, scene="login"))["codeStr"] == "CodeHasExpired"
    ok = call(handler, login(code=code, scene="register"))
    assert ok["codeStr"] == "Success"
    assert claims_of(ok, "register")["scene"] == "register"
    with pytest.raises(TokenInvalid) as refused:
        claims_of(ok, "login")
    assert refused.value.reason == "scene"
    assert call(handler, login(code=code, scene="register"))["codeStr"] == "CodeHasExpired"  # consumed


def test_codes_of_two_scenes_live_side_by_side(handler, scenes_api):
    login_code = send(handler, scenes_api, "login")
    register_code = send(handler, scenes_api, "register")
    # Each code only in its own scene (the two may be equal by chance: then skip the cross check).
    if login_code != register_code:
        assert call(handler, login(code=register_code))["codeStr"] == "CodeIsError"
    assert claims_of(call(handler, login(code=login_code)), "login")["scene"] == "login"
    assert claims_of(call(handler, login(code=register_code, scene="register")), "register")["scene"] == "register"


def test_wrong_tries_are_per_scene_and_the_daily_wrong_count_per_phone(build, scenes_api):
    handler = build(SMS_SCENES=SCENES, SEND_INTERVAL_SECONDS="0", DAILY_VERIFY_LIMIT="4")
    login_code = send(handler, scenes_api, "login")
    register_code = send(handler, scenes_api, "register")
    answers = [call(handler, login(code=wrong(register_code, k), scene="register")) for k in (1, 2, 3)]
    assert [(a["codeStr"], a["attemptsLeft"]) for a in answers] == [("CodeIsError", 2), ("CodeIsError", 1), ("CodeIsError", 0)]
    assert call(handler, login(code=register_code, scene="register"))["codeStr"] == "CodeHasValid"
    # The login code kept its own tries: one wrong try leaves it 2.
    assert call(handler, login(code=wrong(login_code), scene="login"))["attemptsLeft"] == 2
    # That was the phone's 4th wrong code today, whatever the scene: locked for every scene.
    assert call(handler, login(code=login_code))["codeStr"] == "VerifyLimitExceeded"


def test_the_cooldown_and_send_limits_are_the_phones_across_scenes(build, scenes_api, clock):
    handler = build(SMS_SCENES=SCENES, HOURLY_SEND_LIMIT="2", DAILY_SEND_LIMIT="3")
    send(handler, scenes_api, "login")
    refused = call(handler, get_sms(scene="register"))
    assert (refused["codeStr"], refused["retryAfter"]) == ("TooFrequent", 60)
    clock.advance(60)
    send(handler, scenes_api, "register")
    clock.advance(60)
    assert call(handler, get_sms(scene="resetPassword"))["codeStr"] == "HourlyLimitExceeded"
    clock.advance(3600)
    send(handler, scenes_api, "resetPassword")
    clock.advance(3600)
    assert call(handler, get_sms(scene="login"))["codeStr"] == "DailyLimitExceeded"
    assert len(scenes_api.sent_to(PHONE)) == 3


@pytest.mark.parametrize("scene", ["signup", "Login", "reg ister", "x" * 33, "login;DROP", "注册"])
def test_an_unknown_scene_is_invalid_param_naming_the_allowed_ones(handler, scenes_api, scene):
    for event in (get_sms(scene=scene), login(code="123456", scene=scene)):
        body = call(handler, event)
        assert (body["codeStr"], body["_status"]) == ("InValidParam", 400)
        assert "login, register, resetPassword" in body["msg"]
    assert scenes_api.sent_to(PHONE) == []


def test_without_sms_scenes_the_one_scene_is_login(build, sms_api, clock):
    clock.now = time.time()
    handler = build()
    body = call(handler, get_sms(scene="register"))
    assert (body["codeStr"], body["msg"].rsplit("：", 1)[-1]) == ("InValidParam", "login")
    code = send(handler, sms_api, "login")
    assert sms_api.sent_to(PHONE)[-1]["template_id"] == "100001"
    assert claims_of(call(handler, login(code=code)), "login")["scene"] == "login"


def test_a_scene_whose_template_is_not_approved_fails_and_releases_its_reservation(build, sms_api):
    handler = build(SMS_SCENES="login:100001,register:100009")
    refused = call(handler, get_sms(scene="register"))
    assert (refused["codeStr"], refused["providerCode"]) == (
        "SmsSendFailed", "tencent:FailedOperation.TemplateIncorrectOrUnapproved")
    code = send(handler, sms_api, "login")  # no cooldown was left behind
    assert call(handler, login(code=code))["codeStr"] == "Success"
