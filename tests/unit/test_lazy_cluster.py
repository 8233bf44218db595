"""The lazily built cluster client: a timeout while building it is retried by
the store like any timeout (a shard paused for a moment must not fail a cold
container's first call), while an unreachable cluster is a connection error."""

from __future__ import annotations

import fakeredis
import pytest
import redis
from redis.exceptions import RedisClusterException

from smsverify.clock import moment_at
from smsverify.store.connection import LazyCluster
from smsverify.store.redis_store import CheckOutcome, RedisCodeStore, StoreUnavailable, TIMEOUT_RETRIES
from tests.integration.test_store_contract import LIMITS


def failing(times: int, error: Exception):
    calls = []

    def factory():
        calls.append(1)
        if len(calls) <= times:
            raise error
        return fakeredis.FakeRedis()

    return factory, calls


def test_a_timeout_while_building_is_a_timeout():
    factory, _ = failing(1, redis.TimeoutError("Timeout reading from socket"))
    with pytest.raises(redis.TimeoutError):
        LazyCluster(factory).ping()


def test_a_cluster_that_cannot_be_reached_is_a_connection_error():
    factory, _ = failing(1, RedisClusterException("Redis Cluster cannot be connected"))
    with pytest.raises(redis.ConnectionError) as refused:
        LazyCluster(factory).ping()
    assert not isinstance(refused.value, redis.TimeoutError)


def test_the_store_retries_a_client_build_that_timed_out():
    factory, calls = failing(TIMEOUT_RETRIES, redis.TimeoutError("Timeout reading from socket"))
    store = RedisCodeStore(LazyCluster(factory), LIMITS, cluster=True)
    result = store.check_code("+8613800138000", ["00"], moment_at(1_795_000_000.0))
    assert result.status is CheckOutcome.EXPIRED and len(calls) == TIMEOUT_RETRIES + 1


def test_the_store_gives_up_after_its_timeout_retries():
    factory, calls = failing(TIMEOUT_RETRIES + 1, redis.TimeoutError("Timeout reading from socket"))
    store = RedisCodeStore(LazyCluster(factory), LIMITS, cluster=True)
    with pytest.raises(StoreUnavailable) as failed:
        store.check_code("+8613800138000", ["00"], moment_at(1_795_000_000.0))
    assert failed.value.cause == "timeout" and len(calls) == TIMEOUT_RETRIES + 1
