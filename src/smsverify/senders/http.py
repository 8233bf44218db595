"""HTTP for the providers without a usable SDK (Ronglian, Huyi, Zhenzi).

One ``requests.Session`` per sender, created on the first send and reused by
the warm container (keep-alive). ``requests`` is imported on that first send
only, so a login never loads it.

Transport failures are classified once, here, for every provider:

- refused, unreachable, DNS failure, connect timeout, a TLS handshake or
  certificate failure, a proxy that cannot be reached (urllib3 raises
  ``ProxyError`` only before it reached the proxy): the request never left,
  :class:`ProviderUnreachable` (``ConnectionRefused`` / ``ConnectTimeout`` /
  ``TLSHandshake`` / ``ProxyError``), ``maybe_sent`` False;
- read timeout or a connection dropped after sending: :class:`SendTimeout`
  (``Timeout``), the provider may have sent;
- an HTTP status other than 200: :class:`ProviderRefused` (``HTTP<status>``);
  these providers answer business errors with HTTP 200;
- a 200 answer that does not parse: :class:`SendTimeout` (``InvalidResponse``),
  since the provider may have accepted the message.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from smsverify.senders.base import ProviderRefused, ProviderUnreachable, SendTimeout


class ProviderHttp:
    """A provider's connection: base URL, session, and failure classification.

    ``base_url`` is e.g. ``https://app.cloopen.com:8883`` (no trailing slash).
    """

    def __init__(self, provider: str, base_url: str) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._session: Any = None
        self._lock = threading.Lock()

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                import requests

                session = requests.Session()
                # Proxies from the environment would carry codes through a third party
                # and cause the classic ClientNetworkError; SCF needs none to reach the internet.
                session.trust_env = False
                self._session = session
            return self._session

    def post(self, path: str, timeout_seconds: float, **kwargs: Any) -> Any:
        """POST ``base_url + path``; return the parsed JSON of a 200 answer.

        ``kwargs`` go to ``requests.Session.post`` (``json=``, ``data=``,
        ``params=``, ``headers=``). Raises :class:`ProviderRefused` or
        :class:`SendTimeout` as the module doc describes.
        """
        content = self.post_raw(path, timeout_seconds, **kwargs)
        try:
            return json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise SendTimeout(self.provider, "InvalidResponse", "answer is not JSON") from None

    def post_raw(self, path: str, timeout_seconds: float, **kwargs: Any) -> bytes:
        """Like :meth:`post`, but return the body of the 200 answer as bytes."""
        import requests

        try:
            response = self.session().post(self.base_url + path, timeout=timeout_seconds, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise transport_failure(self.provider, exc) from None
        if response.status_code != 200:
            raise ProviderRefused(self.provider, f"HTTP{response.status_code}", "unexpected HTTP status")
        return response.content


def _never_connected(exc: Exception) -> bool:
    """True when urllib3 failed before the request was sent."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return reason is not None and type(reason).__name__ in ("NewConnectionError", "NameResolutionError")


def transport_failure(provider: str, cause: BaseException | None) -> ProviderRefused | SendTimeout:
    """Classify a ``requests`` exception (ours, or the one inside an SDK's
    ``ClientNetworkError``) as the module doc describes."""
    import requests

    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return ProviderUnreachable(provider, "ConnectTimeout", "no connection in time")
    if isinstance(cause, requests.exceptions.ProxyError):
        return ProviderUnreachable(provider, "ProxyError", "could not reach the proxy (HTTP_PROXY / HTTPS_PROXY)")
    if isinstance(cause, requests.exceptions.SSLError):
        # urllib3 sends nothing before the handshake and the certificate check succeed.
        return ProviderUnreachable(provider, "TLSHandshake", "TLS handshake or certificate check failed")
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(cause, requests.exceptions.ReadTimeout):
        if _never_connected(cause):
            return ProviderUnreachable(provider, "ConnectionRefused", "could not connect")
    return SendTimeout(provider, "Timeout", "no answer in time")
