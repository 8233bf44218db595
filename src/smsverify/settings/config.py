"""Configuration: one frozen :class:`Settings` built once per container.

:meth:`Settings.from_env` reads a mapping (normally ``os.environ``), validates
every variable and raises one :class:`~smsverify.errors.ConfigError` naming
every bad one (``.problems``). Tests pass plain dicts; nothing here mutates
the environment. Each SMS provider's own variables are read by its module
(:mod:`smsverify.senders`), listed in its docstring; this module never
imports one at run time (the registry does, for the providers named).

Variables (defaults in brackets; durations in seconds):

Redis
    ``REDIS_URL`` (``redis://``, ``rediss://`` for TLS) or ``REDIS_HOST``,
    ``REDIS_PORT`` [6379], ``REDIS_PASSWORD``, ``REDIS_DB`` [0];
    ``REDIS_CLUSTER`` [false]; ``REDIS_TIMEOUT_SECONDS`` [1.0] for connect
    and read.
SMS
    ``SMS_PROVIDER``: a provider name of :data:`smsverify.senders.PROVIDERS`
    or a comma list of them tried in order (failover); ``console`` alone, for
    local runs. ``SMS_TEMPLATE_PARAMS`` [code,minutes] (template values in
    order, for every template-based provider), ``SMS_TIMEOUT_SECONDS`` [5]
    per provider request, ``SMS_SEND_BUDGET_SECONDS`` [8] for all attempts of
    one getSms, ``PROVIDER_BACKOFF_SECONDS`` [60] (older name
    ``PROVIDER_COOLDOWN_SECONDS``, still read) during which a provider that
    failed is tried last by every instance. ``SMS_TEMPLATE_PARAMS`` may add
    ``;templateId:list`` entries for templates that take other values, e.g.
    ``code,minutes;7654321:code``.
    ``SMS_SCENES`` [login]: the allowed scenes (what a code is for), a comma
    list of ``scene:templateId`` entries, e.g.
    ``login:1234567,register:1234568,resetPassword:1234569``; the ids are
    Tencent SMS template ids (an entry may be a bare scene name when Tencent
    is not among the providers). Scene names: letters, digits, ``_``, ``-``,
    at most 32 (:mod:`smsverify.settings.scenes`). Unset: the one scene ``login`` with
    ``SMS_TEMPLATE_ID``. Every other provider maps each scene to its own
    template in its own variable (``RONGLIAN_SCENES``, ``HUYI_SCENES``,
    ``ZHENZI_SCENES``); a scene without a template fails start-up.
    ``SMS_TEMPLATES``: Tencent's ``login`` template per destination
    (``86:1234567,*:7654321``); a Tencent scene's templates per destination
    are joined by ``|`` inside ``SMS_SCENES``
    (``login:86:1234567|*:7654321``). Start-up fails when a country of
    ``ALLOWED_COUNTRY_CODES`` has no Tencent template (:mod:`smsverify.senders.tencent`).
Provider variables
    Read by each provider's module (:mod:`smsverify.senders`), listed in
    its docstring, and only when ``SMS_PROVIDER`` names it.
Voice codes (optional)
    ``VOICE_SDKAPPID`` (the VMS application id; unset: no voice codes),
    ``VMS_API_ENDPOINT`` [vms.tencentcloudapi.com], ``VOICE_PLAY_TIMES`` [2]
    (1-3), ``VOICE_DAILY_LIMIT`` [3] per phone per day, with the role
    credentials; read by :mod:`smsverify.senders.tencent_voice` into
    :attr:`Settings.voice`.
Codes
    ``CODE_SECRET`` (HMAC key, >= 16 characters; inside SCF >= 32 bytes and
    not low-entropy, see :mod:`smsverify.settings.secret_strength`; ``python -m smsverify
    keys generate --kind secret --var CODE_SECRET`` prints one), ``CODE_SECRET_PREVIOUS``
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
    needs a captcha ticket; ``CAPTCHA_MODE`` [always] or ``adaptive``;
    ``IPV6_SITE_PREFIX_LENGTH`` [48] and ``IPV6_SITE_SEND_LIMIT``
    [5 x ``IP_SEND_LIMIT``] per ``IP_SEND_WINDOW_SECONDS`` for an IPv6 site;
    ``LEGACY_LOGIN`` [on] (getSms without a ``verificationId`` still issues a code).
Insight
    ``METRICS_RETENTION_DAYS`` [7], ``PUMPING_WINDOW_SENDS`` [50],
    ``PUMPING_MIN_CONVERSION`` [0.2], ``PUMPING_BLOCK_SECONDS`` [3600],
    ``PUMPING_ALLOW_PREFIXES``, ``SMS_PRICE``, ``SPEND_ALERT_PER_HOUR``
    (:mod:`smsverify.insight`).
Phones
    ``DEFAULT_REGION`` [CN], ``ALLOWED_COUNTRY_CODES`` [86] (comma list, or
    ``*`` for any).
Captcha (optional, both or neither)
    ``CAPTCHA_APP_ID``, ``CAPTCHA_APP_SECRET_KEY``, ``CAPTCHA_API_ENDPOINT``
    [captcha.tencentcloudapi.com]; with the role credentials
    ``TENCENTCLOUD_SECRETID``, ``TENCENTCLOUD_SECRETKEY``,
    ``TENCENTCLOUD_SESSIONTOKEN`` (:mod:`smsverify.integrations.credentials`).

Inside SCF (``TENCENTCLOUD_RUNENV=SCF`` or ``SCF_FUNCTIONNAME`` set by the
runtime) Redis, ``CODE_SECRET`` and the SMS settings are required. Outside
SCF, their absence selects the embedded local defaults (in-process store,
console SMS, random per-process key), each listed in :attr:`Settings.notices`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote

from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE, SUPPORTED_REGIONS

from smsverify.integrations.credentials import TencentCredentials
from smsverify.senders.common import SmsCommon
from smsverify.settings.env import EnvReader, is_scf
from smsverify.settings.scenes import DEFAULT_SCENE, read_scene_map

if TYPE_CHECKING:
    from smsverify.senders.tencent_voice import VoiceSettings

from smsverify.insight import InsightSettings

__all__ = ["OLDER_NAMES", "Settings", "SmsCommon", "TEMPLATE_PARAM_NAMES", "is_scf"]

TEMPLATE_PARAM_NAMES = ("code", "minutes")
#: Variable names still accepted -> the current name, read only when the current one is unset.
OLDER_NAMES = {"PROVIDER_COOLDOWN_SECONDS": "PROVIDER_BACKOFF_SECONDS"}


@dataclass(frozen=True)
class Settings:
    """Validated configuration. All durations are seconds, all limits counts."""

    in_scf: bool
    # Redis; redis_url None selects the in-process store (local runs only).
    redis_url: str | None = field(repr=False)
    redis_cluster: bool
    redis_timeout_seconds: float
    # SMS: providers in failover order, each with its module's settings (None for console)
    sms_providers: tuple[str, ...]
    sms_provider_settings: tuple[Any, ...]
    sms_template_params: tuple[str, ...]
    sms_timeout_seconds: float
    sms_send_budget_seconds: float
    provider_backoff_seconds: int
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
    ipv6_site_prefix_length: int
    ipv6_site_send_limit: int
    legacy_login: bool
    # Phones
    default_region: str
    allowed_country_codes: frozenset[int] | None  # None: any country
    # Captcha (credentials: the role's key, read only when captcha is on)
    captcha_app_id: int | None
    captcha_app_secret_key: str | None = field(repr=False)
    captcha_api_endpoint: str
    credentials: TencentCredentials | None
    #: Local fallbacks in effect, one sentence each, announced once on stderr.
    notices: tuple[str, ...] = ()
    #: Allowed scenes (``SMS_SCENES``), in order; a request that names none is ``login``.
    scenes: tuple[str, ...] = (DEFAULT_SCENE,)
    #: ``TEST_PHONE_NUMBERS``: E.164 -> its fixed code (app review; no SMS is sent to them)
    test_phone_numbers: Mapping[str, str] = field(default_factory=dict)
    #: Voice codes (Tencent Cloud VMS), or None when ``VOICE_SDKAPPID`` is unset;
    #: the sender: :func:`smsverify.senders.build_voice_sender`.
    voice: VoiceSettings | None = None
    #: ``SMS_TEMPLATE_PARAMS``' per-template entries (template id -> names)
    sms_template_params_by_template: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Conversion counters, pumping caught by conversion, spend (``METRICS_*``, ``PUMPING_*``, ``SMS_PRICE``,
    #: ``SPEND_ALERT_PER_HOUR``): :class:`smsverify.insight.InsightSettings`.
    insight: InsightSettings = InsightSettings()

    @property
    def sms_provider(self) -> str:
        """``SMS_PROVIDER`` as configured, e.g. ``"tencent"`` or ``"tencent,ronglian"``."""
        return ",".join(self.sms_providers)

    @property
    def captcha_enabled(self) -> bool:
        return self.captcha_app_id is not None

    @property
    def sms_common(self) -> SmsCommon:
        return SmsCommon(
            self.sms_template_params, self.sms_timeout_seconds, self.code_length, self.code_ttl_seconds, self.scenes,
            self.allowed_country_codes, self.sms_template_params_by_template,
        )

    def provider_settings(self, name: str) -> Any:
        """The settings provider ``name``'s module read (its ``from_env``).

        Raises ``KeyError`` when ``name`` is not among :attr:`sms_providers`.
        """
        if name not in self.sms_providers:
            raise KeyError(name)
        return self.sms_provider_settings[self.sms_providers.index(name)]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Build and validate settings from an environment mapping.

        Raises
        ------
        ConfigError
            Every missing or malformed variable, in ``.problems``; the first
            one in ``.variable``.
        """
        reader = EnvReader(env)
        settings = _read(reader)
        reader.raise_problems()
        return settings


