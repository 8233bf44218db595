"""parse_phone and Phone.masked.

Proven here:
- every spelling the protocol accepts (E.164, the demo's country code without plus,
  a national number, the 00 international prefix, spaces and dashes) gives the one
  E.164 identity '+8613800138000';
- empty, non-numeric, too long, too short, fixed-line and toll-free numbers are
  InvalidParam (only mobiles get an SMS);
- the country allow-list decides for other countries (None allows any);
- DEFAULT_REGION selects the national numbering plan;
- Phone.masked hides the middle of a number; a masked
  number must not reveal every digit of the national number, and its four stars
  must hide at least four digits (as the documented '+86138****8000' does).
"""

from __future__ import annotations

import re

import phonenumbers
import pytest

from smsverify.errors import InvalidParam
from smsverify.service.phone import Phone, parse_phone

CN_ONLY = frozenset({86})
E164 = "+8613800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "+8613800138000",
        "8613800138000",
        "13800138000",
        "0086 13800138000",
        "008613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "138-0013-8000",
        "86 138 0013 8000",
        "  13800138000  ",
    ],
)
def test_accepted_spellings_are_one_identity(raw):
    assert parse_phone(raw, "CN", CN_ONLY).e164 == E164


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("abcdefghijk", id="letters"),
        pytest.param("1380013800a", id="letter-inside"),
        pytest.param("+86138001380001", id="one-digit-too-long"),
        pytest.param("1" * 40, id="way-too-long"),
        pytest.param("12345", id="short"),
        pytest.param("1380013800", id="ten-digits"),
        pytest.param("+861012345678", id="beijing-landline"),
        pytest.param("+862161234567", id="shanghai-landline"),
        pytest.param("01012345678", id="landline-national"),
        pytest.param("+864001234567", id="400-service-number"),
        pytest.param("+868001234567", id="800-toll-free"),
        pytest.param("+86", id="country-code-only"),
        pytest.param("+", id="plus-only"),
        pytest.param("+0013800138000", id="bad-country-code"),
    ],
)
def test_invalid_or_non_mobile_numbers_refused(raw):
    with pytest.raises(InvalidParam):
        parse_phone(raw, "CN", CN_ONLY)


def test_invalid_param_has_the_protocol_code_str():
    with pytest.raises(InvalidParam) as info:
        parse_phone("12345", "CN", CN_ONLY)
    assert info.value.code_str == "InValidParam"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+85251234567", "+85251234567"),  # Hong Kong mobile
        ("85251234567", "+85251234567"),  # demo form, no plus
        ("+447400123456", "+447400123456"),  # UK mobile
        ("+12015550123", "+12015550123"),  # US: fixed-line-or-mobile
    ],
)
def test_other_countries_follow_the_allow_list(raw, expected):
    country = phonenumbers.parse(expected).country_code
    with pytest.raises(InvalidParam) as info:
        parse_phone(raw, "CN", CN_ONLY)
    assert "+86" in info.value.msg  # the message says what is supported
    assert parse_phone(raw, "CN", frozenset({86, country})).e164 == expected
    assert parse_phone(raw, "CN", None).e164 == expected


def test_allow_list_without_86_refuses_china():
    with pytest.raises(InvalidParam):
        parse_phone(E164, "HK", frozenset({852}))


@pytest.mark.parametrize("raw", ["51234567", "5123 4567", "+85251234567", "85251234567"])
def test_default_region_hk_reads_hong_kong_national_numbers(raw):
    assert parse_phone(raw, "HK", frozenset({852})).e164 == "+85251234567"


def test_national_number_depends_on_default_region():
    with pytest.raises(InvalidParam):
        parse_phone("51234567", "CN", None)  # not a Chinese national number
    assert parse_phone("+8613800138000", "HK", None).e164 == E164  # E.164 is region-independent


# -- Phone.masked ------------------------------------------------------------------


