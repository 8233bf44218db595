"""Shared HTTP plumbing of the SMS provider emulators (Tencent Cloud, Ronglian, Huyi, Zhenzi).

Each emulator (``tencent_cloud.py``, ``ronglian.py``, ``huyi.py``,
``zhenzi.py``) subclasses :class:`ProviderEmulator` and implements
``_dispatch(request) -> Answer``.  This module gives them:

* a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1`` speaking HTTP/1.1 with
  keep-alive (so a sender's ``requests.Session`` really reuses connections);
  ``start()`` / ``stop()`` / ``reset()`` and the context manager;
  ``.url`` (``http://127.0.0.1:PORT``), ``.port``;
* request parsing: :class:`Request` holds the method, the path without the
  query (and the request target as sent), the query parameters, lower-cased
  headers (and the header pairs as sent), the raw body, the form
  fields of an ``application/x-www-form-urlencoded`` body, and ``json()``;
  for each name the first value is kept (like PHP / servlet ``getParameter``);
* ``down()`` / ``up()``: ``down()`` closes the listening socket *and* shuts
  down every open keep-alive connection, so new connections are refused
  (``ECONNREFUSED``) and pooled ones are seen as dropped; ``up()`` binds the
  *same* port again (the emulator's ``url`` does not change);
* knobs common to every provider, read once per request, in this order:

  1. ``delay_seconds``: sleep in the handling thread before anything else;
     the request is still processed and recorded afterwards, like a real
     send that the caller gave up waiting for;
  2. ``http_status``: when not 200, answer that status with a small HTML
     body (``text/html``, like a gateway in front of the service) *without*
     processing the request: nothing is validated, sent or counted;
  3. ``force_code``: when not ``None``, a request that passes every
     validation is answered with this provider error code instead of success
     (applied by the subclass at the end of its send validation, so it never
     hides a validation failure; nothing is sent or counted);
  4. ``clock``: a ``() -> epoch seconds`` callable (default ``time.time``)
     used for timestamp windows and for the day of the daily counters, so a
     test can move the emulator to another day.

* per-number daily counters keyed by the **Asia/Shanghai** calendar date of
  ``clock()`` (the providers are Chinese services and count per Beijing-time
  day; docs do not say at which hour a day rolls over, so midnight UTC+8 is
  this emulator's choice).  China has had no daylight saving time since 1991,
  so the zone is the fixed offset UTC+8.  Only successful sends count.
* records: ``sent`` (list of dicts, each with at least ``"phone"`` exactly as
  sent on the wire, ``"params"`` (list of strings) and ``"message_id"``),
  ``sent_to(phone)``, ``requests`` (one dict per HTTP request: ``method``,
  ``path`` without the query, ``fields`` (sorted parameter / JSON key names,
  never values, so no secret is recorded) and ``code``, the provider code
  answered as a string or ``"HTTP <status>"``; a subclass may record its
  own kind of entry instead by overriding ``_record_request``, as the Tencent
  Cloud emulator does), ``internal_errors`` (tracebacks of emulator bugs,
  answered as HTTP 500; tests assert it stays empty).

Nothing is ever written to stdout/stderr: request logging is off and
connection errors of clients that gave up are swallowed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import traceback
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "SHANGHAI",
    "Answer",
    "ProviderEmulator",
    "Request",
    "shanghai_date",
    "shanghai_datetime",
]

#: Asia/Shanghai: UTC+8 all year (no DST since 1991).
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

_HTML_STATUS = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Not Allowed",
    406: "Not Acceptable", 415: "Unsupported Media Type", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def shanghai_datetime(epoch: float) -> datetime:
    """The Asia/Shanghai wall-clock time of ``epoch``."""
    return datetime.fromtimestamp(epoch, SHANGHAI)


def shanghai_date(epoch: float) -> str:
    """The Asia/Shanghai calendar date of ``epoch`` as ``YYYY-MM-DD``."""
    return shanghai_datetime(epoch).strftime("%Y-%m-%d")


def _first_values(text: str) -> dict[str, str]:
    try:
        parsed = parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in parsed.items()}


class Request:
    """One parsed HTTP request."""

    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> None:
        split = urlsplit(target)
        self.method = method
        self.target = target
        self.path = split.path
        self.raw_query = split.query
        self.query = _first_values(split.query)
        self.raw_headers = list(headers)
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body
        self.media_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        self.form: dict[str, str] = {}
        if self.media_type == "application/x-www-form-urlencoded":
            try:
                self.form = _first_values(body.decode("utf-8"))
            except UnicodeDecodeError:
                self.form = {}

    def params(self) -> dict[str, str]:
        """Query and form parameters merged; the form body wins (PHP ``$_REQUEST`` order "GP")."""
        return {**self.query, **self.form}

    def json(self) -> Any:
        """The body decoded as UTF-8 JSON; raises ``ValueError`` otherwise."""
        return json.loads(self.body.decode("utf-8"))

    def fields(self) -> list[str]:
        """Names (never values) of the query, form and JSON-object parameters."""
        names = set(self.query) | set(self.form)
        if self.media_type == "application/json":
            try:
                value = self.json()
            except ValueError:
                value = None
            if isinstance(value, dict):
                names |= {str(k) for k in value}
        return sorted(names)


class Answer:
    """What the emulator answers: status, content type, body, and a record note."""

    def __init__(self, status: int, content_type: str, body: bytes, code: str) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body
        self.code = code

    @classmethod
    def json(cls, payload: Any, code: Any, *, content_type: str = "application/json;charset=utf-8") -> "Answer":
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(200, content_type, data, str(code))

    @classmethod
    def text(cls, text: str, code: Any, content_type: str) -> "Answer":
        return cls(200, content_type, text.encode("utf-8"), str(code))

    @classmethod
    def http_error(cls, status: int) -> "Answer":
        reason = _REASONS.get(status, "Error")
        body = _HTML_STATUS.format(status=status, reason=reason).encode("ascii")
        return cls(status, "text/html", body, f"HTTP {status}")


class ProviderEmulator:
    """Base class: lifecycle, knobs, records and daily counters (see the module docstring)."""

    provider = "provider"
    #: the ``Server`` header of every answer
    server_version = "SmsProviderEmulator/1.0"

    def __init__(self, *, daily_limit: int) -> None:
        self.daily_limit = daily_limit
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.url = ""
        self.sent: list[dict] = []
        self.requests: list[dict] = []
        self.internal_errors: list[str] = []
        self._daily: dict[tuple, int] = {}
        self._set_default_knobs()

    # ------------------------------------------------------------------ knobs
    def _set_default_knobs(self) -> None:
        self.delay_seconds: float = 0.0
        self.http_status: int = 200
        self.force_code: Any = None
        self.clock: Callable[[], float] = time.time

    def _reset_provider_state(self) -> None:
        """Subclasses restore their own state (balance, stored messages...)."""

    def reset(self) -> None:
        """Knobs back to defaults; clear records and daily counters."""
        with self._lock:
            self._set_default_knobs()
            self.sent.clear()
            self.requests.clear()
            self.internal_errors.clear()
            self._daily.clear()
            self._reset_provider_state()

    # -------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, port: int = 0, *, tls: Any = None) -> "ProviderEmulator":
        """Listen on 127.0.0.1:``port`` (0: any free port).

        ``tls``: an ``ssl.SSLContext`` for the server side, to serve HTTPS
        (then :attr:`url` starts with ``https://``).
        """
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._tls = tls
        self._bind(port)
        return self

    def _bind(self, port: int) -> None:
        handler = type("_BoundHandler", (_Handler,), {"emulator": self, "server_version": self.server_version})
        server = _Server((self.host, port), handler)
        tls = getattr(self, "_tls", None)
        if tls is not None:
            # The handshake runs in accept(); a client that refuses the certificate fails it there.
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.port = server.server_address[1]
        self.url = f"{'https' if tls is not None else 'http'}://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"{self.provider}-emulator-{self.port}", daemon=True,
        )
        self._thread.start()

    def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        self._close()

    def down(self) -> None:
        """Refuse connections: close the listening socket and drop open connections."""
        if self._server is None:
            raise RuntimeError("emulator is not running")
        self._close()

    def up(self) -> "ProviderEmulator":
        """Serve again on the same port after :meth:`down` (no-op when already up)."""
        if self._server is not None:
            return self
        if not self.port:
            raise RuntimeError("emulator was never started")
        self._bind(self.port)
        return self

    def __enter__(self) -> "ProviderEmulator":
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ---------------------------------------------------------------- records
    def sent_to(self, phone: str) -> list[dict]:
        """Copies of the ``sent`` records for ``phone`` (as sent on the wire)."""
        with self._lock:
            return [dict(m) for m in self.sent if m["phone"] == phone]

    def _today(self) -> str:
        return shanghai_date(self.clock())

    def daily_count(self, *key: str) -> int:
        """Successful sends today (Asia/Shanghai) for ``key`` (provider-specific, see subclass)."""
        with self._lock:
            return self._daily.get((self._today(), *key), 0)

    def _daily_reached(self, *key: str) -> bool:
        return self.daily_count(*key) >= self.daily_limit

    def _count_send(self, *key: str) -> None:
        with self._lock:
            full = (self._today(), *key)
            self._daily[full] = self._daily.get(full, 0) + 1

    def _record_sent(self, entry: dict) -> None:
        with self._lock:
            self.sent.append(entry)

    # --------------------------------------------------------------- dispatch
    def _dispatch(self, request: Request) -> Answer:  # pragma: no cover - abstract
        raise NotImplementedError

    def _observe(self, request: Request) -> None:
        """Hook run for every request that reaches the emulator (before the knobs)."""

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        """Process one HTTP request (knobs, then the provider's ``_dispatch``) and record it."""
        request = Request(method, target, headers, body)
        try:
            self._observe(request)
            delay = self.delay_seconds
            if delay > 0:
                time.sleep(delay)
            status = self.http_status
            if status != 200:
                answer = Answer.http_error(status)
            else:
                answer = self._dispatch(request)
        except Exception:  # an emulator bug: visible to tests, never printed
            with self._lock:
                self.internal_errors.append(traceback.format_exc())
            answer = Answer.http_error(500)
        self._record_request(request, answer)
        return answer

    def _record_request(self, request: Request, answer: Answer) -> None:
        """Append the ``requests`` entry of one handled request (see the module docstring)."""
        with self._lock:
            self.requests.append({
                "method": request.method, "path": request.path, "fields": request.fields(), "code": answer.code,
            })


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive handler threads must not block stop()/down()
    request_queue_size = 256  # many client processes connect at once (Tencent Cloud races)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Shut down every accepted connection (keep-alive or in flight)."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or connections dropped by down(): stay silent.
        pass


class _Handler(BaseHTTPRequestHandler):
    emulator: ProviderEmulator
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY a kept-alive client waits
    # for a delayed ACK (about 40 ms) before the second one on every later request.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        answer = self.emulator.handle(self.command, self.path, list(self.headers.items()), body)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass
