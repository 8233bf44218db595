"""The sender contract of :mod:`smsverify.senders.base`, for both senders.

``TencentSmsSender`` runs against the Tencent Cloud API emulator (the real SDK,
signed requests), ``ConsoleSender`` writes into a StringIO. Proven here:

* both: ``send(SmsMessage, timeout)`` hands the provider exactly the phone, the
  code and the minutes, and returns a :class:`SendReceipt` naming the sender;
* Tencent: every error code is classified as the documented table says, on the
  per-number and the request-level path alike: number rejections, number rate
  limits (daily or not), and every other code a provider-level
  :class:`ProviderRefused`; a timeout is :class:`SendTimeout` (``maybe_sent``), a refused
  connection ``ProviderUnreachable("ConnectionRefused")`` (never sent); no SDK or ``requests``
  exception escapes; every error names the provider (``tencent:<code>``);
* a failover attempt's shorter timeout reaches the SDK's connection;
* ``repr(SmsMessage)`` never shows the code or the phone;
* :func:`parse_endpoint` turns ``SMS_API_ENDPOINT`` into the SDK's protocol and host;
* the Tencent SDK client is built once and reused, and ``tencentcloud`` is
  imported only by the first send: not at construction, not by a login.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smsverify.credentials import TencentCredentials
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
from smsverify.senders.tencent import NUMBER_LIMITS, NUMBER_REJECTIONS, TencentSmsSender
from smsverify.tencent_api import parse_endpoint
from tests.support import CONSOLE_SMS, ROOT, SDK_APP_ID, SECRET_ID, SECRET_KEY, SESSION_TOKEN, SIGN, TEMPLATE_ID, get_sms, login
from tests.support import free_port

PHONE = "+8613800138000"
MESSAGE = SmsMessage(phone=PHONE, code="482913", ttl_minutes=5)
TIMEOUT = 2.0


def tencent_sender(sms_api, **overrides) -> TencentSmsSender:
    options = dict(
        sdk_app_id=SDK_APP_ID, sign_name=SIGN, template_id=TEMPLATE_ID, template_params=("code", "minutes"),
        region="ap-guangzhou", endpoint=sms_api.url, timeout_seconds=2.0,
    )
    options.update(overrides)
    return TencentSmsSender(TencentCredentials(SECRET_ID, SECRET_KEY, SESSION_TOKEN), **options)


# -- the contract, for both senders ----------------------------------------------------------
@dataclass
class SenderCase:
    sender: object
    #: (phone, code, minutes) of every message the provider received
    delivered: Callable[[], list[tuple[str, str, str]]]
    #: the receipt's serial number and request id expected for the last message
    ids: Callable[[], tuple[str, str]]




@pytest.fixture(params=["tencent", "console"])
def case(request) -> SenderCase:
    if request.param == "tencent":
        sms_api = request.getfixturevalue("sms_api")
        return SenderCase(
            sender=tencent_sender(sms_api),
            delivered=lambda: [(m["phone"], m["params"][0], m["params"][1]) for m in sms_api.sent],
            ids=lambda: (sms_api.sent[-1]["serial_no"], sms_api.sent[-1]["request_id"]),
        )
    stream = io.StringIO()
    return SenderCase(
        sender=ConsoleSender(stream),
        delivered=lambda: [CONSOLE_SMS.fullmatch(line).groups() for line in stream.getvalue().splitlines()],
        ids=lambda: ("", ""),
    )


def test_send_returns_a_receipt_and_delivers_exactly_the_message(case):
    receipt = case.sender.send(MESSAGE, TIMEOUT)

    assert isinstance(receipt, SendReceipt)
    assert receipt == SendReceipt(provider=case.sender.name, serial_no=case.ids()[0], request_id=case.ids()[1])
    assert case.delivered() == [(PHONE, "482913", "5")]


def test_each_send_is_one_delivery(case):
    other = SmsMessage(phone="+8613900139000", code="000117", ttl_minutes=10)

    first = case.sender.send(MESSAGE, TIMEOUT)
    second = case.sender.send(other, TIMEOUT)

    assert case.delivered() == [(PHONE, "482913", "5"), ("+8613900139000", "000117", "10")]
    assert first.provider == second.provider == case.sender.name
    if case.sender.name == "tencent":
        assert first.serial_no != second.serial_no and first.serial_no and second.serial_no


# -- Tencent refusals -------------------------------------------------------------------------
#: (error type, daily) per code; codes outside the two tables are provider-level.
CLASSIFIED = [
    ("LimitExceeded.PhoneNumberThirtySecondLimit", NumberRateLimited, False),
    ("LimitExceeded.PhoneNumberOneHourLimit", NumberRateLimited, False),
    ("LimitExceeded.DeliveryFrequencyLimit", NumberRateLimited, False),
    ("LimitExceeded.PhoneNumberDailyLimit", NumberRateLimited, True),
    ("LimitExceeded.PhoneNumberSameContentDailyLimit", NumberRateLimited, True),
    ("InvalidParameterValue.IncorrectPhoneNumber", NumberRejected, None),
    ("FailedOperation.PhoneNumberParseFail", NumberRejected, None),
    ("FailedOperation.PhoneNumberInBlacklist", NumberRejected, None),  # opted out: no other provider either
    ("InternalError.Timeout", SendTimeout, None),
] + [
    (code, ProviderRefused, None)
    for code in (
        "LimitExceeded.AppDailyLimit",
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
        "InvalidParameterValue.TemplateParameterFormatError",
        "MissingParameter.EmptyPhoneNumberSet",
        "InternalError.RequestTimeException",
    )
]


def test_the_classification_tables_are_the_documented_ones():
    assert NUMBER_LIMITS == {code: daily for code, kind, daily in CLASSIFIED if kind is NumberRateLimited}
    assert NUMBER_REJECTIONS == {code for code, kind, _ in CLASSIFIED if kind is NumberRejected}


def send_failure(sender, message=MESSAGE, timeout=TIMEOUT) -> SendError:
    with pytest.raises(SendError) as raised:
        sender.send(message, timeout)
    return raised.value


@pytest.mark.parametrize("path", ["number", "request"])
@pytest.mark.parametrize("code, kind, daily", CLASSIFIED, ids=[c for c, _, _ in CLASSIFIED])
def test_each_error_code_is_classified(code, kind, daily, path, sms_api):
    if path == "number":
        sms_api.sms_number_error = code
    else:
        sms_api.sms_request_error = (code, "injected by the test")

    error = send_failure(tencent_sender(sms_api))

    assert type(error) is kind
    assert (error.provider, error.provider_code, error.qualified_code) == ("tencent", code, f"tencent:{code}")
    if kind is NumberRateLimited:
        assert error.daily is daily
    assert sms_api.sent == []


def test_real_per_number_refusals_of_the_emulator(sms_api):
    # Not injected: the emulator's own per-number checks.
    wrong_params = send_failure(tencent_sender(sms_api, template_params=("code",)))  # template 100001 takes two
    bad_number = send_failure(tencent_sender(sms_api), SmsMessage(phone="+86123", code="482913", ttl_minutes=5))

    assert (type(wrong_params), wrong_params.provider_code) == (
        ProviderRefused, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate")
    assert (type(bad_number), bad_number.provider_code) == (NumberRejected, "InvalidParameterValue.IncorrectPhoneNumber")


@pytest.mark.parametrize("http_status", [500, 502, 503])
def test_http_5xx_is_a_provider_refusal(http_status, sms_api):
    sms_api.sms_http_status = http_status

    error = send_failure(tencent_sender(sms_api))

    assert (type(error), error.qualified_code) == (ProviderRefused, "tencent:ServerNetworkError")


def test_wrong_key_is_a_provider_refusal(sms_api):
    sender = TencentSmsSender(
        TencentCredentials(SECRET_ID, "not-the-emulator-secret-key-000", SESSION_TOKEN),
        sdk_app_id=SDK_APP_ID, sign_name=SIGN, template_id=TEMPLATE_ID, template_params=("code", "minutes"),
        region="ap-guangzhou", endpoint=sms_api.url, timeout_seconds=2.0,
    )

    error = send_failure(sender)

    assert (type(error), error.provider_code) == (ProviderRefused, "AuthFailure.SignatureFailure")


def test_connection_refused_is_a_provider_refusal():
    sender = TencentSmsSender(
        TencentCredentials(SECRET_ID, SECRET_KEY, SESSION_TOKEN),
        sdk_app_id=SDK_APP_ID, sign_name=SIGN, template_id=TEMPLATE_ID, template_params=("code", "minutes"),
        region="ap-guangzhou", endpoint=f"http://127.0.0.1:{free_port()}", timeout_seconds=2.0,
    )

    error = send_failure(sender)

    assert (type(error), error.qualified_code) == (ProviderUnreachable, "tencent:ConnectionRefused")
    assert isinstance(error, ProviderRefused) and error.maybe_sent is False


def wait_for_late_record(sms_api) -> None:
    """The emulator answers late and records the message; wait for it (the bound only
    stops a hung test) so it cannot land in the next test's records."""
    deadline = time.monotonic() + 10
    while not sms_api.sent and time.monotonic() < deadline:
        time.sleep(0.05)


