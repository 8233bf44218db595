"""The CodeStore contract (smsverify.store.base), proven on fakeredis, a real
redis-server and a real 3-master Redis Cluster, and moment_at.

Every test runs on five backends: fakeredis and a real redis-server, each with
``cluster=False`` (one script checks and counts every limit) and ``cluster=True``
(the split path: per-IP window, global window, phone script, with undo of earlier
steps), and the real cluster (split path only: its keys live on three masters).
fakeredis runs Lua through lupa; the real servers are what the function meets.

Proven here, with hand-built Moments (no wall clock):
- reserve then check succeeds exactly once; the stored state is exactly the HMAC,
  the counters and the window entries, never the code;
- each limit refuses with its exact wait: cooldown, hourly sliding window, daily
  calendar cap, per-IP window, global window (first trip flagged once);
- a refusal writes nothing (full dump of keys and values before and after);
- release_send removes exactly this reservation's entries, and only once;
- check_code counts wrong tries down, invalidates, expires at the expiry instant,
  locks after the daily verify limit, and accepts a digest under the previous key;
- exactly once: a retried reserve with the same reservation id and a repeated
  check with the same attempt id return their first outcome and write nothing more;
- provider health: reserve_send reports the providers marked down until the
  marker's end on the service clock, also on a retried reserve, and a refusal
  reports none;
- moment_at gives the Asia/Shanghai day and the time left in it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import fakeredis
import pytest
import redis
from redis.cluster import RedisCluster

from smsverify.clock import CHINA_TZ, moment_at
from smsverify.service.codes import code_digest
from smsverify.store import keys
from smsverify.store.redis_store import CheckResult, Limits, Moment, RedisCodeStore, Refusal, Reserved
from tests.support import send_record

KEY = b"unit-code-secret-0123456789abcdef"  # pragma: allowlist secret
OLD_KEY = b"unit-previous-secret-0123456789"  # pragma: allowlist secret
A, B, C, D, E = "+8613800138000", "+8613900139000", "+8613700137000", "+8613600136000", "+8613500135000"
IP1, IP2, IP3, IP4 = "203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"

LIMITS = Limits(
    code_ttl_seconds=300, send_interval_seconds=60, hourly_send_limit=5, daily_send_limit=10,
    ip_send_limit=20, ip_send_window_seconds=3600, global_send_limit=1000, global_send_window_seconds=3600,
    max_verify_attempts=3, daily_verify_limit=30,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: 2026-11-21T00:00:00 in Asia/Shanghai, Unix ms.
MIDNIGHT_MS = int(datetime(2026, 11, 21, tzinfo=CHINA_TZ).timestamp()) * 1000


def at(hours: int = 10, minutes: int = 0, seconds: int = 0, ms: int = 0, day: int = 0) -> Moment:
    """The Moment at hh:mm:ss.ms Shanghai time on 2026-11-21 plus ``day`` days."""
    into_day = ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms
    assert 0 <= into_day < DAY_MS
    return Moment(now_ms=MIDNIGHT_MS + day * DAY_MS + into_day, day=f"202611{21 + day}", ms_to_day_end=DAY_MS - into_day)


#: (server, split path): the real cluster takes only the split path (its keys live on three masters).
BACKENDS = [
    pytest.param(("fakeredis", False), id="fakeredis"),
    pytest.param(("fakeredis", True), id="fakeredis-split"),
    pytest.param(("redis", False), id="redis", marks=pytest.mark.real_redis),
    pytest.param(("redis", True), id="redis-split", marks=pytest.mark.real_redis),
    pytest.param(("cluster", True), id="cluster", marks=pytest.mark.cluster),
]


@pytest.fixture(params=BACKENDS)
def backend(request) -> tuple[str, bool]:
    return request.param


@pytest.fixture
def cluster(backend) -> bool:
    """True: the store takes the split (cluster) path."""
    return backend[1]


@pytest.fixture
def client(backend, request):
    """An empty Redis of the backend's kind."""
    server = backend[0]
    if server == "fakeredis":
        client = fakeredis.FakeRedis()
    elif server == "redis":
        client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    else:
        nodes = request.getfixturevalue("redis_cluster")
        nodes.flush()
        client = RedisCluster.from_url(nodes.url)
    yield client
    client.close()


