"""smsverify.settings.secret_strength: typed-in secrets are refused, generated ones pass."""

from __future__ import annotations

import base64
import random

import pytest

from smsverify.settings.secret_strength import weak_secret_reason


@pytest.mark.parametrize(
    "value, words",
    [
        ("short-but-random-Xq9", "at least 32 bytes, got 20"),
        ("a" * 40, "only 1 distinct"),
        ("abab" * 10, "only 2 distinct"),
        ("Passw0rd!" * 4, "9-character pattern"),
        ("correct-horse-battery-" * 2, "22-character pattern"),
        ("0123456789abcdefghijklmnopqrstuvwxyz", "run of 26 consecutive"),
        ("zyxwvutsrqponm" + "Q7#k2@Lp9!x4Rt8$Wb", "run of 14 consecutive"),
        (b"\x00\x01" * 20, "only 2 distinct"),
    ],
)
def test_typed_in_secrets_are_refused_with_the_reason(value, words):
    reason = weak_secret_reason(value)
    assert reason is not None and words in reason
    text = value if isinstance(value, str) else value.decode("latin-1")
    assert text not in reason  # the value itself is never quoted


def test_the_length_is_measured_in_utf8_bytes_and_the_minimum_is_adjustable():
    assert weak_secret_reason("密钥" * 6 + "Xq9#kLp2Rt8$") is None  # 12 CJK characters = 36 bytes + 12
    assert "at least 32 bytes" in weak_secret_reason("kq7Xz2Lp9Rt8")
    assert weak_secret_reason("kq7Xz2Lp9Rt8wB4m", min_bytes=16) is None


def test_generated_secrets_pass():
    rng = random.Random(20261128)  # seeded: the same 8000 random values at every run, no flakiness
    for _ in range(2000):
        assert weak_secret_reason(base64.urlsafe_b64encode(rng.randbytes(32)).rstrip(b"=")) is None
        assert weak_secret_reason(rng.randbytes(16).hex()) is None  # 32 hex digits: the smallest alphabet we accept
        assert weak_secret_reason(base64.b64encode(rng.randbytes(32))) is None
        assert weak_secret_reason(rng.randbytes(32)) is None


def test_the_refusal_names_the_command_for_the_variable_it_is_about():
    assert weak_secret_reason("short").endswith("generate one with `python -m smsverify keys generate --kind secret`")
    assert weak_secret_reason("short", variable="CODE_SECRET").endswith(
        "generate one with `python -m smsverify keys generate --kind secret --var CODE_SECRET`")
