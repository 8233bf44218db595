"""Fixtures and hooks only: real Redis (single node and cluster), the provider
emulators, a controllable clock, handlers built from env dicts. The helpers
and constants they use live in tests/support/ (``from tests.support import ...``).

Real-Redis tests carry the ``real_redis`` (or ``cluster``) marker. Without a
redis-server binary they are skipped on a developer machine, but under
``CI=true`` the fixtures fail instead, and any skip of a marked test turns
the whole run red (``pytest_sessionfinish``).
"""

from __future__ import annotations

from typing import Callable

import pytest

from tests.support import (
    ALIYUN_ACCESS_KEY_ID,
    ALIYUN_ACCESS_KEY_SECRET,
    ALIYUN_SIGN_NAME,
    ALIYUN_TEMPLATE_CODE,
    AliyunSmsEmulator,
    HUYI_ACCOUNT,
    HUYI_API_KEY,
    IN_CI,
    RONGLIAN_ACCOUNT_SID,
    RONGLIAN_APP_ID,
    RONGLIAN_AUTH_TOKEN,
    GLOBAL_TEMPLATE_ID,
    RONGLIAN_TEMPLATE_ID,
    SDK_APP_ID,
    SECRET_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    SIGN,
    ZHENZI_APP_ID,
    ZHENZI_APP_SECRET,
    ZHENZI_TEMPLATE_ID,
    FakeClock,
    HuyiEmulator,
    RedisCluster,
    RedisServer,
    RonglianEmulator,
    TencentCloudEmulator,
    VOICE_SDK_APP_ID,
    WECHAT_APP_ID,
    WECHAT_APP_SECRET,
    WechatEmulator,
    ZhenziEmulator,
    redis_binary,
    tencent_env,
)

_skipped_real: list[str] = []


def _need_redis() -> None:
    if redis_binary() is None:
        message = "redis-server is not installed (apt-get install -y redis-server)"
        if IN_CI:
            pytest.fail(message + ": real-Redis tests must run in CI", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> RedisServer:
    _need_redis()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """A real, empty Redis (db 0), restarted if a fault test stopped it."""
    if redis_server.process is None:
        redis_server.start()
    client = redis_server.client()
    client.flushall()
    client.script_flush()
    client.config_resetstat()
    return redis_server.url


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory) -> RedisCluster:
    _need_redis()
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def cloud_api() -> TencentCloudEmulator:
    emulator = TencentCloudEmulator(
        secret_id=SECRET_ID, secret_key=SECRET_KEY, token=SESSION_TOKEN,
        sms_sdk_app_id=SDK_APP_ID, sms_templates={"100001": 2, "100002": 1, GLOBAL_TEMPLATE_ID: 2},
        sms_global_templates={GLOBAL_TEMPLATE_ID}, sms_signs={SIGN},
        vms_sdk_app_id=VOICE_SDK_APP_ID,
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def sms_api(cloud_api) -> TencentCloudEmulator:
    """The emulator up, with its knobs and records reset for this test; no emulator bug may hide in it."""
    yield _fresh(cloud_api)
    assert cloud_api.internal_errors == []


@pytest.fixture(scope="session")
def ronglian_emulator() -> RonglianEmulator:
    emulator = RonglianEmulator(
        RONGLIAN_ACCOUNT_SID, RONGLIAN_AUTH_TOKEN, RONGLIAN_APP_ID, templates={"1": 2, RONGLIAN_TEMPLATE_ID: 2},
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def huyi_emulator() -> HuyiEmulator:
    emulator = HuyiEmulator(HUYI_ACCOUNT, HUYI_API_KEY).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def zhenzi_emulator() -> ZhenziEmulator:
    emulator = ZhenziEmulator(ZHENZI_APP_ID, ZHENZI_APP_SECRET, templates={ZHENZI_TEMPLATE_ID: 2}).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def aliyun_emulator() -> AliyunSmsEmulator:
    """Alibaba Cloud SMS: the test key, signature and verification template; SMS_100002 also takes ${time},
    SMS_200001 is an international template."""
    emulator = AliyunSmsEmulator(
        {ALIYUN_ACCESS_KEY_ID: ALIYUN_ACCESS_KEY_SECRET}, {ALIYUN_SIGN_NAME},
        {ALIYUN_TEMPLATE_CODE: {"code": 6}, "SMS_100002": {"code": 6, "time": 4}, "SMS_200001": {"code": 6}},
        international_templates={"SMS_200001"},
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def wechat_emulator() -> WechatEmulator:
    emulator = WechatEmulator(WECHAT_APP_ID, WECHAT_APP_SECRET).start()
    yield emulator
    emulator.stop()


def _fresh(emulator):
    """The emulator up again, with its knobs, records and daily counters reset for this test."""
    if not emulator.running:
        emulator.up()
    emulator.reset()
    return emulator


@pytest.fixture
def wx(wechat_emulator) -> WechatEmulator:
    """The WeChat jscode2session emulator, fresh for this test."""
    return _fresh(wechat_emulator)


@pytest.fixture
def ronglian_api(ronglian_emulator) -> RonglianEmulator:
    return _fresh(ronglian_emulator)


@pytest.fixture
def huyi_api(huyi_emulator) -> HuyiEmulator:
    return _fresh(huyi_emulator)


@pytest.fixture
def zhenzi_api(zhenzi_emulator) -> ZhenziEmulator:
    return _fresh(zhenzi_emulator)


@pytest.fixture
def aliyun_api(aliyun_emulator) -> AliyunSmsEmulator:
    """The Alibaba Cloud emulator up and reset (its per-number daily limit back to 10); no emulator bug may hide in it."""
    _fresh(aliyun_emulator).daily_limit = 10
    yield aliyun_emulator
    assert aliyun_emulator.internal_errors == []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_env(sms_api) -> Callable[..., dict[str, str]]:
    def build(redis_url: str | None = None, **overrides: str) -> dict[str, str]:
        return tencent_env(redis_url, sms_api, **overrides)

    return build


@pytest.fixture
def build(redis_url, make_env, clock) -> Callable[..., Callable]:
    """``build(**ENV)``: a warm main_handler on the test's real Redis, the emulator and the FakeClock."""

    def make(**overrides: str):
        from smsverify.edge.handler import create_handler

        return create_handler(make_env(redis_url, **overrides), clock=clock)

    return make


def pytest_runtest_logreport(report):
    if report.skipped and any(m in report.keywords for m in ("real_redis", "cluster")):
        _skipped_real.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if IN_CI and _skipped_real:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"CI=true but {len(_skipped_real)} real-Redis/cluster tests were skipped: failing the run", red=True
        )
        session.exitstatus = 1


#: Whole files of one kind, so that ``-m fuzz`` / ``-m concurrency`` runs them alone (single tests of these
#: kinds elsewhere carry the marker themselves).
KIND_OF_FILE = {"test_events_fuzz.py": pytest.mark.fuzz, "test_concurrent_processes.py": pytest.mark.concurrency}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in KIND_OF_FILE:
            item.add_marker(KIND_OF_FILE[item.path.name])
        names = set(getattr(item, "fixturenames", ()))
        if names & {"redis_server", "redis_url"}:
            item.add_marker(pytest.mark.real_redis)
        if "redis_cluster" in names:
            item.add_marker(pytest.mark.cluster)
