"""The one guard: a defect anywhere under the edge becomes one ``InternalError``
answer (500, the request id echoed) and exactly one invocation line, and the
traceback line carries the request id (request fields in a ContextVar)."""

from __future__ import annotations

import json
import logging

from smsverify.edge.app import create_app
from smsverify.edge.handler import handle_event
from smsverify.observability import REQUEST_FIELDS, JsonFormatter


class Broken:
    def phone(self, raw: str):
        raise RuntimeError("a defect")


def test_a_defect_is_one_internal_error_and_one_invocation_line(caplog):
    event = {"httpMethod": "GET", "path": "/", "queryString": {"method": "login", "phone": "13800138000", "code": "1"},
             "requestContext": {"requestId": "rid-guard", "sourceIp": "203.0.113.7"}}
    lines: list[dict] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(JsonFormatter().format(record)))  # formatted as the stream handler does: at once

    logger = logging.getLogger("smsverify")
    capture = Lines()
    logger.addHandler(capture)
    try:
        with caplog.at_level(logging.INFO, logger="smsverify"):
            response = handle_event(create_app(Broken()), event, {})
    finally:
        logger.removeHandler(capture)
    body = json.loads(response["body"])
    assert (response["statusCode"], body["codeStr"], body["requestId"]) == (500, "InternalError", "rid-guard")
    [invocation] = [r for r in caplog.records if r.getMessage() == "invocation"]
    assert invocation.fields["codeStr"] == "InternalError" and invocation.fields["requestId"] == "rid-guard"
    assert invocation.fields["ip"] == "203.0.113.7" and invocation.fields["method"] == "login"
    [defect] = [line for line in lines if line["message"] == "unexpected error"]
    assert defect["requestId"] == "rid-guard" and "RuntimeError: a defect" in defect["exception"]
    assert [line["message"] for line in lines] == ["unexpected error", "invocation"]
    assert REQUEST_FIELDS.get(None) is None  # reset after the invocation: a warm container keeps nothing
