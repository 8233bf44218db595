"""Abuse resistance with the default settings, through ``main_handler``.

Real redis-server and, for every scenario, a real 3-master Redis Cluster
(``deployment`` fixture), the Tencent Cloud API emulator (SendSms and
DescribeCaptchaResult) and a controllable clock. Proven here:

* SMS pumping: one client (one IPv4 address, or any addresses of one IPv6
  /64, or every request without a client IP) gets at most its quota of SMS
  out of 1,000 getSms to 1,000 numbers; 1,000 clients sending to one number
  prefix get at most ``PREFIX_SEND_LIMIT`` SMS (``PrefixLimitExceeded``);
  users elsewhere still get ``Ok``.
* ``CAPTCHA_MODE``: ``always`` asks every getSms for a ticket
  (``CaptchaRequired`` without one, ``CaptchaFailed`` with a rejected one);
  ``adaptive`` asks only when a risk rule applies: the global quota spent
  (step-up up to ``GLOBAL_SEND_HARD_LIMIT``, then ``ServiceBusy``) or no
  client IP.
* Targeted lockout: 1,000 wrong logins from one address reach the victim's
  counters at most ``IP_VERIFY_LIMIT`` times (``IpLimitExceeded`` after), and
  the victim logs in with a new code; after ``VERIFY_CAPTCHA_AFTER`` wrong
  codes a login needs a captcha ticket; the global wrong-code quota answers
  ``ServiceBusy``.
* Inside SCF a short ``CODE_LENGTH`` or a weak ``CODE_SECRET`` fails start-up.
"""

from __future__ import annotations

import logging

import pytest
import redis
from redis.cluster import RedisCluster

from smsverify.settings.config import Settings
from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from smsverify.store import keys
from tests.support import answer, get_sms, last_code, login, wrong

CAPTCHA_ENV = {"CAPTCHA_APP_ID": "190000000", "CAPTCHA_APP_SECRET_KEY": "captcha-test-key"}
DEFAULTS = Settings.from_env({})
VICTIM = "+8613800138000"
ATTACKER_IP = "203.0.113.66"
VICTIM_IP = "198.51.100.20"
VID = "owner-verification-id-0123456789"


@pytest.fixture(params=["single", "cluster"])
def deployment(request, make_env, clock, sms_api):
    """``build(**ENV)`` -> main_handler on a fresh single Redis or Redis Cluster; ``.redis`` inspects it."""
    if request.param == "single":
        url = request.getfixturevalue("redis_url")
        extra = {}
        inspector = redis.Redis.from_url(url)
    else:
        cluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        url = cluster.url
        extra = {"REDIS_CLUSTER": "true"}
        inspector = RedisCluster.from_url(url)

    class Deployment:
        redis = inspector

        @staticmethod
        def build(**overrides: str):
            return create_handler(make_env(url, **extra, **overrides), clock=clock)

    yield Deployment
    inspector.close()


def number(i: int, block: str = "13800") -> str:
    """The i-th of many numbers, spread over many 7-digit prefixes (``block`` + 2 varying digits)."""
    return f"86{block}{i % 100:02d}{i // 100:04d}"


def send(handler, phone: str, ip: str | None, **extra: str) -> dict:
    return answer(handler(get_sms(phone, ip=ip, **extra), {}))


def check(handler, phone: str, code: str, ip: str | None = VICTIM_IP, **extra: str) -> dict:
    event = login(phone, code, **extra)
    event["requestContext"]["sourceIp"] = ip
    return answer(handler(event, {}))


def sent(sms_api) -> int:
    return len([r for r in sms_api.requests if r["action"] == "SendSms"])


