"""Real redis-server processes for the tests: one node, or a 3-master cluster.

Each server listens on a free loopback port with persistence off, in a
temporary directory. CI installs redis-server (``apt-get install -y
redis-server``); a run without it must not pass quietly (see conftest).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def redis_binary(name: str = "redis-server") -> str | None:
    """The path of ``name`` on PATH, or None."""
    return shutil.which(name)


def debug_command_option() -> list[str]:
    """``--enable-debug-command yes`` where redis-server knows it (7.0+), so
    fault tests can run ``DEBUG SLEEP``; older servers allow DEBUG anyway."""
    out = subprocess.run([redis_binary(), "--version"], capture_output=True, text=True).stdout
    major = int(out.split("v=")[1].split(".")[0]) if "v=" in out else 0
    return ["--enable-debug-command", "yes"] if major >= 7 else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One redis-server process. ``stop()``/``start()`` keep the port, so a
    client built before a restart can reconnect to the same address."""

    def __init__(self, workdir: Path, *, cluster: bool = False, port: int | None = None) -> None:
        self.workdir = workdir
        self.cluster = cluster
        self.port = port or free_port()
        self.bus_port = free_port() if cluster else None
        self.process: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        args = [
            redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir), "--protected-mode", "no", "--maxclients", "2000",
            *debug_command_option(),
        ]
        if self.cluster:
            # The bus port defaults to port + 10000, out of range for ephemeral ports above 55535: pick one.
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
                     "--cluster-port", str(self.bus_port)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}")
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


class RedisCluster:
    """Three cluster-mode masters joined with ``redis-cli --cluster create``."""

    def __init__(self, workdir: Path, masters: int = 3) -> None:
        self.nodes = [RedisServer(workdir / f"node{i}", cluster=True) for i in range(masters)]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> "RedisCluster":
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> "RedisCluster":
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [redis_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )
        deadline = time.monotonic() + 20
        while True:
            infos = [node.client().cluster("info") for node in self.nodes]
            if all(info.get("cluster_state") == "ok" for info in infos):
                return self
            if time.monotonic() > deadline:
                raise RuntimeError("redis cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def flush(self) -> None:
        for node in self.nodes:
            node.client().flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
