"""Voice codes through ``main_handler``: ``channel=voice`` sends the verification's code by a VMS
``SendCodeVoice`` call (the TC3-checking Tencent Cloud emulator), counted against the phone's send limits
and ``VOICE_DAILY_LIMIT``; without ``VOICE_SDKAPPID`` it is ``InValidParam``."""

from __future__ import annotations

import secrets

import pytest

from smsverify.edge.handler import create_handler
from tests.support import answer, get_sms, last_code, login, tencent_env, voice_env

PHONE = "+8613800138000"


@pytest.fixture
def handler(redis_url, sms_api, clock):
    return create_handler(tencent_env(redis_url, sms_api, **voice_env(sms_api), VOICE_DAILY_LIMIT="2"), clock=clock)


def voice_code(sms_api) -> str:
    return sms_api.voice_calls_to(PHONE)[-1]["code"]


def test_an_sms_then_a_voice_resend_of_the_same_verification_logs_in(handler, sms_api, clock):
    vid = secrets.token_urlsafe(24)
    assert answer(handler(get_sms(PHONE[1:], verificationId=vid), {}))["codeStr"] == "Ok"
    sms_code = last_code(sms_api, PHONE)
    clock.advance(60)  # the verification's resend interval
    voice = answer(handler(get_sms(PHONE[1:], verificationId=vid, channel="voice"), {}))
    assert (voice["codeStr"], voice["channel"], voice["provider"]) == ("Ok", "voice", "tencent_voice")
    assert len(sms_api.voice_calls_to(PHONE)) == 1 and len(sms_api.sent_to(PHONE)) == 1
    code = voice_code(sms_api)
    if code != sms_code:  # the SMS code was replaced once the call was accepted
        assert answer(handler(login(PHONE[1:], sms_code, verificationId=vid), {}))["codeStr"] == "CodeIsError"
    assert answer(handler(login(PHONE[1:], code, verificationId=vid), {}))["codeStr"] == "Success"


def test_voice_codes_have_their_own_daily_limit(handler, sms_api, clock):
    bodies = []
    for _ in range(3):
        bodies.append(answer(handler(get_sms(PHONE[1:], verificationId=secrets.token_urlsafe(24), channel="voice"), {})))
        clock.advance(60)
    assert [b["codeStr"] for b in bodies] == ["Ok", "Ok", "DailyLimitExceeded"]
    assert len(sms_api.voice_calls_to(PHONE)) == 2
    # SMS still pass: the phone's own daily quota is not spent
    assert answer(handler(get_sms(PHONE[1:], verificationId=secrets.token_urlsafe(24)), {}))["codeStr"] == "Ok"


def test_a_refused_voice_call_gives_its_counts_back(handler, sms_api, clock):
    sms_api.vms_request_error = ("FailedOperation.InsufficientBalance", "no balance")
    refused = answer(handler(get_sms(PHONE[1:], verificationId=secrets.token_urlsafe(24), channel="voice"), {}))
    assert refused["codeStr"] == "SmsSendFailed"
    sms_api.vms_request_error = None
    for _ in range(2):
        assert answer(handler(get_sms(PHONE[1:], verificationId=secrets.token_urlsafe(24), channel="voice"), {}))["codeStr"] == "Ok"


@pytest.mark.parametrize("phone", ["85291234567"])
def test_voice_is_for_mainland_numbers_only(redis_url, sms_api, clock, phone):
    env = tencent_env(redis_url, sms_api, **voice_env(sms_api), ALLOWED_COUNTRY_CODES="86,852",
                      SMS_TEMPLATES="86:100001,*:100020")
    handler = create_handler(env, clock=clock)
    body = answer(handler(get_sms(phone, verificationId=secrets.token_urlsafe(24), channel="voice"), {}))
    assert body["codeStr"] == "InValidParam" and sms_api.voice_calls == []


def test_without_voice_sdkappid_channel_voice_is_invalid_param(redis_url, sms_api, clock):
    handler = create_handler(tencent_env(redis_url, sms_api), clock=clock)
    bodies = [answer(handler(get_sms(PHONE[1:], channel=channel), {})) for channel in ("voice", "fax")]
    assert [b["codeStr"] for b in bodies] == ["InValidParam", "InValidParam"]
    assert sms_api.requests == [] or all(r["action"] != "SendSms" for r in sms_api.requests)


def test_a_voice_call_right_after_the_sms_is_a_resend_not_a_replay(handler, sms_api, clock):
    vid = secrets.token_urlsafe(24)
    assert answer(handler(get_sms(PHONE[1:], verificationId=vid), {}))["codeStr"] == "Ok"
    voice = answer(handler(get_sms(PHONE[1:], verificationId=vid, channel="voice"), {}))  # inside the interval
    assert (voice["codeStr"], voice["provider"]) == ("Ok", "tencent_voice")
    assert len(sms_api.voice_calls_to(PHONE)) == 1
    again = answer(handler(get_sms(PHONE[1:], verificationId=vid, channel="voice"), {}))  # the same request again
    assert again["provider"] == "tencent_voice" and len(sms_api.voice_calls_to(PHONE)) == 1
    assert answer(handler(login(PHONE[1:], voice_code(sms_api), verificationId=vid), {}))["codeStr"] == "Success"
