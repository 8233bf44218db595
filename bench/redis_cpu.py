"""Redis-side cost of one invocation: redis-server CPU time per call.

What limits verifications per second per Redis shard is the server's CPU, not
the client's wall time. The headline is the whole server process's CPU time
per call, read from ``/proc/<pid>/task/*/schedstat`` (the first field: time
on a CPU in nanoseconds; the kernel's sched-stats documentation) before and
after each block of calls. It includes what a call costs the server besides
running its command: waking from ``epoll_wait``, reading and parsing the
request, writing the answer. The server's own background work (``serverCron``,
about ``hz`` times a second) is measured while it is idle in the same run and
subtracted in proportion to each block's wall time, so a slow client does not
make its calls look expensive. The unit is a PING from a connected client in
the same run, by the same method, paced like the invocations: each PING follows
a ``main_handler`` invocation that is refused before it reaches Redis (a getSms
for a malformed phone), so the server meets it with caches as cold as the
invocations leave them. A PING's cost depends on that more than on anything
else: back to back it costs the server about a third of what it costs paced
(both are printed). The issue's figures (login 105 µs = 3.3 PINGs) imply a
PING of about 32 µs, about what a paced PING costs here.

``INFO commandstats`` gives the breakdown: the ``usec`` of ``EVALSHA`` is the
time inside the script (the commands it calls included, the network not), and
each command the script calls is listed with its calls and ``usec`` per
invocation. (A PING is about 0 µs there: its cost is all in the network part,
which is why commandstats alone cannot be the ratio.)

Cases: getSms (a code sent to a new phone: ``send.lua``), login with a wrong
code and with the right code (``check.lua``) through ``main_handler``, each
for a legacy code and a code bound to a ``verificationId`` (a bound getSms
adds ``settle.lua``, which records the provider and serial), and the
naive baseline's pattern (a new connection, GET, SET, EXPIRE per login). They
run interleaved, in blocks, so that load on the machine falls on all of them.
Traffic is shaped like real traffic, so the sorted-set windows have realistic
sizes: every call comes from its own client IP and phone, and the phones are
spread over many number prefixes; only the global windows hold every call of
the run (as they hold every send of the hour in a deployment).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import redis

from _parts import ONE_PARAMETER_TEMPLATE, UNLIMITED, Parts
from naive import NaiveFunction
from tests.support import get_sms, login, wrong
from warm import expect, silence_function_logs

#: PINGs back to back are cheap: this many per measured invocation, so their blocks are as long as the others.
PINGS_PER_CALL = 5
#: The unit of the budget: one PING after each invocation refused before Redis (see the module doc).
PACED_PING = "PING, paced"
#: Calls per block; the cases take turns block by block.
BLOCK = 250
#: Idle measurements of the server's background CPU (each this many seconds), spread over the run.
IDLE_SECONDS = 0.5


@dataclass
class Cost:
    #: server process CPU per call from /proc (schedstat), background subtracted, microseconds
    cpu_us: float
    #: EVALSHA execution per call from INFO commandstats (0 for cases without scripts), microseconds
    script_us: float
    #: every command per call from INFO commandstats: name -> (calls per invocation, usec per invocation)
    commands: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class _Sum:
    cpu_ns: int = 0
    wall_s: float = 0.0
    calls: int = 0
    commands: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0.0, 0.0]))


def _cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` so far, nanoseconds (/proc/<pid>/task/<tid>/schedstat)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as fh:
            total += int(fh.read().split()[0])
    return total


def _commandstats(client: redis.Redis) -> dict[str, tuple[int, int]]:
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): (v["calls"], v["usec"]) for k, v in stats.items()
            if k not in ("cmdstat_info", "cmdstat_config|resetstat")}


def _block(pid: int, admin: redis.Redis, calls: list[Callable[[], Any]], into: _Sum) -> None:
    admin.config_resetstat()
    wall = time.perf_counter()
    before = _cpu_ns(pid)
    for call in calls:
        call()
    after = _cpu_ns(pid)
    into.wall_s += time.perf_counter() - wall
    into.cpu_ns += after - before
    into.calls += len(calls)
    for name, (calls_, usec) in _commandstats(admin).items():
        into.commands[name][0] += calls_
        into.commands[name][1] += usec


def _idle_ns_per_second(pid: int) -> float:
    before = _cpu_ns(pid)
    started = time.perf_counter()
    time.sleep(IDLE_SECONDS)
    return (_cpu_ns(pid) - before) / (time.perf_counter() - started)


def run(parts: Parts, *, n: int) -> dict[str, Cost]:
    """``n`` calls per case (``PINGS_PER_CALL * n`` PINGs), interleaved in blocks of ``BLOCK``."""
    from smsverify.edge.handler import create_handler

    pid = parts.server.process.pid
    ours = create_handler({**parts.env, **UNLIMITED})
    silence_function_logs()
    naive = NaiveFunction(parts.env, template_id=ONE_PARAMETER_TEMPLATE)
    admin = redis.Redis.from_url(parts.redis_url)
    pinger = redis.Redis.from_url(parts.redis_url)
    pinger.ping()
    # a phone and a client IP per call; 7919 is prime to 10, so the phones are distinct and their
    # 7-digit prefixes (PREFIX_DIGITS) spread over thousands of buckets
    phones = [f"8613{i % 10}{(i * 7919) % 10**8:08d}" for i in range(8 * n)]
    ips = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(8 * n)]

    def vid(i: int) -> str:
        return f"bench-verification-{i:012d}"
    sent: dict[str, str] = {}

    def send(i: int, bound: bool = False) -> Callable[[], None]:
        event = get_sms(phones[i], ip=ips[i], **({"verificationId": vid(i)} if bound else {}))

        def call() -> None:
            expect(ours(event, {}), "Ok")
            sent[phones[i]] = parts.emulator.sent[-1]["params"][0]
        return call

    def check(i: int, right: bool, bound: bool = False) -> Callable[[], None]:
        extra = {"verificationId": vid(i)} if bound else {}
        event = login(phones[i], sent[phones[i]] if right else wrong(sent[phones[i]]), **extra)
        event["requestContext"]["sourceIp"] = ips[i]
        return lambda: expect(ours(event, {}), "Success" if right else "CodeIsError")

    # codes for the logins (sent before the measured blocks), then the naive baseline's own codes
    for i in range(n, 3 * n):
        send(i)()
    for i in range(5 * n, 7 * n):  # bound codes (verificationId) for the bound logins
        send(i, bound=True)()
    naive_codes: dict[str, str] = {}
    for i in range(3 * n, 4 * n):
        expect(naive(get_sms(phones[i], ip=ips[i]), {}), "Ok")
        naive_codes[phones[i]] = parts.emulator.sent[-1]["params"][0]
    parts.emulator.reset()

    def naive_wrong(i: int) -> Callable[[], None]:
        event = login(phones[i], wrong(naive_codes[phones[i]]))
        return lambda: expect(naive(event, {}), "CodeIsError")

    refused_before_redis = get_sms("86123", ip=ips[0])  # InValidParam at the edge: no Redis command

    def paced_ping() -> None:
        expect(ours(refused_before_redis, {}), "InValidParam")
        pinger.ping()

    cases: dict[str, list[Callable[[], Any]]] = {
        PACED_PING: [paced_ping] * n,
        "PING": [pinger.ping] * (PINGS_PER_CALL * n),
        "getSms": [send(i) for i in range(n)],
        "login, wrong code": [check(i, False) for i in range(n, 2 * n)],
        "login, right code": [check(i, True) for i in range(2 * n, 3 * n)],
        "getSms, bound (verificationId)": [send(i, bound=True) for i in range(4 * n, 5 * n)],
        "login, wrong code, bound": [check(i, False, bound=True) for i in range(5 * n, 6 * n)],
        "login, right code, bound": [check(i, True, bound=True) for i in range(6 * n, 7 * n)],
        "naive login, wrong code (new connection, GET, SET, EXPIRE)": [naive_wrong(i) for i in range(3 * n, 4 * n)],
    }
    sums = {name: _Sum() for name in cases}
    idle = [_idle_ns_per_second(pid)]
    for start in range(0, n, BLOCK):
        for name, calls in cases.items():
            size = BLOCK * (PINGS_PER_CALL if name == "PING" else 1)
            first = start * (PINGS_PER_CALL if name == "PING" else 1)
            _block(pid, admin, calls[first:first + size], sums[name])
            parts.emulator.reset()
        if start == n // 2 // BLOCK * BLOCK:
            idle.append(_idle_ns_per_second(pid))
    idle.append(_idle_ns_per_second(pid))
    background = sorted(idle)[len(idle) // 2]
    admin.close()
    pinger.close()
    paced_commands = {k for k, (calls, _) in sums[PACED_PING].commands.items() if calls}
    if paced_commands != {"ping"}:
        raise RuntimeError(f"the paced PING's invocations reached Redis: {sorted(paced_commands)}")
    costs = {}
    for name, s in sums.items():
        cpu_ns = max(0.0, s.cpu_ns - background * s.wall_s)
        commands = {k: (c / s.calls, u / s.calls) for k, (c, u) in
                    sorted(s.commands.items(), key=lambda kv: -kv[1][1]) if c}
        costs[name] = Cost(cpu_us=cpu_ns / 1e3 / s.calls, script_us=commands.get("evalsha", (0, 0.0))[1],
                           commands=commands)
    return costs
