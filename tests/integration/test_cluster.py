"""The end-to-end protocol against a real 3-master Redis Cluster, through ``main_handler``.

With ``REDIS_CLUSTER=true`` (or a ``redis+cluster://`` URL) the service uses
redis-py's ``RedisCluster`` and splits getSms by slot: the per-IP window, the
global window, then the phone's script, releasing the earlier reservations
when a later step refuses. Proven here on the real cluster, with the Tencent
SMS emulator and a controllable clock:

* getSms -> login succeeds once; wrong codes count down and invalidate;
  cooldown, daily, per-IP and global (``ServiceBusy``) limits answer exactly;
  login keeps working while the global breaker is tripped.
* A provider refusal releases the reservation everywhere, including the
  per-IP and global log entries that live on other slots (ZCARD / ZSCORE).
* After SCRIPT FLUSH on every node, the next getSms and login reload their
  scripts (NOSCRIPT seen by the node) and succeed.
* Every key of one phone is on one slot (one node); the per-IP and global
  keys are on other slots, so the split path really runs across nodes.
* A refused request consumes no quota of the other limits: requests refused
  by the phone's cooldown leave no per-IP or global entry, an IP refusal
  leaves no global entry, a global refusal leaves no per-IP entry.
* SMS failover: a failed provider is marked on the ``{global}`` slot and the
  global window step reads the mark, so the provider is skipped until its
  cooldown (service clock) ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from redis.cluster import RedisCluster, key_slot

from smsverify.clock import moment_at
from smsverify.edge.handler import create_handler
from smsverify.store.redis_store import CheckOutcome
from smsverify.store import keys
from tests.support import SendRecord, answer, get_sms, last_code, login, ronglian_env, send_record, wrong

PHONE = "+8613800138000"
OTHER_PHONES = ["+8613800000001", "+8613800000002", "+8613800000003", "+8613800000004"]
IP = "203.0.113.7"
OTHER_IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def cluster(redis_cluster):
    redis_cluster.flush()
    for node in redis_cluster.nodes:
        node.client().config_resetstat()
    return redis_cluster


@pytest.fixture
def rc(cluster):
    """A plain cluster client to inspect what the service wrote."""
    client = RedisCluster.from_url(cluster.url)
    yield client
    client.close()


@pytest.fixture
def service(cluster, make_env, clock):
    def build(**overrides: str):
        env = make_env(cluster.url, REDIS_CLUSTER="true", **overrides)
        return create_handler(env, clock=clock)

    return build


def send(handler, phone: str = PHONE, ip: str = IP) -> dict:
    return answer(handler(get_sms(phone, ip=ip), {}))


def check(handler, phone: str, code: str) -> dict:
    return answer(handler(login(phone, code), {}))




def shanghai_day(now: float) -> str:
    return datetime.fromtimestamp(now, SHANGHAI).strftime("%Y%m%d")


def seconds_to_shanghai_midnight(now: float) -> int:
    local = datetime.fromtimestamp(now, SHANGHAI)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - local).total_seconds())


def keys_by_node(cluster) -> dict[int, set[str]]:
    """Every service key on every node, by node index."""
    return {
        i: {k.decode() for k in node.client().scan_iter(match=f"{keys.PREFIX}:*", count=1000)}
        for i, node in enumerate(cluster.nodes)
    }


def node_of(cluster, key: str) -> int:
    """Index of the master that serves ``key``'s slot (from CLUSTER SLOTS)."""
    slot = key_slot(key.encode())
    for start, end, primary, *_ in cluster.nodes[0].client().execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return next(i for i, node in enumerate(cluster.nodes) if node.port == int(primary[1]))
    raise AssertionError(f"slot {slot} is not served")


