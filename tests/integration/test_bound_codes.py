"""Defences that cannot be turned against users (issue 18's measured scenarios), tried as an
attacker would: default settings unless stated, real redis-server and a real 3-master cluster,
through ``main_handler``, the Tencent Cloud emulator for SMS and captcha.

* A code bound to a ``verificationId`` can only be checked (and its tries spent) by a login with
  the same id; a stranger's getSms never replaces it nor makes its owner wait; a repeat inside
  the resend interval answers the same ``Ok`` without a second SMS.
* Logins with no live code count nothing anywhere.
* Behind one IPv4 (a carrier NAT), users with bound codes are never refused for each other's
  typos; with captcha configured, a reached client quota asks for a ticket instead of refusing.
* With captcha configured, an owner whose phone quota a stranger spent gets a code with a ticket.
* One IPv6 site (/48) spends at most its site quota; a 6to4 host is one client.
* A cross-site request without an allowed Origin runs nothing.
* A throttled client costs no captcha and no WeChat call.
"""

from __future__ import annotations

import secrets

import pytest

from smsverify.store import keys
from tests.integration import test_abuse
from tests.integration.test_abuse import CAPTCHA_ENV, DEFAULTS, check, number, send, sent
from tests.support import get_sms, last_code, wrong
from tests.support.events import call

#: single redis-server and the 3-master cluster (test_abuse's fixture)
deployment = test_abuse.deployment

OWNER = "+8613800138000"
OWNER_IP = "198.51.100.20"
STRANGER_IP = "203.0.113.66"


def vid() -> str:
    """A verificationId as the shipped clients make it (24 random bytes, base64url)."""
    return secrets.token_urlsafe(24)


def captcha(handler_env: dict, sms_api) -> dict:
    return {**CAPTCHA_ENV, "CAPTCHA_API_ENDPOINT": sms_api.url, "CAPTCHA_MODE": "adaptive", **handler_env}


# -- verification-bound codes ---------------------------------------------------------------------
def test_a_strangers_logins_cannot_touch_a_bound_code(deployment, sms_api):
    handler = deployment.build()
    mine = vid()
    assert send(handler, OWNER[1:], OWNER_IP, verificationId=mine)["verificationId"] == mine
    code = last_code(sms_api, OWNER)

    # Without the id, with another id, with the right code or not: nothing to check, nothing counted.
    stranger = [check(handler, OWNER[1:], guess, STRANGER_IP, **extra)["codeStr"]
                for guess in (code, wrong(code)) for extra in ({}, {"verificationId": vid()})]
    assert stranger == ["CodeHasExpired"] * 4
    assert deployment.redis.zcard(keys.ip_verify_key(STRANGER_IP)) == 0

    assert check(handler, OWNER[1:], code, OWNER_IP, verificationId=mine)["codeStr"] == "Success"


def test_a_strangers_getsms_neither_replaces_the_owners_code_nor_makes_the_owner_wait(deployment, sms_api):
    handler = deployment.build()
    mine = vid()
    assert send(handler, OWNER[1:], OWNER_IP, verificationId=mine)["codeStr"] == "Ok"
    code = last_code(sms_api, OWNER)
    # The attacker asks for codes for the owner's phone (they go to the owner) and guesses at them.
    for _ in range(2):
        theirs = vid()
        assert send(handler, OWNER[1:], STRANGER_IP, verificationId=theirs)["codeStr"] == "Ok"
        guesses = [check(handler, OWNER[1:], str(n).zfill(6), STRANGER_IP, verificationId=theirs)["codeStr"]
                   for n in range(DEFAULTS.max_verify_attempts + 2)]
        assert "Success" not in guesses[:DEFAULTS.max_verify_attempts] or last_code(sms_api, OWNER) != code
    assert check(handler, OWNER[1:], code, OWNER_IP, verificationId=mine)["codeStr"] == "Success"
    # A new verification of the owner's is not refused by the stranger's resend interval.
    assert send(handler, OWNER[1:], OWNER_IP, verificationId=vid())["codeStr"] == "Ok"


