"""store.connection.describe: where Redis is, for the WARNING of an unreachable store and
start-up messages. Proven: host:port (and db, TLS, cluster) as the client built from the
same URL will connect, never the password or user name, for URLs built from
REDIS_HOST/PORT/PASSWORD/DB and for REDIS_URL forms."""

from __future__ import annotations

import pytest

from smsverify.settings.config import Settings
from smsverify.store.connection import connect, describe

PASSWORD = "p@ss/w:rd?#%-unit"  # pragma: allowlist secret


@pytest.mark.parametrize("env, expected", [
    ({"REDIS_HOST": "10.0.0.5", "REDIS_PASSWORD": PASSWORD}, "10.0.0.5:6379 (db 0)"),
    ({"REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_DB": "2", "REDIS_PASSWORD": PASSWORD},
     "redis.internal:6380 (db 2)"),
    ({"REDIS_URL": f"rediss://default:{PASSWORD.replace('/', '%2F').replace('?', '%3F').replace('#', '%23')}"
                   "@redis.example:6380/1"}, "redis.example:6380 (db 1, TLS)"),
    ({"REDIS_URL": "redis+cluster://:secret-unit@10.0.0.7:7000"}, "10.0.0.7:7000 (cluster)"),  # pragma: allowlist secret
    ({"REDIS_URL": "redis://[fd00::5]:6379/3"}, "[fd00::5]:6379 (db 3)"),
    ({}, "in-process store"),
])
def test_describe_names_host_port_and_never_the_password(env, expected):
    settings = Settings.from_env(env)
    text = describe(settings.redis_url, cluster=settings.redis_cluster)
    assert text == expected
    for secret in (PASSWORD, "secret-unit", "default", "p%40ss", "@"):
        assert secret not in text


@pytest.mark.parametrize("url", ["redis://:pw@10.0.0.5:6380/4", "rediss://redis.example/1"])  # pragma: allowlist secret
def test_describe_agrees_with_the_client_connect_builds(url):
    client = connect(url, cluster=False, timeout_seconds=1.0)  # lazy: no connection is opened
    kwargs = client.connection_pool.connection_kwargs
    assert describe(url, cluster=False).startswith(f"{kwargs['host']}:{kwargs.get('port', 6379)} (db {kwargs.get('db', 0)}")
