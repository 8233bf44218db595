"""Phone numbers: every accepted spelling of one number becomes one E.164 string."""

from __future__ import annotations

import re

from phonenumbers.phonenumber import PhoneNumber
from phonenumbers.phonenumberutil import (
    NumberParseException,
    PhoneNumberFormat,
    PhoneNumberType,
    format_number,
    is_valid_number,
    number_type,
    parse,
)

from smsverify.errors import InvalidParam

#: Longer input is refused before parsing (E.164 has at most 15 digits).
MAX_INPUT_LENGTH = 32

_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
#: Digits, one leading plus, and the separators people type. phonenumbers alone
#: would also read "abc13800138000" or "13800138000 ext. 5".
_SPELLING = re.compile(r"[+＋]?\d[\d ()\-.]*")  # \d: full-width digits too, which phonenumbers reads


def _mobile(text: str, region: str | None) -> PhoneNumber | None:
    try:
        number = parse(text, region)
    except NumberParseException:
        return None
    if is_valid_number(number) and number_type(number) in _MOBILE_TYPES:
        return number
    return None


#: E.164 numbers this process has validated -> (country calling code, national
#: number). One invocation meets its number three times (the edge, the
#: service, the log mask); parsing it once saves two phonenumbers parses, a
#: third of a warm login's Python time (docs/benchmarks.md). Bounded: cleared
#: when full, since validity never changes.
_VALIDATED: dict[str, tuple[int, str]] = {}
_VALIDATED_MAX = 4096


def _remember(number: PhoneNumber) -> tuple[str, tuple[int, str]]:
    """Record a valid mobile number; return its E.164 form and what is recorded."""
    e164 = format_number(number, PhoneNumberFormat.E164)
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()
    known = _VALIDATED[e164] = (number.country_code, str(number.national_number))
    return e164, known


def _validated(e164: str) -> tuple[int, str] | None:
    """(country calling code, national number) of a valid mobile E.164 number, else None."""
    known = _VALIDATED.get(e164)
    if known is None:
        number = _mobile(e164, None) if e164.startswith("+") else None
        if number is None:
            return None
        _, known = _remember(number)
    return known


def normalise_phone(raw: str, default_region: str, allowed_country_codes: frozenset[int] | None) -> str:
    """Return ``raw`` as an E.164 string (``+8613800138000``).

    Accepted spellings: E.164 (``+8613800138000``); country code and number
    without a plus, as Tencent's Node demo sends (``8613800138000``); a
    national number of ``default_region`` (``13800138000`` for CN). Digits may
    be full-width; spaces, dashes, parentheses and dots are allowed, letters
    are not. The number must be a valid mobile number (phonenumbers, Google
    libphonenumber metadata) of a country in ``allowed_country_codes``
    (``None``: any country).

    Raises
    ------
    InvalidParam
        Not a valid mobile number, or of a country that is not allowed.
    """
    text = raw.strip()
    if len(text) > MAX_INPUT_LENGTH or not _SPELLING.fullmatch(text):
        raise InvalidParam("手机号格式不正确")
    known = _VALIDATED.get(text)
    if known is not None:
        e164 = text  # an E.164 number this process has validated
    else:
        if text.startswith("+"):
            number = _mobile(text, None)
        else:
            number = _mobile(text, default_region) or _mobile("+" + text, None)
        if number is None:
            raise InvalidParam("手机号格式不正确，请使用手机号或 E.164 格式（如 +8613800138000）")
        e164, known = _remember(number)
    country_code = known[0]
    if allowed_country_codes is not None and country_code not in allowed_country_codes:
        allowed = "、".join(f"+{c}" for c in sorted(allowed_country_codes))
        raise InvalidParam(f"暂不支持该国家/地区的手机号（仅支持 {allowed}）")
    return e164


def mask_phone(e164: str) -> str:
    """Mask an E.164 number for logs: ``+8613800138000`` -> ``+86138****8000``."""
    known = _validated(e164)
    if known is None:
        return "****"
    country_code, national = known
    # At least four digits stay hidden; the rest is shared between head (<= 3)
    # and tail (<= 4): 13800138000 -> 138****8000, 51234567 -> 51****67.
    shown = max(0, len(national) - 4)
    tail = min(4, shown - shown // 2)
    head = min(3, shown - tail)
    return f"+{country_code}{national[:head]}****{national[len(national) - tail:] if tail else ''}"
