"""The voice-code sender against the Tencent Cloud emulator, over real HTTP through
the real SDK (``tencentcloud-sdk-python-vms``), every request signed with TC3 and
checked by the emulator (credential scope ``vms``, the role's session token).

Built as the service will build it: ``Settings.from_env`` then
``build_voice_sender``. Proven: an accepted call carries exactly the phone, the
code, the application id and the play count, and its receipt holds the
``CallId``; a wrong secret, a number-level refusal (the emulator's own check of
the called number, and Tencent's per-number frequency limit) and a
provider-level refusal are classified; no answer in time (a stalled TCP proxy)
is a timeout that may have called; nothing listening is unreachable.
The error table, code by code: tests/unit/test_voice_sender.py.
"""

from __future__ import annotations

import pytest

from smsverify.settings.config import Settings
from smsverify.integrations.credentials import TencentCredentials
from smsverify.senders import build_voice_sender
from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    ProviderRefused,
    ProviderUnreachable,
    SendError,
    SendTimeout,
    SmsMessage,
)
from smsverify.senders.tencent_voice import TencentVoiceSender
from tests.support import SECRET_ID, SECRET_KEY, SESSION_TOKEN, VOICE_SDK_APP_ID, FaultProxy, free_port, voice_env

PHONE = "+8613800138000"
MESSAGE = SmsMessage(phone=PHONE, code="482913", ttl_minutes=5, reference="req-7f3a")
TIMEOUT = 2.0


@pytest.fixture
def make_voice(sms_api, make_env):
    """``make_voice(**ENV)``: the voice sender as the function builds it, aimed at the emulator."""

    def make(**overrides: str) -> TencentVoiceSender:
        settings = Settings.from_env(make_env(None, **{**voice_env(sms_api), **overrides}))
        sender = build_voice_sender(settings)
        assert sender is not None and sender.name == "tencent_voice"
        return sender

    return make


def failure(sender, message=MESSAGE, timeout=TIMEOUT) -> SendError:
    with pytest.raises(SendError) as raised:
        sender.send(message, timeout)
    return raised.value


def test_a_voice_code_is_sent_signed_and_its_receipt_holds_the_call_id(sms_api, make_voice):
    receipt = make_voice(VOICE_PLAY_TIMES="3").send(MESSAGE, TIMEOUT)

    [call] = sms_api.voice_calls
    assert (call["phone"], call["code"], call["sdk_app_id"], call["play_times"], call["session_context"]) == (
        PHONE, "482913", VOICE_SDK_APP_ID, 3, "req-7f3a")
    assert (receipt.provider, receipt.serial_no, receipt.request_id) == ("tencent_voice", call["call_id"], call["request_id"])
    [request] = sms_api.requests  # recorded only once its TC3 signature and token were verified
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert (request["action"], request["service"]) == ("SendCodeVoice", "vms")
    assert (headers["x-tc-version"], headers["x-tc-region"], headers["x-tc-token"]) == (
        "2020-09-02", "ap-guangzhou", SESSION_TOKEN)
    assert headers["authorization"].startswith(f"TC3-HMAC-SHA256 Credential={SECRET_ID}/")
    assert "/vms/tc3_request," in headers["authorization"]
    assert request["body"] == {"CodeMessage": "482913", "CalledNumber": PHONE, "VoiceSdkAppid": VOICE_SDK_APP_ID,
                               "PlayTimes": 3, "SessionContext": "req-7f3a"}
    assert sms_api.sent == []  # no SMS


def test_the_default_play_count_is_sent_and_an_empty_reference_is_left_out(sms_api, make_voice):
    make_voice().send(SmsMessage(phone=PHONE, code="0071", ttl_minutes=5), TIMEOUT)

    [request] = sms_api.requests
    assert request["body"] == {"CodeMessage": "0071", "CalledNumber": PHONE, "VoiceSdkAppid": VOICE_SDK_APP_ID, "PlayTimes": 2}


def test_a_wrong_secret_is_refused_and_nothing_is_called(sms_api, make_voice):
    error = failure(make_voice(TENCENTCLOUD_SECRETKEY="not-the-role-key"))

    assert (type(error), error.qualified_code) == (ProviderRefused, "tencent_voice:AuthFailure.SignatureFailure")
    assert sms_api.voice_calls == [] and sms_api.requests == []


def test_a_number_tencent_refuses_is_number_level(sms_api, make_voice):
    # Not injected: the emulator's own check of CalledNumber (mainland mobiles only).
    error = failure(make_voice(), SmsMessage(phone="+85261234567", code="482913", ttl_minutes=5))

    assert (type(error), error.qualified_code) == (NumberRejected, "tencent_voice:InvalidParameterValue.CalledNumberVerifyFail")
    assert error.maybe_sent is False and sms_api.voice_calls == []


def test_tencents_per_number_frequency_limit_is_number_level(sms_api, make_voice):
    sms_api.vms_request_error = ("LimitExceeded.DeliveryFrequencyLimit", "frequency limit of the called number")

    error = failure(make_voice())

    assert type(error) is NumberRateLimited and error.daily is False and error.maybe_sent is False
    assert error.qualified_code == "tencent_voice:LimitExceeded.DeliveryFrequencyLimit"


def test_an_empty_voice_package_is_provider_level(sms_api, make_voice):
    sms_api.vms_request_error = ("FailedOperation.InsufficientBalanceInVoicePackage", "no minutes left")

    error = failure(make_voice())

    assert (type(error), error.qualified_code) == (
        ProviderRefused, "tencent_voice:FailedOperation.InsufficientBalanceInVoicePackage")
    assert error.maybe_sent is False and sms_api.voice_calls == []


def test_another_application_id_is_provider_level(sms_api, make_voice):
    error = failure(make_voice(VOICE_SDKAPPID="1400000001"))

    assert (type(error), error.qualified_code) == (ProviderRefused, "tencent_voice:InvalidParameterValue.SdkAppidNotExist")


def test_no_answer_in_time_is_a_timeout_that_may_have_called(sms_api, make_voice):
    with FaultProxy(("127.0.0.1", sms_api.port)) as proxy:
        sender = make_voice(VMS_API_ENDPOINT=f"http://127.0.0.1:{proxy.port}")
        proxy.stall()
        try:
            error = failure(sender, timeout=0.5)
        finally:
            proxy.resume()

    assert (type(error), error.qualified_code) == (SendTimeout, "tencent_voice:Timeout")
    assert error.maybe_sent is True


def test_nothing_listening_is_unreachable_and_never_called(sms_api, make_voice):
    error = failure(make_voice(VMS_API_ENDPOINT=f"http://127.0.0.1:{free_port()}"))

    assert (type(error), error.qualified_code) == (ProviderUnreachable, "tencent_voice:ConnectionRefused")
    assert error.maybe_sent is False and sms_api.requests == []


def test_the_voice_sdk_client_is_built_once_and_reused(sms_api):
    sender = TencentVoiceSender(
        TencentCredentials(SECRET_ID, SECRET_KEY, SESSION_TOKEN),
        sdk_app_id=VOICE_SDK_APP_ID, endpoint=sms_api.url, timeout_seconds=2.0,
    )
    sender.send(MESSAGE, TIMEOUT)
    client = sender._client
    sender.send(SmsMessage(phone="+8613900139000", code="117", ttl_minutes=5), TIMEOUT)

    assert client is not None and sender._client is client
    assert [call["phone"] for call in sms_api.voice_calls] == [PHONE, "+8613900139000"]
