"""``python -m smsverify serve``: each HTTP request becomes the event API Gateway would send.

The WSGI app here does no checking of its own: it builds a Tencent API
Gateway trigger event (SCF doc "API 网关触发器概述",
https://cloud.tencent.com/document/product/583/12513) from the request and
hands it to ``main_handler``, then writes the integration response back. So
methods, bounds and bad input are answered exactly as in SCF.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from smsverify.edge.event import MAX_BODY_BYTES
from smsverify.edge.responses import status_line

Handler = Callable[[Any, Any], dict]


def _wire_text(value: str) -> str:
    """WSGI carries header values as latin-1 code points; the gateway passes UTF-8 text."""
    return value.encode("latin-1", "replace").decode("utf-8", "replace")


def _body(environ: dict) -> bytes:
    """The body, read up to one byte over the bound (the event check refuses that)."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return stream.read(MAX_BODY_BYTES + 1) if environ.get("wsgi.input_terminated") else b""
    return stream.read(min(length, MAX_BODY_BYTES + 1))


def event_of(environ: dict) -> dict:
    """The API Gateway event of a WSGI request.

    Returns
    -------
    dict
        ``{"httpMethod", "path", "headers" (lower-case names), "queryString"
        (name -> str, or list of str when repeated), "body" (base64),
        "isBase64Encoded": True, "requestContext": {"requestId", "sourceIp"}}``.
    """
    headers = {key[5:].replace("_", "-").lower(): _wire_text(value)
               for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    query: dict[str, Any] = {}
    for name, value in parse_qsl(_wire_text(environ.get("QUERY_STRING", "")), keep_blank_values=True):
        if name in query:
            previous = query[name]
            query[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            query[name] = value
    return {
        "httpMethod": environ.get("REQUEST_METHOD", "GET"),
        "path": _wire_text(environ.get("PATH_INFO") or "/"),
        "headers": headers,
        "queryString": query,
        "body": base64.b64encode(_body(environ)).decode("ascii"),
        "isBase64Encoded": True,
        "requestContext": {"requestId": str(uuid.uuid4()), "sourceIp": environ.get("REMOTE_ADDR", "")},
    }


def wsgi_app(main_handler: Handler) -> Callable[[dict, Callable], Iterable[bytes]]:
    """A WSGI app that answers every request through ``main_handler``."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        response = main_handler(event_of(environ), {})
        text = response.get("body") or ""
        payload = base64.b64decode(text) if response.get("isBase64Encoded") else text.encode("utf-8")
        headers = [(k, v) for k, v in response.get("headers", {}).items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(payload))))
        start_response(status_line(response["statusCode"]), headers)
        return [payload]

    return app
