"""``method=status``: a getSms -> delivery receipt -> status round trip through ``main_handler``, the
Tencent Cloud emulator and a real redis-server; status reveals nothing without the verificationId."""

from __future__ import annotations

import secrets

import pytest

from smsverify.edge.handler import create_handler
from tests.support import answer, get_sms, last_code, login, tencent_env

PHONE = "+8613800138000"
RECEIPT_PATH = "/sms/receipts/" + "r" * 8 + "Q7xk2LmP9vT4nW8c"


@pytest.fixture
def handler(redis_url, sms_api, clock):
    return create_handler(tencent_env(redis_url, sms_api, RECEIPT_PATH=RECEIPT_PATH), clock=clock)


def status(handler, vid: str | None, ip: str = "203.0.113.7") -> dict:
    extra = {"verificationId": vid} if vid is not None else {}
    event = get_sms(PHONE[1:], ip=ip, **extra)
    event["queryString"]["method"] = "status"
    return answer(handler(event, {}))


def receipt(handler, body: str) -> dict:
    event = {"httpMethod": "POST", "path": RECEIPT_PATH, "headers": {"content-type": "application/json"},
             "queryString": {}, "body": body, "isBase64Encoded": False,
             "requestContext": {"requestId": "receipt-1", "sourceIp": "203.0.113.200"}}
    return handler(event, {})


def test_sent_then_delivered_then_login(handler, sms_api):
    vid = secrets.token_urlsafe(24)
    assert answer(handler(get_sms(PHONE[1:], verificationId=vid), {}))["codeStr"] == "Ok"
    before = status(handler, vid)
    assert (before["codeStr"], before["delivery"], before["channel"]) == ("Ok", "sent", "sms")
    [serial] = [record["serial_no"] for record in sms_api.sent]
    assert receipt(handler, sms_api.callback_body(serial))["statusCode"] == 200
    after = status(handler, vid)
    assert (after["delivery"], after["description"]) == ("delivered", "DELIVRD")
    assert answer(handler(login(PHONE[1:], last_code(sms_api, PHONE), verificationId=vid), {}))["codeStr"] == "Success"
    assert status(handler, vid)["codeStr"] == "CodeHasExpired"  # used: nothing more to say


def test_a_failed_delivery_says_when_a_resend_is_allowed(handler, sms_api, clock):
    vid = secrets.token_urlsafe(24)
    assert answer(handler(get_sms(PHONE[1:], verificationId=vid), {}))["codeStr"] == "Ok"
    [serial] = [record["serial_no"] for record in sms_api.sent]
    receipt(handler, sms_api.callback_body(serial, report_status="FAIL", errmsg="MK:0001"))
    failed = status(handler, vid)
    assert (failed["delivery"], failed["resendAllowed"], failed["resendAfter"]) == ("failed", False, 60)
    assert failed["otherChannel"] is False  # no VOICE_SDKAPPID here
    clock.advance(60)
    assert status(handler, vid)["resendAllowed"] is True


def test_status_reveals_nothing_without_the_id(handler, sms_api):
    vid = secrets.token_urlsafe(24)
    assert answer(handler(get_sms(PHONE[1:], verificationId=vid), {}))["codeStr"] == "Ok"
    assert status(handler, secrets.token_urlsafe(24))["codeStr"] == "CodeHasExpired"
    assert status(handler, None)["codeStr"] == "InValidParam"
    assert answer(handler(get_sms("8613900139000"), {}))["codeStr"] == "Ok"  # a legacy code has no status


def test_status_is_rate_limited_per_client(handler, sms_api):
    from smsverify.store.base import STATUS_LIMIT

    vid = secrets.token_urlsafe(24)
    assert answer(handler(get_sms(PHONE[1:], verificationId=vid), {}))["codeStr"] == "Ok"
    codes = [status(handler, vid, ip="198.51.100.9")["codeStr"] for _ in range(STATUS_LIMIT + 1)]
    assert codes == ["Ok"] * STATUS_LIMIT + ["IpLimitExceeded"]
    assert status(handler, vid, ip="198.51.100.10")["codeStr"] == "Ok"
