"""SMS delivery receipts at the edge: the push path and the pull timer.

Two kinds of event reach the function besides the verification protocol:

- **Push**: Tencent SMS POSTs status reports to the callback URL set in its
  console, the function's URL followed by ``RECEIPT_PATH`` (e.g.
  ``/sms/receipts/<a long random segment>``). Tencent does not sign the
  callback, so the random last segment is what keeps others out. A request
  whose path ends with ``RECEIPT_PATH`` (compared in constant time) is a
  receipt: POST only, the body parsed whole
  (:func:`smsverify.senders.tencent_receipts.parse_callback`), every report
  recorded (:func:`smsverify.store.delivery.record_deliveries`), and the
  answer Tencent requires, ``{"result": 0, "errmsg": "OK"}``. Any other path
  under the same prefix is refused (``NotFound``, 404) with nothing run; a
  malformed body is refused (``InValidParam``, 400) with nothing written.
- **Pull**: an SCF timer trigger's event (``{"Type": "Timer", "TriggerName",
  "Time", "Message"}``, SCF "定时触发器" docs,
  https://cloud.tencent.com/document/product/583/9708) makes the function pull
  Tencent's status queue (``PullSmsSendStatus``) for at most
  ``RECEIPT_PULL_SECONDS`` and record what it gets; it answers the counts.

Variables (:meth:`ReceiptSettings.from_env`): ``RECEIPT_PATH`` (unset: no
push path), ``RECEIPT_PULL_SECONDS`` [10].
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from smsverify import errors
from smsverify.clock import Clock
from smsverify.edge.responses import error_body, headers_for, integration_response, json_text
from smsverify.settings.env import EnvReader

if TYPE_CHECKING:
    from smsverify.settings.config import Settings

log = logging.getLogger("smsverify")

#: What Tencent requires a callback receiver to answer once it took the reports.
RECEIPT_ACCEPTED = {"result": 0, "errmsg": "OK"}
#: Largest receipt body, in bytes: larger than the protocol's 64 KiB
#: (``smsverify.edge.event.MAX_BODY_BYTES``) because one callback may carry
#: many reports; equal to ``tencent_receipts.MAX_CALLBACK_BYTES``.
MAX_RECEIPT_BODY_BYTES = 512 * 1024
#: Shortest random last segment of ``RECEIPT_PATH``, in characters.
MIN_SECRET_CHARS = 16
#: Longest ``RECEIPT_PATH``.
MAX_PATH_CHARS = 512
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ReceiptSettings:
    """The receipt settings.

    Attributes
    ----------
    path:
        ``RECEIPT_PATH``: the whole path of the push receiver, ``None`` when off.
    pull_seconds:
        ``RECEIPT_PULL_SECONDS``: the time budget of one timer's pull, seconds.
    """

    path: str | None = None
    pull_seconds: float = 10.0

    @property
    def prefix(self) -> str | None:
        """``path`` up to and with its last ``/`` (``/sms/receipts/``), ``None`` when off."""
        return None if self.path is None else self.path[: self.path.rindex("/") + 1]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReceiptSettings:
        """Read ``RECEIPT_PATH`` and ``RECEIPT_PULL_SECONDS``.

        Raises
        ------
        ConfigError
            ``RECEIPT_PATH`` is not ``/<segment>/.../<secret>`` with at least
            one segment before the secret, every segment of ``A-Z a-z 0-9 _ -``
            and the secret at least :data:`MIN_SECRET_CHARS` long; or
            ``RECEIPT_PULL_SECONDS`` is not a number in [1, 20].
        """
        reader = EnvReader(env)
        path = reader.text("RECEIPT_PATH")
        if path is not None:
            problem = _path_problem(path)
            if problem:
                reader.problem("RECEIPT_PATH", problem)
                path = None
        pull_seconds = reader.number("RECEIPT_PULL_SECONDS", 10.0, minimum=1.0, maximum=20.0)
        reader.raise_problems()
        return cls(path=path, pull_seconds=pull_seconds)


def _path_problem(path: str) -> str | None:
    example = "like /sms/receipts/<at least 16 random characters>"
    if len(path) > MAX_PATH_CHARS:
        return f"is longer than {MAX_PATH_CHARS} characters"
    if not path.startswith("/"):
        return f"must be a path starting with /, {example}"
    segments = path[1:].split("/")
    if len(segments) < 2:
        return f"needs a segment before its random last one (a prefix it owns), {example}"
    secret = segments[-1]
    if not _SEGMENT.fullmatch(secret) or len(secret) < MIN_SECRET_CHARS:
        return (f"must end with a random segment of at least {MIN_SECRET_CHARS} characters "
                f"of A-Z a-z 0-9 _ -, {example}")
    if not all(_SEGMENT.fullmatch(segment) for segment in segments[:-1]):
        return f"has an empty segment or one with characters other than A-Z a-z 0-9 _ -, {example}"
    return None


def _raw_body(event: dict) -> bytes:
    """The request body as bytes (base64 decoded when flagged), bounded; InvalidParam otherwise."""
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise errors.InvalidParam("请求格式错误：body must be a string")
    if len(body) > MAX_RECEIPT_BODY_BYTES * 2:
        raise errors.InvalidParam("请求格式错误：body is too large")
    flag = event.get("isBase64Encoded")
    if flag is True or flag in ("true", "True"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise errors.InvalidParam("请求格式错误：body is not valid base64") from None
    else:
        try:
            raw = body.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.InvalidParam("请求格式错误：body is not valid text") from None
    if len(raw) > MAX_RECEIPT_BODY_BYTES:
        raise errors.InvalidParam("请求格式错误：body is too large")
    return raw


def _is_timer(event: dict) -> bool:
    return event.get("Type") == "Timer" and "httpMethod" not in event and "path" not in event


class Receipts:
    """Answers receipt and timer events (:meth:`route`); every other event is left alone.

    Parameters
    ----------
    settings:
        :class:`ReceiptSettings`.
    service:
        The function's :class:`~smsverify.settings.config.Settings`: the code's TTL
        (``CODE_TTL_SECONDS``, the TTL of each delivery state), the Tencent
        provider's settings for the pull, ``SMS_TIMEOUT_SECONDS`` per pull call.
    client:
        The store's Redis client (shared with the verification store).
    clock:
        Unix seconds.
    """

    def __init__(self, settings: ReceiptSettings, service: Settings, client: Any, clock: Clock) -> None:
        self.settings = settings
        self.service = service
        self.client = client
        self.clock = clock
        self._path = settings.path.encode("ascii") if settings.path else b""
        self._prefix = settings.prefix

    def route(self, event: Any, fields: dict[str, Any]) -> dict | None:
        """The integration response of a receipt, a refused receipt path or a
        timer event; ``None`` for any other event (the protocol's).

        ``fields`` (the invocation line's) gets ``route`` (``receipt`` |
        ``timer``), ``codeStr`` and the counts. Never raises.
        """
        if not isinstance(event, dict):
            return None
        if _is_timer(event):
            fields["route"] = "timer"
            return self._answer(self._timer, event, fields)
        path = event.get("path")
        if not self._path or not isinstance(path, str):
            return None
        tail = path[-len(self._path):].encode("utf-8", "replace")
        if hmac.compare_digest(tail, self._path):
            fields["route"] = "receipt"
            return self._answer(self._receipt, event, fields)
        if self._prefix and self._prefix in path:
            fields["route"] = "receipt"
            return self._answer(self._refuse, event, fields)
        return None

    def _block_of(self, e164: str) -> str | None:
        """The number block of a reported phone (``86:1380013``, ``PREFIX_DIGITS``), for the counters."""
        from smsverify.errors import InvalidParam
        from smsverify.service.abuse import destination_prefix
        from smsverify.service.phone import parse_phone

        try:
            return destination_prefix(parse_phone(e164, "CN", None), self.service.prefix_digits)
        except InvalidParam:
            return None

    def _answer(self, handle: Any, event: dict, fields: dict[str, Any]) -> dict:
        try:
            return handle(event, fields)
        except errors.VerificationError as exc:
            fields["codeStr"] = exc.code_str
            fields.update(exc.log_fields)
            return integration_response(error_body(exc, fields["requestId"]))
        except Exception:  # a defect of ours: still an answer, never an exception out of the handler
            log.exception("unexpected error")
            fields["codeStr"] = "InternalError"
            return integration_response(error_body(errors.VerificationError(), fields["requestId"]))

    def _refuse(self, event: dict, fields: dict[str, Any]) -> dict:
        raise errors.NotFound()

    def _receipt(self, event: dict, fields: dict[str, Any]) -> dict:
        from smsverify.senders.receipts import ReceiptParseError
        from smsverify.senders.tencent_receipts import parse_callback
        from smsverify.store.base import StoreUnavailable
        from smsverify.store.delivery import record_deliveries

        method = event.get("httpMethod")
        if not isinstance(method, str) or method.upper() != "POST":
            raise errors.InvalidParam("回执只接受 POST")
        try:
            reports = parse_callback(_raw_body(event), now=self.clock())
        except ReceiptParseError as exc:
            fields["reason"] = str(exc)[:300]
            raise errors.InvalidParam(f"回执格式错误：{exc}"[:500]) from None
        fields["reports"] = len(reports)
        fields["delivered"] = sum(1 for r in reports if r.state.value == "delivered")
        fields["failed"] = len(reports) - fields["delivered"]
        try:
            recorded = record_deliveries(self.client, reports, self.service.code_ttl_seconds, block_of=self._block_of,
                                         retention_days=self.service.insight.metrics_retention_days, now=self.clock())
        except StoreUnavailable as exc:
            fields["reason"] = str(exc)
            raise errors.ServiceUnavailable() from None
        fields.update(changed=recorded.changed, unchanged=recorded.unchanged, codeStr="Ok")
        return {
            "isBase64Encoded": False,
            "statusCode": 200,
            "headers": headers_for(RECEIPT_ACCEPTED),
            "body": json_text(RECEIPT_ACCEPTED),
        }

    def _timer(self, event: dict, fields: dict[str, Any]) -> dict:
        from smsverify.senders.receipts import ReceiptPullError
        from smsverify.senders.tencent_receipts import pull_batches
        from smsverify.store.base import StoreUnavailable
        from smsverify.store.delivery import record_deliveries

        trigger = event.get("TriggerName")
        if isinstance(trigger, str):
            fields["trigger"] = trigger[:64]
        try:
            tencent = self.service.provider_settings("tencent")
        except KeyError:
            raise errors.InvalidParam("没有配置腾讯云短信（SMS_PROVIDER 不含 tencent），无法拉取回执") from None
        counts = {"pulled": 0, "changed": 0, "unchanged": 0, "skipped": 0}
        skipped: list[int] = []
        try:
            for batch in pull_batches(tencent, self.settings.pull_seconds, clock=self.clock, skipped=skipped,
                                      timeout_seconds=self.service.sms_timeout_seconds):
                counts["pulled"] += len(batch)
                recorded = record_deliveries(self.client, batch, self.service.code_ttl_seconds, block_of=self._block_of,
                                             retention_days=self.service.insight.metrics_retention_days, now=self.clock())
                counts["changed"] += recorded.changed
                counts["unchanged"] += recorded.unchanged
        except ReceiptPullError as exc:
            counts["skipped"] = len(skipped)
            fields.update(counts)
            error = errors.ReceiptPullFailed(providerCode=f"{exc.provider}:{exc.provider_code}", **counts)
            error.log_fields["reason"] = exc.detail[:200]
            raise error from None
        except StoreUnavailable as exc:
            # The statuses of this batch are gone from Tencent's queue: say so in the log.
            counts["skipped"] = len(skipped)
            fields.update(counts, reason=str(exc))
            log.warning("delivery statuses pulled but not recorded: Redis failed")
            raise errors.ServiceUnavailable(**counts) from None
        counts["skipped"] = len(skipped)
        fields.update(counts, codeStr="Ok")
        return integration_response({"codeStr": "Ok", "msg": "回执已拉取", "requestId": fields["requestId"], **counts})
