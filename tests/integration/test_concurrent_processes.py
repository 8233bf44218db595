"""Concurrency proof: 32 OS processes race through ``main_handler`` at once.

Each scenario runs on a real redis-server ("single") and on the real 3-master
Redis Cluster ("cluster", where getSms is split by slot). The 32 requests run
in 32 distinct processes of a ``spawn`` pool (checked by pid): each process
builds its own handler with ``create_handler(env)`` (its own Redis connection
pool and SDK client), then all wait on one ``multiprocessing.Barrier`` and
fire together. The SMS emulator runs in the pytest process; the children
reach it over HTTP (``SMS_API_ENDPOINT``). All processes share one fixed
clock value, so every wait (``retryAfter``) is exact.

Proven, with exact counts:

* 32 logins with the right code: exactly one ``Success``, 31 ``CodeHasExpired``.
* 32 distinct wrong codes, ``MAX_VERIFY_ATTEMPTS=3``: exactly 3 ``CodeIsError``
  (``attemptsLeft`` 2, 1, 0) and 29 ``CodeHasValid``.
* 32 getSms to one phone: one ``Ok`` and one SMS, 31 ``TooFrequent``.
* 32 getSms from one IP to 32 phones, ``IP_SEND_LIMIT=5``: 5 SMS, 27 ``IpLimitExceeded``.
* 32 getSms from 32 IPs to 32 phones, ``GLOBAL_SEND_LIMIT=7``: 7 SMS, 25 ``ServiceBusy``.
* 32 getSms to one phone, ``DAILY_SEND_LIMIT=1``, no cooldown: one SMS.

After every getSms race the per-IP and global send logs hold exactly the
entries of the sends that went out: refused requests keep no quota (in the
cluster, where the per-IP and global reservations are released after a
later refusal, this is the interesting part).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import phonenumbers
import pytest
import redis
from redis.cluster import RedisCluster

from smsverify.edge.handler import create_handler
from smsverify.store import keys
from tests.support import answer, get_sms, login

PROCESSES = 32
#: Generous bounds against a stuck child; a healthy race takes well under a second.
BARRIER_TIMEOUT_SECONDS = 120
RACE_TIMEOUT_SECONDS = 240
SHARED_IP = "203.0.113.7"


# -- the child side ---------------------------------------------------------------
_barrier: Any = None


def _start_worker(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _fire(job: tuple[dict[str, str], float, dict]) -> tuple[int, dict]:
    """In a pool process: build an own handler, wait for all 32, run one event."""
    env, now, event = job
    handler = create_handler(env, clock=lambda: now)
    _barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
    return os.getpid(), handler(event, {})


# -- the pytest side ----------------------------------------------------------------
@pytest.fixture(scope="module")
def pool():
    """32 spawned processes and the barrier they meet at, once per module."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    workers = ctx.Pool(PROCESSES, initializer=_start_worker, initargs=(barrier,))
    workers.barrier = barrier
    yield workers
    workers.terminate()
    workers.join()


def race(pool, env: dict[str, str], now: float, events: list[dict]) -> list[dict]:
    """Run ``events`` at once, one per process; return the parsed bodies in order."""
    assert len(events) == PROCESSES
    if pool.barrier.broken:  # a previous scenario failed half-way
        pool.barrier.reset()
    results = pool.map_async(_fire, [(env, now, e) for e in events], chunksize=1).get(RACE_TIMEOUT_SECONDS)
    pids = {pid for pid, _ in results}
    assert len(pids) == PROCESSES and os.getpid() not in pids, "each request must run in its own process"
    return [answer(response) for _, response in results]


def outcomes(bodies: list[dict]) -> Counter:
    return Counter(b["codeStr"] for b in bodies)


def phones(count: int = PROCESSES) -> list[str]:
    """Distinct valid CN mobile numbers, E.164."""
    numbers = [f"+86138{i:08d}" for i in range(count)]
    for number in numbers:
        parsed = phonenumbers.parse(number)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    return numbers


def ips(count: int = PROCESSES) -> list[str]:
    return [f"198.51.100.{i + 1}" for i in range(count)]


