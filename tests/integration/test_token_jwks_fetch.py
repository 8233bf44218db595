"""``verify_token(jwks_url=...)`` against a real local JWKS server (HTTP and HTTPS on 127.0.0.1).

Proven here, counting the requests the server received:

* a genuine token verifies, and the key set is fetched once for many tokens;
* 200 forged tokens with random ``kid`` values fetch the key set exactly once
  (the first fetch); after the refresh interval one unknown ``kid`` fetches it
  once more (so a rotated key is found), then 200 more forged tokens nothing;
* a failing endpoint is not hammered: one fetch per retry delay;
* a redirect is refused (its target never asked), ``file:``, ``ftp:``,
  ``http://`` to another host than the loopback are refused before any request;
* a 36 MB key set is refused without being read whole, with and without a
  ``Content-Length``;
* the scene is required: ``login`` by default, another only when named;
* HTTPS: a certificate the client trusts verifies, the system's CAs refuse a
  self-signed one (TLS verification is on).
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import secrets
import ssl
import threading
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smsverify.tokens import JwksKeys, TokenConfig, TokenInvalid, TokenIssuer, verify_token

ISSUER = "https://sms.example.test"
AUDIENCE = "example-backend"
PHONE = "+8613800138000"
HUGE_BYTES = 36 * 1024 * 1024


def pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


class JwksServer(http.server.ThreadingHTTPServer):
    """Answers by path: ``/jwks`` the key set, ``/redirect`` a 302 to it, ``/fail`` a 500, ``/huge`` and
    ``/huge-declared`` 36 MB (without and with Content-Length). Counts requests per path, and how many
    bytes of a huge answer went out before the client hung up."""

    daemon_threads = True

    def __init__(self, keys: dict) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keys = keys
        self.hits: dict[str, int] = {}
        self.huge_sent: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.server_address[1]}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits.get(path, 0)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: JwksServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path
        with self.server.lock:
            self.server.hits[path] = self.server.hits.get(path, 0) + 1
        route = path.split("?")[0]
        if route == "/jwks":
            body = json.dumps(self.server.keys).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif route == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/jwks?from-redirect")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/fail":
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route in ("/huge", "/huge-declared"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if route == "/huge-declared":
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            chunk, sent = b'{"keys": [' + b" " * (1024 * 1024 - 10), 0
            try:
                while sent < HUGE_BYTES:
                    self.wfile.write(chunk)
                    sent += len(chunk)
                self.wfile.flush()
                outcome = "sent whole"
            except OSError:
                outcome = "client hung up"
            with self.server.lock:
                self.server.huge_sent.append((outcome, sent))


@pytest.fixture(scope="module")
def signer() -> TokenIssuer:
    key = ec.generate_private_key(ec.SECP256R1())
    return TokenIssuer(TokenConfig.from_env({"TOKEN_PRIVATE_KEY": pem(key), "TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": AUDIENCE}, in_scf=True))


@pytest.fixture
def server(signer):
    srv = JwksServer(signer.jwks())
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def fresh(path: str = "/jwks") -> str:
    """A path the process-wide per-URL cache has never seen (the query makes the URL new)."""
    return f"{path}?t={uuid.uuid4().hex}"


def forged(kid: str | None = None) -> str:
    """A well-formed ES256 token, right iss/aud/scene, signed by a key the JWKS does not hold, with a random kid."""
    now = int(__import__("time").time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": PHONE, "phone_number": PHONE, "scene": "login",
              "iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(16)}
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                      headers={"kid": kid or secrets.token_urlsafe(32)})


def reason(token: str, **kwargs) -> str:
    with pytest.raises(TokenInvalid) as refused:
        verify_token(token, audience=AUDIENCE, issuer=ISSUER, **kwargs)
    return refused.value.reason


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_genuine_token_verifies_and_the_key_set_is_fetched_once(server, signer):
    path = fresh()
    for _ in range(20):
        token = signer.issue(phone_e164=PHONE, scene="login").token
        claims = verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks_url=server.url(path))
        assert claims["sub"] == PHONE and claims["scene"] == "login"
    assert server.count(path) == 1


def test_200_forged_tokens_with_random_kids_fetch_the_key_set_once(server, signer):
    path = fresh()
    reasons = {reason(forged(), jwks_url=server.url(path)) for _ in range(200)}
    assert reasons == {"signature"}
    assert server.count(path) == 1  # the first fetch; no unknown kid refetched within the interval
    assert verify_token(signer.issue(phone_e164=PHONE, scene="login").token, audience=AUDIENCE, issuer=ISSUER,
                        jwks_url=server.url(path))["sub"] == PHONE
    assert server.count(path) == 1


def test_after_the_interval_one_unknown_kid_refetches_once_so_a_rotated_key_is_found(server):
    clock, path = FakeMonotonic(), fresh()
    keys = JwksKeys(server.url(path), refresh_interval_seconds=30, clock=clock)
    for _ in range(200):
        assert reason(forged(), jwks=keys) == "signature"
    assert server.count(path) == 1
    # The function rotates: a new key signs, the JWKS publishes it.
    new_key = ec.generate_private_key(ec.SECP256R1())
    rotated = TokenIssuer(TokenConfig.from_env({"TOKEN_PRIVATE_KEY": pem(new_key), "TOKEN_ISSUER": ISSUER,
                                                "TOKEN_AUDIENCE": AUDIENCE}, in_scf=True))
    server.keys = {"keys": rotated.jwks()["keys"] + server.keys["keys"]}
    token = rotated.issue(phone_e164=PHONE, scene="login").token
    clock.now += 29.9
    assert reason(token, jwks=keys) == "signature" and server.count(path) == 1  # still within the interval
    clock.now += 0.1
    assert verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks=keys)["sub"] == PHONE
    assert server.count(path) == 2
    for _ in range(200):
        assert reason(forged(), jwks=keys) == "signature"
    assert server.count(path) == 2 and keys.fetches == 2


def test_a_failing_endpoint_is_asked_once_per_retry_delay(server, signer):
    clock, path = FakeMonotonic(), fresh("/fail")
    keys = JwksKeys(server.url(path), retry_after_failure_seconds=2, clock=clock)
    token = signer.issue(phone_e164=PHONE, scene="login").token
    assert {reason(token, jwks=keys) for _ in range(50)} == {"jwks_unavailable"}
    assert server.count(path) == 1
    clock.now += 2
    assert reason(token, jwks=keys) == "jwks_unavailable" and server.count(path) == 2


def test_a_redirect_is_not_followed(server, signer):
    path = fresh("/redirect")
    token = signer.issue(phone_e164=PHONE, scene="login").token
    with pytest.raises(TokenInvalid) as refused:
        verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks_url=server.url(path))
    assert refused.value.reason == "jwks_unavailable" and "redirect (302)" in refused.value.detail
    assert server.count(path) == 1 and server.count("/jwks?from-redirect") == 0


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://127.0.0.1/jwks.json", "data:application/json,{}",
    "http://example.com/.well-known/jwks.json", "http://127.0.0.1.nip.io/jwks", "http://10.0.0.1/jwks", "https:///jwks",
])
def test_urls_other_than_https_or_loopback_http_are_refused_before_any_request(url, signer):
    token = signer.issue(phone_e164=PHONE, scene="login").token
    with pytest.raises(ValueError, match="jwks_url"):
        verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks_url=url)


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_a_36_mb_key_set_is_refused_without_being_read_whole(server, signer, path):
    path = fresh(path)
    token = signer.issue(phone_e164=PHONE, scene="login").token
    with pytest.raises(TokenInvalid) as refused:
        verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks_url=server.url(path))
    assert refused.value.reason == "jwks_unavailable" and "65536" in refused.value.detail
    deadline = __import__("time").monotonic() + 10
    while not server.huge_sent and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    [(outcome, sent)] = server.huge_sent
    assert outcome == "client hung up" and sent < HUGE_BYTES


def test_the_scene_is_required_login_by_default(server, signer):
    url = server.url(fresh())
    register = signer.issue(phone_e164=PHONE, scene="register").token
    assert reason(register, jwks_url=url) == "scene"
    assert reason(register, jwks_url=url, scene="resetPassword") == "scene"
    assert verify_token(register, audience=AUDIENCE, issuer=ISSUER, jwks_url=url, scene="register")["scene"] == "register"
    assert verify_token(register, audience=AUDIENCE, issuer=ISSUER, jwks_url=url, scene=("login", "register"))["sub"] == PHONE
    for bad in ((), ("",), None, 7):
        with pytest.raises(ValueError, match="scene"):
            verify_token(register, audience=AUDIENCE, issuer=ISSUER, jwks_url=url, scene=bad)


def self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem(key).encode()


def test_https_verifies_with_a_trusted_certificate_and_refuses_an_untrusted_one(signer, tmp_path):
    cert, key = self_signed()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    srv = JwksServer(signer.jwks())
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    srv.socket = server_context.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        token = signer.issue(phone_e164=PHONE, scene="login").token
        trusting = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        keys = JwksKeys(srv.url(fresh(), "https"), ssl_context=trusting)
        assert verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks=keys)["sub"] == PHONE
        with pytest.raises(TokenInvalid) as refused:
            verify_token(token, audience=AUDIENCE, issuer=ISSUER, jwks_url=srv.url(fresh(), "https"))
        assert refused.value.reason == "jwks_unavailable" and "CERTIFICATE_VERIFY_FAILED" in refused.value.detail
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)
