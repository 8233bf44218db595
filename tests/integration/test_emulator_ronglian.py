"""Tests of the Ronglian emulator, driven by requests built by hand from the Ronglian sources.

The requests here never use the emulator's own helpers: the ``sig`` is
``hashlib.md5(accountSid + authToken + timestamp)`` uppercased, the
``Authorization`` header ``base64(accountSid:timestamp)``, the timestamp
``yyyyMMddHHmmss`` in Beijing time, exactly as the REST doc and
``ronglian_sms_sdk`` do it.  Proven: a correct request succeeds with the
documented answer shape and is recorded; every check of the module docstring
answers its code (and sends / counts nothing); the per-number-per-template
daily limit and its Beijing-time day; ``force_code`` for every code of
:data:`RONGLIAN_ERRORS`.  The common knobs (delay, http_status, down/up) are
proven for all three providers in ``test_emulator_http.py``, which reuses
:func:`send_ok`, :func:`answer_code` and :func:`make_emulator` from here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.support.emulators.ronglian import RONGLIAN_ERRORS, RONGLIAN_SDK_ONLY_CODES, RonglianEmulator

ACCOUNT_SID = "8aaf0708emulatorACCOUNTsid000001"
AUTH_TOKEN = "ronglian-auth-token-for-tests"  # pragma: allowlist secret
APP_ID = "8aaf0708emulatorAPPid00000000001"
PHONE = "13800138000"
OTHER_PHONE = "13900139000"
SUCCESS = "000000"
SECRETS = (AUTH_TOKEN,)
BEIJING = timezone(timedelta(hours=8))
TEMPLATES = {"1": 2, "100001": 2, "200002": 0}

#: The codes of the Ronglian sources table, transcribed (161100-161108 expanded).
DOCUMENTED_CODES = {
    "112300", "112306", "112307", "112308", "112310", "112311", "112314", "112318", "112323",
    "113302", "160038", "160039", "160040", "160041", "160042", "160043", "160044", "160048",
    "160052", "160053", "160057", "161100", "161101", "161102", "161103", "161104", "161105",
    "161106", "161107", "161108", "161125",
}


def make_emulator(**overrides) -> RonglianEmulator:
    kwargs = {"templates": TEMPLATES, **overrides}
    return RonglianEmulator(ACCOUNT_SID, AUTH_TOKEN, APP_ID, **kwargs)


@pytest.fixture
def emu():
    with make_emulator() as emulator:
        yield emulator
        assert emulator.internal_errors == []


def beijing_timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y%m%d%H%M%S")


def valid_body(**overrides) -> dict:
    body = {"to": PHONE, "appId": APP_ID, "templateId": "100001", "datas": ["123456", "5"]}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not _ABSENT}


_ABSENT = object()


def send(emu, body=None, *, sid=ACCOUNT_SID, path_sid=None, token=AUTH_TOKEN, ts=None, ts_offset=0, sig=None,
         authorization=None, headers=None, raw_body=None, method="POST", session=requests, timeout=5):
    """A TemplateSMS call built from the doc; each keyword tampers one part of it."""
    ts = beijing_timestamp(emu.clock() + ts_offset) if ts is None else ts
    if sig is None:
        sig = hashlib.md5((sid + token + ts).encode()).hexdigest().upper()
    if authorization is None:
        authorization = base64.b64encode(f"{sid}:{ts}".encode()).decode()
    all_headers = {
        "Accept": "application/json",
        "Content-Type": "application/json;charset=utf-8",
        "Authorization": authorization,
    }
    all_headers.update(headers or {})
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    data = raw_body if raw_body is not None else json.dumps(valid_body() if body is None else body).encode()
    url = f"{emu.url}/2013-12-26/Accounts/{path_sid or sid}/SMS/TemplateSMS"
    return session.request(method, url, params={"sig": sig} if sig != "" else None,
                           headers=all_headers, data=data, timeout=timeout)


def send_ok(emu, *, phone=PHONE, session=requests, timeout=5):
    return send(emu, valid_body(to=phone), session=session, timeout=timeout)


def answer_code(response) -> str:
    return response.json()["statusCode"]


def assert_refused(emu, response, code):
    assert response.status_code == 200
    assert response.json() == {"statusCode": code, "statusMsg": RONGLIAN_ERRORS[code]}
    assert emu.sent == []
    assert emu.daily_count(PHONE, "100001") == 0 and emu.daily_count(PHONE, "1") == 0
    assert emu.requests[-1]["code"] == code


# --------------------------------------------------------------------- tables
def test_ronglian_error_table_is_the_documented_one():
    assert set(RONGLIAN_ERRORS) == DOCUMENTED_CODES
    assert SUCCESS not in RONGLIAN_ERRORS and "172001" in RONGLIAN_SDK_ONLY_CODES
    assert RONGLIAN_ERRORS["161125"] == "请输入1到4位的数字"


# -------------------------------------------------------------------- success
def test_signed_request_succeeds_and_is_recorded(emu, capfd):
    before = beijing_timestamp(time.time() - 1)
    response = send(emu)
    after = beijing_timestamp(time.time() + 1)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    answer = response.json()
    assert set(answer) == {"statusCode", "templateSMS"} and answer["statusCode"] == SUCCESS
    assert set(answer["templateSMS"]) == {"dateCreated", "smsMessageSid"}
    created, message_id = answer["templateSMS"]["dateCreated"], answer["templateSMS"]["smsMessageSid"]
    assert before <= created <= after and re.fullmatch(r"[0-9a-f]{32}", message_id)
    assert emu.sent_to(PHONE) == [{
        "phone": PHONE, "params": ["123456", "5"], "message_id": message_id,
        "template_id": "100001", "app_id": APP_ID, "date_created": created,
    }]
    assert emu.daily_count(PHONE, "100001") == 1
    (record,) = emu.requests
    assert record == {"method": "POST", "path": f"/2013-12-26/Accounts/{ACCOUNT_SID}/SMS/TemplateSMS",
                      "fields": ["appId", "datas", "sig", "templateId", "to"], "code": SUCCESS}
    assert AUTH_TOKEN not in repr(emu.requests) + repr(emu.sent)
    assert capfd.readouterr() == ("", "")


def test_several_numbers_share_one_message_id(emu):
    answer = send(emu, valid_body(to=f"{PHONE},{OTHER_PHONE}")).json()
    message_id = answer["templateSMS"]["smsMessageSid"]
    assert [(m["phone"], m["message_id"]) for m in emu.sent] == [(PHONE, message_id), (OTHER_PHONE, message_id)]


def test_two_hundred_numbers_are_accepted(emu):
    numbers = [f"1380000{i:04d}" for i in range(200)]
    assert answer_code(send(emu, valid_body(to=",".join(numbers)))) == SUCCESS
    assert len(emu.sent) == 200


@pytest.mark.parametrize("body", [
    valid_body(templateId=100001),                      # a JSON integer id
    valid_body(templateId="200002", datas=_ABSENT),     # no parameters, no datas
    valid_body(templateId="200002", datas=[]),
    valid_body(templateId="1", datas=["1234", "5"]),    # test template, 4 digits
    valid_body(templateId="1", datas=["7", "5"]),       # test template, 1 digit
], ids=["int-template", "no-datas", "empty-datas", "test-4-digits", "test-1-digit"])
def test_accepted_variants(emu, body):
    assert answer_code(send(emu, body)) == SUCCESS
    assert len(emu.sent) == 1


@pytest.mark.parametrize("seconds", [-24 * 3600 + 60, 24 * 3600 - 60])
def test_timestamp_within_24_hours_is_accepted(emu, seconds):
    assert answer_code(send(emu, ts_offset=seconds)) == SUCCESS


def test_sig_case_and_content_type_spelling(emu):
    assert answer_code(send(emu, headers={"Content-Type": "application/json; charset=UTF-8"})) == SUCCESS
    assert answer_code(send(emu, headers={"Accept": "application/json, text/plain"})) == SUCCESS


# ------------------------------------------------------------ authentication
def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("kwargs, code", [
    ({"authorization": ""}, "161101"),
    ({"authorization": "Basic " + b64(f"{ACCOUNT_SID}:20240101000000")}, "161102"),
    ({"authorization": "not base64 at all!"}, "161102"),
    ({"authorization": b64(ACCOUNT_SID)}, "161102"),                       # no colon
    ({"authorization": base64.b64encode(b"\xff\xfe:x").decode()}, "161102"),  # not UTF-8
    ({"ts": "2024-01-01 00:00"}, "161108"),
    ({"ts": "20241301000000"}, "161108"),                                  # month 13
    ({"ts": str(int(time.time()))}, "161108"),                             # Unix time
    ({"ts_offset": -24 * 3600 - 60}, "161106"),
    ({"ts_offset": 24 * 3600 + 60}, "161106"),
    ({"path_sid": "8aaf0708otherACCOUNTsid0000000002"}, "161103"),
    ({"sid": "8aaf0708otherACCOUNTsid0000000002"}, "161100"),              # unknown account
    ({"token": "wrong-token"}, "161100"),
    ({"sig": hashlib.md5(f"{ACCOUNT_SID}{AUTH_TOKEN}".encode()).hexdigest().upper()}, "161100"),
    ({"sig": ""}, "161100"),                                               # no sig parameter
], ids=["empty", "basic-prefix", "garbage", "no-colon", "not-utf8", "ts-format", "ts-month",
        "ts-unix", "ts-old", "ts-future", "sid-mismatch", "unknown-sid", "wrong-token", "sig-without-ts",
        "no-sig"])
def test_authentication_failures(emu, kwargs, code):
    assert_refused(emu, send(emu, **kwargs), code)


def test_lowercase_sig_is_refused(emu):
    ts = beijing_timestamp(time.time())
    lower = hashlib.md5(f"{ACCOUNT_SID}{AUTH_TOKEN}{ts}".encode()).hexdigest()
    assert_refused(emu, send(emu, ts=ts, sig=lower), "161100")


def test_sig_and_authorization_must_share_the_timestamp(emu):
    ts = beijing_timestamp(time.time())
    other = beijing_timestamp(time.time() - 60)
    sig = hashlib.md5(f"{ACCOUNT_SID}{AUTH_TOKEN}{other}".encode()).hexdigest().upper()
    assert_refused(emu, send(emu, ts=ts, sig=sig), "161100")


# ------------------------------------------------------------- HTTP level
@pytest.mark.parametrize("kwargs, status", [
    ({"headers": {"Content-Type": "application/json"}}, 415),           # no charset
    ({"headers": {"Content-Type": "application/xml;charset=utf-8"}}, 415),
    ({"headers": {"Content-Type": None}}, 415),
    ({"headers": {"Accept": None}}, 406),
    ({"headers": {"Accept": "*/*"}}, 406),
    ({"headers": {"Accept": "application/xml"}}, 406),
    ({"raw_body": b"{not json"}, 400),
    ({"raw_body": b'["to"]'}, 400),
    ({"raw_body": '{"to": "中"}'.encode("gbk")}, 400),
    ({"method": "GET"}, 405),
], ids=["ct-no-charset", "ct-xml", "ct-missing", "accept-missing", "accept-any", "accept-xml",
        "bad-json", "json-array", "not-utf8", "get"])
def test_http_level_refusals(emu, kwargs, status):
    response = send(emu, **kwargs)
    assert response.status_code == status and response.headers["Content-Type"] == "text/html"
    assert emu.sent == [] and emu.requests[-1]["code"] == f"HTTP {status}"


def test_unknown_path_is_404(emu):
    response = requests.post(f"{emu.url}/2013-12-26/Accounts/{ACCOUNT_SID}/SMS/Other", timeout=5)
    assert response.status_code == 404 and emu.sent == []


# --------------------------------------------------------------- body fields
@pytest.mark.parametrize("body, code", [
    (valid_body(to=_ABSENT), "112300"),
    (valid_body(to=None), "112300"),
    (valid_body(to=""), "160044"),
    (valid_body(to=" "), "160044"),
    (valid_body(to=13800138000), "160042"),
    (valid_body(to=[PHONE]), "160042"),
    (valid_body(to="+8613800138000"), "160042"),
    (valid_body(to="8613800138000"), "160042"),
    (valid_body(to="1380013800"), "160042"),
    (valid_body(to="23800138000"), "160042"),
    (valid_body(to=f"{PHONE}, {OTHER_PHONE}"), "160042"),
    (valid_body(to=f"{PHONE},"), "160042"),
    (valid_body(to="１３８００１３８０００"), "160042"),                  # full-width digits
    (valid_body(to=",".join([PHONE] * 201)), "160048"),
    (valid_body(appId="other-app"), "160043"),
    (valid_body(appId=_ABSENT), "160043"),
    (valid_body(templateId=_ABSENT), "112307"),
    (valid_body(templateId=""), "112307"),
    (valid_body(templateId="abc"), "160057"),
    (valid_body(templateId="1e5"), "160057"),
    (valid_body(templateId=["1"]), "160057"),
    (valid_body(templateId="999999"), "112311"),
    (valid_body(datas=_ABSENT), "112308"),
    (valid_body(datas=[]), "112308"),
    (valid_body(datas="123456,5"), "160052"),
    (valid_body(datas=[123456, "5"]), "160052"),
    (valid_body(datas=["123456"]), "160052"),
    (valid_body(datas=["123456", "5", "x"]), "160052"),
    (valid_body(templateId="200002", datas=["x"]), "160052"),
    (valid_body(templateId="1", datas=["123456", "5"]), "161125"),
    (valid_body(templateId="1", datas=["12345", "5"]), "161125"),
    (valid_body(templateId="1", datas=["12a4", "5"]), "161125"),
    (valid_body(templateId="1", datas=["", "5"]), "161125"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_body_field_failures(emu, body, code):
    assert_refused(emu, send(emu, body), code)


def test_test_template_reaches_only_registered_test_numbers():
    with make_emulator(test_numbers={PHONE}) as emu:
        test_body = valid_body(templateId="1", datas=["1234", "5"])
        assert answer_code(send(emu, {**test_body, "to": OTHER_PHONE})) == "113302"
        assert answer_code(send(emu, {**test_body, "to": f"{PHONE},{OTHER_PHONE}"})) == "113302"
        assert emu.sent == []
        assert answer_code(send(emu, test_body)) == SUCCESS
        # The restriction is the test template's: an approved template reaches anyone.
        assert answer_code(send(emu, valid_body(to=OTHER_PHONE))) == SUCCESS
        assert [m["phone"] for m in emu.sent] == [PHONE, OTHER_PHONE]


# ---------------------------------------------------------------- daily limit
def test_daily_limit_per_number_and_template():
    with make_emulator(daily_limit=3) as emu:
        for _ in range(3):
            assert answer_code(send_ok(emu)) == SUCCESS
        refused = send_ok(emu)
        assert refused.json() == {"statusCode": "160040", "statusMsg": RONGLIAN_ERRORS["160040"]}
        assert emu.daily_count(PHONE, "100001") == 3 and len(emu.sent) == 3
        # Another number, or another template to the same number, still goes out.
        assert answer_code(send_ok(emu, phone=OTHER_PHONE)) == SUCCESS
        assert answer_code(send(emu, valid_body(templateId="1", datas=["1234", "5"]))) == SUCCESS
        # A batch with one number over its limit is refused as a whole.
        assert answer_code(send(emu, valid_body(to=f"{OTHER_PHONE},{PHONE}"))) == "160040"
        assert len(emu.sent) == 5


# ----------------------------------------------------------------- force_code
def test_force_code_comes_after_validation(emu):
    emu.force_code = "160038"
    assert answer_code(send(emu, token="wrong-token")) == "161100"
    assert answer_code(send(emu, valid_body(to="123"))) == "160042"
    emu.force_code = None
    assert answer_code(send_ok(emu)) == SUCCESS
