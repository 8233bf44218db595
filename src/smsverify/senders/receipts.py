"""Delivery receipts: what a provider reports about an SMS after accepting it.

A provider that accepted a message (:class:`~smsverify.senders.base.SendReceipt`,
with its ``serial_no``) later learns from the carrier whether the handset got
it, and tells us by a callback (push) or a queue we read (pull). Each
provider's module turns its own format into :class:`DeliveryReport` values;
the store keeps them next to the code (:mod:`smsverify.store.delivery`).

Nothing here knows a provider's wire format, HTTP or Redis.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DeliveryState(str, enum.Enum):
    """Where one SMS is: accepted by the provider (``sent``), then one final state.

    The order ``sent`` < ``failed`` < ``delivered`` is the order in which a
    stored state may change (:attr:`rank`): a late success proves the handset
    got the message after a failure report, and nothing moves a state back.
    """

    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {DeliveryState.SENT: 0, DeliveryState.FAILED: 1, DeliveryState.DELIVERED: 2}

#: The states a report can carry (a report is never ``sent``).
FINAL_STATES = frozenset({DeliveryState.DELIVERED, DeliveryState.FAILED})


@dataclass(frozen=True)
class DeliveryReport:
    """One provider's word on one SMS. ``phone`` is personal data: log it masked or not at all.

    Attributes
    ----------
    provider:
        The sender's name, e.g. ``"tencent"`` (:attr:`SmsSender.name`).
    serial_no:
        The provider's id of the message, as its send call returned it
        (:attr:`SendReceipt.serial_no`; Tencent: ``SendStatusSet[].SerialNo``).
    phone:
        The destination in E.164, e.g. ``"+8613800138000"``.
    state:
        :attr:`DeliveryState.DELIVERED` or :attr:`DeliveryState.FAILED`.
    description:
        The carrier's status code as the provider passes it on, e.g. ``"DELIVRD"``;
        may be ``""``.
    received_at:
        When the handset received it (or the report was made), unix seconds.
    """

    provider: str
    serial_no: str
    phone: str
    state: DeliveryState
    description: str
    received_at: int

    def __post_init__(self) -> None:
        if self.state not in FINAL_STATES:
            raise ValueError(f"a delivery report is delivered or failed, not {self.state!r}")

    def __repr__(self) -> str:  # the phone must not reach a log through repr
        return (
            f"DeliveryReport(provider={self.provider!r}, serial_no={self.serial_no!r}, phone=<masked>, "
            f"state={self.state.value!r}, description={self.description!r}, received_at={self.received_at})"
        )


class ReceiptParseError(ValueError):
    """A receipt body that is not what the provider documents; nothing of it may be used.

    :attr:`problems` lists what is wrong, one short sentence each (at most
    :data:`MAX_PROBLEMS`, the first ones found), never a phone number.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems[:MAX_PROBLEMS]) or ["the body is malformed"]
        more = len(problems) - len(self.problems)
        super().__init__("; ".join(self.problems) + (f"; and {more} more" if more > 0 else ""))


#: How many problems a :class:`ReceiptParseError` names.
MAX_PROBLEMS = 10


class ReceiptPullError(Exception):
    """Pulling statuses from a provider failed; ``provider_code`` is the provider's
    error code (e.g. ``"UnauthorizedOperation..."``) or a transport label."""

    def __init__(self, provider: str, provider_code: str, detail: str = "") -> None:
        self.provider = provider
        self.provider_code = provider_code
        self.detail = detail
        super().__init__(f"{provider}:{provider_code} {detail}".strip())
