"""Per-phone, per-client and global limits, end to end through ``main_handler`` with a real
redis-server and the Tencent Cloud emulator (the real SDK sends the SMS).

Proven here, each with exact codeStr, status and retryAfter values, time moved
only by the FakeClock:

* per client IP (``requestContext.sourceIp`` only, never X-Forwarded-For): a
  sliding window of ``IP_SEND_LIMIT`` getSms per ``IP_SEND_WINDOW_SECONDS``;
  Function URL events (no gateway IP) are not IP-limited but are still under
  the global limit;
* per phone: ``HOURLY_SEND_LIMIT`` per rolling hour;
* whole service: ``GLOBAL_SEND_LIMIT`` per ``GLOBAL_SEND_WINDOW_SECONDS`` gives
  ``ServiceBusy`` (503), login keeps working, one ERROR log line per window;
* the ``ALLOWED_COUNTRY_CODES`` allow-list refuses before anything is stored
  or sent;
* a refused getSms consumes no quota of any other limit (checked through the
  responses and in the Redis sorted sets / counters themselves);
* ``DAILY_VERIFY_LIMIT`` locks login (not getSms) until midnight Asia/Shanghai,
  and right codes do not count towards it;
* ``CODE_SECRET`` rotation with ``CODE_SECRET_PREVIOUS``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from smsverify.store import keys
from tests.support import GLOBAL_TEMPLATE_ID, TEMPLATE_ID, answer, get_sms, last_code, load_event, login, send_record, wrong

SHANGHAI = timezone(timedelta(hours=8))
IP_A = "203.0.113.7"
IP_B = "198.51.100.23"


def phone(n: int) -> str:
    """The n-th test number, in the demo's spelling (country code, no plus)."""
    return f"86138001380{n:02d}"


def e164(n: int) -> str:
    return f"+86138001380{n:02d}"


def day_of(clock) -> str:
    return datetime.fromtimestamp(clock(), SHANGHAI).strftime("%Y%m%d")


def seconds_to_shanghai_midnight(clock) -> int:
    local = datetime.fromtimestamp(clock(), SHANGHAI)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - local).total_seconds())


def assert_answer(body: dict[str, Any], code_str: str, status: int, retry_after: int | None = None) -> None:
    assert (body["codeStr"], body["_status"]) == (code_str, status), body
    if retry_after is not None:
        assert body["retryAfter"] == retry_after, body


def assert_ok(body: dict[str, Any]) -> None:
    assert (body["codeStr"], body["_status"]) == ("Ok", 200), body



@pytest.fixture
def redis_client(redis_server, redis_url):
    return redis_server.client()


