"""The sender contract of :mod:`smsverify.senders.base`, for both senders.

``TencentSmsSender`` runs against the Tencent Cloud API emulator (the real SDK,
signed requests), ``ConsoleSender`` writes into a StringIO. Proven here:

* both: ``send(SmsMessage)`` hands the provider exactly the phone, the code and
  the minutes, and returns a :class:`SendReceipt` naming the sender;
* Tencent: every refusal is a :class:`SendRefused` with the right
  :class:`Refusal`, per-number and request-level alike; a timeout is
  :class:`SendTimeout`, a refused connection :class:`SendNotDelivered`; no SDK
  or ``requests`` exception escapes;
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

from smsverify.config import TencentCredentials
from smsverify.senders.base import (
    Refusal,
    SendError,
    SendNotDelivered,
    SendReceipt,
    SendRefused,
    SendTimeout,
    SmsMessage,
)
from smsverify.senders.console import ConsoleSender
from smsverify.senders.tencent import REFUSALS, TencentSmsSender
from smsverify.tencent_api import parse_endpoint
from tests.conftest import CONSOLE_SMS, ROOT, SDK_APP_ID, SECRET_ID, SECRET_KEY, SESSION_TOKEN, SIGN, TEMPLATE_ID, get_sms, login
from tests.support.redis_servers import free_port

PHONE = "+8613800138000"
MESSAGE = SmsMessage(phone=PHONE, code="482913", ttl_minutes=5)


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
    receipt = case.sender.send(MESSAGE)

    assert isinstance(receipt, SendReceipt)
    assert receipt == SendReceipt(provider=case.sender.name, serial_no=case.ids()[0], request_id=case.ids()[1])
    assert case.delivered() == [(PHONE, "482913", "5")]


def test_each_send_is_one_delivery(case):
    other = SmsMessage(phone="+8613900139000", code="000117", ttl_minutes=10)

    first = case.sender.send(MESSAGE)
    second = case.sender.send(other)

    assert case.delivered() == [(PHONE, "482913", "5"), ("+8613900139000", "000117", "10")]
    assert first.provider == second.provider == case.sender.name
    if case.sender.name == "tencent":
        assert first.serial_no != second.serial_no and first.serial_no and second.serial_no


# -- Tencent refusals -------------------------------------------------------------------------
REFUSAL_CASES = sorted(REFUSALS.items()) + [
    (code, Refusal.OTHER)
    for code in (
        "LimitExceeded.AppDailyLimit",
        "FailedOperation.InsufficientBalanceInSmsPackage",
        "FailedOperation.PhoneNumberInBlacklist",
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
        "InvalidParameterValue.TemplateParameterFormatError",
        "MissingParameter.EmptyPhoneNumberSet",
        "InternalError.RequestTimeException",
    )
]


def test_the_classification_table_is_the_documented_one():
    assert REFUSALS == {
        "LimitExceeded.PhoneNumberThirtySecondLimit": Refusal.PHONE_FREQUENCY,
        "LimitExceeded.PhoneNumberOneHourLimit": Refusal.PHONE_FREQUENCY,
        "LimitExceeded.DeliveryFrequencyLimit": Refusal.PHONE_FREQUENCY,
        "LimitExceeded.PhoneNumberDailyLimit": Refusal.PHONE_DAILY,
        "LimitExceeded.PhoneNumberSameContentDailyLimit": Refusal.PHONE_DAILY,
        "InvalidParameterValue.IncorrectPhoneNumber": Refusal.INVALID_NUMBER,
        "FailedOperation.PhoneNumberParseFail": Refusal.INVALID_NUMBER,
    }


@pytest.mark.parametrize("path", ["number", "request"])
@pytest.mark.parametrize("code, refusal", REFUSAL_CASES, ids=[c for c, _ in REFUSAL_CASES])
def test_a_refusal_is_send_refused_with_its_classification(code, refusal, path, sms_api):
    sender = tencent_sender(sms_api)
    if path == "number":
        sms_api.sms_number_error = code
    else:
        sms_api.sms_request_error = (code, "injected by the test")

    with pytest.raises(SendRefused) as raised:
        sender.send(MESSAGE)

    assert (raised.value.provider_code, raised.value.refusal) == (code, refusal)
    assert sms_api.sent == []


def test_request_level_internal_timeout_is_an_unknown_outcome(sms_api):
    sms_api.sms_request_error = ("InternalError.Timeout", "injected by the test")

    with pytest.raises(SendTimeout) as raised:
        tencent_sender(sms_api).send(MESSAGE)

    assert raised.value.provider_code == "InternalError.Timeout"


def test_per_number_internal_timeout_is_an_unknown_outcome(sms_api):
    sms_api.sms_number_error = "InternalError.Timeout"

    with pytest.raises(SendTimeout) as raised:
        tencent_sender(sms_api).send(MESSAGE)

    assert raised.value.provider_code == "InternalError.Timeout"


def test_real_per_number_refusals_of_the_emulator(sms_api):
    # Not injected: the emulator's own per-number checks.
    with pytest.raises(SendRefused) as wrong_params:
        tencent_sender(sms_api, template_params=("code",)).send(MESSAGE)  # template 100001 takes two
    with pytest.raises(SendRefused) as bad_number:
        tencent_sender(sms_api).send(SmsMessage(phone="+86123", code="482913", ttl_minutes=5))

    assert (wrong_params.value.provider_code, wrong_params.value.refusal) == (
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", Refusal.OTHER)
    assert (bad_number.value.provider_code, bad_number.value.refusal) == (
        "InvalidParameterValue.IncorrectPhoneNumber", Refusal.INVALID_NUMBER)


@pytest.mark.parametrize("http_status", [500, 502, 503])
def test_http_5xx_is_a_refusal(http_status, sms_api):
    sms_api.sms_http_status = http_status

    with pytest.raises(SendRefused) as raised:
        tencent_sender(sms_api).send(MESSAGE)

    assert (raised.value.provider_code, raised.value.refusal) == ("ServerNetworkError", Refusal.OTHER)


def test_wrong_key_is_a_refusal(sms_api):
    sender = TencentSmsSender(
        TencentCredentials(SECRET_ID, "not-the-emulator-secret-key-000", SESSION_TOKEN),
        sdk_app_id=SDK_APP_ID, sign_name=SIGN, template_id=TEMPLATE_ID, template_params=("code", "minutes"),
        region="ap-guangzhou", endpoint=sms_api.url, timeout_seconds=2.0,
    )

    with pytest.raises(SendRefused) as raised:
        sender.send(MESSAGE)

    assert (raised.value.provider_code, raised.value.refusal) == ("AuthFailure.SignatureFailure", Refusal.OTHER)


def test_connection_refused_is_not_delivered():
    sender = TencentSmsSender(
        TencentCredentials(SECRET_ID, SECRET_KEY, SESSION_TOKEN),
        sdk_app_id=SDK_APP_ID, sign_name=SIGN, template_id=TEMPLATE_ID, template_params=("code", "minutes"),
        region="ap-guangzhou", endpoint=f"http://127.0.0.1:{free_port()}", timeout_seconds=2.0,
    )

    with pytest.raises(SendNotDelivered) as raised:
        sender.send(MESSAGE)

    assert raised.value.provider_code == "ConnectionRefused"


def test_no_answer_in_time_is_a_timeout(sms_api):
    sms_api.sms_delay_seconds = 1.0

    with pytest.raises(SendTimeout) as raised:
        tencent_sender(sms_api, timeout_seconds=0.5).send(MESSAGE)

    assert raised.value.provider_code == "Timeout"
    # The emulator answers late and records the message; wait for it (the bound only stops a
    # hung test) so it cannot land in the next test's records.
    deadline = time.monotonic() + 10
    while not sms_api.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m["phone"] for m in sms_api.sent] == [PHONE]


def test_every_failure_is_a_send_error():
    for kind in (SendRefused, SendNotDelivered, SendTimeout):
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

    sender.send(MESSAGE)
    client = sender._client
    sender.send(MESSAGE)

    assert client is not None and sender._client is client
    assert len(sms_api.sent) == 2


def test_concurrent_first_sends_share_one_client(sms_api):
    sender = tencent_sender(sms_api)
    barrier = threading.Barrier(8)
    clients = []

    def first_use() -> None:
        barrier.wait()
        clients.append(sender._sdk_client())

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
from smsverify.senders import build_sender
sender = build_sender(Settings.from_env(given["env"]))
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
