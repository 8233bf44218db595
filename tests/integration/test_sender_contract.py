"""The sender contract of :mod:`smsverify.senders.base`, for every provider against its emulator.

Each sender is built from its environment variables as the function builds it
(``Settings.from_env`` then ``build_senders``) and talks to its emulator over real
HTTP (Tencent and Alibaba Cloud through their real SDKs, signed requests). For
tencent, ronglian, huyi, zhenzi and aliyun alike:

* an accepted send returns a :class:`SendReceipt` naming the provider, and the
  provider received exactly the phone and the code (the console sender too);
* a number-level refusal (a bad number; a per-number daily limit) is
  :class:`NumberRejected` / :class:`NumberRateLimited` (no failover);
* a provider-level refusal (balance, account) is a plain :class:`ProviderRefused`;
* no answer in time is :class:`SendTimeout`, ``maybe_sent`` True;
* nothing listening is :class:`ProviderUnreachable` (``ConnectionRefused``), never sent;
* every error names the provider (``<provider>:<code>``).

Tencent only: a failover attempt's shorter timeout reaching the SDK, one SDK client
built once, and ``tencentcloud`` imported only by the first send. Every code of every
provider's table is classified in tests/unit/test_sender_tables.py; Tencent's
request-level path, HTTP 5xx and a wrong key end to end in
tests/integration/test_provider_faults.py.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from smsverify.settings.config import Settings
from smsverify.integrations.credentials import TencentCredentials
from smsverify.senders import build_senders
from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    ProviderRefused,
    ProviderUnreachable,
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
)
from smsverify.senders.console import ConsoleSender
from smsverify.senders.tencent import TencentSmsSender
from tests.support import (
    CONSOLE_SMS,
    ROOT,
    SDK_APP_ID,
    SECRET_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    SIGN,
    TEMPLATE_ID,
    aliyun_env,
    free_port,
    get_sms,
    huyi_env,
    login,
    ronglian_env,
    zhenzi_env,
)

PHONE = "+8613800138000"
MESSAGE = SmsMessage(phone=PHONE, code="482913", ttl_minutes=5)
TIMEOUT = 2.0

PROVIDERS = ("tencent", "ronglian", "huyi", "zhenzi", "aliyun")
API_FIXTURE = {"tencent": "sms_api", "ronglian": "ronglian_api", "huyi": "huyi_api", "zhenzi": "zhenzi_api",
               "aliyun": "aliyun_api"}
BASE_URL_VARIABLE = {"tencent": "SMS_API_ENDPOINT", "ronglian": "RONGLIAN_BASE_URL", "huyi": "HUYI_BASE_URL",
                     "zhenzi": "ZHENZI_BASE_URL", "aliyun": "ALIYUN_SMS_ENDPOINT"}
#: provider -> (a bad number, a per-number daily limit, a provider-level refusal), as each provider spells them
CODES = {
    "tencent": ("InvalidParameterValue.IncorrectPhoneNumber", "LimitExceeded.PhoneNumberDailyLimit",
                "FailedOperation.InsufficientBalanceInSmsPackage"),
    "ronglian": ("160042", "160040", "112310"),  # bad number; daily limit; app not online
    "huyi": ("406", "4085", "4051"),  # bad mobile; 5 codes a day; no balance
    "zhenzi": ("100", "109", "108"),  # bad parameters (ours valid); daily limit; no balance
    # bad number; the platform's day-level per-number limit (reached for real, not injected); no balance
    "aliyun": ("isv.MOBILE_NUMBER_ILLEGAL", "isv.BUSINESS_LIMIT_CONTROL", "isv.AMOUNT_NOT_ENOUGH"),
}
KINDS = ((0, NumberRejected), (1, NumberRateLimited), (2, ProviderRefused))


def tencent_sender(sms_api, **overrides) -> TencentSmsSender:
    options = dict(
        sdk_app_id=SDK_APP_ID, sign_name=SIGN, template_id=TEMPLATE_ID, template_params=("code", "minutes"),
        region="ap-guangzhou", endpoint=sms_api.url, timeout_seconds=2.0,
    )
    options.update(overrides)
    return TencentSmsSender(TencentCredentials(SECRET_ID, SECRET_KEY, SESSION_TOKEN), **options)


@pytest.fixture(params=PROVIDERS)
def provider(request) -> str:
    return request.param


@pytest.fixture
def api(provider, request) -> Any:
    """The provider's emulator, reset for this test."""
    return request.getfixturevalue(API_FIXTURE[provider])