def test_a_repeated_getsms_inside_the_resend_interval_answers_the_same_ok_without_an_sms(deployment, sms_api, clock):
    handler = deployment.build()
    mine = vid()
    first = send(handler, OWNER[1:], OWNER_IP, verificationId=mine)
    again = send(handler, OWNER[1:], OWNER_IP, verificationId=mine)
    strip = lambda body: {k: v for k, v in body.items() if k != "requestId"}  # noqa: E731
    assert strip(again) == strip(first) and first["codeStr"] == "Ok"
    assert sent(sms_api) == 1
    clock.advance(DEFAULTS.send_interval_seconds)
    assert send(handler, OWNER[1:], OWNER_IP, verificationId=mine)["codeStr"] == "Ok"
    assert sent(sms_api) == 2
    assert check(handler, OWNER[1:], last_code(sms_api, OWNER), OWNER_IP, verificationId=mine)["codeStr"] == "Success"


@pytest.mark.parametrize("raw", ["short", "x" * 65, "has space in it 0123456789", "ünïcode-0123456789abcdefgh"])
def test_a_malformed_verification_id_is_invalid_param_with_nothing_sent(deployment, sms_api, raw):
    handler = deployment.build()
    body = send(handler, OWNER[1:], OWNER_IP, verificationId=raw)
    assert (body["codeStr"], body["_status"]) == ("InValidParam", 400)
    assert "verificationId" in body["msg"] and sent(sms_api) == 0


def test_legacy_login_off_issues_bound_codes_only(deployment, sms_api):
    handler = deployment.build(LEGACY_LOGIN="off")
    assert send(handler, OWNER[1:], OWNER_IP)["codeStr"] == "InValidParam"
    assert send(handler, OWNER[1:], OWNER_IP, verificationId=vid())["codeStr"] == "Ok"
    assert sent(sms_api) == 1


# -- only guesses count -----------------------------------------------------------------------------
def test_10000_logins_for_phones_without_a_code_move_no_counter(redis_url, make_env, clock, sms_api):
    from smsverify.edge.handler import create_handler

    handler = create_handler(make_env(redis_url, GLOBAL_VERIFY_LIMIT="100"), clock=clock)
    client = deployment_client(redis_url)
    assert send(handler, OWNER[1:], OWNER_IP)["codeStr"] == "Ok"
    code = last_code(sms_api, OWNER)
    before = sorted(client.keys("*"))
    bodies = {check(handler, number(i), "123456", f"2001:db8:{i % 1000:x}:{i // 1000:x}::1")["codeStr"]
              for i in range(10_000)}
    assert bodies == {"CodeHasExpired"}
    assert sorted(client.keys("*")) == before  # nothing written: no log, no day count, no marker
    assert check(handler, OWNER[1:], code, OWNER_IP)["codeStr"] == "Success"
    client.close()


def deployment_client(url: str):
    import redis

    return redis.Redis.from_url(url)


