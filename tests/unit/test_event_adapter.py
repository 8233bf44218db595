"""The Tencent event adapter (smsverify.edge.event) and what serverless-wsgi reads from it.

Proven here:
- Tencent's documented API Gateway sample event and a Function URL event become exactly
  the AWS v1 shape serverless_wsgi.handle_payload_v1 reads: the whole ``queryString``
  (not the declared-only ``queryStringParameters``) as ``multiValueQueryStringParameters``
  (list values kept), ``requestContext.sourceIp`` as ``requestContext.identity.sourceIp``,
  the body as bytes decoded from base64 only when ``isBase64Encoded`` is True/"true";
- the client IP never comes from a header (X-Forwarded-For, X-Real-IP);
- every malformed shape raises MalformedEvent;
- request_id_of prefers requestContext.requestId, then the SCF context, then a UUID;
- run through the real serverless_wsgi.handle_request, a tiny echo app sees the full
  query, the gateway's client IP and the decoded body (and without the adapter it
  would not: the contrast tests show the library's own reading of a raw Tencent event).
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
import serverless_wsgi

from smsverify.edge.event import MAX_BODY_BYTES, MalformedEvent, request_id_of, source_ip_of, to_wsgi_event

#: Tencent's documented API Gateway trigger event (SCF doc 583/12513), verbatim.
APIGW_SAMPLE = {
    "requestContext": {
        "serviceId": "service-f94sy04v",
        "path": "/test/{path}",
        "httpMethod": "POST",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {"secretId": "abdcdxxxxxxxsdfs"},  # pragma: allowlist secret (the doc sample's placeholder)
        "sourceIp": "10.0.2.14",
        "stage": "release",
    },
    "headers": {
        "accept-language": "en-US,en,cn",
        "accept": "text/html,application/xml,application/json",
        "host": "service-3ei3tii4-251000691.ap-guangzhou.apigateway.myqloud.com",
        "user-agent": "User Agent String",
    },
    "body": '{"test":"body"}',
    "pathParameters": {"path": "value"},
    "queryStringParameters": {"foo": "bar"},
    "headerParameters": {"Refer": "10.0.2.14"},
    "stageVariables": {"stage": "release"},
    "path": "/test/value",
    "queryString": {"foo": "bar", "bob": "alice"},
    "httpMethod": "POST",
}

#: Tencent's documented Function URL event (SCF doc 583/96099).
FUNCTION_URL_SAMPLE = {
    "body": '{"test":"hello world"}',
    "headers": {"accept": "*/*", "content-length": "22"},
    "httpMethod": "POST",
    "path": "/",
    "queryString": {"a": "1", "b": "2"},
}

RID = "req-unit-1"


def sample(**changes) -> dict:
    """The API Gateway sample with top-level keys replaced (value None deletes the key)."""
    event = copy.deepcopy(APIGW_SAMPLE)
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def echo_app(environ, start_response):
    """A WSGI app that answers with what it was given."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    payload = {
        "query": environ["QUERY_STRING"],
        "remote_addr": environ["REMOTE_ADDR"],
        "body": environ["wsgi.input"].read(length).decode("utf-8"),
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "content_type": environ["CONTENT_TYPE"],
    }
    data = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def through_wsgi(event: dict) -> dict:
    response = serverless_wsgi.handle_request(echo_app, event, {})
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    return json.loads(response["body"])


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- the adapted shape ---------------------------------------------------------------


def test_documented_apigw_sample_adapts_exactly():
    assert to_wsgi_event(APIGW_SAMPLE, RID) == {
        "httpMethod": "POST",
        "path": "/test/value",
        "headers": APIGW_SAMPLE["headers"],
        "multiValueQueryStringParameters": {"foo": ["bar"], "bob": ["alice"]},
        "body": b'{"test":"body"}',
        "isBase64Encoded": False,
        "requestContext": {"requestId": RID, "identity": {"sourceIp": "10.0.2.14"}},
    }


def test_function_url_event_adapts_exactly():
    assert to_wsgi_event(FUNCTION_URL_SAMPLE, RID) == {
        "httpMethod": "POST",
        "path": "/",
        "headers": {"accept": "*/*"},  # content-length is hop-by-hop: dropped, the body is complete
        "multiValueQueryStringParameters": {"a": ["1"], "b": ["2"]},
        "body": b'{"test":"hello world"}',
        "isBase64Encoded": False,
        "requestContext": {"requestId": RID, "identity": {"sourceIp": ""}},
    }


@pytest.mark.parametrize("name", ["Transfer-Encoding", "connection", "Content-Length", "keep-alive", "te", "trailer", "upgrade"])
def test_hop_by_hop_headers_are_dropped(name):
    adapted = to_wsgi_event(sample(headers={name: "chunked", "accept": "*/*"}), RID)
    assert adapted["headers"] == {"accept": "*/*"}


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT"])
def test_only_get_and_post_are_requests(method):
    with pytest.raises(MalformedEvent, match="GET or POST"):
        to_wsgi_event(sample(httpMethod=method), RID)


