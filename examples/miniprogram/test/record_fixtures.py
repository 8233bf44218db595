"""Record the mini-program's test fixtures from the real function.

Every response in ``fixtures/responses.json`` is produced here by the real
``main_handler`` (``smsverify.edge.handler.create_handler``), fed API Gateway
events shaped like ``events/login_post_json.json`` whose body is the JSON that
``utils/smsverify.js`` sends. Nothing is written by hand, so the node tests of
the utility cannot drift from the function: ``tests/e2e/test_miniprogram.py``
re-records into a temporary file and compares it byte for byte.

How each codeStr is reached (all in this process, no network beyond loopback):

* local defaults: no ``REDIS_URL`` (in-process store), ``SMS_PROVIDER=console``,
  a fixed ``CODE_SECRET`` and a fake clock; limits lowered by configuration
  where needed (``DAILY_SEND_LIMIT``, ``IP_SEND_LIMIT``, ``GLOBAL_SEND_LIMIT``,
  ``DAILY_VERIFY_LIMIT``);
* the Tencent Cloud API emulator (``tests/support/emulators/tencent_cloud.py``) with
  its knobs, for the provider's answers (``SmsSendFailed``, ``SmsSendTimeout``,
  the provider's own limits) and for a captcha ticket it rejects;
* the jscode2session emulator (``tests/support/emulators/wechat.py``) for WeChat
  login (``wxCode``): a code it minted, one it never issued, its 40226 knob;
* a loopback port nothing listens on, for an unreachable Redis, Captcha API,
  SMS API or WeChat API.

Determinism: the request id of each event is ``mp-<scenario>``; the clock is
fake; codes are random per run, so a code taken from the SMS is written as the
placeholder ``{sms code}`` and a wrong code derived from it as
``{wrong code}``, and a ``wx.login`` code minted by the WeChat emulator as
``{wx code}`` (the JS tests send these strings verbatim). No code ever
reaches the output file or stdout. Every getSms and login carries
``lang: "zh-CN"`` and ``verificationId: "{verification id}"``, like the
client: the placeholder stands for a random id per flow (per phone, renewed
after the answers that end a flow, as ``utils/smsverify.js`` does), and an
id the function echoes is written back as the placeholder. Two exceptions,
each said in its scenario: ``login_code_invalidated`` is a second submit sent
with the same id before the last wrong answer arrived (``CodeHasValid`` needs
the flow's own code), and ``login_verify_limit`` comes from a legacy client
(no ``verificationId``, no ``call``: the JS tests only normalise it), since
``DAILY_VERIFY_LIMIT`` counts wrong codes at legacy codes only.

Run from the repository root::

    .venv/bin/python examples/miniprogram/test/record_fixtures.py             # rewrites fixtures/responses.json
    .venv/bin/python examples/miniprogram/test/record_fixtures.py --output F  # writes F instead
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import secrets
import sys
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
for entry in (ROOT / "src", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from smsverify import errors  # noqa: E402
from smsverify.edge.handler import create_handler  # noqa: E402
from smsverify.edge.responses import STATUS  # noqa: E402
from tests.support import (  # noqa: E402
    CODE_SECRET,
    CONSOLE_SMS,
    SDK_APP_ID,
    SECRET_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    SIGN,
    FakeClock,
    tencent_env,
)
from tests.support import TencentCloudEmulator  # noqa: E402
from tests.support import WechatEmulator  # noqa: E402
from tests.support import free_port  # noqa: E402

DEFAULT_OUTPUT = HERE / "fixtures" / "responses.json"
RECORD_COMMAND = ".venv/bin/python examples/miniprogram/test/record_fixtures.py"
EVENT_TEMPLATE = ROOT / "events" / "login_post_json.json"

SMS_CODE = "{sms code}"
WRONG_CODE = "{wrong code}"
TOKEN = "{token}"
WX_CODE = "{wx code}"
VERIFICATION_ID = "{verification id}"
LANG = "zh-CN"
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_APP_SECRET = "wechat-app-secret-for-tests-only"  # pragma: allowlist secret
WECHAT_OPENID = "o-miniprogram-user"
CLIENT_IP = "203.0.113.7"
OTHER_IP = "198.51.100.20"
CAPTCHA_APP_ID = "190000000"  # the emulator's defaults
CAPTCHA_KEY = "captcha-test-key"  # pragma: allowlist secret

#: Answers after which the client starts a new verification flow (and the last CodeIsError).
FLOW_ENDS = {"Success", "CodeHasExpired", "CodeHasValid"}

#: codeStrs no scenario reaches, with the reason; anything else missing is an error.
NOT_REACHABLE = {
    "InternalError": "only an unexpected exception (a defect) produces it; no configuration or provider answer reaches it",
    "OriginNotAllowed": "a browser CORS refusal (ALLOWED_ORIGINS); wx.request sends no Origin header",
    "NotFound": "the delivery-receipt path's answer to an unknown path under its prefix; never answered to getSms or login",
    "ReceiptPullFailed": "the delivery-receipt timer event's answer when a provider's receipt pull fails; never answered to getSms or login",
}


def all_code_strs() -> set[str]:
    """Every codeStr of the Python error model: the STATUS table and the error classes."""
    found = set(STATUS)
    pending = [errors.VerificationError]
    while pending:
        cls = pending.pop()
        found.add(cls.code_str)
        pending.extend(cls.__subclasses__())
    return found


def wrong(code: str) -> str:
    """A code of the same length that is certainly not ``code``."""
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


class Recorder:
    """Runs scenarios through main_handler and collects fixture entries."""

    def __init__(self, stderr: io.StringIO) -> None:
        self.stderr = stderr
        self.read_upto = 0
        self.scenarios: list[dict[str, Any]] = []
        self.emulator: TencentCloudEmulator | None = None
        self.wechat: WechatEmulator | None = None

    def cloud_api(self) -> TencentCloudEmulator:
        if self.emulator is None:
            self.emulator = TencentCloudEmulator(
                secret_id=SECRET_ID, secret_key=SECRET_KEY, token=SESSION_TOKEN,
                sms_sdk_app_id=SDK_APP_ID, sms_templates={"100001": 2, "100002": 1}, sms_signs={SIGN},
            ).start()
        self.emulator.reset()
        return self.emulator

    def wechat_api(self) -> WechatEmulator:
        if self.wechat is None:
            self.wechat = WechatEmulator(WECHAT_APP_ID, WECHAT_APP_SECRET).start()
        self.wechat.reset()
        return self.wechat

    def close(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
        if self.wechat is not None:
            self.wechat.stop()

    def new_stderr(self) -> str:
        text = self.stderr.getvalue()
        fresh, self.read_upto = text[self.read_upto:], len(text)
        return fresh

    def session(self, setup: str, env: dict[str, str], *, tencent: bool = False) -> "Session":
        """A fresh function instance (own in-process store, own fake clock)."""
        return Session(self, setup, env, tencent)


class Session:
    def __init__(self, recorder: Recorder, setup: str, env: dict[str, str], tencent: bool) -> None:
        self.recorder = recorder
        self.setup = setup
        self.clock = FakeClock()
        self.sms_api = recorder.cloud_api() if tencent or "{emulator}" in "".join(env.values()) else None
        if self.sms_api is not None:
            env = {k: v.replace("{emulator}", self.sms_api.url) for k, v in env.items()}
        if tencent:
            env = tencent_env(None, self.sms_api, **env)
        self.wechat_api = recorder.wechat_api() if "{wechat}" in "".join(env.values()) else None
        if self.wechat_api is not None:
            env = {k: v.replace("{wechat}", self.wechat_api.url) for k, v in env.items()}
        self.handler = create_handler(env, clock=self.clock)
        self.codes: dict[str, str] = {}  # E.164 -> latest code
        self.flows: dict[str, str] = {}  # E.164 -> verificationId of the current flow

    # -- the two calls of utils/smsverify.js --------------------------------
    def get_sms(self, name: str | None, phone: str | None, extra: dict[str, str] | None = None, **kw: Any) -> dict:
        data = {"method": "getSms", **({} if phone is None else {"phone": phone}), **(extra or {}),
                "lang": LANG, "verificationId": VERIFICATION_ID}
        args: list[Any] = [] if phone is None else [phone]
        if extra:
            args.append(extra)
        return self.request(name, data, call={"fn": "getSms", "args": args}, **kw)

    def login(
        self, name: str | None, phone: str, code: str | None = None, extra: dict[str, str] | None = None, **kw: Any
    ) -> dict:
        data = {"method": "login", "phone": phone, **({} if code is None else {"code": code}), **(extra or {}),
                "lang": LANG, "verificationId": VERIFICATION_ID}
        args: list[Any] = [phone] if code is None else [phone, code]
        if extra:
            args.append(extra)
        return self.request(name, data, call={"fn": "login", "args": args}, **kw)

    # -- one event through main_handler ---------------------------------------
    def request(
        self, name: str | None, data: dict[str, str], *, call: dict | None = None, ip: str = CLIENT_IP, description: str = ""
    ) -> dict:
        """Send ``data`` as the JSON body; record it as scenario ``name`` (None: a setup step)."""
        sent = {key: self._real(data["phone"], value) if key == "code" else value for key, value in data.items()}
        if sent.get("wxCode") == WX_CODE:
            if self.wechat_api is None:
                raise RuntimeError(f"{name}: {WX_CODE} needs the WeChat emulator")
            sent["wxCode"] = self.wechat_api.mint(WECHAT_OPENID)
        flow = self.e164(data.get("phone") or "")
        if sent.get("verificationId") == VERIFICATION_ID:
            sent["verificationId"] = self.flows.setdefault(flow, secrets.token_urlsafe(24))
        event = json.loads(EVENT_TEMPLATE.read_text(encoding="utf-8"))
        event["requestContext"]["requestId"] = f"mp-{name or 'setup'}"
        event["requestContext"]["sourceIp"] = ip
        event["body"] = json.dumps(sent, ensure_ascii=False, separators=(",", ":"))  # as JSON.stringify
        response = self.handler(event, {})
        self._learn_codes()
        if response.get("isBase64Encoded") is not False:
            raise RuntimeError(f"{name}: unexpected integration response shape")
        body = json.loads(response["body"])
        if "verificationId" in sent and body.get("verificationId") == sent["verificationId"]:
            body["verificationId"] = VERIFICATION_ID
        if body.get("codeStr") in FLOW_ENDS or (body.get("codeStr") == "CodeIsError" and body.get("attemptsLeft") == 0):
            self.flows.pop(flow, None)  # the client starts a new flow (a new id) after these
        if "token" in body:
            body["token"] = TOKEN  # signed, with a random jti: different at every run
        if name is not None:
            self.recorder.scenarios.append({
                "name": name,
                "description": description,
                "setup": self.setup,
                "call": call,
                "request": {"method": "POST", "header": {"content-type": "application/json"}, "data": data},
                "response": {"statusCode": response["statusCode"], "header": response["headers"], "data": body},
            })
        return body

    def _real(self, phone: str, code: str) -> str:
        if code not in (SMS_CODE, WRONG_CODE):
            return code
        key = self.e164(phone)
        if key not in self.codes:
            raise RuntimeError(f"no code was sent to {key} in this session")
        return self.codes[key] if code == SMS_CODE else wrong(self.codes[key])

    @staticmethod
    def e164(phone: str) -> str:
        return phone if phone.startswith("+") else "+86" + phone

    def _learn_codes(self) -> None:
        for phone, code, _minutes in CONSOLE_SMS.findall(self.recorder.new_stderr()):
            self.codes[phone] = code
        if self.sms_api is not None:
            for sms in self.sms_api.sent:
                self.codes[sms["phone"]] = sms["params"][0]


def console_env(**overrides: str) -> dict[str, str]:
    """The embedded local defaults: in-process store, console SMS, fixed key."""
    return {"CODE_SECRET": CODE_SECRET, "SMS_PROVIDER": "console", **overrides}


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    return free_port()


# -- scenarios --------------------------------------------------------------
def protocol(rec: Recorder) -> None:
    s = rec.session("local defaults: in-process store, console SMS", console_env())
    s.get_sms("getSms_ok", "13800138000", description="a code is sent")
    s.clock.advance(15)
    s.get_sms("getSms_repeat", "13800138000",
              description="again 15 s later with the same verificationId, within SEND_INTERVAL_SECONDS (60): the first Ok, no second SMS")
    s.login("login_wrong_code", "13800138000", WRONG_CODE, description="first wrong code of MAX_VERIFY_ATTEMPTS (3)")
    s.login("login_success", "13800138000", SMS_CODE, description="the code from the SMS")
    s.login("login_code_used", "13800138000", SMS_CODE, description="the same code again: consumed")
    s.login("login_missing_code", "13800138000", description="no code parameter")
    s.login("login_code_not_digits", "13800138000", "12345a", description="a code that is not digits")
    s.login("login_never_sent", "13800138009", "123456", description="no code was ever sent to this phone")
    s.get_sms("getSms_invalid_phone", "12345", description="not a phone number")
    s.get_sms("getSms_empty_phone", "", description="the phone field left empty")
    s.get_sms("getSms_missing_phone", None, description="no phone parameter")
    s.get_sms("getSms_country_not_allowed", "+12025550123", description="a US number; ALLOWED_COUNTRY_CODES is 86")
    s.request("unknown_method", {"method": "register", "phone": "13800138000"}, description="a method the function does not have")
    s.request("missing_method", {"phone": "13800138000"}, description="no method parameter")


def invalidated(rec: Recorder) -> None:
    s = rec.session("local defaults", console_env())
    s.get_sms(None, "13800138001")
    s.login(None, "13800138001", WRONG_CODE)
    s.login("login_wrong_code_second", "13800138001", WRONG_CODE, description="second wrong code of 3")
    in_flight = s.flows["+8613800138001"]
    s.login("login_wrong_code_last", "13800138001", WRONG_CODE, description="third wrong code: no attempt left")
    s.flows["+8613800138001"] = in_flight  # a second submit sent before that answer arrived: still the same flow
    s.login("login_code_invalidated", "13800138001", SMS_CODE,
            description="the right code with the same verificationId, sent before the third wrong answer arrived (a double "
                        "submit): the code took MAX_VERIFY_ATTEMPTS wrong tries")


def expired(rec: Recorder) -> None:
    s = rec.session("local defaults", console_env())
    s.get_sms(None, "13800138002")
    s.clock.advance(301)
    s.login("login_code_expired", "13800138002", SMS_CODE, description="the right code 301 s later (CODE_TTL_SECONDS 300)")


def hourly(rec: Recorder) -> None:
    s = rec.session("local defaults", console_env())
    for _ in range(5):
        s.get_sms(None, "13800138003")
        s.clock.advance(60)
    s.get_sms("getSms_hourly_limit", "13800138003", description="the 6th send in an hour (HOURLY_SEND_LIMIT 5), one per minute")


def daily(rec: Recorder) -> None:
    s = rec.session("DAILY_SEND_LIMIT=2", console_env(DAILY_SEND_LIMIT="2"))
    for _ in range(2):
        s.get_sms(None, "13800138004")
        s.clock.advance(60)
    s.get_sms("getSms_daily_limit", "13800138004", description="the 3rd send today; retryAfter runs to midnight in Shanghai")


def per_ip(rec: Recorder) -> None:
    s = rec.session("IP_SEND_LIMIT=1", console_env(IP_SEND_LIMIT="1"))
    s.get_sms(None, "13800138005")
    s.get_sms("getSms_ip_limit", "13800138006", description="a second phone from the same client IP")


def per_prefix(rec: Recorder) -> None:
    s = rec.session("PREFIX_SEND_LIMIT=1", console_env(PREFIX_SEND_LIMIT="1"))
    s.get_sms(None, "13800138005")
    s.get_sms("getSms_prefix_limit", "13800138006", ip=OTHER_IP, description="a second phone of the same number block")


def global_budget(rec: Recorder) -> None:
    s = rec.session("GLOBAL_SEND_LIMIT=1", console_env(GLOBAL_SEND_LIMIT="1"))
    s.get_sms(None, "13800138005")
    s.get_sms("getSms_service_busy", "13800138006", ip=OTHER_IP, description="the global send budget is spent")


def verify_limit(rec: Recorder) -> None:
    # DAILY_VERIFY_LIMIT counts wrong codes at legacy codes only (no verificationId): the shipped clients always
    # bind, so they never get VerifyLimitExceeded; it is recorded from a legacy client (no call: the JS tests only
    # normalise the answer) so that the table entry is checked against the real answer.
    s = rec.session("DAILY_VERIFY_LIMIT=2, a legacy client (no verificationId)", console_env(DAILY_VERIFY_LIMIT="2"))
    legacy = {"phone": "13800138007", "lang": LANG}
    s.request(None, {"method": "getSms", **legacy})
    s.request(None, {"method": "login", **legacy, "code": WRONG_CODE})
    s.request(None, {"method": "login", **legacy, "code": WRONG_CODE})
    s.request("login_verify_limit", {"method": "login", **legacy, "code": SMS_CODE},
              description="a legacy login (no verificationId) after DAILY_VERIFY_LIMIT wrong codes today")


def captcha(rec: Recorder) -> None:
    on = dict(CAPTCHA_APP_ID=CAPTCHA_APP_ID, CAPTCHA_APP_SECRET_KEY=CAPTCHA_KEY,
              TENCENTCLOUD_SECRETID=SECRET_ID, TENCENTCLOUD_SECRETKEY=SECRET_KEY, TENCENTCLOUD_SESSIONTOKEN=SESSION_TOKEN)
    s = rec.session("captcha on (Captcha API: the emulator)", console_env(CAPTCHA_API_ENDPOINT="{emulator}", **on))
    s.get_sms("getSms_captcha_missing", "13800138008", description="captcha on, no ticket/randstr")
    s.get_sms("getSms_captcha_rejected", "13800138008", {"ticket": "t03-never-issued", "randstr": "@abc"},
              description="a ticket the Captcha API never issued (CaptchaCode 15)")
    s = rec.session("captcha on, Captcha API unreachable",
                    console_env(CAPTCHA_API_ENDPOINT=f"http://127.0.0.1:{closed_port()}", **on))
    s.get_sms("getSms_captcha_unreachable", "13800138008", {"ticket": "t03-any", "randstr": "@abc"},
              description="the Captcha API refuses connections")


def redis_down(rec: Recorder) -> None:
    s = rec.session("Redis unreachable", console_env(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", REDIS_TIMEOUT_SECONDS="0.5"))
    s.get_sms("getSms_store_unreachable", "13800138000", description="Redis refuses connections: nothing is sent")
    s.login("login_store_unreachable", "13800138000", "123456", description="Redis refuses connections")


def tencent(rec: Recorder) -> None:
    s = rec.session("Tencent SMS (the emulator)", {}, tencent=True)
    s.get_sms("tencent_getSms_ok", "13800138010", description="SendSms accepted")

    faults: list[tuple[str, str, Callable[[TencentCloudEmulator], None]]] = [
        ("tencent_insufficient_balance", "request error FailedOperation.InsufficientBalanceInSmsPackage",
         lambda api: setattr(api, "sms_request_error", ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance"))),
        ("tencent_timeout", "request error InternalError.Timeout: the outcome is unknown",
         lambda api: setattr(api, "sms_request_error", ("InternalError.Timeout", "timeout"))),
        ("tencent_thirty_second_limit", "per-number LimitExceeded.PhoneNumberThirtySecondLimit",
         lambda api: setattr(api, "sms_number_error", "LimitExceeded.PhoneNumberThirtySecondLimit")),
        ("tencent_daily_limit", "per-number LimitExceeded.PhoneNumberDailyLimit",
         lambda api: setattr(api, "sms_number_error", "LimitExceeded.PhoneNumberDailyLimit")),
        ("tencent_incorrect_number", "per-number InvalidParameterValue.IncorrectPhoneNumber",
         lambda api: setattr(api, "sms_number_error", "InvalidParameterValue.IncorrectPhoneNumber")),
    ]
    for name, what, knob in faults:
        s = rec.session(f"Tencent SMS (the emulator): {what}", {}, tencent=True)
        knob(s.sms_api)
        s.get_sms(name, "13800138010", description=what)
        if name == "tencent_incorrect_number":
            s.clock.advance(15)
            s.get_sms("getSms_too_frequent", "13800138010",
                      description="again 15 s after the provider refused the number: the phone is backed off for the resend interval")

    s = rec.session("Tencent SMS API unreachable", {"SMS_API_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}, tencent=True)
    s.get_sms("tencent_unreachable", "13800138010", description="the SMS API refuses connections: nothing was sent")


def wechat(rec: Recorder) -> None:
    on = dict(WECHAT_APP_ID=WECHAT_APP_ID, WECHAT_APP_SECRET=WECHAT_APP_SECRET)
    s = rec.session("WeChat login on (jscode2session: the emulator)", console_env(WECHAT_API_ENDPOINT="{wechat}", **on))
    s.get_sms(None, "13800138011")
    s.login("login_wechat_invalid_code", "13800138011", SMS_CODE, {"wxCode": "a-code-wechat-never-issued"},
            description="a wxCode WeChat never issued (errcode 40029): the SMS code stays valid")
    s.wechat_api.force_code = 40226
    s.login("login_wechat_high_risk", "13800138011", SMS_CODE, {"wxCode": WX_CODE},
            description="WeChat's risk control blocks the user (errcode 40226)")
    s.wechat_api.force_code = None
    s.login("login_wechat_success", "13800138011", SMS_CODE, {"wxCode": WX_CODE},
            description="the SMS code and a fresh wx.login code: the phone is bound to the WeChat user")
    s.get_sms("getSms_with_scene", "13800138012", {"scene": "login"}, description="a getSms naming its scene")
    s.login("login_with_scene", "13800138012", SMS_CODE, {"scene": "login"}, description="a login naming its scene")
    s = rec.session("WeChat login on, WeChat API unreachable",
                    console_env(WECHAT_API_ENDPOINT=f"http://127.0.0.1:{closed_port()}", **on))
    s.get_sms(None, "13800138011")
    s.login("login_wechat_unreachable", "13800138011", SMS_CODE, {"wxCode": "any-wx-code"},
            description="the WeChat API refuses connections: the SMS code stays valid")


SCENARIOS = (
    protocol, invalidated, expired, hourly, daily, per_ip, per_prefix, global_budget, verify_limit, captcha, redis_down, tencent, wechat,
)


def record() -> dict[str, Any]:
    stderr = io.StringIO()  # logs and console SMS (with codes) stay in here
    with contextlib.redirect_stderr(stderr):
        recorder = Recorder(stderr)
        try:
            for scenario in SCENARIOS:
                scenario(recorder)
        finally:
            recorder.close()
    names = [s["name"] for s in recorder.scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate scenario names: {duplicates}")
    everything = all_code_strs()
    covered = {s["response"]["data"]["codeStr"] for s in recorder.scenarios}
    missing = everything - covered - set(NOT_REACHABLE)
    if missing:
        raise RuntimeError(f"no scenario reaches {sorted(missing)}: add one, or list it in NOT_REACHABLE with the reason")
    return {
        "comment": "Generated by record_fixtures.py from the real main_handler. Do not edit; re-record with: " + RECORD_COMMAND,
        "placeholders": {
            SMS_CODE: "the code of the SMS sent in the same setup (random per run)",
            WRONG_CODE: "a code of the same length that differs from that code",
            TOKEN: "the signed login token (a compact JWS; random jti per run)",
            WX_CODE: "a fresh wx.login code, minted by the jscode2session emulator (random per run)",
            VERIFICATION_ID: "the client's random verificationId of the flow (32 base64url characters, random per run)",
        },
        "codeStrs": {
            "all": sorted(everything),
            "covered": sorted(covered),
            "notCovered": {code: NOT_REACHABLE[code] for code in sorted(everything - covered)},
        },
        "scenarios": recorder.scenarios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    fixtures = record()
    text = json.dumps(fixtures, ensure_ascii=False, indent=2) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(text.encode("utf-8"))
    print(f"wrote {len(fixtures['scenarios'])} scenarios to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
