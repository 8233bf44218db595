"""read_params: the query and the body (form or JSON) merged into one parameter map.

Proven here, on Werkzeug requests built with EnvironBuilder:
- query only, form body, JSON body (numbers become strings, unknown keys ignored)
  and a body without Content-Type are read;
- a known parameter given as bool/null/float/object/list in JSON, a non-UTF-8 or
  non-JSON body, a JSON body that is not an object, a parameter given twice
  (within the query, within the body, across both, or as a repeated JSON key), a value
  over 512 characters or with a NUL byte, a body over MAX_BODY_BYTES, too many form
  fields and an unsupported Content-Type are each InvalidParam.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from werkzeug.test import EnvironBuilder

from smsverify.edge.app import MAX_PARAM_LENGTH, read_params
from smsverify.edge.event import MAX_BODY_BYTES
from smsverify.errors import InvalidParam

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def request(query: str = "", body: bytes | None = None, content_type: str | None = None) -> dict:
    builder = EnvironBuilder(method="POST" if body is not None else "GET", query_string=query,
                             data=body, content_type=content_type)
    return builder.get_environ()


def params(query: str = "", body: bytes | str | None = None, content_type: str | None = None) -> dict[str, str]:
    if isinstance(body, str):
        body = body.encode()
    return read_params(request(query, body, content_type))


def refused(query: str = "", body: bytes | str | None = None, content_type: str | None = None) -> InvalidParam:
    with pytest.raises(InvalidParam) as info:
        params(query, body, content_type)
    assert info.value.code_str == "InValidParam"
    return info.value


# -- accepted --------------------------------------------------------------------


def test_query_only():
    assert params("method=login&phone=8613800138000&code=012345") == {
        "method": "login", "phone": "8613800138000", "code": "012345"}


def test_query_unknown_keys_ignored_even_repeated():
    assert params("method=getSms&utm=a&utm=b&phone=1") == {"method": "getSms", "phone": "1"}


def test_form_body():
    assert params(body="method=getSms&phone=%2B8613800138000", content_type=FORM) == {
        "method": "getSms", "phone": "+8613800138000"}


def test_form_body_with_charset_parameter():
    assert params(body="method=getSms", content_type=FORM + "; charset=utf-8") == {"method": "getSms"}


def test_form_body_without_content_type():
    assert params(body="method=getSms&phone=1") == {"method": "getSms", "phone": "1"}


def test_query_and_form_body_merge():
    assert params("method=login", body="phone=1&code=2", content_type=FORM) == {
        "method": "login", "phone": "1", "code": "2"}


def test_json_body():
    body = json.dumps({"method": "login", "phone": "+8613800138000", "code": "012345"})
    assert params(body=body, content_type=JSON) == {"method": "login", "phone": "+8613800138000", "code": "012345"}


def test_json_numbers_become_strings():
    body = json.dumps({"method": "login", "phone": 8613800138000, "code": 12345})
    assert params(body=body, content_type=JSON) == {"method": "login", "phone": "8613800138000", "code": "12345"}


def test_json_unknown_keys_ignored_whatever_their_type():
    body = json.dumps({"method": "getSms", "phone": "1", "extra": {"a": [1]}, "flag": True, "n": None, "f": 1.5})
    assert params(body=body, content_type=JSON) == {"method": "getSms", "phone": "1"}


def test_json_body_without_content_type():
    assert params(body=' {"method": "getSms"}') == {"method": "getSms"}


def test_json_with_charset_and_chinese_text():
    body = json.dumps({"method": "getSms", "ticket": "票据"}, ensure_ascii=False)
    assert params(body=body, content_type=JSON + "; charset=utf-8") == {"method": "getSms", "ticket": "票据"}


def test_value_of_the_maximum_length_accepted():
    value = "a" * MAX_PARAM_LENGTH
    assert params(f"ticket={value}") == {"ticket": value}


def test_empty_value_kept():
    assert params("method=login&code=") == {"method": "login", "code": ""}


# -- refused ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, 1.5, {"a": "b"}, ["13800138000"], []])
@pytest.mark.parametrize("name", ["method", "phone", "code", "ticket", "randstr", "scene", "wxCode"])
def test_json_non_text_value_of_known_param_refused(name, value):
    refused(body=json.dumps({name: value}), content_type=JSON)


@pytest.mark.parametrize(
    "body",
    [b'{"method": "getSms"', b"getSms", b"{'method': 'getSms'}", b"\xff{}", b'{"phone": NaN}',
     b'{"phone": 1e400}', b'{"phone": ' + b"9" * 5000 + b"}"],
    ids=["truncated", "bare-word", "single-quotes", "non-utf8", "nan", "inf", "huge-int"],
)
def test_malformed_json_refused(body):
    refused(body=body, content_type=JSON)


def test_empty_json_body_is_no_body():
    assert params("method=getSms", body=b"", content_type=JSON) == {"method": "getSms"}


@pytest.mark.parametrize("body", ['["method", "getSms"]', '"getSms"', "42", "null"])
def test_json_body_must_be_an_object(body):
    refused(body=body, content_type=JSON)


def test_non_utf8_form_body_refused():
    refused(body="method=getSms&phone=手机".encode("gbk"), content_type=FORM)


def test_non_utf8_json_body_refused():
    refused(body='{"method": "getSms", "ticket": "票据"}'.encode("gbk"), content_type=JSON)


@pytest.mark.parametrize(
    "query, body, content_type",
    [
        ("phone=1&phone=2", None, None),
        ("method=login&method=login", None, None),
        ("", "code=1&code=2", FORM),
        ("method=login", "method=login", FORM),
        ("phone=1", json.dumps({"phone": "1"}), JSON),
        ("code=1", "code=2", FORM),
    ],
    ids=["query-twice", "query-same-value-twice", "form-twice", "query-and-form", "query-and-json", "query-and-form-differ"],
)
def test_parameter_given_twice_refused(query, body, content_type):
    error = refused(query, body, content_type)
    assert "重复" in error.msg


def test_repeated_json_key_refused():
    refused(body='{"method": "login", "phone": "1", "code": "111111", "code": "222222"}', content_type=JSON)


@pytest.mark.parametrize(
    "query, body, content_type",
    [
        (f"ticket={'a' * (MAX_PARAM_LENGTH + 1)}", None, None),
        ("", f"randstr={'b' * (MAX_PARAM_LENGTH + 1)}", FORM),
        ("", json.dumps({"phone": "1" * (MAX_PARAM_LENGTH + 1)}), JSON),
    ],
    ids=["query", "form", "json"],
)
def test_oversized_value_refused(query, body, content_type):
    refused(query, body, content_type)


@pytest.mark.parametrize(
    "query, body, content_type",
    [
        ("phone=138%0000138000", None, None),
        ("", "code=12%0034", FORM),
        ("", json.dumps({"code": "12\u000034"}), JSON),
    ],
    ids=["query", "form", "json"],
)
def test_nul_byte_refused(query, body, content_type):
    refused(query, body, content_type)


def test_body_over_the_bound_refused():
    filler = "x=" + "a" * (MAX_BODY_BYTES - 2)
    assert params("method=getSms", body=filler, content_type=FORM) == {"method": "getSms"}  # exactly the bound
    assert "过大" in refused("method=getSms", body=filler + "a", content_type=FORM).msg


def test_too_many_form_fields_refused():
    refused(body="&".join(f"f{i}=x" for i in range(65)), content_type=FORM)


@pytest.mark.parametrize(
    "content_type", ["text/xml", "application/xml", "application/octet-stream", "image/png"]
)
def test_unsupported_content_type_refused(content_type):
    error = refused(body="<method>getSms</method>", content_type=content_type)
    assert content_type.split(";")[0] in error.msg


def test_unsupported_content_type_message_is_bounded():
    long_type = "application/" + "x" * 500
    assert len(refused(body="a=b", content_type=long_type).msg) < 100


def test_percent_encoded_values_decoded_once():
    assert params("phone=" + quote("+86 138-0013-8000", safe="")) == {"phone": "+86 138-0013-8000"}


# -- what real clients send --------------------------------------------------------------


def test_json_null_is_an_absent_parameter():
    """wx.request serialises ``{code: null}``."""
    assert params(body=json.dumps({"method": "login", "phone": "1", "code": None}), content_type=JSON) == {
        "method": "login", "phone": "1"}


def test_json_null_does_not_clash_with_the_query():
    assert params("code=123456", body='{"method": "login", "code": null}', content_type=JSON) == {
        "method": "login", "code": "123456"}


def test_form_string_under_the_json_header_is_a_form():
    """wx.request with string data keeps its default ``application/json`` header."""
    assert params(body="method=getSms&phone=13800138000", content_type=JSON) == {
        "method": "getSms", "phone": "13800138000"}


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8"])
def test_text_plain_json_object(content_type):
    """What a browser's fetch sends for a string body."""
    assert params(body='{"method": "login", "phone": "1", "code": "012345"}', content_type=content_type) == {
        "method": "login", "phone": "1", "code": "012345"}