def _read(reader: EnvReader) -> Settings:
    # The registry of provider modules: it imports the module of each provider SMS_PROVIDER names.
    from smsverify import senders

    in_scf = reader.in_scf
    redis_url, redis_cluster = _redis(reader, in_scf)
    code_secret, previous = _code_secrets(reader, in_scf)
    template_params, params_by_template = _template_params(reader)
    allowed_countries = _country_codes(reader)
    common = SmsCommon(
        template_params=template_params,
        timeout_seconds=reader.number("SMS_TIMEOUT_SECONDS", 5.0),
        code_length=reader.integer("CODE_LENGTH", 6, minimum=4, maximum=10),
        code_ttl_seconds=reader.integer("CODE_TTL_SECONDS", 300, minimum=30, maximum=86400),
        scenes=_scenes(reader),
        allowed_country_codes=allowed_countries,
        template_params_by_template=params_by_template,
    )
    providers = senders.read_names(reader)
    provider_settings = senders.read_settings(reader, providers, common)
    voice = senders.read_voice_settings(reader, common)
    captcha_app_id, captcha_key = _captcha(reader)
    global_limit = reader.integer("GLOBAL_SEND_LIMIT", 1000)
    ip_send_limit = reader.integer("IP_SEND_LIMIT", 20)
    credentials = None
    if captcha_app_id is not None:
        credentials = TencentCredentials.from_env(reader, "to check captcha tickets")
    return Settings(
        in_scf=in_scf,
        redis_url=redis_url,
        redis_cluster=redis_cluster,
        redis_timeout_seconds=reader.number("REDIS_TIMEOUT_SECONDS", 1.0),
        sms_providers=providers,
        sms_provider_settings=provider_settings,
        sms_template_params=common.template_params,
        sms_timeout_seconds=common.timeout_seconds,
        sms_send_budget_seconds=reader.number("SMS_SEND_BUDGET_SECONDS", 8.0, minimum=0.5, maximum=900.0),
        provider_backoff_seconds=_provider_backoff(reader),
        code_secret=code_secret,
        code_secret_previous=previous,
        code_length=common.code_length,
        code_ttl_seconds=common.code_ttl_seconds,
        max_verify_attempts=reader.integer("MAX_VERIFY_ATTEMPTS", 3, maximum=100),
        send_interval_seconds=reader.integer("SEND_INTERVAL_SECONDS", 60, minimum=0, maximum=86400),
        hourly_send_limit=reader.integer("HOURLY_SEND_LIMIT", 5),
        daily_send_limit=reader.integer("DAILY_SEND_LIMIT", 10),
        daily_verify_limit=reader.integer("DAILY_VERIFY_LIMIT", 30),
        ip_send_limit=ip_send_limit,
        ip_send_window_seconds=reader.integer("IP_SEND_WINDOW_SECONDS", 3600, maximum=86400 * 7),
        global_send_limit=global_limit,
        global_send_window_seconds=reader.integer("GLOBAL_SEND_WINDOW_SECONDS", 3600, maximum=86400 * 7),
        **_abuse_limits(reader, in_scf, common.code_length, global_limit, ip_send_limit),
        default_region=_region(reader),
        allowed_country_codes=common.allowed_country_codes,
        captcha_app_id=captcha_app_id,
        captcha_app_secret_key=captcha_key,
        captcha_api_endpoint=reader.text("CAPTCHA_API_ENDPOINT", "captcha.tencentcloudapi.com") or "",
        credentials=credentials,
        notices=tuple(reader.notices),
        scenes=common.scenes,
        voice=voice,
        test_phone_numbers=_test_phone_numbers(reader, allowed_countries, common.code_length),
        sms_template_params_by_template=common.template_params_by_template,
        insight=InsightSettings.from_reader(reader),
    )