def seconds_to_shanghai_midnight(now: float) -> int:
    local = datetime.fromtimestamp(now, timezone(timedelta(hours=8)))
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - local).total_seconds())


@dataclass
class Backend:
    """One Redis deployment the race runs against."""

    name: str
    url: str
    make_env: Callable[..., dict[str, str]]

    @property
    def cluster(self) -> bool:
        return self.name == "cluster"

    def env(self, **overrides: str) -> dict[str, str]:
        base = {"REDIS_CLUSTER": "true"} if self.cluster else {}
        # Loose network timeouts: 32 processes share two CPUs with Redis and the emulator.
        base.update(REDIS_TIMEOUT_SECONDS="5", SMS_TIMEOUT_SECONDS="20")
        base.update(IP_VERIFY_LIMIT="1000")  # the race is under test, not one client's failed-login quota
        return self.make_env(self.url, **{**base, **overrides})

    def client(self) -> Any:
        return RedisCluster.from_url(self.url) if self.cluster else redis.Redis.from_url(self.url)


@pytest.fixture(params=[
    pytest.param("single", marks=pytest.mark.real_redis),
    pytest.param("cluster", marks=pytest.mark.cluster),
])
def backend(request, make_env):
    if request.param == "single":
        url = request.getfixturevalue("redis_url")
    else:
        cluster = request.getfixturevalue("redis_cluster")
        cluster.flush()
        url = cluster.url
    return Backend(request.param, url, make_env)


@pytest.fixture
def store(backend):
    """A plain client to inspect the send logs after a race."""
    client = backend.client()
    yield client
    client.close()


def send_logs(store, sender_ips: list[str]) -> tuple[int, dict[str, int]]:
    """ZCARD of the global log and of each IP's log."""
    per_ip = {ip: store.zcard(keys.ip_log_key(ip)) for ip in set(sender_ips)}
    return store.zcard(keys.GLOBAL_LOG_KEY), per_ip


def sent_code(backend, sms_api, clock, phone: str, **overrides: str) -> tuple[dict, str]:
    """getSms in the pytest process; return the env used and the code the emulator got."""
    env = backend.env(**overrides)
    body = answer(create_handler(env, clock=clock)(get_sms(phone), {}))
    assert body["codeStr"] == "Ok"
    [sms] = sms_api.sent_to(phone)
    return env, sms["params"][0]


# -- login races --------------------------------------------------------------------
def test_right_code_succeeds_exactly_once(pool, backend, sms_api, clock):
    phone = phones(1)[0]
    env, code = sent_code(backend, sms_api, clock, phone)

    bodies = race(pool, env, clock.now, [login(phone, code)] * PROCESSES)

    assert outcomes(bodies) == {"Success": 1, "CodeHasExpired": PROCESSES - 1}
    assert {b["_status"] for b in bodies if b["codeStr"] == "CodeHasExpired"} == {401}


def test_wrong_codes_never_exceed_the_attempt_limit(pool, backend, sms_api, clock):
    phone = phones(1)[0]
    env, code = sent_code(backend, sms_api, clock, phone, MAX_VERIFY_ATTEMPTS="3", DAILY_VERIFY_LIMIT="1000")
    wrong = [f"{(int(code) + k) % 1_000_000:06d}" for k in range(1, PROCESSES + 1)]
    assert len(set(wrong)) == PROCESSES and code not in wrong

    bodies = race(pool, env, clock.now, [login(phone, w) for w in wrong])

    assert outcomes(bodies) == {"CodeIsError": 3, "CodeHasValid": PROCESSES - 3}
    assert sorted(b["attemptsLeft"] for b in bodies if b["codeStr"] == "CodeIsError") == [0, 1, 2]
    # The invalidated code stays dead, even when right.
    after = answer(create_handler(env, clock=clock)(login(phone, code), {}))
    assert after["codeStr"] == "CodeHasValid"


# -- getSms races -------------------------------------------------------------------
@dataclass(frozen=True)
class SendRace:
    """32 getSms at once: who to, from where, under which limits, and the exact outcome."""

    id: str
    overrides: dict[str, str]
    one_phone: bool  # all to one phone, else 32 phones
    one_ip: bool  # all from SHARED_IP, else 32 IPs
    sms: int  # messages that reach the emulator
    refusal: str  # codeStr of every other request
    retry_after: Callable[[float], int]  # expected retryAfter of a refusal, given the clock


