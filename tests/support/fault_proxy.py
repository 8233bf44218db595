"""A real TCP proxy between a client and a server that injects faults.

Each accepted client connection gets its own connection to the target and two
pump threads (client -> server, server -> client). Faults, all on real
sockets:

* ``drop_next_reply()``: the next reply the server sends (to a request already
  forwarded, so the server ran it) is swallowed and that client connection is
  closed: the client sees a lost connection after the command took effect;
* ``drop_replies_to(command, count)``: the same, for the replies to the next
  ``count`` requests that contain ``command`` (e.g. ``b"EVALSHA"``), so a
  handshake or health check is never the one dropped; with
  ``once_per_client=True`` at most one of them per client name (``CLIENT
  SETNAME``, sent on connect by a client with ``client_name``), so a client's
  retry on a new connection is never dropped again;
* ``stall()`` / ``resume()``: bytes in both directions are held (not lost)
  until resumed;
* ``blackhole_existing()``: connections open now go silent for good (requests
  read and discarded, no reply, the socket kept open), as when a NAT or load
  balancer forgets an idle flow; new connections pass;
* ``blackhole(True)``: new connections too are accepted and never forwarded;
* ``kill_all()``: every open connection is closed at once.

Counters (``connections``, ``dropped_replies``) let tests assert that a fault
really happened.
"""

from __future__ import annotations

import re
import socket
import threading
from typing import Any


#: ``CLIENT SETNAME <name>`` as RESP: the name a client gives each of its connections.
_SETNAME = re.compile(rb"SETNAME\r\n\$\d+\r\n([^\r]+)\r\n", re.IGNORECASE)


class _Link:
    """One client connection and its server connection."""

    def __init__(self, client: socket.socket, server: socket.socket | None) -> None:
        self.client = client
        self.server = server
        self.silent = server is None
        self.closed = False
        self.drop_next = False
        self.name: bytes | None = None  #: from the client's CLIENT SETNAME, if it sent one

    def close(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class FaultProxy:
    """Listens on a free loopback port and forwards to ``target`` (host, port)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._flowing = threading.Event()
        self._flowing.set()
        self._drop_armed = 0
        self._drop_command = b""
        self._drop_command_armed = 0
        self._drop_once_per_client = False
        self._dropped_clients: set[bytes] = set()
        self._blackhole_new = False
        self._running = False
        #: client connections accepted so far
        self.connections = 0
        #: replies swallowed by drop_next_reply
        self.dropped_replies = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> "FaultProxy":
        self._running = True
        threading.Thread(target=self._accept, name="fault-proxy-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._running = False
        self._flowing.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self.kill_all()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- faults --------------------------------------------------------------
    def drop_next_reply(self, count: int = 1) -> None:
        """Swallow the next ``count`` replies (each closes its client connection)."""
        with self._lock:
            self._drop_armed += count

    def drop_replies_to(self, command: bytes, count: int = 1, *, once_per_client: bool = False) -> None:
        """Swallow the replies to the next ``count`` requests containing ``command`` (case-insensitive);
        ``once_per_client``: only requests of named clients, at most one per name."""
        with self._lock:
            self._drop_command = command.upper()
            self._drop_command_armed += count
            self._drop_once_per_client = once_per_client

    def stall(self) -> None:
        """Hold every byte in both directions until :meth:`resume`."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def blackhole_existing(self) -> int:
        """Silence every open connection for good; returns how many."""
        with self._lock:
            live = [link for link in self._links if not link.closed]
            for link in live:
                link.silent = True
        return len(live)

    def blackhole(self, on: bool = True) -> None:
        """Accept new connections but never forward them (keep them open)."""
        self._blackhole_new = on

    def kill_all(self) -> int:
        """Close every open connection; returns how many."""
        with self._lock:
            live = [link for link in self._links if not link.closed]
            self._links = []
        for link in live:
            link.close()
        return len(live)

    # -- pumps ---------------------------------------------------------------
    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server = None
            if not self._blackhole_new:
                try:
                    server = socket.create_connection(self.target, timeout=5)
                    server.settimeout(None)
                    server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    client.close()
                    continue
            link = _Link(client, server)
            with self._lock:
                self.connections += 1
                self._links.append(link)
            threading.Thread(target=self._upstream, args=(link,), daemon=True).start()
            if server is not None:
                threading.Thread(target=self._downstream, args=(link,), daemon=True).start()

    def _upstream(self, link: _Link) -> None:
        """Client -> server."""
        while not link.closed:
            try:
                data = link.client.recv(65536)
            except OSError:
                break
            if not data:
                break
            self._flowing.wait()
            if link.silent or link.server is None:
                continue  # read and discarded: the client waits for a reply that never comes
            if link.name is None:
                named = _SETNAME.search(data)
                if named:
                    link.name = named.group(1)
            if self._drop_command_armed and self._drop_command in data.upper():
                with self._lock:
                    if self._drop_command_armed > 0 and self._may_drop(link):
                        self._drop_command_armed -= 1
                        link.drop_next = True
                        if link.name is not None:
                            self._dropped_clients.add(link.name)
            try:
                link.server.sendall(data)
            except OSError:
                break
        link.close()

    def _may_drop(self, link: _Link) -> bool:
        if not self._drop_once_per_client:
            return True
        return link.name is not None and link.name not in self._dropped_clients

    def _downstream(self, link: _Link) -> None:
        """Server -> client."""
        while not link.closed:
            try:
                data = link.server.recv(65536)
            except OSError:
                break
            if not data:
                break
            self._flowing.wait()
            if link.silent:
                continue
            with self._lock:
                drop = link.drop_next or self._drop_armed > 0
                if drop:
                    if link.drop_next:
                        link.drop_next = False
                    else:
                        self._drop_armed -= 1
                    self.dropped_replies += 1
            if drop:
                break  # the server ran the request; the client never hears of it
            try:
                link.client.sendall(data)
            except OSError:
                break
        link.close()
