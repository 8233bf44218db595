"""WeChat mini-program login: exchange a ``wx.login`` code for the user's ``openid``.

WeChat's "auth.code2Session" (小程序登录,
https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html):
a server calls ``GET {endpoint}/sns/jscode2session?appid=APPID&secret=SECRET&
js_code=JSCODE&grant_type=authorization_code`` and WeChat answers JSON, either
``{"openid", "session_key", ["unionid"]}`` (since late 2020 often with no
``errcode`` at all, older answers carry ``"errcode": 0``) or ``{"errcode": N,
"errmsg": "..."}``. A code is valid about 5 minutes and can be exchanged once.
Documented errcodes: -1 system busy, 40029 invalid code, 45011 frequency limit
(100 calls per user per minute), 40226 high-risk user; seen in the wild:
40163 code already used, 40013 invalid appid.

What this module promises:

* ``session_key`` never leaves it: it is not returned, stored or logged
  (WeChat's docs: the developer server must not expose it);
* the AppSecret travels in the query string (WeChat's choice), so no message
  of an exception raised here quotes the URL, and no ``requests`` exception is
  chained to one (their messages quote the URL); urllib3's DEBUG line with
  the request line is silenced on first use for the same reason;
* ``requests`` is imported on the first exchange only (the getSms path never
  loads it); one ``requests.Session`` per :class:`WechatLogin`, i.e. per warm
  container, with ``trust_env = False`` (no proxy from the environment) and no
  redirects followed.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from smsverify.settings.env import note
from smsverify.errors import ConfigError

__all__ = [
    "DEFAULT_ENDPOINT",
    "MAX_WX_CODE_LENGTH",
    "InvalidWxCode",
    "WechatConfig",
    "WechatIdentity",
    "WechatLogin",
    "WechatRejected",
    "WechatUnavailable",
    "check_wx_code",
]

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"
PATH = "/sns/jscode2session"
#: Longest ``wx.login`` code accepted (real ones are 32 characters).
MAX_WX_CODE_LENGTH = 128
#: errcode of a code exchanged twice (community reports; 40029 for others).
CODE_USED = 40163


class InvalidWxCode(ValueError):
    """``wx_code`` is empty, longer than :data:`MAX_WX_CODE_LENGTH` or not printable ASCII
    (no space); WeChat is not asked."""


class WechatRejected(Exception):
    """WeChat answered ``errcode`` != 0 (e.g. 40029, 40163, 45011, 40226, -1).

    ``errcode`` is WeChat's int; ``errmsg`` its text, cut to 200 characters,
    for logs only.
    """

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"jscode2session errcode {errcode}")
        self.errcode = errcode
        self.errmsg = errmsg[:200]


class WechatUnavailable(Exception):
    """WeChat could not be asked or gave no usable answer: connection refused or
    dropped, timeout, an HTTP status other than 200, a body that is not a JSON
    object, or a success without ``openid``. The message names the kind only."""


@dataclass(frozen=True)
class WechatIdentity:
    """Who the ``wx.login`` code belongs to."""

    openid: str  #: the user within this mini-program
    unionid: str | None = None  #: the user across one Open Platform account's apps, when bound


def check_wx_code(wx_code: str) -> str:
    """Return ``wx_code`` when it has the shape of a ``wx.login`` code; raise :class:`InvalidWxCode`."""
    if (
        not isinstance(wx_code, str)
        or not 0 < len(wx_code) <= MAX_WX_CODE_LENGTH
        or not all("!" <= ch <= "~" for ch in wx_code)
    ):
        raise InvalidWxCode("wxCode must be 1 to 128 printable ASCII characters without spaces")
    return wx_code


def _endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("WECHAT_API_ENDPOINT", "must be an http(s) URL such as https://api.weixin.qq.com")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ConfigError("WECHAT_API_ENDPOINT", "must not carry credentials, a query or a fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError("WECHAT_API_ENDPOINT", "has an invalid port") from None
    return value.rstrip("/")


@dataclass(frozen=True)
class WechatConfig:
    """The mini-program's credentials and WeChat's API base.

    Environment variables: ``WECHAT_APP_ID`` (the mini-program's AppID),
    ``WECHAT_APP_SECRET`` (its AppSecret), ``WECHAT_API_ENDPOINT`` (default
    ``https://api.weixin.qq.com``; tests point it at an emulator).
    ``repr()`` never shows the secret.
    """

    app_id: str
    app_secret: str = field(repr=False)
    endpoint: str = DEFAULT_ENDPOINT

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "WechatConfig | None":
        """The config, or ``None`` when neither ``WECHAT_APP_ID`` nor ``WECHAT_APP_SECRET`` is set.

        Raises
        ------
        ConfigError
            Naming every bad variable in ``.problems``: only one of the two
            is set (names the missing one), either holds whitespace or a
            non-printable character after its surrounding spaces are
            stripped, or is over 128 characters, or ``WECHAT_API_ENDPOINT``
            is not an http(s) URL without credentials, query or fragment.
        """
        from smsverify.settings.env import EnvReader

        app_id = (env.get("WECHAT_APP_ID") or "").strip()
        secret = (env.get("WECHAT_APP_SECRET") or "").strip()
        if not app_id and not secret:
            return None
        reader = EnvReader(env)  # every bad WECHAT_* variable in one ConfigError
        if not app_id:
            reader.problem("WECHAT_APP_ID", "is required when WECHAT_APP_SECRET is set")
        if not secret:
            reader.problem("WECHAT_APP_SECRET", "is required when WECHAT_APP_ID is set")
        for name, value in (("WECHAT_APP_ID", app_id), ("WECHAT_APP_SECRET", secret)):
            if len(value) > 128 or any(ch.isspace() or not ch.isprintable() for ch in value):
                reader.problem(name, "must be at most 128 printable characters without spaces")
        note(env, "WECHAT_API_ENDPOINT", "url", DEFAULT_ENDPOINT)
        endpoint = reader.attempt(lambda: _endpoint((env.get("WECHAT_API_ENDPOINT") or "").strip() or DEFAULT_ENDPOINT))
        reader.raise_problems()
        return cls(app_id=app_id, app_secret=secret, endpoint=endpoint)


class WechatLogin:
    """Exchanges ``wx.login`` codes at ``jscode2session``; one per warm container.

    Parameters
    ----------
    config:
        From :meth:`WechatConfig.from_env`.
    timeout_seconds:
        Connect and read timeout of each call, in seconds.
    """

    def __init__(self, config: WechatConfig, timeout_seconds: float) -> None:
        self.config = config
        self.timeout_seconds = timeout_seconds
        self._session: Any = None
        self._lock = threading.Lock()

    def _requests_session(self) -> Any:
        with self._lock:
            if self._session is None:
                import requests

                # urllib3 logs "GET /sns/jscode2session?appid=...&secret=..." at DEBUG.
                logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
                session = requests.Session()
                session.trust_env = False  # no proxy from the environment sees the secret
                self._session = session
            return self._session

    def exchange(self, wx_code: str) -> WechatIdentity:
        """Exchange ``wx_code`` (from ``wx.login``) for the user's identity.

        Returns
        -------
        WechatIdentity
            ``openid``, and ``unionid`` when WeChat gave one.

        Raises
        ------
        InvalidWxCode
            ``wx_code`` has not the shape of a code (WeChat is not asked).
        WechatRejected
            WeChat answered an ``errcode`` other than 0.
        WechatUnavailable
            Transport failure, timeout, non-200 status, unusable body.
        """
        check_wx_code(wx_code)
        session = self._requests_session()
        import requests

        params = {
            "appid": self.config.app_id,
            "secret": self.config.app_secret,
            "js_code": wx_code,
            "grant_type": "authorization_code",
        }
        failure: str | None = None
        try:
            response = session.get(
                self.config.endpoint + PATH, params=params, timeout=self.timeout_seconds, allow_redirects=False
            )
            status, content = response.status_code, response.content
        except requests.Timeout:
            failure = "timeout"
        except requests.RequestException as exc:
            failure = type(exc).__name__  # never str(exc): it quotes the URL with the secret
        if failure is not None:  # raised outside the except block: no chained exception quotes the URL
            raise WechatUnavailable(f"jscode2session unreachable: {failure}")
        if status != 200:
            raise WechatUnavailable(f"jscode2session answered HTTP {status}")
        return _identity(content)


def _identity(content: bytes) -> WechatIdentity:
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise WechatUnavailable("jscode2session answered a body that is not a JSON object")
    errcode = data.get("errcode", 0)
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        raise WechatUnavailable("jscode2session answered a non-integer errcode")
    if errcode != 0:
        errmsg = data.get("errmsg")
        raise WechatRejected(errcode, errmsg if isinstance(errmsg, str) else "")
    openid, unionid = data.get("openid"), data.get("unionid")
    # session_key is deliberately not read.
    if not isinstance(openid, str) or not openid:
        raise WechatUnavailable("jscode2session answered success without an openid")
    return WechatIdentity(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)
