"""Constants and environments shared by tests and benches: the repository
root, the credentials each emulator accepts, the env dicts that configure the
function for each provider, and a clock that moves only when told to."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
README_PATH = ROOT / "README.md"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

SECRET_ID = "AKIDtestEmulatorSecretId0000000000"
SECRET_KEY = "emulator-secret-key-for-tests-only"  # pragma: allowlist secret
SESSION_TOKEN = "emulator-session-token-for-tests-only"  # pragma: allowlist secret
CODE_SECRET = "code-secret-for-tests-only-7Hq2Vd9Kx4Lm"  # pragma: allowlist secret
TOKEN_SECRET = "token-secret-for-tests-only-7f3a9c2e5b81"  # pragma: allowlist secret
TOKEN_ISSUER = "https://sms.example.test"
TOKEN_AUDIENCE = "example-backend"
SDK_APP_ID = "1400000000"
TEMPLATE_ID = "100001"  # two parameters: code, minutes
GLOBAL_TEMPLATE_ID = "100020"  # an international/HK-Macao-Taiwan template: code, minutes
SIGN = "测试签名"
VOICE_SDK_APP_ID = "1400006666"  # the VMS application of the Tencent Cloud emulator (SendCodeVoice)

# The other providers' emulators (tests/support/emulators/), as the function is configured for them.
RONGLIAN_ACCOUNT_SID = "8aaf0708780055cd0178d0f4a1b20001"  # pragma: allowlist secret (an account id, not a secret)
RONGLIAN_AUTH_TOKEN = "ronglian-auth-token-for-tests-only"  # pragma: allowlist secret
RONGLIAN_APP_ID = "8aaf0708780055cd0178d0f4a2c10002"
RONGLIAN_TEMPLATE_ID = "200001"  # an approved template of our own: code, minutes
HUYI_ACCOUNT = "C12345678"  # pragma: allowlist secret (the APIID, not a secret)
HUYI_API_KEY = "huyi-api-key-for-tests-only-0123"  # pragma: allowlist secret
ZHENZI_APP_ID = "108888"
ZHENZI_APP_SECRET = "zhenzi-app-secret-for-tests-only"  # pragma: allowlist secret
ZHENZI_TEMPLATE_ID = "1001"
ALIYUN_ACCESS_KEY_ID = "LTAI5tEmulatorKeyId00001"
ALIYUN_ACCESS_KEY_SECRET = "aliyun-access-key-secret-for-tests"  # pragma: allowlist secret
ALIYUN_SIGN_NAME = "测试签名"
ALIYUN_TEMPLATE_CODE = "SMS_100001"  # a verification-code template: ${code}
# The WeChat jscode2session emulator (tests/support/emulators/wechat.py), as the function is configured for it.
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_APP_SECRET = "wechat-app-secret-for-tests-0001"  # pragma: allowlist secret

#: A line of the console SMS provider (smsverify.senders.console): phone, code, minutes.
CONSOLE_SMS = re.compile(r"\[console SMS to (\+\d+)\] 您的验证码为 (\d+)，(\d+) 分钟内有效。")


def ronglian_env(api) -> dict[str, str]:
    """The RONGLIAN_* variables for the Ronglian emulator ``api``."""
    return {
        "RONGLIAN_ACCOUNT_SID": RONGLIAN_ACCOUNT_SID, "RONGLIAN_AUTH_TOKEN": RONGLIAN_AUTH_TOKEN,
        "RONGLIAN_APP_ID": RONGLIAN_APP_ID, "RONGLIAN_TEMPLATE_ID": RONGLIAN_TEMPLATE_ID, "RONGLIAN_BASE_URL": api.url,
    }


def huyi_env(api) -> dict[str, str]:
    """The HUYI_* variables for the Huyi emulator ``api``."""
    return {"HUYI_ACCOUNT": HUYI_ACCOUNT, "HUYI_API_KEY": HUYI_API_KEY, "HUYI_BASE_URL": api.url}


def zhenzi_env(api) -> dict[str, str]:
    """The ZHENZI_* variables for the Zhenzi emulator ``api``."""
    return {
        "ZHENZI_APP_ID": ZHENZI_APP_ID, "ZHENZI_APP_SECRET": ZHENZI_APP_SECRET,
        "ZHENZI_TEMPLATE_ID": ZHENZI_TEMPLATE_ID, "ZHENZI_BASE_URL": api.url,
    }


def voice_env(api) -> dict[str, str]:
    """The voice-code variables for the Tencent Cloud emulator ``api`` (VMS ``SendCodeVoice``);
    add them to :func:`tencent_env`'s environment to turn voice codes on."""
    return {"VOICE_SDKAPPID": VOICE_SDK_APP_ID, "VMS_API_ENDPOINT": api.url}


def aliyun_env(api, **overrides: str) -> dict[str, str]:
    """The Alibaba Cloud variables for the Alibaba Cloud emulator ``api``."""
    return {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIYUN_ACCESS_KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIYUN_ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": ALIYUN_SIGN_NAME, "ALIYUN_SMS_TEMPLATE_CODE": ALIYUN_TEMPLATE_CODE,
        "ALIYUN_SMS_ENDPOINT": api.url, **overrides,
    }


def tencent_env(redis_url: str | None, sms_api, **overrides: str) -> dict[str, str]:
    """An SCF-like environment: Tencent SMS via the emulator ``sms_api``, Redis at ``redis_url`` (None: in-process)."""
    env = {
        "CODE_SECRET": CODE_SECRET,
        "TOKEN_SECRET": TOKEN_SECRET,
        "TOKEN_ISSUER": TOKEN_ISSUER,
        "TOKEN_AUDIENCE": TOKEN_AUDIENCE,
        "SMS_PROVIDER": "tencent",
        "SMS_SDKAPPID": SDK_APP_ID,
        "SMS_SIGN": SIGN,
        "SMS_TEMPLATE_ID": TEMPLATE_ID,
        "SMS_API_ENDPOINT": sms_api.url,
        "SMS_TIMEOUT_SECONDS": "2",
        "TENCENTCLOUD_SECRETID": SECRET_ID,
        "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
        "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(overrides)
    return env


class FakeClock:
    """Unix time in seconds that moves only when told to."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:  # 2026-11-18, mid-morning in Shanghai
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
