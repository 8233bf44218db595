"""One start-up names every bad variable: ``create_handler`` inside SCF reads
the service settings, the CORS origins, the token settings and the WeChat
settings, and raises one ConfigError with all of their problems
(``.problems`` in that order, ``.variable`` the first), so an operator fixes
them in one deploy instead of one deploy per variable.
"""

from __future__ import annotations

import pytest

from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from tests.support import CODE_SECRET, SDK_APP_ID, SIGN, TEMPLATE_ID, TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_SECRET

GOOD_SCF = {
    "SCF_FUNCTIONNAME": "smsverify",
    "REDIS_HOST": "10.0.0.5",
    "CODE_SECRET": CODE_SECRET,
    "SMS_SDKAPPID": SDK_APP_ID, "SMS_SIGN": SIGN, "SMS_TEMPLATE_ID": TEMPLATE_ID,
    "TENCENTCLOUD_SECRETID": "AKIDunit", "TENCENTCLOUD_SECRETKEY": "unit-secret-key-value",  # pragma: allowlist secret
    "TOKEN_SECRET": TOKEN_SECRET, "TOKEN_ISSUER": TOKEN_ISSUER, "TOKEN_AUDIENCE": TOKEN_AUDIENCE,
}


def refused(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        create_handler(env)
    return info.value


def test_a_good_scf_environment_starts():
    assert callable(create_handler(GOOD_SCF))


def test_bad_variables_of_every_group_come_in_one_error():
    env = {
        **GOOD_SCF,
        "REDIS_PORT": "seventy",  # service settings
        "SMS_SCENES": "login:100001,sign up:2",  # service settings (scenes)
        "ALLOWED_ORIGINS": "https://ok.example,https://bad.example/",  # CORS
        "TOKEN_TTL_SECONDS": "5",  # token
        "WECHAT_APP_ID": "wx0123456789abcdef",  # WeChat: the secret is missing
        "WECHAT_API_ENDPOINT": "ftp://api.weixin.qq.com",  # WeChat
    }
    del env["TOKEN_ISSUER"]  # token: required inside SCF
    error = refused(env)
    assert [variable for variable, _ in error.problems] == [
        "REDIS_PORT", "SMS_SCENES", "ALLOWED_ORIGINS", "TOKEN_ISSUER", "TOKEN_TTL_SECONDS",
        "WECHAT_APP_SECRET", "WECHAT_API_ENDPOINT",
    ]
    assert error.variable == "REDIS_PORT"
    for variable, _ in error.problems:
        assert variable in str(error)


def test_one_bad_group_alone_is_still_named_first():
    error = refused({**GOOD_SCF, "TOKEN_SECRET": "short"})
    assert [variable for variable, _ in error.problems] == ["TOKEN_SECRET"]
    assert error.variable == "TOKEN_SECRET"
