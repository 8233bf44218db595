"""The answer's ``msg`` in Chinese or English: the language of a request and the catalog.

The code below the edge writes every ``msg`` in Chinese (``zh-CN``, as
Tencent's Node.js demo did). The edge picks the request's language
(:func:`choose`) and, for ``en``, swaps the Chinese sentence for its English
one (:func:`localise`), in one place per answer; ``codeStr`` and every other
field are left as they are.

The catalog maps each Chinese sentence the package can answer to its English
sentence (:data:`CATALOG`); the few sentences built with an f-string are
matched by a regular expression whose groups carry the variable parts over
(:data:`PATTERNS`). ``tests/unit/test_messages.py`` walks the source with
:mod:`ast` and fails when a Chinese sentence has no English one.

Language tags follow BCP 47 (RFC 5646, "Tags for Identifying Languages");
only the primary subtag decides: ``zh``, ``zh-CN``, ``zh_CN`` (what WeChat's
``wx.getSystemInfo`` reports), ``zh-TW``, ``zh-Hans`` are Chinese, ``en``,
``en-US``, ``en_GB`` English.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Union

#: The two languages of ``msg``, the first the default.
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

_PRIMARY = {"zh": "zh-CN", "en": "en"}
#: A Chinese character (CJK Unified Ideographs and Extension A): a ``msg`` without one is not Chinese.
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: A language tag as BCP 47 spells it (``_`` accepted for ``-``), at most 64 characters.
_TAG = re.compile(r"([A-Za-z]{1,8})(?:[-_][A-Za-z0-9]{1,8})*")

#: Chinese ``msg`` -> English ``msg``, for every fixed sentence of the package.
CATALOG: dict[str, str] = {
    # default msg of each codeStr (smsverify.errors)
    "服务内部错误": "Internal service error",
    "缺少参数或参数无效": "A parameter is missing or invalid",
    "缺少验证码参数": "The code parameter is missing",
    "人机验证未通过": "The captcha check failed",
    "请先完成人机验证": "Please complete the captcha first",
    "验证码已过期": "The verification code has expired",
    "验证码已失效": "The verification code is no longer valid",
    "请检查手机号和验证码是否正确": "Please check that the phone number and the code are correct",
    "发送过于频繁，请稍后再试": "Codes are requested too often; please try again later",
    "该手机号一小时内发送次数已达上限": "This phone number has reached its limit of codes for the hour",
    "该手机号今日发送次数已达上限": "This phone number has reached its limit of codes for today",
    "当前网络发送次数过多，请稍后再试": "Too many codes were requested from this network; please try again later",
    "该号段发送次数过多，请稍后再试": "Too many codes were requested for this number range; please try again later",
    "该来源不允许调用此接口": "This origin is not allowed to call this API",
    "该手机号今日校验次数已达上限": "This phone number has reached its limit of code checks for today",
    "短信服务繁忙，请稍后再试": "The SMS service is busy; please try again later",
    "短信发送失败": "The SMS could not be sent",
    "短信发送超时，请稍候查收或稍后重试": "Sending the SMS timed out; check your messages shortly or try again later",
    "微信登录失败，请重新获取 wxCode 后再试": "WeChat login failed; get a new wxCode and try again",
    "服务暂不可用，请稍后再试": "The service is temporarily unavailable; please try again later",
    "路径不存在": "No such path",
    "拉取短信回执失败": "Pulling the SMS delivery receipts failed",
    # success answers (edge/app.py, edge/receipts.py)
    "验证码已发送": "The verification code has been sent",
    "校验验证码成功": "The verification code is correct",
    "回执已拉取": "The delivery receipts have been pulled",
    # reading the request (edge/app.py)
    "请求体不是有效的 JSON": "The request body is not valid JSON",
    "JSON 请求体应为对象": "The JSON request body must be an object",
    "请求体不是有效的 UTF-8 文本": "The request body is not valid UTF-8 text",
    "表单参数过多或格式错误": "The form has too many parameters or is malformed",
    "multipart 请求体格式错误": "The multipart request body is malformed",
    "Content-Length 无效": "The Content-Length is invalid",
    "请求体过大": "The request body is too large",
    "缺少参数 method": "The method parameter is missing",
    "参数 method 应为 getSms、login 或 status": "The method parameter must be getSms, login or status",
    "method=status 需要参数 verificationId（旧版验证码没有状态）":
        "method=status needs verificationId (legacy codes have no status)",
    "当前网络查询过于频繁，请稍后再试": "Too many status requests from this network; please try again later",
    "查询成功": "Status found",
    "缺少参数 phone": "The phone parameter is missing",
    # phones (service/phone.py)
    "手机号格式不正确": "The phone number is malformed",
    "手机号格式不正确，请使用手机号或 E.164 格式（如 +8613800138000）":
        "The phone number is malformed; use a mobile number or the E.164 form (e.g. +8613800138000)",
    # the protocol (service/verification.py)
    "该手机号今日获取验证码次数较多，请先完成人机验证":
        "This phone number has requested many codes today; please complete the captcha first",
    "该手机号获取验证码过于频繁，请先完成人机验证": "Codes are requested too often for this phone number; please complete the captcha first",
    "当前网络获取验证码过于频繁，请先完成人机验证": "Codes are requested too often from this network; please complete the captcha first",
    "发送量较大，请先完成人机验证": "Many codes are being sent; please complete the captcha first",
    "参数 channel 应为 sms 或 voice": "The channel parameter must be sms or voice",
    "该号段近期验证码使用率异常，请先完成人机验证":
        "Codes sent to this number block are rarely used; please complete the captcha first",
    "该号段近期验证码使用率异常，请稍后再试": "Codes sent to this number block are rarely used; please try again later",
    "未开通语音验证码（channel=voice 需要配置 VOICE_SDKAPPID）":
        "Voice codes are not enabled (channel=voice needs VOICE_SDKAPPID)",
    "语音验证码仅支持中国大陆手机号": "Voice codes are for mainland China mobile numbers only",
    "验证码错误次数较多，请先完成人机验证": "Too many wrong codes; please complete the captcha first",
    "请先完成人机验证（缺少 ticket 或 randstr）": "Please complete the captcha first (ticket or randstr is missing)",
    "参数 verificationId 无效：应为客户端生成的 22-64 位随机串（A-Z a-z 0-9 _ -）":
        "The verificationId parameter is invalid: it must be a random string of 22-64 characters (A-Z a-z 0-9 _ -) "
        "made by the client",
    "缺少参数 verificationId（本服务只签发绑定验证码）":
        "The verificationId parameter is missing (this service issues bound codes only)",
    "短信服务商无法识别该手机号": "The SMS provider does not recognise this phone number",
    "短信服务连接失败": "Could not connect to the SMS service",
    "当前网络获取验证码过于频繁，请稍后再试": "Codes are requested too often from this network; please try again later",
    "未配置登录令牌 (login tokens are off)": "Login tokens are off",
    "令牌使用 HS256 共享密钥签名，没有公钥 (no public key with TOKEN_SECRET)":
        "Tokens are signed with an HS256 shared secret, so there is no public key (TOKEN_SECRET)",
    "验证码格式不正确，应为数字": "The code is malformed: it must be digits",
    "当前网络校验失败次数过多，请稍后再试": "Too many failed checks from this network; please try again later",
    "校验失败的请求过多，请稍后再试": "Too many failed checks; please try again later",
    "已配置的短信服务商均不支持该手机号所在地区": "None of the configured SMS providers serves this phone number's region",
    "人机验证服务暂不可用，请稍后再试": "The captcha service is temporarily unavailable; please try again later",
    "参数 wxCode 格式不正确": "The wxCode parameter is malformed",
    "微信登录服务暂不可用，请稍后再试": "The WeChat login service is temporarily unavailable; please try again later",
    # delivery receipts (edge/receipts.py)
    "回执只接受 POST": "Receipts are accepted by POST only",
    "没有配置腾讯云短信（SMS_PROVIDER 不含 tencent），无法拉取回执":
        "Tencent Cloud SMS is not configured (SMS_PROVIDER does not include tencent), so no receipts can be pulled",
}

Replacement = Union[str, Callable[[re.Match], str]]

#: The sentences built with an f-string: (the Chinese sentence as a whole-string pattern, the English one as a
#: :meth:`re.Match.expand` template or a function of the match). The groups are the variable parts.
PATTERNS: list[tuple[re.Pattern[str], Replacement]] = [
    (re.compile(r"参数 scene 无效，可用：(.*)", re.S), r"The scene parameter is invalid; available: \1"),
    (re.compile(r"参数 (\S+) 重复"), r"The \1 parameter is given more than once"),
    (re.compile(r"参数 (\S+) 应为字符串"), r"The \1 parameter must be a string"),
    (re.compile(r"参数 (\S+) 过长或含非法字符"), r"The \1 parameter is too long or holds an illegal character"),
    (re.compile(r"不支持的 Content-Type：(.*)", re.S), r"Unsupported Content-Type: \1"),
    (re.compile(r"请求格式错误：(.*)", re.S), r"Malformed request: \1"),
    (re.compile(r"回执格式错误：(.*)", re.S), r"Malformed receipt: \1"),
    (re.compile(r"暂不支持该国家/地区的手机号（仅支持 (.*)）", re.S),
     lambda m: f"Phone numbers of this country or region are not supported (only {m.group(1).replace('、', ', ')})"),
]


def english(msg: str) -> str | None:
    """The English sentence of the Chinese ``msg``, or ``None`` when the catalog has none."""
    found = CATALOG.get(msg)
    if found is not None:
        return found
    for pattern, replacement in PATTERNS:
        match = pattern.fullmatch(msg)
        if match is not None:
            return match.expand(replacement) if isinstance(replacement, str) else replacement(match)
    return None


def normalise(tag: Any) -> str | None:
    """``"zh-CN"`` or ``"en"`` for a language tag of either language (``zh``, ``zh_CN``, ``en-US``, any case);
    ``None`` for anything else (another language, not a tag, not a string)."""
    if not isinstance(tag, str) or len(tag) > 64:
        return None
    match = _TAG.fullmatch(tag.strip())
    return _PRIMARY.get(match.group(1).lower()) if match else None


def from_accept_language(header: Any, default: str = DEFAULT_LANGUAGE) -> str | None:
    """The best of ``zh-CN`` and ``en`` for an ``Accept-Language`` header, or ``None``.

    RFC 9110 §12.5.4 ("Accept-Language") and RFC 4647 §3.3.1 (basic
    filtering): a range such as ``zh`` or ``zh-TW`` accepts Chinese, ``en-US``
    English, with its ``q`` weight (default 1, ``q=0`` means "not this one");
    the language of the highest weight wins, the first listed on a tie. ``*``
    stands for every language the header does not name, the ``default`` first.
    ``None`` when the header accepts neither (``fr``), is empty or unreadable.
    Parsed with Werkzeug's ``parse_accept_header``; its ``best_match`` is not
    used, because it prefers an exact tag match to a better weight
    (``en;q=0.5, zh-CN;q=0.9`` would give ``en``).
    """
    if not isinstance(header, str) or not header.strip():
        return None
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    # Werkzeug orders named ranges before "*", then by weight; by weight alone here, the
    # header's order kept on a tie (a named range before "*").
    ranges = sorted(parse_accept_header(header[:1024], LanguageAccept), key=lambda item: item[1], reverse=True)
    named = {normalise(value) for value, _ in ranges} - {None}
    for value, quality in ranges:
        if quality <= 0:
            continue
        if value == "*":
            rest = [lang for lang in (default, *LANGUAGES) if lang not in named]
            if rest:
                return rest[0]
            continue
        language = normalise(value)
        if language is not None:
            return language
    return None


def choose(lang: Any, accept_language: Any, default: str = DEFAULT_LANGUAGE) -> str:
    """The language of an answer: the ``lang`` parameter, else the ``Accept-Language``
    header, else ``default``. A ``lang`` of another language or not a tag
    (``fr``, ``xx-!!``) is passed over, never refused; so is such a header."""
    return normalise(lang) or from_accept_language(accept_language, default) or default


def _defaults() -> dict[str, str]:
    """codeStr -> its default Chinese ``msg`` (the error classes, and the two success answers)."""
    from smsverify import errors

    found = {"Ok": "验证码已发送", "Success": "校验验证码成功"}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.VerificationError):
            found[value.code_str] = value.default_msg
    return found


_DEFAULT_MSG = _defaults()


def localise(payload: dict[str, Any], language: str) -> dict[str, Any]:
    """``payload`` (a body ``{"codeStr", "msg", ...}``) with its ``msg`` in ``language``.

    ``zh-CN``: unchanged. ``en``: the catalog's sentence; a ``msg`` with no Chinese
    character is kept (it is English already); a sentence missing from the catalog
    (a defect the catalog's test exists to catch) falls back to the English of the
    codeStr's default ``msg``, then to the Chinese. The other fields are kept as they are.
    """
    if language != "en":
        return payload
    msg = payload.get("msg")
    if not isinstance(msg, str) or not HAN.search(msg):
        return payload
    translated = english(msg)
    if translated is None:
        translated = english(_DEFAULT_MSG.get(payload.get("codeStr"), "")) or msg
    return {**payload, "msg": translated}
