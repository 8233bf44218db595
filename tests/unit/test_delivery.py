"""Failover order and budget of :class:`smsverify.service.delivery.Delivery`.

Pure logic, with small senders written here that follow the sender contract
(the emulator-backed senders are tested end to end in
tests/integration/test_providers.py). Proven:

* providers are tried in configured order; the first success ends delivery
  and the failures before it are returned;
* a provider-level failure (refused, timeout) moves on and is reported to
  ``on_failure``; a number-level refusal (rejected number, the number's rate
  limit) ends delivery at once, reported to no one, and no later provider is
  called;
* providers marked down go last, in configured order;
* providers that cannot send to the number are left out; none left is
  :class:`NoProviderForNumber`;
* the time budget: each attempt gets ``min(SMS_TIMEOUT_SECONDS, time left)``,
  and no further provider is tried with less than ``MIN_ATTEMPT_SECONDS`` left
  (the first attempt always runs);
* ``maybe_sent`` is True exactly when some attempt may have sent (a timeout),
  never for a failure before the request left (``ProviderUnreachable``).
"""

from __future__ import annotations

import pytest

from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    ProviderRefused,
    ProviderUnreachable,
    SendError,
    SendReceipt,
    SendTimeout,
    SmsMessage,
)
from smsverify.service.delivery import MIN_ATTEMPT_SECONDS, Delivery, DeliveryFailed, NoProviderForNumber

