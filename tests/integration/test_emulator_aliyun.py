"""The Alibaba Cloud emulator's signature rule (``ACS3-HMAC-SHA256``), on its own.

Proven here, with requests signed by the test (not by the SDK, which
test_provider_aliyun.py uses):

* the canonical query string follows the V3 rules: RFC 3986 encoding of UTF-8
  (space ``%20``, ``*`` ``%2A``, ``~`` kept, ``/`` and ``:`` encoded), sorted by name;
* a correctly signed request is accepted, and changing after signing any one
  thing the signature covers (a query value, a signed header, the body, the
  method) is ``SignatureDoesNotMatch`` (HTTP 400), as is the wrong secret;
* an ``x-acs-*`` header left out of ``SignedHeaders`` is ``IncompleteSignature``;
  a timestamp 16 minutes off is ``InvalidTimeStamp.Expired``; a nonce used
  twice is ``SignatureNonceUsed``; an unknown key ``InvalidAccessKeyId.NotFound`` (404).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from tests.support.emulators.aliyun import AliyunSmsEmulator, acs3_signature, canonical_query, canonical_request

KEY, SECRET = "LTAI5tSelfTestKey", "self-test-secret"  # pragma: allowlist secret
QUERY = [("PhoneNumbers", "13800138000"), ("SignName", "测试签名"), ("TemplateCode", "SMS_1"),
         ("TemplateParam", '{"code":"123456"}')]


@pytest.fixture(scope="module")
def emulator():
    api = AliyunSmsEmulator({KEY: SECRET}, {"测试签名"}, {"SMS_1": {"code": 6}}).start()
    yield api
    api.stop()


@pytest.fixture
def api(emulator):
    emulator.reset()
    yield emulator
    assert emulator.internal_errors == []


def signed(api, *, query=QUERY, body=b"", secret=SECRET, key=KEY, when=None, nonce=None, unsigned=()) -> dict:
    """Headers of a POST to ``/`` signed by the V3 rules (``unsigned``: x-acs headers left out of the signature)."""
    moment = when or datetime.now(timezone.utc)
    headers = {
        "host": f"127.0.0.1:{api.port}", "x-acs-action": "SendSms", "x-acs-version": "2017-05-25",
        "x-acs-date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    names = sorted(n for n in headers if n not in unsigned)
    request = canonical_request("POST", "/", list(query), headers, names, headers["x-acs-content-sha256"])
    headers["Authorization"] = (f"ACS3-HMAC-SHA256 Credential={key},SignedHeaders={';'.join(names)},"
                                f"Signature={acs3_signature(secret, request)}")
    return headers


def post(api, headers: dict, *, query=QUERY, body=b"", method="POST") -> requests.Response:
    target = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    return requests.request(method, f"{api.url}/?{target}", headers=headers, data=body, timeout=5)


def code(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["Code"]


def test_the_canonical_query_string_follows_rfc_3986_and_sorts_by_name():
    assert canonical_query([("b", "a b*c~d/e:f"), ("A", "测"), ("a", "")]) == "A=%E6%B5%8B&a=&b=a%20b%2Ac~d%2Fe%3Af"


def test_a_correctly_signed_request_is_accepted(api):
    assert code(post(api, signed(api))) == (200, "OK")
    assert api.sent[0]["variables"] == {"code": "123456"}


@pytest.mark.parametrize("change", ["query value", "signed header", "body", "method", "secret"])
def test_any_change_to_what_is_signed_breaks_the_signature(change, api):
    headers = signed(api, secret="another-secret" if change == "secret" else SECRET)  # pragma: allowlist secret
    query, body, method = QUERY, b"", "POST"
    if change == "query value":
        query = [*QUERY[:-1], ("TemplateParam", '{"code":"654321"}')]
    elif change == "signed header":
        headers["x-acs-signature-nonce"] = uuid.uuid4().hex
    elif change == "body":
        body = b"PhoneNumbers=13900139000"
    elif change == "method":
        method = "GET"

    assert code(post(api, headers, query=query, body=body, method=method)) == (400, "SignatureDoesNotMatch")
    assert api.sent == [] and api.signature_failures == 1


def test_an_x_acs_header_left_out_of_the_signature_is_incomplete(api):
    assert code(post(api, signed(api, unsigned=("x-acs-signature-nonce",)))) == (400, "IncompleteSignature")


def test_a_timestamp_more_than_15_minutes_off_has_expired(api):
    late = datetime.now(timezone.utc) - timedelta(minutes=16)
    assert code(post(api, signed(api, when=late))) == (400, "InvalidTimeStamp.Expired")


def test_a_nonce_is_accepted_once(api):
    nonce = uuid.uuid4().hex
    assert code(post(api, signed(api, nonce=nonce))) == (200, "OK")
    assert code(post(api, signed(api, nonce=nonce))) == (400, "SignatureNonceUsed")


def test_an_unknown_key_is_not_found(api):
    assert code(post(api, signed(api, key="LTAI5tNobody"))) == (404, "InvalidAccessKeyId.NotFound")