# -- behind one carrier NAT -------------------------------------------------------------------------
@pytest.mark.parametrize("with_captcha", [False, True], ids=["captcha off", "captcha on"])
def test_100_users_behind_one_ipv4_mistype_twice_then_log_in(deployment, sms_api, clock, with_captcha):
    """Nobody's typos refuse anybody else's right code. Without captcha the address gets IP_SEND_LIMIT codes
    per window (the users then wait for it); with captcha every code is sent within the hour."""
    handler = deployment.build(**(captcha({}, sms_api) if with_captcha else {}))
    nat = "100.64.0.1"
    start = clock.now
    users = [(number(i, "13900"), vid()) for i in range(100)]
    outcomes = []
    for phone, mine in users:
        body = send(handler, phone, nat, verificationId=mine)
        if body["codeStr"] == "CaptchaRequired":  # past the client's quota: a ticket passes (captcha on)
            ticket, randstr = sms_api.issue_captcha_ticket(nat)
            body = send(handler, phone, nat, verificationId=mine, ticket=ticket, randstr=randstr)
        elif body["codeStr"] == "IpLimitExceeded" and not with_captcha:
            clock.advance(body["retryAfter"])
            body = send(handler, phone, nat, verificationId=mine)
        assert body["codeStr"] == "Ok", body
        code = last_code(sms_api, "+" + phone)
        tries = [check(handler, phone, wrong(code), nat, verificationId=mine)["codeStr"] for _ in range(2)]
        outcomes.append(tries + [check(handler, phone, code, nat, verificationId=mine)["codeStr"]])
    assert outcomes == [["CodeIsError", "CodeIsError", "Success"]] * 100
    assert sent(sms_api) == 100
    if with_captcha:
        assert clock.now - start < 3600


def test_without_captcha_the_nat_gets_its_client_quota_of_codes(deployment, sms_api):
    handler = deployment.build()
    bodies = [send(handler, number(i, "13700"), "100.64.0.2", verificationId=vid())["codeStr"] for i in range(30)]
    assert bodies == ["Ok"] * DEFAULTS.ip_send_limit + ["IpLimitExceeded"] * (30 - DEFAULTS.ip_send_limit)


# -- the owner whose quota a stranger spent -----------------------------------------------------------
def test_with_captcha_the_owner_gets_a_code_after_a_stranger_spent_the_phones_quota(deployment, sms_api, clock):
    handler = deployment.build(**captcha({}, sms_api))
    for i in range(DEFAULTS.hourly_send_limit):
        assert send(handler, OWNER[1:], f"203.0.113.{i}", verificationId=vid())["codeStr"] == "Ok"
    mine = vid()
    asked = send(handler, OWNER[1:], OWNER_IP, verificationId=mine)
    assert (asked["codeStr"], asked["_status"]) == ("CaptchaRequired", 400)
    clock.advance(30)
    ticket, randstr = sms_api.issue_captcha_ticket(OWNER_IP)
    assert send(handler, OWNER[1:], OWNER_IP, verificationId=mine, ticket=ticket, randstr=randstr)["codeStr"] == "Ok"
    assert check(handler, OWNER[1:], last_code(sms_api, OWNER), OWNER_IP, verificationId=mine)["codeStr"] == "Success"


def test_without_captcha_the_phones_quota_still_refuses(deployment, sms_api):
    handler = deployment.build()
    bodies = [send(handler, OWNER[1:], f"203.0.113.{i}", verificationId=vid())["codeStr"]
              for i in range(DEFAULTS.hourly_send_limit + 1)]
    assert bodies == ["Ok"] * DEFAULTS.hourly_send_limit + ["HourlyLimitExceeded"]


# -- client identity ----------------------------------------------------------------------------------
def test_60_ipv6_64s_of_one_48_spend_at_most_the_site_quota(deployment, sms_api):
    handler = deployment.build(IP_SEND_LIMIT="3")  # site quota: 5 x 3 = 15
    bodies = [send(handler, number(i, "13600"), f"2001:db8:aa:{i:x}::1", verificationId=vid())["codeStr"]
              for i in range(60) for _ in range(1)]
    assert bodies.count("Ok") == 15 and sent(sms_api) == 15
    assert set(bodies[15:]) == {"IpLimitExceeded"}
    # Another site is another client.
    assert send(handler, number(99, "13600"), "2001:db8:bb::1", verificationId=vid())["codeStr"] == "Ok"


def test_a_6to4_host_is_its_ipv4_client(deployment, sms_api):
    handler = deployment.build(IP_SEND_LIMIT="2")
    # 2002:cb00:7107::/48 embeds 203.0.113.7; every 6to4 address of that host and the IPv4 itself share one bucket.
    addresses = ["203.0.113.7", "2002:cb00:7107::1", "2002:cb00:7107:1::1", "2002:cb00:7107:ffff::9"]
    bodies = [send(handler, number(i, "13500"), ip, verificationId=vid())["codeStr"] for i, ip in enumerate(addresses)]
    assert bodies == ["Ok", "Ok", "IpLimitExceeded", "IpLimitExceeded"]


