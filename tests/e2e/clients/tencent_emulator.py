"""The Tencent Cloud emulator for the client flow tests, with its records readable from node.

Runs :class:`tests.support.emulators.tencent_cloud.TencentCloudEmulator` (SendSms, SendCodeVoice,
DescribeCaptchaResult, each checked like the real API, TC3 signatures included) on a free loopback
port and prints, one per line on stdout::

    url: http://127.0.0.1:<port>
    env: {"SMS_PROVIDER": "tencent", ...}   the variables that point `smsverify serve` at it
    captcha_ticket: <ticket> randstr: <randstr>   (--tickets of them)

then answers one JSON command per stdin line with one JSON line on stdout:

- ``{"op": "sent", "phone": "+86..."}``: ``[{"code", "serialNo"}]``, the SMS SendSms accepted for
  that number, oldest first (the code is the template's first parameter);
- ``{"op": "voice", "phone": "+86..."}``: ``[{"code"}]``, the SendCodeVoice calls to that number;
- ``{"op": "callback", "serials": [...], "status": "SUCCESS" | "FAIL"}``: ``{"body"}``, the JSON
  Tencent POSTs to a delivery-status callback URL for those SMS.

The codes go to the test process only, through this pipe (never to a log). Run from the
repository root: ``python -m tests.e2e.clients.tencent_emulator --tickets 2``.
"""

from __future__ import annotations

import argparse
import json
import sys

from tests.support.emulators.tencent_cloud import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, TencentCloudEmulator
from tests.support.parts import SIGN, TEMPLATE_ID, voice_env


def serve_env(emulator: TencentCloudEmulator) -> dict[str, str]:
    """Tencent SMS and voice codes through ``emulator``, as `smsverify serve` reads them."""
    return {
        "SMS_PROVIDER": "tencent", "SMS_SDKAPPID": emulator.sms_sdk_app_id, "SMS_SIGN": SIGN,
        "SMS_TEMPLATE_ID": TEMPLATE_ID, "SMS_API_ENDPOINT": emulator.url, "SMS_TIMEOUT_SECONDS": "5",
        "TENCENTCLOUD_SECRETID": emulator.secret_id, "TENCENTCLOUD_SECRETKEY": emulator.secret_key,
        **voice_env(emulator),
    }


def answer(emulator: TencentCloudEmulator, command: dict) -> object:
    op = command.get("op")
    if op == "sent":
        return [{"code": r["params"][0], "serialNo": r["serial_no"]} for r in emulator.sent_to(command["phone"])]
    if op == "voice":
        return [{"code": c["code"]} for c in emulator.voice_calls_to(command["phone"])]
    if op == "callback":
        return {"body": emulator.callback_body(*command["serials"], report_status=command.get("status", "SUCCESS"),
                                               errmsg="DELIVRD" if command.get("status", "SUCCESS") == "SUCCESS" else "MK:0001")}
    return {"error": f"unknown op {op!r}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2, help="captcha tickets to issue and print")
    args = parser.parse_args(argv)
    emulator = TencentCloudEmulator(secret_id=DEFAULT_SECRET_ID, secret_key=DEFAULT_SECRET_KEY)
    emulator.start(0)
    lines = [f"url: {emulator.url}", f"env: {json.dumps(serve_env(emulator), ensure_ascii=False)}"]
    for _ in range(max(args.tickets, 0)):
        ticket, randstr = emulator.issue_captcha_ticket()
        lines.append(f"captcha_ticket: {ticket} randstr: {randstr}")
    print("\n".join(lines), flush=True)
    try:
        for line in sys.stdin:
            if line.strip():
                print(json.dumps(answer(emulator, json.loads(line)), ensure_ascii=False), flush=True)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