@pytest.fixture
def make_sender(provider, api, make_env):
    """``make_sender(**ENV)``: the provider's sender as the function builds it from its variables."""

    def make(**overrides: str):
        own = {"tencent": None, "ronglian": ronglian_env, "huyi": huyi_env, "zhenzi": zhenzi_env,
               "aliyun": aliyun_env}[provider]
        env = make_env(None, SMS_PROVIDER=provider, **{**(own(api) if own else {}), **overrides})
        [sender] = build_senders(Settings.from_env(env))
        assert sender.name == provider
        return sender

    return make


def delivered(provider: str, api) -> list[tuple[str, str]]:
    """(national number, code) of every message the emulator accepted."""
    code_of = {"huyi": lambda m: m["variables"][0]}.get(provider, lambda m: m["params"][0])
    return [(m["phone"][-11:], code_of(m)) for m in api.sent]


def force(provider: str, api, code: str) -> None:
    """Make the emulator answer ``code`` to the next send (Tencent: on the number's entry)."""
    if provider == "tencent":
        api.sms_number_error = code
    elif provider == "aliyun":
        if code == "isv.BUSINESS_LIMIT_CONTROL":
            api.daily_limit = 0  # the number has had its day's codes: the emulator's day-level answer
        else:
            api.force_code = code
    else:
        api.force_code = code if provider == "ronglian" else int(code)


def slow_down(provider: str, api, seconds: float) -> None:
    if provider == "tencent":
        api.sms_delay_seconds = seconds
    else:
        api.delay_seconds = seconds


def send_failure(sender, message=MESSAGE, timeout=TIMEOUT) -> SendError:
    with pytest.raises(SendError) as raised:
        sender.send(message, timeout)
    return raised.value


# -- the contract, for every provider ---------------------------------------------------------
def test_an_accepted_send_returns_a_receipt_and_delivers_exactly_the_message(provider, api, make_sender):
    other = SmsMessage(phone="+8613900139000", code="000117", ttl_minutes=10)
    sender = make_sender()

    first = sender.send(MESSAGE, TIMEOUT)
    second = sender.send(other, TIMEOUT)

    assert isinstance(first, SendReceipt) and first.provider == second.provider == provider
    assert delivered(provider, api) == [("13800138000", "482913"), ("13900139000", "000117")]


def test_the_console_sender_writes_exactly_the_message():
    stream = io.StringIO()
    sender = ConsoleSender(stream)

    receipt = sender.send(MESSAGE, TIMEOUT)

    assert receipt == SendReceipt(provider="console", serial_no="", request_id="")
    assert [CONSOLE_SMS.fullmatch(line).groups() for line in stream.getvalue().splitlines()] == [(PHONE, "482913", "5")]


@pytest.mark.parametrize("index, kind", KINDS, ids=["number-rejected", "number-daily-limit", "provider-refused"])
def test_a_refusal_is_number_level_or_provider_level(index, kind, provider, api, make_sender):
    code = CODES[provider][index]
    force(provider, api, code)

    error = send_failure(make_sender())

    assert type(error) is kind and error.maybe_sent is False
    assert error.qualified_code == f"{provider}:{code}"
    if kind is NumberRateLimited:
        assert error.daily is True
    assert api.sent == []


def test_no_answer_in_time_is_a_timeout_that_may_have_sent(provider, api, make_sender):
    slow_down(provider, api, 1.0)

    error = send_failure(make_sender(), timeout=0.5)

    assert type(error) is SendTimeout and error.maybe_sent is True
    assert error.qualified_code.startswith(f"{provider}:")
    wait_for_late_record(api)
    assert [m["phone"][-11:] for m in api.sent] == ["13800138000"]


