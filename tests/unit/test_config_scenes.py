"""Settings.from_env for scenes: ``SMS_SCENES`` and each provider's scene templates.

Proven here, on plain dicts:
- ``SMS_SCENES`` unset: the one scene ``login`` with ``SMS_TEMPLATE_ID``, as before;
- ``SMS_SCENES=scene:templateId,...`` lists the allowed scenes in order and gives
  Tencent one template per scene (``SMS_TEMPLATE_ID`` then optional);
- bad scene names (charset, length), duplicates and entries without a template
  fail start-up naming ``SMS_SCENES``;
- every other configured provider needs a template for every scene in its own
  variable (``RONGLIAN_SCENES``, ``ZHENZI_SCENES``, ``HUYI_SCENES``), named in the
  error; its single template still serves ``login``;
- ``HUYI_SCENES`` entries are joined by ``|``, so texts keep their commas and
  colons, and each text must hold ``{code}``;
- the console provider takes any scene; several problems come in one error;
- each sender picks its template by the message's scene;
- Tencent templates per destination: ``SMS_TEMPLATES=86:<id>,*:<id>`` for
  ``login`` and ``|``-joined lists inside ``SMS_SCENES``; a bad list, or an
  ``ALLOWED_COUNTRY_CODES`` country no template covers, fails start-up naming
  the variable, beside the other problems; ``SMS_TEMPLATE_PARAMS`` takes
  ``;templateId:list`` entries.
"""

from __future__ import annotations

import pytest

from smsverify.settings.config import Settings
from smsverify.errors import ConfigError
from smsverify.senders import build_sender
from smsverify.senders.base import SmsMessage
from smsverify.senders.huyi import DEFAULT_TEMPLATE as HUYI_DEFAULT_TEMPLATE
from tests.unit.test_config_providers import HUYI, RONGLIAN, TENCENT, ZHENZI

SCENES = "login:100001,register:100003,resetPassword:100004"