@pytest.fixture
def make_store(client, cluster):
    def build(**limits) -> RedisCodeStore:
        return RedisCodeStore(client, replace(LIMITS, **limits), cluster=cluster)

    return build


def reserve(store, phone, code, rid, ip, moment, key=KEY):
    """``None`` when reserved (no provider health asked), else the Refusal."""
    outcome = store.reserve_send(phone, code_digest(key, phone, code), rid, ip, moment)
    if isinstance(outcome, Reserved):
        assert outcome.providers_down == frozenset()
        return None
    return outcome


def check(store, phone, code, moment, *keys_):
    return store.check_code(phone, [code_digest(k, phone, code) for k in (keys_ or (KEY,))], moment)


def dump(client) -> dict:
    """Every key with its type and value (TTLs left out: they count down on wall time)."""
    out = {}
    for key in sorted(client.scan_iter()):
        kind = client.type(key).decode()
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            raise AssertionError(f"unexpected {kind} at {key!r}")
        out[key.decode()] = (kind, value)
    return out


def phone_day(phone: str, moment: Moment) -> keys.PhoneKeys:
    return keys.phone_keys(phone, moment.day)


# -- reserve then check -------------------------------------------------------------


def test_reserve_then_check_succeeds_once(make_store):
    store = make_store()
    assert reserve(store, A, "123456", "r1", IP1, at(10)) is None
    assert check(store, A, "123456", at(10, 0, 30)) == CheckResult("OK")
    assert check(store, A, "123456", at(10, 0, 31)) == CheckResult("EXPIRED")


def test_reserve_writes_exactly_the_hmac_counters_and_window_entries(make_store, client):
    store = make_store()
    m = at(10)
    assert reserve(store, A, "123456", "r1", IP1, m) is None
    pk = phone_day(A, m)
    digest = code_digest(KEY, A, "123456").encode()
    now = m.now_ms
    assert dump(client) == {
        pk.code: ("hash", {b"d": digest, b"n": b"0", b"x": str(now + 300_000).encode(), b"m": b"r1"}),
        pk.sends: ("hash", {b"cooldown": f"{now + 60_000}:r1".encode(), b"daily": f"{m.day}:1".encode(),
                            b"hourly": f"{now}:r1".encode()}),
        keys.ip_log_key(IP1): ("zset", [(b"r1", float(now))]),
        keys.GLOBAL_LOG_KEY: ("zset", [(b"r1", float(now))]),
    }
    assert b"123456" not in repr(dump(client)).encode()


def test_day_counts_live_until_an_hour_after_their_day(make_store, client):
    """At 10:00 Shanghai the day ends in 14 h: the send record and the wrong-code count live 15 h, the code its TTL."""
    store = make_store()
    m = at(10)
    assert reserve(store, A, "123456", "r1", IP1, m) is None
    assert check(store, A, "654321", m) == CheckResult("WRONG", tries_left=2)
    pk = phone_day(A, m)
    for key, ttl in ((pk.sends, 15 * HOUR_MS), (pk.daily_verifies, 15 * HOUR_MS), (pk.code, 300_000)):
        assert ttl - 5_000 < client.pttl(key) <= ttl, key


def test_never_sent_is_expired(make_store):
    assert check(make_store(), A, "123456", at(10)) == CheckResult("EXPIRED")


# -- limits ------------------------------------------------------------------------------


def test_cooldown_refuses_with_exact_wait(make_store):
    store = make_store()
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    assert reserve(store, A, "222222", "r2", IP1, at(10, 0, 10)) == Refusal("COOLDOWN", 50_000)
    assert reserve(store, A, "222222", "r2", IP1, at(10, 0, 59, 999)) == Refusal("COOLDOWN", 1)
    assert reserve(store, A, "222222", "r2", IP1, at(10, 1)) is None
    # Once the provider accepted it, the new code replaced the old one.
    assert store.settle_send(A, "r2", at(10, 1), accepted=True) is True
    assert check(store, A, "111111", at(10, 1, 1)) == CheckResult("WRONG", tries_left=2)
    assert check(store, A, "222222", at(10, 1, 2)) == CheckResult("OK")


def test_cooldown_is_per_phone(make_store):
    store = make_store()
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    assert reserve(store, B, "111111", "r2", IP1, at(10)) is None


