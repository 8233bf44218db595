"""The codeStr -> HTTP status table and the integration response.

Proven here:
- STATUS is exactly the protocol's table (issue "end to end" plus the hardening codes);
- every VerificationError subclass in smsverify.errors (found by introspection, so a new
  one cannot be forgotten) has a unique codeStr, a Chinese default msg and a STATUS entry;
- integration_response has exactly the API Gateway integration-response shape, its body
  is the payload as JSON with Chinese text unescaped, and Retry-After is present exactly
  when the payload has retryAfter.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest

from smsverify import errors
from smsverify.edge.responses import JSON_CONTENT_TYPE, STATUS, body, error_body, headers_for, integration_response
from smsverify.errors import VerificationError

#: What a status says, as the protocol's invariants (the statuses themselves are declared once, on the
#: error classes): a refusal of what the client sent is 4xx, a wait is 429 or 503 with retryAfter,
#: our own or a provider's failure 5xx.
CLIENT_ERRORS = range(400, 500)
SERVER_ERRORS = range(500, 600)
WAITS = {429, 503}

CJK = re.compile(r"[\u4e00-\u9fff]")


def all_error_classes() -> list[type[VerificationError]]:
    found, todo = [], [VerificationError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


ERROR_CLASSES = all_error_classes()


def test_the_status_table_is_declared_by_the_classes():
    assert STATUS == {"Ok": 200, "Success": 200, **{cls.code_str: cls.status for cls in ERROR_CLASSES}}
    for cls in ERROR_CLASSES:
        if "retryAfter" in cls.body_fields:
            assert cls.status in WAITS, cls
        expected = SERVER_ERRORS if cls.code_str in ("InternalError", "SmsSendFailed", "SmsSendTimeout",
                                                    "ServiceBusy", "ServiceUnavailable", "ReceiptPullFailed") else CLIENT_ERRORS
        assert cls.status in expected, cls


@pytest.mark.parametrize("code_str, status", sorted(STATUS.items()))
def test_each_code_str_answers_its_status(code_str, status):
    assert integration_response(body(code_str, "消息", "rid"))["statusCode"] == status


def test_introspection_finds_every_error_class_of_the_module():
    in_module = {obj for _, obj in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(obj, VerificationError) and obj.__module__ == errors.__name__}
    assert in_module == set(ERROR_CLASSES)
    assert len(ERROR_CLASSES) >= 16


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_has_a_status_and_a_chinese_msg(cls):
    assert cls.code_str in STATUS
    assert STATUS[cls.code_str] >= 400
    assert CJK.search(cls.default_msg)
    assert cls().msg == cls.default_msg


def test_code_strs_are_unique():
    code_strs = [cls.code_str for cls in ERROR_CLASSES]
    assert len(code_strs) == len(set(code_strs))


def test_invalid_param_keeps_the_demo_spelling():
    assert errors.InvalidParam.code_str == "InValidParam"


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_integration_response_shape_for_every_error(cls):
    payload = error_body(cls(), "req-1")
    response = integration_response(payload)
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}
    assert response["isBase64Encoded"] is False
    assert response["statusCode"] == cls.status
    assert response["headers"] == {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store"}
    assert json.loads(response["body"]) == {"codeStr": cls.code_str, "msg": cls.default_msg, "requestId": "req-1"}


def test_content_type_is_json_utf8():
    assert JSON_CONTENT_TYPE == "application/json; charset=utf-8"


def test_success_bodies_carry_their_fields():
    payload = body("Ok", "验证码已发送", "req-2", expiresIn=300, resendAfter=60)
    assert payload == {"codeStr": "Ok", "msg": "验证码已发送", "requestId": "req-2", "expiresIn": 300, "resendAfter": 60}
    assert list(payload)[:3] == ["codeStr", "msg", "requestId"]
    response = integration_response(payload)
    assert response["statusCode"] == 200 and json.loads(response["body"]) == payload


def test_error_fields_and_custom_msg_reach_the_body():
    payload = error_body(errors.CodeIsError("自定义", attemptsLeft=2), "req-3")
    assert payload == {"codeStr": "CodeIsError", "msg": "自定义", "requestId": "req-3", "attemptsLeft": 2}


@pytest.mark.parametrize(
    "error, retry_after",
    [
        (errors.TooFrequent(retryAfter=42), "42"),
        (errors.ServiceBusy(retryAfter=1), "1"),
        (errors.VerifyLimitExceeded(retryAfter=50310), "50310"),
    ],
)
def test_retry_after_header_only_with_retry_after(error, retry_after):
    response = integration_response(error_body(error, "rid"))
    assert response["headers"]["Retry-After"] == retry_after
    assert json.loads(response["body"])["retryAfter"] == int(retry_after)


@pytest.mark.parametrize(
    "error",
    [errors.TooFrequent(), errors.CodeIsError(attemptsLeft=2), errors.SmsSendFailed(providerCode="FailedOperation.X")],
    ids=["limit-without-retryAfter", "attemptsLeft", "providerCode"],
)
def test_no_retry_after_header_without_retry_after(error):
    assert "Retry-After" not in integration_response(error_body(error, "rid"))["headers"]
    assert "Retry-After" not in headers_for(error_body(error, "rid"))


def test_chinese_msg_is_not_escaped():
    response = integration_response(error_body(errors.CodeHasExpired(), "rid"))
    assert "验证码已过期" in response["body"]
    assert "\\u" not in response["body"]
