"""Real parts for the benchmarks: a redis-server on a free loopback port and the
Tencent Cloud API emulator (the same ones the tests use), and an SCF-like
environment pointing at them."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "src"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from tests.support import RedisServer, TencentCloudEmulator, redis_binary, tencent_env  # noqa: E402
from tests.support import parts  # noqa: E402

#: Limits so large that a benchmark loop never meets them, and no resend
#: cooldown, so that getSms keeps succeeding for the same phones.
UNLIMITED = {
    "SEND_INTERVAL_SECONDS": "0",
    "HOURLY_SEND_LIMIT": "1000000000",
    "DAILY_SEND_LIMIT": "1000000000",
    "DAILY_VERIFY_LIMIT": "1000000000",
    "IP_SEND_LIMIT": "1000000000",
    "GLOBAL_SEND_LIMIT": "1000000000",
    "PREFIX_SEND_LIMIT": "1000000000",
    "IP_VERIFY_LIMIT": "1000000000",
    "GLOBAL_VERIFY_LIMIT": "1000000000",
}

#: The emulator's template with one parameter (the code), as the Node demo sends.
ONE_PARAMETER_TEMPLATE = "100002"


@dataclass
class Parts:
    #: SCF-like environment (TENCENTCLOUD_RUNENV=SCF): real Redis, SMS via the emulator
    env: dict[str, str]
    server: RedisServer
    emulator: TencentCloudEmulator

    @property
    def redis_url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def real_parts(**overrides: str) -> Iterator[Parts]:
    """Start a redis-server and the emulator; stop both on exit."""
    if redis_binary() is None:
        raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        try:
            emulator = TencentCloudEmulator(
                secret_id=parts.SECRET_ID, secret_key=parts.SECRET_KEY, token=parts.SESSION_TOKEN,
                sms_sdk_app_id=parts.SDK_APP_ID, sms_signs={parts.SIGN},
            ).start()
            try:
                env = tencent_env(server.url, emulator, TENCENTCLOUD_RUNENV="SCF", **overrides)
                yield Parts(env, server, emulator)
            finally:
                emulator.stop()
        finally:
            server.stop()
