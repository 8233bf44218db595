"""Tests of the Ronglian emulator's authentication, driven by requests built by hand from the Ronglian sources.

The requests here never use the emulator's own helpers: the ``sig`` is
``hashlib.md5(accountSid + authToken + timestamp)`` uppercased, the
``Authorization`` header ``base64(accountSid:timestamp)``, the timestamp
``yyyyMMddHHmmss`` in Beijing time, exactly as the REST doc and
``ronglian_sms_sdk`` do it.  Proven: a correctly signed request succeeds with
the documented answer shape and is recorded; the timestamp is accepted within
24 hours; each authentication check answers its code (and sends / counts
nothing). The body rules, limits and knobs are exercised by the senders' tests
(tests/integration/test_sender_contract.py, test_providers.py).
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

from tests.support.emulators.ronglian import RONGLIAN_ERRORS, RonglianEmulator

ACCOUNT_SID = "8aaf0708emulatorACCOUNTsid000001"
AUTH_TOKEN = "ronglian-auth-token-for-tests"  # pragma: allowlist secret
APP_ID = "8aaf0708emulatorAPPid00000000001"
PHONE = "13800138000"
SUCCESS = "000000"
BEIJING = timezone(timedelta(hours=8))
TEMPLATES = {"1": 2, "100001": 2, "200002": 0}

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


def assert_refused(emu, response, code):
    assert response.status_code == 200
    assert response.json() == {"statusCode": code, "statusMsg": RONGLIAN_ERRORS[code]}
    assert emu.sent == []
    assert emu.daily_count(PHONE, "100001") == 0 and emu.daily_count(PHONE, "1") == 0
    assert emu.requests[-1]["code"] == code


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


@pytest.mark.parametrize("seconds", [-24 * 3600 + 60, 24 * 3600 - 60])
def test_timestamp_within_24_hours_is_accepted(emu, seconds):
    assert send(emu, ts_offset=seconds).json()["statusCode"] == SUCCESS


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
