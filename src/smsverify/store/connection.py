"""Redis clients, created once per container and reused by warm invocations."""

from __future__ import annotations

from typing import Any, Callable

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from smsverify.errors import ConfigError

#: Connection errors are retried by redis-py on a new connection (a warm
#: container reconnects after a Redis restart or fail-over) with bounded
#: backoff: 3 tries; redis-py's ExponentialBackoff waits base x 2**n, so
#: 100 ms after the first failure and 200 ms after the second. Timeouts are
#: not retried here, where they would also multiply the connect handshake's
#: tries: the store retries its scripts after a timeout itself
#: (``RedisCodeStore`` and :data:`smsverify.store.redis_store.TIMEOUT_RETRIES`),
#: which is safe because each script call is exactly once.
RETRIES = 2


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.2, base=0.05), RETRIES, supported_errors=(redis.ConnectionError,))


def connect(url: str | None, *, cluster: bool, timeout_seconds: float) -> Any:
    """Return a Redis client for ``url``; ``None`` gives an in-process fakeredis.

    Connections are opened lazily on first command. ``timeout_seconds`` bounds
    both connect and read, for each of at most 3 tries (:data:`RETRIES`).

    Raises
    ------
    ConfigError
        The in-process store was selected but ``fakeredis`` is not installed.
    """
    if url is None:
        try:
            import fakeredis
        except ImportError:  # pragma: no cover - depends on the install
            raise ConfigError("REDIS_HOST", "is not set and fakeredis is missing (pip install 'smsverify[local]')") from None
        return fakeredis.FakeRedis()
    options = dict(
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=_retry(),
        # Keepalive probes let the kernel notice a dead path instead of a
        # request finding it; the health check (PING when a connection was
        # idle for 30 s) catches the rest before the script is sent.
        socket_keepalive=True,
        health_check_interval=30,
    )
    if cluster:
        from redis.cluster import RedisCluster

        return LazyCluster(lambda: RedisCluster.from_url(url, **options))
    return redis.Redis.from_url(url, **options)


def describe(url: str | None, *, cluster: bool) -> str:
    """Where the store's Redis is, for logs and start-up messages: never the password.

    Parameters
    ----------
    url:
        The configured Redis URL (:attr:`smsverify.settings.config.Settings.redis_url`,
        ``redis://`` or ``rediss://``), or ``None`` for the in-process store.
    cluster:
        ``True`` for the cluster edition (the URL names one seed node).

    Returns
    -------
    ``"host:port"`` followed by the database, ``TLS`` and ``cluster`` as they
    apply, e.g. ``"10.0.0.5:6379 (db 0)"``, ``"redis.example:6380 (db 1, TLS)"``,
    ``"10.0.0.5:7000 (cluster)"``; an IPv6 host is bracketed
    (``"[fd00::5]:6379 (db 0)"``); ``"in-process store"`` for ``None``. The URL is
    read by redis-py's own parser (``redis.connection.parse_url``), so the
    address is the one the client connects to; user name and password are
    left out.
    """
    if url is None:
        return "in-process store"
    from redis.connection import SSLConnection, parse_url

    parts = parse_url(url)
    host = parts.get("host") or "localhost"
    host = f"[{host}]" if ":" in host else host
    details = [] if cluster else [f"db {parts.get('db', 0)}"]
    if parts.get("connection_class") is SSLConnection:
        details.append("TLS")
    if cluster:
        details.append("cluster")
    return f"{host}:{parts.get('port', 6379)} ({', '.join(details)})"


class LazyCluster:
    """A ``RedisCluster`` built on first use.

    ``RedisCluster`` reads the slot map from the nodes when constructed; doing
    that lazily keeps start-up free of network I/O (as ``redis.Redis`` is), and
    an unreachable cluster becomes a ``redis.ConnectionError`` of the request
    that needed it, retried by the next one, instead of a failed cold start.
    A node that timed out while the client was built (e.g. a shard paused
    for a moment) is a ``redis.TimeoutError``, so the store tries again as
    after any timeout (:data:`smsverify.store.redis_store.TIMEOUT_RETRIES`):
    building the client changes nothing on the server.
    """

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            from redis.exceptions import RedisClusterException

            try:
                self._client = self._factory()
            except (RedisClusterException, redis.RedisError) as exc:
                if _timed_out(exc):
                    raise redis.TimeoutError(f"redis cluster: timed out building the client: {type(exc).__name__}") from exc
                raise redis.ConnectionError(f"redis cluster unreachable: {type(exc).__name__}") from exc
        return getattr(self._client, name)


def _timed_out(exc: BaseException | None) -> bool:
    """True when ``exc`` or an exception it came from is a timeout."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (redis.TimeoutError, TimeoutError)):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def with_timeout_retries(call: Callable[[], Any], retries: int) -> Any:
    """``call()``, sent again up to ``retries`` times after a timeout (redis-py dropped that
    connection; the same call goes on a new one). Only for calls that are exactly once (the
    store's scripts carry their idempotency key).

    Raises
    ------
    StoreUnavailable
        Every try timed out, or Redis failed otherwise (``__cause__`` has redis-py's exception).
    """
    from smsverify.store.base import StoreUnavailable

    tries = 0
    while True:
        try:
            return call()
        except redis.TimeoutError as exc:
            tries += 1
            if tries > retries:
                raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis: {type(exc).__name__}") from exc

