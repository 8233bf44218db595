"""Redis faults injected into a real redis-server under a warm handler
(``main_handler`` built once, as in a warm SCF container).

Proven here:

* Redis down at invocation: getSms and login answer ``ServiceUnavailable``
  (503) as integration responses, no SMS reaches the provider, and the answer
  comes within a bounded time (connect/read timeouts and bounded retries);
* a black-holed Redis (accepts TCP connections, never answers): 503 within a
  bound, which only holds when socket read timeouts are set;
* Redis restarted between invocations (same port, data lost): the same warm
  handler reconnects and sends; the lost code gives a clear ``CodeHasExpired``;
* SCRIPT FLUSH between invocations (as after a fail-over): EVALSHA reloads the
  scripts (SCRIPT LOAD seen in ``INFO commandstats``) and both calls succeed.

Faults between a live server and the warm handler (a real TCP proxy,
tests/support/fault_proxy.py, or ``DEBUG SLEEP`` on the server):

* a reply dropped after Redis ran check.lua: the right code still answers
  ``Success``, a wrong one is counted once (``attemptsLeft`` 2, daily count 1);
  a dropped getSms reply sends one SMS and counts one send;
* a 2.5 s stall with a 1 s timeout: login and getSms get their real answer
  (the store sends the same call again on a new connection);
* an idle connection silently blackholed (a thawed container): the first
  login succeeds on a new connection; connections use TCP keepalive;
* every Redis 503 logs one WARNING naming its cause class, no secret in it.

The time bounds are upper bounds with a wide margin: they prove the waits are
bounded by the configured timeouts, not how fast anything is.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import pytest
import redis

from smsverify.clock import moment_at
from smsverify.edge.handler import create_handler
from smsverify.store.connection import describe
from smsverify.store import keys
from tests.support import answer, get_sms, last_code, login, send_record, wrong
from tests.support import FaultProxy

PHONE_1, E164_1 = "8613800138001", "+8613800138001"
PHONE_2, E164_2 = "8613800138002", "+8613800138002"


def assert_answer(body: dict[str, Any], code_str: str, status: int) -> None:
    assert (body["codeStr"], body["_status"]) == (code_str, status), body


def timed(handler, event) -> tuple[dict[str, Any], float]:
    """The answer to ``event`` and the seconds it took (time.monotonic)."""
    started = time.monotonic()
    response = handler(event, {})  # an exception here fails the test: it must never raise
    return answer(response), time.monotonic() - started



@pytest.mark.parametrize("used_before", [False, True], ids=["fresh-container", "warm-pool"])
def test_redis_down_at_invocation_gives_503_in_bounded_time_and_sends_nothing(
    redis_url, redis_server, make_env, sms_api, clock, used_before
):
    handler = create_handler(make_env(redis_url, REDIS_TIMEOUT_SECONDS="0.5"), clock=clock)
    if used_before:
        assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    sent_before = len(sms_api.sent)
    redis_server.stop()

    # Bound: a refused connection fails at once; 3 tries with 50/100 ms backoff
    # and 0.5 s timeouts stay far below 5 s. Only unbounded retries or a
    # missing timeout could reach it.
    sent, took = timed(handler, get_sms(PHONE_2))
    assert_answer(sent, "ServiceUnavailable", 503)
    assert took < 5
    assert len(sms_api.sent) == sent_before and sms_api.sent_to(E164_2) == []

    checked, took = timed(handler, login(PHONE_1, "123456"))
    assert_answer(checked, "ServiceUnavailable", 503)
    assert took < 5


@pytest.fixture
def black_hole():
    """A TCP port that accepts connections (kernel backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    finally:
        sock.close()


def test_black_holed_redis_gives_503_within_the_read_timeout(black_hole, make_env, sms_api, clock):
    handler = create_handler(make_env(black_hole, REDIS_TIMEOUT_SECONDS="0.3"), clock=clock)
    # Bound: timeouts are not retried, so each call waits about one 0.3 s read
    # timeout; < 3 s leaves a tenfold margin, and without a socket read
    # timeout the call would hang forever.
    for event in (get_sms(PHONE_1), login(PHONE_1, "123456")):
        body, took = timed(handler, event)
        assert_answer(body, "ServiceUnavailable", 503)
        assert took < 3
    assert sms_api.sent == []


def test_warm_handler_reconnects_after_redis_restart(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url), clock=clock)
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    code = last_code(sms_api, E164_1)

    redis_server.stop()
    redis_server.start()  # same port, empty: persistence is off

    assert_answer(answer(handler(get_sms(PHONE_2), {})), "Ok", 200)
    assert len(sms_api.sent_to(E164_2)) == 1
    assert_answer(answer(handler(login(PHONE_1, code), {})), "CodeHasExpired", 401)