SEND_RACES = [
    SendRace("one-phone-cooldown", {"IP_SEND_LIMIT": "1000"}, True, True, 1, "TooFrequent", lambda now: 60),
    SendRace("one-ip-limit-5", {"IP_SEND_LIMIT": "5"}, False, True, 5, "IpLimitExceeded", lambda now: 3600),
    SendRace("global-limit-7", {"GLOBAL_SEND_LIMIT": "7"}, False, False, 7, "ServiceBusy", lambda now: 3600),
    SendRace(
        "one-phone-daily-1", {"DAILY_SEND_LIMIT": "1", "SEND_INTERVAL_SECONDS": "0", "IP_SEND_LIMIT": "1000"},
        True, True, 1, "DailyLimitExceeded", seconds_to_shanghai_midnight,
    ),
]


@pytest.mark.parametrize("case", SEND_RACES, ids=[c.id for c in SEND_RACES])
def test_concurrent_sends_respect_every_limit_exactly(pool, backend, store, sms_api, clock, case):
    to = [phones(1)[0]] * PROCESSES if case.one_phone else phones()
    sender_ips = [SHARED_IP] * PROCESSES if case.one_ip else ips()
    env = backend.env(**case.overrides)

    bodies = race(pool, env, clock.now, [get_sms(p, ip=ip) for p, ip in zip(to, sender_ips)])

    assert outcomes(bodies) == {"Ok": case.sms, case.refusal: PROCESSES - case.sms}
    refused = [b for b in bodies if b["codeStr"] == case.refusal]
    assert {b["retryAfter"] for b in refused} == {case.retry_after(clock.now)}
    assert len(sms_api.sent) == case.sms
    accepted = sorted(p for p, b in zip(to, bodies) if b["codeStr"] == "Ok")
    assert sorted(m["phone"] for m in sms_api.sent) == accepted

    # Refused requests hold no quota: the logs count exactly the sends that went out.
    global_count, per_ip = send_logs(store, sender_ips)
    assert global_count == case.sms
    expected_ip = Counter(ip for ip, b in zip(sender_ips, bodies) if b["codeStr"] == "Ok")
    assert per_ip == {ip: expected_ip.get(ip, 0) for ip in set(sender_ips)}


# -- the same races with faults injected mid-run -----------------------------------
# Single server: the 32 processes reach Redis through the fault proxy
# (tests/support/fault_proxy.py), which drops the replies to some EVALSHA after
# Redis ran them (the client retries on a new connection) and kills every open
# connection during the race. Cluster: the phone's shard is paused (DEBUG SLEEP)
# for longer than the read timeout as the race starts. The counts must be the
# fault-free ones: one Success per code, one SMS per allowed send, no limit
# exceeded, nobody refused for the fault.
import threading  # noqa: E402
import time  # noqa: E402

from tests.support import FaultProxy  # noqa: E402

DROPPED = 6


class Faults:
    """Injects the backend's faults around one race; ``env`` is what the children use."""

    def __init__(self, backend: Backend, request) -> None:
        self.backend = backend
        self.request = request
        self.proxy: FaultProxy | None = None
        self.stall: threading.Thread | None = None

    def env(self, **overrides: str) -> dict[str, str]:
        if not self.backend.cluster:
            server = self.request.getfixturevalue("redis_server")
            self.proxy = FaultProxy(("127.0.0.1", server.port)).start()
            return {**self.backend.env(**overrides), "REDIS_URL": self.proxy.url}
        return self.backend.env(REDIS_TIMEOUT_SECONDS="0.5", **overrides)

    def inject(self, phone: str) -> None:
        """Arm the faults; the race starts right after."""
        if self.proxy is not None:
            self.proxy.drop_replies_to(b"EVALSHA", DROPPED)
            self.stall = threading.Thread(target=self._kill_soon, daemon=True)
        else:
            cluster = self.request.getfixturevalue("redis_cluster")
            node = cluster.nodes[_node_of(cluster, keys.phone_keys(phone, "20000101").code)]
            self.stall = threading.Thread(target=node.client().execute_command, args=("DEBUG", "SLEEP", 1), daemon=True)
        self.stall.start()

    def _kill_soon(self) -> None:
        time.sleep(0.05)
        self.proxy.kill_all()

    def check(self) -> None:
        self.stall.join()
        if self.proxy is not None:
            assert self.proxy.dropped_replies == DROPPED  # the faults really happened
            self.proxy.stop()