def _scenes(reader: EnvReader) -> tuple[str, ...]:
    """The allowed scenes: ``SMS_SCENES``' names (its template ids are Tencent's), else ``login``."""
    given = read_scene_map(reader, "SMS_SCENES", value_required=False)
    return tuple(given) if given else (DEFAULT_SCENE,)


def _provider_backoff(reader: EnvReader) -> int:
    """``PROVIDER_BACKOFF_SECONDS``, or its older name ``PROVIDER_COOLDOWN_SECONDS``."""
    name = "PROVIDER_BACKOFF_SECONDS"
    if reader.text(name) is None:
        name = next(older for older, current in OLDER_NAMES.items() if current == name)
    return reader.integer(name, 60, minimum=0, maximum=86400)


def _abuse_limits(reader: EnvReader, in_scf: bool, code_length: int, global_limit: int, ip_send_limit: int) -> dict:
    """The limits against SMS pumping and code guessing, and the SCF code length rule."""
    if in_scf and code_length < 6:
        reader.problem("CODE_LENGTH", f"must be at least 6 inside SCF, got {code_length} (4-5 are for local runs only)")
    mode = (reader.text("CAPTCHA_MODE", "always") or "always").lower()
    if mode not in ("always", "adaptive"):
        reader.problem("CAPTCHA_MODE", f"must be always or adaptive, got {mode!r}")
        mode = "always"
    return {
        "ipv6_prefix_length": reader.integer("IPV6_PREFIX_LENGTH", 64, minimum=16, maximum=128),
        "unknown_ip_send_limit": reader.integer("UNKNOWN_IP_SEND_LIMIT", 50),
        "prefix_digits": reader.integer("PREFIX_DIGITS", 7, maximum=14),
        "prefix_send_limit": reader.integer("PREFIX_SEND_LIMIT", 30),
        "prefix_send_window_seconds": reader.integer("PREFIX_SEND_WINDOW_SECONDS", 3600, maximum=86400 * 7),
        "global_send_hard_limit": reader.integer("GLOBAL_SEND_HARD_LIMIT", 3 * global_limit, minimum=global_limit),
        "ip_verify_limit": reader.integer("IP_VERIFY_LIMIT", 10),
        "ip_verify_window_seconds": reader.integer("IP_VERIFY_WINDOW_SECONDS", 3600, maximum=86400 * 7),
        "global_verify_limit": reader.integer("GLOBAL_VERIFY_LIMIT", 10000),
        "global_verify_window_seconds": reader.integer("GLOBAL_VERIFY_WINDOW_SECONDS", 3600, maximum=86400 * 7),
        "verify_captcha_after": reader.integer("VERIFY_CAPTCHA_AFTER", 5),
        "captcha_mode": mode,
        "ipv6_site_prefix_length": reader.integer("IPV6_SITE_PREFIX_LENGTH", 48, minimum=16, maximum=128),
        "ipv6_site_send_limit": reader.integer("IPV6_SITE_SEND_LIMIT", 5 * ip_send_limit, minimum=0),
        "legacy_login": _legacy_login(reader),
    }