def test_text_plain_form():
    assert params(body="method=login&phone=1&code=012345", content_type="text/plain") == {
        "method": "login", "phone": "1", "code": "012345"}


def test_text_plain_broken_json_refused():
    refused(body='{"method": "login"', content_type="text/plain")


@pytest.mark.parametrize("content_type", [JSON, "text/plain", None])
def test_utf8_bom_before_json_is_skipped(content_type):
    body = b"\xef\xbb\xbf" + json.dumps({"method": "getSms", "phone": "1"}).encode()
    assert params(body=body, content_type=content_type) == {"method": "getSms", "phone": "1"}


def multipart(fields: dict[str, str], files: dict[str, bytes] | None = None) -> dict:
    from io import BytesIO

    data: dict = dict(fields)
    for name, content in (files or {}).items():
        data[name] = (BytesIO(content), "f.bin")
    return EnvironBuilder(method="POST", data=data, content_type="multipart/form-data").get_environ()


def test_multipart_form_data():
    """Browser FormData and axios with a FormData body."""
    environ = multipart({"method": "login", "phone": "1", "code": "012345", "scene": "register"})
    assert environ["CONTENT_TYPE"].startswith("multipart/form-data; boundary=")
    assert read_params(environ) == {"method": "login", "phone": "1", "code": "012345", "scene": "register"}


def test_multipart_file_parts_are_ignored():
    assert read_params(multipart({"method": "getSms"}, {"phone": b"13800138000"})) == {"method": "getSms"}


def test_multipart_repeated_field_refused():
    body = (b"--b\r\nContent-Disposition: form-data; name=phone\r\n\r\n1\r\n"
            b"--b\r\nContent-Disposition: form-data; name=phone\r\n\r\n2\r\n--b--\r\n")
    refused(body=body, content_type="multipart/form-data; boundary=b")


def test_multipart_garbage_refused():
    refused("method=getSms", body=b"garbage", content_type="multipart/form-data; boundary=b")


def test_multipart_over_the_bound_refused():
    environ = multipart({"method": "getSms", "x": "a" * MAX_BODY_BYTES})
    assert int(environ["CONTENT_LENGTH"]) > MAX_BODY_BYTES
    assert "过大" in pytest.raises(InvalidParam, read_params, environ).value.msg


def test_scene_and_wx_code_pass_through():
    assert params("method=login&phone=1&code=2&scene=register&wxCode=0a1b") == {
        "method": "login", "phone": "1", "code": "2", "scene": "register", "wxCode": "0a1b"}
