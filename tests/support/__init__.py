"""What tests and benches share, imported as one: ``from tests.support import ...``.

- parts: the repository root, emulator credentials, env builders, FakeClock;
- events: events from events/ and the checked JSON body of an answer;
- redis_servers: a real redis-server and a 3-master cluster;
- fault_proxy: a TCP proxy that drops, stalls or cuts a connection;
- round_trips: counts Redis round trips and commands;
- send_record: a phone's send record (cooldown, daily count, hourly log) decoded;
- emulators: the Tencent Cloud API, Ronglian, Huyi, Zhenzi, Alibaba Cloud and WeChat emulators.

Fixtures and hooks stay in tests/conftest.py; nothing imports conftest as a library.
"""

from tests.support.emulators.aliyun import ALIYUN_ERRORS, AliyunSmsEmulator
from tests.support.emulators.huyi import HUYI_ERRORS, HuyiEmulator
from tests.support.emulators.ronglian import RONGLIAN_ERRORS, RonglianEmulator
from tests.support.emulators.tencent_cloud import TencentCloudEmulator
from tests.support.emulators.wechat import WechatEmulator
from tests.support.emulators.zhenzi import ZHENZI_ERRORS, ZhenziEmulator
from tests.support.events import answer, call, get_sms, last_code, load_event, login, wrong
from tests.support.fault_proxy import FaultProxy
from tests.support.parts import (
    ALIYUN_ACCESS_KEY_ID,
    ALIYUN_ACCESS_KEY_SECRET,
    ALIYUN_SIGN_NAME,
    ALIYUN_TEMPLATE_CODE,
    CODE_SECRET,
    CONSOLE_SMS,
    EVENTS,
    HUYI_ACCOUNT,
    HUYI_API_KEY,
    IN_CI,
    README_PATH,
    RONGLIAN_ACCOUNT_SID,
    RONGLIAN_APP_ID,
    RONGLIAN_AUTH_TOKEN,
    RONGLIAN_TEMPLATE_ID,
    ROOT,
    SDK_APP_ID,
    SECRET_ID,
    SECRET_KEY,
    SESSION_TOKEN,
    SIGN,
    TEMPLATE_ID,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    TOKEN_SECRET,
    VOICE_SDK_APP_ID,
    ZHENZI_APP_ID,
    ZHENZI_APP_SECRET,
    ZHENZI_TEMPLATE_ID,
    WECHAT_APP_ID,
    WECHAT_APP_SECRET,
    GLOBAL_TEMPLATE_ID,
    FakeClock,
    aliyun_env,
    huyi_env,
    ronglian_env,
    tencent_env,
    voice_env,
    zhenzi_env,
)
from tests.support.redis_servers import RedisCluster, RedisServer, free_port, redis_binary
from tests.support.round_trips import RoundTripCounter, Traffic
from tests.support.send_record import SendRecord, send_record

__all__ = [
    "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_ERRORS", "ALIYUN_SIGN_NAME", "ALIYUN_TEMPLATE_CODE",
    "AliyunSmsEmulator", "aliyun_env",
    "CODE_SECRET", "CONSOLE_SMS", "EVENTS", "GLOBAL_TEMPLATE_ID", "HUYI_ACCOUNT", "HUYI_API_KEY", "HUYI_ERRORS", "IN_CI", "README_PATH",
    "RONGLIAN_ACCOUNT_SID", "RONGLIAN_APP_ID", "RONGLIAN_AUTH_TOKEN", "RONGLIAN_ERRORS", "RONGLIAN_TEMPLATE_ID", "ROOT",
    "SDK_APP_ID", "SECRET_ID", "SECRET_KEY", "SESSION_TOKEN", "SIGN", "TEMPLATE_ID", "TOKEN_AUDIENCE", "TOKEN_ISSUER",
    "TOKEN_SECRET", "VOICE_SDK_APP_ID", "ZHENZI_APP_ID", "ZHENZI_APP_SECRET", "ZHENZI_ERRORS", "ZHENZI_TEMPLATE_ID", "WECHAT_APP_ID", "WECHAT_APP_SECRET",
    "FakeClock", "FaultProxy", "HuyiEmulator", "RedisCluster", "RedisServer", "RonglianEmulator", "RoundTripCounter",
    "SendRecord", "TencentCloudEmulator", "Traffic", "WechatEmulator", "ZhenziEmulator",
    "answer", "call", "free_port", "get_sms", "huyi_env", "last_code", "load_event", "login", "redis_binary",
    "ronglian_env", "send_record", "tencent_env", "voice_env", "wrong", "zhenzi_env",
]