@pytest.mark.parametrize("where", ["path", "header value", "header name", "query name", "query value"])
def test_text_that_is_not_utf8_encodable_is_malformed(where):
    lone = "\ud800"
    change = {
        "path": {"path": "/" + lone},
        "header value": {"headers": {"accept": lone}},
        "header name": {"headers": {lone: "x"}},
        "query name": {"queryString": {lone: "x"}},
        "query value": {"queryString": {"phone": lone}},
    }[where]
    with pytest.raises(MalformedEvent, match="not valid text"):
        to_wsgi_event(sample(**change), RID)


@pytest.mark.parametrize("request_id", ["req-\ud800", "a\nb", "\x1f", "中文"])
def test_request_ids_that_are_not_printable_ascii_are_replaced(request_id):
    event = sample()
    event["requestContext"]["requestId"] = request_id
    generated = request_id_of(event, {})
    assert generated != request_id and uuid.UUID(generated).version == 4


def test_adapter_does_not_change_its_input():
    event = sample(isBase64Encoded="true", body=b64("a=1"))
    before = copy.deepcopy(event)
    to_wsgi_event(event, RID)
    assert event == before


def test_query_list_values_are_kept():
    adapted = to_wsgi_event(sample(queryString={"a": ["1", "2"], "b": "x", "c": []}), RID)
    assert adapted["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"], "c": []}


@pytest.mark.parametrize("query", [None, "", {}])  # None: key absent
def test_empty_query_forms(query):
    event = sample(queryString=query)
    assert to_wsgi_event(event, RID)["multiValueQueryStringParameters"] == {}


def test_missing_method_path_headers_and_body_take_defaults():
    adapted = to_wsgi_event({}, RID)
    assert (adapted["httpMethod"], adapted["path"], adapted["headers"], adapted["body"]) == ("GET", "/", {}, b"")


def test_method_is_upper_cased_and_path_gets_a_leading_slash():
    adapted = to_wsgi_event(sample(httpMethod="post", path="sms"), RID)
    assert (adapted["httpMethod"], adapted["path"]) == ("POST", "/sms")


@pytest.mark.parametrize("flag", [True, "true", "True"])
def test_base64_body_decoded_when_flagged(flag):
    adapted = to_wsgi_event(sample(isBase64Encoded=flag, body=b64("method=getSms&phone=13800138000")), RID)
    assert adapted["body"] == b"method=getSms&phone=13800138000"
    assert adapted["isBase64Encoded"] is False


@pytest.mark.parametrize("flag", [False, "false", "False", None])
def test_body_left_alone_when_not_flagged(flag):
    # "dGVzdA==" is valid base64: it must still arrive as typed.
    event = sample(body="dGVzdA==", isBase64Encoded=flag)
    assert to_wsgi_event(event, RID)["body"] == b"dGVzdA=="


def test_non_ascii_text_body_is_utf8():
    assert to_wsgi_event(sample(body='{"msg":"验证"}'), RID)["body"] == '{"msg":"验证"}'.encode()


def test_body_of_exactly_the_limit_is_accepted():
    assert len(to_wsgi_event(sample(body="x" * MAX_BODY_BYTES), RID)["body"]) == MAX_BODY_BYTES
    raw = "y" * MAX_BODY_BYTES
    assert len(to_wsgi_event(sample(body=b64(raw), isBase64Encoded=True), RID)["body"]) == MAX_BODY_BYTES


# -- client IP -------------------------------------------------------------------------


def test_source_ip_comes_from_request_context_only():
    spoofing_headers = {**APIGW_SAMPLE["headers"], "x-forwarded-for": "198.51.100.9", "x-real-ip": "198.51.100.10",
                        "X-Forwarded-For": "198.51.100.11"}
    event = sample(headers=spoofing_headers)
    assert source_ip_of(event) == "10.0.2.14"
    assert to_wsgi_event(event, RID)["requestContext"]["identity"] == {"sourceIp": "10.0.2.14"}


@pytest.mark.parametrize(
    "context",
    [None, {}, {"sourceIp": ""}, {"sourceIp": None}, "10.0.2.14", {"identity": {"sourceIp": "10.0.2.14"}}],
)
def test_no_source_ip_means_none_even_with_forwarding_headers(context):
    event = sample(requestContext=context, headers={"x-forwarded-for": "198.51.100.9", "x-real-ip": "198.51.100.9"})
    assert source_ip_of(event) is None
    assert to_wsgi_event(event, RID)["requestContext"]["identity"] == {"sourceIp": ""}