def test_script_flush_between_invocations_reloads_the_scripts(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url), clock=clock)
    # Load both the send and the check script before the flush.
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    assert_answer(answer(handler(login(PHONE_1, last_code(sms_api, E164_1)), {})), "Success", 200)

    admin = redis_server.client()
    admin.script_flush()
    admin.config_resetstat()

    assert_answer(answer(handler(get_sms(PHONE_2), {})), "Ok", 200)
    assert_answer(answer(handler(login(PHONE_2, last_code(sms_api, E164_2)), {})), "Success", 200)

    stats = admin.info("commandstats")
    assert stats["cmdstat_script|load"]["calls"] == 2  # send.lua and check.lua, once each
    assert stats["cmdstat_evalsha"]["calls"] == 4  # NOSCRIPT then the retry, for each
    assert stats["cmdstat_evalsha"]["failed_calls"] == 2


# -- faults between the client and a live server ------------------------------
# A real TCP proxy (tests/support/fault_proxy.py) sits between the warm handler
# and redis-server; DEBUG SLEEP stalls the server itself.



@pytest.fixture
def proxy(redis_url, redis_server):
    with FaultProxy(("127.0.0.1", redis_server.port)) as running:
        yield running


def stall_server(redis_server, seconds: float) -> threading.Thread:
    """``DEBUG SLEEP seconds`` on the server, from another connection; returns once it blocks."""
    admin = redis_server.client()
    thread = threading.Thread(target=admin.execute_command, args=("DEBUG", "SLEEP", seconds), daemon=True)
    thread.start()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # wait until the server stops answering
        try:
            redis.Redis(port=redis_server.port, socket_timeout=0.05, retry=None).ping()
        except redis.TimeoutError:
            return thread
        time.sleep(0.01)
    raise AssertionError("DEBUG SLEEP did not stall the server")


def warm(handler) -> None:
    """Load send.lua and check.lua (on another phone) so the next reply is a script's, not NOSCRIPT."""
    handler(get_sms(PHONE_2, ip="203.0.113.9"), {})
    handler(login(PHONE_2, "000000"), {})


def test_dropped_reply_of_a_right_code_still_answers_success(proxy, make_env, sms_api, clock):
    handler = create_handler(make_env(proxy.url), clock=clock)
    warm(handler)
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    proxy.drop_next_reply()  # check.lua runs and consumes the code; its reply is lost
    assert_answer(answer(handler(login(PHONE_1, last_code(sms_api, E164_1)), {})), "Success", 200)
    assert proxy.dropped_replies == 1


def test_dropped_reply_of_a_wrong_code_counts_it_once(proxy, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(proxy.url), clock=clock)
    warm(handler)
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    code = last_code(sms_api, E164_1)
    proxy.drop_next_reply()
    body = answer(handler(login(PHONE_1, wrong(code)), {}))
    assert_answer(body, "CodeIsError", 401)
    assert body["attemptsLeft"] == 2  # MAX_VERIFY_ATTEMPTS 3, one wrong try
    assert proxy.dropped_replies == 1
    daily = keys.phone_keys(E164_1, moment_at(clock()).day).daily_verifies
    assert redis_server.client().get(daily) == b"1"
    assert_answer(answer(handler(login(PHONE_1, code), {})), "Success", 200)


