"""Test numbers for app review (TEST_PHONE_NUMBERS): no provider call, the fixed code logs in once,
every other rule applies, the token says ``amr: ["sms", "test"]`` and every line says ``testNumber``."""

from __future__ import annotations

import json
import logging

import jwt
import pytest

from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from tests.support import answer, get_sms, login, tencent_env

TEST_NUMBER = "+8613800000000"
FIXED = "246810"


@pytest.fixture
def handler(redis_url, sms_api, clock):
    env = tencent_env(redis_url, sms_api, TEST_PHONE_NUMBERS=f"{TEST_NUMBER}:{FIXED}", TOKEN_SECRET="Zq8vR2mK7xLp4nW9cT3bY6hJ1sD5fG0aE8uQ",  # pragma: allowlist secret
                     
                      TOKEN_ISSUER="https://issuer.example", TOKEN_AUDIENCE="app")
    return create_handler(env, clock=clock)


def sms_sent(sms_api) -> int:
    return len([r for r in sms_api.requests if r["action"] == "SendSms"])


def test_a_test_number_logs_in_with_its_fixed_code_and_no_provider_call(handler, sms_api):
    logger = logging.getLogger("smsverify")
    [stream_handler] = [h for h in logger.handlers if getattr(h, "_smsverify", False)]
    formatted: list[str] = []
    stream_handler.emit = lambda record: formatted.append(stream_handler.format(record))  # type: ignore[method-assign]
    try:
        bodies = run_flow(handler)
    finally:
        del stream_handler.emit
    sent, wrong, right, again = bodies
    assert (sent["codeStr"], sent["provider"]) == ("Ok", "test")
    assert sms_sent(sms_api) == 0
    assert [wrong["codeStr"], right["codeStr"], again["codeStr"]] == ["CodeIsError", "Success", "CodeHasExpired"]
    claims = jwt.decode(right["token"], options={"verify_signature": False})
    assert claims["amr"] == ["sms", "test"]
    lines = [json.loads(line) for line in formatted]
    invocations = [line for line in lines if line.get("message") == "invocation"]
    assert len(invocations) == 4 and all(line["testNumber"] is True for line in invocations)
    assert FIXED not in json.dumps(lines)


def run_flow(handler) -> list[dict]:
    return [answer(handler(event, {})) for event in (
        get_sms(TEST_NUMBER[1:]), login(TEST_NUMBER[1:], "135790"), login(TEST_NUMBER[1:], FIXED),
        login(TEST_NUMBER[1:], FIXED))]


def test_a_test_number_keeps_every_other_rule(handler, sms_api):
    assert answer(handler(get_sms(TEST_NUMBER[1:]), {}))["codeStr"] == "Ok"
    assert answer(handler(get_sms(TEST_NUMBER[1:]), {}))["codeStr"] == "TooFrequent"
    # An ordinary number still gets an SMS and an ordinary token.
    assert answer(handler(get_sms("8613900139000"), {}))["codeStr"] == "Ok"
    assert sms_sent(sms_api) == 1


@pytest.mark.parametrize("value", ["+8613800000000:123", "+85212345678:246810", "13800000000:246810", "+8613800000000:24681x"])
def test_a_bad_test_number_fails_start_up(value, redis_url, sms_api, clock):
    with pytest.raises(ConfigError) as refused:
        create_handler(tencent_env(redis_url, sms_api, TEST_PHONE_NUMBERS=value), clock=clock)
    assert "TEST_PHONE_NUMBERS" in [variable for variable, _ in refused.value.problems]