def _legacy_login(reader: EnvReader) -> bool:
    """``LEGACY_LOGIN``: ``on`` (default) still issues codes to getSms without a ``verificationId``."""
    raw = (reader.text("LEGACY_LOGIN", "on") or "on").lower()
    if raw not in ("on", "off"):
        reader.problem("LEGACY_LOGIN", f"must be on or off, got {raw!r}")
        return True
    return raw == "on"


def _redis(reader: EnvReader, in_scf: bool) -> tuple[str | None, bool]:
    url = reader.text("REDIS_URL")
    host = reader.text("REDIS_HOST")
    cluster = reader.flag("REDIS_CLUSTER")
    if url is not None:
        if not url.startswith(("redis://", "rediss://", "redis+cluster://")):
            reader.problem("REDIS_URL", "must start with redis://, rediss:// or redis+cluster://")
            return None, False
        if url.startswith("redis+cluster://"):
            cluster = True
            url = "redis://" + url[len("redis+cluster://"):]
        return url, cluster
    if host is None:
        if in_scf:
            reader.problem("REDIS_HOST", "is required inside SCF (or set REDIS_URL)")
            return None, False
        reader.notices.append("no REDIS_HOST or REDIS_URL: using an in-process store (state is lost on exit)")
        return None, False
    port = reader.integer("REDIS_PORT", 6379, maximum=65535)
    db = reader.integer("REDIS_DB", 0, minimum=0, maximum=1024)
    password = reader.text("REDIS_PASSWORD")
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/{db}", cluster


