"""The SCF entry: Tencent event -> checks -> serverless-wsgi -> WSGI app -> integration response.

Every request takes this one path, in SCF and under ``python -m smsverify
serve`` (which turns each HTTP request into the event API Gateway would
send). Here, in order: the request fields for the logs, CORS (``Origin``
against ``ALLOWED_ORIGINS``, preflights), the JWKS route, the event checks,
the protocol (through serverless-wsgi and the app), and one invocation line.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

import serverless_wsgi

from smsverify import errors
from smsverify.bootstrap import build_service, read_token_config, read_wechat_config
from smsverify.settings.config import Settings
from smsverify.settings.env import EnvReader
from smsverify.edge import messages
from smsverify.edge.app import create_app
from smsverify.edge.event import MalformedEvent, request_id_of, to_wsgi_event
from smsverify.edge.receipts import Receipts, ReceiptSettings
from smsverify.edge.responses import JSON_CONTENT_TYPE, body, error_body, integration_response, json_text
from smsverify.edge.settings import CORS_HEADERS, CORS_MAX_AGE_SECONDS, CORS_METHODS, EdgeSettings
from smsverify.observability import REQUEST_FIELDS, configure_logging, log_invocation
from smsverify.clock import Clock

if TYPE_CHECKING:  # loaded only where used
    from smsverify.tokens import TokenConfig
    from smsverify.integrations.wechat import WechatConfig

log = logging.getLogger("smsverify")

Handler = Callable[[Any, Any], dict]
#: Answers the JWKS route: ``{"keys": [...]}`` (RFC 7517), public parts only.
Jwks = Callable[[], dict]

JWKS_PATH_SUFFIX = "/.well-known/jwks.json"
JWKS_CACHE_CONTROL = "public, max-age=300"


def no_jwks() -> dict:
    """The JWKS route when no token keys are wired in.

    Raises
    ------
    errors.InvalidParam
        Always.
    """
    raise errors.InvalidParam("no token keys configured")


def _header(headers: Any, name: str) -> Any:
    """A header of the event, by its lower-case or its canonical name (the gateways send either)."""
    if not isinstance(headers, dict):
        return None
    value = headers.get(name)
    return headers.get(name.title()) if value is None else value


def _origin_of(headers: Any) -> Any:
    return _header(headers, "origin")


#: ``Sec-Fetch-Site`` values of a request another site started (W3C "Fetch Metadata
#: Request Headers", https://www.w3.org/TR/fetch-metadata/; OWASP Cheat Sheet
#: "Cross-Site Request Forgery Prevention", resource isolation policy): a browser
#: sends them on every request, an <img> or a no-cors fetch included, which
#: carry no ``Origin`` header; mini-programs, servers and curl send no such header.
CROSS_SITE = frozenset({"cross-site", "same-site"})


def _event_language(event: Any, default: str) -> str:
    """The language of an answer given before the app reads the request (a refused origin, a
    malformed event, a defect): the event's query ``lang`` and ``Accept-Language`` header, read leniently."""
    if not isinstance(event, dict):
        return default
    query, headers = event.get("queryString"), event.get("headers")
    lang = query.get("lang") if isinstance(query, dict) else None
    if isinstance(lang, list):
        lang = lang[0] if lang else None
    accept = None
    if isinstance(headers, dict):
        accept = next((value for key, value in headers.items()
                       if isinstance(key, str) and key.lower() == "accept-language"), None)
    return messages.choose(lang, accept, default)


def _is_jwks(event: dict) -> bool:
    path = event.get("path")
    if isinstance(path, str) and path.endswith(JWKS_PATH_SUFFIX):
        return True
    query = event.get("queryString")
    method = event.get("httpMethod", "GET")
    return (isinstance(query, dict) and query.get("method") == "jwks"
            and isinstance(method, str) and method.upper() == "GET")