# -- protocol ----------------------------------------------------------------------
@pytest.mark.parametrize("spelling", ["REDIS_CLUSTER=true", "redis+cluster:// URL"])
def test_get_sms_then_login_succeeds_once(cluster, make_env, sms_api, clock, spelling):
    if spelling == "REDIS_CLUSTER=true":
        env = make_env(cluster.url, REDIS_CLUSTER="true")
    else:
        env = make_env(cluster.url.replace("redis://", "redis+cluster://", 1))
    handler = create_handler(env, clock=clock)

    sent = send(handler)
    assert (sent["codeStr"], sent["_status"], sent["expiresIn"], sent["resendAfter"]) == ("Ok", 200, 300, 60)
    code = last_code(sms_api, PHONE)
    assert check(handler, PHONE, code)["codeStr"] == "Success"
    again = check(handler, "13800138000", code)
    assert (again["codeStr"], again["_status"]) == ("CodeHasExpired", 401)
    # The state lives on the cluster, not in some local fallback store.
    record = keys.phone_keys(PHONE, shanghai_day(clock.now)).sends
    assert record in keys_by_node(cluster)[node_of(cluster, record)]


def test_wrong_codes_count_down_then_invalidate(service, sms_api):
    handler = service(MAX_VERIFY_ATTEMPTS="3")
    assert send(handler)["codeStr"] == "Ok"
    code = last_code(sms_api, PHONE)

    answers = [check(handler, PHONE, wrong(code, k)) for k in (1, 2, 3)]
    assert [(a["codeStr"], a["attemptsLeft"], a["_status"]) for a in answers] == [
        ("CodeIsError", 2, 401), ("CodeIsError", 1, 401), ("CodeIsError", 0, 401)
    ]
    assert check(handler, PHONE, wrong(code, 4))["codeStr"] == "CodeHasValid"
    assert check(handler, PHONE, code)["codeStr"] == "CodeHasValid"


def test_cooldown(service, sms_api, clock):
    handler = service()
    assert send(handler)["codeStr"] == "Ok"
    response = handler(get_sms(PHONE, ip=IP), {})
    refused = answer(response)
    assert (refused["codeStr"], refused["_status"], refused["retryAfter"]) == ("TooFrequent", 429, 60)
    assert response["headers"]["Retry-After"] == "60"
    clock.advance(59)
    assert send(handler)["retryAfter"] == 1
    clock.advance(1)
    assert send(handler)["codeStr"] == "Ok"
    assert len(sms_api.sent_to(PHONE)) == 2


@pytest.mark.parametrize("error", ["FailedOperation.SignatureIncorrectOrUnapproved",
                                   "LimitExceeded.PhoneNumberThirtySecondLimit"])
def test_a_failed_resend_keeps_the_code_and_an_accepted_one_replaces_it(service, sms_api, clock, error):
    handler = service()
    assert send(handler)["codeStr"] == "Ok"
    old = sms_api.sent_to(PHONE)[-1]["params"][0]
    clock.advance(60)
    sms_api.sms_number_error = error
    assert send(handler)["codeStr"] in ("SmsSendFailed", "TooFrequent")
    sms_api.sms_number_error = None
    clock.advance(60)
    assert send(handler)["codeStr"] == "Ok"  # accepted: the new code replaces the old one
    new = sms_api.sent_to(PHONE)[-1]["params"][0]
    assert check(handler, PHONE, old)["codeStr"] == ("CodeIsError" if old != new else "Success")
    assert check(handler, PHONE, new)["codeStr"] == "Success"


def test_a_failed_resend_leaves_the_first_code_valid(service, sms_api, clock):
    handler = service()
    assert send(handler)["codeStr"] == "Ok"
    old = sms_api.sent_to(PHONE)[-1]["params"][0]
    clock.advance(60)
    sms_api.sms_number_error = "FailedOperation.SignatureIncorrectOrUnapproved"
    assert send(handler)["codeStr"] == "SmsSendFailed"
    sms_api.sms_number_error = None
    assert check(handler, PHONE, old)["codeStr"] == "Success"


def test_daily_limit(service, sms_api, clock):
    handler = service(DAILY_SEND_LIMIT="2", SEND_INTERVAL_SECONDS="0")
    assert [send(handler)["codeStr"] for _ in range(2)] == ["Ok", "Ok"]
    refused = send(handler)
    assert (refused["codeStr"], refused["_status"]) == ("DailyLimitExceeded", 429)
    assert refused["retryAfter"] == seconds_to_shanghai_midnight(clock.now)
    assert len(sms_api.sent_to(PHONE)) == 2
    clock.advance(seconds_to_shanghai_midnight(clock.now))
    assert send(handler)["codeStr"] == "Ok"