def test_hourly_sliding_window(make_store):
    store = make_store(hourly_send_limit=2)
    assert reserve(store, A, "111111", "r1", IP1, at(10, 0)) is None
    assert reserve(store, A, "222222", "r2", IP1, at(10, 1)) is None
    # wait = oldest + 3600000 - now
    assert reserve(store, A, "333333", "r3", IP1, at(10, 2)) == Refusal("HOURLY", HOUR_MS - 120_000)
    assert reserve(store, A, "333333", "r3", IP1, at(10, 59, 59, 999)) == Refusal("HOURLY", 1)
    assert reserve(store, A, "333333", "r3", IP1, at(11, 0)) is None  # r1 left the window
    assert reserve(store, A, "444444", "r4", IP1, at(11, 1)) is None  # r2 left at 11:01:00
    assert reserve(store, A, "555555", "r5", IP1, at(11, 2)) == Refusal("HOURLY", HOUR_MS - 120_000)


def test_daily_cap_until_shanghai_midnight(make_store):
    store = make_store(daily_send_limit=2)
    assert reserve(store, A, "111111", "r1", IP1, at(10, 0)) is None
    assert reserve(store, A, "222222", "r2", IP1, at(10, 1)) is None
    refused = reserve(store, A, "333333", "r3", IP1, at(10, 2))
    assert refused == Refusal("DAILY", 14 * HOUR_MS - 120_000)  # until 00:00 Shanghai
    assert reserve(store, A, "333333", "r3", IP1, at(23, 59, 59, 999)) == Refusal("DAILY", 1)
    assert reserve(store, A, "333333", "r3", IP1, at(0, 0, 0, day=1)) is None  # a new day


def test_ip_window_counts_sends_from_one_address(make_store, client):
    store = make_store(ip_send_limit=2, ip_send_window_seconds=600)
    assert reserve(store, A, "111111", "r1", IP1, at(10, 0)) is None
    assert reserve(store, B, "111111", "r2", IP1, at(10, 1)) is None
    assert reserve(store, C, "111111", "r3", IP1, at(10, 2)) == Refusal("IP", 480_000)
    assert reserve(store, C, "111111", "r3", IP2, at(10, 2)) is None  # another address
    assert reserve(store, D, "111111", "r4", IP1, at(10, 10)) is None  # r1 left the 10-minute window
    assert client.zcard(keys.ip_log_key(IP1)) == 2


def test_unknown_ip_is_not_counted_per_ip(make_store, client):
    store = make_store(ip_send_limit=1)
    for i, phone in enumerate((A, B, C)):
        assert reserve(store, phone, "111111", f"r{i}", None, at(10, i)) is None
    assert not [k for k in dump(client) if k.startswith("smsverify:{ip:")]


def test_global_window_trips_once_per_window(make_store, client):
    store = make_store(global_send_limit=2, global_send_window_seconds=600)
    assert reserve(store, A, "111111", "r1", IP1, at(10, 0)) is None
    assert reserve(store, B, "111111", "r2", IP2, at(10, 1)) is None
    assert reserve(store, C, "111111", "r3", IP3, at(10, 2)) == Refusal("GLOBAL", 480_000, first_trip=True)
    assert reserve(store, D, "111111", "r4", IP4, at(10, 3)) == Refusal("GLOBAL", 420_000, first_trip=False)
    assert reserve(store, C, "111111", "r3", IP3, at(10, 10)) is None  # r1 left the window
    assert client.zrange(keys.GLOBAL_LOG_KEY, 0, -1) == [b"r2", b"r3"]
    # Full again within the first trip's window (10:02 + 10 min): not a first trip.
    assert reserve(store, D, "111111", "r4", IP4, at(10, 10, 30)) == Refusal("GLOBAL", 30_000, first_trip=False)
    assert reserve(store, D, "111111", "r4", IP4, at(10, 11)) is None  # r2 left
    # Full again once that window is over on the service clock: a new first trip (one ERROR log per window).
    assert reserve(store, E, "111111", "r5", IP1, at(10, 12)) == Refusal("GLOBAL", 480_000, first_trip=True)


# -- a refusal writes nothing -----------------------------------------------------------------