def _jwks_response(jwks: Jwks, request_id: str) -> dict:
    try:
        keys = jwks()
    except errors.VerificationError as exc:
        return integration_response(error_body(exc, request_id))
    return {
        "isBase64Encoded": False,
        "statusCode": 200,
        "headers": {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": JWKS_CACHE_CONTROL},
        "body": json_text(keys),
    }


def _preflight(cors: dict[str, str]) -> dict:
    return {
        "isBase64Encoded": False,
        "statusCode": 204,
        "headers": {**cors, "Access-Control-Allow-Methods": CORS_METHODS, "Access-Control-Allow-Headers": CORS_HEADERS,
                    "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS)},
        "body": "",
    }


def _dispatch(app: Callable, event: Any, context: Any, edge: EdgeSettings, jwks: Jwks,
              fields: dict[str, Any], receipts: Receipts | None = None) -> tuple[dict, bool]:
    """The integration response and whether it gets an invocation line."""
    request_id = fields["requestId"]
    cors: dict[str, str] = {}
    if edge.allowed_origins and isinstance(event, dict):
        # Every answer depends on Origin once ALLOWED_ORIGINS is set: caches must key on it.
        cors = {"Vary": "Origin"}
        headers = event.get("headers")
        origin = _origin_of(headers)
        site = _header(headers, "sec-fetch-site")
        cross_site = isinstance(site, str) and site.strip().lower() in CROSS_SITE
        if (origin is not None or cross_site) and origin not in edge.allowed_origins:
            # A cross-site request without an allowed Origin (an <img>, a form, a no-cors
            # fetch of another site's page) runs nothing.
            fields["origin"] = str(origin)[:128] if origin is not None else f"<none; Sec-Fetch-Site: {str(site)[:32]}>"
            refused_body = messages.localise(error_body(errors.OriginNotAllowed(), request_id),
                                             _event_language(event, edge.default_language))
            refused = integration_response(refused_body)
            refused["headers"].update(cors)
            return refused, True
        if origin is not None:
            cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            method = event.get("httpMethod")
            if isinstance(method, str) and method.upper() == "OPTIONS":
                return _preflight(cors), False
    try:
        receipt = receipts.route(event, fields) if receipts is not None else None
        if receipt is not None:  # a delivery receipt, a refused receipt path or the pull timer
            response, logged = receipt, True
        elif isinstance(event, dict) and _is_jwks(event):
            response, logged = _jwks_response(jwks, request_id), False
        else:
            wsgi_event = to_wsgi_event(event, request_id)
            ip = wsgi_event["requestContext"]["identity"]["sourceIp"]
            if ip:
                fields["ip"] = ip
            answer = serverless_wsgi.handle_request(app, wsgi_event, context)
            response, logged = {
                "isBase64Encoded": False,
                "statusCode": answer["statusCode"],
                "headers": dict(answer.get("headers") or {}),
                "body": answer.get("body", ""),
            }, True
    except MalformedEvent as exc:
        fields["codeStr"], fields["reason"] = "InValidParam", str(exc)
        malformed = error_body(errors.InvalidParam(f"请求格式错误：{exc}"), request_id)
        response, logged = integration_response(messages.localise(malformed, _event_language(event, edge.default_language))), True
    except Exception:  # a defect of ours; the app itself catches everything it knows
        log.exception("unexpected error")
        fields["codeStr"] = "InternalError"
        failed = body("InternalError", "服务内部错误", request_id)
        response, logged = integration_response(messages.localise(failed, _event_language(event, edge.default_language))), True
    if cors:
        response["headers"].update(cors)
    return response, logged


def handle_event(app: Callable, event: Any, context: Any, *, edge: EdgeSettings | None = None,
                 jwks: Jwks = no_jwks, receipts: Receipts | None = None) -> dict:
    """Answer one event with an integration response; never raises.

    Parameters
    ----------
    app:
        The WSGI app of :func:`smsverify.edge.app.create_app`.
    event, context:
        As SCF passes them (an API Gateway or Function URL event, see
        :mod:`smsverify.edge.event`).
    edge:
        CORS settings and the default language of ``msg``; default: CORS off, ``zh-CN``.
        An answer given before the app reads the request (``OriginNotAllowed``, a
        malformed event, ``InternalError``) takes its language from the event's
        query ``lang`` and ``Accept-Language`` header.
    jwks:
        Answers ``GET ?method=jwks`` and any path ending in
        ``/.well-known/jwks.json`` (served with ``Cache-Control: public,
        max-age=300``, no Redis, no invocation line). Default: ``InValidParam``.
    receipts:
        Answers delivery receipts on ``RECEIPT_PATH`` and the pull timer's
        events (:class:`smsverify.edge.receipts.Receipts`); default: none.

    Returns
    -------
    dict
        ``{"isBase64Encoded": False, "statusCode": int, "headers": {str: str},
        "body": str}`` (JSON, or empty for a 204 preflight).
    """
    started = time.perf_counter()
    fields: dict[str, Any] = {"requestId": request_id_of(event, context)}
    token = REQUEST_FIELDS.set(fields)
    try:
        response, logged = _dispatch(app, event, context, edge or EdgeSettings(), jwks, fields, receipts)
        if logged:
            log_invocation(durationMs=round((time.perf_counter() - started) * 1000, 2))
        return response
    finally:
        REQUEST_FIELDS.reset(token)


@dataclass(frozen=True)
class Configuration:
    """Every settings group the function reads at start-up (:func:`read_configuration`)."""

    settings: Settings  #: the service's (:meth:`Settings.from_env`)
    edge: EdgeSettings  #: CORS (``ALLOWED_ORIGINS``), the default language (``DEFAULT_LANGUAGE``)
    token: TokenConfig  #: login tokens (``TOKEN_*``)
    wechat: WechatConfig | None  #: WeChat login (``WECHAT_*``), ``None`` when off
    receipts: ReceiptSettings = ReceiptSettings()  #: delivery receipts (``RECEIPT_*``)


def read_configuration(env: Mapping[str, str]) -> Configuration:
    """Read every settings group of the function from ``env``.

    Raises
    ------
    ConfigError
        Every missing or malformed variable of every group in ``.problems``,
        in the order above; ``.variable`` is the first.
    """
    reader = EnvReader(env)
    settings = reader.attempt(lambda: Settings.from_env(env))
    edge = reader.attempt(lambda: EdgeSettings.from_env(env))
    token = reader.attempt(lambda: read_token_config(env))
    wechat = reader.attempt(lambda: read_wechat_config(env))
    receipts = reader.attempt(lambda: ReceiptSettings.from_env(env))
    reader.raise_problems()
    return Configuration(settings=settings, edge=edge, token=token, wechat=wechat, receipts=receipts)


def create_handler(env: Mapping[str, str] | None = None, *, clock: Clock = time.time, jwks: Jwks | None = None) -> Handler:
    """Build the container's service once and return ``main_handler(event, context)``.

    ``jwks`` answers the JWKS route (see :func:`handle_event`); by default
    the service's token keys (:meth:`VerificationService.jwks`).

    Raises
    ------
    ConfigError
        At start-up, naming every missing or malformed variable of every
        settings group (service, CORS and language, token, WeChat) in ``.problems``;
        ``.variable`` is the first.
    """
    configure_logging()
    env = os.environ if env is None else env
    config = read_configuration(env)
    edge = config.edge
    service = build_service(
        config.settings, clock=clock, token_config=config.token, wechat_config=config.wechat
    )
    app = create_app(service, default_language=edge.default_language)
    jwks = service.jwks if jwks is None else jwks
    receipts = Receipts(config.receipts, config.settings, service.store.client, clock)

    def main_handler(event: Any, context: Any) -> dict:
        return handle_event(app, event, context, edge=edge, jwks=jwks, receipts=receipts)

    main_handler.app = app  # type: ignore[attr-defined]  # for tests and bench/
    return main_handler
