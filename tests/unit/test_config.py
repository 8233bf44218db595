"""Settings.from_env: every default, every validation, the SCF/local split, no secret in repr.

Proven here, on plain dicts (os.environ is never touched):
- an empty environment gives exactly the defaults listed in the config.py docstring;
- every numeric variable refuses non-numbers, values below its minimum (zero and
  negatives where zero is meaningless) and above its maximum, with a ConfigError
  naming that variable, and accepts its exact bounds;
- Redis URL forms, the URL built from REDIS_HOST/PORT/PASSWORD/DB (password quoted);
- inside SCF every required setting is a start-up error naming it, and the console
  provider is refused; outside SCF each fallback is one notice, absent once configured;
- SMS_TEMPLATE_PARAMS, CODE_LENGTH vs provider, ALLOWED_COUNTRY_CODES, DEFAULT_REGION,
  captcha both-or-neither;
- repr(settings) carries no secret.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import redis

from smsverify.settings.config import Settings
from smsverify.errors import ConfigError

CODE_SECRET = "unit-code-secret-7Hq2Vd9Kx4LmPw3Z"  # pragma: allowlist secret
PREVIOUS_SECRET = "unit-previous-secret-7Hq2Vd9Kx4Lm"  # pragma: allowlist secret
SECRET_KEY = "unit-tencent-secret-key-value"  # pragma: allowlist secret
SESSION_TOKEN = "unit-session-token-value-xyz"  # pragma: allowlist secret
CAPTCHA_KEY = "unit-captcha-app-secret-key"  # pragma: allowlist secret
REDIS_PASSWORD = "p@ss/w:rd?#%"  # pragma: allowlist secret

#: Everything SCF requires, for the tencent provider.
SCF_REQUIRED = {
    "REDIS_HOST": "10.0.0.5",
    "CODE_SECRET": CODE_SECRET,
    "SMS_SDKAPPID": "1400000000",
    "SMS_SIGN": "测试签名",
    "SMS_TEMPLATE_ID": "100001",
    "TENCENTCLOUD_SECRETID": "AKIDunitTestSecretId",  # pragma: allowlist secret
    "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
}
SCF_MARKERS = [
    pytest.param({"TENCENTCLOUD_RUNENV": "SCF"}, id="RUNENV=SCF"),
    pytest.param({"TENCENTCLOUD_RUNENV": "scf"}, id="RUNENV=scf"),
    pytest.param({"SCF_FUNCTIONNAME": "x"}, id="SCF_FUNCTIONNAME"),
]
#: A local environment with the tencent provider configured (outside SCF).
TENCENT_LOCAL = {k: v for k, v in SCF_REQUIRED.items() if k not in ("REDIS_HOST", "CODE_SECRET")}


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def refused(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    return info.value


# -- defaults --------------------------------------------------------------------


def test_empty_environment_gives_every_documented_default():
    s = settings()
    assert s.in_scf is False
    assert s.redis_url is None  # in-process store
    assert s.redis_cluster is False
    assert s.redis_timeout_seconds == 1.0
    assert s.sms_provider == "console"
    assert (s.sms_provider_settings, s.credentials) == ((None,), None)
    assert s.sms_template_params == ("code", "minutes")
    assert s.sms_timeout_seconds == 5.0
    assert isinstance(s.code_secret, bytes) and len(s.code_secret) == 32  # random per process
    assert s.code_secret_previous is None
    assert s.code_length == 6
    assert s.code_ttl_seconds == 300
    assert s.max_verify_attempts == 3
    assert s.send_interval_seconds == 60
    assert s.hourly_send_limit == 5
    assert s.daily_send_limit == 10
    assert s.daily_verify_limit == 30
    assert s.ip_send_limit == 20
    assert s.ip_send_window_seconds == 3600
    assert s.global_send_limit == 1000
    assert s.global_send_window_seconds == 3600
    assert s.default_region == "CN"
    assert s.allowed_country_codes == frozenset({86})
    assert s.captcha_app_id is None and s.captcha_app_secret_key is None and s.captcha_enabled is False
    assert s.captcha_api_endpoint == "captcha.tencentcloudapi.com"


def test_redis_host_alone_uses_default_port_and_db():
    s = settings(REDIS_HOST="redis.internal")
    assert s.redis_url == "redis://redis.internal:6379/0"
    assert s.redis_cluster is False


def test_random_code_secret_differs_per_process_start():
    assert settings().code_secret != settings().code_secret


# -- numeric variables -------------------------------------------------------------

#: name, Settings attribute, minimum, maximum (None: unbounded)
INTEGERS = [
    ("CODE_LENGTH", "code_length", 4, 10),
    ("CODE_TTL_SECONDS", "code_ttl_seconds", 30, 86400),
    ("MAX_VERIFY_ATTEMPTS", "max_verify_attempts", 1, 100),
    ("SEND_INTERVAL_SECONDS", "send_interval_seconds", 0, 86400),
    ("HOURLY_SEND_LIMIT", "hourly_send_limit", 1, None),
    ("DAILY_SEND_LIMIT", "daily_send_limit", 1, None),
    ("DAILY_VERIFY_LIMIT", "daily_verify_limit", 1, None),
    ("IP_SEND_LIMIT", "ip_send_limit", 1, None),
    ("IP_SEND_WINDOW_SECONDS", "ip_send_window_seconds", 1, 604800),
    ("GLOBAL_SEND_LIMIT", "global_send_limit", 1, None),
    ("GLOBAL_SEND_WINDOW_SECONDS", "global_send_window_seconds", 1, 604800),
    ("REDIS_PORT", None, 1, 65535),
    ("REDIS_DB", None, 0, 1024),
]
FLOATS = [
    ("REDIS_TIMEOUT_SECONDS", "redis_timeout_seconds", 0.05, 60.0),
    ("SMS_TIMEOUT_SECONDS", "sms_timeout_seconds", 0.05, 60.0),
]
#: REDIS_PORT and REDIS_DB are only read with REDIS_HOST.
BASE = {"REDIS_HOST": "redis.internal"}


def _integer_bad_values():
    for name, _, minimum, maximum in INTEGERS:
        bad = ["abc", "1.5", "0x10", "5 minutes", " 5", "-1", "-100"]
        if minimum > 0:
            bad.append("0")
        if minimum > 1:
            bad.append(str(minimum - 1))
        if maximum is not None:
            bad += [str(maximum + 1), str(maximum * 1000)]
        for value in bad:
            yield pytest.param(name, value, id=f"{name}={value!r}")


def _float_bad_values():
    for name, _, _, _ in FLOATS:
        for value in ("abc", "1,5", "0", "-1", "0.01", "60.5", "1e9", "nan", "inf", " 2"):
            yield pytest.param(name, value, id=f"{name}={value!r}")


@pytest.mark.parametrize("name, value", [*_integer_bad_values(), *_float_bad_values()])
def test_numeric_variable_rejects_bad_value_naming_it(name, value):
    error = refused({**BASE, name: value})
    assert error.variable == name
    assert str(error).startswith(f"{name}: ")


def _integer_bounds():
    for name, attribute, minimum, maximum in INTEGERS:
        for value in [minimum] + ([maximum] if maximum is not None else [10**6]):
            yield pytest.param(name, attribute, value, id=f"{name}={value}")


@pytest.mark.parametrize("name, attribute, value", list(_integer_bounds()))
def test_numeric_variable_accepts_its_bounds(name, attribute, value):
    s = Settings.from_env({**BASE, name: str(value)})
    if name == "REDIS_PORT":
        assert s.redis_url == f"redis://redis.internal:{value}/0"
    elif name == "REDIS_DB":
        assert s.redis_url == f"redis://redis.internal:6379/{value}"
    else:
        assert getattr(s, attribute) == value


@pytest.mark.parametrize("name, attribute, minimum, maximum", FLOATS)
def test_seconds_variables_accept_bounds_and_fractions(name, attribute, minimum, maximum):
    for raw, expected in ((str(minimum), minimum), (str(maximum), maximum), ("2.5", 2.5)):
        assert getattr(Settings.from_env({name: raw}), attribute) == expected


def test_blank_numeric_value_means_default():
    assert settings(CODE_TTL_SECONDS="").code_ttl_seconds == 300
    assert settings(CODE_TTL_SECONDS="   ").code_ttl_seconds == 300


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("YES", True), ("off", False), ("0", False)])
def test_redis_cluster_flag(value, expected):
    assert settings(REDIS_URL="redis://h:6379/0", REDIS_CLUSTER=value).redis_cluster is expected


def test_redis_cluster_flag_rejects_other_words():
    assert refused({"REDIS_URL": "redis://h:6379/0", "REDIS_CLUSTER": "maybe"}).variable == "REDIS_CLUSTER"


# -- Redis -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected_url, cluster",
    [
        ("redis://10.0.0.5:6379/0", "redis://10.0.0.5:6379/0", False),
        ("rediss://:pw@redis.example:6380/1", "rediss://:pw@redis.example:6380/1", False),
        ("redis+cluster://10.0.0.5:7000", "redis://10.0.0.5:7000", True),
    ],
)
def test_redis_url_forms(url, expected_url, cluster):
    s = settings(REDIS_URL=url, REDIS_HOST="ignored.host")
    assert (s.redis_url, s.redis_cluster) == (expected_url, cluster)


@pytest.mark.parametrize("url", ["http://10.0.0.5:6379", "10.0.0.5:6379", "unix:///tmp/redis.sock"])
def test_redis_url_other_schemes_refused(url):
    assert refused({"REDIS_URL": url}).variable == "REDIS_URL"


def test_redis_host_port_password_db_build_a_quoted_url():
    s = settings(REDIS_HOST="redis.internal", REDIS_PORT="6380", REDIS_PASSWORD=REDIS_PASSWORD, REDIS_DB="2")
    assert s.redis_url == f"redis://:{quote(REDIS_PASSWORD, safe='')}@redis.internal:6380/2"
    assert s.redis_url.count("@") == 1 and "/" not in s.redis_url.split("@")[0][len("redis://"):]
    parsed = redis.connection.parse_url(s.redis_url)  # what redis-py will use
    assert parsed["password"] == REDIS_PASSWORD
    assert (parsed["host"], parsed["port"], parsed["db"]) == ("redis.internal", 6380, 2)


# -- SCF versus local -------------------------------------------------------------------


@pytest.mark.parametrize("marker", SCF_MARKERS)
def test_complete_scf_environment_is_accepted_without_fallbacks(marker):
    s = Settings.from_env({**SCF_REQUIRED, **marker})
    assert s.in_scf is True
    assert s.sms_provider == "tencent"
    assert s.redis_url == "redis://10.0.0.5:6379/0"
    assert s.code_secret == CODE_SECRET.encode()
    tencent = s.provider_settings("tencent")
    assert tencent.credentials.secret_id == "AKIDunitTestSecretId"
    assert tencent.credentials.secret_key == SECRET_KEY
    assert (tencent.region, tencent.endpoint) == ("ap-guangzhou", "sms.tencentcloudapi.com")  # documented defaults
    assert s.credentials is None  # the captcha's, read only when captcha is on
    assert s.notices == ()


@pytest.mark.parametrize("marker", SCF_MARKERS)
def test_an_empty_scf_environment_names_every_missing_variable_at_once(marker):
    error = refused(dict(marker))
    assert {variable for variable, _ in error.problems} == set(SCF_REQUIRED)
    assert error.variable == error.problems[0][0]
    for variable in SCF_REQUIRED:
        assert f"{variable}: " in str(error)


@pytest.mark.parametrize("marker", SCF_MARKERS)
@pytest.mark.parametrize("missing", list(SCF_REQUIRED))
@pytest.mark.parametrize("how", ["absent", "blank"])
def test_scf_requires_each_setting_by_name(marker, missing, how):
    env = {**SCF_REQUIRED, **marker}
    if how == "absent":
        del env[missing]
    else:
        env[missing] = ""
    assert refused(env).variable == missing


@pytest.mark.parametrize("marker", SCF_MARKERS)
def test_scf_accepts_redis_url_instead_of_host(marker):
    env = {**SCF_REQUIRED, **marker, "REDIS_URL": "rediss://redis.example:6380/0"}
    del env["REDIS_HOST"]
    assert Settings.from_env(env).redis_url == "rediss://redis.example:6380/0"


@pytest.mark.parametrize("marker", SCF_MARKERS)
def test_console_provider_refused_inside_scf(marker):
    assert refused({**SCF_REQUIRED, **marker, "SMS_PROVIDER": "console"}).variable == "SMS_PROVIDER"


def test_unknown_provider_refused():
    assert refused({"SMS_PROVIDER": "twilio"}).variable == "SMS_PROVIDER"


def test_tencent_provider_outside_scf_still_needs_credentials():
    for missing in TENCENT_LOCAL:
        env = {k: v for k, v in TENCENT_LOCAL.items() if k != missing}
        assert refused({**env, "SMS_PROVIDER": "tencent"}).variable == missing


def test_non_numeric_sdk_app_id_refused():
    assert refused({**TENCENT_LOCAL, "SMS_SDKAPPID": "app-1400"}).variable == "SMS_SDKAPPID"


NOTICE_WORDS = {"redis": "REDIS_HOST", "sms": "console SMS", "secret": "CODE_SECRET"}  # pragma: allowlist secret


def _notice_kinds(s: Settings) -> list[str]:
    return sorted(kind for notice in s.notices for kind, word in NOTICE_WORDS.items() if word in notice)


def test_local_fallbacks_are_one_notice_each():
    s = settings()
    assert len(s.notices) == 3
    assert _notice_kinds(s) == ["redis", "secret", "sms"]


@pytest.mark.parametrize(
    "configured, remaining",
    [
        ({"REDIS_URL": "redis://h:6379/0"}, ["secret", "sms"]),
        ({"REDIS_HOST": "h"}, ["secret", "sms"]),
        ({"CODE_SECRET": CODE_SECRET}, ["redis", "sms"]),
        (TENCENT_LOCAL, ["redis", "secret"]),
        ({"SMS_PROVIDER": "console"}, ["redis", "secret"]),  # chosen explicitly: nothing to announce
        ({"REDIS_HOST": "h", "CODE_SECRET": CODE_SECRET, **TENCENT_LOCAL}, []),
    ],
)
def test_notice_absent_once_configured(configured, remaining):
    s = Settings.from_env(configured)
    assert len(s.notices) == len(remaining)
    assert _notice_kinds(s) == remaining


def test_short_code_secrets_refused():
    assert refused({"CODE_SECRET": "short"}).variable == "CODE_SECRET"  # pragma: allowlist secret
    assert refused({"CODE_SECRET": CODE_SECRET, "CODE_SECRET_PREVIOUS": "short"}).variable == "CODE_SECRET_PREVIOUS"  # pragma: allowlist secret


@pytest.mark.parametrize("marker", SCF_MARKERS)
@pytest.mark.parametrize("variable", ["CODE_SECRET", "CODE_SECRET_PREVIOUS"])
@pytest.mark.parametrize("value", [None, "short", "16-chars-Xq9#kLp", "twenty-four-chars-Xq9#kL"])
def test_inside_scf_the_code_secret_hint_asks_for_what_the_check_wants(marker, variable, value):
    env = {**SCF_REQUIRED, **marker}
    env.pop(variable, None)
    if value is not None:
        env[variable] = value
    if value is None and variable == "CODE_SECRET_PREVIOUS":
        assert Settings.from_env(env).code_secret_previous is None  # optional
        return
    problem = dict(refused(env).problems)[variable]
    assert "at least 32" in problem and "16 characters" not in problem and (value is None or value not in problem)
    assert f"generate one with `python -m smsverify keys generate --kind secret --var {variable}`" in problem


def test_previous_code_secret_kept_for_rotation():
    s = settings(CODE_SECRET=CODE_SECRET, CODE_SECRET_PREVIOUS=PREVIOUS_SECRET)
    assert (s.code_secret, s.code_secret_previous) == (CODE_SECRET.encode(), PREVIOUS_SECRET.encode())


def test_value_with_surrounding_spaces_refused_by_name():
    assert refused({"SMS_SIGN": " 签名", **{k: v for k, v in TENCENT_LOCAL.items() if k != "SMS_SIGN"}}).variable == "SMS_SIGN"


# -- SMS template, code length -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [("code", ("code",)), ("code,minutes", ("code", "minutes")), ("minutes,code", ("minutes", "code")),
     ("code, minutes", ("code", "minutes"))],
)
def test_template_params_accepted(raw, expected):
    assert settings(SMS_TEMPLATE_PARAMS=raw).sms_template_params == expected


@pytest.mark.parametrize("raw", ["minutes", "code,phone", "code,,minutes", "CODE", "code;minutes", ","])
def test_template_params_refused(raw):
    assert refused({"SMS_TEMPLATE_PARAMS": raw}).variable == "SMS_TEMPLATE_PARAMS"


@pytest.mark.parametrize("length", ["7", "8", "10"])
def test_code_longer_than_6_refused_for_tencent(length):
    assert refused({**TENCENT_LOCAL, "CODE_LENGTH": length}).variable == "CODE_LENGTH"


def test_code_of_6_allowed_for_tencent_and_10_for_console():
    assert Settings.from_env({**TENCENT_LOCAL, "CODE_LENGTH": "6"}).code_length == 6
    assert settings(SMS_PROVIDER="console", CODE_LENGTH="10").code_length == 10
    assert settings(CODE_LENGTH="8").code_length == 8  # console by fallback


# -- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [("86", {86}), ("+86, 852", {86, 852}), ("86,852,853,886", {86, 852, 853, 886}), ("1", {1}), ("*", None)],
)
def test_allowed_country_codes_parsed(raw, expected):
    codes = settings(ALLOWED_COUNTRY_CODES=raw).allowed_country_codes
    assert codes == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize("raw", ["999", "86,999", "CN", "86;852", "86,", "0", "+"])
def test_allowed_country_codes_refused(raw):
    assert refused({"ALLOWED_COUNTRY_CODES": raw}).variable == "ALLOWED_COUNTRY_CODES"


@pytest.mark.parametrize("raw, expected", [("CN", "CN"), ("hk", "HK"), ("Us", "US")])
def test_default_region_accepted(raw, expected):
    assert settings(DEFAULT_REGION=raw).default_region == expected


@pytest.mark.parametrize("raw", ["XX", "CHN", "86", "China"])
def test_default_region_refused(raw):
    assert refused({"DEFAULT_REGION": raw}).variable == "DEFAULT_REGION"


# -- captcha -----------------------------------------------------------------------------------


def test_captcha_both_set_enables_it():
    s = settings(CAPTCHA_APP_ID="190000000", CAPTCHA_APP_SECRET_KEY=CAPTCHA_KEY,
                 TENCENTCLOUD_SECRETID="AKIDexample", TENCENTCLOUD_SECRETKEY="role-key")  # pragma: allowlist secret
    assert (s.captcha_enabled, s.captcha_app_id, s.captcha_app_secret_key) == (True, 190000000, CAPTCHA_KEY)
    assert s.sms_provider == "console" and s.credentials.secret_id == "AKIDexample"


@pytest.mark.parametrize("missing", ["TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY"])
def test_captcha_needs_the_role_credentials_even_with_console_sms(missing):
    env = {"CAPTCHA_APP_ID": "190000000", "CAPTCHA_APP_SECRET_KEY": CAPTCHA_KEY,
           "TENCENTCLOUD_SECRETID": "AKIDexample", "TENCENTCLOUD_SECRETKEY": "role-key"}  # pragma: allowlist secret
    del env[missing]
    with pytest.raises(ConfigError) as raised:
        settings(**env)
    assert raised.value.variable == missing and "captcha" in raised.value.problem


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"CAPTCHA_APP_ID": "190000000"}, "CAPTCHA_APP_SECRET_KEY"),
        ({"CAPTCHA_APP_SECRET_KEY": CAPTCHA_KEY}, "CAPTCHA_APP_ID"),
        ({"CAPTCHA_APP_ID": "app-19", "CAPTCHA_APP_SECRET_KEY": CAPTCHA_KEY}, "CAPTCHA_APP_ID"),
    ],
)
def test_captcha_needs_both_and_a_numeric_id(env, variable):
    assert refused(env).variable == variable


# -- no secret in repr -----------------------------------------------------------------------------


def test_repr_contains_no_secret():
    s = Settings.from_env({
        **TENCENT_LOCAL,
        "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
        "CODE_SECRET": CODE_SECRET,
        "CODE_SECRET_PREVIOUS": PREVIOUS_SECRET,
        "CAPTCHA_APP_ID": "190000000",
        "CAPTCHA_APP_SECRET_KEY": CAPTCHA_KEY,
        "REDIS_HOST": "redis.internal",
        "REDIS_PASSWORD": REDIS_PASSWORD,
    })
    # The secrets are really in the object (so the check below is not vacuous).
    assert s.provider_settings("tencent").credentials.session_token == SESSION_TOKEN
    assert s.credentials.session_token == SESSION_TOKEN and s.captcha_app_secret_key == CAPTCHA_KEY
    for text in (repr(s), str(s)):
        for secret in (CODE_SECRET, PREVIOUS_SECRET, SECRET_KEY, SESSION_TOKEN, CAPTCHA_KEY,
                       REDIS_PASSWORD, quote(REDIS_PASSWORD, safe="")):
            assert secret not in text
        assert "AKIDunitTestSecretId" in text  # the key id is not a secret; repr still useful
