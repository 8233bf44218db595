"""Tests of the Tencent Cloud emulator's authentication, driven by the real tencentcloud SDK clients.

Only what makes the emulator a faithful gatekeeper is proven here: a request
signed like the SDK signs it passes and is recorded, and each authentication
check (TC3-HMAC-SHA256 signature, its scope and 300 s window, the SecretId,
the session token, the region, the transport) refuses a request that is off in
that one respect; a few cases need a hand-built request, signed with the SDK's
own ``Sign.sign_tc3`` so the only thing that differs is the tampered part. The
captcha tickets' rules and the standalone mode are proven too. The SendSms
parameter rules and the knobs are exercised by the senders' tests
(tests/integration/test_sender_contract.py, test_provider_faults.py,
test_destinations.py), which fail when the emulator answers them wrongly.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from tencentcloud.captcha.v20190722 import models as captcha_models
from tencentcloud.captcha.v20190722.captcha_client import CaptchaClient
from tencentcloud.common import abstract_client
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient
from tencentcloud.vms.v20200902 import models as vms_models
from tencentcloud.vms.v20200902.vms_client import VmsClient

from tests.support import TencentCloudEmulator

SECRET_ID = "AKIDtestEMULATORid000000000000000000"
SECRET_KEY = "testEMULATORkey00000000000000000"  # pragma: allowlist secret
TOKEN = "session-token-for-tests"
APP_ID = "1400000000"
SIGN = "测试签名"
PHONE = "+8613800138000"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emulator():
    with TencentCloudEmulator(secret_id=SECRET_ID, secret_key=SECRET_KEY) as emu:
        yield emu


@pytest.fixture
def emu(emulator):
    emulator.reset()
    yield emulator
    assert emulator.internal_errors == []
    emulator.reset()


def _profile(emu, timeout=10):
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=emu.endpoint, reqTimeout=timeout))


def sms_client(emu, *, secret_id=SECRET_ID, secret_key=SECRET_KEY, token=None, region="ap-guangzhou", timeout=10):
    return SmsClient(Credential(secret_id, secret_key, token), region, _profile(emu, timeout))


def captcha_client(emu):
    return CaptchaClient(Credential(SECRET_ID, SECRET_KEY), "", _profile(emu))


def send_req(phones=(PHONE,), template="100001", params=("123456", "5"), sign=SIGN, **extra):
    req = sms_models.SendSmsRequest()
    req.PhoneNumberSet = list(phones)
    req.SmsSdkAppId = APP_ID
    req.TemplateId = template
    req.SignName = sign
    req.TemplateParamSet = list(params)
    for key, value in extra.items():
        setattr(req, key, value)
    return req


def sdk_error(call) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as info:
        call()
    return info.value


def raw_call(emu, action="SendSms", version="2021-01-11", body=None, *, service="sms",
             timestamp=None, date=None, secret_key=SECRET_KEY, authorization=None,
             content_type="application/json", tamper_body=False, method="POST", path="/"):
    """A hand-signed request, built the way abstract_client does it."""
    payload = json.dumps(body if body is not None else {}).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    date = date or datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (
        content_type, emu.endpoint, hashlib.sha256(payload).hexdigest())
    to_sign = "TC3-HMAC-SHA256\n%d\n%s/%s/tc3_request\n%s" % (
        ts, date, service, hashlib.sha256(canonical.encode()).hexdigest())
    signature = Sign.sign_tc3(secret_key, date, service, to_sign)
    headers = {
        "Content-Type": content_type, "Host": emu.endpoint, "X-TC-Action": action,
        "X-TC-Version": version, "X-TC-Timestamp": str(ts), "X-TC-Region": "ap-guangzhou",
        "Authorization": authorization or (
            "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, "
            "Signature=%s" % (SECRET_ID, date, service, signature)),
    }
    if tamper_body:
        payload = payload.replace(b"+8613800138000", b"+8613900139000")
    return requests.request(method, emu.url + path, data=payload, headers=headers, timeout=10)


VALID_SMS_BODY = {"PhoneNumberSet": [PHONE], "SmsSdkAppId": APP_ID, "TemplateId": "100002",
                  "SignName": SIGN, "TemplateParamSet": ["1234"]}


# --------------------------------------------------------------------- SendSms
def test_send_sms_success_is_recorded_and_silent(emu, capfd):
    resp = sms_client(emu).SendSms(send_req(SessionContext="ctx-1"))
    (status,) = resp.SendStatusSet
    assert (status.Code, status.Message, status.Fee, status.IsoCode) == ("Ok", "send success", 1, "CN")
    assert status.PhoneNumber == PHONE and status.SessionContext == "ctx-1" and status.SerialNo
    (rec,) = emu.sent_to(PHONE)
    assert rec == {"phone": PHONE, "template_id": "100001", "params": ["123456", "5"], "sign": SIGN,
                   "sdk_app_id": APP_ID, "session_context": "ctx-1", "serial_no": status.SerialNo,
                   "request_id": resp.RequestId}
    (req,) = emu.requests
    assert (req["action"], req["service"], req["body"]["TemplateId"]) == ("SendSms", "sms", "100001")
    assert req["headers"]["X-TC-Version"] == "2021-01-11"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("kwargs, code", [
    ({"secret_key": "wrong-key"}, "AuthFailure.SignatureFailure"),  # pragma: allowlist secret
    ({"secret_id": "AKIDunknown"}, "AuthFailure.SecretIdNotFound"),
    ({"region": ""}, "MissingParameter"),
    ({"region": "ap-shanghai"}, "UnsupportedRegion"),
])
def test_sdk_auth_and_region_failures(emu, kwargs, code):
    err = sdk_error(lambda: sms_client(emu, **kwargs).SendSms(send_req()))
    assert err.get_code() == code and err.get_request_id()
    assert emu.requests == [] and emu.sent == []


def test_signature_expired(emu, monkeypatch):
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: time.time() - 301))
    err = sdk_error(lambda: sms_client(emu).SendSms(send_req()))
    assert err.get_code() == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("client_token, code", [
    (None, "AuthFailure.TokenFailure"),
    ("other-token", "AuthFailure.TokenFailure"),
    (TOKEN, None),
])
def test_session_token_required(client_token, code):
    with TencentCloudEmulator(secret_id=SECRET_ID, secret_key=SECRET_KEY, token=TOKEN) as emu:
        call = lambda: sms_client(emu, token=client_token).SendSms(send_req())  # noqa: E731
        if code:
            assert sdk_error(call).get_code() == code
        else:
            assert call().SendStatusSet[0].Code == "Ok"


def test_token_ignored_when_not_configured(emu):
    assert sms_client(emu, token="anything").SendSms(send_req()).SendStatusSet[0].Code == "Ok"


@pytest.mark.parametrize("kwargs, code", [
    ({}, None),  # proves the hand-built request is right
    ({"tamper_body": True}, "AuthFailure.SignatureFailure"),
    ({"date": "2001-01-01"}, "AuthFailure.SignatureFailure"),
    ({"service": "captcha"}, "AuthFailure.SignatureFailure"),
    ({"authorization": "TC3-HMAC-SHA256 Credential=x, Signature=y"}, "AuthFailure.InvalidAuthorization"),
    ({"content_type": "application/x-www-form-urlencoded"}, "UnsupportedProtocol"),
    ({"method": "GET"}, "UnsupportedProtocol"),
    ({"path": "/v2"}, "UnsupportedProtocol"),
    ({"path": "/?Action=SendSms"}, "UnsupportedProtocol"),  # the whole target is checked, not the path
])
def test_raw_signature_and_transport_checks(emu, kwargs, code):
    resp = raw_call(emu, body=VALID_SMS_BODY, **kwargs)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    data = resp.json()["Response"]
    assert data["RequestId"]
    if code:
        assert data["Error"]["Code"] == code
    else:
        assert "Error" not in data and data["SendStatusSet"][0]["Code"] == "Ok"


# ------------------------------------------------------- DescribeCaptchaResult
def captcha_req(emu, ticket, randstr, user_ip="203.0.113.7", **overrides):
    req = captcha_models.DescribeCaptchaResultRequest()
    req.CaptchaType = 9
    req.Ticket = ticket
    req.Randstr = randstr
    req.UserIp = user_ip
    req.CaptchaAppId = emu.captcha_app_id
    req.AppSecretKey = emu.captcha_app_secret_key
    for key, value in overrides.items():
        setattr(req, key, value)
    return req


def test_captcha_ticket_accepted_once(emu):
    client = captcha_client(emu)
    ticket, randstr = emu.issue_captcha_ticket(user_ip="203.0.113.7")
    resp = client.DescribeCaptchaResult(captcha_req(emu, ticket, randstr))
    assert (resp.CaptchaCode, resp.CaptchaMsg, resp.EvilLevel) == (1, "OK", 0)
    assert abs(resp.GetCaptchaTime - time.time()) < 60
    again = client.DescribeCaptchaResult(captcha_req(emu, ticket, randstr))
    assert (again.CaptchaCode, again.CaptchaMsg) == (9, "ticket reused")
    assert [r["service"] for r in emu.requests] == ["captcha", "captcha"]


@pytest.mark.parametrize("case, code", [
    ("wrong_randstr", 7),
    ("unknown_ticket", 15),
    ("wrong_app_id", 16),
    ("wrong_secret", 100),
    ("expired", 8),
    ("other_ip", 21),
])
def test_captcha_failure_codes(emu, case, code):
    ticket, randstr = emu.issue_captcha_ticket(user_ip="203.0.113.7")
    overrides = {
        "wrong_randstr": {"Randstr": "@zzz"},
        "unknown_ticket": {"Ticket": "t03forged"},
        "wrong_app_id": {"CaptchaAppId": 190000001},
        "wrong_secret": {"AppSecretKey": "not-the-key"},  # pragma: allowlist secret
        "other_ip": {"UserIp": "198.51.100.1"},
    }.get(case, {})
    if case == "expired":
        emu.captcha_ticket_ttl_seconds = 0
        time.sleep(0.01)
    resp = captcha_client(emu).DescribeCaptchaResult(captcha_req(emu, ticket, randstr, **overrides))
    assert resp.CaptchaCode == code


@pytest.mark.parametrize("overrides, code", [
    ({"CaptchaType": 8}, "InvalidParameterValue"),
    ({"Ticket": None}, "MissingParameter"),
    ({"CaptchaAppId": "190000000"}, "InvalidParameter"),
    ({"UserIp": "1.2.3.4, 5.6.7.8"}, "InvalidParameterValue"),
])
def test_captcha_request_level_errors(emu, overrides, code):
    ticket, randstr = emu.issue_captcha_ticket()
    err = sdk_error(lambda: captcha_client(emu).DescribeCaptchaResult(captcha_req(emu, ticket, randstr, **overrides)))
    assert err.get_code() == code


def test_captcha_scope_must_be_captcha(emu):
    ticket, randstr = emu.issue_captcha_ticket()
    body = {"CaptchaType": 9, "Ticket": ticket, "Randstr": randstr, "UserIp": "203.0.113.7",
            "CaptchaAppId": emu.captcha_app_id, "AppSecretKey": emu.captcha_app_secret_key}
    bad = raw_call(emu, "DescribeCaptchaResult", "2019-07-22", body, service="sms").json()["Response"]
    assert bad["Error"]["Code"] == "AuthFailure.SignatureFailure"
    good = raw_call(emu, "DescribeCaptchaResult", "2019-07-22", body, service="captcha").json()["Response"]
    assert good["CaptchaCode"] == 1


# ------------------------------------------------------------------ SendCodeVoice
VOICE_APP_ID = "1400006666"  # the emulator's default vms_sdk_app_id


def voice_req(**fields):
    req = vms_models.SendCodeVoiceRequest()
    values = {"CodeMessage": "4829", "CalledNumber": PHONE, "VoiceSdkAppid": VOICE_APP_ID, **fields}
    for key, value in values.items():
        setattr(req, key, value)
    return req


def vms_client(emu, *, secret_key=SECRET_KEY, region="ap-guangzhou"):
    return VmsClient(Credential(SECRET_ID, secret_key), region, _profile(emu))


def test_send_code_voice_is_recorded_with_its_call_id(emu):
    resp = vms_client(emu).SendCodeVoice(voice_req(PlayTimes=1, SessionContext="sc-t"))
    assert resp.SendStatus.CallId and resp.SendStatus.SessionContext == "sc-t"
    assert emu.voice_calls_to(PHONE) == [{
        "phone": PHONE, "code": "4829", "play_times": 1, "sdk_app_id": VOICE_APP_ID, "session_context": "sc-t",
        "call_id": resp.SendStatus.CallId, "request_id": resp.RequestId,
    }]
    (req,) = emu.requests
    assert (req["action"], req["service"], req["headers"]["X-TC-Version"]) == ("SendCodeVoice", "vms", "2020-09-02")
    assert emu.sent == []  # not an SMS


@pytest.mark.parametrize("client_kwargs, fields, code", [
    ({"secret_key": "wrong-key"}, {}, "AuthFailure.SignatureFailure"),  # pragma: allowlist secret
    ({"region": ""}, {}, "MissingParameter"),
    ({}, {"VoiceSdkAppid": "1400000001"}, "InvalidParameterValue.SdkAppidNotExist"),
    ({}, {"PlayTimes": 4}, "FailedOperation.FailResolvePacket"),
    ({}, {"PlayTimes": 0}, "FailedOperation.FailResolvePacket"),
    ({}, {"CodeMessage": "12a4"}, "FailedOperation.FailResolvePacket"),
    ({}, {"CodeMessage": ""}, "FailedOperation.FailResolvePacket"),
    ({}, {"CalledNumber": "13800138000"}, "InvalidParameterValue.CalledNumberVerifyFail"),
    ({}, {"CalledNumber": "+85261234567"}, "InvalidParameterValue.CalledNumberVerifyFail"),
    ({}, {"CalledNumber": None}, "MissingParameter"),
])
def test_send_code_voice_refusals(emu, client_kwargs, fields, code):
    err = sdk_error(lambda: vms_client(emu, **client_kwargs).SendCodeVoice(voice_req(**fields)))
    assert err.get_code() == code
    assert emu.voice_calls == []


def test_send_code_voice_types_and_unknown_parameters(emu):
    body = {"CodeMessage": "4829", "CalledNumber": PHONE, "VoiceSdkAppid": VOICE_APP_ID}
    wrong_type = raw_call(emu, "SendCodeVoice", "2020-09-02", {**body, "PlayTimes": "2"}, service="vms").json()
    unknown = raw_call(emu, "SendCodeVoice", "2020-09-02", {**body, "TemplateId": "1"}, service="vms").json()
    assert wrong_type["Response"]["Error"]["Code"] == "InvalidParameter"
    assert unknown["Response"]["Error"]["Code"] == "UnknownParameter"
    assert emu.voice_calls == []


def test_send_code_voice_scope_must_be_vms(emu):
    body = {"CodeMessage": "4829", "CalledNumber": PHONE, "VoiceSdkAppid": VOICE_APP_ID}
    bad = raw_call(emu, "SendCodeVoice", "2020-09-02", body, service="sms").json()["Response"]
    assert bad["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert emu.voice_calls == []
    good = raw_call(emu, "SendCodeVoice", "2020-09-02", body, service="vms").json()["Response"]
    assert good["SendStatus"]["CallId"] and len(emu.voice_calls) == 1


def test_send_code_voice_knobs(emu):
    emu.vms_request_error = ("LimitExceeded.DeliveryFrequencyLimit", "limit")
    assert sdk_error(lambda: vms_client(emu).SendCodeVoice(voice_req())).get_code() == "LimitExceeded.DeliveryFrequencyLimit"
    assert emu.voice_calls == []
    emu.reset()
    emu.vms_delay_seconds = 0.8
    client = VmsClient(Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", _profile(emu, timeout=0.3))
    assert sdk_error(lambda: client.SendCodeVoice(voice_req())).get_code() == "ClientNetworkError"
    deadline = time.monotonic() + 10
    while not emu.voice_calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [call["phone"] for call in emu.voice_calls] == [PHONE]  # the call was placed all the same


# ------------------------------------------------------------------ standalone
def test_standalone_main_prints_endpoint_and_serves():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.emulators.tencent_cloud", "--port", "0", "--tickets", "0"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("endpoint: 127.0.0.1:")
        endpoint = first.split(": ", 1)[1]
        resp = requests.post("http://" + endpoint + "/", data=b"{}",
                             headers={"Content-Type": "application/json"}, timeout=5)
        assert resp.json()["Response"]["Error"]["Code"] == "MissingParameter"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # drains and closes the pipes
