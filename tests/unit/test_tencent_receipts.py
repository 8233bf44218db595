"""Tencent's status callback body -> DeliveryReport values (parse_callback), and the pulled form.

Facts: the callback is a JSON array of string fields (Tencent SMS "短信下发状态通知",
https://cloud.tencent.com/document/api/382/5807); ``user_receive_time`` is read as
Beijing time; the pulled ``PullSmsSendStatus`` entries carry E.164 numbers and unix seconds.
"""

from __future__ import annotations

import json

import pytest
from tencentcloud.sms.v20210111 import models

from smsverify.senders.receipts import DeliveryReport, DeliveryState, ReceiptParseError
from smsverify.senders.tencent_receipts import MAX_CALLBACK_ITEMS, _pulled, parse_callback

ITEM = {"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86", "mobile": "13800138000",
        "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": "5000:104571"}


def body(*items) -> bytes:
    return json.dumps(list(items), ensure_ascii=False).encode("utf-8")


def test_the_documented_example_becomes_one_report():
    [report] = parse_callback(body(ITEM), now=0)

    assert report == DeliveryReport(provider="tencent", serial_no="5000:104571", phone="+8613800138000",
                                    state=DeliveryState.DELIVERED, description="DELIVRD", received_at=1445040184)
    assert "13800138000" not in repr(report)


def test_fail_an_international_number_an_empty_time_and_extra_fields():
    item = {**ITEM, "report_status": "FAIL", "errmsg": "UNDELIV", "nationcode": "44", "mobile": "7700900123",
            "user_receive_time": "", "extra": [1, 2]}

    [report] = parse_callback(body(item), now=1_700_000_000.7)

    assert (report.state, report.phone, report.description, report.received_at) == (
        DeliveryState.FAILED, "+447700900123", "UNDELIV", 1_700_000_000)


def test_an_empty_array_is_no_report():
    assert parse_callback(b"[]", now=0) == []


@pytest.mark.parametrize("item, problem", [
    ({**ITEM, "sid": 5}, "[0].sid is not a string"),
    ({k: v for k, v in ITEM.items() if k != "mobile"}, "[0].mobile is missing"),
    ({**ITEM, "description": 3}, "[0].description is not a string"),
    ({**ITEM, "report_status": "success"}, "[0].report_status is neither SUCCESS nor FAIL"),
    ({**ITEM, "nationcode": "+86"}, "[0]: nationcode and mobile do not form a phone number"),
    ({**ITEM, "mobile": "1" * 20}, "[0]: nationcode and mobile do not form a phone number"),
    ({**ITEM, "sid": "a{b}"}, "[0].sid is not a SerialNo"),
    ({**ITEM, "user_receive_time": "2015-10-17T08:03:04Z"}, "[0].user_receive_time is not YYYY-MM-DD HH:MM:SS"),
    ({**ITEM, "errmsg": "x" * 257}, "[0].errmsg is longer than 256 characters"),
])
def test_each_wrong_field_is_named(item, problem):
    with pytest.raises(ReceiptParseError) as caught:
        parse_callback(body(ITEM, item), now=0)
    assert caught.value.problems[0].replace("[1]", "[0]").startswith(problem)


@pytest.mark.parametrize("raw, problem", [
    (b"\xff[]", "the body is not UTF-8 JSON"),
    (b"{}", "the body is not a JSON array of status reports"),
    (b"[" * 100_000, "the body is not UTF-8 JSON"),
    (body(*[ITEM] * (MAX_CALLBACK_ITEMS + 1)), "the body has more than 1000 status reports"),
    (b" " * (512 * 1024 + 1), "the body is larger than 524288 bytes"),
])
def test_a_malformed_body_is_one_error(raw, problem):
    with pytest.raises(ReceiptParseError) as caught:
        parse_callback(raw, now=0)
    assert caught.value.problems == [problem]


def test_at_most_ten_problems_are_listed():
    with pytest.raises(ReceiptParseError) as caught:
        parse_callback(body(*[{**ITEM, "sid": None}] * 30), now=0)
    assert len(caught.value.problems) == 10
    assert str(caught.value).endswith("and 20 more")


def _status(**fields) -> models.PullSmsSendStatus:
    status = models.PullSmsSendStatus()
    status._deserialize({"UserReceiveTime": 1620734188, "CountryCode": "86", "SubscriberNumber": "18501234444",
                         "PhoneNumber": "+8618501234444", "SerialNo": "5000:1045710669157053657849499619",
                         "ReportStatus": "SUCCESS", "Description": "DELIVRD", "SessionContext": "", **fields})
    return status


def test_a_pulled_status_becomes_a_report():
    assert _pulled(_status(), now=1) == DeliveryReport(
        "tencent", "5000:1045710669157053657849499619", "+8618501234444", DeliveryState.DELIVERED, "DELIVRD", 1620734188)
    assert _pulled(_status(PhoneNumber=""), now=1).phone == "+8618501234444"  # from CountryCode + SubscriberNumber
    assert _pulled(_status(UserReceiveTime=None), now=7).received_at == 7


@pytest.mark.parametrize("fields", [{"ReportStatus": "UNKNOWN"}, {"SerialNo": ""}, {"SerialNo": "a b"},
                                    {"PhoneNumber": "", "SubscriberNumber": ""}])
def test_an_unusable_pulled_status_is_skipped(fields):
    assert _pulled(_status(**fields), now=1) is None