def _template_params(reader: EnvReader) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """``SMS_TEMPLATE_PARAMS``: the names for every template, and per-template ones.

    The form is a comma list of ``code``/``minutes`` (``code,minutes``), then
    optionally ``;``-separated ``templateId:names`` entries for templates that
    take other values, e.g. ``code,minutes;7654321:code`` (an international
    template with the code only). Every list contains ``code``.
    """
    name = "SMS_TEMPLATE_PARAMS"
    default: tuple[str, ...] = ("code", "minutes")
    by_template: dict[str, tuple[str, ...]] = {}
    for index, part in enumerate((reader.text(name, "code,minutes") or "").split(";")):
        template, colon, names = part.strip().rpartition(":")
        params = tuple(p.strip() for p in names.split(","))
        if "code" not in params or any(p not in TEMPLATE_PARAM_NAMES for p in params):
            reader.problem(name, "must be a comma list of 'code' and 'minutes' containing 'code' (then ;templateId:list entries)")
            return ("code", "minutes"), {}
        if not colon:
            if index:
                reader.problem(name, f"gives the list for every template first, then ;templateId:list entries, got {part!r}")
                return ("code", "minutes"), {}
            default = params
        elif not template.strip() or template.strip() in by_template:
            reader.problem(name, f"needs one templateId before each ':' list, got {part!r}")
            return ("code", "minutes"), {}
        else:
            by_template[template.strip()] = params
    return default, by_template


def _code_secrets(reader: EnvReader, in_scf: bool) -> tuple[bytes, bytes | None]:
    secret = reader.text("CODE_SECRET")
    previous = reader.text("CODE_SECRET_PREVIOUS")
    if in_scf:  # first: a variable is reported once, and inside SCF this check's reason is the one that applies
        _strong_secret(reader, "CODE_SECRET", secret)
        _strong_secret(reader, "CODE_SECRET_PREVIOUS", previous)
    current = secrets.token_bytes(32)
    if secret is None:
        if in_scf:
            from smsverify.settings.secret_strength import MIN_SECRET_BYTES, generate_command

            reader.problem("CODE_SECRET", f"is required inside SCF (at least {MIN_SECRET_BYTES} random bytes; "
                                          f"generate one with `{generate_command('CODE_SECRET')}`)")
        else:
            reader.notices.append("no CODE_SECRET: using a random per-process key (codes die with the process)")
    elif len(secret) < 16:
        reader.problem("CODE_SECRET", "must be at least 16 characters")
    else:
        current = secret.encode()
    if previous is not None and len(previous) < 16:
        reader.problem("CODE_SECRET_PREVIOUS", "must be at least 16 characters")
        previous = None
    return current, previous.encode() if previous else None