def test_ip_limit(service, sms_api, clock):
    handler = service(IP_SEND_LIMIT="2")
    assert [send(handler, p)["codeStr"] for p in OTHER_PHONES[:2]] == ["Ok", "Ok"]
    refused = send(handler, OTHER_PHONES[2])
    assert (refused["codeStr"], refused["_status"], refused["retryAfter"]) == ("IpLimitExceeded", 429, 3600)
    assert sms_api.sent_to(OTHER_PHONES[2]) == []
    assert send(handler, OTHER_PHONES[2], ip=OTHER_IPS[0])["codeStr"] == "Ok"  # another IP is not limited
    clock.advance(3600)
    assert send(handler, OTHER_PHONES[3])["codeStr"] == "Ok"  # the window has moved on


def test_global_limit_trips_service_busy_and_login_keeps_working(service, sms_api):
    handler = service(GLOBAL_SEND_LIMIT="2")
    assert send(handler, OTHER_PHONES[0], OTHER_IPS[0])["codeStr"] == "Ok"
    assert send(handler, OTHER_PHONES[1], OTHER_IPS[1])["codeStr"] == "Ok"
    busy = send(handler, OTHER_PHONES[2], OTHER_IPS[2])
    assert (busy["codeStr"], busy["_status"], busy["retryAfter"]) == ("ServiceBusy", 503, 3600)
    assert len(sms_api.sent) == 2
    assert check(handler, OTHER_PHONES[0], last_code(sms_api, OTHER_PHONES[0]))["codeStr"] == "Success"


# -- release across slots ------------------------------------------------------------
def test_provider_refusal_releases_the_reservation_on_every_slot(service, sms_api, rc, clock):
    handler = service()
    assert send(handler, OTHER_PHONES[0])["codeStr"] == "Ok"
    ip_log, global_log = keys.ip_log_key(IP), keys.GLOBAL_LOG_KEY
    [kept] = rc.zrange(ip_log, 0, -1)
    assert rc.zrange(global_log, 0, -1) == [kept]
    now_ms = int(clock.now * 1000)

    sms_api.sms_request_error = ("FailedOperation.InsufficientBalanceInSmsPackage", "insufficient balance")
    requests_before = len(sms_api.requests)
    refused = send(handler, PHONE)
    assert (refused["codeStr"], refused["_status"]) == ("SmsSendFailed", 502)
    assert refused["providerCode"] == "tencent:FailedOperation.InsufficientBalanceInSmsPackage"
    assert len(sms_api.requests) == requests_before + 1  # reserved, then the provider was asked

    # Only the earlier, successful send is left in the per-IP and global logs.
    assert (rc.zcard(ip_log), rc.zcard(global_log)) == (1, 1)
    assert rc.zscore(ip_log, kept) == rc.zscore(global_log, kept) == now_ms
    day = shanghai_day(clock.now)
    assert rc.exists(keys.phone_keys(PHONE, day).code) == 0
    assert send_record(rc, PHONE, day) == SendRecord()  # no cooldown, no hourly entry, the day's count given back

    sms_api.sms_request_error = None
    assert send(handler, PHONE)["codeStr"] == "Ok"  # no cooldown was left behind
    assert (rc.zcard(ip_log), rc.zcard(global_log)) == (2, 2)
    assert check(handler, PHONE, last_code(sms_api, PHONE))["codeStr"] == "Success"


def test_refused_requests_consume_no_quota_of_the_other_limits(service, sms_api, rc):
    handler = service(IP_SEND_LIMIT="2", GLOBAL_SEND_LIMIT="3")
    ip_log = keys.ip_log_key

    def zcards() -> tuple[int, ...]:
        return tuple(rc.zcard(ip_log(ip)) for ip in [IP, *OTHER_IPS]) + (rc.zcard(keys.GLOBAL_LOG_KEY),)

    assert send(handler, PHONE, IP)["codeStr"] == "Ok"
    # Refused by the phone's cooldown, after the IP and global steps had reserved.
    assert [send(handler, PHONE, ip)["codeStr"] for ip in (IP, IP, OTHER_IPS[0], OTHER_IPS[1])] == ["TooFrequent"] * 4
    assert zcards() == (1, 0, 0, 0, 1)

    assert send(handler, OTHER_PHONES[0], IP)["codeStr"] == "Ok"  # IP quota 2 was not eaten
    # Refused by the IP limit: the global step is never reached.
    assert send(handler, OTHER_PHONES[1], IP)["codeStr"] == "IpLimitExceeded"
    assert zcards() == (2, 0, 0, 0, 2)

    assert send(handler, OTHER_PHONES[1], OTHER_IPS[0])["codeStr"] == "Ok"
    # Refused by the global limit: the IP reservation made before it is released.
    assert send(handler, OTHER_PHONES[2], OTHER_IPS[1])["codeStr"] == "ServiceBusy"
    assert zcards() == (2, 1, 0, 0, 3)
    assert len(sms_api.sent) == 3


