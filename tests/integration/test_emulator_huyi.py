"""Tests of the ihuyi emulator's authentication, driven by requests built by hand from the Huyi sources.

Requests follow the official doc v3.3 and demos: a form POST to
``/webservice/sms.php?method=Submit`` with ``account``, the dynamic
``password`` ``md5(account+apikey+mobile+content+time)`` computed here with
``hashlib``, ``mobile``, ``content``, ``time`` and ``format``.  Proven: a
correctly signed request succeeds and is recorded; ``time`` is accepted within
300 s; an empty account or password, a wrong key, a password signing other
fields, an upper-case or stale dynamic password are refused with their codes
and send / count / bill nothing; the plain APIKEY is accepted but counted in
``plain_key_requests``. The content rules, limits and knobs are exercised by
the senders' tests (tests/integration/test_sender_contract.py, test_providers.py).
"""

from __future__ import annotations

import hashlib
import re
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.support import HUYI_ERRORS, HuyiEmulator

ACCOUNT = "C12345678"  # pragma: allowlist secret (an APIID, not a secret)
API_KEY = "huyi-api-key-for-tests-0123456789"  # pragma: allowlist secret
PHONE = "13800138000"
OTHER_PHONE = "13900139000"
SUCCESS = "2"
TEMPLATE = "您的验证码是：【变量】。请不要把验证码泄露给其他人。"
MINUTES_TEMPLATE = "您的验证码是：【变量】，【变量】分钟内有效。"
NS = "{106.ihuyi.com}"

def make_emulator(**overrides) -> HuyiEmulator:
    return HuyiEmulator(ACCOUNT, API_KEY, **{"templates": [TEMPLATE, MINUTES_TEMPLATE], **overrides})


@pytest.fixture
def emu():
    with make_emulator() as emulator:
        yield emulator
        assert emulator.internal_errors == []


def content(code: str = "123456") -> str:
    return f"您的验证码是：{code}。请不要把验证码泄露给其他人。"


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def submit_fields(*, mobile=PHONE, text=None, unix_time=None, time_offset=0, account=ACCOUNT, key=API_KEY,
                  password=None, fmt="json") -> dict:
    text = content() if text is None else text
    unix_time = str(int(time.time()) + time_offset) if unix_time is None else unix_time
    if password is None:
        password = md5((account or "") + key + mobile + text + unix_time)
    fields = {"account": account, "password": password, "mobile": mobile, "content": text,
              "time": unix_time, "format": fmt}
    return {k: v for k, v in fields.items() if v is not None}


def submit(emu, fields=None, *, method="POST", query=None, session=requests, timeout=5, **kw):
    """``sms.php?method=Submit``: fields in the form body (POST) or the query (GET)."""
    fields = submit_fields(**kw) if fields is None else fields
    url = f"{emu.url}/webservice/sms.php"
    params = {"method": "Submit", **(query or {})}
    if method == "GET":
        return session.get(url, params={**params, **fields}, timeout=timeout)
    return session.request(method, url, params=params, data=fields, timeout=timeout)


def answer_code(response) -> str:
    return str(response.json()["code"])


def assert_refused(emu, response, code, balance=100):
    assert response.status_code == 200
    assert response.json() == {"code": code, "msg": HUYI_ERRORS[code].split(" (")[0], "smsid": "0"}
    assert emu.sent == [] and emu.daily_count(PHONE) == 0 and emu.balance == balance
    assert emu.requests[-1]["code"] == str(code)


def xml_answer(response) -> dict:
    assert response.headers["Content-Type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(response.content)
    return {"root": root.tag, **{child.tag.replace(NS, ""): child.text for child in root}}


# -------------------------------------------------------------------- success
def test_dynamic_password_json_succeeds_and_is_recorded(emu, capfd):
    response = submit(emu)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json;charset=utf-8"
    answer = response.json()
    assert set(answer) == {"code", "msg", "smsid"}
    assert (answer["code"], answer["msg"]) == (2, "提交成功")
    assert isinstance(answer["smsid"], str) and re.fullmatch(r"[1-9][0-9]{19}", answer["smsid"])
    assert emu.sent_to(PHONE) == [{
        "phone": PHONE, "params": [content()], "message_id": answer["smsid"],
        "content": content(), "variables": ["123456"],
    }]
    assert (emu.balance, emu.daily_count(PHONE), emu.plain_key_requests) == (99, 1, 0)
    (record,) = emu.requests
    assert record == {"method": "POST", "path": "/webservice/sms.php", "code": "2",
                      "fields": ["account", "content", "format", "method", "mobile", "password", "time"]}
    assert API_KEY not in repr(emu.requests) + repr(emu.sent)
    assert capfd.readouterr() == ("", "")


def test_plain_api_key_is_accepted_and_counted(emu):
    assert answer_code(submit(emu, password=API_KEY, unix_time="")) == SUCCESS
    assert answer_code(submit(emu, password=API_KEY)) == SUCCESS
    assert emu.plain_key_requests == 2
    # The key anywhere on the wire counts, even when the request is refused.
    assert answer_code(submit(emu, query={"note": API_KEY}, mobile="1")) == "406"
    assert emu.plain_key_requests == 3 and len(emu.sent) == 2


@pytest.mark.parametrize("seconds", [-299, 299])
def test_time_within_300_seconds_is_accepted(emu, seconds):
    assert answer_code(submit(emu, time_offset=seconds)) == SUCCESS


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("kwargs, code", [
    ({"account": ""}, 401),
    ({"account": None}, 401),
    ({"password": ""}, 402),
    ({"account": "C00000000"}, 405),
    ({"password": "wrong-password", "unix_time": ""}, 405),  # pragma: allowlist secret
    ({"key": "other-api-key", "unix_time": ""}, 405),
    ({"unix_time": "12345"}, 40502),
    ({"unix_time": str(int(time.time() * 1000))}, 40502),          # milliseconds
    ({"time_offset": -301}, 40501),
    ({"time_offset": 301}, 40501),
    ({"key": "other-api-key"}, 40502),
], ids=lambda v: v if isinstance(v, int) else None)
def test_authentication_refusals(emu, kwargs, code):
    assert_refused(emu, submit(emu, **kwargs), code)


@pytest.mark.parametrize("signed", [
    {"text": content("999999")}, {"mobile": OTHER_PHONE}, {"account": "C00000000"},
], ids=["content", "mobile", "account"])
def test_password_signing_other_fields_is_refused(emu, signed):
    now = str(int(time.time()))
    parts = {"account": ACCOUNT, "mobile": PHONE, "text": content(), **signed}
    password = md5(parts["account"] + API_KEY + parts["mobile"] + parts["text"] + now)
    assert_refused(emu, submit(emu, password=password, unix_time=now), 40502)


def test_uppercase_dynamic_password_is_refused(emu):
    now = str(int(time.time()))
    upper = md5(ACCOUNT + API_KEY + PHONE + content() + now).upper()
    assert_refused(emu, submit(emu, password=upper, unix_time=now), 40502)


# -------------------------------------------------------------------- GetNum
def get_num(emu, *, account=ACCOUNT, key=API_KEY, unix_time=None, time_offset=0, password=None, fmt="json"):
    unix_time = str(int(time.time()) + time_offset) if unix_time is None else unix_time
    if password is None:
        password = md5(account + key + unix_time)
    fields = {"account": account, "password": password, "time": unix_time, "format": fmt}
    return requests.post(f"{emu.url}/webservice/sms.php", params={"method": "GetNum"},
                         data={k: v for k, v in fields.items() if v is not None}, timeout=5)


# ----------------------------------------------------------------- force_code