def _strong_secret(reader: EnvReader, name: str, value: str | None) -> None:
    """Inside SCF an HMAC secret is >= 32 bytes and not typed by hand (:mod:`smsverify.settings.secret_strength`)."""
    from smsverify.settings.secret_strength import weak_secret_reason

    reason = weak_secret_reason(value, variable=name) if value is not None else None
    if reason is not None:
        reader.problem(name, reason)


def _region(reader: EnvReader) -> str:
    region = (reader.text("DEFAULT_REGION", "CN") or "CN").upper()
    if region not in SUPPORTED_REGIONS:
        reader.problem("DEFAULT_REGION", f"must be an ISO 3166 region code such as CN, got {region!r}")
        return "CN"
    return region


def _country_codes(reader: EnvReader) -> frozenset[int] | None:
    raw = reader.text("ALLOWED_COUNTRY_CODES", "86") or "86"
    if raw == "*":
        return None
    codes = set()
    for part in raw.split(","):
        part = part.strip().lstrip("+")
        if not part.isdigit() or int(part) not in COUNTRY_CODE_TO_REGION_CODE:
            reader.problem("ALLOWED_COUNTRY_CODES", f"{part!r} is not a country calling code (e.g. 86,852)")
            return frozenset({86})
        codes.add(int(part))
    return frozenset(codes)


def _test_phone_numbers(reader: EnvReader, allowed: frozenset[int] | None, code_length: int) -> dict[str, str]:
    """``TEST_PHONE_NUMBERS=+8613800000000:246810,...``: numbers that get no SMS and log in
    with their fixed code (app review without a SIM, as Firebase's and Supabase's test
    numbers). Each must be a valid number (phonenumbers) of an allowed country in E.164,
    and its code ``CODE_LENGTH`` to 16 digits."""
    import phonenumbers

    raw = reader.text("TEST_PHONE_NUMBERS")
    numbers: dict[str, str] = {}
    if not raw:
        return numbers
    bad = []
    for entry in raw.split(","):
        number, _, code = entry.strip().partition(":")
        try:
            parsed = phonenumbers.parse(number, None)
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            valid = phonenumbers.is_valid_number(parsed) and e164 == number
        except phonenumbers.NumberParseException:
            valid, parsed = False, None
        if not valid or (allowed is not None and parsed is not None and parsed.country_code not in allowed):
            bad.append(f"{number!r} is not a valid E.164 number of an allowed country (ALLOWED_COUNTRY_CODES)")
        elif not (code.isascii() and code.isdigit() and code_length <= len(code) <= 16):
            bad.append(f"the code of {number} must be {code_length} to 16 digits (CODE_LENGTH), got {len(code)} characters")
        else:
            numbers[number] = code
    if bad:
        reader.problem("TEST_PHONE_NUMBERS", "; ".join(bad))
    return numbers


def _captcha(reader: EnvReader) -> tuple[int | None, str | None]:
    app_id = reader.text("CAPTCHA_APP_ID")
    key = reader.text("CAPTCHA_APP_SECRET_KEY")
    if app_id is None and key is None:
        return None, None
    if app_id is None:
        reader.problem("CAPTCHA_APP_ID", "is required when CAPTCHA_APP_SECRET_KEY is set")
        return None, None
    if key is None:
        reader.problem("CAPTCHA_APP_SECRET_KEY", "is required when CAPTCHA_APP_ID is set")
        return None, None
    if not app_id.isdigit():
        reader.problem("CAPTCHA_APP_ID", f"must be the numeric CaptchaAppId, got {app_id!r}")
        return None, None
    return int(app_id), key
