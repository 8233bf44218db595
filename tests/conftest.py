"""Shared fixtures: real Redis (single node and cluster), the Tencent Cloud
API emulator, a controllable clock, handlers built from env dicts, events.

Real-Redis tests carry the ``real_redis`` (or ``cluster``) marker. Without a
redis-server binary they are skipped on a developer machine, but under
``CI=true`` the fixtures fail instead, and any skip of a marked test turns
the whole run red (``pytest_sessionfinish``).
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.emulators.huyi import HuyiEmulator
from tests.emulators.ronglian import RonglianEmulator
from tests.emulators.tencent_cloud import TencentCloudEmulator
from tests.emulators.zhenzi import ZhenziEmulator
from tests.support.redis_servers import RedisCluster, RedisServer, redis_binary

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
README_PATH = ROOT / "README.md"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

SECRET_ID = "AKIDtestEmulatorSecretId0000000000"
SECRET_KEY = "emulator-secret-key-for-tests-only"  # pragma: allowlist secret
SESSION_TOKEN = "emulator-session-token-for-tests-only"  # pragma: allowlist secret
CODE_SECRET = "code-secret-for-tests-only-7Hq2Vd9Kx4Lm"  # pragma: allowlist secret
TOKEN_SECRET = "token-secret-for-tests-only-7f3a9c2e5b81"  # pragma: allowlist secret
TOKEN_ISSUER = "https://sms.example.test"
TOKEN_AUDIENCE = "example-backend"
SDK_APP_ID = "1400000000"
TEMPLATE_ID = "100001"  # two parameters: code, minutes
SIGN = "测试签名"

# The other providers' emulators (tests/emulators/), as the function is configured for them.
RONGLIAN_ACCOUNT_SID = "8aaf0708780055cd0178d0f4a1b20001"  # pragma: allowlist secret (an account id, not a secret)
RONGLIAN_AUTH_TOKEN = "ronglian-auth-token-for-tests-only"  # pragma: allowlist secret
RONGLIAN_APP_ID = "8aaf0708780055cd0178d0f4a2c10002"
RONGLIAN_TEMPLATE_ID = "200001"  # an approved template of our own: code, minutes
HUYI_ACCOUNT = "C12345678"  # pragma: allowlist secret (the APIID, not a secret)
HUYI_API_KEY = "huyi-api-key-for-tests-only-0123"  # pragma: allowlist secret
ZHENZI_APP_ID = "108888"
ZHENZI_APP_SECRET = "zhenzi-app-secret-for-tests-only"  # pragma: allowlist secret
ZHENZI_TEMPLATE_ID = "1001"

#: A line of the console SMS provider (smsverify.senders.console): phone, code, minutes.
CONSOLE_SMS = re.compile(r"\[console SMS to (\+\d+)\] 您的验证码为 (\d+)，(\d+) 分钟内有效。")

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
        sms_sdk_app_id=SDK_APP_ID, sms_templates={"100001": 2, "100002": 1}, sms_signs={SIGN},
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def sms_api(cloud_api) -> TencentCloudEmulator:
    """The emulator with its knobs and records reset for this test."""
    cloud_api.reset()
    return cloud_api


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


def _fresh(emulator):
    """The emulator up again, with its knobs, records and daily counters reset for this test."""
    if not emulator.running:
        emulator.up()
    emulator.reset()
    return emulator


@pytest.fixture
def ronglian_api(ronglian_emulator) -> RonglianEmulator:
    return _fresh(ronglian_emulator)


@pytest.fixture
def huyi_api(huyi_emulator) -> HuyiEmulator:
    return _fresh(huyi_emulator)


@pytest.fixture
def zhenzi_api(zhenzi_emulator) -> ZhenziEmulator:
    return _fresh(zhenzi_emulator)


def ronglian_env(api: RonglianEmulator) -> dict[str, str]:
    return {
        "RONGLIAN_ACCOUNT_SID": RONGLIAN_ACCOUNT_SID, "RONGLIAN_AUTH_TOKEN": RONGLIAN_AUTH_TOKEN,
        "RONGLIAN_APP_ID": RONGLIAN_APP_ID, "RONGLIAN_TEMPLATE_ID": RONGLIAN_TEMPLATE_ID, "RONGLIAN_BASE_URL": api.url,
    }


def huyi_env(api: HuyiEmulator) -> dict[str, str]:
    return {"HUYI_ACCOUNT": HUYI_ACCOUNT, "HUYI_API_KEY": HUYI_API_KEY, "HUYI_BASE_URL": api.url}


def zhenzi_env(api: ZhenziEmulator) -> dict[str, str]:
    return {
        "ZHENZI_APP_ID": ZHENZI_APP_ID, "ZHENZI_APP_SECRET": ZHENZI_APP_SECRET,
        "ZHENZI_TEMPLATE_ID": ZHENZI_TEMPLATE_ID, "ZHENZI_BASE_URL": api.url,
    }


class FakeClock:
    """Unix time in seconds that moves only when told to."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:  # 2026-11-18, mid-morning in Shanghai
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def tencent_env(redis_url: str | None, sms_api: TencentCloudEmulator, **overrides: str) -> dict[str, str]:
    """An SCF-like environment: Tencent SMS via the emulator, real Redis."""
    env = {
        "CODE_SECRET": CODE_SECRET,
        "TOKEN_SECRET": TOKEN_SECRET,
        "TOKEN_ISSUER": TOKEN_ISSUER,
        "TOKEN_AUDIENCE": TOKEN_AUDIENCE,
        "SMS_PROVIDER": "tencent",
        "SMS_SDKAPPID": SDK_APP_ID,
        "SMS_SIGN": SIGN,
        "SMS_TEMPLATE_ID": TEMPLATE_ID,
        "SMS_API_ENDPOINT": sms_api.url,
        "SMS_TIMEOUT_SECONDS": "2",
        "TENCENTCLOUD_SECRETID": SECRET_ID,
        "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
        "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(overrides)
    return env


@pytest.fixture
def make_env(sms_api) -> Callable[..., dict[str, str]]:
    def build(redis_url: str | None = None, **overrides: str) -> dict[str, str]:
        return tencent_env(redis_url, sms_api, **overrides)

    return build


def load_event(name: str, **query: str) -> dict[str, Any]:
    """An event from events/, with ``queryString`` entries replaced by ``query``."""
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    event = copy.deepcopy(event)
    if query:
        event["queryString"] = {**event.get("queryString", {}), **query}
    return event


def get_sms(phone: str = "8613800138000", ip: str | None = "203.0.113.7", **extra: str) -> dict[str, Any]:
    event = load_event("get_sms.json", phone=phone, **extra)
    if ip is None:
        del event["requestContext"]["sourceIp"]
    else:
        event["requestContext"]["sourceIp"] = ip
    return event


def login(phone: str = "8613800138000", code: str | None = "000000", **extra: str) -> dict[str, Any]:
    event = load_event("login.json", phone=phone, **extra)
    if code is None:
        del event["queryString"]["code"]
    else:
        event["queryString"]["code"] = code
    return event


@pytest.fixture
def build(redis_url, make_env, clock) -> Callable[..., Callable]:
    """``build(**ENV)``: a warm main_handler on the test's real Redis, the emulator and the FakeClock."""

    def make(**overrides: str):
        from smsverify.edge.handler import create_handler

        return create_handler(make_env(redis_url, **overrides), clock=clock)

    return make


def call(handler: Callable, event: Any, context: Any = None) -> dict[str, Any]:
    """Run one event; return the JSON body with ``_status`` (shape checked by ``answer``)."""
    return answer(handler(event, {} if context is None else context))


def last_code(sms_api: TencentCloudEmulator, phone: str) -> str:
    """The code of the latest SMS the emulator accepted for ``phone`` (E.164)."""
    return sms_api.sent_to(phone)[-1]["params"][0]


def wrong(code: str, k: int = 1) -> str:
    """A code of the same length that is certainly not ``code``."""
    return str((int(code) + k) % 10 ** len(code)).zfill(len(code))


def answer(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of an integration response, with its status as ``_status``."""
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}, response
    assert response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response["body"])
    body["_status"] = response["statusCode"]
    return body


def pytest_runtest_logreport(report):
    if report.skipped and any(m in report.keywords for m in ("real_redis", "cluster")):
        _skipped_real.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if IN_CI and _skipped_real:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"CI=true but {len(_skipped_real)} real-Redis/cluster tests were skipped: failing the run", red=True
        )
        session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & {"redis_server", "redis_url"}:
            item.add_marker(pytest.mark.real_redis)
        if "redis_cluster" in names:
            item.add_marker(pytest.mark.cluster)
