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
import threading
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
    """In a pool process: build an own handler, wait for all 32 (and the pytest side), run one event.
    ``{pid}`` in the environment becomes this process's id (e.g. a Redis client name)."""
    env, now, event = job
    env = {name: value.replace("{pid}", str(os.getpid())) for name, value in env.items()}
    handler = create_handler(env, clock=lambda: now)
    _barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
    return os.getpid(), handler(event, {})


# -- the pytest side ----------------------------------------------------------------
@pytest.fixture(scope="module")
def pool():
    """32 spawned processes and the barrier they meet at (with the pytest side), once per module."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES + 1)
    workers = ctx.Pool(PROCESSES, initializer=_start_worker, initargs=(barrier,))
    workers.barrier = barrier
    yield workers
    workers.terminate()
    workers.join()


def race(pool, env: dict[str, str], now: float, events: list[dict], on_start: Callable[[], Any] | None = None) -> list[dict]:
    """Run ``events`` at once, one per process; return the parsed bodies in order.
    ``on_start`` runs (in a thread of this process) the moment the 32 are released."""
    assert len(events) == PROCESSES
    if pool.barrier.broken:  # a previous scenario failed half-way
        pool.barrier.reset()

    def start() -> None:
        pool.barrier.wait(timeout=BARRIER_TIMEOUT_SECONDS)
        if on_start is not None:
            on_start()

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    results = pool.map_async(_fire, [(env, now, e) for e in events], chunksize=1).get(RACE_TIMEOUT_SECONDS)
    starter.join()
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
# Redis ran them (the client retries on a new connection), at most one per
# process, and once all of them were dropped kills every open connection.
# Cluster: the phone's shard is paused (DEBUG SLEEP) the moment the 32 are
# released, for twice the read timeout. The counts must be the fault-free ones:
# one Success per code, one SMS per allowed send, no limit exceeded, nobody
# refused for the fault.
#
# Deterministic by construction, whatever the machine's load: a process sees at
# most two connection errors (one dropped reply, one kill), and redis-py tries a
# command 1 + RETRIES = 3 times on connection errors; a call to the paused shard
# is tried (1 + TIMEOUT_RETRIES) x (1 + RETRIES) = 9 times, one read timeout
# each, so it outlasts a stall of 2 read timeouts by 7 of them. (Before, the
# proxy could drop a process's retry again, and a kill 50 ms after arming could
# meet the same process a third time; the stall started before the processes
# were released, so it overlapped the race by chance.)
import time  # noqa: E402

from smsverify.store.connection import RETRIES  # noqa: E402
from smsverify.store.redis_store import TIMEOUT_RETRIES  # noqa: E402
from tests.support import FaultProxy  # noqa: E402

DROPPED = 6
#: Read timeout of the cluster race, and how long the phone's shard is paused.
CLUSTER_TIMEOUT_SECONDS = 0.5
STALL_SECONDS = 2 * CLUSTER_TIMEOUT_SECONDS
#: Bounds a wait for the proxy to see its faults; a healthy race needs well under a second.
FAULT_WAIT_SECONDS = 60


class Faults:
    """Injects the backend's faults around one race; ``env`` is what the children use."""

    def __init__(self, backend: Backend, request) -> None:
        self.backend = backend
        self.request = request
        self.proxy: FaultProxy | None = None
        self.worker: threading.Thread | None = None
        self.errors: list[BaseException] = []
        self.killed = -1

    def env(self, **overrides: str) -> dict[str, str]:
        if not self.backend.cluster:
            server = self.request.getfixturevalue("redis_server")
            self.proxy = FaultProxy(("127.0.0.1", server.port)).start()
            # each process names its connections, so the proxy drops at most one reply per process
            return {**self.backend.env(**overrides), "REDIS_URL": self.proxy.url + "?client_name=race-{pid}"}
        return self.backend.env(REDIS_TIMEOUT_SECONDS=str(CLUSTER_TIMEOUT_SECONDS), **overrides)

    def inject(self, phone: str) -> Callable[[], None]:
        """Arm the faults; returns what to run the moment the race starts (``race``'s ``on_start``)."""
        assert (1 + TIMEOUT_RETRIES) * (1 + RETRIES) * CLUSTER_TIMEOUT_SECONDS > STALL_SECONDS + 2 * CLUSTER_TIMEOUT_SECONDS
        assert 1 + RETRIES > 2  # a dropped reply and a kill
        if self.proxy is not None:
            self.proxy.drop_replies_to(b"EVALSHA", DROPPED, once_per_client=True)
            self.worker = threading.Thread(target=self._guard(self._kill_after_drops), daemon=True)
            self.worker.start()
            return lambda: None
        cluster = self.request.getfixturevalue("redis_cluster")
        node = cluster.nodes[_node_of(cluster, keys.phone_keys(phone, "20000101").code)].client()

        def stall() -> None:
            self.worker = threading.current_thread()
            try:
                node.execute_command("DEBUG", "SLEEP", STALL_SECONDS)
            finally:
                node.close()

        return self._guard(stall)

    def _guard(self, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # reported by check()
                self.errors.append(exc)
        return run

    def _kill_after_drops(self) -> None:
        deadline = time.monotonic() + FAULT_WAIT_SECONDS
        while self.proxy.dropped_replies < DROPPED and time.monotonic() < deadline:
            time.sleep(0.005)
        self.killed = self.proxy.kill_all()

    def check(self) -> None:
        if self.worker is not None and self.worker is not threading.current_thread():
            self.worker.join(FAULT_WAIT_SECONDS)
        assert self.errors == []
        if self.proxy is not None:
            assert self.proxy.dropped_replies == DROPPED  # the faults really happened
            assert self.killed >= 0  # and the kill came after them
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

    bodies = race(pool, env, clock.now, [login(phone, code)] * PROCESSES, faults.inject(phone))
    faults.check()

    assert outcomes(bodies) == {"Success": 1, "CodeHasExpired": PROCESSES - 1}


def test_faults_mid_run_wrong_codes_count_exactly(pool, backend, faults, store, sms_api, clock):
    phone = phones(1)[0]
    env = faults.env(MAX_VERIFY_ATTEMPTS="3", DAILY_VERIFY_LIMIT="1000")
    assert answer(create_handler(env, clock=clock)(get_sms(phone), {}))["codeStr"] == "Ok"
    code = sms_api.sent_to(phone)[0]["params"][0]
    wrong = [f"{(int(code) + k) % 1_000_000:06d}" for k in range(1, PROCESSES + 1)]
    answer(create_handler(env, clock=clock)(login(phones(2)[1], "000000"), {}))  # check.lua loaded

    bodies = race(pool, env, clock.now, [login(phone, w) for w in wrong], faults.inject(phone))
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

    bodies = race(pool, env, clock.now, [get_sms(p, ip=ip) for p, ip in zip(to, sender_ips)], faults.inject(to[0]))
    faults.check()

    assert outcomes(bodies) == {"Ok": 5, "IpLimitExceeded": PROCESSES - 5}
    assert len(sms_api.sent) == 5
    assert sorted(m["phone"] for m in sms_api.sent) == sorted(p for p, b in zip(to, bodies) if b["codeStr"] == "Ok")
    global_count, per_ip = send_logs(store, sender_ips)
    assert (global_count - globals_before, per_ip) == (5, {SHARED_IP: 5})
