"""Every input form of the HTTP contract, through ``main_handler``
with a real redis-server and the Tencent SMS emulator.

For each getSms form: the answer is ``Ok``, exactly one SMS reached the
emulator for the normalised E.164 number, and the code it carried logs in.
For each login form: after a getSms, the form carries the code to
``Success``. Forms covered: API Gateway GET (``queryString``), POST form,
POST JSON (the Node demo answered ``InValidParam`` to JSON), base64 bodies
with ``isBase64Encoded`` as ``True``/``"true"``, plain bodies with
``False``/``"false"``/absent, the Function URL event (no requestContext),
JSON numbers, parameters split between query and body, content types with
a charset or absent. A parameter given twice is ``InValidParam`` and sends
nothing.
"""

from __future__ import annotations

import base64
import json
from typing import Callable

import pytest

from smsverify.edge.handler import create_handler
from tests.support import answer, get_sms, load_event, login

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


# -- event builders ------------------------------------------------------------------------


def post(body: str, content_type: str | None = FORM, *, query: dict | None = None, name: str = "get_sms_post_form.json",
         base64_flag=None, encode: bool = False) -> dict:
    """An API Gateway POST event. ``base64_flag`` is the ``isBase64Encoded``
    value (``None``: key absent); ``encode`` base64-encodes ``body``."""
    event = load_event(name)
    event["body"] = base64.b64encode(body.encode()).decode() if encode else body
    event["queryString"] = dict(query or {})
    event["headers"].pop("content-type", None)
    if content_type is not None:
        event["headers"]["content-type"] = content_type
    event.pop("isBase64Encoded", None)
    if base64_flag is not None:
        event["isBase64Encoded"] = base64_flag
    return event


def with_flag(name: str, flag) -> dict:
    event = load_event(name)
    event["isBase64Encoded"] = flag
    return event


def function_url(body: dict, query: dict | None = None) -> dict:
    event = load_event("get_sms_function_url.json")
    event["body"] = json.dumps(body)
    event["queryString"] = dict(query or {})
    return event


def multipart(fields: dict[str, str]) -> dict:
    """A browser ``FormData`` body, as API Gateway passes it (base64)."""
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"  # pragma: allowlist secret (a multipart boundary)
    parts = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                    for k, v in fields.items())
    return post(parts + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}", base64_flag=True, encode=True)


def get_query(query: dict) -> dict:
    event = load_event("get_sms.json")
    event["queryString"] = dict(query)
    return event


def capitalised_content_type(event: dict) -> dict:
    event["headers"]["Content-Type"] = event["headers"].pop("content-type")
    return event


# -- getSms forms: (event, E.164 phone the SMS must reach) ------------------------------------

