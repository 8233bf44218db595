"""WeChat binding end to end: main_handler, a real redis-server, the SMS and jscode2session emulators.

With ``WECHAT_APP_ID`` / ``WECHAT_APP_SECRET`` set, ``login`` exchanges
``wxCode`` before checking the SMS code; a WeChat refusal is
``WechatLoginFailed`` (400, ``wechatErrcode``) and an outage
``ServiceUnavailable``, both leaving the SMS code live; without the settings
``wxCode`` is ignored.
"""

from __future__ import annotations

import json
import time

import pytest

from smsverify.bootstrap import build_service
from smsverify.settings.config import Settings
from smsverify.integrations.wechat import WechatConfig, WechatIdentity, WechatLogin
from smsverify.tokens import verify_token
from tests.support import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_SECRET, call, get_sms, last_code, login
from tests.support import WECHAT_APP_ID, WECHAT_APP_SECRET, WechatEmulator
from tests.support.logs import capture_all_logs

APP_ID, APP_SECRET = WECHAT_APP_ID, WECHAT_APP_SECRET  # the shared emulator fixture `wx` (conftest)
PHONE = "+8613800138000"


def wechat_env(wx: WechatEmulator) -> dict[str, str]:
    return {"WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_API_ENDPOINT": wx.url}


def sent_code(handler, sms_api) -> str:
    assert call(handler, get_sms())["codeStr"] == "Ok"
    return last_code(sms_api, PHONE)


def test_login_with_wx_code_succeeds_and_uses_the_wechat_code(build, sms_api, wx):
    handler = build(**wechat_env(wx))
    code = sent_code(handler, sms_api)
    wx_code = wx.mint("o-e2e-user", unionid="u-e2e-user")
    assert call(handler, login(code=code, wxCode=wx_code))["codeStr"] == "Success"
    assert wx.used(wx_code)
    assert call(handler, login(code=code, wxCode=wx.mint("o-e2e-user")))["codeStr"] == "CodeHasExpired"


def test_the_identity_reaches_code_verified(redis_url, make_env, clock, sms_api, wx):
    env = make_env(redis_url, **wechat_env(wx))
    service = build_service(Settings.from_env(env), clock=time.time, env=env)  # tokens are checked at the real time
    phone = service.phone(PHONE)
    service.send_code(phone, client_ip="203.0.113.7")
    verified = service.check_code(phone, last_code(sms_api, PHONE), wx_code=wx.mint("o-svc", unionid="u-svc"))
    assert verified.wechat == WechatIdentity("o-svc", "u-svc")
    # The signed token says which WeChat user owns the phone.
    claims = verify_token(verified.token.token, audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, secret=TOKEN_SECRET)
    assert (claims["openid"], claims["unionid"], claims["phone_number"]) == ("o-svc", "u-svc", PHONE)


def test_login_without_wx_code_has_no_identity(redis_url, make_env, clock, sms_api, wx):
    env = make_env(redis_url, **wechat_env(wx))
    service = build_service(Settings.from_env(env), clock=time.time, env=env)  # tokens are checked at the real time
    phone = service.phone(PHONE)
    service.send_code(phone, client_ip="203.0.113.7")
    verified = service.check_code(phone, last_code(sms_api, PHONE))
    assert verified.wechat is None
    claims = verify_token(verified.token.token, audience=TOKEN_AUDIENCE, issuer=TOKEN_ISSUER, secret=TOKEN_SECRET)
    assert "openid" not in claims and "unionid" not in claims
    assert wx.requests == []


@pytest.mark.parametrize(
    ("setup", "errcode"),
    [
        ("unknown", 40029),
        ("reused", 40163),
        ("expired", 40029),
        (45011, 45011),
        (40226, 40226),
        (-1, -1),
    ],
)
def test_wechat_refusal_is_wechat_login_failed_and_keeps_the_sms_code(build, sms_api, wx, setup, errcode):
    handler = build(**wechat_env(wx))
    code = sent_code(handler, sms_api)
    wx_code = wx.mint("o-refused")
    if setup == "unknown":
        wx_code = "a-code-wechat-never-issued"
    elif setup == "reused":  # someone (a replay) exchanged it first
        WechatLogin(WechatConfig.from_env(wechat_env(wx)), timeout_seconds=2).exchange(wx_code)
    elif setup == "expired":
        wx.clock = lambda: 10**10
    else:
        wx.force_code = setup
    refused = call(handler, login(code=code, wxCode=wx_code))
    assert refused["codeStr"] == "WechatLoginFailed" and refused["_status"] == 400
    assert refused["wechatErrcode"] == errcode
    wx.force_code = None
    wx.clock = time.time
    assert call(handler, login(code=code, wxCode=wx.mint("o-refused")))["codeStr"] == "Success"


