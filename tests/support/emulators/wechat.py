"""Local emulator of WeChat's ``jscode2session`` (mini-program login, "auth.code2Session").

Facts: WeChat Open Platform, "auth.code2Session" / "小程序登录"
(https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html)
and community threads on errcode 40029. Where they are silent this module
says "CHOICE".

Point ``WECHAT_API_ENDPOINT`` at :attr:`WechatEmulator.url`. Served::

    GET /sns/jscode2session?appid=&secret=&js_code=&grant_type=authorization_code

Another path: HTTP 404. Parameters are read from the query string only, so a
POST with a body gets 41008 "missing code" like the real service (community
reports). Checked in this order, after the common knobs of ``_http.py``
(``delay_seconds``: slow mode; ``http_status``: a gateway error; ``down()`` /
``up()``: refused connections):

1. ``appid`` missing -> 41002, not the configured one -> 40013;
2. ``secret`` missing -> 41004, wrong -> 40125 (CHOICE: WeChat's "invalid appsecret");
3. ``grant_type`` other than ``authorization_code`` -> 40002 (CHOICE: "invalid grant_type");
4. ``js_code`` missing -> 41008;
5. ``force_code`` (knob: 45011 frequency limit, 40226 high-risk user, -1 busy, ...)
   -> that errcode; the code is NOT used up (CHOICE);
6. a code never minted -> 40029; minted more than :data:`CODE_TTL_SECONDS`
   ago by :attr:`clock` -> 40029 (the docs: "invalid code" covers expired);
   already exchanged -> 40163 (CHOICE: community-reported "code been used";
   the docs fold it into 40029).

Success (the modern shape, no ``errcode``; ``legacy_errcode = True`` adds
``"errcode": 0``): ``{"session_key", "openid"[, "unionid"]}``. Errors:
``{"errcode": N, "errmsg": "... rid: ..."}``. All with HTTP 200
``text/plain`` (CHOICE: WeChat's API answers JSON with that content type).

:meth:`WechatEmulator.mint` plays ``wx.login``: it issues a fresh one-time
code for an ``openid`` (and ``unionid``). :attr:`session_keys` keeps every
``session_key`` answered so tests can prove none of them leaks; the
``requests`` records hold parameter names only, never the secret.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from tests.support.emulators._http import Answer, ProviderEmulator, Request

__all__ = ["CODE_TTL_SECONDS", "ERRMSG", "WechatEmulator"]

#: A ``wx.login`` code lives about 5 minutes.
CODE_TTL_SECONDS = 300

ERRMSG = {
    -1: "system error",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "high risk user",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    45011: "api minute-quota reach limit mustslower retry next minute",
}


class WechatEmulator(ProviderEmulator):
    """``jscode2session`` for one mini-program (``app_id`` / ``app_secret``)."""

    provider = "wechat"

    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self._codes: dict[str, dict[str, Any]] = {}
        self.session_keys: list[str] = []
        super().__init__(daily_limit=0)

    def _set_default_knobs(self) -> None:
        super()._set_default_knobs()
        self.legacy_errcode = False

    def _reset_provider_state(self) -> None:
        self._codes.clear()
        self.session_keys.clear()

    # ------------------------------------------------------------------ wx.login
    def mint(self, openid: str, unionid: str | None = None) -> str:
        """A new one-time code for ``openid`` (and ``unionid``), as ``wx.login`` gives one."""
        code = secrets.token_urlsafe(24)[:32]
        with self._lock:
            self._codes[code] = {"openid": openid, "unionid": unionid, "minted": self.clock(), "used": False}
        return code

    def used(self, code: str) -> bool:
        """Whether ``code`` was exchanged successfully."""
        with self._lock:
            return bool(self._codes.get(code, {}).get("used"))

    # ------------------------------------------------------------------ dispatch
    @staticmethod
    def _error(errcode: int) -> Answer:
        rid = secrets.token_hex(4) + "-" + secrets.token_hex(6)
        return Answer.json({"errcode": errcode, "errmsg": f"{ERRMSG.get(errcode, 'error')}, rid: {rid}"},
                           errcode, content_type="text/plain")

    def _dispatch(self, request: Request) -> Answer:
        if request.path != "/sns/jscode2session":
            return Answer.http_error(404)
        query = request.query
        if not query.get("appid"):
            return self._error(41002)
        if query["appid"] != self.app_id:
            return self._error(40013)
        if not query.get("secret"):
            return self._error(41004)
        if not secrets.compare_digest(query["secret"].encode(), self.app_secret.encode()):
            return self._error(40125)
        if query.get("grant_type") != "authorization_code":
            return self._error(40002)
        code = query.get("js_code")
        if not code:
            return self._error(41008)
        if self.force_code is not None:
            return self._error(int(self.force_code))
        with self._lock:
            entry = self._codes.get(code)
            if entry is None or self.clock() - entry["minted"] > CODE_TTL_SECONDS:
                return self._error(40029)
            if entry["used"]:
                return self._error(40163)
            entry["used"] = True
            session_key = base64.b64encode(secrets.token_bytes(16)).decode("ascii")
            self.session_keys.append(session_key)
        payload: dict[str, Any] = {"session_key": session_key, "openid": entry["openid"]}
        if entry["unionid"]:
            payload["unionid"] = entry["unionid"]
        if self.legacy_errcode:
            payload = {"errcode": 0, "errmsg": "ok", **payload}
        return Answer.json(payload, 0, content_type="text/plain")
