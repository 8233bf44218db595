"""Tencent events in, the event shape serverless-wsgi reads out.

Tencent's API Gateway trigger event (SCF doc "API 网关触发器概述",
https://cloud.tencent.com/document/product/583/12513) carries the whole query
in ``queryString`` and the client IP in ``requestContext.sourceIp``; a
Function URL event (https://cloud.tencent.cn/document/product/583/96099) is
the same without ``requestContext``, ``queryStringParameters``,
``headerParameters``, ``pathParameters`` and ``isBase64Encoded``.
``serverless_wsgi.handle_payload_v1`` (serverless-wsgi 3.1) reads the AWS
names instead: ``multiValueQueryStringParameters`` / ``queryStringParameters``
for the query, ``requestContext.identity.sourceIp`` for the IP, and the
truthiness of ``isBase64Encoded`` (the string ``"false"`` is truthy).
:func:`to_wsgi_event` builds that shape from a Tencent event, and rejects
events that cannot be a request.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

#: API Gateway passes at most 6 MB to SCF; a verification request is tiny.
MAX_BODY_BYTES = 64 * 1024
MAX_HEADERS = 200


class MalformedEvent(Exception):
    """The event is not a request the function can read; the message says why."""


def _text_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{name} must be an object")
    if len(value) > MAX_HEADERS:
        raise MalformedEvent(f"{name} has too many entries")
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise MalformedEvent(f"{name} must map strings to strings")
        out[key] = item
    return out


def _query(value: Any) -> dict[str, list[str]]:
    """``queryString`` as name -> values. Values may be strings or lists of strings."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent("queryString must be an object")
    if len(value) > MAX_HEADERS:
        raise MalformedEvent("queryString has too many entries")
    out: dict[str, list[str]] = {}
    for key, item in value.items():
        values = item if isinstance(item, list) else [item]
        if not isinstance(key, str) or not all(isinstance(v, str) for v in values):
            raise MalformedEvent("queryString must map strings to strings")
        out[key] = values
    return out


def _is_base64(value: Any) -> bool:
    if value is None or value is False or value == "false" or value == "False":
        return False
    if value is True or value == "true" or value == "True":
        return True
    raise MalformedEvent("isBase64Encoded must be a boolean or 'true'/'false'")


def _body(event: dict) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedEvent("body must be a string")
    if len(body) > MAX_BODY_BYTES * 2:
        raise MalformedEvent("body is too large")
    if _is_base64(event.get("isBase64Encoded")):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedEvent("body is not valid base64") from None
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedEvent("body is not valid text") from None
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedEvent("body is too large")
    return raw


def request_id_of(event: Any, context: Any) -> str:
    """``requestContext.requestId``, else the SCF context's ``request_id``, else a new UUID."""
    if isinstance(event, dict):
        ctx = event.get("requestContext")
        if isinstance(ctx, dict) and isinstance(ctx.get("requestId"), str) and ctx["requestId"]:
            return ctx["requestId"][:128]
    from_context = context.get("request_id") if isinstance(context, dict) else getattr(context, "request_id", None)
    if isinstance(from_context, str) and from_context:
        return from_context[:128]
    return str(uuid.uuid4())


def source_ip_of(event: dict) -> str | None:
    """The client IP as the gateway saw it (``requestContext.sourceIp``), never a header."""
    ctx = event.get("requestContext")
    if isinstance(ctx, dict):
        ip = ctx.get("sourceIp")
        if isinstance(ip, str) and 0 < len(ip) <= 64:
            return ip
    return None


def to_wsgi_event(event: Any, request_id: str) -> dict:
    """Adapt a Tencent API Gateway or Function URL event for serverless-wsgi.

    Parameters
    ----------
    event:
        The event SCF passed to ``main_handler`` (a dict, see module doc).
    request_id:
        Placed at ``requestContext.requestId`` for the app.

    Returns
    -------
    dict
        ``{"httpMethod", "path", "headers", "multiValueQueryStringParameters",
        "body" (bytes, already decoded), "isBase64Encoded": False,
        "requestContext": {"requestId", "identity": {"sourceIp"}}}``.

    Raises
    ------
    MalformedEvent
        Not a dict, wrong field types, bad base64, oversized body.
    """
    if not isinstance(event, dict):
        raise MalformedEvent("the event must be a JSON object")
    method = event.get("httpMethod", "GET")
    if not isinstance(method, str) or not method.isalpha() or len(method) > 16:
        raise MalformedEvent("httpMethod must be an HTTP method name")
    path = event.get("path", "/")
    if not isinstance(path, str) or len(path) > 2048:
        raise MalformedEvent("path must be a string")
    headers = _text_map(event.get("headers"), "headers")
    return {
        "httpMethod": method.upper(),
        "path": path if path.startswith("/") else "/" + path,
        "headers": headers,
        "multiValueQueryStringParameters": _query(event.get("queryString")),
        "body": _body(event),
        "isBase64Encoded": False,
        "requestContext": {"requestId": request_id, "identity": {"sourceIp": source_ip_of(event) or ""}},
    }
