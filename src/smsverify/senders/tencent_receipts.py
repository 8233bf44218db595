"""Tencent Cloud SMS delivery receipts, both ways Tencent offers them.

**Push** (Tencent SMS "短信下发状态通知",
https://cloud.tencent.com/document/api/382/5807 and
https://www.tencentcloud.com/document/product/382/43547): Tencent POSTs a JSON
array, one callback possibly carrying several results, each
``{"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86",
"mobile": "13xxxxxxxxx", "report_status": "SUCCESS" | "FAIL",
"errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": "<SerialNo>"}``,
every field a string; ``sid`` is the ``SerialNo`` that ``SendSms`` returned.
The receiver answers ``{"result": 0, "errmsg": "OK"}``. :func:`parse_callback`
reads that body.

**Pull** (API 3.0 ``PullSmsSendStatus``, version 2021-01-11,
https://cloud.tencent.com/document/product/382/55977): request
``{"Limit": <= 100, "SmsSdkAppId"}``, answer ``PullSmsSendStatusSet`` of
``{UserReceiveTime (unix s), CountryCode, SubscriberNumber, PhoneNumber (E.164),
SerialNo, ReportStatus: SUCCESS | FAIL, Description ("DELIVRD"), SessionContext}``.
The statuses form a queue: each is returned once. Tencent enables the action
on request only (ask the SMS helper, 腾讯云短信小助手). :func:`pull_batches` reads it
with the role's credentials, through the same SDK client helper as the sender.

The carrier's code (``errmsg`` of a callback, ``Description`` of a pulled
status) becomes :attr:`DeliveryReport.description`; the callback's human
``description`` is not kept.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterator

from smsverify.clock import CHINA_TZ
from smsverify.senders.receipts import (
    DeliveryReport,
    DeliveryState,
    ReceiptParseError,
    ReceiptPullError,
)
from smsverify.senders.tencent import NAME

if TYPE_CHECKING:
    from smsverify.senders.tencent import TencentSettings

#: Largest callback body read, in bytes (UTF-8 JSON). One item is about 250
#: bytes; Tencent documents no batch size, so 1000 items fit with room.
MAX_CALLBACK_BYTES = 512 * 1024
#: Most results accepted in one callback.
MAX_CALLBACK_ITEMS = 1000
#: ``PullSmsSendStatus``' largest ``Limit``.
PULL_LIMIT = 100
#: Below this many seconds left of the budget, no further pull is started.
MIN_PULL_SECONDS = 0.5

_STATES = {"SUCCESS": DeliveryState.DELIVERED, "FAIL": DeliveryState.FAILED}
#: SerialNo as Tencent writes it (``"5000:1045710669157053657849499619"``): it
#: becomes part of a Redis key, so only these characters.
_SERIAL = re.compile(r"[A-Za-z0-9:._-]{1,128}")
_DIGITS = re.compile(r"[0-9]+")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The longest carrier code kept; longer ones are cut (they are free text at some carriers).
MAX_DESCRIPTION_CHARS = 64
#: Any string field of a callback item longer than this is refused.
MAX_FIELD_CHARS = 256


def _e164(country_code: str, number: str) -> str | None:
    """``+<country code><number>`` if both are digits and the whole is 8-15 digits (ITU-T E.164)."""
    if not (_DIGITS.fullmatch(country_code) and _DIGITS.fullmatch(number)):
        return None
    if len(country_code) > 3 or country_code.startswith("0"):
        return None
    digits = country_code + number
    return "+" + digits if 8 <= len(digits) <= 15 else None


def _receive_time(text: str, now: int) -> int | None:
    """Unix seconds of ``YYYY-MM-DD HH:MM:SS`` in Beijing time; ``""`` -> ``now``; else None."""
    if text == "":
        return now
    try:
        return int(datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=CHINA_TZ).timestamp())
    except ValueError:
        return None


def _item(item: Any, where: str, now: int, problems: list[str]) -> DeliveryReport | None:
    if not isinstance(item, dict):
        problems.append(f"{where} is not an object")
        return None
    values: dict[str, str] = {}
    before = len(problems)
    for name in ("user_receive_time", "nationcode", "mobile", "report_status", "errmsg", "sid"):
        value = item.get(name)
        if not isinstance(value, str):
            problems.append(f"{where}.{name} is {'missing' if value is None else 'not a string'}")
        elif len(value) > MAX_FIELD_CHARS:
            problems.append(f"{where}.{name} is longer than {MAX_FIELD_CHARS} characters")
        else:
            values[name] = value
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        problems.append(f"{where}.description is not a string")
    if len(problems) > before:
        return None
    state = _STATES.get(values["report_status"])
    if state is None:
        problems.append(f"{where}.report_status is neither SUCCESS nor FAIL")
    if not _SERIAL.fullmatch(values["sid"]):
        problems.append(f"{where}.sid is not a SerialNo (1-128 of A-Z a-z 0-9 : . _ -)")
    phone = _e164(values["nationcode"], values["mobile"])
    if phone is None:
        problems.append(f"{where}: nationcode and mobile do not form a phone number")
    received_at = _receive_time(values["user_receive_time"], now)
    if received_at is None:
        problems.append(f"{where}.user_receive_time is not YYYY-MM-DD HH:MM:SS")
    if len(problems) > before or state is None or phone is None or received_at is None:
        return None
    return DeliveryReport(
        provider=NAME, serial_no=values["sid"], phone=phone, state=state,
        description=values["errmsg"][:MAX_DESCRIPTION_CHARS], received_at=received_at,
    )


def parse_callback(body: bytes, *, now: float) -> list[DeliveryReport]:
    """The reports of one status callback body, all or nothing.

    Parameters
    ----------
    body:
        The request body as received (UTF-8 JSON).
    now:
        Unix seconds, used as ``received_at`` of an item whose
        ``user_receive_time`` is ``""``.

    Returns
    -------
    list[DeliveryReport]
        In the body's order; an empty array gives ``[]``. Duplicates are kept
        (the store makes them harmless).

    Raises
    ------
    ReceiptParseError
        The body is larger than :data:`MAX_CALLBACK_BYTES`, is not UTF-8
        JSON, is not an array, has more than :data:`MAX_CALLBACK_ITEMS` items,
        or an item lacks a documented field, has one of the wrong type or
        longer than :data:`MAX_FIELD_CHARS`, a ``report_status`` other than
        ``SUCCESS``/``FAIL``, a ``sid`` that is not a serial number, a
        ``nationcode`` + ``mobile`` that is not an E.164 number, or a
        ``user_receive_time`` not in ``YYYY-MM-DD HH:MM:SS`` (Beijing time).
        Unknown extra fields are ignored.
    """
    if len(body) > MAX_CALLBACK_BYTES:
        raise ReceiptParseError([f"the body is larger than {MAX_CALLBACK_BYTES} bytes"])
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ReceiptParseError(["the body is not UTF-8 JSON"]) from None
    if not isinstance(data, list):
        raise ReceiptParseError(["the body is not a JSON array of status reports"])
    if len(data) > MAX_CALLBACK_ITEMS:
        raise ReceiptParseError([f"the body has more than {MAX_CALLBACK_ITEMS} status reports"])
    problems: list[str] = []
    reports = []
    whole_seconds = int(now)
    for index, item in enumerate(data):
        report = _item(item, f"[{index}]", whole_seconds, problems)
        if report is not None:
            reports.append(report)
    if problems:
        raise ReceiptParseError(problems)
    return reports


def _pulled(status: Any, now: int) -> DeliveryReport | None:
    """One ``PullSmsSendStatus`` entry (an SDK model), or None when it is unusable."""
    state = _STATES.get(status.ReportStatus or "")
    serial = status.SerialNo or ""
    phone = status.PhoneNumber if isinstance(status.PhoneNumber, str) else ""
    if not (phone.startswith("+") and _DIGITS.fullmatch(phone[1:]) and 8 <= len(phone) - 1 <= 15):
        phone = _e164(str(status.CountryCode or ""), str(status.SubscriberNumber or "")) or ""
    if state is None or not isinstance(serial, str) or not _SERIAL.fullmatch(serial) or not phone:
        return None
    received = status.UserReceiveTime
    received_at = received if isinstance(received, int) and not isinstance(received, bool) and received > 0 else now
    return DeliveryReport(
        provider=NAME, serial_no=serial, phone=phone, state=state,
        description=str(status.Description or "")[:MAX_DESCRIPTION_CHARS], received_at=received_at,
    )


def pull_batches(
    settings: TencentSettings,
    budget_seconds: float,
    *,
    timeout_seconds: float = 5.0,
    clock: Callable[[], float] = time.time,
    skipped: list[int] | None = None,
) -> Iterator[list[DeliveryReport]]:
    """Pull delivery statuses until the queue is empty or the budget is spent.

    Each ``PullSmsSendStatus`` call asks for :data:`PULL_LIMIT` statuses; a
    shorter answer means the queue is empty, so pulling stops. Each batch is
    yielded as soon as it arrives, so that the caller records it before the
    next call: a pulled status is gone from Tencent's queue.

    Parameters
    ----------
    settings:
        The Tencent provider's settings (``SMS_SDKAPPID``, region, endpoint,
        the role's credentials).
    budget_seconds:
        Wall time for all calls; no call starts with less than
        :data:`MIN_PULL_SECONDS` left, and each waits at most what is left.
    timeout_seconds:
        Longest wait for one call (``SMS_TIMEOUT_SECONDS``).
    clock:
        Unix seconds, the ``received_at`` of a status without ``UserReceiveTime``.
    skipped:
        When given, gets one entry appended per status left out as unusable
        (no serial number, no phone, an unknown ``ReportStatus``).

    Yields
    ------
    list[DeliveryReport]
        One per call that returned statuses (never an empty list).

    Raises
    ------
    ReceiptPullError
        A call failed (``provider_code``: Tencent's error code, e.g. an
        ``UnauthorizedOperation.*`` when pull mode is not enabled, or a
        transport label); batches yielded before stay valid.
    """
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.sms.v20210111 import models
    from tencentcloud.sms.v20210111.sms_client import SmsClient

    from smsverify.senders.tencent import _translate
    from smsverify.integrations.tencent_api import sdk_client

    deadline = time.monotonic() + budget_seconds
    client = None
    while True:
        left = deadline - time.monotonic()
        if left < MIN_PULL_SECONDS:
            return
        wait = min(timeout_seconds, left)
        if client is None:
            client = sdk_client(SmsClient, settings.credentials, settings.region, settings.endpoint, wait)
        connection = getattr(getattr(client, "request", None), "conn", None)
        if connection is not None and hasattr(connection, "timeout"):
            connection.timeout = wait  # the SDK fixes it when it builds the connection
        request = models.PullSmsSendStatusRequest()
        request.Limit = PULL_LIMIT
        request.SmsSdkAppId = settings.sdk_app_id
        try:
            response = client.PullSmsSendStatus(request)
        except TencentCloudSDKException as exc:
            error = _translate(exc)
            raise ReceiptPullError(NAME, error.provider_code, error.detail) from None
        statuses = response.PullSmsSendStatusSet or []
        now = int(clock())
        batch = []
        for status in statuses:
            report = _pulled(status, now)
            if report is not None:
                batch.append(report)
            elif skipped is not None:
                skipped.append(1)
        if batch:
            yield batch
        if len(statuses) < PULL_LIMIT:
            return


def pull(settings: TencentSettings, budget_seconds: float, **options: Any) -> list[DeliveryReport]:
    """Every status :func:`pull_batches` yields, as one list (same parameters and errors).

    Prefer :func:`pull_batches` when recording: an error after some calls
    loses the statuses already pulled if they were not recorded yet.
    """
    return [report for batch in pull_batches(settings, budget_seconds, **options) for report in batch]