# -- scripts and slots ---------------------------------------------------------------
def test_script_flush_on_every_node_then_scripts_reload(service, sms_api, cluster):
    handler = service()
    assert send(handler, OTHER_PHONES[0])["codeStr"] == "Ok"
    assert check(handler, OTHER_PHONES[0], last_code(sms_api, OTHER_PHONES[0]))["codeStr"] == "Success"

    for node in cluster.nodes:
        node.client().script_flush()
        node.client().config_resetstat()

    assert send(handler, PHONE)["codeStr"] == "Ok"
    assert check(handler, PHONE, last_code(sms_api, PHONE))["codeStr"] == "Success"
    # The warm handler's EVALSHA met NOSCRIPT on the phone's node and reloaded.
    phone_node = cluster.nodes[node_of(cluster, f"{{{PHONE}}}")]
    errors = phone_node.client().info("errorstats")
    assert errors.get("errorstat_NOSCRIPT", {}).get("count", 0) >= 1


def test_keys_of_one_phone_share_one_slot_and_the_split_crosses_slots(service, sms_api, cluster, clock):
    assert len(cluster.nodes) == 3
    handler = service()
    assert send(handler, PHONE, IP)["codeStr"] == "Ok"
    assert check(handler, PHONE, wrong(last_code(sms_api, PHONE)))["codeStr"] == "CodeIsError"

    found = keys_by_node(cluster)
    phone_keys = {(i, k) for i, ks in found.items() for k in ks if f"{{{PHONE}}}" in k}
    pk = keys.phone_keys(PHONE, shanghai_day(clock.now))
    expected = {pk.code, pk.sends, pk.daily_verifies}
    assert {k for _, k in phone_keys} == expected
    assert len({i for i, _ in phone_keys}) == 1  # all on one node
    probe = cluster.nodes[0].client()
    slots = {key_slot(k.encode()) for _, k in phone_keys}
    assert slots == {probe.execute_command("CLUSTER", "KEYSLOT", k) for _, k in phone_keys} == {key_slot(f"{{{PHONE}}}".encode())}

    ip_key, global_key = keys.ip_log_key(IP), keys.GLOBAL_LOG_KEY
    tag_slots = {key_slot(k.encode()) for k in (pk.code, ip_key, global_key)}
    assert len(tag_slots) == 3  # phone, IP and global tags are three slots
    [phone_node] = {i for i, _ in phone_keys}
    split_nodes = {i for i, ks in found.items() if ip_key in ks or global_key in ks}
    assert all(any(k in ks for ks in found.values()) for k in (ip_key, global_key))
    assert split_nodes and phone_node not in split_nodes  # the split step really spans nodes


def test_scenes_isolate_codes_on_the_phones_slot(service, sms_api, cluster, clock, monkeypatch):
    monkeypatch.setitem(sms_api.sms_templates, "100003", 2)
    handler = service(SMS_SCENES="login:100001,register:100003", SEND_INTERVAL_SECONDS="0")
    assert answer(handler(get_sms(PHONE, ip=IP, scene="register"), {}))["codeStr"] == "Ok"
    register_code = last_code(sms_api, PHONE)
    assert check(handler, PHONE, register_code)["codeStr"] == "CodeHasExpired"  # login has no code
    assert send(handler, PHONE, IP)["codeStr"] == "Ok"
    login_code = last_code(sms_api, PHONE)
    assert [sms["template_id"] for sms in sms_api.sent_to(PHONE)] == ["100003", "100001"]

    day = shanghai_day(clock.now)
    login_keys, register_keys = keys.phone_keys(PHONE, day), keys.phone_keys(PHONE, day, "register")
    assert register_keys.code != login_keys.code and register_keys.sends == login_keys.sends
    assert node_of(cluster, register_keys.code) == node_of(cluster, login_keys.code)  # one slot: one script each
    assert answer(handler(login(PHONE, login_code), {}))["codeStr"] == "Success"
    assert answer(handler(login(PHONE, register_code, scene="register"), {}))["codeStr"] == "Success"
    assert answer(handler(login(PHONE, register_code, scene="register"), {}))["codeStr"] == "CodeHasExpired"