GET_SMS_FORMS: dict[str, tuple[Callable[[], dict], str]] = {
    "get-queryString": (lambda: load_event("get_sms.json"), "+8613800138000"),
    "post-form": (lambda: load_event("get_sms_post_form.json"), "+8613800138001"),
    "base64-flag-string-true": (lambda: load_event("get_sms_base64.json"), "+8613800138002"),
    "base64-flag-bool-true": (lambda: with_flag("get_sms_base64.json", True), "+8613800138002"),
    "base64-flag-string-True": (lambda: with_flag("get_sms_base64.json", "True"), "+8613800138002"),
    "plain-flag-bool-false": (lambda: post("method=getSms&phone=13800138005", base64_flag=False), "+8613800138005"),
    "plain-flag-string-false": (lambda: post("method=getSms&phone=13800138005", base64_flag="false"), "+8613800138005"),
    "plain-flag-absent": (lambda: post("method=getSms&phone=13800138005"), "+8613800138005"),
    "base64-json-body": (
        lambda: post('{"method": "getSms", "phone": "+8613800138006"}', JSON, base64_flag=True, encode=True),
        "+8613800138006",
    ),
    "function-url-json": (lambda: load_event("get_sms_function_url.json"), "+8613800138003"),
    "function-url-query": (
        lambda: {**load_event("get_sms_function_url.json"), "body": "", "httpMethod": "GET",
                 "queryString": {"method": "getSms", "phone": "8613800138007"}},
        "+8613800138007",
    ),
    "json-phone-number-with-country-code": (
        lambda: post('{"method": "getSms", "phone": 8613800138004}', JSON), "+8613800138004"),
    "json-phone-number-national": (lambda: post('{"method": "getSms", "phone": 13800138004}', JSON), "+8613800138004"),
    "json-extra-fields-ignored": (
        lambda: post('{"method": "getSms", "phone": "13800138004", "appId": {"x": [1]}, "ts": 17}', JSON),
        "+8613800138004",
    ),
    "split-method-query-phone-form": (
        lambda: post("phone=%2B8613800138008", query={"method": "getSms"}), "+8613800138008"),
    "split-phone-query-method-json": (
        lambda: post('{"method": "getSms"}', JSON, query={"phone": "8613800138008"}), "+8613800138008"),
    "json-with-charset": (
        lambda: post('{"method": "getSms", "phone": "13800138009"}', "application/json; charset=utf-8"),
        "+8613800138009",
    ),
    "form-with-charset": (
        lambda: post("method=getSms&phone=13800138009", "application/x-www-form-urlencoded; charset=UTF-8"),
        "+8613800138009",
    ),
    "form-without-content-type": (lambda: post("method=getSms&phone=13800138010", None), "+8613800138010"),
    "json-without-content-type": (
        lambda: post('{"method": "getSms", "phone": "13800138010"}', None), "+8613800138010"),
    "content-type-header-capitalised": (
        lambda: capitalised_content_type(load_event("get_sms_post_form.json")), "+8613800138001"),
    "form-url-encoded-spaces": (lambda: post("method=getSms&phone=%2B86+138+0013+8011"), "+8613800138011"),
    # What real clients send:
    "fetch-text-plain-json": (
        lambda: post('{"method": "getSms", "phone": "13800138012"}', "text/plain;charset=UTF-8"), "+8613800138012"),
    "text-plain-form": (lambda: post("method=getSms&phone=13800138012", "text/plain"), "+8613800138012"),
    "wx-request-form-string-under-json-header": (
        lambda: post("method=getSms&phone=13800138013", JSON), "+8613800138013"),
    "json-with-utf8-bom": (lambda: post('\ufeff{"method": "getSms", "phone": "13800138014"}', JSON), "+8613800138014"),
    "json-null-ticket-is-absent": (
        lambda: post('{"method": "getSms", "phone": "13800138014", "ticket": null, "randstr": null}', JSON),
        "+8613800138014"),
    "multipart-form-data": (lambda: multipart({"method": "getSms", "phone": "13800138015"}), "+8613800138015"),
    "function-url-with-source-ip": (
        lambda: {**load_event("get_sms_function_url.json"), "requestContext": {"sourceIp": "198.51.100.23"}},
        "+8613800138003"),
    "scene-passed-through": (lambda: get_query({"method": "getSms", "phone": "8613800138016", "scene": "login"}),
                             "+8613800138016"),
}


@pytest.fixture
def handler(redis_url, make_env, clock):
    return create_handler(make_env(redis_url), clock=clock)


@pytest.mark.parametrize("form", list(GET_SMS_FORMS))
def test_get_sms_form_sends_to_the_e164_phone(handler, sms_api, form):
    build, phone = GET_SMS_FORMS[form]
    result = answer(handler(build(), {"request_id": "scf-ctx"}))
    assert (result["codeStr"], result["_status"]) == ("Ok", 200), result
    assert result["expiresIn"] == 300 and result["resendAfter"] == 60
    [sms] = sms_api.sent
    assert sms["phone"] == phone
    code = sms["params"][0]
    assert answer(handler(login(phone, code), {}))["codeStr"] == "Success"


# -- login forms: event carrying (phone, code) -----------------------------------------------


def login_json_file(phone: str, code: str) -> dict:
    event = load_event("login_post_json.json")
    body = json.loads(event["body"])
    assert body["phone"] == phone  # the file's own phone
    event["body"] = json.dumps({**body, "code": code})
    return event


def login_get_file(phone: str, code: str) -> dict:
    event = load_event("login.json", code=code)
    assert event["queryString"]["phone"] == phone.lstrip("+")
    return event


LOGIN_FORMS: dict[str, tuple[Callable[[str, str], dict], str]] = {
    "get-queryString-file": (login_get_file, "+8613800138000"),
    "post-json-file": (login_json_file, "+8613800138001"),
    "post-form": (lambda p, c: post(f"method=login&phone={p.replace('+', '%2B')}&code={c}", name="login_post_json.json"),
                  "+8613800138001"),
    "post-json-charset": (
        lambda p, c: post(json.dumps({"method": "login", "phone": p, "code": c}), "application/json; charset=utf-8"),
        "+8613800138001"),
    "base64-form": (
        lambda p, c: post(f"method=login&phone={p.lstrip('+')}&code={c}", base64_flag="true", encode=True),
        "+8613800138002"),
    "base64-json": (
        lambda p, c: post(json.dumps({"method": "login", "phone": p, "code": c}), JSON, base64_flag=True, encode=True),
        "+8613800138002"),
    "function-url-json": (lambda p, c: function_url({"method": "login", "phone": p[3:], "code": c}), "+8613800138003"),
    "split-code-in-body": (lambda p, c: post(f"code={c}", query={"method": "login", "phone": p}), "+8613800138004"),
    "form-without-content-type": (lambda p, c: post(f"method=login&phone={p[3:]}&code={c}", None), "+8613800138005"),
    "fetch-text-plain-json": (
        lambda p, c: post(json.dumps({"method": "login", "phone": p, "code": c}), "text/plain;charset=UTF-8"),
        "+8613800138006"),
    "wx-request-form-string-under-json-header": (
        lambda p, c: post(f"method=login&phone={p[3:]}&code={c}", JSON), "+8613800138007"),
    "multipart-form-data": (lambda p, c: multipart({"method": "login", "phone": p[3:], "code": c}), "+8613800138008"),
    "json-with-bom-and-null-wx-code": (
        lambda p, c: post("\ufeff" + json.dumps({"method": "login", "phone": p, "code": c, "wxCode": None}), JSON),
        "+8613800138009"),
}