@pytest.mark.parametrize("fault", ["down", "slow", "http502", "html"])
def test_wechat_outage_is_service_unavailable_and_keeps_the_sms_code(build, sms_api, wx, fault):
    handler = build(**wechat_env(wx), SMS_TIMEOUT_SECONDS="0.3")
    code = sent_code(handler, sms_api)
    if fault == "down":
        wx.down()
    elif fault == "slow":
        wx.delay_seconds = 1.0
    elif fault == "http502":
        wx.http_status = 502
    else:
        handler = build(**{**wechat_env(wx), "WECHAT_API_ENDPOINT": wx.url + "/elsewhere"})  # 404 HTML there
    refused = call(handler, login(code=code, wxCode=wx.mint("o-outage")))
    assert refused["codeStr"] == "ServiceUnavailable" and refused["_status"] == 503
    wx.up()
    wx.delay_seconds, wx.http_status = 0, 200
    handler = build(**wechat_env(wx))
    assert call(handler, login(code=code, wxCode=wx.mint("o-outage")))["codeStr"] == "Success"


def test_bad_wx_code_shape_is_invalid_param_and_keeps_the_sms_code(build, sms_api, wx):
    handler = build(**wechat_env(wx))
    code = sent_code(handler, sms_api)
    refused = call(handler, login(code=code, wxCode="not a code"))
    assert refused["codeStr"] == "InValidParam" and "wxCode" in refused["msg"]
    assert wx.requests == []
    assert call(handler, login(code=code))["codeStr"] == "Success"


def test_without_the_settings_wx_code_is_ignored(build, sms_api, wx):
    handler = build()
    code = sent_code(handler, sms_api)
    assert call(handler, login(code=code, wxCode="not a code, and WeChat is off"))["codeStr"] == "Success"
    assert wx.requests == []


def test_half_the_settings_fail_at_start_up(build, wx):
    from smsverify.errors import ConfigError

    with pytest.raises(ConfigError, match="WECHAT_APP_SECRET"):
        build(WECHAT_APP_ID=APP_ID)


def test_no_secret_session_key_or_openid_in_logs_or_bodies(build, sms_api, wx, capfd):
    with capture_all_logs(sdk_debug=True) as dump:
        handler = build(**wechat_env(wx))
        code = sent_code(handler, sms_api)
        wx.force_code = 45011
        bodies = [call(handler, login(code=code, wxCode=wx.mint("o-private")))]
        wx.force_code = None
        wx.down()
        bodies.append(call(handler, login(code=code, wxCode=wx.mint("o-private"))))
        wx.up()
        bodies.append(call(handler, login(code=code, wxCode=wx.mint("o-private", unionid="u-private"))))
    assert [b["codeStr"] for b in bodies] == ["WechatLoginFailed", "ServiceUnavailable", "Success"]
    out, err = capfd.readouterr()
    text = "\n".join(chunk for _, chunk in dump.chunks) + out + err + json.dumps(bodies)
    assert wx.session_keys, "the emulator answered a session_key"
    for secret in [APP_SECRET, "secret=", "o-private", "u-private", *wx.session_keys]:
        assert secret not in text
    assert "wechatErrcode" in text  # the capture works: the refusal is logged with its errcode


@pytest.mark.parametrize(
    ("fault", "expected", "redis_commands"),
    [(None, "Success", ["evalsha", "evalsha"]), ("refused", "WechatLoginFailed", ["evalsha"]),
     ("down", "ServiceUnavailable", ["evalsha"])],
)
def test_exact_counts_one_wechat_call_only_after_the_sms_code_is_known_right(
    build, redis_server, sms_api, wx, fault, expected, redis_commands
):
    """The code is checked first without being consumed (one EVALSHA), the wxCode exchanged only when the
    code is right, and the code consumed (a second EVALSHA) only once WeChat said yes."""
    from tests.support import RoundTripCounter

    handler = build(**wechat_env(wx))
    code = sent_code(handler, sms_api)
    # Warm the container (check script loaded); the code stays live (attemptsLeft 2) and a mistyped
    # code never reaches WeChat, so its wxCode is not spent.
    wrong_code = "000000" if code != "000000" else "111111"
    assert call(handler, login(code=wrong_code, wxCode=wx.mint("o-warm")))["codeStr"] == "CodeIsError"
    assert wx.requests == []
    wx_code = wx.mint("o-count")
    if fault == "refused":
        wx.force_code = 45011
    if fault == "down":
        wx.down()
    counter = RoundTripCounter(redis_server.url)
    try:
        traffic = counter.during(lambda: call(handler, login(code=code, wxCode=wx_code)))
    finally:
        counter.close()
    assert traffic.result["codeStr"] == expected
    assert traffic.refused == 0 and traffic.commands == redis_commands
    assert len(wx.requests) == (0 if fault == "down" else 1)