def test_failover_marks_and_reads_provider_health_on_the_global_slot(service, sms_api, ronglian_api, rc, clock):
    handler = service(SMS_PROVIDER="tencent,ronglian", PROVIDER_COOLDOWN_SECONDS="60", **ronglian_env(ronglian_api))
    sms_api.sms_http_status = 503

    first = send(handler)
    assert (first["codeStr"], first["provider"]) == ("Ok", "ronglian")
    marker = keys.provider_down_key("tencent")
    assert key_slot(marker.encode()) == key_slot(keys.GLOBAL_LOG_KEY.encode())  # read by the global window step
    assert rc.exists(marker)

    second = send(handler, OTHER_PHONES[0])
    assert second["provider"] == "ronglian"
    assert len([r for r in sms_api.requests if r["action"] == "SendSms"]) == 1  # tencent skipped

    clock.advance(60)
    sms_api.sms_http_status = 200
    assert send(handler, OTHER_PHONES[1])["provider"] == "tencent"


# -- faults ------------------------------------------------------------------------
def test_a_paused_phone_shard_leaks_no_reservation_on_the_other_slots(service, sms_api, rc, cluster, clock):
    import threading
    import time

    ip_key, global_key = keys.ip_log_key(IP), keys.GLOBAL_LOG_KEY
    taken = {node_of(cluster, ip_key), node_of(cluster, global_key)}
    # A phone whose shard serves neither the per-IP nor the global log.
    phone = next(
        p for p in [PHONE, *OTHER_PHONES, *(f"+86138001380{i:02d}" for i in range(10, 99))]
        if node_of(cluster, keys.phone_keys(p, shanghai_day(clock.now)).code) not in taken
    )
    paused = cluster.nodes[node_of(cluster, keys.phone_keys(phone, shanghai_day(clock.now)).code)]
    handler = service(REDIS_TIMEOUT_SECONDS="0.2")
    assert send(handler, OTHER_PHONES[0], ip="198.51.100.9")["codeStr"] == "Ok"  # slot map and scripts loaded
    globals_before = rc.zcard(global_key)

    # Paused for less than cluster-node-timeout (5 s), so the cluster does not fail the node over.
    stall = threading.Thread(target=paused.client().execute_command, args=("DEBUG", "SLEEP", 4), daemon=True)
    stall.start()
    time.sleep(0.2)
    answer_ = send(handler, phone)["codeStr"]
    stall.join()

    assert answer_ == "ServiceUnavailable"
    assert sms_api.sent_to(phone) == []
    # Every earlier step's reservation was removed by its id.
    assert rc.zcard(ip_key) == 0
    assert rc.zcard(global_key) == globals_before
    # After recovery the user behind that IP is not refused for what the pause did.
    time.sleep(0.3)
    assert send(handler, OTHER_PHONES[1])["codeStr"] == "Ok"
    assert rc.zcard(ip_key) == 1


def test_the_store_satisfies_the_code_store_protocol_on_a_server_and_a_cluster(cluster, redis_url):
    from smsverify.store.base import CodeStore
    from smsverify.store.connection import connect
    from smsverify.store.redis_store import Limits, RedisCodeStore

    limits = Limits(ip_send_limit=10, ip_verify_limit=10)
    for url, is_cluster in ((redis_url, False), (cluster.url, True)):
        store = RedisCodeStore(connect(url, cluster=is_cluster, timeout_seconds=1), limits, cluster=is_cluster)
        assert isinstance(store, CodeStore)
        assert store.check_code("+8613800138000", ["00"], moment_at(1_795_000_000)).status is CheckOutcome.EXPIRED
