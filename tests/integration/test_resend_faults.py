"""A failed resend never costs the user the code they already have, and a
number the provider refuses is not asked again and again.

End to end through ``main_handler`` against a real redis-server and the
Tencent Cloud SMS emulator, time moved only by the FakeClock. Proven here:

- after the cooldown, a resend that the provider refuses (reservation
  released) or answers with its per-number limit (reservation kept) leaves
  the first code valid, with its remaining TTL and wrong tries;
- a resend whose outcome is unknown (timeout: maybe delivered) leaves both
  codes valid; either succeeds once, and one success consumes both;
- a resend the provider accepted replaces the old code (also in
  tests/integration/test_protocol.py), and a login with the new code while
  the resend was still in flight succeeds;
- a number-level refusal (Tencent ``FailedOperation.PhoneNumberInBlacklist``)
  backs the phone off for the resend interval: 200 getSms make one provider
  call, the others answer ``TooFrequent`` with ``retryAfter``.
"""

from __future__ import annotations

import pytest

from tests.support import call, get_sms, last_code, login, wrong

PHONE = "+8613800138000"
REFUSED = "FailedOperation.SignatureIncorrectOrUnapproved"  # provider-level: the reservation is released
NUMBER_LIMIT = "LimitExceeded.PhoneNumberThirtySecondLimit"  # the provider's own limit: reservation kept
BLACKLIST = "FailedOperation.PhoneNumberInBlacklist"  # number-level: the number opted out


def tencent_calls(sms_api) -> int:
    return len([r for r in sms_api.requests if r["action"] == "SendSms"])


def first_code(handler, sms_api, clock) -> str:
    assert call(handler, get_sms())["codeStr"] == "Ok"
    code = last_code(sms_api, PHONE)
    assert call(handler, login(PHONE, wrong(code)))["attemptsLeft"] == 2  # one wrong try, to see it kept
    clock.advance(60)  # the cooldown has passed; the code has 240 s left
    return code


@pytest.mark.parametrize(("error", "answer_code"), [(REFUSED, "SmsSendFailed"), (NUMBER_LIMIT, "TooFrequent")])
def test_a_failed_resend_keeps_the_code_the_user_has(build, sms_api, clock, error, answer_code):
    handler = build()
    code = first_code(handler, sms_api, clock)
    sms_api.sms_number_error = error
    assert call(handler, get_sms())["codeStr"] == answer_code
    sms_api.sms_number_error = None

    again = call(handler, login(PHONE, wrong(code, 2)))
    assert (again["codeStr"], again["attemptsLeft"]) == ("CodeIsError", 1)  # its wrong tries are kept
    assert call(handler, login(PHONE, code))["codeStr"] == "Success"
    assert call(handler, login(PHONE, code))["codeStr"] == "CodeHasExpired"  # once


@pytest.mark.parametrize(("error", "answer_code"), [(REFUSED, "SmsSendFailed"), (NUMBER_LIMIT, "TooFrequent")])
def test_a_code_kept_after_a_failed_resend_expires_at_its_own_ttl(build, sms_api, clock, error, answer_code):
    handler = build()
    code = first_code(handler, sms_api, clock)
    sms_api.sms_number_error = error
    assert call(handler, get_sms())["codeStr"] == answer_code
    sms_api.sms_number_error = None
    clock.advance(240)  # 300 s after it was sent
    assert call(handler, login(PHONE, code))["codeStr"] == "CodeHasExpired"


@pytest.fixture
def timed_out(build, sms_api, clock):
    """A first code, then a resend that timed out at the client but reached the phone."""
    handler = build(SMS_TIMEOUT_SECONDS="0.3")
    code = first_code(handler, sms_api, clock)
    sms_api.sms_delay_seconds = 0.8
    assert call(handler, get_sms())["codeStr"] == "SmsSendTimeout"
    sms_api.sms_delay_seconds = 0.0
    for _ in range(100):  # the emulator records the SMS once its delay is over
        if len(sms_api.sent_to(PHONE)) == 2:
            break
        clock_sleep(0.05)
    assert len(sms_api.sent_to(PHONE)) == 2
    return handler, code, last_code(sms_api, PHONE)


def clock_sleep(seconds: float) -> None:
    import time

    time.sleep(seconds)


def test_after_a_timed_out_resend_the_old_code_still_works_once(timed_out):
    handler, old, new = timed_out
    assert call(handler, login(PHONE, old))["codeStr"] == "Success"
    assert call(handler, login(PHONE, new))["codeStr"] == "CodeHasExpired"  # one success consumes both


def test_after_a_timed_out_resend_the_new_code_works_once(timed_out):
    handler, old, new = timed_out
    assert call(handler, login(PHONE, new))["codeStr"] == "Success"
    assert call(handler, login(PHONE, old))["codeStr"] == "CodeHasExpired"


def test_after_a_timed_out_resend_the_new_code_outlives_the_old(timed_out, clock):
    handler, old, new = timed_out
    clock.advance(241)  # the old code has expired, the new one has 59 s left
    assert call(handler, login(PHONE, old))["codeStr"] == "CodeIsError"
    assert call(handler, login(PHONE, new))["codeStr"] == "Success"


# -- number-level refusals -------------------------------------------------------------------------


def test_a_refused_number_is_backed_off_instead_of_asking_the_provider_again(build, sms_api, clock):
    handler = build()
    sms_api.sms_number_error = BLACKLIST
    first = call(handler, get_sms())
    assert (first["codeStr"], first["providerCode"]) == ("InValidParam", f"tencent:{BLACKLIST}")
    answers = [call(handler, get_sms()) for _ in range(199)]
    assert tencent_calls(sms_api) == 1
    assert {(a["codeStr"], a["_status"], a["retryAfter"]) for a in answers} == {("TooFrequent", 429, 60)}

    clock.advance(60)  # the backoff is over: the provider is asked again
    assert call(handler, get_sms())["codeStr"] == "InValidParam"
    assert tencent_calls(sms_api) == 2
    sms_api.sms_number_error = None
    clock.advance(60)
    assert call(handler, get_sms())["codeStr"] == "Ok"  # the refusal spent no quota


def test_a_refusal_of_our_own_request_backs_nobody_off(build, sms_api):
    handler = build()
    sms_api.sms_number_error = REFUSED  # about our signature, not the number
    assert call(handler, get_sms())["codeStr"] == "SmsSendFailed"
    sms_api.sms_number_error = None
    assert call(handler, get_sms())["codeStr"] == "Ok"
