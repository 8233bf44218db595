"""Tencent Cloud Captcha before getSms, through ``main_handler``.

Real redis-server, and the Tencent Cloud API emulator serving both SendSms
and DescribeCaptchaResult (``CAPTCHA_APP_ID=190000000`` and
``CAPTCHA_APP_SECRET_KEY=captcha-test-key`` are the emulator's defaults; it
verifies the SDK's TC3 signature for the ``captcha`` service). Proven here:

* with captcha on, getSms needs ``ticket`` and ``randstr``; a missing one is
  ``CaptchaRequired`` (400), a wrong, replayed or foreign-IP ticket is
  ``CaptchaFailed`` (400), no SMS is sent and
  Redis stays empty (DBSIZE 0): the captcha is checked before anything is stored,
  and before the send limits;
* a genuine ticket passes; the Captcha API is asked with ``CaptchaType`` 9, the
  integer ``CaptchaAppId``, and ``UserIp`` = the event's
  ``requestContext.sourceIp``, never an X-Forwarded-For header;
* login needs no captcha;
* an unreachable Captcha API is ``ServiceUnavailable`` (503), with no SMS;
* setting only one of ``CAPTCHA_APP_ID`` / ``CAPTCHA_APP_SECRET_KEY`` is a
  ``ConfigError`` naming the other, at ``create_handler``.
"""

from __future__ import annotations

import pytest

from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from tests.support import answer, get_sms, login
from tests.support import free_port

PHONE_RAW = "8613800138000"
PHONE = "+8613800138000"
SOURCE_IP = "203.0.113.7"  # requestContext.sourceIp of the events below
FORWARDED_IP = "198.51.100.99"  # what a client could claim in a header
CAPTCHA_APP_ID = 190000000
CAPTCHA_ENV = {"CAPTCHA_APP_ID": str(CAPTCHA_APP_ID), "CAPTCHA_APP_SECRET_KEY": "captcha-test-key"}

# CaptchaCode values of DescribeCaptchaResult (see the emulator's docstring)
RANDSTR_MISMATCH, TICKET_REUSED, RISK_DIFF = 7, 9, 21


@pytest.fixture
def handler(redis_url, make_env, sms_api, clock):
    return create_handler(make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url), clock=clock)


def get_sms_with(ticket: str | None = None, randstr: str | None = None, **headers: str) -> dict:
    extra = {k: v for k, v in (("ticket", ticket), ("randstr", randstr)) if v is not None}
    event = get_sms(PHONE_RAW, ip=SOURCE_IP, **extra)
    event["headers"].update(headers)
    return event


def captcha_requests(sms_api) -> list[dict]:
    return [r["body"] for r in sms_api.requests if r["action"] == "DescribeCaptchaResult"]


def sms_requests(sms_api) -> list[dict]:
    return [r for r in sms_api.requests if r["action"] == "SendSms"]


def dbsize(redis_server) -> int:
    client = redis_server.client()
    try:
        return client.dbsize()
    finally:
        client.close()


def assert_captcha_failed(body: dict, captcha_code: int | None) -> None:
    assert (body["codeStr"], body["_status"]) == ("CaptchaFailed", 400), body
    assert body.get("captchaCode") == captcha_code


def assert_captcha_required(body: dict) -> None:
    assert (body["codeStr"], body["_status"]) == ("CaptchaRequired", 400), body
    assert "captchaCode" not in body


def assert_nothing_sent_or_stored(sms_api, redis_server) -> None:
    assert sms_requests(sms_api) == []
    assert dbsize(redis_server) == 0


# -- the ticket is required and checked ----------------------------------------------------------
@pytest.mark.parametrize("given", ["neither", "ticket only", "randstr only", "empty values"])
def test_get_sms_without_ticket_and_randstr_is_refused(given, handler, sms_api, redis_server):
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)
    event = {
        "neither": get_sms_with(),
        "ticket only": get_sms_with(ticket=ticket),
        "randstr only": get_sms_with(randstr=randstr),
        "empty values": get_sms_with(ticket="", randstr=""),
    }[given]

    body = answer(handler(event, {}))

    assert_captcha_required(body)
    assert captcha_requests(sms_api) == []  # refused before asking the Captcha API
    assert_nothing_sent_or_stored(sms_api, redis_server)


def test_a_genuine_ticket_passes_and_the_api_gets_the_gateway_ip(handler, sms_api):
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)  # the emulator requires this UserIp
    event = get_sms_with(ticket, randstr, **{"X-Forwarded-For": FORWARDED_IP, "X-Real-IP": FORWARDED_IP})

    body = answer(handler(event, {}))

    assert (body["codeStr"], body["_status"]) == ("Ok", 200), body
    assert len(sms_api.sent_to(PHONE)) == 1
    [asked] = captcha_requests(sms_api)
    assert asked["CaptchaType"] == 9 and type(asked["CaptchaType"]) is int
    assert asked["CaptchaAppId"] == CAPTCHA_APP_ID and type(asked["CaptchaAppId"]) is int
    assert asked["UserIp"] == SOURCE_IP
    assert (asked["Ticket"], asked["Randstr"]) == (ticket, randstr)


