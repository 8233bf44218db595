"""The fault proxy (tests/support/fault_proxy.py) against a real redis-server:
each fault does what the fault tests rely on."""

from __future__ import annotations

import pytest
import redis

from tests.support import FaultProxy


@pytest.fixture
def proxy(redis_url, redis_server):
    with FaultProxy(("127.0.0.1", redis_server.port)) as running:
        yield running


def client(proxy: FaultProxy, **options) -> redis.Redis:
    # No retries: the test sees each fault as the client's socket does.
    return redis.Redis(port=proxy.port, socket_timeout=0.5, retry=None, **options)


def test_passes_commands_through(proxy):
    assert client(proxy).ping() is True
    assert proxy.connections == 1


def test_dropped_reply_ran_on_the_server_but_the_client_lost_its_connection(proxy, redis_server):
    c = client(proxy)
    c.ping()
    proxy.drop_next_reply()
    with pytest.raises(redis.ConnectionError):
        c.incr("counter")
    assert proxy.dropped_replies == 1
    assert redis_server.client().get("counter") == b"1"  # the server ran it
    assert c.incr("counter") == 2  # a new connection passes again


def test_blackholed_existing_connection_times_out_and_a_new_one_passes(proxy):
    idle = client(proxy)
    idle.ping()
    assert proxy.blackhole_existing() == 1
    with pytest.raises(redis.TimeoutError):
        idle.ping()
    assert client(proxy).ping() is True


def test_blackhole_accepts_and_never_answers(proxy):
    proxy.blackhole(True)
    with pytest.raises(redis.TimeoutError):
        client(proxy).ping()


def test_stall_holds_bytes_until_resumed(proxy):
    c = client(proxy)
    c.ping()
    proxy.stall()
    with pytest.raises(redis.TimeoutError):
        c.ping()
    proxy.resume()
    assert client(proxy).ping() is True


def test_kill_all_closes_open_connections(proxy):
    c = client(proxy)
    c.ping()
    assert proxy.kill_all() == 1
    # redis-py sees the closed socket when it takes the connection from its
    # pool, and opens a new one.
    assert c.ping() is True
    assert proxy.connections == 2


def test_drop_replies_to_a_command_leaves_other_replies_alone(proxy, redis_server):
    c = client(proxy)
    proxy.drop_replies_to(b"INCR")
    assert c.ping() is True
    with pytest.raises(redis.ConnectionError):
        c.incr("counter")
    assert proxy.dropped_replies == 1
    assert redis_server.client().get("counter") == b"1"
