"""Ronglian, Huyi and Zhenzi end to end through ``main_handler``, and failover.

Real redis-server, and each provider's emulator (tests/support/emulators/), which
verifies what the real service verifies: Ronglian's MD5 ``sig`` and base64
``Authorization`` sharing one timestamp, Huyi's dynamic password, Zhenzi's
app id and secret, required fields, template rules, per-number daily limits.
Proven here:

* each provider sends a code that then logs in once, with the request the
  provider documents (national number, template values, Huyi's filled-in
  approved text and no plain API key on the wire, Zhenzi's ``messageId`` set
  to the request id); the response names the provider;
* one code of each outcome class (number rejected, the number's short-term
  or daily limit, provider-level), from a provider module's tables or its
  emulator's, each class on one provider, gives the class's codeStr, status,
  ``providerCode`` (``<provider>:<code>``) and reservation outcome
  (``OUTCOMES`` of tests/integration/test_provider_faults.py, which code is in
  which class being proven in tests/unit/test_sender_tables.py);
* a slow, an unreachable and a failing (HTTP 503) provider, one provider each
  (the transport is shared, :mod:`smsverify.senders.http`; each provider's
  own timeout and refused connection at the sender: test_sender_contract.py);
* Ronglian's free test template with a 6-digit code is a start-up error;
* failover: the first provider down, out of balance, slow or failing its
  signature check -> the second sends, the response and the log say which;
  the number's rate limit -> no other provider is tried (a rejected number:
  tests/integration/test_destinations.py); all failing -> released, unless one timed out
  (then the code is kept and logs in); a failed provider is skipped by every
  instance for PROVIDER_BACKOFF_SECONDS (or its older name PROVIDER_COOLDOWN_SECONDS)
  and tried again after it; the
  budget stops failover; providers that cannot reach a non-+86 number are
  left out;
* Redis cost: a getSms with a failover list is one Redis command when all
  providers are healthy, plus one SET when a provider fails.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from tests.support import (
    RONGLIAN_TEMPLATE_ID,
    answer,
    get_sms,
    huyi_env,
    login,
    ronglian_env,
    zhenzi_env,
)
from smsverify.senders import provider_module
from tests.integration.test_provider_faults import BACKED_OFF, KEPT, OUTCOMES, outcome_class
from tests.support import HUYI_ERRORS
from tests.support import RONGLIAN_ERRORS
from tests.support import ZHENZI_ERRORS
from tests.support import RoundTripCounter

PHONE_RAW, PHONE, NATIONAL = "8613800138000", "+8613800138000", "13800138000"
OTHER_RAW, OTHER = "8613900139000", "+8613900139000"
PROVIDERS = ("ronglian", "huyi", "zhenzi")
ERROR_TABLES = {"ronglian": RONGLIAN_ERRORS, "huyi": HUYI_ERRORS, "zhenzi": ZHENZI_ERRORS}


def class_samples(provider: str) -> list[tuple[str, str]]:
    """(outcome class, code): one code of each class of the provider module's tables,
    and the first emulator code no table names (provider-level)."""
    module = provider_module(provider)
    named = {*module.NUMBER_REJECTIONS, *module.NUMBER_LIMITS}
    classes: dict[str, str] = {}
    for code in sorted(named) + sorted(str(c) for c in ERROR_TABLES[provider] if str(c) not in named):
        classes.setdefault(outcome_class(module.classify(code, "")), code)
    return sorted(classes.items())


@pytest.fixture
def apis(sms_api, ronglian_api, huyi_api, zhenzi_api) -> dict[str, Any]:
    return {"tencent": sms_api, "ronglian": ronglian_api, "huyi": huyi_api, "zhenzi": zhenzi_api}


@pytest.fixture
def handler_for(apis, redis_url, make_env, clock):
    """``handler_for("tencent,ronglian", **env)``: a container configured for those providers."""

    def build(providers: str, **overrides: str):
        settings = {
            "SMS_PROVIDER": providers,
            **ronglian_env(apis["ronglian"]), **huyi_env(apis["huyi"]), **zhenzi_env(apis["zhenzi"]),
            **overrides,
        }
        env = make_env(redis_url, **settings)
        return create_handler(env, clock=clock)

    return build


@pytest.fixture
def invocations():
    """The fields of every invocation log line written during the test."""
    lines: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "invocation":
                lines.append(dict(record.fields))

    handler = Collect()
    logger = logging.getLogger("smsverify")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def received(api, provider: str) -> list[str]:
    """The codes a provider's emulator accepted, in order."""
    if provider == "tencent":
        return [m["params"][0] for m in api.sent]
    if provider == "huyi":
        return [m["variables"][0] for m in api.sent]
    return [m["params"][0] for m in api.sent]


