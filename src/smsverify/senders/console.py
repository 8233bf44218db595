"""The ``console`` provider for local runs: writes the SMS text to stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from smsverify.senders.base import SendReceipt, SmsMessage

NAME = "console"


def from_env(reader: object, common: object) -> None:
    """The console provider has no settings."""
    return None


def build(settings: None, common: object) -> "ConsoleSender":
    """A sender writing to stderr."""
    return ConsoleSender()


class ConsoleSender:
    """Prints each message instead of sending it. Refused by configuration
    inside SCF, because it puts codes into the function's log."""

    name = NAME

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def supports(self, phone: str) -> bool:
        return True

    def send(self, message: SmsMessage, timeout_seconds: float = 0.0) -> SendReceipt:
        stream = self.stream or sys.stderr
        print(
            f"[console SMS to {message.phone}] 您的验证码为 {message.code}，{message.ttl_minutes} 分钟内有效。",
            file=stream,
            flush=True,
        )
        return SendReceipt(provider=self.name)
