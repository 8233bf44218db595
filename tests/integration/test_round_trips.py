"""Exact Redis round trips per invocation, counted by the real redis-server.

How it is measured: ``CONFIG RESETSTAT``, one invocation through a warm
``main_handler``, then ``INFO commandstats``, all while a MONITOR connection
records every command the server runs. Redis counts the commands a Lua script
runs in commandstats too (``redis.call('ZADD', ...)`` adds to
``cmdstat_zadd``), so the commandstats sum alone is round trips *plus*
in-script commands. MONITOR tells the two apart (a script's commands show as
from ``lua``, a client's from its address): round trips are the commands
from clients other than the test's own connection, and every measurement
checks that they and the in-script commands add up to the commandstats sum
(the test's own INFO/CONFIG/CLIENT/ECHO left out). The counter,
:class:`tests.support.round_trips.RoundTripCounter`, also counts commands the
server refused before running them (none here: the connection is warm).

The warm-up runs each script once (send, check, release, settle), as any warm
container has, so only the invocation's own commands are counted.

Proven: a successful getSms is exactly one EVALSHA (every limit checked and
counted and the code written in one step), a getSms refused by the cooldown
one, a provider refusal two (reserve + release); a resend while the old code
is still valid two once the provider accepted (reserve, then settle: the new
code replaces the old one only then), one after the old code expired; a login is exactly one
EVALSHA whatever its outcome (right code, wrong code, expired code, no code
ever stored); and after SCRIPT FLUSH a getSms is three (EVALSHA answered
NOSCRIPT, SCRIPT LOAD, EVALSHA). bench/run.py prints the same counts.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from smsverify.edge.handler import create_handler
from tests.support import answer, get_sms, last_code, login, wrong
from tests.support import RoundTripCounter

WARM, WARM_REFUSED, FIRST, SECOND = "8613800138009", "8613800138008", "8613800138001", "8613800138002"
WARM_RESENT = "8613800138007"
#: SEND_INTERVAL_SECONDS (60 by default): a resend passes after it.
INTERVAL_SECONDS = 60
NEVER_SENT = "8613800138003"
#: Longer than CODE_TTL_SECONDS (300 by default).
PAST_EXPIRY_SECONDS = 301
BLACKLISTED = "FailedOperation.SignatureIncorrectOrUnapproved"  # a provider refusal that releases the reservation



@pytest.fixture
def warm(redis_url, redis_server, make_env, sms_api, clock):
    """A handler whose container has run every script once, and a counter."""
    handler = create_handler(make_env(redis_url), clock=clock)
    assert answer(handler(get_sms(WARM), {}))["codeStr"] == "Ok"
    assert answer(handler(login(WARM, last_code(sms_api, "+" + WARM)), {}))["codeStr"] == "Success"
    sms_api.sms_number_error = BLACKLISTED
    assert answer(handler(get_sms(WARM_REFUSED), {}))["codeStr"] == "SmsSendFailed"  # runs release.lua
    sms_api.sms_number_error = None
    assert answer(handler(get_sms(WARM_RESENT), {}))["codeStr"] == "Ok"
    clock.advance(INTERVAL_SECONDS)
    assert answer(handler(get_sms(WARM_RESENT), {}))["codeStr"] == "Ok"  # runs settle.lua
    counter = RoundTripCounter(redis_server.url)
    yield handler, counter
    counter.close()


def invoke(handler, event) -> Callable[[], dict[str, Any]]:
    return lambda: answer(handler(event, {}))


def test_successful_get_sms_is_one_round_trip(warm):
    handler, counter = warm
    traffic = counter.during(invoke(handler, get_sms(FIRST)))
    body = traffic.result
    assert body["codeStr"] == "Ok"
    assert traffic.refused == 0 and traffic.commands == ["evalsha"]


def test_login_is_one_round_trip(warm, sms_api):
    handler, counter = warm
    assert answer(handler(get_sms(FIRST), {}))["codeStr"] == "Ok"
    traffic = counter.during(invoke(handler, login(FIRST, last_code(sms_api, "+" + FIRST))))
    body = traffic.result
    assert body["codeStr"] == "Success"
    assert traffic.refused == 0 and traffic.commands == ["evalsha"]


@pytest.mark.parametrize(
    "outcome, expected",
    [("wrong code", "CodeIsError"), ("expired code", "CodeHasExpired"), ("no code stored", "CodeHasExpired")],
)
def test_every_other_login_outcome_is_one_round_trip(warm, sms_api, clock, outcome, expected):
    handler, counter = warm
    phone = NEVER_SENT if outcome == "no code stored" else FIRST
    code = "123456"
    if outcome != "no code stored":
        assert answer(handler(get_sms(phone), {}))["codeStr"] == "Ok"
        code = last_code(sms_api, "+" + phone)
    if outcome == "wrong code":
        code = wrong(code)
    if outcome == "expired code":
        clock.advance(PAST_EXPIRY_SECONDS)
    traffic = counter.during(invoke(handler, login(phone, code)))
    body = traffic.result
    assert body["codeStr"] == expected
    assert traffic.refused == 0 and traffic.commands == ["evalsha"]


def test_get_sms_refused_by_the_cooldown_is_one_round_trip(warm):
    handler, counter = warm
    assert answer(handler(get_sms(FIRST), {}))["codeStr"] == "Ok"
    traffic = counter.during(invoke(handler, get_sms(FIRST)))
    body = traffic.result
    assert body["codeStr"] == "TooFrequent"
    assert traffic.refused == 0 and traffic.commands == ["evalsha"]


def test_provider_refusal_is_two_round_trips_reserve_and_release(warm, sms_api):
    handler, counter = warm
    sms_api.sms_number_error = BLACKLISTED
    traffic = counter.during(invoke(handler, get_sms(FIRST)))
    body = traffic.result
    assert body["codeStr"] == "SmsSendFailed"
    assert traffic.refused == 0 and traffic.commands == ["evalsha", "evalsha"]


def test_get_sms_after_script_flush_is_three_round_trips(warm):
    handler, counter = warm
    counter.admin.script_flush()
    traffic = counter.during(invoke(handler, get_sms(SECOND)))
    body = traffic.result
    assert body["codeStr"] == "Ok"
    assert traffic.refused == 0 and traffic.commands == ["evalsha", "script load", "evalsha"]
    assert traffic.commandstats["evalsha"] == 2 and traffic.commandstats["script|load"] == 1


def test_resend_beside_a_valid_code_is_two_round_trips_reserve_and_settle(warm, sms_api, clock):
    handler, counter = warm
    assert answer(handler(get_sms(FIRST), {}))["codeStr"] == "Ok"
    clock.advance(INTERVAL_SECONDS)
    traffic = counter.during(invoke(handler, get_sms(FIRST)))
    assert traffic.result["codeStr"] == "Ok"
    assert traffic.refused == 0 and traffic.commands == ["evalsha", "evalsha"]


def test_resend_after_the_old_code_expired_is_one_round_trip(warm, sms_api, clock):
    handler, counter = warm
    assert answer(handler(get_sms(FIRST), {}))["codeStr"] == "Ok"
    clock.advance(PAST_EXPIRY_SECONDS)
    traffic = counter.during(invoke(handler, get_sms(FIRST)))
    assert traffic.result["codeStr"] == "Ok"
    assert traffic.refused == 0 and traffic.commands == ["evalsha"]


# -- the Redis-side cost: commands run inside the script ---------------------------
# What limits verifications per second per Redis shard is the server's work per
# call, and in these scripts that is about proportional to the redis.call()s they
# make (bench/redis_cpu.py measures the CPU). Exact counts under the default
# policy, single node, so that a change that adds one shows here first:
# getSms to a new phone reads the code hash and the phone's send record (cooldown,
# daily count and hourly log in one hash), counts three sliding-window logs
# (client, number prefix, global: one ZCOUNT each), then writes the send record
# (HSET, PEXPIRE), adds to the three logs (trim, ZADD, PEXPIRE each) and writes
# the code (HSET, PEXPIRE). Refused by the cooldown, it has read two hashes. A login reads the code hash, the client's and the global
# failed-login logs and the daily wrong-code count; the right code is consumed
# (HSET, PEXPIRE); a wrong one counts a wrong try (HSET), the day's wrong codes
# (INCR, and PEXPIRE only when the day's count starts) and one failed login in
# each log (trim, ZADD, PEXPIRE); with no code stored nothing is written. A login
# with a verificationId reads its bound code's hash only: the right code is
# consumed (HSET, PEXPIRE), a wrong one counts on the code alone (HSET).
# The conversion counters (issue 20, smsverify.store.metrics) add, in the same
# script: to a getSms, reading the number block's conversion window (HMGET) and
# counting the send there and in the hour's counters (HINCRBY each; a PEXPIRE
# only when a counter field is new, not here: the warm-up sent to the same
# block this hour); to a login whose code is right, counting it verified in its
# send's bucket and in the block's window (HINCRBY each). Refusals, wrong codes
# and missing codes count nothing.
#: getSms: HMGET of the block's window, HINCRBY of the hour's "sent", HINCRBY of the window's "s".
COUNTERS_GET_SMS = 3
#: a right code: HINCRBY of its bucket's "verified", HINCRBY of the window's "v".
COUNTERS_VERIFIED = 2
@pytest.mark.parametrize("case, commands", [
    ("getSms to a new phone", 2 + 3 + 2 + 3 * 3 + 2 + COUNTERS_GET_SMS),
    ("getSms refused by the cooldown", 2),
    ("login with the right code", 4 + 2 + COUNTERS_VERIFIED),
    ("login with the day's first wrong code", 4 + 1 + 2 + 2 * 3),
    ("login with a second wrong code that day", 4 + 1 + 1 + 2 * 3),
    ("login with no code stored", 4),
    ("bound login with the right code", 1 + 2 + COUNTERS_VERIFIED),
    ("bound login with a wrong code", 1 + 1),
    ("bound login with no code stored", 1),
])
def test_each_outcome_runs_an_exact_number_of_commands_in_its_script(warm, sms_api, case, commands):
    handler, counter = warm
    phone = NEVER_SENT if "no code stored" in case else FIRST
    bound = {"verificationId": "round-trip-verification-01"} if case.startswith("bound") else {}
    if case == "getSms to a new phone":
        event = get_sms(phone)
    elif case == "getSms refused by the cooldown":
        assert answer(handler(get_sms(phone), {}))["codeStr"] == "Ok"
        event = get_sms(phone)
    else:
        if phone == FIRST:
            assert answer(handler(get_sms(phone, **bound), {}))["codeStr"] == "Ok"
        code = last_code(sms_api, "+" + phone) if phone == FIRST else "123456"
        if "wrong" in case:
            code = wrong(code)
        if "second" in case:
            assert answer(handler(login(phone, code), {}))["codeStr"] == "CodeIsError"
        event = login(phone, code, **bound)
    traffic = counter.during(invoke(handler, event))
    assert traffic.commands == ["evalsha"]
    assert traffic.in_scripts == commands, traffic.commandstats