class ErrorRecords(logging.Handler):
    """Collects ERROR records of the ``smsverify`` logger (which does not propagate)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def mentioning(self, text: str) -> list[str]:
        return [r.getMessage() for r in self.records if text in r.getMessage()]


@pytest.fixture
def error_log():
    # configure_logging() sets propagate=False on "smsverify", so caplog (root)
    # would see nothing: attach a handler to that logger directly.
    handler = ErrorRecords()
    logger = logging.getLogger("smsverify")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


# -- per client IP ---------------------------------------------------------------


def test_ip_limit_is_a_sliding_window_on_the_gateway_source_ip(build, sms_api, clock):
    handler = build(IP_SEND_LIMIT="3", IP_SEND_WINDOW_SECONDS="600")
    for n in (1, 2, 3):
        assert_ok(answer(handler(get_sms(phone(n), ip=IP_A), {})))
        clock.advance(10)
    # 30 s after the first send: the window frees up in 600 - 30 s.
    assert_answer(answer(handler(get_sms(phone(4), ip=IP_A), {})), "IpLimitExceeded", 429, 570)
    assert sms_api.sent_to(e164(4)) == []

    assert_ok(answer(handler(get_sms(phone(5), ip=IP_B), {})))

    spoofed = get_sms(phone(6), ip=IP_A)
    spoofed["headers"].update({"x-forwarded-for": "192.0.2.200", "x-real-ip": "192.0.2.200"})
    assert_answer(answer(handler(spoofed, {})), "IpLimitExceeded", 429, 570)
    assert sms_api.sent_to(e164(6)) == []

    # The first send (t=0) leaves the window at t=600; the second (t=10) at t=610.
    clock.advance(600 - 30 + 1)  # t = 601
    assert_ok(answer(handler(get_sms(phone(7), ip=IP_A), {})))
    assert_answer(answer(handler(get_sms(phone(8), ip=IP_A), {})), "IpLimitExceeded", 429, 9)


def function_url_get_sms(n: int) -> dict[str, Any]:
    event = load_event("get_sms_function_url.json")
    assert "requestContext" not in event
    event["body"] = json.dumps({"method": "getSms", "phone": phone(n)})
    return event


def test_function_url_events_share_one_client_and_stay_under_the_global_limit(build, sms_api, redis_client):
    """A Function URL event has no ``requestContext``, so the client IP is
    unknown (a header such as X-Forwarded-For would be client-supplied and is
    never trusted): every such request counts as one shared client (its own
    UNKNOWN_IP_SEND_LIMIT, not IP_SEND_LIMIT). The global limit still applies."""
    handler = build(IP_SEND_LIMIT="1", GLOBAL_SEND_LIMIT="3", GLOBAL_SEND_WINDOW_SECONDS="600")
    for n in (1, 2, 3):
        assert_ok(answer(handler(function_url_get_sms(n), {})))
    assert_answer(answer(handler(function_url_get_sms(4), {})), "ServiceBusy", 503, 600)
    assert [len(sms_api.sent_to(e164(n))) for n in (1, 2, 3, 4)] == [1, 1, 1, 0]
    assert list(redis_client.scan_iter("*{ip:*")) == [b"smsverify:{ip:unknown}:sends"]


# -- per phone, rolling hour -------------------------------------------------------


def test_hourly_limit_per_phone_rolls(build, sms_api, clock):
    handler = build(SEND_INTERVAL_SECONDS="60", HOURLY_SEND_LIMIT="2")
    start = clock()
    for at in (0, 60):
        clock.now = start + at
        assert_ok(answer(handler(get_sms(phone(1)), {})))
    clock.now = start + 120
    assert_answer(answer(handler(get_sms(phone(1)), {})), "HourlyLimitExceeded", 429, 3600 - 120)
    clock.now = start + 3601
    assert_ok(answer(handler(get_sms(phone(1)), {})))
    assert len(sms_api.sent_to(e164(1))) == 3


# -- whole service -------------------------------------------------------------------


GLOBAL_ENV = dict(GLOBAL_SEND_LIMIT="3", GLOBAL_SEND_WINDOW_SECONDS="600")


def fill_global_window(handler, clock, first: int) -> None:
    """Three sends (the global limit) from new phones and IPs, 10 s apart."""
    for n in range(first, first + 3):
        assert_ok(answer(handler(get_sms(phone(n), ip=f"192.0.2.{n}"), {})))
        clock.advance(10)


def test_global_limit_trips_service_busy_login_keeps_working_one_error_per_window(build, sms_api, clock, error_log):
    handler = build(**GLOBAL_ENV)
    fill_global_window(handler, clock, first=1)  # t = 0, 10, 20; now t = 30
    for n, retry_after in ((10, 570), (11, 565), (12, 560)):  # the first send leaves the window at t=600
        assert_answer(answer(handler(get_sms(phone(n), ip=f"192.0.2.{n}"), {})), "ServiceBusy", 503, retry_after)
        clock.advance(5)
    assert [len(sms_api.sent_to(e164(n))) for n in (10, 11, 12)] == [0, 0, 0]

    success = answer(handler(login(phone(1), last_code(sms_api, e164(1))), {}))
    assert (success["codeStr"], success["_status"]) == ("Success", 200)
    assert len(error_log.mentioning("global send limit")) == 1
    assert all(r.levelno == logging.ERROR for r in error_log.records)


def test_global_limit_logs_again_once_the_window_has_moved(build, sms_api, clock, error_log):
    handler = build(**GLOBAL_ENV)
    fill_global_window(handler, clock, first=1)
    for n in (10, 11):
        assert_answer(answer(handler(get_sms(phone(n), ip=f"192.0.2.{n}"), {})), "ServiceBusy", 503)
    assert len(error_log.mentioning("global send limit")) == 1

    clock.advance(601)  # every send of the first window has left it
    fill_global_window(handler, clock, first=20)
    for n in (30, 31):
        assert_answer(answer(handler(get_sms(phone(n), ip=f"192.0.2.{n}"), {})), "ServiceBusy", 503)
    assert len(error_log.mentioning("global send limit")) == 2


# -- destination allow-list ---------------------------------------------------------------


US_MOBILE = "+14155552671"


def test_number_of_another_country_is_refused_before_anything_is_stored_or_sent(build, sms_api, redis_client):
    refused = answer(build()(get_sms(US_MOBILE), {}))
    assert_answer(refused, "InValidParam", 400)
    assert "+86" in refused["msg"]
    assert redis_client.dbsize() == 0
    assert sms_api.requests == [] and sms_api.sent == []


def test_allowed_country_codes_can_admit_another_country(build, sms_api):
    handler = build(ALLOWED_COUNTRY_CODES="86,1", SMS_TEMPLATES=f"86:{TEMPLATE_ID},*:{GLOBAL_TEMPLATE_ID}")
    assert_ok(answer(handler(get_sms(US_MOBILE), {})))
    assert len(sms_api.sent_to(US_MOBILE)) == 1


# -- a refusal consumes no quota of the other limits ---------------------------------------------


def test_cooldown_refusal_does_not_count_against_the_ip(build, sms_api, clock, redis_client):
    handler = build(IP_SEND_LIMIT="2")
    assert_ok(answer(handler(get_sms(phone(1), ip=IP_A), {})))
    assert_answer(answer(handler(get_sms(phone(1), ip=IP_A), {})), "TooFrequent", 429, 60)
    assert_ok(answer(handler(get_sms(phone(2), ip=IP_A), {})))  # refused above if the cooldown refusal counted
    assert_answer(answer(handler(get_sms(phone(3), ip=IP_A), {})), "IpLimitExceeded", 429)

    record = send_record(redis_client, e164(1), day_of(clock))
    assert redis_client.zcard(keys.ip_log_key(IP_A)) == 2
    assert redis_client.zcard(keys.GLOBAL_LOG_KEY) == 2
    assert (len(record.hourly), record.daily) == (1, 1)
    assert redis_client.exists(keys.phone_keys(e164(3), day_of(clock)).code) == 0


def test_daily_limit_refusal_does_not_count_against_the_global_limit(build, clock, redis_client):
    handler = build(DAILY_SEND_LIMIT="1", SEND_INTERVAL_SECONDS="0", GLOBAL_SEND_LIMIT="2")
    assert_ok(answer(handler(get_sms(phone(1), ip=IP_A), {})))
    refused = answer(handler(get_sms(phone(1), ip=IP_B), {}))
    assert_answer(refused, "DailyLimitExceeded", 429, seconds_to_shanghai_midnight(clock))
    assert_ok(answer(handler(get_sms(phone(2), ip=IP_B), {})))  # ServiceBusy here if the refusal counted
    assert_answer(answer(handler(get_sms(phone(3), ip=IP_B), {})), "ServiceBusy", 503)

    assert redis_client.zcard(keys.GLOBAL_LOG_KEY) == 2
    assert redis_client.zcard(keys.ip_log_key(IP_A)) == 1
    assert redis_client.zcard(keys.ip_log_key(IP_B)) == 1
    assert send_record(redis_client, e164(1), day_of(clock)).daily == 1


def test_ip_refusal_does_not_count_against_the_phone(build, clock, redis_client):
    handler = build(IP_SEND_LIMIT="1", HOURLY_SEND_LIMIT="1", SEND_INTERVAL_SECONDS="0")
    assert_ok(answer(handler(get_sms(phone(1), ip=IP_A), {})))
    assert_answer(answer(handler(get_sms(phone(2), ip=IP_A), {})), "IpLimitExceeded", 429)
    # Phone 2 from another network: HourlyLimitExceeded if the IP refusal had counted.
    assert_ok(answer(handler(get_sms(phone(2), ip=IP_B), {})))

    record = send_record(redis_client, e164(2), day_of(clock))
    assert (len(record.hourly), record.daily) == (1, 1)
    assert redis_client.zcard(keys.GLOBAL_LOG_KEY) == 2


def test_global_refusal_does_not_count_against_the_ip_or_phone(build, clock, redis_client):
    handler = build(GLOBAL_SEND_LIMIT="1", GLOBAL_SEND_WINDOW_SECONDS="60", IP_SEND_LIMIT="1", HOURLY_SEND_LIMIT="1")
    assert_ok(answer(handler(get_sms(phone(1), ip=IP_A), {})))
    assert_answer(answer(handler(get_sms(phone(2), ip=IP_B), {})), "ServiceBusy", 503, 60)
    assert redis_client.zcard(keys.ip_log_key(IP_B)) == 0
    assert send_record(redis_client, e164(2), day_of(clock)).hourly == []

    clock.advance(60)  # the global window is free again; the IP and hourly windows are not
    assert_ok(answer(handler(get_sms(phone(2), ip=IP_B), {})))  # 429 here if the refusal had counted


# -- login attempts per phone per day -------------------------------------------------------------


VERIFY_ENV = dict(DAILY_VERIFY_LIMIT="4", MAX_VERIFY_ATTEMPTS="3", SEND_INTERVAL_SECONDS="0")



def try_login(handler, n: int, code: str) -> dict[str, Any]:
    return answer(handler(login(phone(n), code), {}))


def test_daily_verify_limit_locks_login_not_get_sms_until_midnight(build, sms_api, clock, redis_client):
    handler = build(**VERIFY_ENV)
    assert_ok(answer(handler(get_sms(phone(1)), {})))
    first = last_code(sms_api, e164(1))
    tries = [try_login(handler, 1, wrong(first)) for _ in range(3)]
    assert [(t["codeStr"], t["attemptsLeft"]) for t in tries] == [("CodeIsError", 2), ("CodeIsError", 1), ("CodeIsError", 0)]
    assert_answer(try_login(handler, 1, first), "CodeHasValid", 401)

    assert_ok(answer(handler(get_sms(phone(1)), {})))
    second = last_code(sms_api, e164(1))
    fourth = try_login(handler, 1, wrong(second))  # the 4th wrong try today
    assert (fourth["codeStr"], fourth["attemptsLeft"]) == ("CodeIsError", 2)
    assert redis_client.get(keys.phone_keys(e164(1), day_of(clock)).daily_verifies) == b"4"

    midnight = seconds_to_shanghai_midnight(clock)
    assert_answer(try_login(handler, 1, second), "VerifyLimitExceeded", 429, midnight)
    assert_ok(answer(handler(get_sms(phone(1)), {})))  # the lockout never blocks getSms
    assert_answer(try_login(handler, 1, last_code(sms_api, e164(1))), "VerifyLimitExceeded", 429, midnight)

    clock.advance(midnight)  # 00:00:00 the next day in Asia/Shanghai
    assert_ok(answer(handler(get_sms(phone(1)), {})))
    assert_answer(try_login(handler, 1, last_code(sms_api, e164(1))), "Success", 200)


def test_right_codes_do_not_count_towards_the_daily_verify_limit(build, sms_api, clock, redis_client):
    handler = build(DAILY_VERIFY_LIMIT="2", SEND_INTERVAL_SECONDS="0", HOURLY_SEND_LIMIT="10")
    for _ in range(3):
        assert_ok(answer(handler(get_sms(phone(1)), {})))
        assert_answer(try_login(handler, 1, last_code(sms_api, e164(1))), "Success", 200)
    verifies = keys.phone_keys(e164(1), day_of(clock)).daily_verifies
    assert redis_client.get(verifies) is None

    assert_ok(answer(handler(get_sms(phone(1)), {})))
    code = last_code(sms_api, e164(1))
    assert [try_login(handler, 1, wrong(code))["codeStr"] for _ in range(2)] == ["CodeIsError"] * 2
    assert redis_client.get(verifies) == b"2"
    assert_answer(try_login(handler, 1, code), "VerifyLimitExceeded", 429)


# -- CODE_SECRET rotation -----------------------------------------------------------------------


SECRET_A = "rotation-secret-A-7Hq2Vd9Kx4LmPw3Z"  # pragma: allowlist secret
SECRET_B = "rotation-secret-B-7Hq2Vd9Kx4LmPw3Z"  # pragma: allowlist secret


def test_code_issued_before_rotation_is_accepted_only_with_code_secret_previous(build, sms_api):
    assert_ok(answer(build(CODE_SECRET=SECRET_A)(get_sms(phone(1)), {})))
    code = last_code(sms_api, e164(1))

    rotated_without_previous = build(CODE_SECRET=SECRET_B)
    assert_answer(try_login(rotated_without_previous, 1, code), "CodeIsError", 401)

    rotated = build(CODE_SECRET=SECRET_B, CODE_SECRET_PREVIOUS=SECRET_A)
    assert_answer(try_login(rotated, 1, code), "Success", 200)
    assert_answer(try_login(rotated, 1, code), "CodeHasExpired", 401)  # consumed
