"""The SCF entry point (handler.main_handler) and the local commands of the README,
``python -m smsverify invoke`` and ``serve``
on the embedded defaults (in-process store, console SMS, random key)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from tests.support import CONSOLE_SMS, ROOT
from tests.support import free_port



def local_env(**extra: str) -> dict[str, str]:
    """The machine's environment without any smsverify setting, as on a fresh machine."""
    names = ("REDIS_", "SMS_", "CODE_", "TENCENTCLOUD_", "SCF_", "CAPTCHA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(extra)
    return env


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smsverify", *args], cwd=ROOT, env=local_env(**env), capture_output=True, text=True, timeout=60
    )


def test_invoke_get_sms_prints_an_ok_integration_response_on_the_embedded_defaults():
    done = run("invoke", "events/get_sms.json")
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    assert json.loads(response["body"])["codeStr"] == "Ok"
    for fallback in ("in-process store", "console SMS provider", "random per-process key"):
        assert done.stderr.count(fallback) == 1, done.stderr
    [(phone, _code, _minutes)] = CONSOLE_SMS.findall(done.stderr)
    assert phone == "+8613800138000"


def test_invoke_reports_a_configuration_error_by_variable_name():
    done = run("invoke", "events/get_sms.json", REDIS_HOST="127.0.0.1", REDIS_PORT="not-a-port")
    assert done.returncode == 2 and done.stdout == ""
    assert "REDIS_PORT" in done.stderr and "Traceback" not in done.stderr


def test_invoke_reports_an_unreadable_event_file():
    done = run("invoke", "events/no-such-event.json")
    assert done.returncode == 2 and "cannot read events/no-such-event.json" in done.stderr


def test_serve_keeps_state_between_requests_so_get_sms_then_login_succeeds():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "smsverify", "serve", "--port", str(port)],
        cwd=ROOT, env=local_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/any/path"
        deadline = time.monotonic() + 20
        while True:
            try:
                sent = json.load(urllib.request.urlopen(f"{base}?method=getSms&phone=13800138000", timeout=5))
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "serve did not come up"
                time.sleep(0.1)
        assert sent["codeStr"] == "Ok"
        code = None
        while code is None:
            match = CONSOLE_SMS.search(server.stderr.readline())
            code = match and match.group(2)
        form = urllib.parse.urlencode({"method": "login", "phone": "+8613800138000", "code": code}).encode()
        assert json.load(urllib.request.urlopen(base, data=form, timeout=5))["codeStr"] == "Success"
    finally:
        server.terminate()
        server.communicate(timeout=10)


SCF_ENTRY = """
import json, sys
import handler
event = json.load(open("events/get_sms.json"))
print(json.loads(handler.main_handler(event, {"request_id": "ctx-1"})["body"])["codeStr"])
"""


def test_the_scf_entry_point_serves_an_event_inside_scf(redis_url, make_env, sms_api):
    env = local_env(TENCENTCLOUD_RUNENV="SCF", SCF_FUNCTIONNAME="smsverify", **make_env(redis_url))
    done = subprocess.run([sys.executable, "-c", SCF_ENTRY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Ok"
    assert len(sms_api.sent_to("+8613800138000")) == 1
    assert "in-process store" not in done.stderr and "console SMS" not in done.stderr  # no silent fallback in SCF


def test_inside_scf_a_missing_setting_fails_the_start_up_by_name(redis_url, make_env):
    env = local_env(TENCENTCLOUD_RUNENV="SCF", **make_env(redis_url))
    del env["CODE_SECRET"]
    done = subprocess.run([sys.executable, "-c", "import handler"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ConfigError: CODE_SECRET: is required inside SCF" in done.stderr
