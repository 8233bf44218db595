"""Exact Redis round trips of one invocation, counted by the redis-server itself.

``CONFIG RESETSTAT``, the invocation, then ``INFO``; a MONITOR connection
records every command the server executes meanwhile. A round trip is one
command a client sent:

- executed commands come from MONITOR, where a Lua script's own commands show
  as from ``lua`` and are left out (commandstats counts them too);
- commands refused before execution (e.g. redis-py's ``CLIENT SETINFO`` on a
  redis-server older than 7.2) never reach MONITOR: they are the error
  replies (``total_error_replies``) that no executed command gave
  (``failed_calls``).

Every count is checked against commandstats: client commands plus in-script
commands must equal its total (the counter's own INFO/CONFIG/ECHO/CLIENT left
out), so a command MONITOR did not show would stop the benchmark.
Connections opened during the invocation come from
``total_connections_received``.

Shared by the round-trip tests (tests/integration/test_round_trips.py, which
assert exact counts) and bench/run.py (which prints them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import redis

#: What the counter itself sends on its own connection.
OWN_COMMANDS = ("cmdstat_info", "cmdstat_config|resetstat", "cmdstat_client|info", "cmdstat_echo")


@dataclass
class Traffic:
    #: executed commands from clients, in order (lower case; "script load")
    commands: list[str]
    #: commands refused before execution
    refused: int
    #: connections opened
    connections: int
    #: commands run inside Lua scripts
    in_scripts: int
    #: ``INFO commandstats`` calls by command (``evalsha``, ``script|load``), the counter's own left out
    commandstats: dict[str, int] = field(default_factory=dict)
    #: what ``invoke`` returned
    result: Any = field(default=None, repr=False)

    @property
    def round_trips(self) -> int:
        return len(self.commands) + self.refused

    def describe(self) -> str:
        words: list[str] = []
        for name in self.commands:  # collapse runs: "evalsha, evalsha" -> "EVALSHA x2"
            if words and words[-1].split(" x")[0] == name.upper():
                head, _, times = words[-1].partition(" x")
                words[-1] = f"{head} x{int(times or 1) + 1}"
            else:
                words.append(name.upper())
        if self.refused:
            words.append(f"{self.refused} refused")
        return ", ".join(words)


class RoundTripCounter:
    """Counts what one ``invoke()`` sends to the redis-server at ``url`` (see the module doc)."""

    def __init__(self, url: str) -> None:
        # A read timeout so that a marker never seen stops the run instead of hanging it.
        self.admin = redis.Redis.from_url(url, socket_timeout=10)
        self.watcher = redis.Redis.from_url(url, socket_timeout=10)  # MONITOR only
        self.own_address = self.admin.client_info()["addr"]

    def during(self, invoke: Callable[[], Any]) -> Traffic:
        marker = f"round-trips-end-{uuid.uuid4().hex}"
        with self.watcher.monitor() as monitor:
            self.admin.config_resetstat()
            result = invoke()
            stats = self.admin.info("stats")
            commandstats = self.admin.info("commandstats")
            self.admin.echo(marker)  # everything before it in the MONITOR stream belongs to the invocation
            seen = []
            for entry in monitor.listen():
                if entry["command"] == f"ECHO {marker}":
                    break
                seen.append(entry)
        if self.admin.client_info()["addr"] != self.own_address:
            raise RuntimeError("the counter's own connection was replaced: counts are not trustworthy")
        from_clients = [
            e for e in seen if e["client_type"] != "lua" and f"{e['client_address']}:{e['client_port']}" != self.own_address
        ]
        in_scripts = sum(1 for e in seen if e["client_type"] == "lua")
        calls = {k: v for k, v in commandstats.items() if k not in OWN_COMMANDS}
        failed = sum(v.get("failed_calls", 0) for v in calls.values())
        traffic = Traffic(
            commands=[_command_name(e["command"]) for e in from_clients],
            refused=int(stats["total_error_replies"]) - failed,
            connections=int(stats["total_connections_received"]),
            in_scripts=in_scripts,
            commandstats={k.removeprefix("cmdstat_"): v["calls"] for k, v in calls.items() if v["calls"]},
            result=result,
        )
        executed = sum(v["calls"] for v in calls.values())
        if executed != len(traffic.commands) + in_scripts:
            raise RuntimeError(f"MONITOR and commandstats disagree: {executed} calls, {traffic}")
        return traffic

    def close(self) -> None:
        self.admin.close()
        self.watcher.close()


def _command_name(command: str) -> str:
    words = command.lower().split(" ")
    return " ".join(words[:2]) if words[0] in ("script", "client") else words[0]
