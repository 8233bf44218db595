"""Secrets and logs: a whole scenario writes no secret anywhere.

One scenario through ``main_handler`` with the Tencent provider (the emulator,
real signed SDK requests) and a real redis-server: getSms, a wrong login, the
right login, a replay, TooFrequent, a per-number provider refusal, a
request-level provider refusal, a provider timeout, Redis down (getSms and a
login carrying a live code both 503), malformed events that carry the phone and
a live code, and a captcha-enabled handler refusing a forged ticket.

Everything is captured: every log record of every logger (a DEBUG handler on
the root logger, on ``smsverify`` and on any other logger that does not
propagate; each record dumped with its message, arguments, attributes and
traceback), the function's own JSON log stream, and stdout/stderr at
file-descriptor level (capfd). Proven:

* none of these appears: every code sent to the provider (refused and timed-out
  sends included), ``CODE_SECRET``, ``TENCENTCLOUD_SECRETID``/``SECRETKEY``/
  ``SESSIONTOKEN``, the captcha key, the phone in any accepted spelling, any
  HMAC digest stored in Redis;
* the capture works: the masked phone ``+86138****8000`` does appear, and
  there is exactly one JSON invocation line per call, with ``requestId``,
  ``codeStr`` (the expected sequence), ``durationMs`` and, for requests that
  named one, ``method``.

The ``sdk-debug`` variant runs the same scenario with the root logger at DEBUG
(a troubleshooting configuration), which the Tencent SDK's logger inherits;
the SDK would then log every signed request and answer (session token, codes,
phone, captcha key) but for the filter ``configure_logging`` puts on it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import sys
import time
from typing import Iterator

import pytest

from smsverify.edge.handler import create_handler
from tests.support import (
    CODE_SECRET,
    SECRET_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    answer,
    get_sms,
    load_event,
    login,
)
from tests.support.logs import capture_all_logs

PHONE = "+8613800138000"
SPELLINGS = ("+8613800138000", "8613800138000", "13800138000")
MASKED = "+86138****8000"


class Leak(AssertionError):
    """A secret was found in the captured output (message names it, never shows it)."""


@contextlib.contextmanager
def own_log_stream_to_stderr() -> Iterator[None]:
    """The ``smsverify`` stream handler was bound to whatever stderr existed when
    the first handler of the process was built; point it at this test's stderr."""
    saved = [(h, h.stream) for h in logging.getLogger("smsverify").handlers
             if type(h) is logging.StreamHandler]
    for h, _ in saved:
        h.stream = sys.stderr  # not setStream(): that flushes the old stream, maybe a closed capture
    try:
        yield
    finally:
        for h, stream in saved:
            h.stream = stream


def stored_digests(client) -> set[str]:
    """Every code HMAC in Redis (hashes with a ``d`` field)."""
    found = set()
    for key in client.scan_iter(count=1000):
        if client.type(key) == b"hash" and client.hexists(key, "d"):
            found.add(client.hget(key, "d").decode())
    return found


