"""The error model: one exception class per ``codeStr`` of the protocol.

Every refusal a client can get, from the service or the edge, is a
:class:`VerificationError` subclass. Each class carries the stable ``codeStr`` (kept from Tencent's
Node.js demo "SmsVerificationCode" where the demo had one) and a default
``msg``, a short Chinese sentence as the demo used. Extra body fields (for
example ``retryAfter`` in seconds) travel in :attr:`VerificationError.fields`.

Each class also declares the status of its integration response
(``status``) and the extra body fields it may carry (``body_fields``): the
edge answers with them (:mod:`smsverify.edge.responses`) and docs/generate.py
writes the codeStr tables from them; nothing here sends anything.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigError(Exception):
    """Missing or malformed configuration variables, raised at start-up.

    Parameters
    ----------
    variable:
        The (first) environment variable at fault, e.g. ``"REDIS_PORT"``.
    problem:
        What is wrong with it, in plain words.

    :attr:`problems` lists every ``(variable, problem)`` found by one read of
    the environment (:meth:`collected`), so one failed start names them all;
    ``variable`` and ``problem`` are its first pair.
    """

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem
        self.problems: list[tuple[str, str]] = [(variable, problem)]

    @classmethod
    def collected(cls, problems: list[tuple[str, str]]) -> "ConfigError":
        """One error for every ``(variable, problem)`` pair, in order (at least one)."""
        error = cls(*problems[0])
        error.problems = list(problems)
        error.args = ("; ".join(f"{variable}: {problem}" for variable, problem in problems),)
        return error


class VerificationError(Exception):
    """Root of every client-visible refusal.

    Parameters
    ----------
    msg:
        Overrides the class's default ``msg`` with a more specific sentence
        (for example which parameter is missing).
    **fields:
        Extra JSON body fields, camelCase as they appear on the wire,
        e.g. ``retryAfter=42`` (seconds) or ``attemptsLeft=2``.

    :attr:`log_fields` holds fields for the invocation's log line only
    (e.g. ``failedProviders``), never sent to the client.
    """

    code_str: ClassVar[str] = "InternalError"
    default_msg: ClassVar[str] = "服务内部错误"
    #: The HTTP status of the integration response (:mod:`smsverify.edge.responses`).
    status: ClassVar[int] = 500
    #: The extra body fields this codeStr may carry, camelCase (e.g. ``retryAfter``, seconds).
    body_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, msg: str | None = None, **fields: Any) -> None:
        self.msg = msg or self.default_msg
        self.fields = fields
        self.log_fields: dict[str, Any] = {}
        super().__init__(f"{self.code_str}: {self.msg}")


class InvalidParam(VerificationError):
    code_str = "InValidParam"  # sic: the demo's spelling, kept for clients
    status = 400
    body_fields = ("providerCode",)
    default_msg = "缺少参数或参数无效"


class MissingCode(VerificationError):
    code_str = "MissingCode"
    status = 400
    default_msg = "缺少验证码参数"


class CaptchaFailed(VerificationError):
    code_str = "CaptchaFailed"
    status = 400
    body_fields = ("captchaCode",)
    default_msg = "人机验证未通过"


class CaptchaRequired(VerificationError):
    """A captcha ticket is needed for this request and none came: the client shows the captcha."""

    code_str = "CaptchaRequired"
    status = 400
    default_msg = "请先完成人机验证"


class CodeHasExpired(VerificationError):
    code_str = "CodeHasExpired"
    status = 401
    default_msg = "验证码已过期"


class CodeHasValid(VerificationError):
    """The code was invalidated by too many wrong tries (demo wording kept)."""

    code_str = "CodeHasValid"
    status = 401
    default_msg = "验证码已失效"


class CodeIsError(VerificationError):
    code_str = "CodeIsError"
    status = 401
    body_fields = ("attemptsLeft",)
    default_msg = "请检查手机号和验证码是否正确"


class TooFrequent(VerificationError):
    code_str = "TooFrequent"
    status = 429
    body_fields = ("retryAfter", "providerCode")
    default_msg = "发送过于频繁，请稍后再试"


class HourlyLimitExceeded(VerificationError):
    code_str = "HourlyLimitExceeded"
    status = 429
    body_fields = ("retryAfter",)
    default_msg = "该手机号一小时内发送次数已达上限"


class DailyLimitExceeded(VerificationError):
    code_str = "DailyLimitExceeded"
    status = 429
    body_fields = ("retryAfter", "providerCode")
    default_msg = "该手机号今日发送次数已达上限"


class IpLimitExceeded(VerificationError):
    code_str = "IpLimitExceeded"
    status = 429
    body_fields = ("retryAfter",)
    default_msg = "当前网络发送次数过多，请稍后再试"


class PrefixLimitExceeded(VerificationError):
    """Too many getSms to the number block (country code + first national digits) of the phone, or
    (``reason: "conversion"``) too few of the block's recent codes were used (SMS pumping)."""

    code_str = "PrefixLimitExceeded"
    status = 429
    body_fields = ("retryAfter", "reason")
    default_msg = "该号段发送次数过多，请稍后再试"