def attempts(api, provider: str) -> int:
    """Send requests that reached the provider (accepted or not)."""
    if provider == "tencent":
        return len([r for r in api.requests if r["action"] == "SendSms"])
    return len(api.requests)


def send(handler, phone: str = PHONE_RAW) -> dict:
    return answer(handler(get_sms(phone), {}))


def check(handler, code: str, phone: str = PHONE_RAW) -> dict:
    return answer(handler(login(phone, code), {}))


def wait_until(condition, seconds: float = 10.0) -> None:
    """Poll for a late emulator record; the bound only stops a hung test."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def round_trips(redis_server, action) -> list[str]:
    """The Redis commands ``action`` sent (script-internal commands left out; see test_round_trips)."""
    counter = RoundTripCounter(redis_server.url)
    try:
        traffic = counter.during(action)
    finally:
        counter.close()
    assert traffic.refused == 0
    return traffic.commands


# -- each provider end to end -----------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_code_sent_by_the_provider_logs_in_once(provider, handler_for, apis):
    handler = handler_for(provider)

    sent = send(handler)

    assert (sent["codeStr"], sent["_status"], sent["provider"]) == ("Ok", 200, provider)
    [code] = received(apis[provider], provider)
    assert len(code) == 6 and code.isdigit()
    assert check(handler, code)["codeStr"] == "Success"
    assert check(handler, code)["codeStr"] == "CodeHasExpired"  # consumed


def test_ronglian_request(handler_for, ronglian_api):
    send(handler_for("ronglian"))

    [message] = ronglian_api.sent
    assert message["phone"] == NATIONAL
    assert message["template_id"] == RONGLIAN_TEMPLATE_ID
    assert message["params"][1] == "5"  # CODE_TTL_SECONDS 300 -> 5 minutes


def test_huyi_request_fills_the_approved_text_and_never_sends_the_key(handler_for, huyi_api):
    send(handler_for("huyi"))

    [message] = huyi_api.sent
    code = message["variables"][0]
    assert message["phone"] == NATIONAL
    assert message["content"] == f"您的验证码是：{code}。请不要把验证码泄露给其他人。"
    assert huyi_api.plain_key_requests == 0


def test_zhenzi_message_id_is_the_request_id(handler_for, zhenzi_api):
    sent = send(handler_for("zhenzi"))

    [message] = zhenzi_api.sent
    assert message["phone"] == NATIONAL and message["params"][1] == "5"
    assert message["message_id"] == sent["requestId"]
    assert zhenzi_api.messages[sent["requestId"]]["phone"] == NATIONAL


def test_ronglian_free_test_template_needs_four_digit_codes(handler_for, ronglian_api):
    with pytest.raises(ConfigError) as refused:
        handler_for("ronglian", RONGLIAN_TEMPLATE_ID="1")
    assert refused.value.variable == "CODE_LENGTH"

    handler = handler_for("ronglian", RONGLIAN_TEMPLATE_ID="1", CODE_LENGTH="4")
    assert send(handler)["codeStr"] == "Ok"
    [code] = received(ronglian_api, "ronglian")
    assert len(code) == 4 and check(handler, code)["codeStr"] == "Success"


# -- one code of each outcome class, per provider -----------------------------------------------
#: The HTTP providers share the path after their answer is parsed: each outcome class once, on one of them
#: (each provider's own parsing of a rejection, a daily limit and a refusal: test_sender_contract.py).
CLASS_PROVIDER = {"number rejected": "huyi", "number short-term limit": "ronglian", "number daily limit": "zhenzi",
                  "provider refused": "huyi"}
ERROR_ROWS = [
    pytest.param(provider, code, *OUTCOMES[kind], id=f"{provider}:{kind}:{code}")
    for kind, provider in CLASS_PROVIDER.items()
    for code in [dict(class_samples(provider))[kind]]
]


@pytest.mark.parametrize("provider, code, code_str, status, reservation", ERROR_ROWS)
def test_error_code(provider, code, code_str, status, reservation, handler_for, apis, clock):
    handler = handler_for(provider)
    apis[provider].force_code = code if provider == "ronglian" else int(code)

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == (code_str, status, f"{provider}:{code}")
    apis[provider].force_code = None
    again = send(handler)
    if reservation == KEPT:
        assert again["codeStr"] == "TooFrequent" and "providerCode" not in again  # our own cooldown stands
    elif reservation == BACKED_OFF:  # the number is not asked about again for the resend interval
        assert (again["codeStr"], again["retryAfter"]) == ("TooFrequent", 60) and "providerCode" not in again
        clock.advance(60)
        assert send(handler)["codeStr"] == "Ok"  # and the refusal spent none of the phone's quota
    else:
        assert again["codeStr"] == "Ok"  # the refusal cost the phone nothing


# -- transport faults, one provider each -------------------------------------------------------
def test_a_slow_provider_keeps_the_code(handler_for, apis):
    handler = handler_for("huyi", SMS_TIMEOUT_SECONDS="0.5")
    apis["huyi"].delay_seconds = 1.0

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == ("SmsSendTimeout", 504, "huyi:Timeout")
    wait_until(lambda: received(apis["huyi"], "huyi"))
    [code] = received(apis["huyi"], "huyi")  # it did go out, after the function gave up
    assert check(handler, code)["codeStr"] == "Success"


def test_an_unreachable_provider_releases(handler_for, apis):
    handler = handler_for("ronglian")
    apis["ronglian"].down()

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == (
        "SmsSendFailed", 502, "ronglian:ConnectionRefused")
    apis["ronglian"].up()
    assert send(handler)["codeStr"] == "Ok"


def test_an_http_error_releases(handler_for, apis):
    handler = handler_for("zhenzi")
    apis["zhenzi"].http_status = 503

    refused = send(handler)

    assert (refused["codeStr"], refused["providerCode"]) == ("SmsSendFailed", "zhenzi:HTTP503")
    apis["zhenzi"].http_status = 200
    assert send(handler)["codeStr"] == "Ok"


# -- failover ---------------------------------------------------------------------------------
FIRST_PROVIDER_FAILURES = {
    "down": lambda api: setattr(api, "sms_http_status", 503),
    "out of balance": lambda api: setattr(
        api, "sms_request_error", ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance")),
    "signature not approved": lambda api: setattr(api, "sms_number_error", "FailedOperation.SignatureIncorrectOrUnapproved"),
}
FAILURE_CODES = {
    "down": "tencent:ServerNetworkError",
    "out of balance": "tencent:FailedOperation.InsufficientBalanceInSmsPackage",
    "signature not approved": "tencent:FailedOperation.SignatureIncorrectOrUnapproved",
}


@pytest.mark.parametrize("failure", list(FIRST_PROVIDER_FAILURES))
def test_the_second_provider_sends_when_the_first_fails(failure, handler_for, apis, invocations):
    handler = handler_for("tencent,ronglian")
    FIRST_PROVIDER_FAILURES[failure](apis["tencent"])

    sent = send(handler)

    assert (sent["codeStr"], sent["provider"]) == ("Ok", "ronglian")
    assert attempts(apis["tencent"], "tencent") == 1 and apis["tencent"].sent == []
    [code] = received(apis["ronglian"], "ronglian")
    assert invocations[-1]["provider"] == "ronglian"
    assert invocations[-1]["failedProviders"] == [FAILURE_CODES[failure]]
    assert check(handler, code)["codeStr"] == "Success"


def test_a_slow_first_provider_fails_over_with_the_same_code(handler_for, apis):
    handler = handler_for("tencent,zhenzi", SMS_TIMEOUT_SECONDS="0.5")
    apis["tencent"].sms_delay_seconds = 1.0

    sent = send(handler)

    assert (sent["codeStr"], sent["provider"]) == ("Ok", "zhenzi")
    wait_until(lambda: apis["tencent"].sent)
    # Tencent delivered after all: the user gets the same code twice, never two codes.
    assert received(apis["tencent"], "tencent") == received(apis["zhenzi"], "zhenzi")


@pytest.mark.parametrize(
    "number_error, code_str",
    [("LimitExceeded.PhoneNumberThirtySecondLimit", "TooFrequent"),  # a rejected number: test_destinations.py
     ("LimitExceeded.PhoneNumberDailyLimit", "DailyLimitExceeded")],
)
def test_a_number_refusal_is_not_failed_over(number_error, code_str, handler_for, apis):
    handler = handler_for("tencent,ronglian,huyi")
    apis["tencent"].sms_number_error = number_error

    refused = send(handler)

    assert (refused["codeStr"], refused["providerCode"]) == (code_str, f"tencent:{number_error}")
    assert attempts(apis["ronglian"], "ronglian") == attempts(apis["huyi"], "huyi") == 0


def test_all_providers_failing_releases(handler_for, apis, invocations):
    handler = handler_for("ronglian,huyi,zhenzi", CODE_LENGTH="4", RONGLIAN_TEMPLATE_ID="1")
    apis["ronglian"].force_code = "112323"
    apis["huyi"].force_code = 4051
    apis["zhenzi"].force_code = 108

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == ("SmsSendFailed", 502, "zhenzi:108")
    assert invocations[-1]["failedProviders"] == ["ronglian:112323", "huyi:4051", "zhenzi:108"]
    for provider in ("ronglian", "huyi", "zhenzi"):
        apis[provider].force_code = None
    assert send(handler)["codeStr"] == "Ok"  # released: nothing spent


def test_a_timeout_then_a_refusal_keeps_the_code(handler_for, apis):
    handler = handler_for("huyi,zhenzi", SMS_TIMEOUT_SECONDS="0.5")
    apis["huyi"].delay_seconds = 1.0
    apis["zhenzi"].force_code = 108

    refused = send(handler)

    assert (refused["codeStr"], refused["providerCode"], refused["resendAfter"]) == ("SmsSendTimeout", "huyi:Timeout", 60)
    wait_until(lambda: apis["huyi"].sent)
    [code] = received(apis["huyi"], "huyi")
    assert check(handler, code)["codeStr"] == "Success"


def test_a_failed_provider_is_skipped_by_every_instance_until_its_backoff_ends(handler_for, apis, clock):
    first_container = handler_for("tencent,ronglian", PROVIDER_BACKOFF_SECONDS="120")
    second_container = handler_for("tencent,ronglian", PROVIDER_COOLDOWN_SECONDS="120")  # the older name still works
    apis["tencent"].sms_http_status = 503

    assert send(first_container)["provider"] == "ronglian"
    assert attempts(apis["tencent"], "tencent") == 1

    clock.advance(119)
    assert send(second_container, OTHER_RAW)["provider"] == "ronglian"
    assert attempts(apis["tencent"], "tencent") == 1  # skipped: no time lost on a dead provider

    clock.advance(1)
    apis["tencent"].sms_http_status = 200
    sent = send(second_container, "8613700137000")
    assert sent["provider"] == "tencent" and attempts(apis["tencent"], "tencent") == 2


def test_a_provider_marked_down_is_still_the_last_resort(handler_for, apis):
    handler = handler_for("tencent,ronglian")
    apis["tencent"].sms_http_status = 503
    assert send(handler)["provider"] == "ronglian"  # tencent now marked down

    apis["tencent"].sms_http_status = 200
    apis["ronglian"].http_status = 503
    sent = send(handler, OTHER_RAW)

    assert (sent["codeStr"], sent["provider"]) == ("Ok", "tencent")


def test_zero_provider_backoff_marks_nothing(handler_for, apis, redis_server):
    handler = handler_for("tencent,ronglian", PROVIDER_BACKOFF_SECONDS="0")
    send(handler, "8613700137000")  # warm: the send script is loaded
    apis["tencent"].sms_http_status = 503

    commands = round_trips(redis_server, lambda: send(handler))
    send(handler, OTHER_RAW)

    assert commands == ["evalsha", "hincrby", "hincrby"]  # no mark; the sent count moves to the provider that sent
    assert attempts(apis["tencent"], "tencent") == 3  # tried each time


def test_the_budget_stops_failover(handler_for, apis):
    handler = handler_for("tencent,ronglian", SMS_TIMEOUT_SECONDS="1", SMS_SEND_BUDGET_SECONDS="1.2")
    apis["tencent"].sms_delay_seconds = 1.5

    refused = send(handler)

    assert (refused["codeStr"], refused["providerCode"]) == ("SmsSendTimeout", "tencent:Timeout")
    assert attempts(apis["ronglian"], "ronglian") == 0  # 0.2 s left: not worth an attempt
    wait_until(lambda: apis["tencent"].sent)


def test_domestic_providers_are_left_out_for_other_countries(handler_for, apis):
    hong_kong = "85251234567"
    both = handler_for("tencent,ronglian", ALLOWED_COUNTRY_CODES="86,852")
    apis["tencent"].sms_request_error = ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance")

    refused = send(both, hong_kong)

    assert (refused["codeStr"], refused["providerCode"]) == ("SmsSendFailed", "tencent:FailedOperation.InsufficientBalanceInSmsPackage")
    assert attempts(apis["ronglian"], "ronglian") == 0

    domestic_only = handler_for("ronglian", ALLOWED_COUNTRY_CODES="86,852")
    unsupported = send(domestic_only, "85261234567")
    assert (unsupported["codeStr"], unsupported["_status"]) == ("InValidParam", 400)
    assert attempts(apis["ronglian"], "ronglian") == 0
    assert send(domestic_only, "85261234567")["codeStr"] == "InValidParam"  # released: no cooldown left behind


def test_failover_costs_no_redis_round_trip_until_a_provider_fails(handler_for, apis, redis_server):
    handler = handler_for("tencent,ronglian,huyi")
    send(handler, "8613700137000")  # warm: the send script is loaded

    healthy = round_trips(redis_server, lambda: send(handler))
    apis["tencent"].sms_http_status = 503
    failing = round_trips(redis_server, lambda: send(handler, OTHER_RAW))

    assert healthy == ["evalsha"]  # provider health is read inside the send script
    # + marking tencent down, + moving the hour's sent count from tencent to the provider that sent it
    assert failing == ["evalsha", "set", "hincrby", "hincrby"]
