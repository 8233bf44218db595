"""Alibaba Cloud SMS (``SMS_PROVIDER=aliyun``) end to end through ``main_handler``.

Real redis-server, the real SDK (``alibabacloud-dysmsapi20170525``) and the
emulator (tests/support/emulators/aliyun.py), which verifies the SDK's
``ACS3-HMAC-SHA256`` signature as the OpenAPI gateway does. Proven here:

* a code sent through Alibaba Cloud logs in once; the request is the
  documented one (11-digit national ``PhoneNumbers``, the approved
  ``SignName`` and ``TemplateCode``, ``TemplateParam`` ``{"code": ...}`` or
  the variables ``ALIYUN_SMS_TEMPLATE_VARIABLES`` names, ``OutId`` the request
  id), its signature verified; an international number goes out as country
  code and number with an international template;
* every code of the emulator's table gives the answer of its class: the
  number-level ones (a bad number, a mainland number on an international
  template, the platform's per-number limit: short-term ``TooFrequent``, day
  level ``DailyLimitExceeded``) keep or release as the other providers' do
  and are not failed over; every other code (account, balance, signature,
  template, the gateway's authentication codes) is ``SmsSendFailed``, released;
* a wrong AccessKey secret is refused by the emulator's signature check
  (``aliyun:SignatureDoesNotMatch``), nothing sent, nothing kept;
* failover ``aliyun,tencent``: Alibaba Cloud unreachable, out of balance or
  refusing the signature -> Tencent sends and the log says why; a number-level
  refusal is not failed over;
* a slow answer keeps the code (``SmsSendTimeout``, maybe sent), an
  unreachable endpoint releases it, an HTML error page is an unknown outcome.
"""

from __future__ import annotations

import logging
import time

import pytest

from smsverify.edge.handler import create_handler
from smsverify.senders.aliyun import NUMBER_LIMITS, NUMBER_REJECTIONS
from tests.support import ALIYUN_ERRORS, ALIYUN_SIGN_NAME as SIGN_NAME, ALIYUN_TEMPLATE_CODE as TEMPLATE_CODE
from tests.support import aliyun_env, answer, get_sms, login

NOTICE_TEMPLATE = "SMS_100002"  # ${code} and ${time} (tests/conftest.py)
INTERNATIONAL_TEMPLATE = "SMS_200001"
PHONE_RAW, NATIONAL = "8613800138000", "13800138000"
KEPT, RELEASED, BACKED_OFF = "kept", "released", "released, phone backed off"
#: The number-level codes -> (codeStr, status, reservation); every other code is PROVIDER_LEVEL.
NUMBER_LEVEL = {
    "isv.MOBILE_NUMBER_ILLEGAL": ("InValidParam", 400, BACKED_OFF),
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": ("InValidParam", 400, BACKED_OFF),
    "isv.BUSINESS_LIMIT_CONTROL": ("TooFrequent", 429, KEPT),  # the minute-level message of the table
}
PROVIDER_LEVEL = ("SmsSendFailed", 502, RELEASED)


@pytest.fixture
def handler_for(aliyun_api, redis_url, make_env, clock):
    """``handler_for("aliyun,tencent", **env)``: a container for those providers (Tencent: its emulator)."""

    def build(providers: str = "aliyun", **overrides: str):
        return create_handler(make_env(redis_url, SMS_PROVIDER=providers, **aliyun_env(aliyun_api, **overrides)), clock=clock)

    return build


@pytest.fixture
def invocations():
    lines: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "invocation":
                lines.append(dict(record.fields))

    collector = Collect()
    logger = logging.getLogger("smsverify")
    logger.addHandler(collector)
    yield lines
    logger.removeHandler(collector)


def send(handler, phone: str = PHONE_RAW) -> dict:
    return answer(handler(get_sms(phone), {}))


def check(handler, code: str, phone: str = PHONE_RAW) -> dict:
    return answer(handler(login(phone, code), {}))


# -- a send, end to end ------------------------------------------------------------------------
def test_a_code_sent_by_alibaba_cloud_logs_in_once(handler_for, aliyun_api, sms_api):
    handler = handler_for()

    sent = send(handler)

    assert (sent["codeStr"], sent["_status"], sent["provider"]) == ("Ok", 200, "aliyun")
    [message] = aliyun_api.sent
    code = message["variables"]["code"]
    assert message["phone"] == NATIONAL and message["variables"] == {"code": code} and len(code) == 6
    assert (message["sign_name"], message["template_code"], message["out_id"]) == (SIGN_NAME, TEMPLATE_CODE, sent["requestId"])
    assert aliyun_api.signature_failures == 0 and [r["code"] for r in aliyun_api.requests] == ["OK"]
    assert sms_api.sent == []
    assert check(handler, code)["codeStr"] == "Success"
    assert check(handler, code)["codeStr"] == "CodeHasExpired"


def test_the_template_variables_are_named_by_the_setting(handler_for, aliyun_api):
    handler = handler_for(ALIYUN_SMS_TEMPLATE_CODE=NOTICE_TEMPLATE, ALIYUN_SMS_TEMPLATE_VARIABLES="code:code,time:minutes")

    assert send(handler)["codeStr"] == "Ok"

    [message] = aliyun_api.sent
    assert message["variables"] == {"code": message["variables"]["code"], "time": "5"}  # CODE_TTL_SECONDS 300


def test_an_international_number_goes_out_as_country_code_and_number(handler_for, aliyun_api):
    handler = handler_for(ALIYUN_SMS_TEMPLATE_CODE=INTERNATIONAL_TEMPLATE, ALLOWED_COUNTRY_CODES="86,852")

    assert send(handler, "85261234567")["codeStr"] == "Ok"
    [message] = aliyun_api.sent
    assert message["phone"] == "85261234567"
    # A mainland number with that template is the number's (destination's) refusal: InValidParam.
    assert send(handler)["providerCode"] == "aliyun:isv.DOMESTIC_NUMBER_NOT_SUPPORTED"