def test_no_answer_in_time_is_a_timeout(sms_api):
    sms_api.sms_delay_seconds = 1.0

    error = send_failure(tencent_sender(sms_api, timeout_seconds=0.5), timeout=0.5)

    assert (type(error), error.qualified_code) == (SendTimeout, "tencent:Timeout")
    wait_for_late_record(sms_api)
    assert [m["phone"] for m in sms_api.sent] == [PHONE]


def test_the_per_attempt_timeout_overrides_the_configured_one(sms_api):
    # Configured 5 s, but this failover attempt has 0.5 s left: the SDK must give up at 0.5 s.
    sms_api.sms_delay_seconds = 1.5
    sender = tencent_sender(sms_api, timeout_seconds=5.0)

    error = send_failure(sender, timeout=0.5)

    assert type(error) is SendTimeout
    wait_for_late_record(sms_api)
    sms_api.reset()
    assert sender.send(MESSAGE, 2.0).provider == "tencent"  # and a later attempt gets its own timeout back


def test_every_failure_is_a_send_error():
    for kind in (NumberRejected, NumberRateLimited, ProviderRefused, SendTimeout):
        assert issubclass(kind, SendError)


# -- SmsMessage repr --------------------------------------------------------------------------
@given(
    code=st.text(alphabet="0123456789", min_size=4, max_size=10),
    national=st.text(alphabet="0123456789", min_size=10, max_size=10),
    ttl_minutes=st.integers(min_value=1, max_value=1440),
)
def test_repr_never_shows_the_code_or_the_phone(code, national, ttl_minutes):
    assume(code not in str(ttl_minutes))  # the minutes are shown; a 4-digit code may equal them
    phone = "+861" + national
    message = SmsMessage(phone=phone, code=code, ttl_minutes=ttl_minutes)

    for text in (repr(message), str(message), f"{message}", repr([message]), repr({"m": message})):
        assert code not in text
        assert phone not in text and phone[1:] not in text and national not in text


