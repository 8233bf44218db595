"""SMS provider faults through ``main_handler`` (failures, releases, timeouts).

Real redis-server (``redis_url``) and the Tencent Cloud API emulator
(``sms_api``), which the real SDK talks to with signed requests. Proven here:

* one Tencent code of each outcome class of the sender contract, taken from
  :mod:`smsverify.senders.tencent`'s own tables (which code is in which class is
  proven once, in tests/unit/test_sender_tables.py), injected both as a
  per-number ``SendStatusSet[0].Code`` and as a request-level ``Response.Error``,
  gives the class's ``codeStr``/status of :data:`OUTCOMES`, echoes the Tencent
  code as ``providerCode`` (``tencent:<code>``), and keeps or releases the getSms
  reservation as follows:

  - released: the phone's code, cooldown and hourly entry are gone, the daily
    counter is back to 0, no per-IP/global quota stays spent, and an
    immediate second getSms is ``Ok``;
  - released, phone backed off (a number-level refusal): nothing counted, but
    the provider is not asked about the number again for the resend interval;
  - kept: the cooldown and the daily count stay, so an immediate second
    getSms is ``TooFrequent`` (``retryAfter`` 60); after a timeout the code
    also stays valid and logs in;

* a provider slower than ``SMS_TIMEOUT_SECONDS``, a refused connection, an
  HTTP 5xx from the provider, and wrong or missing role credentials, each
  with its codeStr/status/providerCode and reservation outcome;
* the credentials are read from the SCF names ``TENCENTCLOUD_SECRETID``,
  ``TENCENTCLOUD_SECRETKEY`` and ``TENCENTCLOUD_SESSIONTOKEN``, not the SDK's.

:data:`OUTCOMES` (per class) and :data:`TRANSPORT_MAPPING` are what is proven
here; tests/docs checks the generated docs/providers.md against them through
:func:`expected_outcome`.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import pytest

from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from smsverify.clock import moment_at
from smsverify.store import keys as store_keys
from smsverify.senders import provider_module
from smsverify.senders.base import NumberRateLimited, NumberRejected, SendError
from smsverify.senders import tencent
from smsverify.store.keys import phone_keys
from tests.support import SECRET_ID, SESSION_TOKEN, answer, get_sms, login
from tests.support import free_port, send_record

PHONE_RAW = "8613800138000"
PHONE = "+8613800138000"
SEND_INTERVAL = 60  # SEND_INTERVAL_SECONDS default: the retryAfter of a kept reservation

KEPT = "kept"
RELEASED = "released"
BACKED_OFF = "released, phone backed off"  # a number-level refusal: released, then the number is not asked again
NUMBER = "per-number SendStatusSet[0].Code"
REQUEST = "request-level Response.Error"


class Row(NamedTuple):
    """One proven fault."""

    code: str  #: Tencent's code (or the SDK's, for transport faults): the body's providerCode
    path: str  #: how the provider reported it
    code_str: str  #: the body's codeStr
    status: int  #: the HTTP status
    reservation: str  #: KEPT, RELEASED or BACKED_OFF


#: Outcome class of the sender contract -> (codeStr, status, reservation), for every provider.
OUTCOMES: dict[str, tuple[str, int, str]] = {
    "number rejected": ("InValidParam", 400, BACKED_OFF),
    # The provider's own per-number limits are real, so the reservation stays.
    "number short-term limit": ("TooFrequent", 429, KEPT),
    "number daily limit": ("DailyLimitExceeded", 429, KEPT),
    "provider refused": ("SmsSendFailed", 502, RELEASED),
    # The SMS may have left, so the code stays valid.
    "maybe sent": ("SmsSendTimeout", 504, KEPT),
}


def outcome_class(error: SendError) -> str:
    """The key of :data:`OUTCOMES` for a sender error."""
    if isinstance(error, NumberRejected):
        return "number rejected"
    if isinstance(error, NumberRateLimited):
        return "number daily limit" if error.daily else "number short-term limit"
    return "maybe sent" if error.maybe_sent else "provider refused"


def expected_outcome(provider: str, code: str) -> tuple[str, int, str]:
    """(codeStr, status, reservation) a provider's error ``code`` must give: its module's class, then :data:`OUTCOMES`."""
    return OUTCOMES[outcome_class(provider_module(provider).classify(code, ""))]


def _sample(codes) -> str:
    return min(codes)


#: One Tencent code per outcome class, from the module's tables; a provider-level code is any other.
TENCENT_SAMPLES: dict[str, str] = {
    "number rejected": _sample(tencent.NUMBER_REJECTIONS),
    "number short-term limit": _sample(code for code, daily in tencent.NUMBER_LIMITS.items() if not daily),
    "number daily limit": _sample(code for code, daily in tencent.NUMBER_LIMITS.items() if daily),
    "provider refused": "FailedOperation.InsufficientBalanceInSmsPackage",
    "maybe sent": _sample(tencent.UNKNOWN_OUTCOME),
}

#: Each class's sample on both paths.
PROVIDER_CODE_MAPPING: list[Row] = [
    Row(code, path, *expected_outcome("tencent", code))
    for code in TENCENT_SAMPLES.values()
    for path in (NUMBER, REQUEST)
]

#: Faults that are not a Tencent code; ``code`` is the providerCode the body carries.
TRANSPORT_MAPPING: list[Row] = [
    Row("Timeout", "no answer within SMS_TIMEOUT_SECONDS", "SmsSendTimeout", 504, KEPT),
    Row("ConnectionRefused", "connection refused", "SmsSendFailed", 502, RELEASED),
    Row("ServerNetworkError", "HTTP 5xx from the provider", "SmsSendFailed", 502, RELEASED),
    Row("AuthFailure.SignatureFailure", "wrong TENCENTCLOUD_SECRETKEY", "SmsSendFailed", 502, RELEASED),
    Row("AuthFailure.TokenFailure", "missing TENCENTCLOUD_SESSIONTOKEN", "SmsSendFailed", 502, RELEASED),
]

# -- helpers --------------------------------------------------------------------------------
def _row_id(row: Row) -> str:
    return f"{row.code}-{'number' if row.path == NUMBER else 'request'}"


def _params(rows: list[Row]) -> list:
    return [pytest.param(row, id=_row_id(row)) for row in rows]


def inject(sms_api, row: Row) -> None:
    if row.path == NUMBER:
        sms_api.sms_number_error = row.code
    else:
        sms_api.sms_request_error = (row.code, "injected by the test")


def clear_knobs(sms_api) -> None:
    sms_api.sms_number_error = None
    sms_api.sms_request_error = None
    sms_api.sms_delay_seconds = 0.0
    sms_api.sms_http_status = 200


def send_sms_requests(sms_api) -> list[dict]:
    """SendSms requests that passed authentication (the emulator records them before any knob)."""
    return [r for r in sms_api.requests if r["action"] == "SendSms"]


def code_sent(sms_api) -> str:
    """The code of the single SendSms request the emulator received (as the SDK sent it)."""
    [request] = send_sms_requests(sms_api)
    return request["body"]["TemplateParamSet"][0]


def redis_state(redis_server, clock) -> dict:
    """What Redis holds for PHONE today, and every other key."""
    day = moment_at(clock()).day
    keys = phone_keys(PHONE, day)
    client = redis_server.client()
    try:
        everything = {k.decode() for k in client.keys("*")}
        record = send_record(client, PHONE, day)
        return {
            "code": bool(client.exists(keys.code)),
            "cooldown": record.cooldown is not None,
            "backoff": record.backoff is not None,
            "hourly": len(record.hourly),
            "daily": record.daily,
            # after a release only the send record (its count given back) may remain: no global entry, and
            # the client's only after a number-level refusal (it still counts against the client)
            # (the hour's conversion counters, {metrics}, stay: a release gives their count back)
            "other_keys": sorted(k for k in everything - {keys.sends} if "{metrics}" not in k),
        }
    finally:
        client.close()


def assert_refusal(body: dict, code_str: str, status: int, provider_code: str, clock) -> None:
    """The body carries exactly the fields documented for ``code_str``."""
    assert (body["codeStr"], body["_status"]) == (code_str, status), body
    timing = {
        # our cooldown after the provider's short-term limit
        "TooFrequent": {"retryAfter": SEND_INTERVAL},
        # the provider's day ends with China's calendar day
        "DailyLimitExceeded": {"retryAfter": math.ceil(moment_at(clock()).ms_to_day_end / 1000)},
        # the code is kept, and so is the cooldown
        "SmsSendTimeout": {"resendAfter": SEND_INTERVAL},
    }.get(code_str, {})
    extra = {k: v for k, v in body.items() if k not in ("codeStr", "msg", "requestId", "_status")}
    assert extra == {"providerCode": f"tencent:{provider_code}", **timing}


def assert_released(handler, redis_server, sms_api, clock) -> None:
    """The refusal cost the phone nothing: nothing stored, and getSms passes again at once."""
    assert redis_state(redis_server, clock) == {
        "code": False, "cooldown": False, "backoff": False, "hourly": 0, "daily": 0, "other_keys": [],
    }
    clear_knobs(sms_api)
    again = answer(handler(get_sms(PHONE_RAW), {}))
    assert (again["codeStr"], again["_status"]) == ("Ok", 200), again
    assert len(sms_api.sent_to(PHONE)) == 1
    assert redis_state(redis_server, clock)["daily"] == 1


def assert_backed_off(handler, redis_server, sms_api, clock) -> None:
    """Released (no code, no counts of the phone), but the phone is refused for the resend interval
    without asking the provider, then passes; the send still counts against the client that asked."""
    state = redis_state(redis_server, clock)
    assert (state["code"], state["cooldown"], state["backoff"], state["hourly"], state["daily"]) == (
        False, False, True, 0, 0)
    assert state["other_keys"] == [store_keys.ip_log_key("203.0.113.7")]
    clear_knobs(sms_api)
    again = answer(handler(get_sms(PHONE_RAW), {}))
    assert (again["codeStr"], again["_status"], again["retryAfter"]) == ("TooFrequent", 429, SEND_INTERVAL), again
    assert len(send_sms_requests(sms_api)) == 1
    clock.advance(SEND_INTERVAL)
    assert answer(handler(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"
    assert redis_state(redis_server, clock)["daily"] == 1


def assert_kept(handler, redis_server, sms_api, clock) -> None:
    """The reservation stands: cooldown and daily count stay, getSms is refused at once."""
    state = redis_state(redis_server, clock)
    assert (state["code"], state["cooldown"], state["hourly"], state["daily"]) == (True, True, 1, 1)
    clear_knobs(sms_api)
    again = answer(handler(get_sms(PHONE_RAW), {}))
    assert (again["codeStr"], again["_status"], again["retryAfter"]) == ("TooFrequent", 429, SEND_INTERVAL), again
    assert "providerCode" not in again  # our own cooldown, not the provider's
    assert redis_state(redis_server, clock)["daily"] == 1


def assert_code_logs_in(handler, code: str) -> None:
    ok = answer(handler(login(PHONE_RAW, code), {}))
    assert (ok["codeStr"], ok["_status"]) == ("Success", 200), ok


def wait_for_late_delivery(sms_api, code: str, limit_seconds: float = 10.0) -> None:
    """The emulator's slow answer finishes after the client gave up; wait for it so the
    message is seen as delivered (and cannot land in the next test's records).
    The bound only stops a hung test; nothing is asserted about the duration."""
    deadline = time.monotonic() + limit_seconds
    while not sms_api.sent_to(PHONE) and time.monotonic() < deadline:
        time.sleep(0.05)
    [late] = sms_api.sent_to(PHONE)
    assert late["params"][0] == code


# -- one code of each outcome class, both paths ----------------------------------------------
def test_the_samples_cover_every_outcome_class():
    assert {outcome_class(tencent.classify(code)) for code in TENCENT_SAMPLES.values()} == set(OUTCOMES)
    assert [outcome_class(tencent.classify(code)) for code in TENCENT_SAMPLES.values()] == list(TENCENT_SAMPLES)


@pytest.mark.parametrize("row", _params(PROVIDER_CODE_MAPPING))
def test_tencent_error_code(row, redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url), clock=clock)
    inject(sms_api, row)

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, row.code_str, row.status, row.code, clock)
    assert len(send_sms_requests(sms_api)) == 1  # one attempt: a possibly-sent SMS is never retried
    assert sms_api.sent == []
    code = code_sent(sms_api)
    if row.reservation == RELEASED:
        assert_released(handler, redis_server, sms_api, clock)
    elif row.reservation == BACKED_OFF:
        assert_backed_off(handler, redis_server, sms_api, clock)
    else:
        assert_kept(handler, redis_server, sms_api, clock)
        if row.code_str == "SmsSendTimeout":
            assert_code_logs_in(handler, code)


# -- transport faults -----------------------------------------------------------------------
def test_provider_slower_than_the_timeout_keeps_the_code(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, SMS_TIMEOUT_SECONDS="1"), clock=clock)
    sms_api.sms_delay_seconds = 1.6

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, "SmsSendTimeout", 504, "Timeout", clock)
    assert len(send_sms_requests(sms_api)) == 1
    code = code_sent(sms_api)
    wait_for_late_delivery(sms_api, code)  # the SMS did go out after the function gave up
    assert_kept(handler, redis_server, sms_api, clock)
    assert_code_logs_in(handler, code)


def test_provider_connection_refused_releases(redis_url, redis_server, make_env, sms_api, clock):
    closed = f"http://127.0.0.1:{free_port()}"
    handler = create_handler(make_env(redis_url, SMS_API_ENDPOINT=closed), clock=clock)

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, "SmsSendFailed", 502, "ConnectionRefused", clock)
    assert sms_api.requests == []
    # The same Redis through a container whose provider works: nothing of the refused send remains.
    working = create_handler(make_env(redis_url), clock=clock)
    assert_released(working, redis_server, sms_api, clock)


def test_provider_http_5xx_releases(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url), clock=clock)
    sms_api.sms_http_status = 503

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, "SmsSendFailed", 502, "ServerNetworkError", clock)
    assert len(send_sms_requests(sms_api)) == 1
    assert_released(handler, redis_server, sms_api, clock)


# -- credentials ----------------------------------------------------------------------------
def test_wrong_secret_key_is_a_signature_failure(redis_url, redis_server, make_env, sms_api, clock):
    env = make_env(redis_url, TENCENTCLOUD_SECRETKEY="not-the-emulator-secret-key-000")
    handler = create_handler(env, clock=clock)

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, "SmsSendFailed", 502, "AuthFailure.SignatureFailure", clock)
    assert sms_api.requests == []  # refused at authentication
    working = create_handler(make_env(redis_url), clock=clock)
    assert_released(working, redis_server, sms_api, clock)


def test_missing_session_token_is_a_token_failure(redis_url, redis_server, make_env, sms_api, clock):
    env = make_env(redis_url)
    del env["TENCENTCLOUD_SESSIONTOKEN"]
    handler = create_handler(env, clock=clock)

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, "SmsSendFailed", 502, "AuthFailure.TokenFailure", clock)
    working = create_handler(make_env(redis_url), clock=clock)
    assert_released(working, redis_server, sms_api, clock)


def test_the_sender_signs_with_the_scf_credential_names(redis_url, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url), clock=clock)

    assert answer(handler(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"

    # The emulator checked the TC3 signature against the key of TENCENTCLOUD_SECRETKEY and the
    # token against TENCENTCLOUD_SESSIONTOKEN; the id and token on the wire are the SCF values.
    [request] = send_sms_requests(sms_api)
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["authorization"].startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/")
    assert headers["x-tc-token"] == SESSION_TOKEN


@pytest.mark.parametrize(
    "scf_name, sdk_name",
    [
        ("TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRET_ID"),
        ("TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SECRET_KEY"),
    ],
)
def test_the_sdk_credential_names_are_not_read(scf_name, sdk_name, make_env, clock):
    env = make_env(None)
    env[sdk_name] = env.pop(scf_name)

    with pytest.raises(ConfigError) as raised:
        create_handler(env, clock=clock)

    assert raised.value.variable == scf_name


@pytest.mark.parametrize("other_name", ["TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_TOKEN"])
def test_a_session_token_under_another_name_is_not_read(other_name, redis_url, make_env, sms_api, clock):
    env = make_env(redis_url)
    env[other_name] = env.pop("TENCENTCLOUD_SESSIONTOKEN")
    handler = create_handler(env, clock=clock)

    first = answer(handler(get_sms(PHONE_RAW), {}))

    assert_refusal(first, "SmsSendFailed", 502, "AuthFailure.TokenFailure", clock)
