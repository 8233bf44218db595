"""Tests of the Zhenzi emulator, driven by requests built by hand from the Zhenzi sources.

Requests follow the official v2 SDKs: form-urlencoded POSTs carrying
``appId`` and ``appSecret`` in the body; ``/sms/v2/send.do`` with
``number``, ``templateId``, ``templateParams`` (a JSON-encoded array of
strings) and optional ``messageId`` / ``clientIp``; ``/account/balance.do``;
``/smslog/findSmsByMessageId.do``.  Proven: a correct send succeeds with the
documented answer, is recorded and can be looked up by its ``messageId``;
every check of the module docstring answers its code and sends / counts /
bills nothing; balance (108) and the per-number daily limit (109, Beijing
day); ``force_code`` for every code of :data:`ZHENZI_ERRORS`.  Common knobs:
``test_emulator_http.py``.
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.support.emulators.zhenzi import ZHENZI_BALANCE_ERRORS, ZHENZI_ERRORS, ZhenziEmulator

APP_ID = "108001"
APP_SECRET = "zhenzi-app-secret-for-tests-0123"  # pragma: allowlist secret
PHONE = "13800138000"
OTHER_PHONE = "13900139000"
SUCCESS = "0"
SECRETS = (APP_SECRET,)
TEMPLATES = {"1001": 2, "1002": 0}
SEND, BALANCE, FIND = "/sms/v2/send.do", "/account/balance.do", "/smslog/findSmsByMessageId.do"

#: The codes of the Zhenzi sources table, transcribed.
DOCUMENTED_CODES = {100, 101, 105, 106, 107, 108, 109, 110, 111, 117, 1000}


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


def send_ok(emu, *, phone=PHONE, session=requests, timeout=5):
    return send(emu, number=phone, session=session, timeout=timeout)


def answer_code(response) -> str:
    return str(response.json()["code"])


def assert_refused(emu, response, code, balance=100):
    assert response.status_code == 200
    assert response.json() == {"code": code, "data": ZHENZI_ERRORS[code].split(" (")[0]}
    assert emu.sent == [] and emu.messages == {}
    assert emu.daily_count(PHONE) == 0 and emu.balance == balance
    assert emu.requests[-1]["code"] == str(code)


# --------------------------------------------------------------------- tables
def test_zhenzi_error_table_is_the_documented_one():
    assert set(ZHENZI_ERRORS) == DOCUMENTED_CODES
    assert ZHENZI_BALANCE_ERRORS == {100, 105, 106, 107, 110, 1000}


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


def test_optional_fields_and_parameterless_template(emu):
    assert answer_code(send(emu, messageId=_ABSENT, clientIp=_ABSENT)) == SUCCESS
    assert answer_code(send(emu, templateId="1002", templateParams=_ABSENT, messageId="req-2")) == SUCCESS
    assert answer_code(send(emu, templateId="1002", templateParams="[]", messageId="req-3")) == SUCCESS
    assert [(m["message_id"], m["client_ip"], m["params"]) for m in emu.sent] == [
        (None, None, ["123456", "5分钟"]), ("req-2", "203.0.113.7", []), ("req-3", "203.0.113.7", []),
    ]
    assert set(emu.messages) == {"req-2", "req-3"}


@pytest.mark.parametrize("message_id, code", [("", 100), ("never-sent", 100)])
def test_find_refusals(emu, message_id, code):
    send(emu)
    answer = post(emu, FIND, {"messageId": message_id}).json()
    assert answer == {"code": code, "data": ZHENZI_ERRORS[code].split(" (")[0]}


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


def test_json_body_is_not_a_form(emu):
    body = {"appId": APP_ID, "appSecret": APP_SECRET, **send_fields()}
    assert_refused(emu, requests.post(emu.url + SEND, json=body, timeout=5), 100)


# ----------------------------------------------------------------- send rules
@pytest.mark.parametrize("overrides, code", [
    ({"number": ""}, 100),
    ({"number": _ABSENT}, 100),
    ({"number": "+8613800138000"}, 100),
    ({"number": "8613800138000"}, 100),
    ({"number": "1380013800"}, 100),
    ({"number": f"{PHONE},{OTHER_PHONE}"}, 100),
    ({"number": "１３８００１３８０００"}, 100),
    ({"templateId": ""}, 100),
    ({"templateId": _ABSENT}, 100),
    ({"templateId": "9999"}, 117),
    ({"templateParams": ""}, 100),
    ({"templateParams": _ABSENT}, 100),
    ({"templateParams": "123456;5分钟"}, 100),                    # joined, not JSON
    ({"templateParams": "123456"}, 100),                          # JSON, but not an array
    ({"templateParams": '{"code": "123456"}'}, 100),
    ({"templateParams": "[123456, \"5分钟\"]"}, 100),              # a number, not a string
    ({"templateParams": "['123456', '5']"}, 100),                 # Python repr, not JSON
    ({"templateParams": '["123456"]'}, 117),
    ({"templateParams": '["123456", "5", "x"]'}, 117),
    ({"templateId": "1002", "templateParams": '["x"]'}, 117),
], ids=lambda v: v if isinstance(v, int) else None)
def test_send_refusals(emu, overrides, code):
    assert_refused(emu, send(emu, **overrides), code)


def test_zhenzi_wrong_path_and_method(emu):
    assert post(emu, "/sms/send.do", {"number": PHONE, "message": "x"}).status_code == 404
    assert requests.get(emu.url + SEND, params=send_fields(), timeout=5).status_code == 405
    assert emu.sent == []


# ---------------------------------------------------------- balance and limits
def test_balance_runs_out_with_108():
    with make_emulator(balance=1) as emu:
        assert answer_code(send(emu)) == SUCCESS
        assert send(emu).json() == {"code": 108, "data": "余额不足"}
        assert post(emu, BALANCE, {}).json() == {"code": 0, "data": 0}
        assert len(emu.sent) == 1
        emu.reset()
        assert emu.balance == 1 and emu.messages == {}


def test_daily_limit_per_number():
    with make_emulator(daily_limit=2) as emu:
        assert [answer_code(send(emu)) for _ in range(3)] == ["0", "0", "109"]
        assert (emu.daily_count(PHONE), emu.balance) == (2, 98)
        assert answer_code(send(emu, number=OTHER_PHONE)) == SUCCESS


# ----------------------------------------------------------------- force_code
def test_force_code_comes_after_validation_and_spares_other_calls(emu):
    emu.force_code = 1000
    assert answer_code(send(emu, templateId="9999")) == "117"
    assert post(emu, BALANCE, {}).json() == {"code": 0, "data": 100}
    emu.force_code = None
    assert answer_code(send_ok(emu)) == SUCCESS
