"""The voice-code sender (:mod:`smsverify.senders.tencent_voice`) without I/O:
its error table against the SDK's list of VMS codes, its settings, and the
numbers it supports. Against the emulator: tests/integration/test_voice_sender.py.
"""

from __future__ import annotations

import pytest
from tencentcloud.vms.v20200902 import errorcodes

from smsverify.settings.config import Settings
from smsverify.errors import ConfigError
from smsverify.senders import build_voice_sender, tencent_voice
from smsverify.senders.base import NumberRateLimited, NumberRejected, ProviderRefused, SendTimeout

#: Every code the SDK documents for VMS 2020-09-02 (``vms/v20200902/errorcodes.py``).
SDK_CODES = sorted(value for name, value in vars(errorcodes).items() if name.isupper() and isinstance(value, str))
TABLES = (
    (tencent_voice.NUMBER_REJECTIONS, NumberRejected),
    (frozenset(tencent_voice.NUMBER_LIMITS), NumberRateLimited),
    (tencent_voice.UNKNOWN_OUTCOME, SendTimeout),
    (tencent_voice.PROVIDER_LEVEL, ProviderRefused),
)
BASE = {"SMS_PROVIDER": "console", "TENCENTCLOUD_SECRETID": "AKIDvoice", "TENCENTCLOUD_SECRETKEY": "voice-key"}  # pragma: allowlist secret


def test_the_module_tables_split_the_sdk_codes_exactly_once():
    listed = [code for table, _ in TABLES for code in table]
    assert len(listed) == len(set(listed))  # no code in two tables
    assert sorted(listed) == SDK_CODES  # and every documented code in one
    assert len(SDK_CODES) > 20  # the SDK's list was really read


@pytest.mark.parametrize("code", SDK_CODES)
def test_every_vms_code_is_classified_by_its_table(code):
    [kind] = [kind for table, kind in TABLES if code in table]

    error = tencent_voice.classify(code, "detail")

    assert type(error) is kind
    assert error.qualified_code == f"tencent_voice:{code}"
    assert error.maybe_sent is (kind is SendTimeout)
    if kind is NumberRateLimited:
        assert error.daily is False  # one code for the 30 s, 10 min, daily and night limits


def test_the_number_level_codes_are_the_called_number_ones():
    assert tencent_voice.NUMBER_REJECTIONS == {"InvalidParameterValue.CalledNumberVerifyFail"}
    assert tencent_voice.NUMBER_LIMITS == {"LimitExceeded.DeliveryFrequencyLimit": False}


def test_an_undocumented_code_is_provider_level():
    assert type(tencent_voice.classify("FailedOperation.SomethingNew")) is ProviderRefused


@pytest.mark.parametrize("phone, supported", [
    ("+8613800138000", True), ("+8619912345678", True),
    ("+85261234567", False), ("+14155550100", False), ("+861380013800", False), ("+8602012345678", False),
])
def test_only_mainland_mobile_numbers_are_supported(phone, supported):
    sender = tencent_voice.TencentVoiceSender(None, sdk_app_id="1400006666")
    assert sender.supports(phone) is supported


# -- settings ---------------------------------------------------------------------------------
def test_without_voice_sdkappid_voice_codes_are_off():
    settings = Settings.from_env({"SMS_PROVIDER": "console"})
    assert settings.voice is None and build_voice_sender(settings) is None


def test_the_voice_settings_and_their_defaults():
    settings = Settings.from_env({**BASE, "VOICE_SDKAPPID": "1400006666", "SMS_TIMEOUT_SECONDS": "3"})

    voice = settings.voice
    assert (voice.sdk_app_id, voice.endpoint, voice.play_times, voice.daily_limit, voice.region, voice.timeout_seconds) == (
        "1400006666", "vms.tencentcloudapi.com", 2, 3, "ap-guangzhou", 3.0)
    assert voice.credentials.secret_id == "AKIDvoice"
    sender = build_voice_sender(settings)
    assert (sender.name, sender.sdk_app_id, sender.play_times, sender.endpoint) == (
        "tencent_voice", "1400006666", 2, "vms.tencentcloudapi.com")
    assert sender._client is None  # nothing of the SDK before the first call


def test_the_voice_settings_as_given():
    voice = Settings.from_env({**BASE, "VOICE_SDKAPPID": "1400006666", "VOICE_PLAY_TIMES": "3",
                               "VOICE_DAILY_LIMIT": "0", "VMS_API_ENDPOINT": "vms.ap-beijing.tencentcloudapi.com"}).voice
    assert (voice.play_times, voice.daily_limit, voice.endpoint) == (3, 0, "vms.ap-beijing.tencentcloudapi.com")


@pytest.mark.parametrize("env, variable", [
    ({"VOICE_SDKAPPID": "voice-app"}, "VOICE_SDKAPPID"),
    ({"VOICE_SDKAPPID": "1400006666", "VOICE_PLAY_TIMES": "0"}, "VOICE_PLAY_TIMES"),
    ({"VOICE_SDKAPPID": "1400006666", "VOICE_PLAY_TIMES": "4"}, "VOICE_PLAY_TIMES"),
    ({"VOICE_SDKAPPID": "1400006666", "VOICE_DAILY_LIMIT": "-1"}, "VOICE_DAILY_LIMIT"),
    ({"VOICE_SDKAPPID": "1400006666", "VOICE_DAILY_LIMIT": "three"}, "VOICE_DAILY_LIMIT"),
    ({"VOICE_PLAY_TIMES": "2"}, "VOICE_PLAY_TIMES"),  # set without the application id: voice would stay off
    ({"VMS_API_ENDPOINT": "vms.tencentcloudapi.com"}, "VMS_API_ENDPOINT"),
    ({"VOICE_DAILY_LIMIT": "3"}, "VOICE_DAILY_LIMIT"),
])
def test_a_bad_voice_variable_is_named(env, variable):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**BASE, **env})
    assert [name for name, _ in raised.value.problems] == [variable]


def test_voice_codes_need_the_role_credentials():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"SMS_PROVIDER": "console", "VOICE_SDKAPPID": "1400006666"})
    assert [name for name, _ in raised.value.problems] == ["TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY"]
