"""The Tencent Cloud emulator's ``PullSmsSendStatus``, driven by the real SDK client.

Each rule is shown to fail and to pass: TC3 signature and session token as
for SendSms, the parameters (Limit 1-100, SmsSdkAppId), the queue (one status
per accepted number, each pulled once, oldest first, ``Limit`` honoured), the
delivery knob, and the push form of the same statuses (``callback_body``).
"""

from __future__ import annotations

import json

import pytest
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models
from tencentcloud.sms.v20210111.sms_client import SmsClient

from tests.support import TencentCloudEmulator

SECRET_ID = "AKIDtestEMULATORid000000000000000000"
SECRET_KEY = "testEMULATORkey00000000000000000"  # pragma: allowlist secret
TOKEN = "session-token-for-tests"
APP_ID = "1400000000"


@pytest.fixture(scope="module")
def emulator():
    with TencentCloudEmulator(secret_id=SECRET_ID, secret_key=SECRET_KEY, token=TOKEN, sms_sdk_app_id=APP_ID) as emu:
        yield emu


@pytest.fixture
def emu(emulator):
    emulator.reset()
    yield emulator
    assert emulator.internal_errors == []


def client(emu, *, secret_key=SECRET_KEY, token=TOKEN):
    return SmsClient(Credential(SECRET_ID, secret_key, token), "ap-guangzhou",
                     ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=emu.endpoint)))


def send(emu, *phones: str) -> list[str]:
    request = models.SendSmsRequest()
    request.PhoneNumberSet, request.SmsSdkAppId, request.TemplateId = list(phones), APP_ID, "100001"
    request.SignName, request.TemplateParamSet = "测试签名", ["123456", "5"]
    return [status.SerialNo for status in client(emu).SendSms(request).SendStatusSet]


def pull(emu, limit=100, app_id=APP_ID, **options):
    request = models.PullSmsSendStatusRequest()
    request.Limit, request.SmsSdkAppId = limit, app_id
    return client(emu, **options).PullSmsSendStatus(request).PullSmsSendStatusSet


def error_code(call) -> str:
    with pytest.raises(TencentCloudSDKException) as caught:
        call()
    return caught.value.get_code()


def test_each_accepted_number_is_pulled_once_oldest_first_limit_honoured(emu):
    serials = send(emu, "+8613800138000", "+8613800138001", "+8613800138002")
    send(emu, "+8613800138003")  # a later send queues behind the first three

    first = pull(emu, limit=2)
    rest = pull(emu, limit=100)

    assert [s.SerialNo for s in first] == serials[:2]
    assert len(rest) == 2 and rest[0].SerialNo == serials[2]
    assert pull(emu) == [] and emu.pulls == 3
    status = first[0]
    assert (status.PhoneNumber, status.CountryCode, status.SubscriberNumber) == ("+8613800138000", "86", "13800138000")
    assert (status.ReportStatus, status.Description) == ("SUCCESS", "DELIVRD")
    assert isinstance(status.UserReceiveTime, int) and status.UserReceiveTime > 0


def test_the_delivery_knob_and_refused_numbers(emu):
    emu.sms_delivery = ("FAIL", "MK:0001")
    send(emu, "+8613800138000", "+86123")  # the second is refused per number: no status
    emu.sms_delivery = None
    send(emu, "+8613800138001")

    statuses = pull(emu)

    assert [(s.PhoneNumber, s.ReportStatus, s.Description) for s in statuses] == [
        ("+8613800138000", "FAIL", "MK:0001")]


def test_pull_is_signed_like_send_sms(emu):
    assert error_code(lambda: pull(emu, secret_key="wrong" + SECRET_KEY[5:])) == "AuthFailure.SignatureFailure"
    assert error_code(lambda: pull(emu, token="other")) == "AuthFailure.TokenFailure"
    assert emu.pulls == 0
    assert pull(emu) == [] and emu.pulls == 1


@pytest.mark.parametrize("limit, app_id, code", [
    (0, APP_ID, "InvalidParameterValue"),
    (101, APP_ID, "InvalidParameterValue"),
    (100, "1400000001", "InvalidParameterValue.SdkAppIdNotExist"),
])
def test_pull_parameters(emu, limit, app_id, code):
    send(emu, "+8613800138000")
    assert error_code(lambda: pull(emu, limit=limit, app_id=app_id)) == code
    assert emu.queued_statuses == 1


def test_the_pull_error_knob(emu):
    send(emu, "+8613800138000")
    emu.sms_pull_error = ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "not enabled")
    assert error_code(lambda: pull(emu)) == "UnauthorizedOperation.SmsSdkAppIdVerifyFail"
    assert emu.queued_statuses == 1


def test_callback_body_is_the_documented_push_form(emu):
    serial = send(emu, "+8613800138000")[0]

    items = json.loads(emu.callback_body(serial, report_status="FAIL", errmsg="MK:0001"))

    assert items == [{"user_receive_time": "2026-11-18 10:00:00", "nationcode": "86", "mobile": "13800138000",
                      "report_status": "FAIL", "errmsg": "MK:0001", "description": "用户短信发送失败", "sid": serial}]