MESSAGE = SmsMessage(phone="+8613800138000", code="123456", ttl_minutes=5)
FOREIGN = SmsMessage(phone="+85251234567", code="123456", ttl_minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedSender:
    """Answers each send with the next scripted outcome: ``"ok"`` or an error class.
    Records the timeout each call was given; a call may spend ``cost`` seconds."""

    def __init__(self, name: str, *outcomes, clock: Clock | None = None, cost: float = 0.0, mainland_only=False):
        self.name = name
        self.outcomes = list(outcomes)
        self.timeouts: list[float] = []
        self.clock = clock
        self.cost = cost
        self.mainland_only = mainland_only

    def supports(self, phone: str) -> bool:
        return not self.mainland_only or phone.startswith("+86")

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        self.timeouts.append(timeout_seconds)
        if self.clock is not None:
            self.clock.now += min(self.cost, timeout_seconds)
        outcome = self.outcomes.pop(0)
        if outcome == "ok":
            return SendReceipt(provider=self.name, serial_no=f"{self.name}-1")
        raise outcome(self.name, "X")


def deliver(senders, down=frozenset(), *, timeout=5.0, budget=8.0, clock=None, message=MESSAGE):
    failed: list[str] = []
    delivery = Delivery(senders, timeout_seconds=timeout, budget_seconds=budget, monotonic=clock or Clock())
    try:
        receipt, failures = delivery.send(message, down, lambda exc: failed.append(exc.qualified_code))
    except DeliveryFailed as exc:
        return exc, failed
    return (receipt, [f.qualified_code for f in failures]), failed


def test_the_first_provider_sends():
    a, b = ScriptedSender("a", "ok"), ScriptedSender("b", "ok")

    (receipt, before), reported = deliver([a, b])

    assert (receipt.provider, before, reported) == ("a", [], [])
    assert b.timeouts == []


@pytest.mark.parametrize("failure", [ProviderRefused, SendTimeout])
def test_a_provider_failure_fails_over_and_is_reported(failure):
    a, b = ScriptedSender("a", failure), ScriptedSender("b", "ok")

    (receipt, before), reported = deliver([a, b])

    assert (receipt.provider, before, reported) == ("b", ["a:X"], ["a:X"])


@pytest.mark.parametrize("refusal", [NumberRejected, NumberRateLimited])
def test_a_number_refusal_ends_delivery(refusal):
    a, b = ScriptedSender("a", refusal), ScriptedSender("b", "ok")

    failed, reported = deliver([a, b])

    assert isinstance(failed, DeliveryFailed) and type(failed.final) is refusal
    assert reported == [] and b.timeouts == []
    assert not failed.maybe_sent


def test_a_number_refusal_after_a_provider_failure_keeps_both():
    a, b, c = ScriptedSender("a", SendTimeout), ScriptedSender("b", NumberRejected), ScriptedSender("c", "ok")

    failed, reported = deliver([a, b, c])

    assert [f.qualified_code for f in failed.failures] == ["a:X", "b:X"]
    assert failed.maybe_sent and reported == ["a:X"] and c.timeouts == []


def test_every_provider_failing_is_delivery_failed():
    a, b = ScriptedSender("a", ProviderRefused), ScriptedSender("b", ProviderRefused)

    failed, reported = deliver([a, b])

    assert [f.qualified_code for f in failed.failures] == reported == ["a:X", "b:X"]
    assert not failed.maybe_sent


def test_providers_marked_down_go_last_in_configured_order():
    a, b, c = ScriptedSender("a", ProviderRefused), ScriptedSender("b", ProviderRefused), ScriptedSender("c", "ok")

    (receipt, before), _ = deliver([a, b, c], down=frozenset({"a", "b"}))
    assert (receipt.provider, before) == ("c", [])
    assert a.timeouts == b.timeouts == []

    failed, _ = deliver([a, b, ScriptedSender("c", ProviderRefused)], down=frozenset({"b", "a"}))
    assert [f.qualified_code for f in failed.failures] == ["c:X", "a:X", "b:X"]  # down ones in configured order


def test_a_down_provider_is_still_tried_when_it_is_the_only_way():
    a, b = ScriptedSender("a", "ok"), ScriptedSender("b", ProviderRefused)

    (receipt, before), _ = deliver([a, b], down=frozenset({"a"}))

    assert (receipt.provider, before) == ("a", ["b:X"])


def test_providers_that_cannot_reach_the_number_are_left_out():
    domestic, anywhere = ScriptedSender("domestic", "ok", mainland_only=True), ScriptedSender("anywhere", "ok")

    (receipt, _), _ = deliver([domestic, anywhere], message=FOREIGN)

    assert receipt.provider == "anywhere" and domestic.timeouts == []
    with pytest.raises(NoProviderForNumber):
        deliver([ScriptedSender("domestic", "ok", mainland_only=True)], message=FOREIGN)


def test_each_attempt_gets_the_time_left_in_the_budget():
    clock = Clock()
    a = ScriptedSender("a", SendTimeout, clock=clock, cost=5.0)
    b = ScriptedSender("b", SendTimeout, clock=clock, cost=5.0)
    c = ScriptedSender("c", "ok", clock=clock)

    failed, _ = deliver([a, b, c], timeout=5.0, budget=8.0, clock=clock)

    assert a.timeouts == [5.0]
    assert b.timeouts == [3.0]  # 8 s budget, 5 s spent
    assert c.timeouts == []  # nothing left: not tried
    assert [f.qualified_code for f in failed.failures] == ["a:X", "b:X"] and failed.maybe_sent


def test_no_further_attempt_below_the_minimum_but_the_first_always_runs():
    clock = Clock()
    a = ScriptedSender("a", ProviderRefused, clock=clock, cost=7.7)
    b = ScriptedSender("b", "ok")
    failed, _ = deliver([a, b], timeout=8.0, budget=8.0, clock=clock)
    assert b.timeouts == [] and isinstance(failed, DeliveryFailed)  # 0.3 s left < MIN_ATTEMPT_SECONDS

    lone = ScriptedSender("lone", "ok")
    (receipt, _), _ = deliver([lone], timeout=5.0, budget=0.1)
    assert receipt.provider == "lone" and lone.timeouts == [MIN_ATTEMPT_SECONDS]


def test_every_error_type_is_a_send_error():
    for kind in (NumberRejected, NumberRateLimited, ProviderRefused, SendTimeout):
        assert issubclass(kind, SendError)


@pytest.mark.parametrize(
    "failures, maybe_sent",
    [
        ([ProviderUnreachable("a", "TLSHandshake")], False),
        ([ProviderUnreachable("a", "ConnectionRefused"), ProviderRefused("b", "HTTP503")], False),
        ([SendTimeout("a", "Timeout"), ProviderUnreachable("b", "ProxyError")], True),
        ([NumberRejected("a", "406")], False),
    ],
)
def test_maybe_sent_is_carried_by_each_failure(failures, maybe_sent):
    assert DeliveryFailed(failures).maybe_sent is maybe_sent
    assert [f.maybe_sent for f in failures] == [isinstance(f, SendTimeout) for f in failures]
