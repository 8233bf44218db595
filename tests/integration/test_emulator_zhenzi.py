"""Tests of the Zhenzi emulator's authentication, driven by requests built by hand from the Zhenzi sources.

Requests follow the official v2 SDKs: form-urlencoded POSTs carrying
``appId`` and ``appSecret`` in the body (the API has no signature).  Proven:
a correct send succeeds with the documented answer, is recorded and can be
looked up by its ``messageId``; every path refuses an empty, absent or wrong
``appId``/``appSecret`` with its code and sends / counts / bills nothing;
credentials in the query string are not read. The send rules, limits and knobs
are exercised by the senders' tests (tests/integration/test_sender_contract.py,
test_providers.py, test_provider_classification.py).
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.support.emulators.zhenzi import ZHENZI_ERRORS, ZhenziEmulator

APP_ID = "108001"
APP_SECRET = "zhenzi-app-secret-for-tests-0123"  # pragma: allowlist secret
PHONE = "13800138000"
TEMPLATES = {"1001": 2, "1002": 0}
SEND, BALANCE, FIND = "/sms/v2/send.do", "/account/balance.do", "/smslog/findSmsByMessageId.do"

def make_emulator(**overrides) -> ZhenziEmulator:
    return ZhenziEmulator(APP_ID, APP_SECRET, **{"templates": TEMPLATES, **overrides})


@pytest.fixture
def emu():
    with make_emulator() as emulator:
        yield emulator
        assert emulator.internal_errors == []


_ABSENT = object()


def post(emu, path, fields, *, app_id=APP_ID, app_secret=APP_SECRET, session=requests, timeout=5, **kw):
    body = {"appId": app_id, "appSecret": app_secret, **fields}
    body = {k: v for k, v in body.items() if v is not _ABSENT}
    return session.post(emu.url + path, data=body, timeout=timeout, **kw)


def send_fields(**overrides) -> dict:
    fields = {"number": PHONE, "templateId": "1001",
              "templateParams": json.dumps(["123456", "5分钟"], ensure_ascii=False),
              "messageId": "req-0001", "clientIp": "203.0.113.7"}
    fields.update(overrides)
    return fields


def send(emu, session=requests, timeout=5, **overrides):
    return post(emu, SEND, send_fields(**overrides), session=session, timeout=timeout)


def assert_refused(emu, response, code, balance=100):
    assert response.status_code == 200
    assert response.json() == {"code": code, "data": ZHENZI_ERRORS[code].split(" (")[0]}
    assert emu.sent == [] and emu.messages == {}
    assert emu.daily_count(PHONE) == 0 and emu.balance == balance
    assert emu.requests[-1]["code"] == str(code)


# -------------------------------------------------------------------- success
def test_send_succeeds_is_recorded_and_can_be_looked_up(emu, capfd):
    response = send(emu)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    assert response.json() == {"code": 0, "data": "发送成功"}
    (record,) = emu.sent_to(PHONE)
    assert {k: record[k] for k in ("phone", "params", "message_id", "template_id", "client_ip")} == {
        "phone": PHONE, "params": ["123456", "5分钟"], "message_id": "req-0001",
        "template_id": "1001", "client_ip": "203.0.113.7",
    }
    assert (emu.balance, emu.daily_count(PHONE)) == (99, 1)

    found = post(emu, FIND, {"messageId": "req-0001"}).json()
    assert found["code"] == 0
    data = found["data"]
    assert set(data) == {"message", "appName", "createTime", "status", "toNumber", "messageId"}
    assert (data["status"], data["toNumber"], data["messageId"]) == ("success", PHONE, "req-0001")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", data["createTime"])
    assert data["message"] == '1001:["123456", "5分钟"]'

    assert post(emu, BALANCE, {}).json() == {"code": 0, "data": 99}
    assert [r["code"] for r in emu.requests] == ["0", "0", "0"]
    assert emu.requests[0] == {"method": "POST", "path": SEND, "code": "0", "fields": [
        "appId", "appSecret", "clientIp", "messageId", "number", "templateId", "templateParams"]}
    assert APP_SECRET not in repr(emu.requests) + repr(emu.sent)
    assert capfd.readouterr() == ("", "")


# ------------------------------------------------------------- authentication
@pytest.mark.parametrize("path, fields", [
    (SEND, send_fields()), (BALANCE, {}), (FIND, {"messageId": "req-0001"}),
], ids=["send", "balance", "find"])
@pytest.mark.parametrize("credentials, code", [
    ({"app_id": ""}, 100),
    ({"app_id": _ABSENT}, 100),
    ({"app_id": "999999"}, 105),
    ({"app_secret": ""}, 100),
    ({"app_secret": _ABSENT}, 100),
    ({"app_secret": "wrong-secret"}, 110),  # pragma: allowlist secret
], ids=["id-empty", "id-absent", "id-wrong", "secret-empty", "secret-absent", "secret-wrong"])
def test_authentication_on_every_path(emu, path, fields, credentials, code):
    assert_refused(emu, post(emu, path, fields, **credentials), code)


def test_credentials_are_read_from_the_body_only(emu):
    """A secret in the URL (which lands in access logs) is not accepted."""
    response = requests.post(emu.url + SEND, params={"appId": APP_ID, "appSecret": APP_SECRET},
                             data=send_fields(), timeout=5)
    assert_refused(emu, response, 100)
