"""Bodies and integration responses.

The body keeps the keys of Tencent's Node demo, ``{"codeStr", "msg",
"requestId"}``, plus the extra fields of each outcome. The function always
answers with an API Gateway integration response (SCF doc "集成响应",
https://cloud.tencent.com/document/product/583/12513):
``{"isBase64Encoded": false, "statusCode": N, "headers": {...}, "body": "<JSON>"}``.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from smsverify.errors import VerificationError

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

#: HTTP status of every codeStr (docs/generate.py writes the docs' codeStr tables from it).
STATUS: dict[str, int] = {
    "Ok": 200,
    "Success": 200,
    "InValidParam": 400,
    "MissingCode": 400,
    "CaptchaFailed": 400,
    "WechatLoginFailed": 400,
    "CaptchaRequired": 400,
    "CodeHasExpired": 401,
    "CodeHasValid": 401,
    "CodeIsError": 401,
    "TooFrequent": 429,
    "HourlyLimitExceeded": 429,
    "DailyLimitExceeded": 429,
    "IpLimitExceeded": 429,
    "PrefixLimitExceeded": 429,
    "OriginNotAllowed": 403,
    "NotFound": 404,
    "VerifyLimitExceeded": 429,
    "InternalError": 500,
    "SmsSendFailed": 502,
    "ReceiptPullFailed": 502,
    "ServiceBusy": 503,
    "ServiceUnavailable": 503,
    "SmsSendTimeout": 504,
}


#: ``"200 OK"`` etc., the WSGI status line of each status above.
_STATUS_LINES = {code: f"{code} {HTTPStatus(code).phrase}" for code in {*STATUS.values(), 204}}


def status_line(code: int) -> str:
    """The WSGI status line (PEP 3333) of an HTTP status code."""
    return _STATUS_LINES.get(code) or f"{code} {HTTPStatus(code).phrase}"


def body(code_str: str, msg: str, request_id: str, **fields: Any) -> dict[str, Any]:
    """The JSON body of a response: ``codeStr``, ``msg``, ``requestId`` and ``fields``."""
    return {"codeStr": code_str, "msg": msg, "requestId": request_id, **fields}


def error_body(error: VerificationError, request_id: str) -> dict[str, Any]:
    return body(error.code_str, error.msg, request_id, **error.fields)


def headers_for(payload: dict[str, Any]) -> dict[str, str]:
    headers = {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store"}
    if "retryAfter" in payload:
        headers["Retry-After"] = str(payload["retryAfter"])
    return headers


#: json.dumps(payload, ensure_ascii=False) builds an encoder per call; this one is built once.
_UNESCAPED = json.JSONEncoder(ensure_ascii=False)


def json_text(payload: dict[str, Any]) -> str:
    """The body as JSON, Chinese unescaped; fully escaped if some value
    (a provider's message, say) is not encodable as UTF-8."""
    text = _UNESCAPED.encode(payload)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(payload)
    return text


def integration_response(payload: dict[str, Any]) -> dict[str, Any]:
    """Wrap a body as an integration response; the status comes from ``codeStr``."""
    return {
        "isBase64Encoded": False,
        "statusCode": STATUS[payload["codeStr"]],
        "headers": headers_for(payload),
        "body": json_text(payload),
    }
