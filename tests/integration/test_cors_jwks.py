"""CORS (``ALLOWED_ORIGINS``), the JWKS route and request-scoped log fields,
through ``main_handler`` with a real redis-server (commands counted by the
server itself) and the Tencent SMS emulator.

Proven: a preflight from an allowed origin is 204 with the allowed methods and
headers, and a request from another origin is 403 ``OriginNotAllowed``, each
with zero Redis commands and no SMS; an allowed origin's answer carries
``Access-Control-Allow-Origin`` (that origin) and ``Vary: Origin``; without
``ALLOWED_ORIGINS`` no CORS header is ever sent; a malformed origin list fails
at start-up naming the variable; ``GET ?method=jwks`` and ``…/.well-known/jwks.json``
answer the given JWKS with ``Cache-Control: public, max-age=300``, zero Redis
commands and no invocation line; the service's own log lines carry the request id.
"""

from __future__ import annotations

import json
import logging

import pytest

from smsverify.edge.handler import create_handler
from smsverify.edge.settings import EdgeSettings
from smsverify.errors import ConfigError, InvalidParam
from tests.support import get_sms, load_event
from tests.support import RoundTripCounter

ORIGIN = "https://h5.example.com"
JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "kid": "k1", "use": "sig", "alg": "ES256"}]}


@pytest.fixture
def counter(redis_server):
    counter = RoundTripCounter(redis_server.url)
    yield counter
    counter.close()


@pytest.fixture
def cors_handler(redis_url, make_env, clock):
    handler = create_handler(make_env(redis_url, ALLOWED_ORIGINS=f"{ORIGIN}, http://localhost:5173"), clock=clock,
                             jwks=lambda: JWKS)
    handler(get_sms("8613800138099"), {})  # warm: scripts loaded
    return handler


def with_origin(event: dict, origin: str, method: str | None = None) -> dict:
    event["headers"]["origin"] = origin
    if method:
        event["httpMethod"] = method
    return event


def test_preflight_from_an_allowed_origin_is_204_and_touches_nothing(cors_handler, counter, sms_api):
    sms_api.requests.clear()
    event = with_origin(get_sms("8613800138001"), ORIGIN, "OPTIONS")
    event["headers"].update({"access-control-request-method": "POST", "access-control-request-headers": "content-type"})
    traffic = counter.during(lambda: cors_handler(event, {}))
    response = cors_handler(event, {})
    assert traffic.round_trips == 0 and traffic.commands == []
    assert (response["statusCode"], response["body"]) == (204, "")
    headers = response["headers"]
    assert headers["Access-Control-Allow-Origin"] == ORIGIN and headers["Vary"] == "Origin"
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert sms_api.requests == []


@pytest.mark.parametrize("method", ["OPTIONS", "POST", "GET"])
@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://h5.example.com.evil.example",
                                    "http://h5.example.com", "https://H5.example.com"])
def test_another_origin_is_refused_and_nothing_runs(cors_handler, counter, sms_api, method, origin):
    sms_api.requests.clear()
    event = with_origin(get_sms("8613800138002"), origin, method)
    response = {}
    traffic = counter.during(lambda: response.update(cors_handler(event, {})))
    assert traffic.round_trips == 0
    body = json.loads(response["body"])
    assert (response["statusCode"], body["codeStr"]) == (403, "OriginNotAllowed")
    assert "Access-Control-Allow-Origin" not in response["headers"]
    assert sms_api.requests == []


