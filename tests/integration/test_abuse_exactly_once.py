"""The login throttles count a repeated attempt once (real redis-server).

A retry of one login call carries the same attempt id (the store repeats a
call that got no answer). check.lua returns a recorded outcome (OK, WRONG)
before any throttle is touched, and every failed login is the attempt id as a
sorted-set member, so even an outcome that is computed again (EXPIRED) is one
entry in the client's and the global failed-login windows.
"""

from __future__ import annotations

import pytest
import redis

from smsverify.clock import moment_at
from smsverify.service.codes import code_digest
from smsverify.store import keys
from smsverify.store.redis_store import CheckOutcome, Limits, RedisCodeStore

KEY = b"k" * 32
PHONE = "+8613800138000"
CLIENT = "203.0.113.7"
NOW = 1_700_000_000.0
LIMITS = Limits(
    code_ttl_seconds=300, send_interval_seconds=60, hourly_send_limit=5, daily_send_limit=10, ip_send_limit=20,
    ip_send_window_seconds=3600, global_send_limit=1000, global_send_window_seconds=3600, max_verify_attempts=3,
    daily_verify_limit=30, ip_verify_limit=10, ip_verify_window_seconds=3600, global_verify_limit=100,
    global_verify_window_seconds=3600,
)


@pytest.fixture(params=["single", "cluster-split"])
def store(request, redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield RedisCodeStore(client, LIMITS, cluster=request.param == "cluster-split")
    client.close()


def _windows(store: RedisCodeStore) -> tuple[int, int]:
    return store.client.zcard(keys.ip_verify_key(CLIENT)), store.client.zcard(keys.GLOBAL_VERIFY_KEY)


def test_a_repeated_wrong_attempt_counts_once_in_the_throttles(store):
    moment = moment_at(NOW)
    store.reserve_send(PHONE, code_digest(KEY, PHONE, "123456"), "r1", CLIENT, moment)
    wrong = [code_digest(KEY, PHONE, "654321")]

    first = store.check_code(PHONE, wrong, moment, "attempt-1", client=CLIENT)
    again = store.check_code(PHONE, wrong, moment, "attempt-1", client=CLIENT)

    assert (first.status, first.tries_left) == (again.status, again.tries_left) == (CheckOutcome.WRONG, 2)
    assert _windows(store) == (1, 1)
    assert int(store.client.get(keys.phone_keys(PHONE, moment.day).daily_verifies)) == 1


def test_an_attempt_with_no_live_code_counts_nothing_in_the_throttles(store):
    moment = moment_at(NOW)
    digests = [code_digest(KEY, PHONE, "123456")]

    outcomes = [store.check_code(PHONE, digests, moment, "attempt-2", client=CLIENT).status for _ in range(3)]

    assert outcomes == [CheckOutcome.EXPIRED] * 3
    assert _windows(store) == (0, 0)


def test_a_repeated_successful_attempt_counts_nothing(store):
    moment = moment_at(NOW)
    digests = [code_digest(KEY, PHONE, "123456")]
    store.reserve_send(PHONE, digests[0], "r1", CLIENT, moment)

    outcomes = [store.check_code(PHONE, digests, moment, "attempt-3", client=CLIENT).status for _ in range(2)]

    assert outcomes == [CheckOutcome.OK] * 2
    assert _windows(store) == (0, 0)