def wait_for(predicate, seconds: float = 10.0) -> None:
    """Synchronisation only (the emulator finishes a send its client gave up on)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the emulator did not finish the delayed send"
        time.sleep(0.02)


def find_leaks(text: str, secrets: dict[str, str]) -> list[str]:
    """Labels of the secrets found in ``text``; codes count only as whole digit runs
    (a 6-digit code may occur by chance inside a long serial number)."""
    leaks = []
    for label, value in secrets.items():
        pattern = rf"(?<![0-9]){re.escape(value)}(?![0-9])" if label.startswith("code") else re.escape(value)
        if re.search(pattern, text):
            leaks.append(label)
    return leaks


@pytest.mark.parametrize("sdk_debug", [
    pytest.param(False, id="as-deployed"),
    pytest.param(True, id="sdk-debug"),
])
def test_full_scenario_leaks_no_code_secret_credential_or_phone(
    sdk_debug, redis_server, redis_url, make_env, sms_api, clock, capfd
):
    handler = create_handler(make_env(redis_url, SMS_TIMEOUT_SECONDS="1"), clock=clock)
    captcha_handler = create_handler(make_env(
        redis_url, CAPTCHA_APP_ID=str(sms_api.captcha_app_id),
        CAPTCHA_APP_SECRET_KEY=sms_api.captcha_app_secret_key, CAPTCHA_API_ENDPOINT=sms_api.url,
    ), clock=clock)
    redis = redis_server.client()
    digests: set[str] = set()
    calls: list[tuple[str | None, str]] = []  # (method named by the request, expected codeStr)

    def call(event, expected: str, method: str | None, on=handler) -> dict:
        body = answer(on(event, {}))
        assert body["codeStr"] == expected, body
        calls.append((method, expected))
        return body

    with capture_all_logs(sdk_debug) as dump, own_log_stream_to_stderr():
        call(get_sms("8613800138000"), "Ok", "getSms")
        code = sms_api.sent_to(PHONE)[0]["params"][0]
        digests |= stored_digests(redis)
        wrong = "000000" if code != "000000" else "111111"
        call(login("+8613800138000", wrong), "CodeIsError", "login")
        call(login("13800138000", code), "Success", "login")
        call(login("8613800138000", code), "CodeHasExpired", "login")
        call(get_sms("+8613800138000"), "TooFrequent", "getSms")

        clock.advance(61)
        sms_api.sms_number_error = "FailedOperation.SignatureIncorrectOrUnapproved"
        assert call(get_sms("13800138000"), "SmsSendFailed", "getSms")["providerCode"] == f"tencent:{sms_api.sms_number_error}"
        sms_api.sms_number_error = None
        sms_api.sms_request_error = ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance")
        call(get_sms("13800138000"), "SmsSendFailed", "getSms")
        sms_api.sms_request_error = None
        sms_api.sms_delay_seconds = 2.0
        call(get_sms("13800138000"), "SmsSendTimeout", "getSms")
        sms_api.sms_delay_seconds = 0.0
        digests |= stored_digests(redis)
        live_code = [r["body"]["TemplateParamSet"][0] for r in sms_api.requests if r["action"] == "SendSms"][-1]

        redis_server.stop()
        try:
            call(get_sms("+8613800138000"), "ServiceUnavailable", "getSms")
            call(login("13800138000", live_code), "ServiceUnavailable", "login")
        finally:
            redis_server.start()

        form = f"method=login&phone=%2B8613800138000&code={live_code}"
        call(form, "InValidParam", None)  # not a dict, yet it carries phone and code
        broken_json = load_event("login_post_json.json")
        broken_json["body"] = json.dumps({"method": "login", "phone": PHONE, "code": live_code})[:-1]
        call(broken_json, "InValidParam", None)
        not_base64 = load_event("get_sms_base64.json")
        not_base64["body"] = base64.b64encode(form.encode()).decode() + "!"
        call(not_base64, "InValidParam", None)
        call(load_event("login.json", phone=[PHONE, "13800138000"], code=live_code), "InValidParam", None)

        ticket_body = call(get_sms("13800138000", ticket="forged-ticket", randstr="@forged"), "CaptchaFailed", "getSms", on=captcha_handler)
        assert ticket_body["_status"] == 400

        wait_for(lambda: len(sms_api.sent) == 2)  # step 1 and the timed-out send, which the emulator still makes
        sys.stdout.flush(), sys.stderr.flush()
        out, err = capfd.readouterr()

    # The scenario went where it should: 4 SendSms requests (Ok, refused twice, timeout), 1 captcha check.
    send_requests = [r for r in sms_api.requests if r["action"] == "SendSms"]
    assert len(send_requests) == 4 and len([r for r in sms_api.requests if r["service"] == "captcha"]) == 1
    codes = {r["body"]["TemplateParamSet"][0] for r in send_requests} | {m["params"][0] for m in sms_api.sent}
    assert code in codes and live_code in codes and len(digests) == 2

    # The capture works: one JSON invocation line per call, with the masked phone.
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    invocations = [line for line in lines if line.get("message") == "invocation"]
    assert [line["codeStr"] for line in invocations] == [expected for _, expected in calls]
    for line, (method, _) in zip(invocations, calls):
        assert isinstance(line["requestId"], str) and line["requestId"]
        assert isinstance(line["durationMs"], (int, float)) and line["durationMs"] >= 0
        assert line.get("method") == method
    assert MASKED in err and any(line.get("phone") == MASKED for line in invocations)
    records = "\n".join(text for _, text in dump.chunks)
    assert MASKED in records and "invocation" in records

    secrets = {f"code #{i}": c for i, c in enumerate(sorted(codes), 1)}
    secrets.update({
        "CODE_SECRET": CODE_SECRET, "TENCENTCLOUD_SECRETID": SECRET_ID, "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
        "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN, "CAPTCHA_APP_SECRET_KEY": sms_api.captcha_app_secret_key,
    })
    secrets.update({f"phone {s}": s for s in SPELLINGS})
    secrets.update({f"digest #{i}": d for i, d in enumerate(sorted(digests), 1)})
    sources = {"stdout": out, "stderr": err}
    for name, text in dump.chunks:
        sources[f"records of {name!r}"] = sources.get(f"records of {name!r}", "") + "\n" + text
    found = {where: leaks for where, text in sources.items() if (leaks := find_leaks(text, secrets))}
    if found:
        raise Leak(f"secrets in the output: {found}")
