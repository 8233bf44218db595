"""Each provider's error table, proven once, at unit level (no I/O).

For every provider the number-level codes are written out here as the
provider's documentation gives them (Tencent Cloud SMS "错误码", Ronglian
"短信错误码", Huyi "返回值说明", Zhenzi "返回码"), and every documented code of
the provider (the emulator's table for the HTTP providers) goes through the
sender module's ``classify``: a number rejection, a number rate limit (daily or
not), or else a provider-level :class:`ProviderRefused` that is neither. Also
here: ``repr(SmsMessage)`` hides the code and the phone, and ``parse_endpoint``.
The senders against their emulators: tests/integration/test_sender_contract.py.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smsverify.senders import aliyun, huyi, ronglian, tencent, zhenzi
from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    ProviderRefused,
    SendError,
    SendTimeout,
    SmsMessage,
)
from smsverify.integrations.tencent_api import parse_endpoint
from tests.support import HUYI_ERRORS, RONGLIAN_ERRORS, ZHENZI_ERRORS
from tests.support.emulators.aliyun import ALIYUN_ERRORS

TENCENT_PROVIDER_LEVEL = (
    "LimitExceeded.AppDailyLimit",
    "FailedOperation.InsufficientBalanceInSmsPackage",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
    "InvalidParameterValue.TemplateParameterFormatError",
    "MissingParameter.EmptyPhoneNumberSet",
    "InternalError.RequestTimeException",
)

#: provider -> (module, every documented code, number rejections, number limits {code: daily}, unknown outcome)
TABLES = {
    "tencent": (
        tencent,
        (*TENCENT_PROVIDER_LEVEL, "InternalError.Timeout"),
        {"InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberParseFail",
         "FailedOperation.PhoneNumberInBlacklist"},  # opted out: no other provider either
        {"LimitExceeded.PhoneNumberThirtySecondLimit": False, "LimitExceeded.PhoneNumberOneHourLimit": False,
         "LimitExceeded.DeliveryFrequencyLimit": False, "LimitExceeded.PhoneNumberDailyLimit": True,
         "LimitExceeded.PhoneNumberSameContentDailyLimit": True},
        {"InternalError.Timeout"},
    ),
    "ronglian": (ronglian, tuple(RONGLIAN_ERRORS), {"160042"},
                 {"160038": False, "160039": True, "160040": True, "160041": True}, set()),
    "huyi": (huyi, tuple(str(c) for c in HUYI_ERRORS), {"406", "4030"},
             {"4080": False, "4082": True, "4085": True, "408": True}, set()),
    "zhenzi": (zhenzi, tuple(str(c) for c in ZHENZI_ERRORS), {"100"}, {"109": True}, set()),
    # Alibaba Cloud "国内消息API错误码" and the OpenAPI gateway's codes (the emulator's table).
    "aliyun": (aliyun, tuple(ALIYUN_ERRORS), {"isv.MOBILE_NUMBER_ILLEGAL", "isv.DOMESTIC_NUMBER_NOT_SUPPORTED"},
               {"isv.BUSINESS_LIMIT_CONTROL": False}, set()),
}

CASES = [
    pytest.param(provider, code, id=f"{provider}:{code}")
    for provider, (_, documented, rejections, limits, _) in TABLES.items()
    for code in sorted({*documented, *rejections, *limits})
]


@pytest.mark.parametrize("provider", list(TABLES))
def test_the_number_tables_are_the_documented_ones(provider):
    module, _, rejections, limits, _ = TABLES[provider]
    assert module.NUMBER_REJECTIONS == rejections
    assert module.NUMBER_LIMITS == limits


@pytest.mark.parametrize("provider, code", CASES)
def test_every_documented_code_is_classified(provider, code):
    module, _, rejections, limits, unknown = TABLES[provider]

    error = module.classify(code, "detail")

    assert isinstance(error, SendError)
    assert (error.provider, error.provider_code, error.qualified_code) == (provider, code, f"{provider}:{code}")
    if code in rejections:
        assert type(error) is NumberRejected and error.maybe_sent is False
    elif code in limits:
        assert type(error) is NumberRateLimited and error.daily is limits[code] and error.maybe_sent is False
    elif code in unknown:
        assert type(error) is SendTimeout and error.maybe_sent is True
    else:
        assert type(error) is ProviderRefused and error.maybe_sent is False


def test_zhenzi_100_is_provider_level_when_our_own_parameters_were_not_valid():
    assert type(zhenzi.classify("100", own_parameters_valid=False)) is ProviderRefused
    assert type(zhenzi.classify("100", own_parameters_valid=True)) is NumberRejected


@pytest.mark.parametrize("message, daily", [
    ("触发分钟级流控Permits:1", False),
    ("触发小时级流控Permits:5", False),
    ("触发天级流控Permits:10", True),
    ("", False),
])
def test_aliyun_business_limit_is_daily_when_its_message_names_the_day(message, daily):
    error = aliyun.classify("isv.BUSINESS_LIMIT_CONTROL", message)
    assert type(error) is NumberRateLimited and error.daily is daily


@pytest.mark.parametrize("phone, wire", [
    ("+8613800138000", "13800138000"),  # mainland: the 11-digit national number
    ("+85261234567", "85261234567"),  # elsewhere: country code and number, no +
    ("+14155550123", "14155550123"),
])
def test_aliyun_phone_numbers(phone, wire):
    assert aliyun.phone_numbers(phone) == wire


# -- SmsMessage repr --------------------------------------------------------------------------
@pytest.mark.fuzz
@given(
    code=st.text(alphabet="0123456789", min_size=4, max_size=10),
    national=st.text(alphabet="0123456789", min_size=10, max_size=10),
    ttl_minutes=st.integers(min_value=1, max_value=1440),
)
def test_repr_never_shows_the_code_or_the_phone(code, national, ttl_minutes):
    assume(code not in str(ttl_minutes))  # the minutes are shown; a 4-digit code may equal them
    phone = "+861" + national
    message = SmsMessage(phone=phone, code=code, ttl_minutes=ttl_minutes)

    for text in (repr(message), str(message), f"{message}", repr([message]), repr({"m": message})):
        assert code not in text
        assert phone not in text and phone[1:] not in text and national not in text


# -- parse_endpoint ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "endpoint, expected",
    [
        ("sms.tencentcloudapi.com", ("https", "sms.tencentcloudapi.com")),
        ("sms.ap-guangzhou.tencentcloudapi.com", ("https", "sms.ap-guangzhou.tencentcloudapi.com")),
        ("https://sms.tencentcloudapi.com", ("https", "sms.tencentcloudapi.com")),
        ("http://127.0.0.1:9100", ("http", "127.0.0.1:9100")),
        ("http://127.0.0.1:9100/", ("http", "127.0.0.1:9100")),
        ("HTTP://localhost:9100", ("http", "localhost:9100")),
        ("http://[::1]:9100", ("http", "[::1]:9100")),
        ("127.0.0.1:9100", ("https", "127.0.0.1:9100")),
    ],
)
def test_parse_endpoint(endpoint, expected):
    assert parse_endpoint(endpoint) == expected
