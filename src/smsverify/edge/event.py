"""Tencent events in, the event shape serverless-wsgi reads out.

Tencent's API Gateway trigger event (SCF doc "API 网关触发器概述",
https://cloud.tencent.com/document/product/583/12513) carries the whole query
in ``queryString`` and the client IP in ``requestContext.sourceIp``; a
Function URL event (https://cloud.tencent.cn/document/product/583/96099) is
documented as the same without ``requestContext``, ``queryStringParameters``,
``headerParameters``, ``pathParameters`` and ``isBase64Encoded``, but real
captures do carry ``requestContext.sourceIp``; it is used whenever present.
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
import ipaddress
from functools import lru_cache
import uuid
from typing import Any

#: API Gateway passes at most 6 MB to SCF; a verification request is tiny.
MAX_BODY_BYTES = 64 * 1024
#: Headers or query parameters of one event.
MAX_ENTRIES = 200


class MalformedEvent(Exception):
    """The event is not a request the function can read; the message says why."""


#: Hop-by-hop headers describe the client's connection to the gateway, not the
#: body the event carries (a ``transfer-encoding: chunked`` would make Werkzeug
#: ignore the complete body). ``content-length`` is dropped too: serverless-wsgi
#: sets ``CONTENT_LENGTH`` from the decoded body it is given.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"})
HTTP_METHODS = frozenset({"GET", "POST"})


def _text(value: Any, name: str, limit: int, *, header: bool = False) -> str:
    """A string that WSGI can carry: UTF-8 encodable, bounded; in a header
    (and the path) also no CR, LF or NUL, which Werkzeug refuses there."""
    if not isinstance(value, str):
        raise MalformedEvent(f"{name} must be a string")
    if len(value) > limit:
        raise MalformedEvent(f"{name} is too long")
    if not value.isascii():  # ASCII always encodes; only other text can hold a lone surrogate
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedEvent(f"{name} is not valid text") from None
    if header and ("\r" in value or "\n" in value or "\x00" in value):
        raise MalformedEvent(f"{name} contains a line break or NUL")
    return value


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent("headers must be an object")
    if len(value) > MAX_ENTRIES:
        raise MalformedEvent("headers has too many entries")
    out = {}
    for key, item in value.items():
        key = _text(key, "a header name", 256, header=True)
        item = _text(item, f"header {key}", 8192, header=True)
        if key.lower() not in HOP_BY_HOP:
            out[key] = item
    return out


def _query(value: Any) -> dict[str, list[str]]:
    """``queryString`` as name -> values. Values may be strings or lists of strings."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent("queryString must be an object")
    if len(value) > MAX_ENTRIES:
        raise MalformedEvent("queryString has too many entries")
    out: dict[str, list[str]] = {}
    for key, item in value.items():
        key = _text(key, "a query parameter name", 256)
        values = item if isinstance(item, list) else [item]
        out[key] = [_text(v, f"query parameter {key}", 4096) for v in values]
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
    """``requestContext.requestId``, else the SCF context's ``request_id``, else a new UUID.

    Only printable ASCII ids (at most 128 characters kept) are echoed back.
    """
    candidates = []
    if isinstance(event, dict):
        ctx = event.get("requestContext")
        if isinstance(ctx, dict):
            candidates.append(ctx.get("requestId"))
    candidates.append(context.get("request_id") if isinstance(context, dict) else getattr(context, "request_id", None))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate and candidate.isascii() and candidate.isprintable():
            return candidate[:128]
    return str(uuid.uuid4())


def source_ip_of(event: dict) -> str | None:
    """The client IP as the gateway saw it (``requestContext.sourceIp``), never a header.

    API Gateway events and Function URL events both carry it (real Function URL
    captures do, whatever the Function URL page's sample shows). The address is
    validated and normalised with :mod:`ipaddress` (``2001:DB8:0::1`` ->
    ``2001:db8::1``; IPv4 leading zeros refused). Absent or empty -> ``None``.

    Raises
    ------
    MalformedEvent
        ``sourceIp`` is present but is not an IPv4 or IPv6 address.
    """
    ctx = event.get("requestContext")
    if not isinstance(ctx, dict):
        return None
    ip = ctx.get("sourceIp")
    if ip is None or ip == "":
        return None
    if not isinstance(ip, str) or len(ip) > 64:
        raise MalformedEvent("requestContext.sourceIp is not an IP address")
    normalised = _normalised_ip(ip)
    if normalised is None:
        raise MalformedEvent("requestContext.sourceIp is not an IP address")
    return normalised


@lru_cache(maxsize=4096)
def _normalised_ip(ip: str) -> str | None:
    """``ipaddress``'s spelling of ``ip``, or None: cached, as a client sends many requests from one address."""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
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
        Not a dict, a method other than GET or POST, wrong field types, too
        many headers or query parameters, text WSGI cannot carry (CR, LF or
        NUL in a header or the path, a lone surrogate), bad base64, an
        oversized body, a ``sourceIp`` that is not an IP address.
    """
    if not isinstance(event, dict):
        raise MalformedEvent("the event must be a JSON object")
    method = event.get("httpMethod", "GET")
    if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
        raise MalformedEvent("httpMethod must be GET or POST")
    path = _text(event.get("path", "/"), "path", 2048, header=True)
    headers = _headers(event.get("headers"))
    return {
        "httpMethod": method.upper(),
        "path": path if path.startswith("/") else "/" + path,
        "headers": headers,
        "multiValueQueryStringParameters": _query(event.get("queryString")),
        "body": _body(event),
        "isBase64Encoded": False,
        "requestContext": {"requestId": request_id, "identity": {"sourceIp": source_ip_of(event) or ""}},
    }
