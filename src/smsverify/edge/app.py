"""The WSGI application: parameters in, protocol call, JSON out.

A plain WSGI callable (PEP 3333): it reads ``QUERY_STRING`` and
``wsgi.input`` from the environ itself and answers with ``start_response``;
Werkzeug's form parser runs only for a ``multipart/form-data`` body. It is
reached through :func:`smsverify.edge.handler.handle_event` only (SCF and
``serve`` alike), which sets the request fields (:data:`REQUEST_FIELDS`) and
writes the invocation line. Each answer's ``msg`` is in the request's language
(:mod:`smsverify.edge.messages`).
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl

from smsverify import errors
from smsverify.edge import messages
from smsverify.edge.event import MAX_BODY_BYTES
from smsverify.edge.responses import SUCCESSES, body, error_body, integration_response, status_line
from smsverify.observability import REQUEST_FIELDS
from smsverify.senders.receipts import DeliveryState
from smsverify.service.abuse import destination_prefix
from smsverify.service.verification import Channel, VerificationService


METHODS = ("getSms", "login", "status")
#: Parameters read from the query and the body; any other name is ignored.
#: ``scene`` and ``verificationId`` (both methods) and ``wxCode`` (login) are passed through as read;
#: ``channel`` (getSms): ``sms`` (default) or ``voice``;
#: ``lang`` (both methods) picks the language of ``msg`` (:func:`smsverify.edge.messages.choose`).
PARAMS = frozenset(("method", "phone", "code", "ticket", "randstr", "scene", "wxCode", "verificationId", "channel",
                    "lang"))
MAX_PARAM_LENGTH = 512
MAX_FORM_FIELDS = 64
UTF8_BOM = b"\xef\xbb\xbf"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise errors.InvalidParam(f"参数 {key} 重复")
        data[key] = value
    return data


def _json_pairs(raw: bytes) -> list[tuple[str, str]]:
    """A JSON object's known parameters; ``null`` means absent (``wx.request``
    serialises ``{code: null}``), numbers become strings."""
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.InvalidParam("请求体不是有效的 JSON") from None
    if not isinstance(data, dict):
        raise errors.InvalidParam("JSON 请求体应为对象")
    pairs = []
    for key, value in data.items():
        if key not in PARAMS or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise errors.InvalidParam(f"参数 {key} 应为字符串")
        pairs.append((key, str(value)))
    return pairs


def _text_of(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.InvalidParam("请求体不是有效的 UTF-8 文本") from None


def _form_pairs(text: str, *, strict: bool = False) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=strict, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise errors.InvalidParam("表单参数过多或格式错误") from None


def _is_form_string(text: str) -> bool:
    """``a=1&b=2``: what ``wx.request`` sends for string data under its default JSON header."""
    try:
        return bool(parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FORM_FIELDS))
    except ValueError:
        return False


def _multipart_pairs(environ: dict, raw: bytes) -> list[tuple[str, str]]:
    """Browser ``FormData`` / axios: Werkzeug's parser, within the body bound; files are ignored."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.formparser import parse_form_data

    inner = {**environ, "wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw)), "REQUEST_METHOD": "POST"}
    try:
        _, form, files = parse_form_data(
            inner, max_form_memory_size=MAX_BODY_BYTES, max_content_length=MAX_BODY_BYTES,
            max_form_parts=MAX_FORM_FIELDS, silent=False,
        )
    except (HTTPException, ValueError):
        raise errors.InvalidParam("multipart 请求体格式错误") from None
    for upload in files.values():
        upload.close()
    return list(form.items(multi=True))


def _body_pairs(environ: dict) -> list[tuple[str, str]]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise errors.InvalidParam("Content-Length 无效") from None
    if length <= 0:
        return []
    if length > MAX_BODY_BYTES:
        raise errors.InvalidParam("请求体过大")
    raw = environ["wsgi.input"].read(length)
    if raw.startswith(UTF8_BOM):
        raw = raw[3:]
    if not raw:
        return []
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if mimetype == "application/json":
        if raw.lstrip()[:1] in (b"{", b"[", b'"') or not _is_form_string(_text_of(raw)):
            return _json_pairs(raw)
        return _form_pairs(_text_of(raw))
    if mimetype in ("text/plain", ""):
        if raw.lstrip()[:1] == b"{":
            return _json_pairs(raw)
        return _form_pairs(_text_of(raw))
    if mimetype == "application/x-www-form-urlencoded":
        return _form_pairs(_text_of(raw))
    if mimetype == "multipart/form-data":
        return _multipart_pairs(environ, raw)
    raise errors.InvalidParam(f"不支持的 Content-Type：{mimetype[:64]}")


def read_params(environ: dict) -> dict[str, str]:
    """Merge the query (``QUERY_STRING``) and the body (``wsgi.input``) into ``name -> value``.

    Bodies: ``application/x-www-form-urlencoded``; ``application/json`` (a form
    string under that header is read as a form); ``text/plain`` or no type (a
    JSON object, else a form); ``multipart/form-data``. A UTF-8 byte-order mark
    is skipped; JSON ``null`` is an absent parameter. Only :data:`PARAMS` are kept.

    Raises
    ------
    errors.InvalidParam
        Malformed body, a parameter given twice (in the query, the body or
        across both), a non-text or oversized value, a body over ``MAX_BODY_BYTES``.
    """
    pairs = _form_pairs(environ.get("QUERY_STRING", "")) + _body_pairs(environ)
    params: dict[str, str] = {}
    for key, value in pairs:
        if key not in PARAMS:
            continue
        if key in params:
            raise errors.InvalidParam(f"参数 {key} 重复")
        if len(value) > MAX_PARAM_LENGTH or "\x00" in value:
            raise errors.InvalidParam(f"参数 {key} 过长或含非法字符")
        params[key] = value
    return params


def _query_lang(environ: dict) -> str | None:
    """The first ``lang`` of the query string, read leniently: for an answer to a request whose
    parameters could not be read (a ``lang`` in such a body is not seen)."""
    try:
        pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        return None
    return next((value for key, value in pairs if key == "lang"), None)


def answer(service: VerificationService, params: dict[str, str], fields: dict[str, Any],
           request_id: str, client_ip: str | None) -> dict[str, Any]:
    """Run the protocol for ``params``; returns the body. Adds log fields to ``fields``.

    Raises
    ------
    errors.VerificationError
        Every refusal of the protocol, bad parameters included.
    """
    method = params.get("method")
    if method not in METHODS:
        raise errors.InvalidParam("缺少参数 method" if method is None else "参数 method 应为 getSms、login 或 status")
    fields["method"] = method
    if "phone" not in params:
        raise errors.InvalidParam("缺少参数 phone")
    phone = service.phone(params["phone"])
    fields["phone"] = phone.masked
    if service.is_test_number(phone):
        fields["testNumber"] = True  # every send and login of a TEST_PHONE_NUMBERS number, whatever its outcome
    fields["country"] = phone.country_code
    fields["prefix"] = destination_prefix(phone, service.policy.prefix_digits)  # the number block, as the counters have it
    scene = service.scene(params.get("scene"))
    fields["scene"] = scene
    verification = service.verification_id(params.get("verificationId"))
    fields["bound"] = verification is not None
    if method == "status":
        status = service.status(phone, verification, client_ip=client_ip, scene=scene)
        fields["delivery"] = status.delivery.value
        extra: dict[str, Any] = {"delivery": status.delivery.value, "channel": status.channel.value}
        if status.description:
            extra["description"] = status.description
        if status.delivery is DeliveryState.FAILED:
            extra["resendAllowed"] = status.resend_after == 0
            extra["resendAfter"] = status.resend_after
            extra["otherChannel"] = status.other_channel
        return body("Ok", "查询成功", request_id, verificationId=verification, **extra)
    if method == "getSms":
        raw_channel = params.get("channel") or Channel.SMS.value
        if raw_channel not in (Channel.SMS.value, Channel.VOICE.value):
            raise errors.InvalidParam("参数 channel 应为 sms 或 voice")
        channel = Channel(raw_channel)
        if channel is Channel.VOICE:
            fields["channel"] = channel.value
        sent = service.send_code(
            phone, client_ip=client_ip, ticket=params.get("ticket"), randstr=params.get("randstr"), reference=request_id,
            scene=scene, verification=verification, channel=channel,
        )
        fields["provider"] = sent.receipt.provider
        if not sent.replayed:
            fields["delivery"] = "sent"  # accepted by the provider; receipts tell the rest (method=status)
        if sent.receipt.serial_no:
            fields["serialNo"] = sent.receipt.serial_no
        if sent.failed_providers:
            fields["failedProviders"] = list(sent.failed_providers)
        if sent.replayed:
            fields["replayed"] = True
        extra = {"verificationId": verification} if verification is not None else {}
        if sent.channel is Channel.VOICE:
            extra["channel"] = sent.channel.value
        return body("Ok", SUCCESSES["Ok"][0], request_id,
                    expiresIn=sent.expires_in, resendAfter=sent.resend_after, provider=sent.receipt.provider, **extra)
    verified = service.check_code(
        phone, params.get("code"), client_ip=client_ip, ticket=params.get("ticket"), randstr=params.get("randstr"),
        wx_code=params.get("wxCode"), scene=scene, verification=verification,
    )
    token = verified.token
    if token is None:
        return body("Success", SUCCESSES["Success"][0], request_id)
    fields["jti"] = token.jti
    return body("Success", SUCCESSES["Success"][0], request_id, token=token.token, tokenType="Bearer", expiresIn=token.expires_in)


def create_app(service: VerificationService, *,
               default_language: str = messages.DEFAULT_LANGUAGE) -> Callable[[dict, Callable], Iterable[bytes]]:
    """A WSGI app answering ``method=getSms`` and ``method=login`` on any path.

    The request id and the client IP come from the request fields set by
    :func:`smsverify.edge.handler.handle_event` (``requestId``, ``ip``, from the
    gateway's ``requestContext``); outside it, a new UUID and ``REMOTE_ADDR``.
    Each body gets its status and headers from
    :func:`smsverify.edge.responses.integration_response`, the one mapping.
    Every ``msg`` is in the language :func:`smsverify.edge.messages.choose`
    picks from the ``lang`` parameter, the ``Accept-Language`` header
    (``HTTP_ACCEPT_LANGUAGE``) and ``default_language`` (``"zh-CN"`` or
    ``"en"``); the log field ``lang`` records it.
    An exception other than a :class:`~smsverify.errors.VerificationError`
    propagates (``handle_event`` answers ``InternalError`` and logs it).
    """

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        fields = REQUEST_FIELDS.get(None)
        if fields is None:
            fields = {"requestId": str(uuid.uuid4())}
            REQUEST_FIELDS.set(fields)
        request_id = fields["requestId"]
        client_ip = fields.get("ip") or environ.get("REMOTE_ADDR") or None
        params: dict[str, str] | None = None
        try:
            params = read_params(environ)
            payload = answer(service, params, fields, request_id, client_ip)
        except errors.VerificationError as exc:
            payload = error_body(exc, request_id)
            if "providerCode" in exc.fields:
                fields["providerCode"] = exc.fields["providerCode"]
            fields.update(exc.log_fields)
        # Anything else is a defect: it propagates to the one guard, in handle_event.
        fields["codeStr"] = payload["codeStr"]
        lang = params.get("lang") if params is not None else _query_lang(environ)
        fields["lang"] = language = messages.choose(lang, environ.get("HTTP_ACCEPT_LANGUAGE"), default_language)
        payload = messages.localise(payload, language)
        response = integration_response(payload)
        data = response["body"].encode("utf-8")
        start_response(status_line(response["statusCode"]), [*response["headers"].items(), ("Content-Length", str(len(data)))])
        return [data]

    return app
