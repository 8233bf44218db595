"""The language of ``msg``, end to end through ``main_handler`` (real Redis, the Tencent SMS emulator).

Proven here:

- ``lang=en`` and an English ``Accept-Language`` answer every step of a getSms / login
  flow (``InValidParam``, ``Ok``, ``TooFrequent``, ``MissingCode``, ``CodeIsError``,
  ``Success``, ``CodeHasExpired``) with the catalog's English ``msg``, and the same
  codeStrs, statuses and other fields as the Chinese answers, which are today's sentences;
- the order of the rules: ``lang``, then ``Accept-Language``, then ``DEFAULT_LANGUAGE``; a
  ``lang`` of another language falls through, never an error;
- ``lang`` is read from a JSON body as well, and from the query of a request whose other
  parameters could not be read; a refused origin answers in the header's language;
- ``DEFAULT_LANGUAGE=fr`` stops the start-up naming the variable; the invocation line
  carries ``lang``.
"""

from __future__ import annotations

import json
import logging

import pytest

from smsverify.edge.handler import create_handler
from smsverify.edge.messages import english
from smsverify.errors import ConfigError
from tests.support import call, get_sms, last_code, load_event, login, wrong

PHONE = "+8613800138000"

#: The flow of :func:`flow` and the Chinese ``msg`` of each step, as the function answered before
#: ``lang`` existed.
CHINESE = [
    ("InValidParam", 400, "缺少参数 phone"),
    ("Ok", 200, "验证码已发送"),
    ("TooFrequent", 429, "发送过于频繁，请稍后再试"),
    ("MissingCode", 400, "缺少验证码参数"),
    ("CodeIsError", 401, "请检查手机号和验证码是否正确"),
    ("Success", 200, "校验验证码成功"),
    ("CodeHasExpired", 401, "验证码已过期"),
]


def with_header(event: dict, name: str, value: str) -> dict:
    event["headers"][name] = value
    return event


def flow(handler, sms_api, phone: str, query: dict[str, str], headers: dict[str, str]) -> list[dict]:
    """One getSms / login flow of ``phone`` with ``query`` and ``headers`` added to every request."""

    def run(event: dict) -> dict:
        event["queryString"].update(query)
        event["headers"].update(headers)
        return call(handler, event)

    no_phone = get_sms(phone)
    del no_phone["queryString"]["phone"]
    answers = [run(no_phone), run(get_sms(phone)), run(get_sms(phone)), run(login(phone, None))]
    code = last_code(sms_api, "+86" + phone[2:])
    answers += [run(login(phone, wrong(code))), run(login(phone, code)), run(login(phone, code))]
    return answers


@pytest.mark.parametrize("query, headers", [
    ({"lang": "en"}, {}),
    ({}, {"accept-language": "en-US"}),
    ({}, {"Accept-Language": "en-US,en;q=0.9,zh;q=0.1"}),
    ({"lang": "en-US"}, {"accept-language": "zh-CN"}),
], ids=["lang=en", "accept-language-en-US", "accept-language-q-values", "lang=en-US-over-header"])
def test_english_answers_keep_every_codestr_and_field(build, sms_api, query, headers):
    handler = build()
    chinese = flow(handler, sms_api, "8613800138000", {}, {})
    assert [(a["codeStr"], a["_status"], a["msg"]) for a in chinese] == CHINESE
    answers = flow(handler, sms_api, "8613800138001", query, headers)
    assert [(a["codeStr"], a["_status"]) for a in answers] == [(c, s) for c, s, _ in CHINESE]
    for zh, en in zip(chinese, answers):
        assert en["msg"] == english(zh["msg"]) and en["msg"].isascii(), (zh["msg"], en["msg"])
        assert set(en) == set(zh)
        assert {k: v for k, v in en.items() if k not in ("msg", "requestId", "token")} == {
            k: v for k, v in zh.items() if k not in ("msg", "requestId", "token")}
    assert answers[1]["msg"] == "The verification code has been sent"
    assert answers[5]["msg"] == "The verification code is correct"


def test_lang_beats_the_header_and_the_header_beats_the_default(build, sms_api):
    handler = build(DEFAULT_LANGUAGE="en")
    assert call(handler, with_header(get_sms(lang="zh-CN"), "accept-language", "en"))["msg"] == "验证码已发送"
    assert call(handler, with_header(login(PHONE, None), "accept-language", "zh-CN;q=0.8, en;q=0.5"))["msg"] == "缺少验证码参数"
    assert call(handler, login(PHONE, None, lang="zh"))["msg"] == "缺少验证码参数"
    assert call(handler, login(PHONE, None, lang="zh_CN"))["msg"] == "缺少验证码参数"  # wx.getSystemInfo's spelling


def test_default_language_en_answers_english_without_header(build, sms_api):
    handler = build(DEFAULT_LANGUAGE="en")
    sent = call(handler, get_sms())
    assert (sent["codeStr"], sent["msg"]) == ("Ok", "The verification code has been sent")
    assert call(handler, login(PHONE, None))["msg"] == "The code parameter is missing"


@pytest.mark.parametrize("lang", ["fr", "xx-!!", "", "en" * 40])
def test_an_unknown_lang_falls_through_to_the_next_rule(build, sms_api, lang):
    handler = build()
    assert call(handler, login(PHONE, None, lang=lang))["msg"] == "缺少验证码参数"  # to the default
    refused = call(handler, with_header(login(PHONE, None, lang=lang), "accept-language", "en-GB"))
    assert (refused["codeStr"], refused["_status"], refused["msg"]) == ("MissingCode", 400, "The code parameter is missing")


def test_lang_in_a_json_body_and_in_the_query_of_an_unreadable_request(build, sms_api):
    handler = build()
    event = load_event("login_post_json.json")
    event["queryString"] = {}
    event["body"] = json.dumps({"method": "login", "phone": PHONE, "lang": "en"})
    assert call(handler, event)["msg"] == "The code parameter is missing"
    event = load_event("login_post_json.json")
    event["queryString"] = {"lang": "en", "phone": PHONE}
    event["body"] = json.dumps({"method": "login", "phone": PHONE})  # phone twice: nothing is read
    refused = call(handler, event)
    assert (refused["codeStr"], refused["msg"]) == ("InValidParam", "The phone parameter is given more than once")


def test_a_refused_origin_answers_in_the_header_language(redis_url, make_env, clock, sms_api):
    handler = create_handler(make_env(redis_url, ALLOWED_ORIGINS="https://h5.example.com"), clock=clock)
    event = with_header(with_header(get_sms(), "origin", "https://evil.example"), "accept-language", "en")
    refused = call(handler, event)
    assert (refused["codeStr"], refused["_status"], refused["msg"]) == (
        "OriginNotAllowed", 403, "This origin is not allowed to call this API")


def test_default_language_fr_is_refused_at_start_up(redis_url, make_env, clock):
    with pytest.raises(ConfigError) as info:
        create_handler(make_env(redis_url, DEFAULT_LANGUAGE="fr"), clock=clock)
    assert info.value.problems == [("DEFAULT_LANGUAGE", "must be zh-CN or en, got 'fr'")]


def test_the_invocation_line_records_the_language(build, sms_api, caplog):
    handler = build()
    with caplog.at_level(logging.INFO, logger="smsverify"):
        call(handler, login(PHONE, None, lang="en"))
        call(handler, login(PHONE, None))
    lines = [r.fields for r in caplog.records if r.getMessage() == "invocation"]
    assert [(line["codeStr"], line["lang"]) for line in lines] == [("MissingCode", "en"), ("MissingCode", "zh-CN")]
