"""The SCF entry: Tencent event -> serverless-wsgi -> WSGI app -> integration response."""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Mapping

import serverless_wsgi

from smsverify import errors
from smsverify.bootstrap import build_service
from smsverify.config import Settings
from smsverify.edge.app import create_app
from smsverify.edge.event import MalformedEvent, request_id_of, to_wsgi_event
from smsverify.edge.responses import body, error_body, integration_response
from smsverify.observability import configure_logging, log_invocation
from smsverify.service.clock import Clock

log = logging.getLogger("smsverify")

Handler = Callable[[Any, Any], dict]


def handle_event(app: Callable, event: Any, context: Any) -> dict:
    """Answer one event with an integration response; never raises.

    Returns ``{"isBase64Encoded": False, "statusCode": int, "headers":
    {str: str}, "body": str (JSON)}``.
    """
    started = time.perf_counter()
    request_id = request_id_of(event, context)
    try:
        wsgi_event = to_wsgi_event(event, request_id)
    except MalformedEvent as exc:
        log_invocation(requestId=request_id, codeStr="InValidParam", reason=str(exc),
                       durationMs=round((time.perf_counter() - started) * 1000, 2))
        return integration_response(error_body(errors.InvalidParam(f"请求格式错误：{exc}"), request_id))
    try:
        answer = serverless_wsgi.handle_request(app, wsgi_event, context)
    except Exception:  # a defect of ours; the app itself catches everything it knows
        log.exception("unexpected error", extra={"fields": {"requestId": request_id}})
        return integration_response(body("InternalError", "服务内部错误", request_id))
    return {
        "isBase64Encoded": False,
        "statusCode": answer["statusCode"],
        "headers": dict(answer.get("headers") or {}),
        "body": answer.get("body", ""),
    }


def create_handler(env: Mapping[str, str] | None = None, *, clock: Clock = time.time) -> Handler:
    """Build the container's service once and return ``main_handler(event, context)``.

    Raises
    ------
    ConfigError
        At start-up, naming the missing or malformed variable.
    """
    configure_logging()
    env = os.environ if env is None else env
    settings = Settings.from_env(env)
    wechat = None
    if env.get("WECHAT_APP_ID") or env.get("WECHAT_APP_SECRET"):  # else smsverify.wechat is never imported
        from smsverify.wechat import WechatConfig

        wechat = WechatConfig.from_env(env)
    app = create_app(build_service(settings, clock=clock, wechat=wechat))

    def main_handler(event: Any, context: Any) -> dict:
        return handle_event(app, event, context)

    main_handler.app = app  # type: ignore[attr-defined]  # for `serve` and tests
    return main_handler