# -- parse_endpoint ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "endpoint, expected",
    [
        ("sms.tencentcloudapi.com", ("https", "sms.tencentcloudapi.com")),
        ("sms.ap-guangzhou.tencentcloudapi.com", ("https", "sms.ap-guangzhou.tencentcloudapi.com")),
        ("https://sms.tencentcloudapi.com", ("https", "sms.tencentcloudapi.com")),
        ("http://127.0.0.1:9100", ("http", "127.0.0.1:9100")),
        ("http://127.0.0.1:9100/", ("http", "127.0.0.1:9100")),
        ("HTTP://localhost:9100", ("http", "localhost:9100")),
        ("http://[::1]:9100", ("http", "[::1]:9100")),
        ("127.0.0.1:9100", ("https", "127.0.0.1:9100")),
    ],
)
def test_parse_endpoint(endpoint, expected):
    assert parse_endpoint(endpoint) == expected


# -- one SDK client, imported lazily --------------------------------------------------------
def test_the_sdk_client_is_built_once_and_reused(sms_api):
    sender = tencent_sender(sms_api)
    assert sender._client is None  # nothing built at construction

    sender.send(MESSAGE, TIMEOUT)
    client = sender._client
    sender.send(MESSAGE, TIMEOUT)

    assert client is not None and sender._client is client
    assert len(sms_api.sent) == 2


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

from smsverify.config import Settings
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
