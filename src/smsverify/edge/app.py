"""The WSGI application (Werkzeug): parameters in, protocol call, JSON out."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from smsverify import errors
from smsverify.edge.event import MAX_BODY_BYTES
from smsverify.edge.responses import STATUS, body, error_body, headers_for, json_text
from smsverify.observability import log_invocation
from smsverify.service.verification import VerificationService

log = logging.getLogger("smsverify")

METHODS = ("getSms", "login")
PARAMS = ("method", "phone", "code", "ticket", "randstr")
MAX_PARAM_LENGTH = 512


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise errors.InvalidParam(f"参数 {key} 重复")
        data[key] = value
    return data


def _json_params(raw: bytes) -> MultiDict:
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.InvalidParam("请求体不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise errors.InvalidParam("JSON 请求体应为对象")
    params = MultiDict()
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            if key in PARAMS:
                raise errors.InvalidParam(f"参数 {key} 应为字符串")
            continue
        params.add(key, str(value))
    return params


def read_params(request: Request) -> dict[str, str]:
    """Merge the query and the body (form or JSON) into ``name -> value``.

    Raises
    ------
    errors.InvalidParam
        Malformed body, a parameter given twice, a non-text or oversized value.
    """
    sources: list[MultiDict] = [request.args]
    request.max_content_length = MAX_BODY_BYTES  # gateway events are bounded by the adapter; this covers ``serve``
    try:
        raw = request.get_data(cache=True)
    except HTTPException:  # 413 from Werkzeug when the body is over the bound
        raise errors.InvalidParam("请求体过大") from None
    if raw:
        mimetype = request.mimetype
        if mimetype == "application/json" or (not mimetype and raw.lstrip()[:1] == b"{"):
            sources.append(_json_params(raw))
        elif mimetype in ("application/x-www-form-urlencoded", ""):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise errors.InvalidParam("请求体不是有效的 UTF-8 文本") from None
            sources.append(MultiDict(_parse_form(text)))
        else:
            raise errors.InvalidParam(f"不支持的 Content-Type：{mimetype[:64]}")
    params: dict[str, str] = {}
    for source in sources:
        for key, values in source.lists():
            if key not in PARAMS:
                continue
            if key in params or len(values) > 1:
                raise errors.InvalidParam(f"参数 {key} 重复")
            value = values[0]
            if len(value) > MAX_PARAM_LENGTH or "\x00" in value:
                raise errors.InvalidParam(f"参数 {key} 过长或含非法字符")
            params[key] = value
    return params


def _parse_form(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=64)
    except ValueError:
        raise errors.InvalidParam("表单参数过多") from None


def create_app(service: VerificationService) -> Callable[[dict, Callable], Iterable[bytes]]:
    """A WSGI app answering ``method=getSms`` and ``method=login`` on any path.

    The request id comes from ``requestContext.requestId`` of the adapted
    event (``environ["serverless.event"]``) when run by serverless-wsgi, else
    (``serve``) it is a new UUID. The client IP
    is ``REMOTE_ADDR``, which the event adapter fills from the gateway's
    ``requestContext.sourceIp``.
    """

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        event = environ.get("serverless.event") or {}
        request_id = event.get("requestContext", {}).get("requestId") or str(uuid.uuid4())
        client_ip = request.remote_addr or None
        fields: dict[str, Any] = {}
        phone = None
        try:
            params = read_params(request)
            method = params.get("method")
            fields["method"] = method if method in METHODS else None
            if method not in METHODS:
                raise errors.InvalidParam("缺少参数 method" if method is None else "参数 method 应为 getSms 或 login")
            if "phone" not in params:
                raise errors.InvalidParam("缺少参数 phone")
            phone = service.phone(params["phone"])
            if method == "getSms":
                sent = service.send_code(
                    phone, client_ip=client_ip, ticket=params.get("ticket"), randstr=params.get("randstr"), reference=request_id
                )
                fields["provider"] = sent.receipt.provider
                fields["serialNo"] = sent.receipt.serial_no or None
                if sent.failed_providers:
                    fields["failedProviders"] = list(sent.failed_providers)
                payload = body(
                    "Ok", "验证码已发送", request_id,
                    expiresIn=sent.expires_in, resendAfter=sent.resend_after, provider=sent.receipt.provider,
                )
            else:
                service.check_code(
                    phone, params.get("code"), client_ip=client_ip, ticket=params.get("ticket"), randstr=params.get("randstr")
                )
                payload = body("Success", "校验验证码成功", request_id)
        except errors.VerificationError as exc:
            payload = error_body(exc, request_id)
            fields["providerCode"] = exc.fields.get("providerCode")
            fields.update(exc.log_fields)
        except Exception:
            log.exception("unexpected error", extra={"fields": {"requestId": request_id}})
            payload = body("InternalError", "服务内部错误", request_id)
        response = Response(json_text(payload), status=STATUS[payload["codeStr"]], headers=headers_for(payload))
        log_invocation(
            requestId=request_id,
            codeStr=payload["codeStr"],
            phone=phone.masked if phone else None,
            ip=client_ip,
            durationMs=round((time.perf_counter() - started) * 1000, 2),
            **fields,
        )
        return response(environ, start_response)

    return app
