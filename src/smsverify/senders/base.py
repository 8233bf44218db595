"""The sender contract: a sender only sends, and reports exactly what happened.

A sender turns an :class:`SmsMessage` into one provider request. It returns a
:class:`SendReceipt` when the provider accepted the message, and otherwise
raises one of the :class:`SendError` subclasses below. Provider and transport
exceptions never escape a sender module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    """One verification SMS.

    ``phone`` is E.164; ``code`` the verification code; ``ttl_minutes`` the
    validity the message announces (whole minutes, rounded up).
    """

    phone: str
    code: str
    ttl_minutes: int

    def __repr__(self) -> str:  # the code must never reach a log through repr
        return f"SmsMessage(phone=<masked>, code=<hidden>, ttl_minutes={self.ttl_minutes})"


@dataclass(frozen=True)
class SendReceipt:
    """The provider accepted the message. Identifiers only, safe to log."""

    provider: str
    serial_no: str = ""
    request_id: str = ""


class Refusal(enum.Enum):
    """Why a provider refused, as far as the service must distinguish."""

    #: The number is malformed or not deliverable (a client error).
    INVALID_NUMBER = "invalid_number"
    #: The provider's own short-term frequency limit for this number.
    PHONE_FREQUENCY = "phone_frequency"
    #: The provider's daily limit for this number.
    PHONE_DAILY = "phone_daily"
    #: Anything else: configuration, balance, content, authentication.
    OTHER = "other"


class SendError(Exception):
    """Root of sender failures. ``provider_code`` is the provider's error code."""

    def __init__(self, provider_code: str, detail: str = "") -> None:
        super().__init__(f"{provider_code}: {detail}" if detail else provider_code)
        self.provider_code = provider_code
        self.detail = detail


class SendRefused(SendError):
    """The provider answered and did not send. ``refusal`` classifies why."""

    def __init__(self, provider_code: str, detail: str = "", refusal: Refusal = Refusal.OTHER) -> None:
        super().__init__(provider_code, detail)
        self.refusal = refusal


class SendNotDelivered(SendError):
    """The request never reached the provider (connection refused, DNS,
    connect timeout): the message was certainly not sent."""


class SendTimeout(SendError):
    """The provider did not answer in time: the message may have been sent."""


class SmsSender(Protocol):
    """What the service needs of a provider."""

    name: str

    def send(self, message: SmsMessage) -> SendReceipt:
        """Send ``message``; raise :class:`SendRefused`, :class:`SendNotDelivered`
        or :class:`SendTimeout` when it was not (certainly) accepted."""
        ...