def test_dropped_reply_of_a_getsms_sends_one_sms_and_counts_once(proxy, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(proxy.url), clock=clock)
    warm(handler)
    proxy.drop_next_reply()
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    assert len(sms_api.sent_to(E164_1)) == 1
    assert send_record(redis_server.client(), E164_1, moment_at(clock()).day).daily == 1
    assert_answer(answer(handler(login(PHONE_1, last_code(sms_api, E164_1)), {})), "Success", 200)


def test_login_during_a_stall_longer_than_the_timeout_gets_its_answer(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, REDIS_TIMEOUT_SECONDS="1"), clock=clock)
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    stalled = stall_server(redis_server, 2.5)
    assert_answer(answer(handler(login(PHONE_1, last_code(sms_api, E164_1)), {})), "Success", 200)
    stalled.join()


def test_getsms_during_a_stall_longer_than_the_timeout_sends_its_sms(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, REDIS_TIMEOUT_SECONDS="1"), clock=clock)
    warm(handler)
    stalled = stall_server(redis_server, 2.5)
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    stalled.join()
    assert len(sms_api.sent_to(E164_1)) == 1
    assert_answer(answer(handler(login(PHONE_1, last_code(sms_api, E164_1)), {})), "Success", 200)


def test_thawed_container_survives_a_blackholed_idle_connection(proxy, make_env, sms_api, clock):
    handler = create_handler(make_env(proxy.url, REDIS_TIMEOUT_SECONDS="0.5"), clock=clock)
    assert_answer(answer(handler(get_sms(PHONE_1), {})), "Ok", 200)
    assert proxy.blackhole_existing() == 1  # the idle path is silently gone
    body, took = timed(handler, login(PHONE_1, last_code(sms_api, E164_1)))
    assert_answer(body, "Success", 200)
    assert proxy.connections == 2  # a new connection after one read timeout
    assert took < 3


def test_redis_connections_use_tcp_keepalive(redis_url):
    from smsverify.store.connection import connect

    client = connect(redis_url, cluster=False, timeout_seconds=1)
    assert client.connection_pool.connection_kwargs["socket_keepalive"] is True


# -- a 503 that says why --------------------------------------------------------
class Recorder(logging.Handler):
    """Every record of the ``smsverify`` logger, whatever its handlers and propagation."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("fault", ["refused", "timeout", "DNS", "auth"])
def test_a_redis_503_logs_one_warning_with_its_cause_class(
    fault, redis_url, redis_server, black_hole, make_env, sms_api, clock
):
    password = "not-the-password-0123"  # pragma: allowlist secret
    url = {
        "refused": f"redis://127.0.0.1:{redis_server.port}/0",
        "timeout": black_hole,
        "DNS": "redis://redis-host.invalid:6379/0",
        "auth": f"redis://:{password}@127.0.0.1:{redis_server.port}/0",
    }[fault]
    if fault == "refused":
        redis_server.stop()
    if fault == "auth":
        redis_server.client().config_set("requirepass", "the-real-one-456")
    try:
        handler = create_handler(make_env(url, REDIS_TIMEOUT_SECONDS="0.2"), clock=clock)
        recorder = Recorder()
        logging.getLogger("smsverify").addHandler(recorder)
        try:
            assert_answer(answer(handler(login(PHONE_1, "123456"), {})), "ServiceUnavailable", 503)
        finally:
            logging.getLogger("smsverify").removeHandler(recorder)
    finally:
        if fault == "auth":
            admin = redis.Redis(port=redis_server.port, password="the-real-one-456")  # pragma: allowlist secret
            admin.config_set("requirepass", "")
    assert [r.getMessage() for r in recorder.records if r.levelno == logging.WARNING] == [
        f"redis unavailable at {describe(url, cluster=False)} (cause: {fault}); answering ServiceUnavailable"
    ]
    assert describe(url, cluster=False).split(":")[0] in url  # the host:port the URL names, never its password
    assert not any(password in r.getMessage() for r in recorder.records)
