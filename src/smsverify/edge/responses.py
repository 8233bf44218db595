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

#: The two answers that are not refusals: codeStr -> (default ``msg``, extra body fields). ``Ok``
#: answers getSms (and ``method=status``, with its own fields), ``Success`` a right code.
SUCCESSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Ok": ("验证码已发送", ("verificationId", "expiresIn", "resendAfter", "provider", "channel", "delivery",
                         "description", "resendAllowed", "otherChannel")),
    "Success": ("校验验证码成功", ("token", "tokenType", "expiresIn")),
}


def _error_classes() -> list[type[VerificationError]]:
    """Every codeStr's class, the root (``InternalError``) first, in the order errors.py declares them."""
    from smsverify import errors

    return [value for value in vars(errors).values()
            if isinstance(value, type) and issubclass(value, VerificationError)]


#: HTTP status of every codeStr: the successes', then each error class's own ``status``
#: (docs/generate.py writes the docs' codeStr tables from these declarations).
STATUS: dict[str, int] = {
    **{code_str: 200 for code_str in SUCCESSES},
    **{cls.code_str: cls.status for cls in _error_classes()},
}
#: The extra body fields of every codeStr, declared with it.
BODY_FIELDS: dict[str, tuple[str, ...]] = {
    **{code_str: fields for code_str, (_msg, fields) in SUCCESSES.items()},
    **{cls.code_str: cls.body_fields for cls in _error_classes()},
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