def test_a_ticket_issued_for_the_forwarded_ip_fails(handler, sms_api, redis_server):
    # The client claims FORWARDED_IP in headers; the gateway saw SOURCE_IP. Only the latter counts.
    ticket, randstr = sms_api.issue_captcha_ticket(FORWARDED_IP)

    body = answer(handler(get_sms_with(ticket, randstr, **{"X-Forwarded-For": FORWARDED_IP}), {}))

    assert_captcha_failed(body, RISK_DIFF)
    assert [asked["UserIp"] for asked in captcha_requests(sms_api)] == [SOURCE_IP]
    assert_nothing_sent_or_stored(sms_api, redis_server)


def test_a_ticket_is_good_once(handler, sms_api, redis_server, clock):
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)
    assert answer(handler(get_sms_with(ticket, randstr), {}))["codeStr"] == "Ok"
    stored = dbsize(redis_server)
    clock.advance(61)  # past SEND_INTERVAL_SECONDS: only the captcha can refuse now

    again = answer(handler(get_sms_with(ticket, randstr), {}))

    assert_captcha_failed(again, TICKET_REUSED)
    assert len(sms_requests(sms_api)) == 1
    assert dbsize(redis_server) == stored


def test_a_wrong_randstr_fails(handler, sms_api, redis_server):
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)

    body = answer(handler(get_sms_with(ticket, randstr + "x"), {}))

    assert_captcha_failed(body, RANDSTR_MISMATCH)
    assert_nothing_sent_or_stored(sms_api, redis_server)


def test_an_unknown_ticket_fails(handler, sms_api, redis_server):
    body = answer(handler(get_sms_with("t03-never-issued", "@abc"), {}))

    assert (body["codeStr"], body["_status"]) == ("CaptchaFailed", 400)
    assert_nothing_sent_or_stored(sms_api, redis_server)


def test_the_send_limits_are_checked_before_the_captcha(handler, sms_api):
    """A throttled request costs no DescribeCaptchaResult call: throttles first, then the captcha."""
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)
    assert answer(handler(get_sms_with(ticket, randstr), {}))["codeStr"] == "Ok"
    checks = len(captcha_requests(sms_api))

    # In the cooldown: refused before any ticket is looked at, whatever it carries.
    reused = answer(handler(get_sms_with(ticket, randstr), {}))
    missing = answer(handler(get_sms_with(), {}))
    fresh_ticket, fresh_randstr = sms_api.issue_captcha_ticket(SOURCE_IP)
    fresh = answer(handler(get_sms_with(fresh_ticket, fresh_randstr), {}))

    assert [b["codeStr"] for b in (reused, missing, fresh)] == ["TooFrequent"] * 3
    assert (fresh["_status"], fresh["retryAfter"]) == (429, 60)
    assert len(captcha_requests(sms_api)) == checks == 1
    assert len(sms_requests(sms_api)) == 1


# -- login, outages, configuration ----------------------------------------------------------------
def test_login_needs_no_captcha(handler, sms_api):
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)
    assert answer(handler(get_sms_with(ticket, randstr), {}))["codeStr"] == "Ok"
    [sms] = sms_api.sent_to(PHONE)

    unknown = answer(handler(login("8613900139000", "123456"), {}))
    right = answer(handler(login(PHONE_RAW, sms["params"][0]), {}))

    assert (unknown["codeStr"], unknown["_status"]) == ("CodeHasExpired", 401)
    assert (right["codeStr"], right["_status"]) == ("Success", 200)
    assert len(captcha_requests(sms_api)) == 1  # only the getSms asked


def test_captcha_api_unreachable_is_service_unavailable(redis_url, redis_server, make_env, sms_api, clock):
    closed = f"http://127.0.0.1:{free_port()}"
    handler = create_handler(make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=closed), clock=clock)
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)

    body = answer(handler(get_sms_with(ticket, randstr), {}))

    assert (body["codeStr"], body["_status"]) == ("ServiceUnavailable", 503), body
    assert sms_api.requests == []
    assert dbsize(redis_server) == 0


@pytest.mark.parametrize("present, missing", [
    ("CAPTCHA_APP_ID", "CAPTCHA_APP_SECRET_KEY"),
    ("CAPTCHA_APP_SECRET_KEY", "CAPTCHA_APP_ID"),
])
def test_half_a_captcha_configuration_is_a_config_error(present, missing, make_env, clock):
    env = make_env(None, **{present: CAPTCHA_ENV[present]})

    with pytest.raises(ConfigError) as raised:
        create_handler(env, clock=clock)

    assert raised.value.variable == missing
    assert missing in str(raised.value)
