"""Each provider's error table, proven once, at unit level (no I/O).

The tables are the sender modules' own (``NUMBER_REJECTIONS``, ``NUMBER_LIMITS``,
``UNKNOWN_OUTCOME``), imported, not restated. Every code a provider can answer
(Tencent: the SDK's ``tencentcloud/sms/v20210111/errorcodes.py``, which lists
the codes of "短信 API 3.0 发送错误码"; the others: their emulator's complete
table) goes through the module's ``classify`` once: a code of the rejections
table is :class:`NumberRejected`, of the limits table :class:`NumberRateLimited`
(daily as the table says), of the unknown-outcome table :class:`SendTimeout`
(``maybe_sent``), and any other a plain provider-level :class:`ProviderRefused`.
Every code the tables name is one the provider answers (a misspelt code would
never match). Also here: ``repr(SmsMessage)`` hides the code and the phone, and
``parse_endpoint``. What each class does end to end: tests/integration/test_provider_faults.py.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from tencentcloud.sms.v20210111 import errorcodes as tencent_errorcodes

from smsverify.senders import aliyun
from smsverify.senders import PROVIDERS, provider_module
from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    ProviderRefused,
    SendTimeout,
    SmsMessage,
)
from smsverify.integrations.tencent_api import parse_endpoint
from tests.support import HUYI_ERRORS, RONGLIAN_ERRORS, ZHENZI_ERRORS
from tests.support.emulators.aliyun import ALIYUN_ERRORS

#: provider -> every code it can answer
ANSWERED: dict[str, set[str]] = {
    "tencent": {value for name, value in vars(tencent_errorcodes).items() if name.isupper() and isinstance(value, str)},
    "ronglian": set(RONGLIAN_ERRORS),
    "huyi": {str(code) for code in HUYI_ERRORS},
    "zhenzi": {str(code) for code in ZHENZI_ERRORS},
    # Alibaba Cloud "国内消息API错误码" and the OpenAPI gateway's codes (the emulator's table)
    "aliyun": set(ALIYUN_ERRORS),
}


def tables(provider: str) -> tuple[frozenset[str], dict[str, bool], frozenset[str]]:
    module = provider_module(provider)
    return module.NUMBER_REJECTIONS, module.NUMBER_LIMITS, getattr(module, "UNKNOWN_OUTCOME", frozenset())


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_every_answered_code_is_classified_by_the_module_tables(provider):
    rejections, limits, unknown = tables(provider)
    module = provider_module(provider)

    for code in sorted(ANSWERED[provider]):
        error = module.classify(code, "detail")
        assert (error.provider, error.provider_code, error.qualified_code) == (provider, code, f"{provider}:{code}")
        if code in unknown:
            assert type(error) is SendTimeout and error.maybe_sent is True, code
        elif code in rejections:
            assert type(error) is NumberRejected and error.maybe_sent is False, code
        elif code in limits:
            assert type(error) is NumberRateLimited and error.daily is limits[code] and error.maybe_sent is False, code
        else:
            assert type(error) is ProviderRefused and error.maybe_sent is False, code


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_the_tables_name_only_codes_the_provider_answers_and_each_once(provider):
    rejections, limits, unknown = tables(provider)
    named = [*rejections, *limits, *unknown]
    assert set(named) <= ANSWERED[provider]
    assert len(named) == len(set(named))


def test_zhenzi_100_is_provider_level_when_our_own_parameters_were_not_valid():
    zhenzi = provider_module("zhenzi")
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