def _node_of(cluster, key: str) -> int:
    from redis.cluster import key_slot

    slot = key_slot(key.encode())
    for start, end, primary, *_ in cluster.nodes[0].client().execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return next(i for i, node in enumerate(cluster.nodes) if node.port == int(primary[1]))
    raise AssertionError(f"slot {slot} is not served")


@pytest.fixture
def faults(backend, request):
    injected = Faults(backend, request)
    yield injected
    if injected.proxy is not None:
        injected.proxy.stop()


def test_faults_mid_run_right_code_still_succeeds_exactly_once(pool, backend, faults, sms_api, clock):
    phone = phones(1)[0]
    env = faults.env()
    body = answer(create_handler(env, clock=clock)(get_sms(phone), {}))
    assert body["codeStr"] == "Ok"
    code = sms_api.sent_to(phone)[0]["params"][0]
    answer(create_handler(env, clock=clock)(login(phones(2)[1], "000000"), {}))  # check.lua loaded

    faults.inject(phone)
    bodies = race(pool, env, clock.now, [login(phone, code)] * PROCESSES)
    faults.check()

    assert outcomes(bodies) == {"Success": 1, "CodeHasExpired": PROCESSES - 1}


def test_faults_mid_run_wrong_codes_count_exactly(pool, backend, faults, store, sms_api, clock):
    phone = phones(1)[0]
    env = faults.env(MAX_VERIFY_ATTEMPTS="3", DAILY_VERIFY_LIMIT="1000")
    assert answer(create_handler(env, clock=clock)(get_sms(phone), {}))["codeStr"] == "Ok"
    code = sms_api.sent_to(phone)[0]["params"][0]
    wrong = [f"{(int(code) + k) % 1_000_000:06d}" for k in range(1, PROCESSES + 1)]
    answer(create_handler(env, clock=clock)(login(phones(2)[1], "000000"), {}))  # check.lua loaded

    faults.inject(phone)
    bodies = race(pool, env, clock.now, [login(phone, w) for w in wrong])
    faults.check()

    assert outcomes(bodies) == {"CodeIsError": 3, "CodeHasValid": PROCESSES - 3}
    assert sorted(b["attemptsLeft"] for b in bodies if b["codeStr"] == "CodeIsError") == [0, 1, 2]
    day = datetime.fromtimestamp(clock.now, timezone(timedelta(hours=8))).strftime("%Y%m%d")
    # phones(2)[1]'s wrong try is on its own counter; this phone's counts each wrong try once.
    assert int(store.get(keys.phone_keys(phone, day).daily_verifies)) == 3


def test_faults_mid_run_sends_respect_the_ip_limit_exactly(pool, backend, faults, store, sms_api, clock):
    to, sender_ips = phones(), [SHARED_IP] * PROCESSES
    env = faults.env(IP_SEND_LIMIT="5")
    answer(create_handler(env, clock=clock)(get_sms(phones(PROCESSES + 1)[-1], ip="192.0.2.1"), {}))  # send.lua loaded
    sms_api.reset()
    globals_before = store.zcard(keys.GLOBAL_LOG_KEY)

    faults.inject(to[0])
    bodies = race(pool, env, clock.now, [get_sms(p, ip=ip) for p, ip in zip(to, sender_ips)])
    faults.check()

    assert outcomes(bodies) == {"Ok": 5, "IpLimitExceeded": PROCESSES - 5}
    assert len(sms_api.sent) == 5
    assert sorted(m["phone"] for m in sms_api.sent) == sorted(p for p, b in zip(to, bodies) if b["codeStr"] == "Ok")
    global_count, per_ip = send_logs(store, sender_ips)
    assert (global_count - globals_before, per_ip) == (5, {SHARED_IP: 5})
