"""One getSms through main_handler per outcome class of a provider's answer.

Real redis-server, the Tencent Cloud API emulator (and Ronglian's as the second
provider), the function's own FakeClock. Which code falls in which class is
proven once per provider in tests/unit/test_sender_tables.py; here, what each
class does to the client's answer and to the reservation:

* kept: the provider's own per-number limit: ``TooFrequent``, the cooldown stays;
* released: a provider-level refusal: ``SmsSendFailed``, a new getSms passes at once;
* maybe-sent: no answer in time: ``SmsSendTimeout``, the code kept and still valid;
* number-level: a bad number: ``InValidParam``, released with the phone backed off for
  the resend interval (the provider is not asked again meanwhile), no other provider tried.
"""

from __future__ import annotations

import time

from tests.support import answer, get_sms, login, ronglian_env

PHONE_RAW, PHONE = "8613800138000", "+8613800138000"


def send(handler) -> dict:
    return answer(handler(get_sms(PHONE_RAW), {}))


def clear(sms_api) -> None:
    sms_api.sms_number_error = None
    sms_api.sms_delay_seconds = 0.0


def test_a_provider_per_number_limit_keeps_the_reservation(build, sms_api):
    handler = build()
    sms_api.sms_number_error = "LimitExceeded.PhoneNumberOneHourLimit"

    first = send(handler)
    clear(sms_api)
    again = send(handler)

    assert (first["codeStr"], first["_status"], first["providerCode"]) == (
        "TooFrequent", 429, "tencent:LimitExceeded.PhoneNumberOneHourLimit")
    assert (again["codeStr"], again["_status"]) == ("TooFrequent", 429) and "providerCode" not in again
    assert sms_api.sent == []


def test_a_provider_refusal_releases_the_reservation(build, sms_api):
    handler = build()
    sms_api.sms_number_error = "FailedOperation.InsufficientBalanceInSmsPackage"

    first = send(handler)
    clear(sms_api)
    again = send(handler)

    assert (first["codeStr"], first["_status"], first["providerCode"]) == (
        "SmsSendFailed", 502, "tencent:FailedOperation.InsufficientBalanceInSmsPackage")
    assert (again["codeStr"], again["_status"]) == ("Ok", 200)
    assert len(sms_api.sent_to(PHONE)) == 1


def test_a_provider_timeout_keeps_a_code_that_may_have_been_sent(build, sms_api):
    handler = build(SMS_TIMEOUT_SECONDS="1")
    sms_api.sms_delay_seconds = 1.6

    first = send(handler)
    deadline = time.monotonic() + 10  # the emulator records the SMS after the function gave up
    while not sms_api.sent_to(PHONE) and time.monotonic() < deadline:
        time.sleep(0.05)
    [late] = sms_api.sent_to(PHONE)
    clear(sms_api)
    again = send(handler)
    logged_in = answer(handler(login(PHONE_RAW, late["params"][0]), {}))

    assert (first["codeStr"], first["_status"]) == ("SmsSendTimeout", 504)
    assert (again["codeStr"], again["_status"]) == ("TooFrequent", 429)
    assert (logged_in["codeStr"], logged_in["_status"]) == ("Success", 200)


def test_a_number_refusal_releases_and_tries_no_other_provider(build, sms_api, ronglian_api, clock):
    handler = build(SMS_PROVIDER="tencent,ronglian", CODE_LENGTH="4", **ronglian_env(ronglian_api))
    sms_api.sms_number_error = "InvalidParameterValue.IncorrectPhoneNumber"

    first = send(handler)
    clear(sms_api)
    backed_off = send(handler)
    clock.advance(60)
    again = send(handler)

    assert (first["codeStr"], first["_status"], first["providerCode"]) == (
        "InValidParam", 400, "tencent:InvalidParameterValue.IncorrectPhoneNumber")
    assert ronglian_api.requests == []
    assert (backed_off["codeStr"], backed_off["_status"], backed_off["retryAfter"]) == ("TooFrequent", 429, 60)
    assert (again["codeStr"], again["_status"], again["provider"]) == ("Ok", 200, "tencent")
