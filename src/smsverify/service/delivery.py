"""Delivery of one verification SMS, with failover across providers.

The providers of ``SMS_PROVIDER`` are tried in order, within one invocation
and one time budget (``SMS_SEND_BUDGET_SECONDS``):

- a provider-level failure (:class:`ProviderRefused`, :class:`SendTimeout`:
  unreachable, HTTP 5xx, timeout, balance, authentication, template or
  signature not approved) moves on to the next provider, and is reported so
  the service can back off from that provider in every instance;
- a number-level refusal (:class:`NumberRejected`, :class:`NumberRateLimited`)
  ends delivery at once: another provider would only burn budget on it;
- providers marked down are tried after the healthy ones, only when all
  healthy ones failed, so a dead provider adds no latency while another works
  and a recovered one is found again;
- providers that cannot send to the number (the domestic-only ones for a
  non-+86 number) are left out.

Every attempt sends the same code, so when a timed-out provider did deliver
after all, the user gets the same code twice, never two different codes.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    SendError,
    SendReceipt,
    SmsMessage,
    SmsSender,
)

#: Below this many seconds left in the budget, no further provider is tried.
MIN_ATTEMPT_SECONDS = 0.5


class NoProviderForNumber(Exception):
    """None of the configured providers sends to this number's country."""


class DeliveryFailed(Exception):
    """No provider accepted the message. ``failures`` in attempt order; the
    last one decides the answer."""

    def __init__(self, failures: list[SendError]) -> None:
        super().__init__(", ".join(f.qualified_code for f in failures))
        self.failures = failures

    @property
    def final(self) -> SendError:
        return self.failures[-1]

    @property
    def maybe_sent(self) -> bool:
        """True when some attempt may have sent it (``SendError.maybe_sent``)."""
        return any(f.maybe_sent for f in self.failures)


class Delivery:
    """Sends through ``senders`` in failover order.

    Parameters
    ----------
    senders:
        In ``SMS_PROVIDER`` order.
    timeout_seconds:
        Longest wait for one provider (``SMS_TIMEOUT_SECONDS``).
    budget_seconds:
        Longest time for all attempts together (``SMS_SEND_BUDGET_SECONDS``).
    monotonic:
        Seconds, for the budget; tests pass a controllable one.
    """

    def __init__(
        self,
        senders: Sequence[SmsSender],
        *,
        timeout_seconds: float,
        budget_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.senders = list(senders)
        self.timeout_seconds = timeout_seconds
        self.budget_seconds = budget_seconds
        self.monotonic = monotonic

    @property
    def failover(self) -> bool:
        """True when there is another provider to fail over to."""
        return len(self.senders) > 1

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sender.name for sender in self.senders)

    def expected(self, phone: str) -> str | None:
        """The provider that sends to ``phone`` (E.164) when none is marked down: the first
        of the failover order that serves the number (``None``: no provider does)."""
        return next((sender.name for sender in self.senders if sender.supports(phone)), None)

    def send(
        self, message: SmsMessage, down: frozenset[str], on_failure: Callable[[SendError], None]
    ) -> tuple[SendReceipt, list[SendError]]:
        """Send ``message``; return the receipt and the failures before it.

        ``down`` names providers to try last; ``on_failure`` is called with
        each provider-level failure as it happens.

        Raises
        ------
        NoProviderForNumber
            No configured provider serves the number's country.
        DeliveryFailed
            A number-level refusal, or every provider failed, or the budget
            ran out.
        """
        able = [sender for sender in self.senders if sender.supports(message.phone)]
        if not able:
            raise NoProviderForNumber(message.phone)
        ordered = [s for s in able if s.name not in down] + [s for s in able if s.name in down]
        deadline = self.monotonic() + self.budget_seconds
        failures: list[SendError] = []
        for sender in ordered:
            remaining = deadline - self.monotonic()
            if failures and remaining < MIN_ATTEMPT_SECONDS:
                break
            try:
                receipt = sender.send(message, max(MIN_ATTEMPT_SECONDS, min(self.timeout_seconds, remaining)))
            except (NumberRejected, NumberRateLimited) as exc:
                failures.append(exc)
                raise DeliveryFailed(failures) from None
            except SendError as exc:
                failures.append(exc)
                on_failure(exc)
                continue
            return receipt, failures
        raise DeliveryFailed(failures)
