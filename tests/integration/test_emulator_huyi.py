"""Tests of the ihuyi emulator, driven by requests built by hand from the Huyi sources.

Requests follow the official doc v3.3 and demos: a form POST (or GET) to
``/webservice/sms.php?method=Submit`` with ``account``, the dynamic
``password`` ``md5(account+apikey+mobile+content+time)`` computed here with
``hashlib``, ``mobile``, ``content``, ``time`` and ``format``.  Proven: a
correct request succeeds in JSON and in XML and is recorded; parameters are
taken from the query and the body; every check of the module docstring
answers its code and sends / counts / bills nothing; the plain APIKEY is
accepted but counted in ``plain_key_requests``; balance (4051) and the
per-number daily limit (4085, Beijing day); ``GetNum``; ``force_code`` for
every code of :data:`HUYI_ERRORS`.  Common knobs: ``test_emulator_http.py``.
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
SECRETS = (API_KEY,)
TEMPLATE = "您的验证码是：【变量】。请不要把验证码泄露给其他人。"
MINUTES_TEMPLATE = "您的验证码是：【变量】，【变量】分钟内有效。"
NS = "{106.ihuyi.com}"

#: The codes of the doc §3.5 table (the Huyi sources), transcribed; 2 is success.
DOCUMENTED_CODES = {
    0, 400, 401, 402, 403, 404, 4030, 405, 4050, 40501, 40502, 4051, 4052, 406, 407, 4070,
    4071, 4072, 40722, 4073, 4074, 4075, 408, 4080, 4082, 4085,
}


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


def send_ok(emu, *, phone=PHONE, session=requests, timeout=5):
    return submit(emu, mobile=phone, unix_time=str(int(emu.clock())), session=session, timeout=timeout)


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


# --------------------------------------------------------------------- tables
def test_huyi_error_table_is_the_documented_one():
    assert set(HUYI_ERRORS) == DOCUMENTED_CODES
    assert 2 not in HUYI_ERRORS


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


def test_xml_is_the_default_format(emu):
    response = submit(emu, fmt=None)
    answer = xml_answer(response)
    assert answer["root"] == NS + "SubmitResult"
    assert (answer["code"], answer["msg"]) == ("2", "提交成功")
    assert re.fullmatch(r"[0-9]{20}", answer["smsid"]) and emu.sent[0]["message_id"] == answer["smsid"]
    refused = xml_answer(submit(emu, mobile="123", fmt="xml"))
    assert (refused["code"], refused["smsid"]) == ("406", "0")


def test_get_with_query_parameters(emu):
    assert answer_code(submit(emu, method="GET")) == SUCCESS


def test_query_and_body_parameters_are_merged(emu):
    fields = submit_fields()
    query = {"account": fields.pop("account"), "format": fields.pop("format")}
    assert answer_code(submit(emu, fields, query=query)) == SUCCESS
    # The body wins over the query for a name given twice.
    both = submit_fields(text=content("654321"))
    assert answer_code(submit(emu, both, query={"mobile": "123"})) == SUCCESS
    assert [m["variables"] for m in emu.sent] == [["123456"], ["654321"]]


def test_plain_api_key_is_accepted_and_counted(emu):
    assert answer_code(submit(emu, password=API_KEY, unix_time="")) == SUCCESS
    assert answer_code(submit(emu, password=API_KEY)) == SUCCESS
    assert emu.plain_key_requests == 2
    # The key anywhere on the wire counts, even when the request is refused.
    assert answer_code(submit(emu, query={"note": API_KEY}, mobile="1")) == "406"
    assert emu.plain_key_requests == 3 and len(emu.sent) == 2


@pytest.mark.parametrize("text, variables", [
    (content("1234"), ["1234"]),
    (content("12345678"), ["12345678"]),
    (content("7"), ["7"]),
    ("您的验证码是：2468，5分钟内有效。", ["2468", "5"]),
])
def test_contents_matching_a_template(emu, text, variables):
    assert answer_code(submit(emu, text=text)) == SUCCESS
    assert emu.sent[0]["variables"] == variables


def test_three_hundred_characters_are_accepted():
    long_template = "验证码【变量】" + "。" * 290
    with make_emulator(templates=[long_template]) as emu:
        text = long_template.replace("【变量】", "1234567")
        assert len(text) == 300
        assert answer_code(submit(emu, text=text)) == SUCCESS
        assert answer_code(submit(emu, text=text.replace("1234567", "12345678"))) == "4073"


@pytest.mark.parametrize("seconds", [-299, 299])
def test_time_within_300_seconds_is_accepted(emu, seconds):
    assert answer_code(submit(emu, time_offset=seconds)) == SUCCESS


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("kwargs, code", [
    ({"account": ""}, 401),
    ({"account": None}, 401),
    ({"password": ""}, 402),
    ({"mobile": ""}, 403),
    ({"text": ""}, 404),
    ({"account": "C00000000"}, 405),
    ({"password": "wrong-password", "unix_time": ""}, 405),  # pragma: allowlist secret
    ({"key": "other-api-key", "unix_time": ""}, 405),
    ({"unix_time": "12345"}, 40502),
    ({"unix_time": str(int(time.time() * 1000))}, 40502),          # milliseconds
    ({"time_offset": -301}, 40501),
    ({"time_offset": 301}, 40501),
    ({"key": "other-api-key"}, 40502),
    ({"mobile": "+8613800138000"}, 406),
    ({"mobile": "8613800138000"}, 406),
    ({"mobile": "1380013800"}, 406),
    ({"mobile": f"{PHONE},{OTHER_PHONE}"}, 406),
    ({"mobile": "１３８００１３８０００"}, 406),
    ({"text": content("1234") + "x" * 300}, 4073),
    ({"text": "您的验证码是123456"}, 4072),
    ({"text": "【互亿无线】" + content()}, 4072),
    ({"text": content("12a456")}, 4072),
    ({"text": content("")}, 4072),
    ({"text": content("１２３４")}, 4072),                          # full-width digits
    ({"text": content("123456789")}, 40722),
    ({"text": "您的验证码是：123456789，5分钟内有效。"}, 40722),
], ids=lambda v: v if isinstance(v, int) else None)
def test_submit_refusals(emu, kwargs, code):
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


@pytest.mark.parametrize("query, body_extra", [
    ({}, {}),                                  # no method at all
    ({"method": "Send"}, {}),                  # unknown method
    ({"method": "submit"}, {}),                # case matters
    ({}, {"method": "Submit"}),                # method only in the form body
])
def test_method_must_be_submit_in_the_query(emu, query, body_extra):
    response = requests.post(f"{emu.url}/webservice/sms.php", params=query,
                             data={**body_extra, **submit_fields()}, timeout=5)
    assert_refused(emu, response, 0)


def test_huyi_wrong_path_and_method(emu):
    assert requests.post(f"{emu.url}/webservice/other.php", timeout=5).status_code == 404
    assert submit(emu, method="PUT").status_code == 405
    assert emu.sent == []


# ---------------------------------------------------------- balance and limits
def test_balance_runs_out_with_4051():
    with make_emulator() as emu:
        emu.balance = 1
        assert answer_code(submit(emu)) == SUCCESS
        refused = submit(emu).json()
        assert (refused["code"], refused["smsid"]) == (4051, "0")
        assert (emu.balance, len(emu.sent)) == (0, 1)
        emu.reset()
        assert emu.balance == 100


def test_daily_limit_of_five_per_number():
    with make_emulator() as emu:
        for _ in range(5):
            assert answer_code(submit(emu)) == SUCCESS
        refused = submit(emu).json()
        assert (refused["code"], refused["smsid"]) == (4085, "0")
        assert (emu.daily_count(PHONE), emu.balance) == (5, 95)
        assert answer_code(submit(emu, mobile=OTHER_PHONE)) == SUCCESS


# -------------------------------------------------------------------- GetNum
def get_num(emu, *, account=ACCOUNT, key=API_KEY, unix_time=None, time_offset=0, password=None, fmt="json"):
    unix_time = str(int(time.time()) + time_offset) if unix_time is None else unix_time
    if password is None:
        password = md5(account + key + unix_time)
    fields = {"account": account, "password": password, "time": unix_time, "format": fmt}
    return requests.post(f"{emu.url}/webservice/sms.php", params={"method": "GetNum"},
                         data={k: v for k, v in fields.items() if v is not None}, timeout=5)


def test_get_num_answers_the_balance(emu):
    assert get_num(emu).json() == {"code": 2, "msg": "查询成功", "num": 100}
    submit(emu)
    assert get_num(emu).json()["num"] == 99
    answer = xml_answer(get_num(emu, fmt=None))
    assert (answer["root"], answer["code"], answer["num"]) == (NS + "GetNumResult", "2", "99")
    assert get_num(emu, password=API_KEY).json()["code"] == 2
    assert emu.plain_key_requests == 1


@pytest.mark.parametrize("kwargs, code", [
    ({"account": ""}, 401),
    ({"password": ""}, 402),
    ({"account": "C00000000"}, 405),
    ({"password": "wrong", "unix_time": ""}, 405),  # pragma: allowlist secret
    ({"key": "other-api-key"}, 40502),
    ({"time_offset": -301}, 40501),
    ({"password": "0" * 32}, 40502),
])
def test_get_num_refusals(emu, kwargs, code):
    assert get_num(emu, **kwargs).json() == {"code": code, "msg": HUYI_ERRORS[code].split(" (")[0], "num": 0}


def test_force_code_does_not_touch_get_num(emu):
    emu.force_code = 4051
    assert get_num(emu).json()["code"] == 2


# ----------------------------------------------------------------- force_code
def test_force_code_in_xml_and_after_validation(emu):
    emu.force_code = 4085
    assert xml_answer(submit(emu, fmt=None))["code"] == "4085"
    assert answer_code(submit(emu, mobile="123")) == "406"
    assert emu.sent == [] and emu.balance == 100
