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

The time bounds are upper bounds with a wide margin: they prove the waits are
bounded by the configured timeouts, not how fast anything is.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from smsverify.edge.handler import create_handler
from tests.conftest import answer, get_sms, last_code, login

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
