"""WechatConfig.from_env and the wx_code shape check."""

from __future__ import annotations

import pytest

from smsverify.errors import ConfigError
from smsverify.integrations.wechat import DEFAULT_ENDPOINT, InvalidWxCode, WechatConfig, check_wx_code

SECRET = "app-secret-for-config-tests"  # pragma: allowlist secret


def test_unset_is_none():
    assert WechatConfig.from_env({}) is None
    assert WechatConfig.from_env({"WECHAT_APP_ID": " ", "WECHAT_APP_SECRET": ""}) is None
    assert WechatConfig.from_env({"WECHAT_API_ENDPOINT": "http://127.0.0.1:1"}) is None


def test_both_set_with_default_endpoint_and_no_secret_in_repr():
    config = WechatConfig.from_env({"WECHAT_APP_ID": "wx0123456789abcdef", "WECHAT_APP_SECRET": SECRET})
    assert config == WechatConfig("wx0123456789abcdef", SECRET, DEFAULT_ENDPOINT)
    assert SECRET not in repr(config)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"WECHAT_APP_ID": "wx1"}, "WECHAT_APP_SECRET"),
        ({"WECHAT_APP_SECRET": SECRET}, "WECHAT_APP_ID"),
        ({"WECHAT_APP_ID": "wx 1", "WECHAT_APP_SECRET": SECRET}, "WECHAT_APP_ID"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "x" * 129}, "WECHAT_APP_SECRET"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": SECRET, "WECHAT_API_ENDPOINT": "ftp://x"}, "WECHAT_API_ENDPOINT"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": SECRET, "WECHAT_API_ENDPOINT": "api.weixin.qq.com"},
         "WECHAT_API_ENDPOINT"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": SECRET, "WECHAT_API_ENDPOINT": "https://u:p@h"},
         "WECHAT_API_ENDPOINT"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": SECRET, "WECHAT_API_ENDPOINT": "https://h/?a=1"},
         "WECHAT_API_ENDPOINT"),
        ({"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": SECRET, "WECHAT_API_ENDPOINT": "http://h:99999"},
         "WECHAT_API_ENDPOINT"),
    ],
)
def test_bad_settings_name_the_variable(env, variable):
    with pytest.raises(ConfigError) as caught:
        WechatConfig.from_env(env)
    assert caught.value.variable == variable
    assert SECRET not in str(caught.value)


def test_endpoint_override_loses_its_trailing_slash():
    config = WechatConfig.from_env(
        {"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": SECRET, "WECHAT_API_ENDPOINT": "http://127.0.0.1:8080/"}
    )
    assert config.endpoint == "http://127.0.0.1:8080"


@pytest.mark.parametrize("code", ["", " ", "a b", "码", "x" * 129, "a\x00", "a\n"])
def test_bad_wx_codes(code):
    with pytest.raises(InvalidWxCode):
        check_wx_code(code)


@pytest.mark.parametrize("code", ["0a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P", "x" * 128, "a-_.~!"])  # pragma: allowlist secret
def test_good_wx_codes(code):
    assert check_wx_code(code) == code