def test_mask_hides_the_middle():
    assert Phone("+8613800138000", 86, "13800138000").masked == "+86138****8000"  # the documented form


def _hidden_digits(e164: str) -> int:
    """National digits the mask does not show (a digit shown twice still counts once)."""
    number = phonenumbers.parse(e164)
    national = str(number.national_number)
    shown = len(re.sub(r"\D", "", _mask(e164))) - len(str(number.country_code))
    return max(0, len(national) - shown)


#: Valid mobiles of several national lengths, each accepted with ALLOWED_COUNTRY_CODES=*,
#: so each can reach the invocation log.
MOBILES = [
    pytest.param(e164, id=name)
    for e164, name in [("+8613800138000", "CN-11"), ("+447400123456", "GB-10"), ("+85251234567", "HK-8"),
                       ("+2975601234", "AW-7"), ("+376312345", "AD-6"), ("+29051234", "SH-5"), ("+50051234", "FK-5"),
                       ("+6907290", "TK-4")]
]


@pytest.mark.parametrize("e164", MOBILES)
def test_mask_never_reveals_the_whole_number(e164):
    assert parse_phone(e164, "CN", None).e164 == e164
    assert _hidden_digits(e164) >= 1, _mask(e164)


@pytest.mark.parametrize("e164", MOBILES)
def test_mask_hides_as_many_digits_as_its_four_stars(e164):
    # The documented form '+86138****8000' hides 4 digits; the stars must not promise more than that.
    national = str(phonenumbers.parse(e164).national_number)
    assert _hidden_digits(e164) >= min(4, len(national)), _mask(e164)


@pytest.mark.parametrize("raw", ["abc13800138000", "13800138000 ext. 5", "13800138000x5", "tel:+8613800138000",
                                 "+86 138 0013 8000#", "++8613800138000", "1380013800０a"])
def test_letters_and_extensions_are_not_a_spelling_of_a_number(raw):
    with pytest.raises(InvalidParam):
        parse_phone(raw, "CN", frozenset({86}))


@pytest.mark.parametrize("raw", ["１３８００１３８０００", "＋８６１３８００１３８０００", "+86 (138) 0013.8000"])
def test_full_width_digits_and_separators_are_one_identity(raw):
    assert parse_phone(raw, "CN", frozenset({86})).e164 == "+8613800138000"


# -- one parse per spelling per process ----------------------------------------------------------
def _mask(e164: str) -> str:
    return parse_phone(e164, "CN", None).masked


def test_a_spelling_is_parsed_once_per_region(monkeypatch):
    from smsverify.service import phone as module

    module._parse.cache_clear()
    calls = []
    real_parse = module.parse
    monkeypatch.setattr(module, "parse", lambda *args: calls.append(args) or real_parse(*args))

    first = parse_phone("13800138000", "CN", frozenset({86}))
    again = parse_phone("13800138000", "CN", frozenset({86}))

    assert first == again == Phone("+8613800138000", 86, "13800138000")
    assert first.masked == "+86138****8000"
    assert calls == [("13800138000", "CN")]


def test_a_cached_spelling_is_read_again_under_another_region():
    # The cache is keyed by region: a CN national number is not a number of HK.
    assert parse_phone("13800138000", "CN", None).e164 == "+8613800138000"
    with pytest.raises(InvalidParam):
        parse_phone("13800138000", "HK", None)


def test_a_remembered_number_still_obeys_the_allowed_countries():
    assert parse_phone("+85251234567", "CN", None).e164 == "+85251234567"  # remembered
    with pytest.raises(InvalidParam):
        parse_phone("+85251234567", "CN", frozenset({86}))


def test_the_memory_of_spellings_is_bounded():
    from smsverify.service import phone as module

    module._parse.cache_clear()
    for i in range(module._parse.cache_info().maxsize + 10):
        parse_phone(f"+86138{i:08d}", "CN", None)
    assert module._parse.cache_info().currsize <= module._parse.cache_info().maxsize
