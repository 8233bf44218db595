"""new_code and code_digest.

Proven here:
- new_code(n) is always n ASCII digits, drawn from secrets.randbelow(10**n) and
  zero-padded (a draw of 42 is "000042", not "42");
- code_digest is HMAC-SHA256 under the key of "<E.164 phone>:<code>" as 64 hex
  characters (checked against the hmac module), so it differs per phone, per code
  and per key.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from smsverify.service import codes
from smsverify.service.codes import code_digest, new_code

KEY = b"unit-code-secret-0123456789abcdef"  # pragma: allowlist secret
OTHER_KEY = b"unit-other-secret-0123456789abcd"  # pragma: allowlist secret
PHONE = "+8613800138000"


@pytest.mark.parametrize("length", [4, 6, 8, 10])
def test_new_code_is_length_ascii_digits(length):
    for _ in range(500):
        code = new_code(length)
        assert len(code) == length
        assert code.isascii() and code.isdigit()


@pytest.mark.parametrize(
    "draw, length, expected",
    [(42, 6, "000042"), (0, 6, "000000"), (999999, 6, "999999"), (7, 4, "0007"), (123, 10, "0000000123")],
)
def test_new_code_zero_pads_the_random_draw(monkeypatch, draw, length, expected):
    bounds = []

    def randbelow(bound):
        bounds.append(bound)
        return draw

    monkeypatch.setattr(codes.secrets, "randbelow", randbelow)
    assert new_code(length) == expected
    assert bounds == [10**length]  # uniform over all length-digit strings, from the CSPRNG


def test_new_code_uses_every_digit_in_every_position():
    # 3000 draws: the chance that some digit never appears at some position is ~6 * 10 * 0.9**3000.
    seen = [set() for _ in range(6)]
    for _ in range(3000):
        for position, digit in enumerate(new_code(6)):
            seen[position].add(digit)
    assert all(s == set("0123456789") for s in seen)


def test_code_digest_is_hmac_sha256_of_phone_and_code():
    expected = hmac.new(KEY, b"+8613800138000:012345", hashlib.sha256).hexdigest()
    assert code_digest(KEY, PHONE, "012345") == expected
    assert len(expected) == 64 and int(expected, 16) >= 0


def test_code_digest_differs_per_phone_code_and_key():
    base = code_digest(KEY, PHONE, "123456")
    assert code_digest(KEY, "+8613900139000", "123456") != base
    assert code_digest(KEY, PHONE, "123457") != base
    assert code_digest(OTHER_KEY, PHONE, "123456") != base
    assert code_digest(KEY, PHONE, "123456") == base  # deterministic


def test_code_digest_does_not_contain_the_code():
    digest = code_digest(KEY, PHONE, "987654")
    assert "987654" not in digest and PHONE not in digest
