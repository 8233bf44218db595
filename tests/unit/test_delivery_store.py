"""The delivery store on fakeredis (the in-process store of local runs): the same
monotonic rule as on a real server (tests/integration/test_receipts.py)."""

from __future__ import annotations

import fakeredis

from smsverify.senders.receipts import DeliveryReport, DeliveryState
from smsverify.store.delivery import PIPELINE_REPORTS, delivery_state, record_deliveries


def report(serial: str, state: DeliveryState = DeliveryState.DELIVERED, description: str = "DELIVRD") -> DeliveryReport:
    return DeliveryReport("tencent", serial, "+8613800138000", state, description, 1_700_000_000)


def test_states_only_move_up_and_duplicates_change_nothing():
    client = fakeredis.FakeRedis()
    batch = [report("a", DeliveryState.FAILED, "MK:0001"), report("a", DeliveryState.FAILED, "MK:0002"),
             report("b"), report("b", DeliveryState.FAILED, "MK:0001"), report("a")]

    recorded = record_deliveries(client, batch, 300)

    assert (recorded.changed, recorded.unchanged) == (3, 2)
    assert delivery_state(client, "+8613800138000", "a") == (DeliveryState.DELIVERED, "DELIVRD")
    assert delivery_state(client, "+8613800138000", "b") == (DeliveryState.DELIVERED, "DELIVRD")
    assert delivery_state(client, "+8613800138000", "c") is None
    assert 0 < client.pttl("smsverify:{+8613800138000}:delivery:a") <= 300_000


def test_more_reports_than_one_pipeline():
    client = fakeredis.FakeRedis()
    batch = [report(f"s{i}") for i in range(PIPELINE_REPORTS * 2 + 5)]

    assert record_deliveries(client, batch, 60).changed == len(batch)
    assert record_deliveries(client, batch, 60).unchanged == len(batch)
    assert len(client.keys("*:delivery:*")) == len(batch)