class OriginNotAllowed(VerificationError):
    """A browser request from an origin not in ``ALLOWED_ORIGINS``; nothing was run."""

    code_str = "OriginNotAllowed"
    status = 403
    default_msg = "该来源不允许调用此接口"


class VerifyLimitExceeded(VerificationError):
    code_str = "VerifyLimitExceeded"
    status = 429
    body_fields = ("retryAfter",)
    default_msg = "该手机号今日校验次数已达上限"


class ServiceBusy(VerificationError):
    """A quota of the whole service is spent: getSms past the global send quota (``GLOBAL_SEND_LIMIT`` per
    ``GLOBAL_SEND_WINDOW_SECONDS``, or ``GLOBAL_SEND_HARD_LIMIT`` with captcha configured; a guard against SMS
    pumping), or a legacy login (no ``verificationId``) past the failed-login quota (``GLOBAL_VERIFY_LIMIT`` per
    ``GLOBAL_VERIFY_WINDOW_SECONDS``, a guard against guessing codes across many phones) when captcha is not
    configured (with captcha that login is asked for a ticket instead). Carries ``retryAfter``."""

    code_str = "ServiceBusy"
    status = 503
    body_fields = ("retryAfter",)
    default_msg = "短信服务繁忙，请稍后再试"


class SmsSendFailed(VerificationError):
    code_str = "SmsSendFailed"
    status = 502
    body_fields = ("providerCode",)
    default_msg = "短信发送失败"


class SmsSendTimeout(VerificationError):
    code_str = "SmsSendTimeout"
    status = 504
    body_fields = ("providerCode", "resendAfter")
    default_msg = "短信发送超时，请稍候查收或稍后重试"


class WechatLoginFailed(VerificationError):
    """WeChat refused the ``wxCode`` of a login (its errcode in ``wechatErrcode``)."""

    code_str = "WechatLoginFailed"
    status = 400
    body_fields = ("wechatErrcode",)
    default_msg = "微信登录失败，请重新获取 wxCode 后再试"


class ServiceUnavailable(VerificationError):
    code_str = "ServiceUnavailable"
    status = 503
    default_msg = "服务暂不可用，请稍后再试"


class NotFound(VerificationError):
    """A path under the receipt prefix (``RECEIPT_PATH`` up to its last segment) other than
    ``RECEIPT_PATH`` itself; nothing was run."""

    code_str = "NotFound"
    status = 404
    default_msg = "路径不存在"


class ReceiptPullFailed(VerificationError):
    """The timer's pull of SMS delivery statuses failed (``providerCode``: the provider's error code)."""

    code_str = "ReceiptPullFailed"
    status = 502
    body_fields = ("providerCode", "pulled", "changed", "unchanged", "skipped")
    default_msg = "拉取短信回执失败"