def codes(bodies: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for body in bodies:
        out[body["codeStr"]] = out.get(body["codeStr"], 0) + 1
    return out


# -- SMS pumping ---------------------------------------------------------------------------------
def test_one_ipv4_client_gets_at_most_its_quota_of_1000_sends(deployment, sms_api):
    handler = deployment.build()

    bodies = [send(handler, number(i), "203.0.113.7") for i in range(1000)]

    assert codes(bodies) == {"Ok": DEFAULTS.ip_send_limit, "IpLimitExceeded": 1000 - DEFAULTS.ip_send_limit}
    assert sent(sms_api) == DEFAULTS.ip_send_limit
    assert all(b["_status"] == 429 and b["retryAfter"] > 0 for b in bodies if b["codeStr"] != "Ok")
    assert send(handler, number(5000), "203.0.113.8")["codeStr"] == "Ok"


def test_the_addresses_of_one_ipv6_64_are_one_client(deployment, sms_api):
    handler = deployment.build()

    bodies = [send(handler, number(i), f"2001:db8:1:2:{i:x}::{i % 7 + 1:x}") for i in range(1000)]

    assert codes(bodies)["Ok"] == DEFAULTS.ip_send_limit
    assert sent(sms_api) == DEFAULTS.ip_send_limit
    assert send(handler, number(5000), "2001:db8:1:3::1")["codeStr"] == "Ok"  # the next /64


def test_requests_without_a_client_ip_share_one_bucket(deployment, sms_api):
    handler = deployment.build()

    bodies = [send(handler, number(i), None) for i in range(300)]

    assert codes(bodies) == {"Ok": DEFAULTS.unknown_ip_send_limit, "IpLimitExceeded": 300 - DEFAULTS.unknown_ip_send_limit}
    assert send(handler, number(5000), "203.0.113.8")["codeStr"] == "Ok"


def test_1000_clients_sending_to_one_prefix_get_at_most_the_prefix_quota(deployment, sms_api):
    handler = deployment.build()
    prefix_numbers = [f"861380012{i:04d}" for i in range(1000)]

    bodies = [send(handler, phone, f"10.{i // 250}.{i % 250}.1") for i, phone in enumerate(prefix_numbers)]

    assert codes(bodies) == {"Ok": DEFAULTS.prefix_send_limit, "PrefixLimitExceeded": 1000 - DEFAULTS.prefix_send_limit}
    assert sent(sms_api) == DEFAULTS.prefix_send_limit
    refused = next(b for b in bodies if b["codeStr"] == "PrefixLimitExceeded")
    assert refused["_status"] == 429 and 0 < refused["retryAfter"] <= DEFAULTS.prefix_send_window_seconds
    assert send(handler, "8613900139000", "10.9.9.9")["codeStr"] == "Ok"  # another prefix


def test_a_refusal_by_the_prefix_quota_consumes_no_client_quota(deployment, sms_api):
    handler = deployment.build(PREFIX_SEND_LIMIT="2")
    for i in range(2):
        assert send(handler, f"86138001200{i:02d}", f"10.0.0.{i + 1}")["codeStr"] == "Ok"

    assert send(handler, "8613800120099", "10.0.0.9")["codeStr"] == "PrefixLimitExceeded"

    assert deployment.redis.zcard(keys.ip_log_key("10.0.0.9")) == 0
    assert deployment.redis.zcard(keys.GLOBAL_LOG_KEY) == 2


# -- CAPTCHA_MODE ----------------------------------------------------------------------------------
def test_always_mode_asks_every_get_sms_for_a_ticket(deployment, sms_api):
    handler = deployment.build(**CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url)

    missing = send(handler, number(1), "203.0.113.7")
    rejected = send(handler, number(1), "203.0.113.7", ticket="t03forged", randstr="@abc")
    ticket, randstr = sms_api.issue_captcha_ticket("203.0.113.7")
    passed = send(handler, number(1), "203.0.113.7", ticket=ticket, randstr=randstr)

    assert (missing["codeStr"], missing["_status"]) == ("CaptchaRequired", 400)
    assert (rejected["codeStr"], rejected["_status"]) == ("CaptchaFailed", 400) and "captchaCode" in rejected
    assert passed["codeStr"] == "Ok"


def test_adaptive_mode_steps_up_when_the_global_quota_is_spent(deployment, sms_api, caplog):
    handler = deployment.build(**CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, CAPTCHA_MODE="adaptive",
                               GLOBAL_SEND_LIMIT="3")

    def with_ticket(i: int) -> dict:
        ip = f"10.1.0.{i}"
        ticket, randstr = sms_api.issue_captcha_ticket(ip)
        return send(handler, number(i), ip, ticket=ticket, randstr=randstr)

    plain = [send(handler, number(i), f"10.1.0.{i}") for i in range(3)]
    with caplog.at_level(logging.ERROR, logger="smsverify"):
        stepped_up = send(handler, number(3), "10.1.0.3")
        ticketed = [with_ticket(i) for i in range(4, 11)]  # hard cap: 3 x 3 = 9 sends
        stepped_up_again = send(handler, number(20), "10.1.0.20")

    assert [b["codeStr"] for b in plain] == ["Ok"] * 3
    assert (stepped_up["codeStr"], stepped_up["_status"]) == ("CaptchaRequired", 400)
    assert [b["codeStr"] for b in ticketed] == ["Ok"] * 6 + ["ServiceBusy"]
    assert ticketed[-1]["_status"] == 503 and ticketed[-1]["retryAfter"] > 0
    assert stepped_up_again["codeStr"] == "ServiceBusy"  # past the hard cap a ticket would not help
    assert sent(sms_api) == 9
    assert len([r for r in caplog.records if "global send limit" in r.getMessage()]) == 1


def test_adaptive_mode_asks_requests_without_a_client_ip_for_a_ticket(deployment, sms_api):
    handler = deployment.build(**CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, CAPTCHA_MODE="adaptive")

    assert send(handler, number(1), None)["codeStr"] == "CaptchaRequired"
    assert send(handler, number(1), "203.0.113.7")["codeStr"] == "Ok"


def test_without_captcha_a_spent_global_quota_is_service_busy(deployment, sms_api):
    handler = deployment.build(GLOBAL_SEND_LIMIT="2")
    assert [send(handler, number(i), f"10.2.0.{i}")["codeStr"] for i in range(3)] == ["Ok", "Ok", "ServiceBusy"]


# -- targeted lockout ------------------------------------------------------------------------------
def daily_verifies(deployment, clock_now: float) -> int:
    from smsverify.clock import moment_at

    day = moment_at(clock_now).day
    return int(deployment.redis.get(keys.phone_keys(VICTIM, day).daily_verifies) or 0)


def test_1000_wrong_logins_from_one_address_reach_the_victim_at_most_max_verify_attempts_times(deployment, sms_api, clock):
    """Guesses are bounded per code: once the code is dead, further logins check nothing and count nothing."""
    assert DEFAULTS.max_verify_attempts < DEFAULTS.ip_verify_limit
    handler = deployment.build()
    assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"
    live = last_code(sms_api, VICTIM)

    attack = [check(handler, VICTIM[1:], wrong(live, 1 + i % 9), ATTACKER_IP)["codeStr"] for i in range(1000)]

    attempts = DEFAULTS.max_verify_attempts
    assert attack == ["CodeIsError"] * attempts + ["CodeHasValid"] * (1000 - attempts)
    assert daily_verifies(deployment, clock.now) == attempts
    client = deployment.redis
    assert client.zcard(keys.ip_verify_key(ATTACKER_IP)) == attempts
    clock.advance(DEFAULTS.send_interval_seconds)
    assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"
    assert check(handler, VICTIM[1:], last_code(sms_api, VICTIM), VICTIM_IP)["codeStr"] == "Success"


def test_a_login_refused_by_the_client_quota_never_touches_the_phone(deployment, sms_api, clock):
    handler = deployment.build(IP_VERIFY_LIMIT="2")
    assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"
    live = last_code(sms_api, VICTIM)
    assert [check(handler, VICTIM[1:], wrong(live), ATTACKER_IP)["codeStr"] for _ in range(3)] == [
        "CodeIsError", "CodeIsError", "IpLimitExceeded"]

    assert daily_verifies(deployment, clock.now) == 2
    assert check(handler, VICTIM[1:], live, VICTIM_IP)["codeStr"] == "Success"  # one try was left


def test_logins_for_a_phone_without_a_live_code_count_nothing(deployment, sms_api, clock):
    handler = deployment.build()
    bodies = [check(handler, VICTIM[1:], "123456", ATTACKER_IP)["codeStr"] for _ in range(50)]
    assert bodies == ["CodeHasExpired"] * 50
    client = deployment.redis
    assert client.zcard(keys.ip_verify_key(ATTACKER_IP)) == 0
    assert client.zcard(keys.GLOBAL_VERIFY_KEY) == 0
    assert daily_verifies(deployment, clock.now) == 0


def test_after_verify_captcha_after_wrong_codes_login_needs_a_ticket(deployment, sms_api, clock):
    handler = deployment.build(**CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, CAPTCHA_MODE="adaptive")
    wrongs = 0
    while wrongs < DEFAULTS.verify_captcha_after:
        assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"
        live = last_code(sms_api, VICTIM)
        for _ in range(min(DEFAULTS.max_verify_attempts, DEFAULTS.verify_captcha_after - wrongs)):
            assert check(handler, VICTIM[1:], wrong(live), f"10.3.0.{wrongs}")["codeStr"] == "CodeIsError"
            wrongs += 1
        clock.advance(DEFAULTS.send_interval_seconds)
    assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"  # getSms is not blocked
    live = last_code(sms_api, VICTIM)

    without = check(handler, VICTIM[1:], live, VICTIM_IP)
    ticket, randstr = sms_api.issue_captcha_ticket(VICTIM_IP)
    with_ticket = check(handler, VICTIM[1:], live, VICTIM_IP, ticket=ticket, randstr=randstr)

    assert (without["codeStr"], without["_status"]) == ("CaptchaRequired", 400)
    assert daily_verifies(deployment, clock.now) == DEFAULTS.verify_captcha_after  # the refusal counted nothing
    assert with_ticket["codeStr"] == "Success"


def _spend_global_verify_quota(handler, sms_api) -> None:
    """Three wrong guesses at a legacy code, from three clients (GLOBAL_VERIFY_LIMIT=3)."""
    assert send(handler, number(900), "10.4.1.1")["codeStr"] == "Ok"
    live = last_code(sms_api, "+" + number(900))
    assert [check(handler, number(900), wrong(live), f"10.4.0.{i}")["codeStr"] for i in range(3)] == ["CodeIsError"] * 3


def test_the_global_wrong_code_quota_refuses_legacy_logins_only_without_captcha(deployment, sms_api, caplog):
    handler = deployment.build(GLOBAL_VERIFY_LIMIT="3")
    assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"
    legacy = last_code(sms_api, VICTIM)
    assert send(handler, number(901), VICTIM_IP, verificationId=VID)["codeStr"] == "Ok"
    bound = last_code(sms_api, "+" + number(901))
    with caplog.at_level(logging.WARNING, logger="smsverify"):
        _spend_global_verify_quota(handler, sms_api)
        refused = [check(handler, VICTIM[1:], legacy, f"10.5.0.{i}") for i in range(2)]

    assert [b["codeStr"] for b in refused] == ["ServiceBusy"] * 2
    assert refused[-1]["_status"] == 503 and refused[-1]["retryAfter"] > 0
    assert len([r for r in caplog.records if "global failed-login quota" in r.getMessage()]) == 1
    assert check(handler, number(901), bound, "10.5.1.1", verificationId=VID)["codeStr"] == "Success"


def test_with_captcha_the_global_wrong_code_quota_steps_legacy_logins_up(deployment, sms_api):
    handler = deployment.build(**CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, CAPTCHA_MODE="adaptive",
                               GLOBAL_VERIFY_LIMIT="3")
    assert send(handler, VICTIM[1:], VICTIM_IP)["codeStr"] == "Ok"
    legacy = last_code(sms_api, VICTIM)
    _spend_global_verify_quota(handler, sms_api)

    assert check(handler, VICTIM[1:], legacy, VICTIM_IP)["codeStr"] == "CaptchaRequired"
    ticket, randstr = sms_api.issue_captcha_ticket(VICTIM_IP)
    assert check(handler, VICTIM[1:], legacy, VICTIM_IP, ticket=ticket, randstr=randstr)["codeStr"] == "Success"


# -- codes and secrets inside SCF ----------------------------------------------------------------
@pytest.mark.parametrize(("variable", "value"), [
    ("CODE_LENGTH", "4"),
    ("CODE_LENGTH", "5"),
    ("CODE_SECRET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),  # pragma: allowlist secret
    ("CODE_SECRET", "0123456789abcdef0123456789abcdef"),  # pragma: allowlist secret
    ("CODE_SECRET", "short-but-random-Xq7p"),  # pragma: allowlist secret
    ("CODE_SECRET_PREVIOUS", "abababababababababababababababababab"),  # pragma: allowlist secret
])
def test_a_short_code_or_a_weak_secret_fails_start_up_inside_scf(variable, value, make_env, redis_url):
    with pytest.raises(ConfigError) as refused:
        create_handler(make_env(redis_url, TENCENTCLOUD_RUNENV="SCF", **{variable: value}))
    assert refused.value.variable == variable
    if variable.startswith("CODE_SECRET"):
        assert "python -m smsverify keys generate" in str(refused.value)


def test_one_warning_at_start_up_when_clients_without_an_ip_meet_no_captcha(make_env, redis_url, caplog, sms_api):
    logger = logging.getLogger("smsverify")  # configure_logging stops propagation to the root: listen here
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="smsverify"):
            create_handler(make_env(redis_url))
            warned = [r for r in caplog.records if r.levelno == logging.WARNING]
            caplog.clear()
            create_handler(make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url))
            quiet = [r for r in caplog.records if r.levelno == logging.WARNING]
    finally:
        logger.removeHandler(caplog.handler)
    assert len(warned) == 1 and "captcha" in warned[0].getMessage()
    assert quiet == []
