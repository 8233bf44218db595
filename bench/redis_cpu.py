"""Redis-side cost of one invocation: redis-server CPU time per call.

What limits verifications per second per Redis shard is the server's CPU, not
the client's wall time. For each case, ``n`` calls in a row while the
server's user + system CPU time is read from ``/proc/<pid>/stat`` (fields 14
and 15, in clock ticks; proc(5)) before and after; the cost per call is the
difference over ``n``. The same phase is also read from ``INFO commandstats``
(``usec`` of the commands the clients sent: time inside command execution
only, without reading, parsing and answering). A PING from a connected client
in the same run is the unit.

Cases: getSms (a code sent to a new phone: ``send.lua``), login with a wrong
code and with the right code (``check.lua``) through ``main_handler``, and the
naive baseline's pattern (a new connection, GET, SET, EXPIRE per login), each
phase alone so that only its own calls are counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import redis

from _parts import ONE_PARAMETER_TEMPLATE, UNLIMITED, Parts
from naive import NaiveFunction
from tests.support import get_sms, login, wrong
from warm import expect, silence_function_logs

#: PINGs are cheap: this many per measured invocation, so the PING phase spans enough clock ticks.
PINGS_PER_CALL = 20
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Cost:
    #: server CPU per call from /proc, microseconds
    cpu_us: float
    #: command execution time per call from INFO commandstats, microseconds
    commandstats_us: float


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime, stime: fields 14 and 15 of the line


def _commandstats_usec(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(v["usec"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_config|resetstat"))


def _phase(parts: Parts, admin: redis.Redis, calls: list[Callable[[], Any]]) -> Cost:
    admin.config_resetstat()
    before = _cpu_seconds(parts.server.process.pid)
    for call in calls:
        call()
    after = _cpu_seconds(parts.server.process.pid)
    usec = _commandstats_usec(admin)
    return Cost(cpu_us=(after - before) * 1e6 / len(calls), commandstats_us=usec / len(calls))


def run(parts: Parts, *, n: int) -> dict[str, Cost]:
    from smsverify.edge.handler import create_handler

    ours = create_handler({**parts.env, **UNLIMITED})
    silence_function_logs()
    naive = NaiveFunction(parts.env, template_id=ONE_PARAMETER_TEMPLATE)
    admin = redis.Redis.from_url(parts.redis_url)
    pinger = redis.Redis.from_url(parts.redis_url)
    pinger.ping()
    phones = [f"86133{i:08d}" for i in range(2 * n)]
    sent: dict[str, str] = {}

    def send(phone: str) -> Callable[[], None]:
        def call() -> None:
            expect(ours(get_sms(phone), {}), "Ok")
            sent[phone] = parts.emulator.sent[-1]["params"][0]
        return call

    def check(phone: str, right: bool) -> Callable[[], None]:
        event = login(phone, sent[phone] if right else wrong(sent[phone]))
        return lambda: expect(ours(event, {}), "Success" if right else "CodeIsError")

    costs = {"PING": _phase(parts, admin, [pinger.ping] * (PINGS_PER_CALL * n))}
    costs["getSms"] = _phase(parts, admin, [send(p) for p in phones[:n]])
    parts.emulator.reset()
    for phone in phones[n:]:
        send(phone)()
    parts.emulator.reset()
    costs["login, wrong code"] = _phase(parts, admin, [check(p, False) for p in phones[n:]])
    costs["login, right code"] = _phase(parts, admin, [check(p, True) for p in phones[:n]])
    naive_phones = phones[:n]
    naive_codes: dict[str, str] = {}
    for phone in naive_phones:
        expect(naive(get_sms(phone), {}), "Ok")
        naive_codes[phone] = parts.emulator.sent[-1]["params"][0]
    parts.emulator.reset()
    costs["naive login, wrong code (new connection, GET, SET, EXPIRE)"] = _phase(
        parts, admin, [(lambda e=login(p, wrong(naive_codes[p])): expect(naive(e, {}), "CodeIsError"))
                       for p in naive_phones])
    admin.close()
    pinger.close()
    return costs
