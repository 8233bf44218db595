"""Events from events/ and the integration responses main_handler returns."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

from tests.support.parts import EVENTS


def load_event(name: str, **query: str) -> dict[str, Any]:
    """An event from events/, with ``queryString`` entries replaced by ``query``."""
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    event = copy.deepcopy(event)
    if query:
        event["queryString"] = {**event.get("queryString", {}), **query}
    return event


def get_sms(phone: str = "8613800138000", ip: str | None = "203.0.113.7", **extra: str) -> dict[str, Any]:
    """A getSms event for ``phone`` from source address ``ip`` (None: no sourceIp)."""
    event = load_event("get_sms.json", phone=phone, **extra)
    if ip is None:
        del event["requestContext"]["sourceIp"]
    else:
        event["requestContext"]["sourceIp"] = ip
    return event


def login(phone: str = "8613800138000", code: str | None = "000000", **extra: str) -> dict[str, Any]:
    """A login event for ``phone`` with ``code`` (None: no code parameter)."""
    event = load_event("login.json", phone=phone, **extra)
    if code is None:
        del event["queryString"]["code"]
    else:
        event["queryString"]["code"] = code
    return event


def call(handler: Callable, event: Any, context: Any = None) -> dict[str, Any]:
    """Run one event; return the JSON body with ``_status`` (shape checked by ``answer``)."""
    return answer(handler(event, {} if context is None else context))


def last_code(sms_api, phone: str) -> str:
    """The code of the latest SMS the Tencent emulator accepted for ``phone`` (E.164)."""
    return sms_api.sent_to(phone)[-1]["params"][0]


def wrong(code: str, k: int = 1) -> str:
    """A code of the same length that is certainly not ``code``."""
    return str((int(code) + k) % 10 ** len(code)).zfill(len(code))


def answer(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of an integration response, with its status as ``_status``."""
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}, response
    assert response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response["body"])
    body["_status"] = response["statusCode"]
    return body
