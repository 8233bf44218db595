"""How provider answers are classified, against the emulators (real HTTP, real SDK).

Proven here, each case failing on the classification it replaces:

* a TLS handshake that fails (an HTTPS emulator with an untrusted certificate)
  is never-sent: ``ProviderUnreachable`` (``maybe_sent`` False) at the sender,
  and fails over to the next provider end to end (an unreachable provider's
  release: test_provider_faults.py and test_providers.py);
* Zhenzi code 100 is number-level only when our own parameters were valid,
  and provider-level (fails over) otherwise;
* a Huyi success answered in XML is read as sent;
* a provider's own short-term limit for the number answers ``TooFrequent``
  with ``retryAfter`` >= 1 even when ``SEND_INTERVAL_SECONDS`` is 0.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess

import pytest

from smsverify.edge.handler import create_handler
from smsverify.senders.base import NumberRejected, ProviderRefused, ProviderUnreachable, SmsMessage
from smsverify.senders.zhenzi import ZhenziSender, ZhenziSettings
from tests.support import (
    ZHENZI_APP_ID,
    ZHENZI_APP_SECRET,
    ZHENZI_TEMPLATE_ID,
    answer,
    get_sms,
    huyi_env,
    ronglian_env,
    zhenzi_env,
)
from tests.support import ZhenziEmulator

PHONE_RAW, PHONE = "8613800138000", "+8613800138000"
MESSAGE = SmsMessage(phone=PHONE, code="4829", ttl_minutes=5)


@pytest.fixture(scope="module")
def untrusted_tls(tmp_path_factory) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate no client trusts."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make the test certificate")
        pytest.skip("openssl not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


@pytest.fixture
def zhenzi_https(untrusted_tls):
    emulator = ZhenziEmulator(ZHENZI_APP_ID, ZHENZI_APP_SECRET, templates={ZHENZI_TEMPLATE_ID: 2})
    emulator.start(tls=untrusted_tls)
    yield emulator
    emulator.stop()


@pytest.fixture
def handler_for(redis_url, make_env, clock, ronglian_api, huyi_api, zhenzi_api):
    def build(providers: str, **overrides: str):
        env = make_env(
            redis_url, SMS_PROVIDER=providers,
            **{**ronglian_env(ronglian_api), **huyi_env(huyi_api), **zhenzi_env(zhenzi_api), **overrides},
        )
        return create_handler(env, clock=clock)

    return build


def send(handler, phone: str = PHONE_RAW) -> dict:
    return answer(handler(get_sms(phone), {}))


# -- TLS handshake ---------------------------------------------------------------------------------


def test_a_failed_tls_handshake_is_never_sent(zhenzi_https):
    sender = ZhenziSender(
        ZhenziSettings(ZHENZI_APP_ID, ZHENZI_APP_SECRET, ZHENZI_TEMPLATE_ID, zhenzi_https.url), ("code", "minutes"),
    )
    assert zhenzi_https.url.startswith("https://")

    with pytest.raises(ProviderRefused) as raised:
        sender.send(MESSAGE, 2.0)

    assert type(raised.value) is ProviderUnreachable and raised.value.maybe_sent is False
    assert raised.value.qualified_code == "zhenzi:TLSHandshake"
    assert zhenzi_https.requests == [] and zhenzi_https.sent == []


def test_a_failed_tls_handshake_fails_over(handler_for, zhenzi_https, ronglian_api):
    handler = handler_for("zhenzi,ronglian", ZHENZI_BASE_URL=zhenzi_https.url, CODE_LENGTH="4")

    sent = send(handler)

    assert (sent["codeStr"], sent["provider"]) == ("Ok", "ronglian")
    assert len(ronglian_api.sent) == 1


# -- Zhenzi code 100 ---------------------------------------------------------------------------------


def test_zhenzi_100_is_about_the_number_when_our_parameters_were_valid(zhenzi_api):
    sender = ZhenziSender(
        ZhenziSettings(ZHENZI_APP_ID, ZHENZI_APP_SECRET, ZHENZI_TEMPLATE_ID, zhenzi_api.url), ("code", "minutes"),
    )
    zhenzi_api.force_code = 100

    with pytest.raises(NumberRejected):
        sender.send(MESSAGE, 2.0)


def test_zhenzi_100_is_provider_level_when_our_parameters_were_not(zhenzi_api):
    # An empty templateId (settings built by hand, past start-up's checks): Zhenzi answers 100
    # because of what we sent, so another provider may well do better.
    sender = ZhenziSender(ZhenziSettings(ZHENZI_APP_ID, ZHENZI_APP_SECRET, "", zhenzi_api.url), ("code", "minutes"))

    with pytest.raises(ProviderRefused) as raised:
        sender.send(MESSAGE, 2.0)

    assert raised.value.qualified_code == "zhenzi:100" and not isinstance(raised.value, NumberRejected)
    assert zhenzi_api.sent == []


# -- Huyi XML ----------------------------------------------------------------------------------------


def test_a_huyi_success_answered_in_xml_is_sent(handler_for, huyi_api):
    handler = handler_for("huyi")
    huyi_api.force_xml = True

    sent = send(handler)

    assert (sent["codeStr"], sent["provider"]) == ("Ok", "huyi")
    assert len(huyi_api.sent) == 1


def test_a_huyi_refusal_answered_in_xml_keeps_its_code(handler_for, huyi_api):
    handler = handler_for("huyi")
    huyi_api.force_xml = True
    huyi_api.force_code = 4085  # the number's daily verification-code limit

    refused = send(handler)

    assert (refused["codeStr"], refused["providerCode"]) == ("DailyLimitExceeded", "huyi:4085")


# -- the provider's own short-term limit ---------------------------------------------------------------


def test_a_provider_short_term_limit_asks_to_wait_at_least_a_second(handler_for, sms_api):
    handler = handler_for("tencent", SEND_INTERVAL_SECONDS="0")
    sms_api.sms_number_error = "LimitExceeded.PhoneNumberThirtySecondLimit"

    refused = send(handler)

    assert (refused["codeStr"], refused["retryAfter"]) == ("TooFrequent", 1)
