"""Logs: one JSON object per line on stderr, one line per invocation.

Fields of an invocation line: ``requestId``, ``method``, ``codeStr``,
``phone`` (masked, ``+86138****8000``), ``ip``, ``durationMs``, and where
they apply ``scene``, ``bound``, ``provider``, ``serialNo``, ``providerCode``,
``failedProviders``, ``replayed``, ``jti``, ``origin``, ``reason`` (an event
refused before the protocol) and ``route`` (delivery receipts). Codes,
secrets and credentials are never passed to the logger.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

LOGGER_NAME = "smsverify"

#: Fields of the invocation being answered (``requestId``, masked ``phone``,
#: ``scene``, ...): set by the edge at the start of each invocation, read by
#: :class:`JsonFormatter` so every line written meanwhile (service, store,
#: senders) carries them. A fresh dict per invocation: warm containers keep nothing.
REQUEST_FIELDS: ContextVar[dict[str, Any]] = ContextVar("smsverify_request_fields")


#: json.dumps with arguments builds an encoder per call; one, built once, does the same.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line; ``extra={"fields": {...}}`` adds keys."""

    #: (whole second, its "YYYY-MM-DDTHH:MM:SS" in UTC) of the latest line: one strftime per second
    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second[0]:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        line: dict[str, Any] = {
            "time": f"{self._second[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(REQUEST_FIELDS.get(None) or {})
        line.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _LINE_ENCODER.encode(line)


#: The Tencent SDK logs whole signed requests and answers at DEBUG (credentials,
#: session token, template parameters = the code, phone numbers).
SDK_LOGGER_NAME = "tencentcloud_sdk_common"


def _warnings_and_above(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def configure_logging(level: int = logging.INFO) -> logging.Logger:
    """Attach the JSON handler to the ``smsverify`` logger once per process,
    and keep the SDK's request dumps out of every log whatever its level."""
    sdk = logging.getLogger(SDK_LOGGER_NAME)
    if _warnings_and_above not in sdk.filters:
        sdk.addFilter(_warnings_and_above)
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(h, "_smsverify", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._smsverify = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return logger


def log_invocation(**fields: Any) -> None:
    """Write the invocation line: the request fields (:data:`REQUEST_FIELDS`)
    and ``fields``; ``None`` values are left out."""
    clean = {k: v for k, v in {**(REQUEST_FIELDS.get(None) or {}), **fields}.items() if v is not None}
    _LOGGER.info("invocation", extra={"fields": clean})


_LOGGER = logging.getLogger(LOGGER_NAME)
