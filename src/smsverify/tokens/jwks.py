"""The JWK Set a backend verifies login tokens against, fetched with limits (PyJWT's ``PyJWKClient``).

:class:`JwksKeys` is a ``PyJWKClient`` (its JWK Set cache, ``lifespan``
seconds) whose fetch is bounded:

- ``https`` only; the one exception is ``http`` to ``127.0.0.1``,
  ``localhost`` or ``::1`` (tests and local runs against ``python -m
  smsverify serve``). Anything else (``http://example.com``, ``file:``,
  ``ftp:``) is a ValueError before any request;
- redirects are not followed (a 3xx answer is a failed fetch: a key set
  must come from the URL the backend was configured with);
- at most ``max_bytes`` of body are read (64 KiB by default; the
  function's JWKS is under 1 KiB), refused early when ``Content-Length``
  says more, and the whole fetch has one deadline of ``timeout_seconds``;
- a token whose ``kid`` is not in the cached set fetches the set again only
  when the last fetch is at least ``refresh_interval_seconds`` old (30 s by
  default), so a flood of forged tokens with random ``kid`` values fetches
  it at most once per interval; a failed fetch is not retried for
  ``retry_after_failure_seconds`` (2 s).

This module imports PyJWT at once: :mod:`smsverify.tokens.verifier` imports
it only when a ``jwks_url`` is used.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import threading
import time
import urllib.request
from typing import Any, Callable
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from jwt import PyJWK, PyJWKClient, PyJWKClientConnectionError, PyJWKClientError, PyJWTError

from smsverify.tokens.errors import TokenInvalid

#: Seconds a fetched key set is used before it is fetched again (the function serves it with max-age=300).
CACHE_SECONDS = 300
#: Least seconds between the last fetch and a fetch caused by an unknown ``kid``.
REFRESH_INTERVAL_SECONDS = 30.0
#: Seconds after a failed fetch during which tokens are refused without a new fetch.
RETRY_AFTER_FAILURE_SECONDS = 2.0
#: Deadline of one fetch, connection to last byte, seconds.
TIMEOUT_SECONDS = 5.0
#: Largest key set read, bytes.
MAX_BYTES = 64 * 1024
#: Hosts ``http`` (not ``https``) is allowed to, for tests and local runs.
LOCAL_HOSTS = ("localhost",)


def check_jwks_url(url: str) -> None:
    """Raise ValueError unless ``url`` is ``https://...``, or ``http://`` to a loopback host (see the module docstring)."""
    if not isinstance(url, str):
        raise ValueError("jwks_url must be a string")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:
        raise ValueError(f"jwks_url is not a URL ({exc})") from None
    if not host:
        raise ValueError("jwks_url must be an https:// URL with a host")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and _is_loopback(host):
        return
    raise ValueError("jwks_url must be https:// (http:// only to 127.0.0.1, localhost or ::1, for local runs)")


