"""Real parts for the benchmarks: a redis-server and the Tencent API emulator,
the same ones the tests use, and an SCF-like environment pointing at them."""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.conftest import tencent_env  # noqa: E402
from tests.emulators.tencent_cloud import TencentCloudEmulator  # noqa: E402
from tests.support.redis_servers import RedisServer  # noqa: E402
from tests import conftest  # noqa: E402


@contextlib.contextmanager
def real_parts(**overrides: str):
    """Yield an env dict for a real redis-server and the emulator."""
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp)).start()
        emulator = TencentCloudEmulator(
            secret_id=conftest.SECRET_ID, secret_key=conftest.SECRET_KEY, token=conftest.SESSION_TOKEN,
            sms_sdk_app_id=conftest.SDK_APP_ID, sms_signs={conftest.SIGN},
        ).start()
        try:
            yield tencent_env(server.url, emulator, **overrides), server
        finally:
            emulator.stop()
            server.stop()


def median_seconds(run, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
