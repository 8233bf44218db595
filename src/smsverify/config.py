"""Configuration: one frozen :class:`Settings` built once per container.

:meth:`Settings.from_env` reads a mapping (normally ``os.environ``), validates
every variable and raises :class:`~smsverify.errors.ConfigError` naming the
first bad one. Tests pass plain dicts; nothing here mutates the environment.

Variables (defaults in brackets; durations in seconds):

Redis
    ``REDIS_URL`` (``redis://``, ``rediss://`` for TLS) or ``REDIS_HOST``,
    ``REDIS_PORT`` [6379], ``REDIS_PASSWORD``, ``REDIS_DB`` [0];
    ``REDIS_CLUSTER`` [false]; ``REDIS_TIMEOUT_SECONDS`` [1.0] for connect
    and read.
SMS
    ``SMS_PROVIDER``: one of ``tencent``, ``ronglian``, ``huyi``, ``zhenzi``,
    or a comma list of them tried in order (failover); ``console`` alone, for
    local runs. ``SMS_TEMPLATE_PARAMS`` [code,minutes] (template values in
    order, for every template-based provider), ``SMS_TIMEOUT_SECONDS`` [5]
    per provider request, ``SMS_SEND_BUDGET_SECONDS`` [8] for all attempts of
    one getSms, ``PROVIDER_COOLDOWN_SECONDS`` [60] during which a provider
    that failed is skipped by every instance.
Tencent Cloud SMS
    ``SMS_SDKAPPID``, ``SMS_SIGN``, ``SMS_TEMPLATE_ID``, ``SMS_REGION``
    [ap-guangzhou], ``SMS_API_ENDPOINT`` [sms.tencentcloudapi.com]; role
    credentials ``TENCENTCLOUD_SECRETID``, ``TENCENTCLOUD_SECRETKEY``,
    ``TENCENTCLOUD_SESSIONTOKEN`` (as SCF injects them).
Ronglian Cloud (容联云)
    ``RONGLIAN_ACCOUNT_SID``, ``RONGLIAN_AUTH_TOKEN``, ``RONGLIAN_APP_ID``,
    ``RONGLIAN_TEMPLATE_ID`` [1, the free test template: 1-4 digit values,
    so ``CODE_LENGTH`` must be 4], ``RONGLIAN_BASE_URL``
    [https://app.cloopen.com:8883].
Huyi 106 (互亿无线)
    ``HUYI_ACCOUNT`` (APIID), ``HUYI_API_KEY``, ``HUYI_TEMPLATE`` (the
    approved text with ``{code}`` and optionally ``{minutes}``) [the unpaid
    accounts' default template], ``HUYI_BASE_URL`` [https://106.ihuyi.com].
Zhenzi Cloud (榛子云)
    ``ZHENZI_APP_ID``, ``ZHENZI_APP_SECRET``, ``ZHENZI_TEMPLATE_ID``,
    ``ZHENZI_BASE_URL`` [https://sms_developer.zhenzikj.com].
Codes
    ``CODE_SECRET`` (HMAC key, >= 16 characters; inside SCF >= 32 bytes and
    not low-entropy, see :mod:`smsverify.secret_strength`), ``CODE_SECRET_PREVIOUS``
    (accepted when verifying, for rotation), ``CODE_LENGTH`` [6],
    ``CODE_TTL_SECONDS`` [300], ``MAX_VERIFY_ATTEMPTS`` [3]. Inside SCF ``CODE_LENGTH`` >= 6.
Limits
    ``SEND_INTERVAL_SECONDS`` [60], ``HOURLY_SEND_LIMIT`` [5],
    ``DAILY_SEND_LIMIT`` [10], ``DAILY_VERIFY_LIMIT`` [30], ``IP_SEND_LIMIT``
    [20] per ``IP_SEND_WINDOW_SECONDS`` [3600], ``GLOBAL_SEND_LIMIT`` [1000]
    per ``GLOBAL_SEND_WINDOW_SECONDS`` [3600].
Abuse limits (see :mod:`smsverify.service.abuse`)
    ``IPV6_PREFIX_LENGTH`` [64] (an IPv6 client is its /64),
    ``UNKNOWN_IP_SEND_LIMIT`` [50] per ``IP_SEND_WINDOW_SECONDS`` for all
    requests without a client IP together; ``PREFIX_DIGITS`` [7],
    ``PREFIX_SEND_LIMIT`` [30] per ``PREFIX_SEND_WINDOW_SECONDS`` [3600];
    ``GLOBAL_SEND_HARD_LIMIT`` [3 x ``GLOBAL_SEND_LIMIT``]; ``IP_VERIFY_LIMIT``
    [10] per ``IP_VERIFY_WINDOW_SECONDS`` [3600] and ``GLOBAL_VERIFY_LIMIT``
    [10000] per ``GLOBAL_VERIFY_WINDOW_SECONDS`` [3600] failed logins;
    ``VERIFY_CAPTCHA_AFTER`` [5] wrong codes per phone per day before login
    needs a captcha ticket; ``CAPTCHA_MODE`` [always] or ``adaptive``.
Phones
    ``DEFAULT_REGION`` [CN], ``ALLOWED_COUNTRY_CODES`` [86] (comma list, or
    ``*`` for any).
Captcha (optional, both or neither)
    ``CAPTCHA_APP_ID``, ``CAPTCHA_APP_SECRET_KEY``, ``CAPTCHA_API_ENDPOINT``
    [captcha.tencentcloudapi.com].

Inside SCF (``TENCENTCLOUD_RUNENV=SCF`` or ``SCF_FUNCTIONNAME`` set by the
runtime) Redis, ``CODE_SECRET`` and the SMS settings are required. Outside
SCF, their absence selects the embedded local defaults (in-process store,
console SMS, random per-process key), each listed in :attr:`Settings.notices`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import quote

from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS

from smsverify.errors import ConfigError

TEMPLATE_PARAM_NAMES = ("code", "minutes")
#: SMS providers with a sender module, in the order the README lists them.
SMS_PROVIDERS = ("tencent", "ronglian", "huyi", "zhenzi")
#: Ronglian's free test template (providers.md): values of 1-4 digits only.
RONGLIAN_TEST_TEMPLATE = "1"
#: The template unpaid Huyi accounts may use (Huyi API doc v3.3, section 2.6).
HUYI_DEFAULT_TEMPLATE = "您的验证码是：{code}。请不要把验证码泄露给其他人。"


@dataclass(frozen=True)
class TencentCredentials:
    """A Tencent Cloud CAM key pair with an optional STS session token."""

    secret_id: str
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RonglianSettings:
    """Ronglian Cloud template SMS (``RONGLIAN_*``)."""

    account_sid: str
    auth_token: str = field(repr=False)
    app_id: str
    template_id: str
    base_url: str


@dataclass(frozen=True)
class HuyiSettings:
    """Huyi 106 SMS (``HUYI_*``); ``template`` holds ``{code}`` (and ``{minutes}``)."""

    account: str
    api_key: str = field(repr=False)
    template: str
    base_url: str


@dataclass(frozen=True)
class ZhenziSettings:
    """Zhenzi Cloud v2 template SMS (``ZHENZI_*``)."""

    app_id: str
    app_secret: str = field(repr=False)
    template_id: str
    base_url: str


@dataclass(frozen=True)
class Settings:
    """Validated configuration. All durations are seconds, all limits counts."""

    in_scf: bool
    # Redis; redis_url None selects the in-process store (local runs only).
    redis_url: str | None = field(repr=False)
    redis_cluster: bool
    redis_timeout_seconds: float
    # SMS: providers in failover order
    sms_providers: tuple[str, ...]
    sms_send_budget_seconds: float
    provider_cooldown_seconds: int
    ronglian: RonglianSettings | None
    huyi: HuyiSettings | None
    zhenzi: ZhenziSettings | None
    # Tencent Cloud SMS
    sms_sdk_app_id: str | None
    sms_sign: str | None
    sms_template_id: str | None
    sms_template_params: tuple[str, ...]
    sms_region: str
    sms_api_endpoint: str
    sms_timeout_seconds: float
    credentials: TencentCredentials | None
    # Codes
    code_secret: bytes = field(repr=False)
    code_secret_previous: bytes | None = field(repr=False)
    code_length: int
    code_ttl_seconds: int
    max_verify_attempts: int
    # Limits
    send_interval_seconds: int
    hourly_send_limit: int
    daily_send_limit: int
    daily_verify_limit: int
    ip_send_limit: int
    ip_send_window_seconds: int
    global_send_limit: int
    global_send_window_seconds: int
    # Abuse limits
    ipv6_prefix_length: int
    unknown_ip_send_limit: int
    prefix_digits: int
    prefix_send_limit: int
    prefix_send_window_seconds: int
    global_send_hard_limit: int
    ip_verify_limit: int
    ip_verify_window_seconds: int
    global_verify_limit: int
    global_verify_window_seconds: int
    verify_captcha_after: int
    captcha_mode: str
    # Phones
    default_region: str
    allowed_country_codes: frozenset[int] | None  # None: any country
    # Captcha
    captcha_app_id: int | None
    captcha_app_secret_key: str | None = field(repr=False)
    captcha_api_endpoint: str
    #: Local fallbacks in effect, one sentence each, announced once on stderr.
    notices: tuple[str, ...] = ()

    @property
    def sms_provider(self) -> str:
        """``SMS_PROVIDER`` as configured, e.g. ``"tencent"`` or ``"tencent,ronglian"``."""
        return ",".join(self.sms_providers)

    @property
    def captcha_enabled(self) -> bool:
        return self.captcha_app_id is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Build and validate settings from an environment mapping.

        Raises
        ------
        ConfigError
            The first missing or malformed variable, by name.
        """
        return _Reader(env).settings()