# -- cross-site requests ------------------------------------------------------------------------------
def test_a_cross_site_no_cors_get_is_refused_with_nothing_sent(redis_url, make_env, clock, sms_api):
    from smsverify.edge.handler import create_handler

    handler = create_handler(make_env(redis_url, ALLOWED_ORIGINS="https://app.example.com"), clock=clock)
    img = get_sms(OWNER[1:])
    img["headers"] = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
    refused = call(handler, img)
    assert (refused["codeStr"], refused["_status"]) == ("OriginNotAllowed", 403)
    assert handler(img, {})["headers"]["Vary"] == "Origin"
    assert sent(sms_api) == 0
    # A mini-program or curl request (no fetch metadata, no Origin) is unaffected.
    assert call(handler, get_sms(OWNER[1:]))["codeStr"] == "Ok"


# -- order of work: throttles before paid calls --------------------------------------------------------
def test_a_throttled_client_costs_no_captcha_call(deployment, sms_api):
    handler = deployment.build(**captcha({"IP_SEND_LIMIT": "1"}, sms_api))
    ip = "203.0.113.99"
    assert send(handler, number(1), ip, verificationId=vid())["codeStr"] == "Ok"
    for i in range(2, 11):  # up to the hard cap (10 x 1) with tickets
        ticket, randstr = sms_api.issue_captcha_ticket(ip)
        assert send(handler, number(i), ip, verificationId=vid(), ticket=ticket, randstr=randstr)["codeStr"] == "Ok"
    checks = len([r for r in sms_api.requests if r["action"] == "DescribeCaptchaResult"])
    for i in range(11, 61):
        ticket, randstr = sms_api.issue_captcha_ticket(ip)
        body = send(handler, number(i), ip, verificationId=vid(), ticket=ticket, randstr=randstr)
        assert body["codeStr"] == "IpLimitExceeded"
    assert len([r for r in sms_api.requests if r["action"] == "DescribeCaptchaResult"]) == checks == 9


# -- LEGACY_LOGIN's exposure is named at start-up inside SCF ----------------------------------------
@pytest.mark.parametrize("legacy", ["on", "off"])
def test_inside_scf_legacy_login_on_logs_its_exposure_once(make_env, redis_url, caplog, sms_api, legacy):
    import logging

    from smsverify.edge.handler import create_handler

    logger = logging.getLogger("smsverify")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="smsverify"):
            create_handler(make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url,
                                    TENCENTCLOUD_RUNENV="SCF", LEGACY_LOGIN=legacy))
    finally:
        logger.removeHandler(caplog.handler)
    warned = [r.getMessage() for r in caplog.records if "LEGACY_LOGIN" in r.getMessage()]
    assert len(warned) == (1 if legacy == "on" else 0)


def test_a_verification_id_never_reaches_a_log_line(redis_url, make_env, clock, sms_api):
    """The id is the holder's secret for method=status: the lines say only ``bound``."""
    from smsverify.edge.handler import create_handler
    from tests.support.logs import capture_all_logs

    handler = create_handler(make_env(redis_url), clock=clock)
    mine = vid()
    with capture_all_logs(sdk_debug=False) as dump:
        send(handler, OWNER[1:], OWNER_IP, verificationId=mine)
        check(handler, OWNER[1:], "000000", OWNER_IP, verificationId=mine)
        check(handler, OWNER[1:], last_code(sms_api, OWNER), OWNER_IP, verificationId=mine)
    text = "\n".join(chunk for _, chunk in dump.chunks)
    assert '"bound": true' in text or "'bound': True" in text  # the capture saw the invocation lines
    assert mine not in text
