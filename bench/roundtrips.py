"""Round trips and connections per invocation, counted exactly by the server
(:mod:`tests.support.round_trips`), for smsverify and for the naive baseline.

smsverify runs as a warm container (it has run each of its scripts once),
with the default limits and a fake clock (to let a code expire); the naive
baseline has no warm state to speak of: every invocation opens a connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from _parts import ONE_PARAMETER_TEMPLATE, UNLIMITED, Parts
from tests.support import RoundTripCounter, Traffic
from naive import NaiveFunction
from tests.support import FakeClock, get_sms, last_code, login, wrong
from warm import code_str

#: A per-number provider refusal that makes smsverify undo the reservation and answer SmsSendFailed
#: (a blacklisted number is now the client's InValidParam, so it is not this case).
REFUSED = "FailedOperation.ContainSensitiveWord"

CASES = [
    "getSms, success",
    "getSms, refused by cooldown",
    "getSms, provider refuses (undo)",
    "login, success",
    "login, wrong code",
    "login, expired code",
    "login, no code stored",
    "login, first call of a new container",
]


@dataclass
class Counted:
    ours: dict[str, Traffic]
    naive: dict[str, Traffic]
    #: connections opened by one smsverify container over ``invocations`` warm mixed invocations
    ours_connections: int
    naive_connections: int
    invocations: int


class _Phones:
    def __init__(self, prefix: str) -> None:
        self.prefix, self.next = prefix, 0

    def new(self) -> str:
        self.next += 1
        return f"{self.prefix}{self.next:06d}"


def _check(traffic: Traffic, wanted: str) -> Traffic:
    got = code_str(traffic.result)
    if got != wanted:
        raise RuntimeError(f"round-trip workload broke: expected {wanted}, got {got}")
    return traffic


def run(parts: Parts, *, invocations: int) -> Counted:
    from smsverify.edge.handler import create_handler
    from warm import silence_function_logs

    counter = RoundTripCounter(parts.redis_url)
    emulator = parts.emulator
    clock = FakeClock(start=time.time())
    env = {**parts.env, **UNLIMITED, "SEND_INTERVAL_SECONDS": "60"}  # the default cooldown, no other limit in the way
    ours = create_handler(env, clock=clock)
    silence_function_logs()
    phones = _Phones("8613700")

    def call(handler: Callable, event: Any, wanted: str) -> Any:
        response = handler(event, {})
        if code_str(response) != wanted:
            raise RuntimeError(f"round-trip workload broke: expected {wanted}, got {code_str(response)}")
        return response

    def count(handler: Callable, event: Any, wanted: str) -> Traffic:
        return _check(counter.during(lambda: handler(event, {})), wanted)

    def refusing(job: Callable[[], Traffic]) -> Traffic:
        emulator.sms_number_error = REFUSED
        try:
            return job()
        finally:
            emulator.sms_number_error = None

    # Warm-up: the container has run send, check and release once.
    phone = phones.new()
    call(ours, get_sms(phone), "Ok")
    call(ours, login(phone, last_code(emulator, "+" + phone)), "Success")
    refusing(lambda: call(ours, get_sms(phones.new()), "SmsSendFailed"))

    def ours_login(outcome: str) -> Traffic:
        phone = phones.new()
        if outcome == "no code":
            return count(ours, login(phone, "123456"), "CodeHasExpired")
        call(ours, get_sms(phone), "Ok")
        code = last_code(emulator, "+" + phone)
        if outcome == "success":
            return count(ours, login(phone, code), "Success")
        if outcome == "wrong":
            return count(ours, login(phone, wrong(code)), "CodeIsError")
        clock.advance(24 * 3600)  # past any CODE_TTL_SECONDS
        return count(ours, login(phone, code), "CodeHasExpired")

    def ours_cooldown() -> Traffic:
        phone = phones.new()
        call(ours, get_sms(phone), "Ok")
        return count(ours, get_sms(phone), "TooFrequent")

    def ours_new_container() -> Traffic:
        fresh = create_handler(env, clock=clock)
        return count(fresh, login(phones.new(), "123456"), "CodeHasExpired")

    counted_ours = {
        "getSms, success": count(ours, get_sms(phones.new()), "Ok"),
        "getSms, refused by cooldown": ours_cooldown(),
        "getSms, provider refuses (undo)": refusing(lambda: count(ours, get_sms(phones.new()), "SmsSendFailed")),
        "login, success": ours_login("success"),
        "login, wrong code": ours_login("wrong"),
        "login, expired code": ours_login("expired"),
        "login, no code stored": ours_login("no code"),
        "login, first call of a new container": ours_new_container(),
    }

    naive = NaiveFunction(parts.env, template_id=ONE_PARAMETER_TEMPLATE)
    short_lived = NaiveFunction(parts.env, template_id=ONE_PARAMETER_TEMPLATE, expire_seconds=1)

    def naive_login(outcome: str) -> Traffic:
        phone = phones.new()
        if outcome == "no code":
            return count(naive, login(phone, "123456"), "CodeHasExpired")
        function = short_lived if outcome == "expired" else naive
        call(function, get_sms(phone), "Ok")
        code = last_code(emulator, "+" + phone)
        if outcome == "success":
            return count(naive, login(phone, code), "Success")
        if outcome == "wrong":
            return count(naive, login(phone, wrong(code)), "CodeIsError")
        time.sleep(1.1)  # Redis expires the key (the baseline keeps no expiry of its own)
        return count(naive, login(phone, code), "CodeHasExpired")

    counted_naive = {
        "getSms, success": count(naive, get_sms(phones.new()), "Ok"),
        "getSms, provider refuses (undo)": refusing(lambda: count(naive, get_sms(phones.new()), REFUSED)),
        "login, success": naive_login("success"),
        "login, wrong code": naive_login("wrong"),
        "login, expired code": naive_login("expired"),
        "login, no code stored": naive_login("no code"),
        "login, first call of a new container": naive_login("no code"),
    }

    ours_connections = _connections(counter, lambda: create_handler(env, clock=clock), invocations)
    naive_connections = _connections(counter, lambda: naive, invocations)
    counter.close()
    return Counted(counted_ours, counted_naive, ours_connections, naive_connections, invocations)


def _connections(counter: RoundTripCounter, build: Callable[[], Callable], invocations: int) -> int:
    """Connections opened while one container serves ``invocations`` mixed
    getSms and logins (its first invocation included)."""
    handler = build()
    phones = _Phones("8613600")

    def stats() -> int:
        return int(counter.admin.info("stats")["total_connections_received"])

    before = stats()
    for i in range(invocations):
        phone = phones.new()
        if i % 3 == 0:
            answered, wanted = handler(get_sms(phone), {}), "Ok"
        else:
            answered, wanted = handler(login(phone, "123456"), {}), "CodeHasExpired"
        if code_str(answered) != wanted:
            raise RuntimeError(f"connection workload broke: expected {wanted}, got {code_str(answered)}")
    return stats() - before