def refused(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    return info.value


def test_unset_is_the_one_scene_login_with_sms_template_id():
    s = Settings.from_env(TENCENT)
    assert s.scenes == ("login",) and s.sms_common.scenes == ("login",)
    assert s.provider_settings("tencent").scene_templates == {"login": {"*": "100001"}}


def test_sms_scenes_lists_the_scenes_in_order_with_tencent_templates():
    env = {k: v for k, v in TENCENT.items() if k != "SMS_TEMPLATE_ID"}
    s = Settings.from_env({**env, "SMS_SCENES": "login:100001 , register:100003,resetPassword:100004"})
    assert s.scenes == ("login", "register", "resetPassword")
    assert s.provider_settings("tencent").scene_templates == {
        "login": {"*": "100001"}, "register": {"*": "100003"}, "resetPassword": {"*": "100004"}}


def test_sms_template_id_serves_login_when_sms_scenes_lists_it_bare():
    s = Settings.from_env({**TENCENT, "SMS_SCENES": "login,register:100003"})
    assert s.provider_settings("tencent").scene_templates == {"login": {"*": "100001"}, "register": {"*": "100003"}}


@pytest.mark.parametrize(
    "raw, words",
    [
        ("login:1,sign up:2", "'sign up' is not a scene name"),
        ("login:1,注册:2", "is not a scene name"),
        (f"login:1,{'x' * 33}:2", "is not a scene name"),
        ("login:1,login:2", "names scene 'login' twice"),
        ("login:1,register", "no Tencent template id for scene(s) register"),
        ("login:1,register:abc", "numeric Tencent template ids"),
        (",", "lists no scene"),
    ],
)
def test_bad_sms_scenes_fail_naming_it(raw, words):
    error = refused({**TENCENT, "SMS_SCENES": raw})
    assert error.variable == "SMS_SCENES" and words in error.problem


def test_without_login_in_sms_scenes_sms_template_id_is_not_required():
    env = {k: v for k, v in TENCENT.items() if k != "SMS_TEMPLATE_ID"}
    s = Settings.from_env({**env, "SMS_SCENES": "register:100003"})
    assert s.scenes == ("register",)
    assert refused({**env, "SMS_SCENES": "login,register:100003"}).variable == "SMS_TEMPLATE_ID"


@pytest.mark.parametrize("provider, env", [("ronglian", RONGLIAN), ("zhenzi", ZHENZI)])
def test_a_template_id_provider_needs_its_scenes_variable_for_other_scenes(provider, env):
    base = {**env, "SMS_PROVIDER": provider, "CODE_LENGTH": "4", "SMS_SCENES": "login,register"}
    variable = f"{provider.upper()}_SCENES"
    error = refused(base)
    assert error.variable == variable and "register" in error.problem
    s = Settings.from_env({**base, variable: "register:2345679"})
    templates = s.provider_settings(provider).scene_templates
    assert templates["register"] == "2345679"
    assert templates["login"] == s.provider_settings(provider).template_id  # its single template serves login
    assert refused({**base, variable: "register:2345679,other:1"}).problem.startswith("names scene 'other'")


def test_huyi_scenes_are_joined_by_bars_and_keep_commas_and_colons():
    register = "您正在注册，验证码：{code}, valid for {minutes} min: do not share."
    env = {**HUYI, "SMS_PROVIDER": "huyi", "SMS_SCENES": "login,register",
           "HUYI_SCENES": f"register:{register}"}
    templates = Settings.from_env(env).provider_settings("huyi").scene_templates
    assert templates == {"login": HUYI_DEFAULT_TEMPLATE, "register": register}
    both = Settings.from_env({**env, "HUYI_SCENES": f"login:码{{code}} | register:{register}"})
    assert both.provider_settings("huyi").scene_templates == {"login": "码{code}", "register": register}


@pytest.mark.parametrize("text, words", [("no code here", "must contain {code}"), ("{code}{phone}", "placeholders")])
def test_a_huyi_scene_text_must_hold_code(text, words):
    error = refused({**HUYI, "SMS_PROVIDER": "huyi", "SMS_SCENES": "login,register", "HUYI_SCENES": f"register:{text}"})
    assert error.variable == "HUYI_SCENES" and words in error.problem


def test_the_console_provider_takes_any_scene():
    assert Settings.from_env({"SMS_SCENES": "login,register,bind-phone_2"}).scenes == ("login", "register", "bind-phone_2")


def test_failover_names_every_provider_missing_a_scene_at_once():
    env = {**TENCENT, **RONGLIAN, **HUYI, "SMS_PROVIDER": "tencent,ronglian,huyi", "CODE_LENGTH": "4",
           "SMS_SCENES": "login:100001,register:100003"}
    error = refused(env)
    assert [variable for variable, _ in error.problems] == ["RONGLIAN_SCENES", "HUYI_SCENES"]


def test_each_sender_picks_its_template_by_scene():
    env = {**RONGLIAN, **HUYI, **ZHENZI, "SMS_PROVIDER": "ronglian,huyi,zhenzi", "CODE_LENGTH": "4",
           "SMS_SCENES": "login,register", "RONGLIAN_SCENES": "register:2345679", "ZHENZI_SCENES": "register:1002",
           "HUYI_SCENES": "register:注册码{code}"}
    s = Settings.from_env(env)
    seen = {}
    for name in s.sms_providers:
        sender = build_sender(s, name)
        captured = []
        sender.http.post = lambda path, timeout, **kw: captured.append(kw) or {"statusCode": "000000", "code": 0}
        sender.http.post_raw = lambda path, timeout, **kw: captured.append(kw) or b'{"code": 2, "smsid": "1"}'
        for scene in ("login", "register"):
            sender.send(SmsMessage(phone="+8613800138000", code="1234", ttl_minutes=5, scene=scene), 1.0)
        seen[name] = [kw.get("json", {}).get("templateId") or kw["data"].get("templateId") or kw["data"]["content"]
                      for kw in captured]
    assert seen == {"ronglian": ["1", "2345679"], "zhenzi": ["1001", "1002"],
                    "huyi": [HUYI_DEFAULT_TEMPLATE.format(code="1234"), "注册码1234"]}


# -- templates per destination (SMS_TEMPLATES, SMS_SCENES' "|" lists) ---------------------------
WITHOUT_ID = {k: v for k, v in TENCENT.items() if k != "SMS_TEMPLATE_ID"}


def test_sms_templates_gives_login_a_template_per_destination():
    s = Settings.from_env({**WITHOUT_ID, "SMS_TEMPLATES": "86:100001, +852:100009,*:100010",
                           "ALLOWED_COUNTRY_CODES": "86,852,1"})
    assert s.provider_settings("tencent").scene_templates == {"login": {"86": "100001", "852": "100009", "*": "100010"}}
    sender = build_sender(s, "tencent")
    assert [sender.template_for("login", phone) for phone in ("+8613800138000", "+85251234567", "+14155552671")] == [
        "100001", "100009", "100010"]


def test_sms_scenes_gives_each_scene_its_destinations_and_a_bare_id_serves_every_one():
    s = Settings.from_env({**TENCENT, "ALLOWED_COUNTRY_CODES": "86,852",
                           "SMS_SCENES": "login,register:86:100003|*:100009,reset:100004"})
    assert s.provider_settings("tencent").scene_templates == {
        "login": {"*": "100001"}, "register": {"86": "100003", "*": "100009"}, "reset": {"*": "100004"}}


@pytest.mark.parametrize(
    "env, variable, words",
    [
        ({"SMS_TEMPLATES": "86:100001", "ALLOWED_COUNTRY_CODES": "86,852"}, "SMS_TEMPLATES", "country code(s) 852"),
        ({"SMS_TEMPLATES": "86:100001", "ALLOWED_COUNTRY_CODES": "*"}, "SMS_TEMPLATES", "every country"),
        ({"SMS_TEMPLATES": "86:100001,*:100009", "SMS_SCENES": "login,register:86:100003",
          "ALLOWED_COUNTRY_CODES": "86,852"}, "SMS_SCENES", "scene 'register' for country code(s) 852"),
        ({"SMS_TEMPLATES": "86:100001,999:100009"}, "SMS_TEMPLATES", "'999' is not a country calling code"),
        ({"SMS_TEMPLATES": "86:abc"}, "SMS_TEMPLATES", "numeric Tencent template ids"),
        ({"SMS_TEMPLATES": "86:1,86:2"}, "SMS_TEMPLATES", "two templates"),
        ({"SMS_TEMPLATES": "86:100001,*:100009", "SMS_TEMPLATE_ID": "100002"}, "SMS_TEMPLATE_ID", "SMS_TEMPLATES"),
    ],
)
def test_a_destination_list_that_is_wrong_or_leaves_an_allowed_country_uncovered_fails_naming_it(env, variable, words):
    error = refused({**WITHOUT_ID, **env})
    assert (error.variable, words in error.problem) == (variable, True), error.problem


def test_a_list_naming_every_allowed_country_needs_no_star():
    s = Settings.from_env({**WITHOUT_ID, "SMS_TEMPLATES": "86:100001,852:100020", "ALLOWED_COUNTRY_CODES": "852,86"})
    assert s.provider_settings("tencent").scene_templates["login"] == {"86": "100001", "852": "100020"}


def test_sms_template_id_beside_sms_templates_may_repeat_one_of_its_ids():
    s = Settings.from_env({**TENCENT, "SMS_TEMPLATES": "86:100001,*:100009", "ALLOWED_COUNTRY_CODES": "86,852"})
    assert s.provider_settings("tencent").scene_templates["login"] == {"86": "100001", "*": "100009"}


def test_uncovered_countries_come_with_the_other_problems_at_once():
    error = refused({**WITHOUT_ID, "SMS_TEMPLATES": "86:100001", "ALLOWED_COUNTRY_CODES": "86,852", "SMS_SIGN": ""})
    assert {variable for variable, _ in error.problems} == {"SMS_TEMPLATES", "SMS_SIGN"}


def test_sms_template_params_takes_per_template_lists():
    s = Settings.from_env({**TENCENT, "SMS_TEMPLATE_PARAMS": "code,minutes;100009:code;200001:minutes,code"})
    assert s.sms_template_params == ("code", "minutes")
    assert s.sms_common.template_params_by_template == {"100009": ("code",), "200001": ("minutes", "code")}


@pytest.mark.parametrize("raw", ["100009:code;code", ":code", "code;100009:code;100009:code",
                                 "code;100009:minutes"])
def test_bad_per_template_lists_fail_naming_sms_template_params(raw):
    assert refused({**TENCENT, "SMS_TEMPLATE_PARAMS": raw}).variable == "SMS_TEMPLATE_PARAMS"
