"""Settings.from_env for the SMS provider plug-ins and failover.

Proven here, on plain dicts:
- SMS_PROVIDER takes one provider or a comma list (case and spaces forgiven),
  in order; unknown names, duplicates and ``console`` inside a list are
  start-up errors naming SMS_PROVIDER;
- each provider's variables are required only when it is named, and a missing
  one is a ConfigError naming that variable; Tencent's settings and role key
  are not required without ``tencent``;
- Ronglian's free test template (ID 1, values of 1-4 digits, error 161125) with
  a longer CODE_LENGTH fails at start-up naming CODE_LENGTH; CODE_LENGTH=4 or an
  own template passes; template IDs must be numeric;
- Huyi's template must hold {code} and no other placeholder than {minutes};
  CODE_LENGTH above 8 (error 40722) is refused for Huyi;
- base URLs must be http(s) and lose a trailing slash; defaults are the
  providers' production hosts;
- PROVIDER_BACKOFF_SECONDS (older name PROVIDER_COOLDOWN_SECONDS still read)
  and SMS_SEND_BUDGET_SECONDS defaults and bounds;
- every bad variable of one environment is reported in one ConfigError;
- a provider is a plug-in: a module registered by name in smsverify.senders is
  read and built without any change to config;
- no provider secret appears in repr(settings).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smsverify import senders
from smsverify.settings.config import Settings
from smsverify.senders.huyi import DEFAULT_TEMPLATE as HUYI_DEFAULT_TEMPLATE
from smsverify.errors import ConfigError

RONGLIAN_TOKEN = "unit-ronglian-auth-token-0123"  # pragma: allowlist secret
HUYI_KEY = "unit-huyi-api-key-0123456789"  # pragma: allowlist secret
ZHENZI_SECRET = "unit-zhenzi-app-secret-0123"  # pragma: allowlist secret

RONGLIAN = {"RONGLIAN_ACCOUNT_SID": "acc-sid", "RONGLIAN_AUTH_TOKEN": RONGLIAN_TOKEN, "RONGLIAN_APP_ID": "app-id"}
HUYI = {"HUYI_ACCOUNT": "C12345678", "HUYI_API_KEY": HUYI_KEY}  # pragma: allowlist secret (APIID)
ZHENZI = {"ZHENZI_APP_ID": "110", "ZHENZI_APP_SECRET": ZHENZI_SECRET, "ZHENZI_TEMPLATE_ID": "1001"}
TENCENT = {
    "SMS_SDKAPPID": "1400000000", "SMS_SIGN": "测试签名", "SMS_TEMPLATE_ID": "100001",
    "TENCENTCLOUD_SECRETID": "AKIDunit", "TENCENTCLOUD_SECRETKEY": "unit-secret-key-value",  # pragma: allowlist secret
}
ALIYUN_SECRET = "unit-aliyun-access-key-secret-0123"  # pragma: allowlist secret
ALIYUN = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tUnitKeyId", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIYUN_SECRET,
          "ALIYUN_SMS_SIGN_NAME": "测试签名", "ALIYUN_SMS_TEMPLATE_CODE": "SMS_100001"}
ALL = {**RONGLIAN, **HUYI, **ZHENZI, **TENCENT, **ALIYUN}


def refused(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    return info.value


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ronglian", ("ronglian",)),
        ("tencent,ronglian", ("tencent", "ronglian")),
        ("Huyi , zhenzi", ("huyi", "zhenzi")),
        ("zhenzi,huyi,ronglian,tencent", ("zhenzi", "huyi", "ronglian", "tencent")),
    ],
)
def test_provider_lists_keep_their_order(raw, expected):
    env = {**ALL, "SMS_PROVIDER": raw, "CODE_LENGTH": "4"}
    s = Settings.from_env(env)
    assert s.sms_providers == expected
    assert s.sms_provider == ",".join(expected)


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("tencent,twilio", "unknown provider 'twilio'"),
        ("tencent,console", "'console' cannot be part of a failover list"),
        ("ronglian,ronglian", "names a provider twice"),
        ("tencent,", "unknown provider ''"),
    ],
)
def test_bad_provider_lists_are_refused(raw, problem):
    error = refused({**ALL, "SMS_PROVIDER": raw, "CODE_LENGTH": "4"})
    assert error.variable == "SMS_PROVIDER" and problem in error.problem


@pytest.mark.parametrize(
    "provider, variables",
    [
        ("ronglian", list(RONGLIAN)),
        ("huyi", list(HUYI)),
        ("zhenzi", list(ZHENZI)),
        ("aliyun", list(ALIYUN)),
    ],
)
def test_each_provider_variable_is_required_when_named(provider, variables):
    for missing in variables:
        env = {**ALL, "SMS_PROVIDER": provider, "CODE_LENGTH": "4"}
        del env[missing]
        error = refused(env)
        assert (error.variable, error.problem) == (missing, f"is required for the {provider} SMS provider")


def test_provider_settings_are_read_only_for_named_providers():
    s = Settings.from_env({**RONGLIAN, "SMS_PROVIDER": "ronglian", "CODE_LENGTH": "4"})
    assert s.sms_provider_settings == (s.provider_settings("ronglian"),) and s.credentials is None  # no Tencent key needed
    assert (s.provider_settings("ronglian").account_sid, s.provider_settings("ronglian").app_id, s.provider_settings("ronglian").template_id) == ("acc-sid", "app-id", "1")
    assert s.provider_settings("ronglian").base_url == "https://app.cloopen.com:8883"


def test_defaults_of_every_provider():
    s = Settings.from_env({**ALL, "SMS_PROVIDER": "ronglian,huyi,zhenzi", "CODE_LENGTH": "4"})
    assert s.provider_settings("huyi").template == HUYI_DEFAULT_TEMPLATE == "您的验证码是：{code}。请不要把验证码泄露给其他人。"
    assert s.provider_settings("huyi").base_url == "https://106.ihuyi.com"
    # No underscore in the host: OpenSSL cannot verify sms_developer.zhenzikj.com against *.zhenzikj.com.
    assert s.provider_settings("zhenzi").base_url == "https://smsdeveloper.zhenzikj.com"
    assert (s.provider_backoff_seconds, s.sms_send_budget_seconds) == (60, 8.0)


@pytest.mark.parametrize("length", ["5", "6", "10"])
def test_ronglian_test_template_with_a_long_code_fails_at_start_up(length):
    error = refused({**RONGLIAN, "SMS_PROVIDER": "ronglian", "CODE_LENGTH": length})
    assert error.variable == "CODE_LENGTH"
    assert "test template 1 accepts only 1-4 digit values" in error.problem and "161125" in error.problem


def test_ronglian_default_code_length_is_refused_with_the_test_template():
    assert refused({**RONGLIAN, "SMS_PROVIDER": "tencent,ronglian", **TENCENT}).variable == "CODE_LENGTH"


def test_ronglian_own_template_allows_six_digits():
    s = Settings.from_env({**RONGLIAN, "SMS_PROVIDER": "ronglian", "RONGLIAN_TEMPLATE_ID": "2345678"})
    assert (s.code_length, s.provider_settings("ronglian").template_id) == (6, "2345678")


def test_ronglian_template_id_is_numeric():
    error = refused({**RONGLIAN, "SMS_PROVIDER": "ronglian", "RONGLIAN_TEMPLATE_ID": "SMS_1"})
    assert error.variable == "RONGLIAN_TEMPLATE_ID"


@pytest.mark.parametrize(
    "template, problem",
    [
        ("您的验证码是：【变量】。", "must contain {code}"),
        ("验证码{code}，{name}你好", "may only contain the placeholders"),
        ("验证码{0}", "may only contain the placeholders"),
        ("验证码{code", "may only contain the placeholders"),
    ],
)
def test_huyi_template_placeholders(template, problem):
    error = refused({**HUYI, "SMS_PROVIDER": "huyi", "HUYI_TEMPLATE": template})
    assert error.variable == "HUYI_TEMPLATE" and problem in error.problem


def test_huyi_template_with_minutes_is_accepted():
    s = Settings.from_env({**HUYI, "SMS_PROVIDER": "huyi", "HUYI_TEMPLATE": "您的验证码是：{code}，{minutes}分钟内有效。"})
    assert s.provider_settings("huyi").template.format(code="1234", minutes=5) == "您的验证码是：1234，5分钟内有效。"


def test_huyi_refuses_codes_longer_than_eight_digits():
    assert Settings.from_env({**HUYI, "SMS_PROVIDER": "huyi", "CODE_LENGTH": "8"}).code_length == 8
    error = refused({**HUYI, "SMS_PROVIDER": "huyi", "CODE_LENGTH": "9"})
    assert error.variable == "CODE_LENGTH" and "40722" in error.problem


@pytest.mark.parametrize("variable", ["RONGLIAN_BASE_URL", "HUYI_BASE_URL", "ZHENZI_BASE_URL"])
def test_base_urls(variable):
    env = {**ALL, "SMS_PROVIDER": "ronglian,huyi,zhenzi", "CODE_LENGTH": "4"}
    assert refused({**env, variable: "ftp://example.com"}).variable == variable
    s = Settings.from_env({**env, variable: "http://127.0.0.1:9000/"})
    provider = variable.split("_")[0].lower()
    assert s.provider_settings(provider).base_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    "variable, bad",
    [("PROVIDER_BACKOFF_SECONDS", "-1"), ("PROVIDER_BACKOFF_SECONDS", "86401"), ("PROVIDER_COOLDOWN_SECONDS", "-1"),
     ("SMS_SEND_BUDGET_SECONDS", "0.1"), ("SMS_SEND_BUDGET_SECONDS", "soon")],
)
def test_failover_timing_bounds(variable, bad):
    assert refused({**TENCENT, variable: bad}).variable == variable


def test_zero_provider_backoff_is_allowed():
    assert Settings.from_env({**TENCENT, "PROVIDER_BACKOFF_SECONDS": "0"}).provider_backoff_seconds == 0


def test_provider_backoff_reads_the_older_name_and_prefers_the_new_one():
    assert Settings.from_env({**TENCENT, "PROVIDER_COOLDOWN_SECONDS": "7"}).provider_backoff_seconds == 7
    both = {**TENCENT, "PROVIDER_COOLDOWN_SECONDS": "7", "PROVIDER_BACKOFF_SECONDS": "9"}
    assert Settings.from_env(both).provider_backoff_seconds == 9


def test_every_bad_provider_variable_is_reported_at_once():
    env = {
        "SMS_PROVIDER": "tencent,ronglian,huyi", "CODE_LENGTH": "9", "HUYI_TEMPLATE": "no placeholder",
        "RONGLIAN_BASE_URL": "ftp://x", "SMS_SDKAPPID": "app", "SMS_SIGN": "签名", "SMS_TEMPLATE_ID": "1",
    }
    error = refused(env)
    assert [variable for variable, _ in error.problems] == [
        "SMS_SDKAPPID", "CODE_LENGTH", "TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY",
        "RONGLIAN_ACCOUNT_SID", "RONGLIAN_AUTH_TOKEN", "RONGLIAN_APP_ID", "RONGLIAN_BASE_URL",
        "HUYI_TEMPLATE", "HUYI_ACCOUNT", "HUYI_API_KEY",
    ]
    assert error.variable == "SMS_SDKAPPID"
    assert all(f"{variable}: " in str(error) for variable, _ in error.problems)


def test_a_registered_module_is_a_provider_without_any_change_to_config(monkeypatch, tmp_path):
    (tmp_path / "fifth_provider.py").write_text(
        "from dataclasses import dataclass\n"
        "NAME = 'fifth'\n"
        "@dataclass(frozen=True)\n"
        "class FifthSettings:\n"
        "    key: str\n"
        "def from_env(reader, common):\n"
        "    if common.code_length > 5:\n"
        "        reader.problem('CODE_LENGTH', 'fifth takes 5 digits at most')\n"
        "    return FifthSettings(reader.required('FIFTH_KEY', 'for the fifth SMS provider'))\n"
        "class FifthSender:\n"
        "    name = NAME\n"
        "    def __init__(self, settings, params):\n"
        "        self.settings, self.params = settings, params\n"
        "def build(settings, common):\n"
        "    return FifthSender(settings, common.template_params)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(senders.PROVIDERS, "fifth", "fifth_provider")

    s = Settings.from_env({**TENCENT, "SMS_PROVIDER": "tencent,fifth", "FIFTH_KEY": "k", "CODE_LENGTH": "5"})
    [tencent, fifth] = senders.build_senders(s)
    assert (tencent.name, fifth.name, fifth.settings.key, fifth.params) == ("tencent", "fifth", "k", ("code", "minutes"))
    assert [v for v, _ in refused({**TENCENT, "SMS_PROVIDER": "fifth"}).problems] == ["CODE_LENGTH", "FIFTH_KEY"]


def test_no_provider_secret_in_repr():
    s = Settings.from_env({**ALL, "SMS_PROVIDER": "tencent,ronglian,huyi,zhenzi", "CODE_LENGTH": "4"})
    text = repr(s)
    for secret in (RONGLIAN_TOKEN, HUYI_KEY, ZHENZI_SECRET):
        assert secret not in text


IMPORT_PROBE = """
import json, sys
import smsverify.settings.config
# smsverify.senders.common holds SmsCommon, the values config hands the providers: no sender
loaded = lambda: sorted(m for m in sys.modules if m.startswith("smsverify.senders.") and m != "smsverify.senders.common")
report = {"config": loaded()}
smsverify.settings.config.Settings.from_env(json.loads(sys.argv[1]))
report["ronglian"] = loaded()
print(json.dumps(report))
"""


def test_config_imports_no_sender_and_the_registry_imports_only_the_named_one():
    env = {**RONGLIAN, "SMS_PROVIDER": "ronglian", "CODE_LENGTH": "4"}
    done = subprocess.run([sys.executable, "-c", IMPORT_PROBE, json.dumps(env)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["config"] == []
    assert "smsverify.senders.ronglian" in report["ronglian"]
    assert not {"smsverify.senders.tencent", "smsverify.senders.huyi", "smsverify.senders.zhenzi"} & set(report["ronglian"])


# -- aliyun ------------------------------------------------------------------------------------
def test_aliyun_defaults_and_its_secret_stays_out_of_repr():
    s = Settings.from_env({**ALIYUN, "SMS_PROVIDER": "aliyun"})
    aliyun = s.provider_settings("aliyun")
    assert (aliyun.endpoint, dict(aliyun.variables), dict(aliyun.scene_templates)) == (
        "dysmsapi.aliyuncs.com", {"code": "code"}, {"login": "SMS_100001"})
    assert ALIYUN_SECRET not in repr(s) and ALIYUN_SECRET not in repr(aliyun)


@pytest.mark.parametrize("raw, expected", [
    ("code", {"code": "code"}),
    ("code:code,time:minutes", {"code": "code", "time": "minutes"}),
    ("verify_code : code , minutes", {"verify_code": "code", "minutes": "minutes"}),
])
def test_aliyun_template_variables(raw, expected):
    s = Settings.from_env({**ALIYUN, "SMS_PROVIDER": "aliyun", "ALIYUN_SMS_TEMPLATE_VARIABLES": raw})
    assert dict(s.provider_settings("aliyun").variables) == expected


@pytest.mark.parametrize("raw", ["minutes", "code:hours", "code,code", "${code}", "code:code,x:code:y"])
def test_aliyun_bad_template_variables_are_refused(raw):
    error = refused({**ALIYUN, "SMS_PROVIDER": "aliyun", "ALIYUN_SMS_TEMPLATE_VARIABLES": raw})
    assert error.variable == "ALIYUN_SMS_TEMPLATE_VARIABLES"


def test_aliyun_refuses_codes_longer_than_six():
    error = refused({**ALIYUN, "SMS_PROVIDER": "aliyun", "CODE_LENGTH": "7"})
    assert error.variable == "CODE_LENGTH" and "at most 6" in error.problem


def test_aliyun_scenes_take_a_template_code_each():
    env = {**ALIYUN, "SMS_PROVIDER": "aliyun", "SMS_SCENES": "login,register"}
    assert refused(env).variable == "ALIYUN_SMS_SCENES"
    s = Settings.from_env({**env, "ALIYUN_SMS_SCENES": "register:SMS_100002"})
    assert dict(s.provider_settings("aliyun").scene_templates) == {"login": "SMS_100001", "register": "SMS_100002"}