def test_nothing_listening_is_unreachable_and_never_sent(provider, api, make_sender):
    sender = make_sender(**{BASE_URL_VARIABLE[provider]: f"http://127.0.0.1:{free_port()}"})

    error = send_failure(sender)

    assert (type(error), error.qualified_code) == (ProviderUnreachable, f"{provider}:ConnectionRefused")
    assert isinstance(error, ProviderRefused) and error.maybe_sent is False
    assert api.requests == []


# -- Tencent: the timeout of a failover attempt -----------------------------------------------
def wait_for_late_record(api) -> None:
    """The emulator answers late and records the message; wait for it (the bound only
    stops a hung test) so it cannot land in the next test's records."""
    deadline = time.monotonic() + 10
    while not api.sent and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_per_attempt_timeout_overrides_the_configured_one(sms_api):
    # Configured 5 s, but this failover attempt has 0.5 s left: the SDK must give up at 0.5 s.
    sms_api.sms_delay_seconds = 1.5
    sender = tencent_sender(sms_api, timeout_seconds=5.0)

    error = send_failure(sender, timeout=0.5)

    assert type(error) is SendTimeout
    wait_for_late_record(sms_api)
    sms_api.reset()
    assert sender.send(MESSAGE, 2.0).provider == "tencent"  # and a later attempt gets its own timeout back


# -- one SDK client, imported lazily --------------------------------------------------------
def test_the_sdk_client_is_built_once_and_reused(sms_api):
    sender = tencent_sender(sms_api)
    assert sender._client is None  # nothing built at construction

    sender.send(MESSAGE, TIMEOUT)
    client = sender._client
    sender.send(MESSAGE, TIMEOUT)

    assert client is not None and sender._client is client
    assert len(sms_api.sent) == 2


@pytest.mark.concurrency
def test_concurrent_first_sends_share_one_client(sms_api):
    sender = tencent_sender(sms_api)
    barrier = threading.Barrier(8)
    clients = []

    def first_use() -> None:
        barrier.wait()
        clients.append(sender._sdk_client(TIMEOUT))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(clients) == 8 and len({id(c) for c in clients}) == 1


LAZY_IMPORT_PROBE = r"""
import json, sys

def tencent_modules():
    return sorted(m for m in sys.modules if m == "tencentcloud" or m.startswith("tencentcloud."))

given = json.loads(sys.stdin.read())
report = {"at_start": tencent_modules()}

from smsverify.settings.config import Settings
from smsverify.senders import build_senders
[sender] = build_senders(Settings.from_env(given["env"]))
report["sender"] = type(sender).__name__
report["after_construction"] = tencent_modules()

from smsverify.edge.handler import create_handler
handler = create_handler(given["env"])
report["after_create_handler"] = tencent_modules()
report["login"] = json.loads(handler(given["login"], {})["body"])["codeStr"]
report["after_login"] = tencent_modules()
report["get_sms"] = json.loads(handler(given["get_sms"], {})["body"])["codeStr"]
report["after_get_sms"] = tencent_modules()
print(json.dumps(report))
"""


def test_tencentcloud_is_imported_by_the_first_send_only(make_env, sms_api):
    env = make_env(None)  # no Redis configured, outside SCF: the in-process store
    given = {"env": env, "login": login(PHONE, "123456"), "get_sms": get_sms(PHONE)}

    done = subprocess.run(
        [sys.executable, "-c", LAZY_IMPORT_PROBE], input=json.dumps(given), capture_output=True, text=True,
        cwd=ROOT, env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"}, timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["sender"] == "TencentSmsSender"
    assert report["at_start"] == report["after_construction"] == report["after_create_handler"] == []
    assert report["login"] == "CodeHasExpired"
    assert report["after_login"] == []
    assert report["get_sms"] == "Ok"
    assert "tencentcloud.sms.v20210111.sms_client" in report["after_get_sms"]
    assert [m["phone"] for m in sms_api.sent] == [PHONE]
