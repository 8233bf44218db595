"""Defects a held-out mutation run found no test for, each proven absent through ``main_handler``.

Real redis-server (or the in-process store where the defect lives there), the Tencent Cloud
API emulator (SendSms, DescribeCaptchaResult) and a controllable clock. Proven here:

* a getSms whose store reply was lost (503) gives back only what its own reservation made:
  the cooldown an earlier, delivered getSms set stays, so the phone is not sent to again at
  once (release.lua compares the cooldown's reservation id);
* the in-process store (fakeredis, whose Lua has no ``redis.sha1hex``) refuses a wrong code
  whose digest's bytes sum to the right digest's: the fallback comparison in lib.lua
  (``same_digest``) adds squared differences, never signed ones;
* a bound code's getSms repeated inside its resend interval answers ``Ok`` without a second
  SMS, and once the interval is over a repeat sends again;
* a client at the hard cap of its send limit is refused (``IpLimitExceeded``) even without a
  captcha ticket: it is not asked for a captcha it could not use (no DescribeCaptchaResult).

tests/mutation/mutants.py names the mutant each test kills.
"""

from __future__ import annotations

import fakeredis
import pytest

from smsverify.edge.handler import create_handler
from smsverify.service.codes import code_digest
from smsverify.store.base import CLIENT_HARD_LIMIT_FACTOR
from tests.support import CODE_SECRET, FaultProxy, answer, get_sms, last_code, login

PHONE, E164 = "8613800138011", "+8613800138011"
CAPTCHA_ENV = {"CAPTCHA_APP_ID": "190000000", "CAPTCHA_APP_SECRET_KEY": "captcha-test-key", "CAPTCHA_MODE": "adaptive"}


def call(handler, event) -> dict:
    return answer(handler(event, {}))


# -- release.lua: only its own reservation's cooldown ------------------------------------------


@pytest.fixture
def proxy(redis_url, redis_server):
    with FaultProxy(("127.0.0.1", redis_server.port)) as running:
        yield running


def test_a_get_sms_whose_reply_was_lost_keeps_the_cooldown_of_the_one_delivered(proxy, make_env, sms_api, clock):
    handler = create_handler(make_env(proxy.url), clock=clock)
    assert call(handler, get_sms(PHONE))["codeStr"] == "Ok"  # delivered; its reservation set the cooldown
    # The next getSms: send.lua runs (and refuses: cooldown) but each of its replies is lost,
    # the first try and redis-py's two retries on new connections, so the service sees no
    # answer and releases its own reservation id, which made nothing.
    proxy.drop_replies_to(b"EVALSHA", count=3)
    lost = call(handler, get_sms(PHONE))
    assert (lost["codeStr"], proxy.dropped_replies) == ("ServiceUnavailable", 3)

    again = call(handler, get_sms(PHONE))
    assert (again["codeStr"], again["_status"]) == ("TooFrequent", 429)
    assert len(sms_api.sent_to(E164)) == 1


# -- lib.lua same_digest: the fallback without redis.sha1hex ------------------------------------


def colliding_wrong_code(phone: str, code: str) -> str:
    """A code other than ``code`` whose digest (64 hex characters) has the same byte sum."""
    key = CODE_SECRET.encode()
    target = sum(code_digest(key, phone, code).encode())
    for n in range(10**6):
        candidate = f"{n:06d}"
        if candidate != code and sum(code_digest(key, phone, candidate).encode()) == target:
            return candidate
    raise AssertionError("no code of the same digest byte sum")  # about 1 in 450 codes has one


def test_the_in_process_store_refuses_a_wrong_code_whose_digest_bytes_sum_to_the_right_ones(make_env, sms_api, clock):
    # The test is about the fallback: it must be the path fakeredis takes.
    assert fakeredis.FakeRedis().eval("return redis.sha1hex and 1 or 0", 0) == 0, (
        "fakeredis now has redis.sha1hex: same_digest's fallback loop is dead code")
    handler = create_handler(make_env(None), clock=clock)  # no REDIS_URL: the in-process store
    assert call(handler, get_sms(PHONE))["codeStr"] == "Ok"
    code = last_code(sms_api, E164)
    impostor = colliding_wrong_code(E164, code)

    refused = call(handler, login(PHONE, impostor))
    assert (refused["codeStr"], refused["attemptsLeft"]) == ("CodeIsError", 2)
    assert call(handler, login(PHONE, code))["codeStr"] == "Success"


# -- send.lua: a bound code's resend interval ---------------------------------------------------


def test_a_bound_get_sms_repeated_inside_its_resend_interval_sends_one_sms(build, sms_api, clock):
    handler = build(SEND_INTERVAL_SECONDS="60")
    flow = {"verificationId": "mutant-guard-flow-0123456789"}
    first = call(handler, get_sms(PHONE, **flow))
    clock.advance(59)
    repeat = call(handler, get_sms(PHONE, **flow))
    assert (first["codeStr"], repeat["codeStr"]) == ("Ok", "Ok")
    assert len(sms_api.sent_to(E164)) == 1

    clock.advance(1)  # the interval is over: a resend goes out
    assert call(handler, get_sms(PHONE, **flow))["codeStr"] == "Ok"
    assert len(sms_api.sent_to(E164)) == 2


# -- lib.lua judge: the hard cap before the step-up ---------------------------------------------


def test_a_client_at_its_hard_cap_is_refused_without_being_asked_for_a_captcha(build, sms_api):
    handler = build(**CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, IP_SEND_LIMIT="1")
    ip = "203.0.113.44"
    hard = CLIENT_HARD_LIMIT_FACTOR  # IP_SEND_LIMIT 1: a ticket passes until 1 x the factor
    assert call(handler, get_sms(f"861380013{0:04d}", ip=ip))["codeStr"] == "Ok"
    for i in range(1, hard):
        phone = f"861380013{i:04d}"
        assert call(handler, get_sms(phone, ip=ip))["codeStr"] == "CaptchaRequired"  # the soft limit asks
        ticket, randstr = sms_api.issue_captcha_ticket(ip)
        assert call(handler, get_sms(phone, ip=ip, ticket=ticket, randstr=randstr))["codeStr"] == "Ok"
    checks = len([r for r in sms_api.requests if r["action"] == "DescribeCaptchaResult"])

    at_cap = call(handler, get_sms(f"861380013{hard:04d}", ip=ip))
    assert (at_cap["codeStr"], at_cap["_status"]) == ("IpLimitExceeded", 429)
    assert len([r for r in sms_api.requests if r["action"] == "DescribeCaptchaResult"]) == checks
    assert len([r for r in sms_api.requests if r["action"] == "SendSms"]) == hard
