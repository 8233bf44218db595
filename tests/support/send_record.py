"""What a phone's send record holds (the hash ``{<phone>}:sends`` that send.lua
writes: see ``read_sends`` in src/smsverify/store/lua/lib.lua), decoded for
assertions: the cooldown, the day's send count, the hourly log and the backoff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smsverify.store import keys


@dataclass(frozen=True)
class SendRecord:
    #: the cooldown's "<until ms>:<reservation id>", None when there is none
    cooldown: str | None = None
    #: getSms counted on ``day``
    daily: int = 0
    #: the hourly log's (ms, reservation id) entries, oldest first (not trimmed to the hour)
    hourly: list[tuple[int, str]] = field(default_factory=list)
    #: until when (ms) a number-level refusal backs the phone off, None when there is none
    backoff: int | None = None


def send_record(client: Any, phone: str, day: str) -> SendRecord:
    """The send record of ``phone`` (E.164) as of ``day`` (``YYYYMMDD``)."""
    fields = {k.decode(): v.decode() for k, v in client.hgetall(keys.phone_keys(phone, day).sends).items()}
    recorded_day, _, count = fields.get("daily", "").partition(":")
    hourly = [(int(at), member) for at, _, member in (e.partition(":") for e in fields.get("hourly", "").split())]
    return SendRecord(cooldown=fields.get("cooldown") or None, daily=int(count) if recorded_day == day else 0, hourly=hourly,
                      backoff=int(fields["backoff"]) if fields.get("backoff") else None)
