"""Phone numbers: every accepted spelling of one number becomes one :class:`Phone`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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


@dataclass(frozen=True)
class Phone:
    """A valid mobile number, made once at the edge and passed down as is.

    ``e164`` is the E.164 form (``+8613800138000``), ``country_code`` the
    calling code (``86``), ``national_number`` the national significant
    number as digits (``13800138000``). ``str(phone)`` is the E.164 form.
    """

    e164: str
    country_code: int
    national_number: str

    def __str__(self) -> str:
        return self.e164

    @property
    def masked(self) -> str:
        """The form for logs: ``+8613800138000`` -> ``+86138****8000``.

        At least four digits stay hidden; the rest is shared between head
        (<= 3) and tail (<= 4): ``13800138000`` -> ``138****8000``,
        ``51234567`` -> ``51****67``.
        """
        national = self.national_number
        shown = max(0, len(national) - 4)
        tail = min(4, shown - shown // 2)
        head = min(3, shown - tail)
        return f"+{self.country_code}{national[:head]}****{national[len(national) - tail:] if tail else ''}"


def _mobile(text: str, region: str | None) -> PhoneNumber | None:
    try:
        number = parse(text, region)
    except NumberParseException:
        return None
    if is_valid_number(number) and number_type(number) in _MOBILE_TYPES:
        return number
    return None


@lru_cache(maxsize=4096)
def _parse(text: str, default_region: str) -> Phone | None:
    """The mobile number a spelling stands for in ``default_region``, else None.

    Cached per (spelling, region): phonenumbers stays the authority, and a
    warm container parses a number it has seen once only (a parse is a third
    of a warm login's Python time, docs/benchmarks.md). Validity of a
    spelling never changes within a process.
    """
    if text.startswith("+"):
        number = _mobile(text, None)
    else:
        number = _mobile(text, default_region) or _mobile("+" + text, None)
    if number is None:
        return None
    return Phone(format_number(number, PhoneNumberFormat.E164), number.country_code, str(number.national_number))


def parse_phone(raw: str, default_region: str, allowed_country_codes: frozenset[int] | None) -> Phone:
    """Return ``raw`` as a :class:`Phone`.

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
    phone = _parse(text, default_region)
    if phone is None:
        raise InvalidParam("手机号格式不正确，请使用手机号或 E.164 格式（如 +8613800138000）")
    if allowed_country_codes is not None and phone.country_code not in allowed_country_codes:
        allowed = "、".join(f"+{c}" for c in sorted(allowed_country_codes))
        raise InvalidParam(f"暂不支持该国家/地区的手机号（仅支持 {allowed}）")
    return phone
