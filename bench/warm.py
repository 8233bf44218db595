"""Warm invocation latency: smsverify's main_handler, the naive baseline and the
floor (one bare redis-py EVALSHA of a trivial script on an already-connected
client), all against the same redis-server and emulator, interleaved round by
round so that all of them see the same machine noise.

One round: floor EVALSHA; the prescribed floor (the same EVALSHA inside a
trivial WSGI app run by serverless-wsgi's ``handle_request`` on the adapted
event); smsverify getSms, login with a wrong code, login with the right code,
a getSms refused by the resend cooldown; the same three through the naive
baseline. Each call is
timed alone (``perf_counter_ns``); everything else (building events, reading
the code the emulator received, checking each answer) is outside the timed
calls. The first ``warmup`` rounds are not kept. The emulator answers at once.

Interleaving makes every call start with caches that the previous calls
have cooled, the floor included. So the floor and a wrong-code login are
also measured back to back (the same call repeated, as a tight loop would),
the other way to read "the same conditions"; the report gives both ratios.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import redis

from _parts import ONE_PARAMETER_TEMPLATE, UNLIMITED, Parts
from naive import NaiveFunction
from tests.support import get_sms, login, wrong

#: Phones the rounds cycle through (each gets a new code every round it is used), spread over number
#: blocks as real traffic is (7919 is prime to 10): one block's many unused codes would be pumping.
PHONES = [f"8613{i % 10}{(i * 7919) % 10**8:08d}" for i in range(100)]
#: Wrong tries allowed per code, so that one code serves a back-to-back block.
BLOCK = 90


@dataclass
class Samples:
    ns: list[int] = field(default_factory=list)

    @property
    def median_us(self) -> float:
        return statistics.median(self.ns) / 1000

    @property
    def p99_us(self) -> float:
        ordered = sorted(self.ns)  # nearest rank
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] / 1000


def timed(samples: Samples | None, call: Callable[[], Any]) -> Any:
    started = time.perf_counter_ns()
    result = call()
    elapsed = time.perf_counter_ns() - started
    if samples is not None:
        samples.ns.append(elapsed)
    return result


def silence_function_logs() -> None:
    """Keep the invocation lines (still formatted and written) off the terminal."""
    sink = open(os.devnull, "w", encoding="utf-8")
    for handler in logging.getLogger("smsverify").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


def code_str(response: dict) -> str:
    """codeStr of an integration response (smsverify) or of a plain object (naive)."""
    return json.loads(response["body"])["codeStr"] if "body" in response else response["codeStr"]


def expect(response: dict, wanted: str) -> None:
    got = code_str(response)
    if got != wanted:
        raise RuntimeError(f"benchmark workload broke: expected {wanted}, got {got}: {response}")


def run(parts: Parts, *, rounds: int, warmup: int) -> dict[str, Samples]:
    from smsverify.edge.handler import create_handler

    ours = create_handler({**parts.env, **UNLIMITED, "MAX_VERIFY_ATTEMPTS": str(BLOCK + 10)})
    silence_function_logs()
    naive = NaiveFunction(parts.env, template_id=ONE_PARAMETER_TEMPLATE)
    client = redis.Redis.from_url(parts.redis_url)
    sha = client.script_load("return 1")

    import serverless_wsgi

    from smsverify.edge.event import to_wsgi_event

    # A getSms refused by the cooldown: its own container, a frozen clock, phones sent to once before the rounds.
    # The cooldown keys also expire in Redis's own time, so the interval outlasts any run (an hour).
    frozen = time.time()
    cooled = create_handler({**parts.env, **UNLIMITED, "SEND_INTERVAL_SECONDS": "3600"}, clock=lambda: frozen)
    cooled_phones = [f"8618{i % 10}{(i * 7919) % 10**8:08d}" for i in range(len(PHONES))]
    for phone in cooled_phones:
        expect(cooled(get_sms(phone), {}), "Ok")
    silence_function_logs()

    def trivial_app(environ: dict, start_response: Callable) -> list[bytes]:
        client.evalsha(sha, 0)
        start_response("200 OK", [("Content-Type", "application/json; charset=utf-8")])
        return [b'{"codeStr": "Ok"}']

    floor_event = to_wsgi_event(login(PHONES[0], "000000"), "bench-request-id")

    cases = [
        "floor", "prescribed floor", "getSms", "login-wrong", "login-success", "getSms-cooldown",
        "naive getSms", "naive login-wrong", "naive login-success",
        "back-to-back floor", "back-to-back login-wrong",
    ]
    samples = {name: Samples() for name in cases}

    def latest_code(phone: str) -> str:
        message = parts.emulator.sent[-1]
        if message["phone"] != "+" + phone:
            raise RuntimeError(f"the emulator's last SMS went to {message['phone']}, not +{phone}")
        return message["params"][0]

    for i in range(warmup + rounds):
        keep = i >= warmup
        phone = PHONES[i % len(PHONES)]
        pick = (lambda name: samples[name]) if keep else (lambda name: None)
        send_event = get_sms(phone)

        if timed(pick("floor"), lambda: client.evalsha(sha, 0)) != 1:
            raise RuntimeError("the floor script did not answer 1")
        if timed(pick("prescribed floor"), lambda: serverless_wsgi.handle_request(trivial_app, floor_event, {}))[
                "statusCode"] != 200:
            raise RuntimeError("the prescribed floor did not answer 200")

        expect(timed(pick("getSms"), lambda: ours(send_event, {})), "Ok")
        code = latest_code(phone)
        wrong_event, right_event = login(phone, wrong(code)), login(phone, code)
        expect(timed(pick("login-wrong"), lambda: ours(wrong_event, {})), "CodeIsError")
        expect(timed(pick("login-success"), lambda: ours(right_event, {})), "Success")
        cooled_event = get_sms(cooled_phones[i % len(cooled_phones)])
        expect(timed(pick("getSms-cooldown"), lambda: cooled(cooled_event, {})), "TooFrequent")

        expect(timed(pick("naive getSms"), lambda: naive(send_event, {})), "Ok")
        code = latest_code(phone)
        wrong_event, right_event = login(phone, wrong(code)), login(phone, code)
        expect(timed(pick("naive login-wrong"), lambda: naive(wrong_event, {})), "CodeIsError")
        expect(timed(pick("naive login-success"), lambda: naive(right_event, {})), "Success")
        if len(parts.emulator.sent) > 10_000:
            parts.emulator.reset()  # keep the emulator's records small; only the latest is read

    floor = samples["back-to-back floor"]
    for i in range(warmup + rounds):
        timed(floor if i >= warmup else None, lambda: client.evalsha(sha, 0))
    kept = samples["back-to-back login-wrong"]
    done = -warmup
    while done < rounds:
        phone = PHONES[done % len(PHONES)]
        expect(ours(get_sms(phone), {}), "Ok")
        wrong_event = login(phone, wrong(latest_code(phone)))
        for _ in range(min(BLOCK, rounds - done)):
            expect(timed(kept if done >= 0 else None, lambda: ours(wrong_event, {})), "CodeIsError")
            done += 1
    client.close()
    return samples