@pytest.mark.parametrize("form", list(LOGIN_FORMS))
def test_login_form_succeeds_with_the_code(handler, sms_api, form):
    build, phone = LOGIN_FORMS[form]
    assert answer(handler(get_sms(phone), {}))["codeStr"] == "Ok"
    code = sms_api.sent_to(phone)[0]["params"][0]
    first = answer(handler(build(phone, code), {}))
    assert (first["codeStr"], first["_status"]) == ("Success", 200), first
    replay = answer(handler(build(phone, code), {}))
    assert replay["codeStr"] == "CodeHasExpired"


def test_login_json_file_with_its_sample_code_is_checked(handler, sms_api):
    """The unmodified events/login_post_json.json is read (not InValidParam)."""
    assert answer(handler(get_sms("+8613800138001"), {}))["codeStr"] == "Ok"
    lucky = sms_api.sent[0]["params"][0] == "123456"  # the file's sample code: 1 chance in 10^6
    result = answer(handler(load_event("login_post_json.json"), {}))
    if lucky:
        assert result["codeStr"] == "Success"
    else:
        assert (result["codeStr"], result["_status"], result["attemptsLeft"]) == ("CodeIsError", 401, 2)


# -- duplicates and conflicting parameters ---------------------------------------------------------

DUPLICATES: dict[str, Callable[[], dict]] = {
    "phone-in-query-and-form": lambda: post("method=getSms&phone=13800138000", query={"phone": "13800138000"}),
    "phone-in-query-and-json": lambda: post('{"method": "getSms", "phone": "13800138000"}', JSON,
                                            query={"phone": "13800138001"}),
    "method-in-query-and-form": lambda: post("method=getSms&phone=13800138000", query={"method": "getSms"}),
    "phone-twice-in-form": lambda: post("method=getSms&phone=13800138000&phone=13800138001"),
    "phone-list-in-queryString": lambda: get_query({"method": "getSms", "phone": ["8613800138000", "8613800138001"]}),
    "same-phone-list-in-queryString": lambda: get_query({"method": "getSms", "phone": ["8613800138000"] * 2}),
    "code-in-query-and-body": lambda: post("code=123456", query={"method": "login", "phone": "13800138000",
                                                                   "code": "123456"}),
}


@pytest.mark.parametrize("case", list(DUPLICATES))
def test_a_parameter_given_twice_is_invalid_param(handler, sms_api, case):
    result = answer(handler(DUPLICATES[case](), {}))
    assert (result["codeStr"], result["_status"]) == ("InValidParam", 400)
    assert sms_api.requests == []


# -- malformed bodies of each form -------------------------------------------------------------------

MALFORMED: dict[str, Callable[[], dict]] = {
    "json-not-an-object": lambda: post('["getSms", "13800138000"]', JSON),
    "json-broken": lambda: post('{"method": "getSms", "phone": ', JSON),
    "json-phone-is-bool": lambda: post('{"method": "getSms", "phone": true}', JSON),
    "json-phone-is-list": lambda: post('{"method": "getSms", "phone": ["13800138000"]}', JSON),
    "json-phone-is-null": lambda: post('{"method": "getSms", "phone": null}', JSON),
    "base64-flag-but-not-base64": lambda: post("method=getSms&phone=13800138000", base64_flag="true"),
    "base64-flag-not-a-boolean": lambda: post("method=getSms&phone=13800138000", base64_flag="yes"),
    "unsupported-content-type": lambda: post("method=getSms&phone=13800138000", "application/xml"),
    "source-ip-lone-surrogate": lambda: {**load_event("get_sms.json"), "requestContext": {"sourceIp": "\ud800"}},
    "source-ip-not-an-address": lambda: {**load_event("get_sms.json"), "requestContext": {"sourceIp": "example.com"}},
    "multipart-garbage": lambda: post("garbage", "multipart/form-data; boundary=b"),
    "text-plain-broken-json": lambda: post('{"method": "getSms", "phone": ', "text/plain;charset=UTF-8"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_body_is_invalid_param(handler, sms_api, case):
    result = answer(handler(MALFORMED[case](), {}))
    assert (result["codeStr"], result["_status"]) == ("InValidParam", 400)
    assert sms_api.requests == []