def _is_loopback(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx answer stays an error (HTTPError with its code) instead of being followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 (urllib's signature)
        return None


class JwksKeys(PyJWKClient):
    """The JWK Set at ``url``, cached and fetched with the limits of the module docstring.

    Parameters
    ----------
    url:
        The function's ``/.well-known/jwks.json`` (``https``).
    cache_seconds, refresh_interval_seconds, retry_after_failure_seconds, timeout_seconds:
        See the module constants (seconds).
    max_bytes:
        Largest body read, bytes.
    ssl_context:
        For ``https``; default: the system's trusted CAs (``ssl.create_default_context``).
    clock:
        Monotonic seconds for the refetch limits (tests move it).

    Raises
    ------
    ValueError
        A URL the module does not fetch (see :func:`check_jwks_url`).

    Attributes
    ----------
    fetches:
        Fetch attempts so far (successful or not).
    """

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = CACHE_SECONDS,
        refresh_interval_seconds: float = REFRESH_INTERVAL_SECONDS,
        retry_after_failure_seconds: float = RETRY_AFTER_FAILURE_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
        ssl_context: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_jwks_url(url)
        try:
            super().__init__(
                url, cache_jwk_set=True, lifespan=cache_seconds, timeout=timeout_seconds, ssl_context=ssl_context,
                headers={"Accept": "application/json", "User-Agent": "smsverify-verifier"},
            )
        except PyJWKClientError as exc:
            raise ValueError(f"jwks_url: {exc}") from None
        self.refresh_interval_seconds = refresh_interval_seconds
        self.retry_after_failure_seconds = retry_after_failure_seconds
        self.max_bytes = max_bytes
        self.clock = clock
        self.fetches = 0
        self._lock = threading.Lock()
        self._last_fetch: float | None = None
        self._last_failed = False

    def fetch_data(self) -> Any:
        """Fetch the key set once, within the limits; put it in the cache; return it (a dict).

        Raises
        ------
        PyJWKClientConnectionError
            Not fetched: a network error, a non-200 answer, a redirect, too
            large a body, or a retry too soon after a failed fetch.
        PyJWKClientError
            The body is not a JSON object.
        """
        now = self.clock()
        if self._last_failed and self._last_fetch is not None and now - self._last_fetch < self.retry_after_failure_seconds:
            raise PyJWKClientConnectionError("the last fetch failed less than "
                                             f"{self.retry_after_failure_seconds:g} s ago; not retried yet")
        self.fetches += 1
        self._last_fetch, self._last_failed = now, True
        body = self._read()
        try:
            data = json.loads(body)
        except ValueError:
            raise PyJWKClientError("the JWKS answer is not JSON") from None
        if not isinstance(data, dict):
            raise PyJWKClientError("The JWKS endpoint did not return a JSON object")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        self._last_failed = False
        return data

    def _read(self) -> bytes:
        handlers: list[Any] = [_NoRedirects()]
        if self.ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=self.ssl_context))
        opener = urllib.request.build_opener(*handlers)
        deadline = time.monotonic() + self.timeout
        try:
            with opener.open(urllib.request.Request(self.uri, headers=self.headers), timeout=self.timeout) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise PyJWKClientConnectionError(f"the JWKS answer declares {declared} bytes, over {self.max_bytes}")
                chunks, size = [], 0
                while size <= self.max_bytes:
                    if time.monotonic() > deadline:
                        raise PyJWKClientConnectionError(f"the JWKS answer took over {self.timeout:g} s")
                    chunk = response.read(min(16384, self.max_bytes + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                if size > self.max_bytes:
                    raise PyJWKClientConnectionError(f"the JWKS answer is over {self.max_bytes} bytes")
                return b"".join(chunks)
        except HTTPError as exc:
            exc.close()
            if 300 <= exc.code < 400:
                raise PyJWKClientConnectionError(f"the JWKS URL answered a redirect ({exc.code}), not followed") from None
            raise PyJWKClientConnectionError(f"the JWKS URL answered HTTP {exc.code}") from None
        except (URLError, OSError, http.client.HTTPException) as exc:
            raise PyJWKClientConnectionError(f"the JWKS URL could not be read ({exc})") from None

    def key_for(self, kid: str) -> PyJWK:
        """The signing key of the set whose ``kid`` is ``kid``, fetching the set within the limits.

        Raises
        ------
        TokenInvalid
            ``jwks_unavailable`` when the set could not be fetched (the
            token was not judged); ``signature`` when no key has this
            ``kid``, even after the refetch the limits allow.
        """
        with self._lock:
            try:
                found = _match(self.get_jwk_set(), kid)
                if found is None and self._may_refresh():
                    found = _match(self.get_jwk_set(refresh=True), kid)
            except PyJWTError as exc:
                raise TokenInvalid("jwks_unavailable", f"JWKS not fetched: {exc}") from None
        if found is None:
            raise TokenInvalid("signature", "no key of the JWKS has this kid")
        return found

    def _may_refresh(self) -> bool:
        return self._last_fetch is None or self.clock() - self._last_fetch >= self.refresh_interval_seconds


def _match(keyset: Any, kid: str) -> PyJWK | None:
    for key in keyset.keys:
        if key.key_id == kid and key.public_key_use in ("sig", None):
            return key
    return None


_clients: dict[str, JwksKeys] = {}
_clients_lock = threading.Lock()


def keys_at(url: str) -> JwksKeys:
    """One :class:`JwksKeys` per URL for the process, with the default limits; ValueError for a refused URL."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = JwksKeys(url)
        return client
