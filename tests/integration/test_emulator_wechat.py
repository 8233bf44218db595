"""The jscode2session emulator behaves as WeChat's "auth.code2Session" page says."""

from __future__ import annotations

import pytest
import requests

from tests.support import WECHAT_APP_ID, WECHAT_APP_SECRET, FakeClock
from tests.support.emulators.wechat import CODE_TTL_SECONDS, WechatEmulator

APP_ID, APP_SECRET = WECHAT_APP_ID, WECHAT_APP_SECRET  # the shared emulator fixture `wx` (conftest)


def ask(emu: WechatEmulator, method: str = "GET", **overrides):
    params = {"appid": APP_ID, "secret": APP_SECRET, "js_code": "x", "grant_type": "authorization_code"}
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    return requests.request(method, emu.url + "/sns/jscode2session", params=params, timeout=5)


def test_a_minted_code_gives_openid_and_session_key_once(wx):
    code = wx.mint("o-user-1", unionid="u-user-1")
    first = ask(wx, js_code=code)
    assert first.status_code == 200
    body = first.json()
    assert body["openid"] == "o-user-1" and body["unionid"] == "u-user-1"
    assert body["session_key"] == wx.session_keys[-1]
    assert "errcode" not in body
    assert wx.used(code)
    assert ask(wx, js_code=code).json()["errcode"] == 40163


def test_no_unionid_unless_bound_and_legacy_errcode_zero(wx):
    wx.legacy_errcode = True
    body = ask(wx, js_code=wx.mint("o-2")).json()
    assert body["errcode"] == 0 and "unionid" not in body and body["openid"] == "o-2"


def test_codes_expire_after_five_minutes(wx):
    clock = FakeClock()
    wx.clock = clock
    fresh, stale = wx.mint("o-3"), wx.mint("o-4")
    clock.advance(CODE_TTL_SECONDS)
    assert ask(wx, js_code=fresh).json()["openid"] == "o-3"
    clock.advance(1)
    assert ask(wx, js_code=stale).json()["errcode"] == 40029


@pytest.mark.parametrize(
    ("overrides", "errcode"),
    [
        ({"appid": None}, 41002),
        ({"appid": "wx-other"}, 40013),
        ({"secret": None}, 41004),
        ({"secret": "wrong"}, 40125),  # pragma: allowlist secret
        ({"grant_type": "client_credential"}, 40002),
        ({"js_code": None}, 41008),
        ({"js_code": "never-minted"}, 40029),
    ],
)
def test_bad_requests_get_the_documented_errcode(wx, overrides, errcode):
    body = ask(wx, **overrides).json()
    assert body["errcode"] == errcode and "rid:" in body["errmsg"]
    assert wx.session_keys == []


def test_a_post_with_a_body_misses_the_code(wx):
    code = wx.mint("o-5")
    answer = requests.post(wx.url + "/sns/jscode2session", timeout=5, data={
        "appid": APP_ID, "secret": APP_SECRET, "js_code": code, "grant_type": "authorization_code",
    })
    assert answer.json()["errcode"] == 41002  # nothing read from the body, appid first
    assert not wx.used(code)


@pytest.mark.parametrize("errcode", [45011, 40226, -1])
def test_forced_errcodes_do_not_use_the_code(wx, errcode):
    code = wx.mint("o-6")
    wx.force_code = errcode
    assert ask(wx, js_code=code).json()["errcode"] == errcode
    wx.force_code = None
    assert ask(wx, js_code=code).json()["openid"] == "o-6"


def test_other_path_is_404_and_http_status_knob(wx):
    assert requests.get(wx.url + "/sns/other", timeout=5).status_code == 404
    wx.http_status = 502
    assert ask(wx).status_code == 502


def test_slow_and_down_modes(wx):
    wx.delay_seconds = 0.5
    with pytest.raises(requests.Timeout):
        requests.get(wx.url + "/sns/jscode2session", params={"js_code": "x"}, timeout=0.1)
    wx.delay_seconds = 0
    wx.down()
    with pytest.raises(requests.ConnectionError):
        ask(wx)
    wx.up()
    assert ask(wx).json()["errcode"] == 40029


def test_records_hold_names_never_the_secret(wx):
    ask(wx, js_code=wx.mint("o-8"))
    assert wx.requests[-1]["fields"] == ["appid", "grant_type", "js_code", "secret"]
    assert APP_SECRET not in repr(wx.requests)
    assert wx.internal_errors == []
