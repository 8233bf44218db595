"""The getSms / login protocol, end to end through ``main_handler``.

Every test builds the function with ``create_handler`` from an env dict, runs
events from events/ through it against a real redis-server and the Tencent
Cloud SMS emulator (the real SDK, signed requests), and moves time only with
the FakeClock. Proven here:

- getSms then login succeeds exactly once; the SMS carries the template,
  sign and app id from the environment and ``TemplateParamSet`` per
  ``SMS_TEMPLATE_PARAMS`` (``[code, minutes]`` or ``[code]``);
- wrong codes count ``attemptsLeft`` down to 0, after which even the right
  code is ``CodeHasValid``;
- a code expires at exactly ``CODE_TTL_SECONDS`` and wrong tries never
  extend it;
- the resend cooldown answers ``TooFrequent`` with an exact ``retryAfter``
  (body and ``Retry-After`` header), and a resend replaces the old code;
- the daily cap counts per Asia/Shanghai calendar day;
- all accepted spellings of one number are one identity;
- every client mistake gets its documented codeStr and status;
- the answer is always an integration response whose ``requestId`` follows
  requestContext, then the SCF context, then a fresh UUID;
- the function answers on any path and stage.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import GLOBAL_TEMPLATE_ID, SDK_APP_ID, SIGN, TEMPLATE_ID, answer, call, get_sms, last_code, load_event, login, wrong

PHONE = "+8613800138000"  # the E.164 form of the demo's "8613800138000"
SHANGHAI = timezone(timedelta(hours=8))


# -- helpers ---------------------------------------------------------------------------






def send_code(handler, sms_api, phone: str = PHONE, spelling: str = "8613800138000") -> str:
    sent = call(handler, get_sms(spelling))
    assert (sent["codeStr"], sent["_status"]) == ("Ok", 200), sent
    return last_code(sms_api, phone)


def query_event(query: dict, name: str = "get_sms.json") -> dict:
    """An API Gateway GET event whose whole ``queryString`` is ``query``."""
    event = load_event(name)
    event["queryString"] = dict(query)
    return event


def next_shanghai_midnight(now: float) -> float:
    local = datetime.fromtimestamp(now, SHANGHAI)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp()


# -- getSms then login ---------------------------------------------------------------------


@pytest.mark.parametrize("ttl, minutes", [(None, "5"), ("300", "5"), ("30", "1"), ("60", "1"), ("61", "2"), ("90", "2")])
def test_get_sms_then_login_succeeds_once_and_only_once(build, sms_api, ttl, minutes):
    handler = build(**({"CODE_TTL_SECONDS": ttl} if ttl else {}))
    sent = call(handler, get_sms("8613800138000"))
    assert sent["codeStr"] == "Ok" and sent["_status"] == 200
    assert sent["expiresIn"] == int(ttl or 300) and sent["resendAfter"] == 60

    [sms] = sms_api.sent_to(PHONE)
    code, sms_minutes = sms["params"]
    assert sms_minutes == minutes == str(math.ceil(int(ttl or 300) / 60))
    assert len(code) == 6 and code.isascii() and code.isdigit()
    assert (sms["sdk_app_id"], sms["sign"], sms["template_id"]) == (SDK_APP_ID, SIGN, TEMPLATE_ID)
    [request] = [r for r in sms_api.requests if r["action"] == "SendSms"]
    assert request["body"]["PhoneNumberSet"] == [PHONE]
    assert request["body"]["TemplateParamSet"] == [code, minutes]

    first = call(handler, login("8613800138000", code))
    assert (first["codeStr"], first["_status"]) == ("Success", 200)
    replay = call(handler, login("8613800138000", code))
    assert (replay["codeStr"], replay["_status"]) == ("CodeHasExpired", 401)


def test_one_parameter_template_gets_the_code_only(build, sms_api):
    handler = build(SMS_TEMPLATE_PARAMS="code", SMS_TEMPLATE_ID="100002")
    assert call(handler, get_sms())["codeStr"] == "Ok"
    [sms] = sms_api.sent_to(PHONE)
    assert sms["template_id"] == "100002"
    [code] = sms["params"]
    assert len(code) == 6 and code.isdigit()
    [request] = [r for r in sms_api.requests if r["action"] == "SendSms"]
    assert request["body"]["TemplateId"] == "100002"
    assert len(request["body"]["TemplateParamSet"]) == 1
    assert call(handler, login(PHONE, code))["codeStr"] == "Success"


def test_login_without_any_sent_code_is_expired(build, sms_api):
    result = call(build(), login(PHONE, "123456"))
    assert (result["codeStr"], result["_status"]) == ("CodeHasExpired", 401)


# -- wrong codes -------------------------------------------------------------------------------


@pytest.mark.parametrize("max_attempts, countdown", [(None, [2, 1, 0]), ("3", [2, 1, 0]), ("5", [4, 3, 2, 1, 0]), ("1", [0])])
def test_wrong_codes_count_down_then_even_the_right_code_is_refused(build, sms_api, max_attempts, countdown):
    handler = build(**({"MAX_VERIFY_ATTEMPTS": max_attempts} if max_attempts else {}))
    code = send_code(handler, sms_api)
    left = []
    for _ in countdown:
        result = call(handler, login(PHONE, wrong(code)))
        assert (result["codeStr"], result["_status"]) == ("CodeIsError", 401)
        left.append(result["attemptsLeft"])
    assert left == countdown

    for attempt in (code, wrong(code)):
        refused = call(handler, login(PHONE, attempt))
        assert (refused["codeStr"], refused["_status"]) == ("CodeHasValid", 401)
        assert "attemptsLeft" not in refused


def test_a_right_code_after_some_wrong_ones_still_succeeds(build, sms_api):
    handler = build()
    code = send_code(handler, sms_api)
    assert call(handler, login(PHONE, wrong(code)))["attemptsLeft"] == 2
    assert call(handler, login(PHONE, wrong(code)))["attemptsLeft"] == 1
    assert call(handler, login(PHONE, code))["codeStr"] == "Success"


# -- expiry (FakeClock) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ttl, elapsed, outcome",
    [
        (300, 0, "Success"),
        (300, 299, "Success"),
        (300, 299.5, "Success"),
        (300, 300, "CodeHasExpired"),  # the boundary itself is expired
        (300, 301, "CodeHasExpired"),
        (300, 3600, "CodeHasExpired"),
        (120, 119, "Success"),
        (120, 120, "CodeHasExpired"),
    ],
)
def test_code_expires_at_its_ttl(build, sms_api, clock, ttl, elapsed, outcome):
    handler = build(CODE_TTL_SECONDS=str(ttl))
    code = send_code(handler, sms_api)
    clock.advance(elapsed)
    result = call(handler, login(PHONE, code))
    assert (result["codeStr"], result["_status"]) == (outcome, 200 if outcome == "Success" else 401)


def test_wrong_tries_do_not_extend_the_ttl(build, sms_api, clock):
    """The Node demo reset the TTL to 300 s on every wrong try."""
    handler = build()
    code = send_code(handler, sms_api)
    clock.advance(250)
    assert call(handler, login(PHONE, wrong(code)))["attemptsLeft"] == 2
    clock.advance(51)  # t = 301
    result = call(handler, login(PHONE, code))
    assert (result["codeStr"], result["_status"]) == ("CodeHasExpired", 401)


# -- cooldown ----------------------------------------------------------------------------------


def assert_too_frequent(result: dict, response: dict, retry_after: int) -> None:
    assert (result["codeStr"], result["_status"]) == ("TooFrequent", 429)
    assert result["retryAfter"] == retry_after
    assert response["headers"]["Retry-After"] == str(retry_after)


@pytest.mark.parametrize("interval", [None, "30", "120"])
def test_resend_cooldown_then_the_new_code_replaces_the_old(build, sms_api, clock, interval):
    seconds = int(interval or 60)
    handler = build(**({"SEND_INTERVAL_SECONDS": interval} if interval else {}))
    first = call(handler, get_sms())
    assert first["resendAfter"] == seconds
    old = last_code(sms_api, PHONE)

    response = handler(get_sms(), {})
    assert_too_frequent(answer(response), response, seconds)
    clock.advance(20)
    response = handler(get_sms(), {})
    assert_too_frequent(answer(response), response, seconds - 20)
    clock.advance(seconds - 21)
    response = handler(get_sms(), {})
    assert_too_frequent(answer(response), response, 1)
    assert len(sms_api.sent_to(PHONE)) == 1  # refusals send nothing

    clock.advance(1)  # exactly the interval after the first send
    assert call(handler, get_sms())["codeStr"] == "Ok"
    assert len(sms_api.sent_to(PHONE)) == 2
    new = last_code(sms_api, PHONE)
    reused = new == old  # (a 1-in-10^6 coincidence would fail here, and prove nothing)
    assert not reused, "the resend carried the old code"
    stale = call(handler, login(PHONE, old))
    assert (stale["codeStr"], stale["_status"], stale["attemptsLeft"]) == ("CodeIsError", 401, 2)
    assert call(handler, login(PHONE, new))["codeStr"] == "Success"


# -- daily limit -------------------------------------------------------------------------------


@pytest.mark.parametrize("daily", [1, 3])
def test_daily_limit_resets_at_shanghai_midnight(build, sms_api, clock, daily):
    handler = build(SEND_INTERVAL_SECONDS="0", HOURLY_SEND_LIMIT="100", DAILY_SEND_LIMIT=str(daily))
    for _ in range(daily):
        assert call(handler, get_sms())["codeStr"] == "Ok"

    midnight = next_shanghai_midnight(clock.now)
    response = handler(get_sms(), {})
    refused = answer(response)
    assert (refused["codeStr"], refused["_status"]) == ("DailyLimitExceeded", 429)
    assert refused["retryAfter"] == math.ceil(midnight - clock.now)
    assert response["headers"]["Retry-After"] == str(refused["retryAfter"])

    clock.advance(midnight - clock.now - 1)  # 23:59:59 in Shanghai
    late = call(handler, get_sms())
    assert (late["codeStr"], late["retryAfter"]) == ("DailyLimitExceeded", 1)
    assert len(sms_api.sent_to(PHONE)) == daily

    clock.advance(1)  # 00:00:00 next day
    assert datetime.fromtimestamp(clock.now, SHANGHAI).strftime("%H:%M:%S") == "00:00:00"
    for _ in range(daily):
        assert call(handler, get_sms())["codeStr"] == "Ok"
    assert call(handler, get_sms())["codeStr"] == "DailyLimitExceeded"
    assert len(sms_api.sent_to(PHONE)) == 2 * daily


# -- phone spellings ------------------------------------------------------------------------------


SPELLINGS = ["8613800138000", "+8613800138000", "13800138000", "+86 138 0013 8000", "138-0013-8000"]


@pytest.mark.parametrize("first", SPELLINGS)
def test_every_spelling_of_a_number_is_one_identity(build, sms_api, first):
    handler = build()
    assert call(handler, get_sms(first))["codeStr"] == "Ok"
    code = last_code(sms_api, PHONE)
    for other in SPELLINGS:
        assert call(handler, get_sms(other))["codeStr"] == "TooFrequent", other
    assert len(sms_api.sent) == 1

    assert call(handler, login("+8613800138000", wrong(code)))["attemptsLeft"] == 2
    assert call(handler, login("13800138000", wrong(code)))["attemptsLeft"] == 1
    assert call(handler, login("+8613800138000", code))["codeStr"] == "Success"
    assert call(handler, login("13800138000", code))["codeStr"] == "CodeHasExpired"


# -- client mistakes -----------------------------------------------------------------------------


def test_login_without_code_is_missing_code(build, sms_api):
    handler = build()
    send_code(handler, sms_api)
    for event in (login(PHONE, None), login(PHONE, ""), login(PHONE, "   ")):
        result = call(handler, event)
        assert (result["codeStr"], result["_status"]) == ("MissingCode", 400)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"phone": "8613800138000"}, id="no-method"),
        pytest.param({"method": "", "phone": "8613800138000"}, id="empty-method"),
        pytest.param({"method": "foo", "phone": "8613800138000"}, id="unknown-method"),
        pytest.param({"method": "getsms", "phone": "8613800138000"}, id="method-wrong-case"),
        pytest.param({"method": "getSms"}, id="getSms-no-phone"),
        pytest.param({"method": "login", "code": "123456"}, id="login-no-phone"),
        pytest.param({"method": "getSms", "phone": ""}, id="empty-phone"),
        pytest.param({"method": "getSms", "phone": "12345"}, id="too-short"),
        pytest.param({"method": "getSms", "phone": "+86123"}, id="plus86-too-short"),
        pytest.param({"method": "getSms", "phone": "abcdefghijk"}, id="letters"),
        pytest.param({"method": "getSms", "phone": "1380013800a"}, id="letter-in-number"),
        pytest.param({"method": "getSms", "phone": "+861380013800"}, id="one-digit-short"),
        pytest.param({"method": "getSms", "phone": "+861012345678"}, id="beijing-landline"),
        pytest.param({"method": "getSms", "phone": "01012345678"}, id="landline-national"),
        pytest.param({"method": "getSms", "phone": "+14155552671"}, id="us-number-not-allowed"),
        pytest.param({"method": "getSms", "phone": "+447400123456"}, id="uk-mobile-not-allowed"),
        pytest.param({"method": "login", "phone": "+14155552671", "code": "123456"}, id="login-us-not-allowed"),
        pytest.param({"method": "login", "phone": "8613800138000", "code": "12a456"}, id="code-with-letter"),
        pytest.param({"method": "login", "phone": "8613800138000", "code": "-12345"}, id="code-negative"),
        pytest.param({"method": "login", "phone": "8613800138000", "code": "１２３４５６"}, id="code-fullwidth-digits"),
    ],
)
def test_invalid_requests_are_invalid_param(build, sms_api, query):
    handler = build()
    result = call(handler, query_event(query))
    assert (result["codeStr"], result["_status"]) == ("InValidParam", 400)
    assert result["msg"] and result["requestId"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert sms_api.sent == [] and sms_api.requests == []


def test_another_country_is_accepted_when_allowed(build, sms_api):
    handler = build(ALLOWED_COUNTRY_CODES="1,86", SMS_TEMPLATES=f"86:{TEMPLATE_ID},*:{GLOBAL_TEMPLATE_ID}")
    assert call(handler, get_sms("+14155552671"))["codeStr"] == "Ok"
    [sms] = sms_api.sent_to("+14155552671")
    assert call(handler, login("+14155552671", sms["params"][0]))["codeStr"] == "Success"
    assert call(handler, get_sms("8613800138000"))["codeStr"] == "Ok"  # 86 is still allowed


# -- the response --------------------------------------------------------------------------------


def test_every_outcome_is_an_integration_response(build, sms_api):
    handler = build()
    events = [get_sms(), get_sms(), login(PHONE, None), query_event({"method": "foo"})]
    for event in events:
        response = handler(event, {})
        assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}
        assert response["isBase64Encoded"] is False
        assert isinstance(response["statusCode"], int)
        assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in response["headers"].items())
        body = json.loads(response["body"])
        assert {"codeStr", "msg", "requestId"} <= set(body)
        assert all(isinstance(body[k], str) and body[k] for k in ("codeStr", "msg", "requestId"))


def test_request_id_comes_from_the_request_context(build, sms_api):
    event = get_sms()
    event["requestContext"]["requestId"] = "req-from-gateway-42"
    result = call(build(), event, {"request_id": "req-from-context"})
    assert result["requestId"] == "req-from-gateway-42"


@pytest.mark.parametrize("variant", ["no-requestId", "empty-requestId", "no-requestContext"])
def test_request_id_falls_back_to_the_scf_context(build, sms_api, variant):
    event = get_sms()
    if variant == "no-requestId":
        del event["requestContext"]["requestId"]
    elif variant == "empty-requestId":
        event["requestContext"]["requestId"] = ""
    else:
        del event["requestContext"]
    result = call(build(), event, {"request_id": "scf-context-request-7"})
    assert result["codeStr"] == "Ok" and result["requestId"] == "scf-context-request-7"


def test_request_id_is_generated_when_nobody_gives_one(build, sms_api):
    handler = build()
    ids = []
    for phone in ("+8613800138000", "+8613800138001"):
        event = get_sms(phone)
        del event["requestContext"]["requestId"]
        result = call(handler, event, {})
        assert result["codeStr"] == "Ok"
        ids.append(result["requestId"])
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert ids[0] != ids[1]


# -- any path, any stage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, stage",
    [("/", "release"), ("/sms", "release"), ("/test/value", "test"), ("/release/x/y", "release"), ("/prepub/a", "prepub")],
)
def test_the_function_answers_on_any_path_and_stage(build, sms_api, path, stage):
    handler = build()

    def routed(event):
        event["path"] = path
        event["requestContext"]["path"] = path
        event["requestContext"]["stage"] = stage
        event["stageVariables"] = {"stage": stage}
        return event

    assert call(handler, routed(get_sms()))["codeStr"] == "Ok"
    result = call(handler, routed(login(PHONE, last_code(sms_api, PHONE))))
    assert (result["codeStr"], result["_status"]) == ("Success", 200)
