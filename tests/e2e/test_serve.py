"""``python -m smsverify serve`` takes the SCF path: each HTTP request becomes an
API Gateway event answered by ``main_handler``, against a real redis-server and
the Tencent SMS emulator.

Proven on a real ``serve`` process:
- OPTIONS, HEAD, DELETE, PUT send no SMS and get the status and codeStr that the
  same event gets through ``main_handler`` in-process (``invoke``);
- the bodies real clients send (fetch's text/plain JSON, wx.request's form string
  under the JSON header, a UTF-8 BOM, JSON null, browser FormData) each send one
  SMS to the right number, and an oversized body is refused without an SMS;
- CORS with ALLOWED_ORIGINS: a preflight from an allowed origin is 204 with the
  allowed methods and no SMS; another origin gets 403 OriginNotAllowed and no SMS;
  an allowed origin's request carries Access-Control-Allow-Origin and Vary;
- the JWKS route answers without Redis (default: InValidParam, no keys);
- a busy port is the first and only thing serve says; --help names the variables;
  invoke on a missing file says one line and builds nothing.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Iterator

import pytest

from smsverify.edge.handler import create_handler
from tests.support import ROOT
from tests.support import free_port

ORIGIN = "https://h5.example.com"


def clean_env(**extra: str) -> dict[str, str]:
    names = ("REDIS_", "SMS_", "CODE_", "TENCENTCLOUD_", "SCF_", "CAPTCHA_", "ALLOWED_ORIGINS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(extra)
    return env


class Served:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process, self.port = process, port

    def request(self, method: str, path: str = "/sms", *, query: str = "", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        url = f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


@pytest.fixture
def serve(redis_url, make_env) -> Iterator[callable]:
    started: list[subprocess.Popen] = []

    def start(**extra: str) -> Served:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "smsverify", "serve", "--port", str(port)],
            cwd=ROOT, env=clean_env(**make_env(redis_url, **extra)), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return Served(process, port)
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "serve did not come up"
                time.sleep(0.1)

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def event(method: str, query: dict, headers: dict | None = None) -> dict:
    return {"httpMethod": method, "path": "/sms", "headers": {"host": "x", **(headers or {})}, "queryString": query,
            "body": "", "requestContext": {"sourceIp": "127.0.0.1", "requestId": str(uuid.uuid4())}}


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "DELETE", "PUT"])
def test_other_methods_through_serve_send_nothing_and_answer_as_invoke(serve, redis_url, make_env, sms_api, method):
    served = serve()
    query = {"method": "getSms", "phone": "13800138000"}
    status, _, raw = served.request(method, query="method=getSms&phone=13800138000")
    in_process = create_handler(make_env(redis_url))(event(method, query), {})
    assert status == in_process["statusCode"] == 400
    if method != "HEAD":  # a HEAD answer has no body
        assert json.loads(raw)["codeStr"] == json.loads(in_process["body"])["codeStr"] == "InValidParam"
    assert sms_api.requests == []


REAL_CLIENT_BODIES = {
    "fetch-text-plain-json": (b'{"method":"getSms","phone":"13800138021"}', "text/plain;charset=UTF-8", "+8613800138021"),
    "wx-request-form-under-json": (b"method=getSms&phone=13800138022", "application/json", "+8613800138022"),
    "bom-json": (b'\xef\xbb\xbf{"method":"getSms","phone":"13800138023"}', "application/json", "+8613800138023"),
    "json-null": (b'{"method":"getSms","phone":"13800138024","ticket":null}', "application/json", "+8613800138024"),
    "formdata": (
        b'--XyZ\r\nContent-Disposition: form-data; name="method"\r\n\r\ngetSms\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="phone"\r\n\r\n13800138025\r\n--XyZ--\r\n',
        "multipart/form-data; boundary=XyZ", "+8613800138025"),
}


def test_real_client_bodies_through_serve(serve, sms_api):
    served = serve()
    for name, (raw, content_type, phone) in REAL_CLIENT_BODIES.items():
        status, _, answer = served.request("POST", body=raw, headers={"Content-Type": content_type})
        assert (status, json.loads(answer)["codeStr"]) == (200, "Ok"), (name, answer)
        assert len(sms_api.sent_to(phone)) == 1, name


def test_an_oversized_body_through_serve_is_refused_without_sms(serve, sms_api):
    served = serve()
    raw = b"method=getSms&phone=13800138026&x=" + b"a" * 70_000
    status, _, answer = served.request("POST", body=raw, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, json.loads(answer)["codeStr"]) == (400, "InValidParam")
    assert sms_api.requests == []


def test_cors_through_serve(serve, sms_api):
    served = serve(ALLOWED_ORIGINS=f"{ORIGIN},http://localhost:5173")
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    status, headers, raw = served.request("OPTIONS", headers=preflight)
    assert (status, raw) == (204, b"")
    assert headers["Access-Control-Allow-Origin"] == ORIGIN and headers["Vary"] == "Origin"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "content-type" in headers["Access-Control-Allow-Headers"].lower()

    status, headers, raw = served.request("OPTIONS", headers={**preflight, "Origin": "https://evil.example"})
    assert (status, json.loads(raw)["codeStr"]) == (403, "OriginNotAllowed")
    assert "Access-Control-Allow-Origin" not in headers
    status, _, raw = served.request("POST", body=b'{"method":"getSms","phone":"13800138027"}',
                                    headers={"Content-Type": "text/plain", "Origin": "https://evil.example"})
    assert (status, json.loads(raw)["codeStr"]) == (403, "OriginNotAllowed")
    assert sms_api.requests == []

    status, headers, raw = served.request("POST", body=b'{"method":"getSms","phone":"13800138027"}',
                                          headers={"Content-Type": "text/plain", "Origin": ORIGIN})
    assert (status, json.loads(raw)["codeStr"]) == (200, "Ok")
    assert headers["Access-Control-Allow-Origin"] == ORIGIN and headers["Vary"] == "Origin"
    assert len(sms_api.sent_to("+8613800138027")) == 1


def test_jwks_route_through_serve_with_a_shared_secret(serve):
    served = serve()  # TOKEN_SECRET: HS256 has no public key to publish
    for path, query in (("/.well-known/jwks.json", ""), ("/sms", "method=jwks")):
        status, _, raw = served.request("GET", path, query=query)
        assert (status, json.loads(raw)["codeStr"]) == (400, "InValidParam")
        assert "HS256" in json.loads(raw)["msg"]


def test_serve_on_a_busy_port_says_so_first():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "smsverify", "serve", "--port", str(port)], cwd=ROOT,
                              env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"smsverify: cannot listen on 127.0.0.1:{port}: port in use"]


def test_help_says_what_each_command_does_and_the_variables():
    helps = {}
    for args in ([], ["invoke"], ["serve"]):
        done = subprocess.run([sys.executable, "-m", "smsverify", *args, "--help"], cwd=ROOT, env=clean_env(),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        helps[" ".join(args)] = done.stdout
    for text in helps.values():
        assert "REDIS_URL" in text or "REDIS_HOST" in text
        assert "ALLOWED_ORIGINS" in text
    assert "invoke" in helps[""] and "serve" in helps[""]
    assert "--host" in helps["serve"] and "default: 127.0.0.1" in helps["serve"] and "default: 9000" in helps["serve"]
    assert "EVENT_FILE" in helps["invoke"]


def test_invoke_on_a_missing_file_says_one_line_and_builds_nothing():
    done = subprocess.run([sys.executable, "-m", "smsverify", "invoke", "events/no-such.json"], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["smsverify: cannot read events/no-such.json: No such file or directory"]