def test_an_allowed_origin_gets_its_cors_headers_on_every_answer(cors_handler, sms_api):
    ok = cors_handler(with_origin(get_sms("8613800138003"), "http://localhost:5173"), {})
    assert json.loads(ok["body"])["codeStr"] == "Ok"
    assert ok["headers"]["Access-Control-Allow-Origin"] == "http://localhost:5173" and ok["headers"]["Vary"] == "Origin"
    refused = cors_handler(with_origin(load_event("login.json", phone="8613800138003", code="xx"), ORIGIN), {})
    assert refused["statusCode"] == 400 and refused["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    malformed = cors_handler(with_origin(get_sms("8613800138003"), ORIGIN, "DELETE"), {})
    assert malformed["statusCode"] == 400 and malformed["headers"]["Access-Control-Allow-Origin"] == ORIGIN


def test_without_allowed_origins_no_cors_header_and_no_preflight(redis_url, make_env, clock, sms_api):
    handler = create_handler(make_env(redis_url), clock=clock)
    ok = handler(with_origin(get_sms("8613800138004"), ORIGIN), {})
    assert json.loads(ok["body"])["codeStr"] == "Ok"
    assert not any(name.lower().startswith("access-control") for name in ok["headers"])
    preflight = handler(with_origin(get_sms("8613800138004"), ORIGIN, "OPTIONS"), {})
    assert preflight["statusCode"] == 400 and "Access-Control-Allow-Origin" not in preflight["headers"]


@pytest.mark.parametrize("value", ["*", "https://a.example/", "https://a.example/path", "a.example", "ftp://a.example",
                                   "https://A.example", "https://a.example:99999"])
def test_a_malformed_origin_list_fails_at_start_up(value):
    with pytest.raises(ConfigError) as info:
        EdgeSettings.from_env({"ALLOWED_ORIGINS": f"https://ok.example,{value}"})
    assert info.value.variable == "ALLOWED_ORIGINS"


def test_origin_list_is_read():
    assert EdgeSettings.from_env({}).allowed_origins == frozenset()
    assert EdgeSettings.from_env({"ALLOWED_ORIGINS": " https://a.example , http://localhost:8080,"}).allowed_origins == {
        "https://a.example", "http://localhost:8080"}


@pytest.mark.parametrize("route", ["query", "path", "stage-path"])
def test_jwks_route_answers_without_redis_or_log_line(cors_handler, counter, caplog, route):
    event = load_event("get_sms.json")
    event["queryString"] = {}
    if route == "query":
        event["queryString"] = {"method": "jwks"}
    else:
        event["path"] = "/.well-known/jwks.json" if route == "path" else "/release/sms/.well-known/jwks.json"
    response = {}
    with caplog.at_level(logging.INFO, logger="smsverify"):
        traffic = counter.during(lambda: response.update(cors_handler(event, {})))
    assert traffic.round_trips == 0
    assert (response["statusCode"], json.loads(response["body"])) == (200, JWKS)
    assert response["headers"]["Cache-Control"] == "public, max-age=300"
    assert response["headers"]["Vary"] == "Origin"  # ALLOWED_ORIGINS is set: a shared cache must key on Origin
    assert [r for r in caplog.records if r.getMessage() == "invocation"] == []


def test_jwks_route_error_of_the_keys_is_the_answer(redis_url, make_env, clock):
    def hs256_only() -> dict:
        raise InvalidParam("HS256 tokens have no public key")

    handler = create_handler(make_env(redis_url), clock=clock, jwks=hs256_only)
    response = handler({**load_event("get_sms.json"), "queryString": {"method": "jwks"}}, {})
    assert (response["statusCode"], json.loads(response["body"])["msg"]) == (400, "HS256 tokens have no public key")


def test_service_log_lines_carry_the_request_id(redis_url, make_env, clock, sms_api, capsys):
    """A provider failure is logged by the service: that line carries the invocation's request id and masked phone."""
    handler = create_handler(make_env(redis_url), clock=clock)
    logger = logging.getLogger("smsverify")
    [stream_handler] = [h for h in logger.handlers if getattr(h, "_smsverify", False)]
    lines: list[str] = []
    stream_handler_emit = stream_handler.emit
    stream_handler.emit = lambda record: lines.append(stream_handler.format(record))  # type: ignore[method-assign]
    try:
        sms_api.sms_number_error = "FailedOperation.SignatureIncorrectOrUnapproved"  # provider-level: logged
        event = get_sms("8613800138005")
        event["requestContext"]["requestId"] = "rid-service-line"
        handler(event, {})
    finally:
        stream_handler.emit = stream_handler_emit  # type: ignore[method-assign]
        sms_api.sms_number_error = None
    records = [json.loads(line) for line in lines]
    service_lines = [r for r in records if r["message"] != "invocation"]
    assert service_lines, records
    for record in records:
        assert record["requestId"] == "rid-service-line"
    assert all(r.get("phone") == "+86138****8005" for r in service_lines if "phone" in r)