#: reason, limits, reservations made first (phone, rid, ip, moment), the refused attempt
REFUSALS = [
    ("COOLDOWN", {}, [(A, "r1", IP1, at(10))], (A, "x", IP2, at(10, 0, 10))),
    ("HOURLY", {"hourly_send_limit": 1}, [(A, "r1", IP1, at(10))], (A, "x", IP2, at(10, 5))),
    ("DAILY", {"daily_send_limit": 1}, [(A, "r1", IP1, at(10))], (A, "x", IP2, at(10, 5))),
    ("IP", {"ip_send_limit": 1}, [(A, "r1", IP1, at(10))], (B, "x", IP1, at(10, 1))),
    ("GLOBAL", {"global_send_limit": 1}, [(A, "r1", IP1, at(10))], (B, "x", IP2, at(10, 1))),
]


@pytest.mark.parametrize("reason, limits, before, attempt", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal_writes_nothing(make_store, client, reason, limits, before, attempt):
    store = make_store(**limits)
    for phone, rid, ip, moment in before:
        assert reserve(store, phone, "111111", rid, ip, moment) is None
    if reason == "GLOBAL":
        # The first refusal of a window sets the breaker marker (one ERROR log per window) and nothing else.
        snapshot = dump(client)
        first = reserve(store, C, "222222", "y", IP3, attempt[3])
        assert first.reason == "GLOBAL" and first.first_trip
        # The marker holds the end of its window on the service clock.
        until = str(attempt[3].now_ms + LIMITS.global_send_window_seconds * 1000).encode()
        assert dump(client) == {**snapshot, keys.GLOBAL_TRIPPED_KEY: ("string", until)}
    snapshot = dump(client)
    phone, rid, ip, moment = attempt
    refusal = reserve(store, phone, "222222", rid, ip, moment)
    assert refusal is not None and refusal.reason == reason
    assert dump(client) == snapshot


# -- release ---------------------------------------------------------------------------------


def test_release_removes_exactly_this_reservation(make_store, client, cluster):
    store = make_store()
    m1, m2 = at(10), at(10, 0, 1)
    assert reserve(store, A, "111111", "r1", IP1, m1) is None
    assert reserve(store, B, "222222", "r2", IP1, m2) is None
    store.release_send(A, "r1", IP1, m1)

    # The state is that of a store where only B's reservation was made, plus A's send record with nothing in it
    # but the day's count, given back to 0.
    expected_client = fakeredis.FakeRedis()
    expected = RedisCodeStore(expected_client, LIMITS, cluster=cluster)
    assert reserve(expected, B, "222222", "r2", IP1, m2) is None
    emptied = ("hash", {b"cooldown": b"", b"daily": f"{m1.day}:0".encode(), b"hourly": b""})
    assert dump(client) == {**dump(expected_client), phone_day(A, m1).sends: emptied}

    # A has no cooldown left and can be sent to at once; B's code still works.
    assert reserve(store, A, "333333", "r3", IP1, at(10, 0, 2)) is None
    assert check(store, B, "222222", at(10, 0, 3)) == CheckResult("OK")


def test_release_returns_the_number_of_entries_removed(make_store):
    store = make_store()
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    # code, cooldown, hourly entry, per-IP entry, global entry
    assert store.release_send(A, "r1", IP1, at(10)) == 5


def test_release_twice_releases_nothing_more(make_store, client):
    store = make_store()
    m = at(10)
    assert reserve(store, A, "111111", "r1", IP1, m) is None
    assert store.release_send(A, "r1", IP1, m) == 5
    snapshot = dump(client)
    assert store.release_send(A, "r1", IP1, m) == 0
    assert dump(client) == snapshot


def test_a_repeated_check_attempt_returns_its_recorded_outcome(make_store, client):
    store = make_store()
    assert reserve(store, A, "123456", "r1", IP1, at(10)) is None
    digest = code_digest(KEY, A, "000000")
    first = store.check_code(A, [digest], at(10, 0, 1), attempt_id="a1")
    snapshot = dump(client)
    assert store.check_code(A, [digest], at(10, 0, 1), attempt_id="a1") == first == CheckResult("WRONG", tries_left=2)
    assert dump(client) == snapshot
    right = code_digest(KEY, A, "123456")
    assert store.check_code(A, [right], at(10, 0, 2), attempt_id="a2") == CheckResult("OK")
    assert store.check_code(A, [right], at(10, 0, 2), attempt_id="a2") == CheckResult("OK")
    assert store.check_code(A, [right], at(10, 0, 3), attempt_id="a3") == CheckResult("EXPIRED")


def test_release_keeps_a_newer_code_of_the_same_phone(make_store, client):
    store = make_store(send_interval_seconds=0)
    m1, m2 = at(10), at(10, 0, 5)
    assert reserve(store, A, "111111", "r1", IP1, m1) is None
    assert reserve(store, A, "222222", "r2", IP1, m2) is None
    store.release_send(A, "r1", IP1, m1)
    record = send_record(client, A, m1.day)
    assert record.daily == 1
    assert record.hourly == [(m2.now_ms, "r2")]
    assert client.zrange(keys.ip_log_key(IP1), 0, -1) == [b"r2"]
    assert client.zrange(keys.GLOBAL_LOG_KEY, 0, -1) == [b"r2"]
    assert check(store, A, "222222", at(10, 0, 6)) == CheckResult("OK")


def pending_resend(store) -> Reserved:
    """Code 111111 (r1, one wrong try) at 10:00, then the resend 222222 (r2) at 10:01."""
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    assert check(store, A, "000000", at(10, 0, 30)) == CheckResult("WRONG", tries_left=2)
    outcome = store.reserve_send(A, code_digest(KEY, A, "222222"), "r2", IP1, at(10, 1))
    assert outcome == Reserved(pending=True)
    return outcome


def test_a_first_send_is_not_pending(make_store):
    store = make_store()
    assert store.reserve_send(A, code_digest(KEY, A, "111111"), "r1", IP1, at(10)) == Reserved(pending=False)
    assert store.settle_send(A, "r1", at(10), accepted=True) is False  # nothing to settle


def test_a_resend_after_the_old_code_expired_is_not_pending(make_store):
    store = make_store()
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    assert store.reserve_send(A, code_digest(KEY, A, "222222"), "r2", IP1, at(10, 5)) == Reserved(pending=False)
    assert check(store, A, "111111", at(10, 5, 1)) == CheckResult("WRONG", tries_left=2)


def test_a_released_resend_leaves_the_old_code_with_its_tries_and_ttl(make_store):
    store = make_store()
    pending_resend(store)
    assert store.release_send(A, "r2", IP1, at(10, 1, 1)) >= 1
    assert store.release_send(A, "r2", IP1, at(10, 1, 1)) == 0  # exactly once
    assert check(store, A, "222222", at(10, 1, 2)) == CheckResult("WRONG", tries_left=1)
    assert check(store, A, "111111", at(10, 5)) == CheckResult("EXPIRED")  # 10:05 is the old code's own expiry


def test_a_dropped_resend_leaves_the_old_code(make_store):
    store = make_store()
    pending_resend(store)
    assert store.settle_send(A, "r2", at(10, 1, 1), accepted=False) is True
    assert store.settle_send(A, "r2", at(10, 1, 1), accepted=False) is False  # exactly once
    assert check(store, A, "222222", at(10, 1, 2)) == CheckResult("WRONG", tries_left=1)
    assert check(store, A, "111111", at(10, 1, 3)) == CheckResult("OK")


def test_an_unsettled_resend_keeps_both_codes_and_one_success_consumes_both(make_store):
    store = make_store()
    pending_resend(store)
    # a wrong code counts on both: the old one has 1 try left, the new one 2
    assert check(store, A, "000000", at(10, 1, 1)) == CheckResult("WRONG", tries_left=2)
    assert check(store, A, "111111", at(10, 1, 2)) == CheckResult("OK")
    assert check(store, A, "222222", at(10, 1, 3)) == CheckResult("EXPIRED")
    assert store.settle_send(A, "r2", at(10, 1, 4), accepted=True) is False  # a late accept revives nothing
    assert check(store, A, "222222", at(10, 1, 5)) == CheckResult("EXPIRED")


def test_an_unsettled_new_code_outlives_the_old_one(make_store):
    store = make_store()
    pending_resend(store)
    assert check(store, A, "111111", at(10, 5, 1)) == CheckResult("WRONG", tries_left=2)
    assert check(store, A, "222222", at(10, 5, 2)) == CheckResult("OK")


def test_a_retried_pending_reserve_is_still_pending(make_store):
    store = make_store()
    first = pending_resend(store)
    assert store.reserve_send(A, code_digest(KEY, A, "222222"), "r2", IP1, at(10, 1)) == first


def test_a_number_refusal_backs_the_phone_off(make_store, client):
    store = make_store()
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    store.release_send(A, "r1", IP1, at(10, 0, 1), backoff_ms=90_000)
    assert send_record(client, A, at(10).day).daily == 0  # the quota is given back
    assert reserve(store, A, "222222", "r2", IP1, at(10, 0, 2)) == Refusal("COOLDOWN", 89_000)
    assert reserve(store, A, "222222", "r2", IP1, at(10, 1, 31)) is None


# -- check_code ----------------------------------------------------------------------------------


def test_wrong_tries_count_down_then_invalidate(make_store, client):
    store = make_store()
    m = at(10)
    assert reserve(store, A, "123456", "r1", IP1, m) is None
    expiry = client.hget(phone_day(A, m).code, "x")
    for left in (2, 1, 0):
        assert check(store, A, "000000", at(10, 1)) == CheckResult("WRONG", tries_left=left)
    assert check(store, A, "123456", at(10, 1)) == CheckResult("INVALIDATED")
    assert check(store, A, "000000", at(10, 1)) == CheckResult("INVALIDATED")
    assert client.hget(phone_day(A, m).code, "x") == expiry  # wrong tries never extend the code
    assert client.get(phone_day(A, m).daily_verifies) == b"3"


def test_right_code_after_some_wrong_tries(make_store):
    store = make_store()
    assert reserve(store, A, "123456", "r1", IP1, at(10)) is None
    assert check(store, A, "000000", at(10, 1)) == CheckResult("WRONG", tries_left=2)
    assert check(store, A, "123456", at(10, 1)) == CheckResult("OK")


def test_code_expires_at_its_expiry_instant(make_store):
    store = make_store()
    m = at(10)
    assert reserve(store, A, "123456", "r1", IP1, m) is None
    assert check(store, A, "000000", at(10, 4, 59, 999)) == CheckResult("WRONG", tries_left=2)  # still live
    assert check(store, A, "123456", at(10, 5)) == CheckResult("EXPIRED")  # now == expiry


def test_code_is_per_phone(make_store):
    store = make_store()
    assert reserve(store, A, "123456", "r1", IP1, at(10)) is None
    assert check(store, B, "123456", at(10, 1)) == CheckResult("EXPIRED")
    assert check(store, A, "123456", at(10, 1)) == CheckResult("OK")


def test_daily_verify_limit_locks_until_midnight(make_store):
    store = make_store(daily_verify_limit=4)
    assert reserve(store, A, "111111", "r1", IP1, at(10, 0)) is None
    for left in (2, 1, 0):
        assert check(store, A, "000000", at(10, 0, 30)) == CheckResult("WRONG", tries_left=left)
    assert reserve(store, A, "222222", "r2", IP1, at(10, 1)) is None  # a fresh code ...
    assert check(store, A, "000000", at(10, 1, 10)) == CheckResult("WRONG", tries_left=2)  # 4th wrong today
    locked = check(store, A, "222222", at(10, 1, 30))  # ... even the right code is refused now
    assert locked == CheckResult("LOCKED", wait_ms=14 * HOUR_MS - 90_000)
    assert reserve(store, A, "333333", "r3", IP1, at(0, 0, 0, day=1)) is None
    assert check(store, A, "333333", at(0, 0, 10, day=1)) == CheckResult("OK")


def test_previous_key_digest_matches_after_rotation(make_store):
    store = make_store()
    assert reserve(store, A, "123456", "r1", IP1, at(10), key=OLD_KEY) is None  # issued before the rotation
    assert check(store, A, "123456", at(10, 1), KEY) == CheckResult("WRONG", tries_left=2)
    assert check(store, A, "123456", at(10, 1), KEY, OLD_KEY) == CheckResult("OK")


def test_wrong_code_under_both_keys_is_one_wrong_try(make_store):
    store = make_store()
    assert reserve(store, A, "123456", "r1", IP1, at(10)) is None
    assert check(store, A, "000000", at(10, 1), KEY, OLD_KEY) == CheckResult("WRONG", tries_left=2)


# -- retried reservation -------------------------------------------------------------------------------


def test_retried_reserve_is_idempotent(make_store, client):
    store = make_store()
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    snapshot = dump(client)
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    assert reserve(store, A, "111111", "r1", IP1, at(10, 0, 0, 500)) is None
    assert dump(client) == snapshot
    assert send_record(client, A, at(10).day).daily == 1


def test_retried_reserve_is_idempotent_without_cooldown(make_store, client):
    store = make_store(send_interval_seconds=0)
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    snapshot = dump(client)
    assert reserve(store, A, "111111", "r1", IP1, at(10)) is None
    assert dump(client) == snapshot


# -- moment_at -----------------------------------------------------------------------------------------


def utc(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    "seconds, day, ms_to_day_end",
    [
        (utc(2026, 11, 21, 15, 59, 59), "20261121", 1_000),  # last second of the 21st in Shanghai
        (utc(2026, 11, 21, 15, 59, 59) + 0.5, "20261121", 500),
        (utc(2026, 11, 21, 16, 0, 0), "20261122", DAY_MS),  # Shanghai midnight
        (utc(2026, 11, 20, 16, 0, 0), "20261121", DAY_MS),
        (utc(2026, 11, 21, 2, 0, 0), "20261121", 14 * HOUR_MS),  # 10:00 in Shanghai
        (utc(2026, 11, 21, 0, 0, 0), "20261121", 16 * HOUR_MS),  # UTC midnight is 08:00 there
        (utc(2026, 12, 31, 16, 0, 0), "20270101", DAY_MS),
        (utc(2026, 12, 31, 15, 59, 59) + 0.25, "20261231", 750),
    ],
)
def test_moment_at_uses_the_shanghai_day(seconds, day, ms_to_day_end):
    m = moment_at(seconds)
    assert m == Moment(now_ms=int(seconds * 1000), day=day, ms_to_day_end=ms_to_day_end)


@pytest.mark.parametrize("hms", [(0, 0, 0), (10, 0, 0), (10, 2, 0), (23, 59, 59)])
def test_hand_built_moments_agree_with_moment_at(hms):
    expected = at(*hms)
    assert moment_at(expected.now_ms / 1000) == expected


def test_midnight_constant_is_shanghai_midnight():
    assert datetime.fromtimestamp(MIDNIGHT_MS / 1000, timezone.utc) == datetime(2026, 11, 20, 16, tzinfo=timezone.utc)
    assert CHINA_TZ.utcoffset(None) == timedelta(hours=8)


# -- provider health (failover) ----------------------------------------------------------
PROVIDERS = ("tencent", "ronglian", "huyi")


def reserve_watching(store, phone, rid, moment, providers=PROVIDERS):
    return store.reserve_send(phone, code_digest(KEY, phone, "123456"), rid, IP1, moment, providers)


def test_no_provider_is_down_at_first(make_store):
    assert reserve_watching(make_store(), A, "r1", at(10)) == Reserved(frozenset())


def test_a_provider_marked_down_is_reported_until_its_cooldown_ends(make_store):
    store = make_store(send_interval_seconds=0)
    store.mark_provider_down("ronglian", at(10), 60)

    assert reserve_watching(store, A, "r1", at(10)) == Reserved(frozenset({"ronglian"}))
    assert reserve_watching(store, B, "r2", at(10, 0, 59, 999)) == Reserved(frozenset({"ronglian"}))
    assert reserve_watching(store, C, "r3", at(10, 1)) == Reserved(frozenset())


def test_only_the_providers_asked_about_are_reported(make_store):
    store = make_store()
    store.mark_provider_down("zhenzi", at(10), 60)
    store.mark_provider_down("tencent", at(10), 60)

    assert reserve_watching(store, A, "r1", at(10)) == Reserved(frozenset({"tencent"}))
    assert reserve_watching(store, B, "r2", at(10), providers=()) == Reserved(frozenset())


def test_a_retried_reserve_still_reports_health(make_store):
    store = make_store()
    assert reserve_watching(store, A, "r1", at(10)) == Reserved(frozenset())
    store.mark_provider_down("huyi", at(10), 60)

    assert reserve_watching(store, A, "r1", at(10)) == Reserved(frozenset({"huyi"}))


def test_a_refused_reserve_is_a_refusal_whatever_the_health(make_store):
    store = make_store()
    store.mark_provider_down("huyi", at(10), 60)
    assert reserve_watching(store, A, "r1", at(10)) == Reserved(frozenset({"huyi"}))

    assert reserve_watching(store, A, "r2", at(10, 0, 10)) == Refusal("COOLDOWN", 50_000)


def test_the_store_satisfies_the_code_store_protocol(make_store):
    from smsverify.store.base import CodeStore

    assert isinstance(make_store(), CodeStore)
