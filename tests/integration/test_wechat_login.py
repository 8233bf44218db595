"""WechatLogin against the jscode2session emulator: identities, errcodes, faults, no leaks."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest

from smsverify.integrations.wechat import InvalidWxCode, WechatConfig, WechatIdentity, WechatLogin, WechatRejected, WechatUnavailable
from tests.support import WECHAT_APP_ID, WECHAT_APP_SECRET

APP_ID, APP_SECRET = WECHAT_APP_ID, WECHAT_APP_SECRET  # the shared emulator fixture `wx` (conftest)


def login_for(url: str, secret: str = APP_SECRET, timeout: float = 2.0) -> WechatLogin:
    return WechatLogin(WechatConfig(APP_ID, secret, url), timeout_seconds=timeout)


def leaked(exc: BaseException, *values: str) -> list[str]:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + repr(exc)
    return [v for v in values if v in text]


def test_exchange_gives_openid_and_unionid_never_the_session_key(wx):
    login = login_for(wx.url)
    identity = login.exchange(wx.mint("o-abc", unionid="u-abc"))
    assert identity == WechatIdentity("o-abc", "u-abc")
    assert identity == WechatIdentity(openid="o-abc", unionid="u-abc")
    assert login.exchange(wx.mint("o-def")) == WechatIdentity("o-def", None)
    assert len(wx.session_keys) == 2
    assert not any(key in repr(vars(login)) or key in repr(identity) for key in wx.session_keys)


def test_one_session_reused_without_proxies_from_the_environment(wx):
    login = login_for(wx.url)
    login.exchange(wx.mint("o-1"))
    session = login._session
    login.exchange(wx.mint("o-2"))
    assert login._session is session and session.trust_env is False


def test_legacy_errcode_zero_is_success(wx):
    wx.legacy_errcode = True
    assert login_for(wx.url).exchange(wx.mint("o-legacy")).openid == "o-legacy"


@pytest.mark.parametrize("errcode", [45011, 40226, -1])
def test_forced_errcodes_are_rejections(wx, errcode):
    wx.force_code = errcode
    with pytest.raises(WechatRejected) as caught:
        login_for(wx.url).exchange(wx.mint("o-x"))
    assert caught.value.errcode == errcode
    assert leaked(caught.value, APP_SECRET) == []


def test_reused_unknown_and_wrong_secret(wx):
    login = login_for(wx.url)
    code = wx.mint("o-once")
    login.exchange(code)
    with pytest.raises(WechatRejected) as reused:
        login.exchange(code)
    assert reused.value.errcode == 40163
    with pytest.raises(WechatRejected) as unknown:
        login.exchange("never-minted-code")
    assert unknown.value.errcode == 40029
    with pytest.raises(WechatRejected) as bad_secret:
        login_for(wx.url, secret="not-the-secret").exchange(wx.mint("o-y"))  # pragma: allowlist secret
    assert bad_secret.value.errcode == 40125


def test_bad_code_shape_never_reaches_wechat(wx):
    with pytest.raises(InvalidWxCode):
        login_for(wx.url).exchange("a b")
    assert wx.requests == []


def test_slow_wechat_is_unavailable_without_the_secret(wx):
    wx.delay_seconds = 1.0
    with pytest.raises(WechatUnavailable) as caught:
        login_for(wx.url, timeout=0.2).exchange(wx.mint("o-slow"))
    assert "timeout" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert leaked(caught.value, APP_SECRET, "secret=") == []


def test_refused_connection_is_unavailable_without_the_secret(wx):
    wx.down()
    with pytest.raises(WechatUnavailable) as caught:
        login_for(wx.url).exchange("some-code")
    assert caught.value.__context__ is None
    assert leaked(caught.value, APP_SECRET, "secret=", "jscode2session?") == []


def test_closed_port_is_unavailable_without_the_secret():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WechatUnavailable) as caught:
        login_for(f"http://127.0.0.1:{port}").exchange("some-code")
    assert leaked(caught.value, APP_SECRET) == []


@pytest.mark.parametrize("status", [500, 502, 503, 404])
def test_http_errors_are_unavailable(wx, status):
    wx.http_status = status
    with pytest.raises(WechatUnavailable, match=f"HTTP {status}"):
        login_for(wx.url).exchange(wx.mint("o-z"))


def test_non_json_and_openid_less_answers_are_unavailable(wx):
    login = login_for(wx.url + "/not-wechat")  # the emulator answers 404 HTML on another path
    with pytest.raises(WechatUnavailable):
        login.exchange("code")
    from smsverify.integrations.wechat import _identity

    for body in (b"<html>", b"[]", b'{"errcode": "x"}', b'{"session_key": "k"}', b"\xff"):
        with pytest.raises(WechatUnavailable):
            _identity(body)


def test_no_secret_or_session_key_in_logs_even_at_debug(wx, caplog):
    caplog.set_level(logging.DEBUG)
    login = login_for(wx.url)
    login.exchange(wx.mint("o-log", unionid="u-log"))
    wx.force_code = 40226
    with pytest.raises(WechatRejected):
        login.exchange(wx.mint("o-log"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert APP_SECRET not in text and "secret=" not in text
    assert not any(key in text for key in wx.session_keys)