def is_scf(env: Mapping[str, str]) -> bool:
    """True inside Tencent SCF, as told by the runtime's own variables."""
    return env.get("TENCENTCLOUD_RUNENV", "").upper() == "SCF" or bool(env.get("SCF_FUNCTIONNAME"))


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.notices: list[str] = []

    # -- primitive readers -------------------------------------------------
    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            return default
        if value != value.strip():
            raise ConfigError(name, "has leading or trailing spaces")
        return value

    def integer(self, name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"must be an integer, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigError(name, f"must be {bound}, got {value}")
        return value

    def number(self, name: str, default: float, minimum: float = 0.05, maximum: float = 60.0) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"must be a number of seconds, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(name, f"must be between {minimum} and {maximum} seconds, got {value}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(name, f"must be true or false, got {raw!r}")

    # -- groups --------------------------------------------------------------
    def settings(self) -> Settings:
        in_scf = is_scf(self.env)
        redis_url, redis_cluster = self.redis(in_scf)
        providers = self.providers(in_scf)
        sms = self.sms(providers)
        code_secret, previous = self.code_secrets(in_scf)
        code_length = self.integer("CODE_LENGTH", 6, minimum=4, maximum=10)
        sms_timeout = self.number("SMS_TIMEOUT_SECONDS", 5.0)
        ronglian = self.ronglian(code_length) if "ronglian" in providers else None
        huyi = self.huyi(code_length) if "huyi" in providers else None
        zhenzi = self.zhenzi() if "zhenzi" in providers else None
        if "tencent" in providers and code_length > 6:
            # Tencent template review: a verification-code variable holds 0-6 digits
            # (cloud.tencent.com/document/product/382/39023).
            raise ConfigError("CODE_LENGTH", "Tencent SMS templates accept at most 6 digits for a code")
        captcha_app_id, captcha_key = self.captcha()
        abuse = self.abuse_limits(in_scf, code_length)
        if "tencent" in providers:
            sms["credentials"] = self.credentials("for the tencent SMS provider")
        elif captcha_app_id is not None:
            sms["credentials"] = self.credentials("to check captcha tickets")
        return Settings(
            in_scf=in_scf,
            redis_url=redis_url,
            redis_cluster=redis_cluster,
            redis_timeout_seconds=self.number("REDIS_TIMEOUT_SECONDS", 1.0),
            sms_providers=providers,
            sms_send_budget_seconds=self.number("SMS_SEND_BUDGET_SECONDS", 8.0, minimum=0.5, maximum=900.0),
            provider_cooldown_seconds=self.integer("PROVIDER_COOLDOWN_SECONDS", 60, minimum=0, maximum=86400),
            ronglian=ronglian,
            huyi=huyi,
            zhenzi=zhenzi,
            sms_timeout_seconds=sms_timeout,
            **sms,
            code_secret=code_secret,
            code_secret_previous=previous,
            code_length=code_length,
            code_ttl_seconds=self.integer("CODE_TTL_SECONDS", 300, minimum=30, maximum=86400),
            max_verify_attempts=self.integer("MAX_VERIFY_ATTEMPTS", 3, maximum=100),
            send_interval_seconds=self.integer("SEND_INTERVAL_SECONDS", 60, minimum=0, maximum=86400),
            hourly_send_limit=self.integer("HOURLY_SEND_LIMIT", 5),
            daily_send_limit=self.integer("DAILY_SEND_LIMIT", 10),
            daily_verify_limit=self.integer("DAILY_VERIFY_LIMIT", 30),
            ip_send_limit=self.integer("IP_SEND_LIMIT", 20),
            ip_send_window_seconds=self.integer("IP_SEND_WINDOW_SECONDS", 3600, maximum=86400 * 7),
            global_send_limit=self.integer("GLOBAL_SEND_LIMIT", 1000),
            global_send_window_seconds=self.integer("GLOBAL_SEND_WINDOW_SECONDS", 3600, maximum=86400 * 7),
            **abuse,
            default_region=self.region(),
            allowed_country_codes=self.country_codes(),
            captcha_app_id=captcha_app_id,
            captcha_app_secret_key=captcha_key,
            captcha_api_endpoint=self.text("CAPTCHA_API_ENDPOINT", "captcha.tencentcloudapi.com"),
            notices=tuple(self.notices),
        )

    def abuse_limits(self, in_scf: bool, code_length: int) -> dict:
        """The limits against SMS pumping and code guessing, and the SCF code length rule."""
        if in_scf and code_length < 6:
            raise ConfigError("CODE_LENGTH", f"must be at least 6 inside SCF, got {code_length} (4-5 are for local runs only)")
        global_limit = self.integer("GLOBAL_SEND_LIMIT", 1000)
        mode = (self.text("CAPTCHA_MODE", "always") or "always").lower()
        if mode not in ("always", "adaptive"):
            raise ConfigError("CAPTCHA_MODE", f"must be always or adaptive, got {mode!r}")
        return {
            "ipv6_prefix_length": self.integer("IPV6_PREFIX_LENGTH", 64, minimum=16, maximum=128),
            "unknown_ip_send_limit": self.integer("UNKNOWN_IP_SEND_LIMIT", 50),
            "prefix_digits": self.integer("PREFIX_DIGITS", 7, maximum=14),
            "prefix_send_limit": self.integer("PREFIX_SEND_LIMIT", 30),
            "prefix_send_window_seconds": self.integer("PREFIX_SEND_WINDOW_SECONDS", 3600, maximum=86400 * 7),
            "global_send_hard_limit": self.integer("GLOBAL_SEND_HARD_LIMIT", 3 * global_limit, minimum=global_limit),
            "ip_verify_limit": self.integer("IP_VERIFY_LIMIT", 10),
            "ip_verify_window_seconds": self.integer("IP_VERIFY_WINDOW_SECONDS", 3600, maximum=86400 * 7),
            "global_verify_limit": self.integer("GLOBAL_VERIFY_LIMIT", 10000),
            "global_verify_window_seconds": self.integer("GLOBAL_VERIFY_WINDOW_SECONDS", 3600, maximum=86400 * 7),
            "verify_captcha_after": self.integer("VERIFY_CAPTCHA_AFTER", 5),
            "captcha_mode": mode,
        }

    def redis(self, in_scf: bool) -> tuple[str | None, bool]:
        url = self.text("REDIS_URL")
        host = self.text("REDIS_HOST")
        cluster = self.flag("REDIS_CLUSTER")
        if url is not None:
            if not url.startswith(("redis://", "rediss://", "redis+cluster://")):
                raise ConfigError("REDIS_URL", "must start with redis://, rediss:// or redis+cluster://")
            if url.startswith("redis+cluster://"):
                cluster = True
                url = "redis://" + url[len("redis+cluster://"):]
            return url, cluster
        if host is None:
            if in_scf:
                raise ConfigError("REDIS_HOST", "is required inside SCF (or set REDIS_URL)")
            self.notices.append("no REDIS_HOST or REDIS_URL: using an in-process store (state is lost on exit)")
            return None, False
        port = self.integer("REDIS_PORT", 6379, maximum=65535)
        db = self.integer("REDIS_DB", 0, minimum=0, maximum=1024)
        password = self.text("REDIS_PASSWORD")
        auth = f":{quote(password, safe='')}@" if password else ""
        return f"redis://{auth}{host}:{port}/{db}", cluster

    def providers(self, in_scf: bool) -> tuple[str, ...]:
        raw = self.text("SMS_PROVIDER")
        if raw is not None:
            names = tuple(part.strip().lower() for part in raw.split(","))
            if names == ("console",):
                if in_scf:
                    raise ConfigError("SMS_PROVIDER", "'console' writes codes to the log and is for local runs only")
                return names
            for name in names:
                if name == "console":
                    raise ConfigError("SMS_PROVIDER", "'console' cannot be part of a failover list")
                if name not in SMS_PROVIDERS:
                    raise ConfigError("SMS_PROVIDER", f"unknown provider {name!r}: use {', '.join(SMS_PROVIDERS)} or console")
            if len(set(names)) != len(names):
                raise ConfigError("SMS_PROVIDER", f"names a provider twice: {raw!r}")
            return names
        if in_scf or any(self.text(n) for n in ("SMS_SDKAPPID", "SMS_SIGN", "SMS_TEMPLATE_ID")):
            return ("tencent",)
        self.notices.append("no SMS settings: using the console SMS provider (messages go to stderr)")
        return ("console",)

    def sms(self, providers: tuple[str, ...]) -> dict:
        template_params = tuple(p.strip() for p in (self.text("SMS_TEMPLATE_PARAMS", "code,minutes") or "").split(","))
        if "code" not in template_params or any(p not in TEMPLATE_PARAM_NAMES for p in template_params):
            raise ConfigError("SMS_TEMPLATE_PARAMS", "must be a comma list of 'code' and 'minutes' containing 'code'")
        values = {
            "sms_sdk_app_id": self.text("SMS_SDKAPPID"),
            "sms_sign": self.text("SMS_SIGN"),
            "sms_template_id": self.text("SMS_TEMPLATE_ID"),
            "sms_template_params": template_params,
            "sms_region": self.text("SMS_REGION", "ap-guangzhou"),
            "sms_api_endpoint": self.text("SMS_API_ENDPOINT", "sms.tencentcloudapi.com"),
            "credentials": None,
        }
        if "tencent" not in providers:
            return values
        for name, key in (("SMS_SDKAPPID", "sms_sdk_app_id"), ("SMS_TEMPLATE_ID", "sms_template_id"), ("SMS_SIGN", "sms_sign")):
            if values[key] is None:
                raise ConfigError(name, "is required for the tencent SMS provider")
        if not values["sms_sdk_app_id"].isdigit():
            raise ConfigError("SMS_SDKAPPID", "must be the numeric SdkAppId, e.g. 1400000000")
        return values

    def required(self, name: str, provider: str) -> str:
        value = self.text(name)
        if value is None:
            raise ConfigError(name, f"is required for the {provider} SMS provider")
        return value

    def base_url(self, name: str, default: str) -> str:
        url = self.text(name, default) or default
        if not url.startswith(("https://", "http://")):
            raise ConfigError(name, f"must be an http(s) URL, got {url!r}")
        return url.rstrip("/")

    def ronglian(self, code_length: int) -> RonglianSettings:
        template_id = self.text("RONGLIAN_TEMPLATE_ID", RONGLIAN_TEST_TEMPLATE) or RONGLIAN_TEST_TEMPLATE
        if not template_id.isdigit():
            raise ConfigError("RONGLIAN_TEMPLATE_ID", f"must be a numeric template ID, got {template_id!r}")
        if template_id == RONGLIAN_TEST_TEMPLATE and code_length > 4:
            raise ConfigError(
                "CODE_LENGTH",
                f"is {code_length}, but Ronglian's free test template 1 accepts only 1-4 digit values "
                "(error 161125): set CODE_LENGTH=4 or RONGLIAN_TEMPLATE_ID to your approved template",
            )
        return RonglianSettings(
            account_sid=self.required("RONGLIAN_ACCOUNT_SID", "ronglian"),
            auth_token=self.required("RONGLIAN_AUTH_TOKEN", "ronglian"),
            app_id=self.required("RONGLIAN_APP_ID", "ronglian"),
            template_id=template_id,
            base_url=self.base_url("RONGLIAN_BASE_URL", "https://app.cloopen.com:8883"),
        )

    def huyi(self, code_length: int) -> HuyiSettings:
        template = self.text("HUYI_TEMPLATE", HUYI_DEFAULT_TEMPLATE) or HUYI_DEFAULT_TEMPLATE
        try:
            template.format(code="0", minutes="0")
        except (KeyError, IndexError, ValueError):
            raise ConfigError("HUYI_TEMPLATE", "may only contain the placeholders {code} and {minutes}") from None
        if "{code}" not in template:
            raise ConfigError("HUYI_TEMPLATE", "must contain {code}, where the verification code goes")
        if code_length > 8:
            raise ConfigError("CODE_LENGTH", "Huyi accepts template variables of at most 8 characters (error 40722)")
        return HuyiSettings(
            account=self.required("HUYI_ACCOUNT", "huyi"),
            api_key=self.required("HUYI_API_KEY", "huyi"),
            template=template,
            base_url=self.base_url("HUYI_BASE_URL", "https://106.ihuyi.com"),
        )

    def zhenzi(self) -> ZhenziSettings:
        return ZhenziSettings(
            app_id=self.required("ZHENZI_APP_ID", "zhenzi"),
            app_secret=self.required("ZHENZI_APP_SECRET", "zhenzi"),
            template_id=self.required("ZHENZI_TEMPLATE_ID", "zhenzi"),
            base_url=self.base_url("ZHENZI_BASE_URL", "https://sms_developer.zhenzikj.com"),
        )

    def credentials(self, purpose: str) -> TencentCredentials:
        """The role's key as SCF injects it (names no SDK provider reads)."""
        secret_id = self.text("TENCENTCLOUD_SECRETID")
        secret_key = self.text("TENCENTCLOUD_SECRETKEY")
        for name, value in (("TENCENTCLOUD_SECRETID", secret_id), ("TENCENTCLOUD_SECRETKEY", secret_key)):
            if value is None:
                raise ConfigError(name, f"is required {purpose} (SCF sets it from the function's execution role)")
        return TencentCredentials(secret_id, secret_key, self.text("TENCENTCLOUD_SESSIONTOKEN"))

    def code_secrets(self, in_scf: bool) -> tuple[bytes, bytes | None]:
        secret = self.text("CODE_SECRET")
        if secret is None:
            if in_scf:
                raise ConfigError("CODE_SECRET", "is required inside SCF (a random string of at least 16 characters)")
            self.notices.append("no CODE_SECRET: using a random per-process key (codes die with the process)")
            current = secrets.token_bytes(32)
        elif len(secret) < 16:
            raise ConfigError("CODE_SECRET", "must be at least 16 characters")
        else:
            current = secret.encode()
        previous = self.text("CODE_SECRET_PREVIOUS")
        if previous is not None and len(previous) < 16:
            raise ConfigError("CODE_SECRET_PREVIOUS", "must be at least 16 characters")
        if in_scf:
            self.strong_secret("CODE_SECRET", secret)
            self.strong_secret("CODE_SECRET_PREVIOUS", previous)
        return current, previous.encode() if previous else None

    @staticmethod
    def strong_secret(name: str, value: str | None) -> None:
        """Inside SCF an HMAC secret is >= 32 bytes and not typed by hand (:mod:`smsverify.secret_strength`)."""
        from smsverify.secret_strength import weak_secret_reason

        reason = weak_secret_reason(value) if value is not None else None
        if reason is not None:
            raise ConfigError(name, reason)

    def region(self) -> str:
        region = (self.text("DEFAULT_REGION", "CN") or "CN").upper()
        if region not in SUPPORTED_REGIONS:
            raise ConfigError("DEFAULT_REGION", f"must be an ISO 3166 region code such as CN, got {region!r}")
        return region

    def country_codes(self) -> frozenset[int] | None:
        raw = self.text("ALLOWED_COUNTRY_CODES", "86") or "86"
        if raw == "*":
            return None
        codes = set()
        for part in raw.split(","):
            part = part.strip().lstrip("+")
            if not part.isdigit() or int(part) not in COUNTRY_CODE_TO_REGION_CODE:
                raise ConfigError("ALLOWED_COUNTRY_CODES", f"{part!r} is not a country calling code (e.g. 86,852)")
            codes.add(int(part))
        return frozenset(codes)

    def captcha(self) -> tuple[int | None, str | None]:
        app_id = self.text("CAPTCHA_APP_ID")
        key = self.text("CAPTCHA_APP_SECRET_KEY")
        if app_id is None and key is None:
            return None, None
        if app_id is None:
            raise ConfigError("CAPTCHA_APP_ID", "is required when CAPTCHA_APP_SECRET_KEY is set")
        if key is None:
            raise ConfigError("CAPTCHA_APP_SECRET_KEY", "is required when CAPTCHA_APP_ID is set")
        if not app_id.isdigit():
            raise ConfigError("CAPTCHA_APP_ID", f"must be the numeric CaptchaAppId, got {app_id!r}")
        return int(app_id), key