@pytest.mark.parametrize(
    ("given", "normalised"),
    [("10.0.2.14", "10.0.2.14"), ("2001:DB8::1", "2001:db8::1"),
     ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1")],
)
def test_source_ip_is_normalised_with_ipaddress(given, normalised):
    event = sample(requestContext={"sourceIp": given})
    assert source_ip_of(event) == normalised
    assert to_wsgi_event(event, RID)["requestContext"]["identity"] == {"sourceIp": normalised}


def test_function_url_capture_carries_source_ip():
    """A real Function URL event (x-scf-request-id header, no gateway headers) has requestContext.sourceIp."""
    event = {**FUNCTION_URL_SAMPLE, "headers": {"x-scf-request-id": "r-1", "accept": "*/*"},
             "requestContext": {"sourceIp": "198.51.100.23"}, "isBase64Encoded": False,
             "headerParameters": {}, "pathParameters": {}, "queryStringParameters": {}}
    assert to_wsgi_event(event, RID)["requestContext"]["identity"] == {"sourceIp": "198.51.100.23"}


# -- malformed events ----------------------------------------------------------------------

MALFORMED = [
    pytest.param(None, id="event-None"),
    pytest.param([], id="event-list"),
    pytest.param("GET /", id="event-string"),
    pytest.param(42, id="event-int"),
    pytest.param(sample(headers="accept: */*"), id="headers-string"),
    pytest.param(sample(headers=["accept"]), id="headers-list"),
    pytest.param(sample(headers={"accept": 1}), id="header-int-value"),
    pytest.param(sample(headers={"accept": None}), id="header-None-value"),
    pytest.param(sample(headers={"accept": ["*/*"]}), id="header-list-value"),
    pytest.param(sample(headers={f"h{i}": "v" for i in range(201)}), id="too-many-headers"),
    pytest.param(sample(queryString="foo=bar&bob=alice"), id="query-string"),
    pytest.param(sample(queryString=["foo"]), id="query-list"),
    pytest.param(sample(queryString={"a": 1}), id="query-int-value"),
    pytest.param(sample(queryString={"a": None}), id="query-None-value"),
    pytest.param(sample(queryString={"a": ["1", 2]}), id="query-list-with-int"),
    pytest.param(sample(queryString={"a": {"b": "c"}}), id="query-object-value"),
    pytest.param(sample(body={"test": "body"}), id="body-object"),
    pytest.param(sample(body=123), id="body-int"),
    pytest.param(sample(body=["x"]), id="body-list"),
    pytest.param(sample(body=True), id="body-bool"),
    pytest.param(sample(body="not base64!", isBase64Encoded=True), id="b64-bad-chars"),
    pytest.param(sample(body="aGVsbG8", isBase64Encoded=True), id="b64-missing-padding"),
    pytest.param(sample(body="aGVs bG8=", isBase64Encoded="true"), id="b64-inner-space"),
    pytest.param(sample(body="验证码", isBase64Encoded="true"), id="b64-non-ascii"),
    pytest.param(sample(body="a", isBase64Encoded=True), id="b64-one-char"),
    pytest.param(sample(isBase64Encoded="yes"), id="flag-yes"),
    pytest.param(sample(isBase64Encoded=1), id="flag-1"),
    pytest.param(sample(isBase64Encoded=0), id="flag-0"),
    pytest.param(sample(isBase64Encoded="TRUE"), id="flag-TRUE"),
    pytest.param(sample(isBase64Encoded=[]), id="flag-list"),
    pytest.param(sample(body="x" * (MAX_BODY_BYTES + 1)), id="body-too-large"),
    pytest.param(sample(body="x" * (4 * MAX_BODY_BYTES)), id="body-far-too-large"),
    pytest.param(sample(body=b64("y" * (MAX_BODY_BYTES + 1)), isBase64Encoded=True), id="decoded-too-large"),
    pytest.param(sample(body="\ud800"), id="body-lone-surrogate"),
    pytest.param(sample(httpMethod="GE T"), id="method-space"),
    pytest.param(sample(httpMethod=""), id="method-empty"),
    pytest.param(sample(httpMethod="G3T"), id="method-digit"),
    pytest.param(sample(httpMethod="X" * 17), id="method-too-long"),
    pytest.param(sample(httpMethod=123), id="method-int"),
    pytest.param(sample(httpMethod=["GET"]), id="method-list"),
    pytest.param(sample(path=123), id="path-int"),
    pytest.param(sample(path="/" + "p" * 2048), id="path-too-long"),
    pytest.param(sample(requestContext={"sourceIp": "\ud800"}), id="source-ip-lone-surrogate"),
    pytest.param(sample(requestContext={"sourceIp": 1234}), id="source-ip-int"),
    pytest.param(sample(requestContext={"sourceIp": "1" * 65}), id="source-ip-too-long"),
    pytest.param(sample(requestContext={"sourceIp": "10.0.2.300"}), id="source-ip-octet-300"),
    pytest.param(sample(requestContext={"sourceIp": "10.0.2.14, 198.51.100.9"}), id="source-ip-list"),
    pytest.param(sample(requestContext={"sourceIp": "010.000.002.014"}), id="source-ip-leading-zeros"),
]


@pytest.mark.parametrize("event", MALFORMED)
def test_malformed_event_raises(event):
    with pytest.raises(MalformedEvent):
        to_wsgi_event(event, RID)


# -- request id ------------------------------------------------------------------------------


def test_request_id_from_request_context():
    assert request_id_of(APIGW_SAMPLE, SimpleNamespace(request_id="ctx-1")) == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


@pytest.mark.parametrize("context", [SimpleNamespace(request_id="ctx-1"), {"request_id": "ctx-1"}])
def test_request_id_from_context_when_the_event_has_none(context):
    assert request_id_of(FUNCTION_URL_SAMPLE, context) == "ctx-1"
    assert request_id_of(sample(requestContext={"requestId": ""}), context) == "ctx-1"
    assert request_id_of(sample(requestContext={"requestId": 5}), context) == "ctx-1"
    assert request_id_of("not an event", context) == "ctx-1"


@pytest.mark.parametrize("context", [None, {}, SimpleNamespace(), {"request_id": 7}, SimpleNamespace(request_id="")])
def test_request_id_generated_otherwise(context):
    first, second = request_id_of(FUNCTION_URL_SAMPLE, context), request_id_of(FUNCTION_URL_SAMPLE, context)
    assert str(uuid.UUID(first)) == first and first != second


def test_request_id_is_bounded():
    long_id = "r" * 500
    assert request_id_of(sample(requestContext={"requestId": long_id}), None) == "r" * 128
    assert request_id_of({}, {"request_id": long_id}) == "r" * 128


# -- through serverless-wsgi -------------------------------------------------------------------


def test_sample_event_through_serverless_wsgi():
    seen = through_wsgi(to_wsgi_event(APIGW_SAMPLE, RID))
    assert parse_qs(seen["query"]) == {"foo": ["bar"], "bob": ["alice"]}
    assert seen["remote_addr"] == "10.0.2.14"
    assert seen["body"] == '{"test":"body"}'
    assert (seen["method"], seen["path"]) == ("POST", "/test/value")


def test_function_url_event_through_serverless_wsgi():
    event = copy.deepcopy(FUNCTION_URL_SAMPLE)
    event["headers"]["content-type"] = "application/json"
    seen = through_wsgi(to_wsgi_event(event, RID))
    assert parse_qs(seen["query"]) == {"a": ["1"], "b": ["2"]}
    assert seen["remote_addr"] == ""
    assert seen["body"] == '{"test":"hello world"}'
    assert seen["content_type"] == "application/json"


def test_repeated_query_values_reach_the_app():
    seen = through_wsgi(to_wsgi_event(sample(queryString={"phone": ["1", "2"], "method": "login"}), RID))
    assert parse_qs(seen["query"]) == {"phone": ["1", "2"], "method": ["login"]}


@pytest.mark.parametrize("flag", [True, "true"])
def test_base64_body_reaches_the_app_decoded(flag):
    event = sample(body=b64("method=getSms&phone=13800138002"), isBase64Encoded=flag,
                   headers={"content-type": "application/x-www-form-urlencoded"})
    seen = through_wsgi(to_wsgi_event(event, RID))
    assert seen["body"] == "method=getSms&phone=13800138002"
    assert seen["content_type"] == "application/x-www-form-urlencoded"


def test_false_string_flag_body_reaches_the_app_as_typed():
    seen = through_wsgi(to_wsgi_event(sample(body="dGVzdA==", isBase64Encoded="false"), RID))
    assert seen["body"] == "dGVzdA=="


def test_forwarding_headers_do_not_become_remote_addr():
    headers = {"x-forwarded-for": "198.51.100.9", "x-real-ip": "198.51.100.10"}
    seen = through_wsgi(to_wsgi_event(sample(headers=headers), RID))
    assert seen["remote_addr"] == "10.0.2.14"


# Why the adapter exists: the library's own reading of raw Tencent events.


def test_contrast_raw_tencent_event_loses_query_and_ip_in_serverless_wsgi():
    seen = through_wsgi(copy.deepcopy(APIGW_SAMPLE))
    assert parse_qs(seen["query"]) == {"foo": ["bar"]}  # only the declared parameters, bob is lost
    assert seen["remote_addr"] == ""  # requestContext.sourceIp is not read


def test_contrast_raw_false_string_flag_is_decoded_by_serverless_wsgi():
    seen = through_wsgi(sample(body="dGVzdA==", isBase64Encoded="false"))
    assert seen["body"] == "test"  # "false" is truthy to the library