# -- every code of the emulator -------------------------------------------------------------------
def test_the_number_level_codes_are_the_modules_tables():
    assert set(NUMBER_LEVEL) == set(NUMBER_REJECTIONS) | set(NUMBER_LIMITS)
    assert set(NUMBER_LEVEL) <= set(ALIYUN_ERRORS)


@pytest.mark.parametrize("code", list(ALIYUN_ERRORS))
def test_aliyun_error_code(code, handler_for, aliyun_api, clock):
    code_str, status, reservation = NUMBER_LEVEL.get(code, PROVIDER_LEVEL)
    handler = handler_for()
    aliyun_api.force_code = code

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == (code_str, status, f"aliyun:{code}")
    aliyun_api.force_code = None
    again = send(handler)
    if reservation == KEPT:
        assert again["codeStr"] == "TooFrequent" and "providerCode" not in again
    elif reservation == BACKED_OFF:
        assert (again["codeStr"], again["retryAfter"]) == ("TooFrequent", 60) and "providerCode" not in again
        clock.advance(60)
        assert send(handler)["codeStr"] == "Ok"
    else:
        assert again["codeStr"] == "Ok"


def test_the_platforms_day_level_limit_is_the_daily_limit(handler_for, aliyun_api):
    aliyun_api.daily_limit = 0  # the number already had its day's verification codes

    refused = send(handler_for())

    assert (refused["codeStr"], refused["providerCode"]) == ("DailyLimitExceeded", "aliyun:isv.BUSINESS_LIMIT_CONTROL")


# -- the signature -----------------------------------------------------------------------------
def test_a_wrong_secret_is_refused_by_the_signature_check(handler_for, aliyun_api):
    handler = handler_for(ALIBABA_CLOUD_ACCESS_KEY_SECRET="not-the-secret-of-this-key")

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == (
        "SmsSendFailed", 502, "aliyun:SignatureDoesNotMatch")
    assert aliyun_api.signature_failures == 1 and aliyun_api.sent == []
    assert [r["code"] for r in aliyun_api.requests] == ["SignatureDoesNotMatch"]
    assert send(handler_for())["codeStr"] == "Ok"  # released: the right key sends at once


def test_an_unknown_access_key_is_refused(handler_for, aliyun_api):
    refused = send(handler_for(ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tSomeoneElse"))
    assert refused["providerCode"] == "aliyun:InvalidAccessKeyId.NotFound" and aliyun_api.sent == []


# -- failover ----------------------------------------------------------------------------------
FIRST_FAILURES = {
    "unreachable": (lambda api: api.down(), "aliyun:ConnectionRefused"),
    "out of balance": (lambda api: setattr(api, "force_code", "isv.AMOUNT_NOT_ENOUGH"), "aliyun:isv.AMOUNT_NOT_ENOUGH"),
    "wrong secret": (None, "aliyun:SignatureDoesNotMatch"),
}


@pytest.mark.parametrize("failure", list(FIRST_FAILURES))
def test_tencent_sends_when_alibaba_cloud_fails(failure, handler_for, aliyun_api, sms_api, invocations):
    breaking, provider_code = FIRST_FAILURES[failure]
    overrides = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong"} if breaking is None else {}  # pragma: allowlist secret
    handler = handler_for("aliyun,tencent", **overrides)
    if breaking is not None:
        breaking(aliyun_api)

    sent = send(handler)

    assert (sent["codeStr"], sent["provider"]) == ("Ok", "tencent")
    assert aliyun_api.sent == [] and len(sms_api.sent) == 1
    assert invocations[-1]["provider"] == "tencent" and invocations[-1]["failedProviders"] == [provider_code]
    assert check(handler, sms_api.sent[0]["params"][0])["codeStr"] == "Success"


def test_an_aliyun_number_refusal_is_not_failed_over(handler_for, aliyun_api, sms_api):
    aliyun_api.force_code = "isv.MOBILE_NUMBER_ILLEGAL"

    refused = send(handler_for("aliyun,tencent"))

    assert (refused["codeStr"], refused["providerCode"]) == ("InValidParam", "aliyun:isv.MOBILE_NUMBER_ILLEGAL")
    assert sms_api.sent == [] and not [r for r in sms_api.requests if r["action"] == "SendSms"]


# -- transport -----------------------------------------------------------------------------------
def test_a_slow_answer_keeps_the_code(handler_for, aliyun_api):
    handler = handler_for(SMS_TIMEOUT_SECONDS="0.5")
    aliyun_api.delay_seconds = 1.0

    refused = send(handler)

    assert (refused["codeStr"], refused["_status"], refused["providerCode"]) == ("SmsSendTimeout", 504, "aliyun:Timeout")
    deadline = time.monotonic() + 10
    while not aliyun_api.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    [message] = aliyun_api.sent  # it went out after the function gave up
    assert check(handler, message["variables"]["code"])["codeStr"] == "Success"


def test_an_unreachable_endpoint_releases(handler_for, aliyun_api):
    handler = handler_for()
    aliyun_api.down()

    refused = send(handler)

    assert (refused["codeStr"], refused["providerCode"]) == ("SmsSendFailed", "aliyun:ConnectionRefused")
    aliyun_api.up()
    assert send(handler)["codeStr"] == "Ok"


def test_an_html_error_page_is_an_unknown_outcome(handler_for, aliyun_api):
    aliyun_api.http_status = 503

    refused = send(handler_for())

    assert (refused["codeStr"], refused["providerCode"]) == ("SmsSendTimeout", "aliyun:InvalidResponse")
