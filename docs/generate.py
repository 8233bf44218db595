"""Generate the reference tables of the docs from the code.

    .venv/bin/python docs/generate.py           # rewrite the generated blocks
    .venv/bin/python docs/generate.py --check   # exit 1 when a committed block differs

A generated block sits between ``<!-- generated: NAME -->`` and
``<!-- end generated -->`` in README.md or docs/*.md; everything outside the
markers is prose and is left alone. The blocks and where their facts come from:

- ``codestr-table``: every ``codeStr`` with its HTTP
  status (:data:`smsverify.edge.responses.STATUS`), its default ``msg``
  (the classes of :mod:`smsverify.errors`) and the extra body fields that the
  code passes where it builds the body or raises the error (read from the
  source with :mod:`ast`);
- ``configuration-table``: every environment variable a reader of the code
  reads (``Settings.from_env``, each provider module's ``from_env``,
  ``TokenConfig.from_env``, ``WechatConfig.from_env``, ``EdgeSettings.from_env``,
  ``ReceiptSettings.from_env``),
  recorded by :class:`smsverify.settings.env.RecordingEnv` with its kind, default and
  bounds, and what the code says when it is missing inside SCF;
- ``limits-table``: the limits, their variables' recorded defaults and the
  codeStr each answers;
- ``provider-tables``, ``transport-table``: each provider code of the sender
  modules' own tables (and one provider-level sample code, and each transport
  failure) run through the real service with an in-process store: the answer
  a client gets, whether another provider is tried, and whether the
  reservation (cooldown, counts, code) is kept or released;
- ``ci-table``: the secrets and variables .github/workflows/deploy.yml passes
  to the deploy, with the description kept in :data:`CI_DESCRIPTIONS` (a name
  without one, or a description of a name the workflow does not use, is an error).
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "smsverify"
DEPLOY_WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
BLOCK = re.compile(r"(<!-- generated: ([a-z0-9-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)

# -- codeStr ----------------------------------------------------------------------------------


def error_classes() -> dict[str, type]:
    """codeStr -> its :class:`smsverify.errors.VerificationError` class (the root is ``InternalError``)."""
    from smsverify import errors

    found = {}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.VerificationError):
            found[value.code_str] = value
    return found


def codestr_rows() -> list[tuple[str, int, str, list[str]]]:
    """(codeStr, status, default msg, extra fields) in the order of the status table, as the
    error classes and :data:`smsverify.edge.responses.SUCCESSES` declare them."""
    from smsverify.edge.responses import BODY_FIELDS, STATUS, SUCCESSES

    classes = error_classes()
    rows = []
    for code_str, status in STATUS.items():
        msg = classes[code_str].default_msg if code_str in classes else SUCCESSES[code_str][0]
        rows.append((code_str, status, msg, list(BODY_FIELDS[code_str])))
    return rows


def _ticked(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def codestr_table() -> str:
    lines = ["| codeStr | status | default `msg` | extra body fields |", "|---|---|---|---|"]
    for code_str, status, msg, fields in codestr_rows():
        extra = _ticked(fields) + (" (header `Retry-After`)" if "retryAfter" in fields else "")
        lines.append(f"| `{code_str}` | {status} | {msg} | {extra} |")
    return "\n".join(lines) + "\n"


# -- configuration ----------------------------------------------------------------------------

def _provider_list() -> str:
    """Every provider of the registry as one failover list: the first run of the readers
    (:func:`record_variables`) reads every variable with every provider and captcha on; the
    others find what each reader requires."""
    from smsverify.senders import PROVIDERS

    return ",".join(PROVIDERS)


def _settings_readers(values: dict[str, str]) -> list[Callable[[Any], Any]]:
    from smsverify.settings.config import Settings
    from smsverify.edge.receipts import ReceiptSettings
    from smsverify.edge.settings import EdgeSettings
    from smsverify.settings.env import is_scf
    from smsverify.tokens import TokenConfig
    from smsverify.integrations.wechat import WechatConfig

    return [
        Settings.from_env,
        EdgeSettings.from_env,
        ReceiptSettings.from_env,
        lambda env: TokenConfig.from_env(env, in_scf=is_scf(values)),
        WechatConfig.from_env,
    ]


def record_variables() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Every variable read, name -> :class:`smsverify.settings.env.EnvVariable`, and
    name -> what the code says when it is missing (inside SCF, or beside its
    partner variable)."""
    from smsverify.settings.config import OLDER_NAMES
    from smsverify.settings.env import RecordingEnv
    from smsverify.errors import ConfigError

    read: dict[str, Any] = {}
    required: dict[str, list[str]] = {}
    runs = [
        {"SCF_FUNCTIONNAME": "", "SMS_PROVIDER": _provider_list(), "REDIS_HOST": "redis",
         "CAPTCHA_APP_ID": "1", "CAPTCHA_APP_SECRET_KEY": "x", "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "x",
         **{current: "60" for current in OLDER_NAMES.values()}},
        {"TENCENTCLOUD_RUNENV": "SCF"},
        {"TENCENTCLOUD_RUNENV": "SCF", "CAPTCHA_APP_ID": "1"},
        {"TENCENTCLOUD_RUNENV": "SCF", "CAPTCHA_APP_SECRET_KEY": "x"},
        {"TENCENTCLOUD_RUNENV": "SCF", "WECHAT_APP_ID": "wx1"},
        {"TENCENTCLOUD_RUNENV": "SCF", "WECHAT_APP_SECRET": "x"},
        {"TENCENTCLOUD_RUNENV": "SCF", "SMS_PROVIDER": "console", "VOICE_SDKAPPID": "1400006666"},
    ]
    for values in runs:
        for reader in _settings_readers(values):
            env = dict(values)
            for _ in range(8):  # readers that stop at the first problem: fill it in and read again
                recording = RecordingEnv(env)
                try:
                    reader(recording)
                except ConfigError as error:
                    new = False
                    for variable, problem in error.problems:
                        found = re.search(r"(?:is required|one of the two is required) (.*)", problem)
                        if found is None:
                            continue
                        for name in variable.split(" / "):
                            when = found.group(1).split(" (")[0]
                            if when not in required.setdefault(name, []):
                                required[name].append(when)
                        last = variable.split(" / ")[-1]
                        if last not in env:
                            env[last] = secrets.token_urlsafe(32)
                            new = True
                    if not new:
                        break
                else:
                    break
                finally:
                    for name, variable in recording.read.items():
                        known = read.get(name)
                        bare = known is not None and known.kind == "text" and known.default is None
                        if known is None or (bare and (variable.kind != "text" or variable.default is not None)):
                            read[name] = variable
    for older, current in OLDER_NAMES.items():
        read.pop(older, None)
    return read, required


def _value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`" if str(value) else "–"


def _bounds(variable: Any) -> str:
    if variable.minimum is None and variable.maximum is None:
        return ""
    if variable.maximum is None:
        return f"≥ {_value(variable.minimum).strip('`')}"
    return f"{_value(variable.minimum).strip('`')} – {_value(variable.maximum).strip('`')}"


def configuration_table() -> str:
    from smsverify.settings.config import OLDER_NAMES

    read, required = record_variables()
    older = {current: older for older, current in OLDER_NAMES.items()}
    lines = ["| variable | read by | kind | default | bounds | required |", "|---|---|---|---|---|---|"]
    for name, variable in read.items():
        label = f"`{name}`" + (f" (older name `{older[name]}`, still read)" if name in older else "")
        reader = variable.reader.replace("smsverify.", "")
        kind = {"required": "text", "seconds": "seconds (decimal)"}.get(variable.kind, variable.kind)
        default = "" if variable.kind == "required" else _value(variable.default)
        needed = "; ".join(required.get(name, []))
        lines.append(f"| {label} | {reader} | {kind} | {default} | {_bounds(variable)} | {needed} |")
    return "\n".join(lines) + "\n"


#: (what is limited, its variables, the codeStr it answers): the defaults come from the code.
LIMITS = [
    ("resend interval per phone", ["SEND_INTERVAL_SECONDS"], "TooFrequent"),
    ("sends per phone per rolling hour", ["HOURLY_SEND_LIMIT"], "HourlyLimitExceeded"),
    ("sends per phone per calendar day (Asia/Shanghai)", ["DAILY_SEND_LIMIT"], "DailyLimitExceeded"),
    ("getSms per client IP (`requestContext.sourceIp`)", ["IP_SEND_LIMIT", "IP_SEND_WINDOW_SECONDS"], "IpLimitExceeded"),
    ("SMS of the whole service (against SMS pumping)", ["GLOBAL_SEND_LIMIT", "GLOBAL_SEND_WINDOW_SECONDS"], "ServiceBusy"),
    ("destination countries", ["ALLOWED_COUNTRY_CODES"], "InValidParam"),
    ("wrong tries per code", ["MAX_VERIFY_ATTEMPTS"], "CodeHasValid"),
    ("wrong codes per phone per calendar day (legacy codes only: a bound code's tries are its own)",
     ["DAILY_VERIFY_LIMIT"], "VerifyLimitExceeded"),
    ("code lifetime", ["CODE_TTL_SECONDS"], "CodeHasExpired"),
    ("captcha (optional): asked for by a reached limit, a request without a client IP, or `CAPTCHA_MODE=always`; "
     "a rejected ticket is `CaptchaFailed`", ["CAPTCHA_APP_ID", "CAPTCHA_APP_SECRET_KEY"], "CaptchaRequired"),
    ("when getSms needs a captcha ticket (captcha on): `always`, or `adaptive` (without a client IP, or past "
     "`GLOBAL_SEND_LIMIT`)",
     ["CAPTCHA_MODE"], "CaptchaRequired"),
    ("SMS of the whole service with captcha tickets (`adaptive` only; default 3 x `GLOBAL_SEND_LIMIT`)",
     ["GLOBAL_SEND_HARD_LIMIT", "GLOBAL_SEND_WINDOW_SECONDS"], "ServiceBusy"),
    ("getSms of all requests without a client IP, together", ["UNKNOWN_IP_SEND_LIMIT", "IP_SEND_WINDOW_SECONDS"],
     "IpLimitExceeded"),
    ("an IPv6 client is its network of this prefix length, for every per-IP limit", ["IPV6_PREFIX_LENGTH"],
     "IpLimitExceeded"),
    ("getSms per number block (country code + the first `PREFIX_DIGITS` national digits)",
     ["PREFIX_SEND_LIMIT", "PREFIX_SEND_WINDOW_SECONDS"], "PrefixLimitExceeded"),
    ("digits of the number block", ["PREFIX_DIGITS"], "PrefixLimitExceeded"),
    ("getSms per IPv6 site (its /`IPV6_SITE_PREFIX_LENGTH`; default 5 x `IP_SEND_LIMIT`)",
     ["IPV6_SITE_SEND_LIMIT", "IP_SEND_WINDOW_SECONDS"], "IpLimitExceeded"),
    ("an IPv6 site is its network of this prefix length", ["IPV6_SITE_PREFIX_LENGTH"], "IpLimitExceeded"),
    ("wrong codes at legacy codes per client IP (with captcha: step-up, then refused at 10 x)",
     ["IP_VERIFY_LIMIT", "IP_VERIFY_WINDOW_SECONDS"], "IpLimitExceeded"),
    ("wrong codes at legacy codes of the whole service (with captcha: step-up, never refused)",
     ["GLOBAL_VERIFY_LIMIT", "GLOBAL_VERIFY_WINDOW_SECONDS"], "ServiceBusy"),
    ("whether getSms without a `verificationId` still issues a legacy code", ["LEGACY_LOGIN"], "InValidParam"),
    ("voice codes per phone per calendar day", ["VOICE_DAILY_LIMIT"], "DailyLimitExceeded"),
    ("wrong codes per phone per calendar day before login needs a captcha ticket (captcha on)",
     ["VERIFY_CAPTCHA_AFTER"], "CaptchaRequired"),
    ("a number block's conversion (verified / sent) over its last sends: below the minimum it steps up to a captcha, "
     "below half of it it is refused (`reason: conversion`) for a while (docs/operations.md)",
     ["PUMPING_WINDOW_SENDS", "PUMPING_MIN_CONVERSION", "PUMPING_BLOCK_SECONDS"], "PrefixLimitExceeded"),
    ("number blocks never judged by their conversion", ["PUMPING_ALLOW_PREFIXES"], "PrefixLimitExceeded"),
]


def limit_rows() -> list[tuple[str, list[str], list[Any], str, int]]:
    """(limit, variables, their recorded defaults, codeStr, status)."""
    from smsverify.edge.responses import STATUS

    read, _ = record_variables()
    return [
        (limit, names, [read[name].default for name in names], code_str, STATUS[code_str])
        for limit, names, code_str in LIMITS
    ]


def limits_table() -> str:
    lines = ["| limit | variables | default | answer |", "|---|---|---|---|"]
    for limit, names, defaults, code_str, status in limit_rows():
        default = " per ".join(_value(d) for d in defaults) if any(d is not None for d in defaults) else "off"
        lines.append(f"| {limit} | {_ticked(names)} | {default} | `{code_str}` {status} |")
    return "\n".join(lines) + "\n"


# -- providers --------------------------------------------------------------------------------

PHONE = "+8613800138000"
#: A code no provider table lists: what every other code of a provider gives.
OTHER_CODE = "any other code"


class Outcome(NamedTuple):
    """What a client sees after one provider failure, found by running the service."""

    code_str: str
    status: int
    fields: tuple[str, ...]  #: extra body fields
    reservation: str  #: ``released``, ``released, phone backed off``, ``kept``, or ``maybe sent`` (kept, code valid)
    fails_over: bool  #: with a failover list, the next provider is tried


class _Sender:
    """A sender of the contract that fails with ``error``, or sends when ``error`` is None."""

    def __init__(self, name: str, error: Exception | None) -> None:
        self.name, self.error, self.codes = name, error, []

    def supports(self, phone: str) -> bool:
        return True

    def send(self, message: Any, timeout_seconds: float) -> Any:
        from smsverify.senders.base import SendReceipt

        self.codes.append(message.code)
        if self.error is not None:
            raise self.error
        return SendReceipt(provider=self.name)


def _service(senders: list[_Sender]) -> Any:
    """The real service over an in-process store (fakeredis), with ``senders``."""
    import fakeredis

    from smsverify.bootstrap import limits_from, policy_from
    from smsverify.settings.config import Settings
    from smsverify.service.delivery import Delivery
    from smsverify.service.verification import VerificationService
    from smsverify.store.redis_store import RedisCodeStore

    settings = Settings.from_env({"CODE_SECRET": secrets.token_urlsafe(32), "SMS_PROVIDER": "console"})
    store = RedisCodeStore(fakeredis.FakeRedis(), limits_from(settings))
    delivery = Delivery(senders, timeout_seconds=settings.sms_timeout_seconds, budget_seconds=settings.sms_send_budget_seconds)
    return VerificationService(policy_from(settings), store, delivery, clock=lambda: 1_767_225_600.0)


def _quota_given_back(service: Any, phone: Any) -> bool:
    """True when the phone's daily send count is 0 again (the reservation was released)."""
    from smsverify.clock import moment_at
    from smsverify.store import keys

    day = moment_at(service.clock()).day
    recorded = service.store.client.hget(keys.phone_keys(phone.e164, day).sends, "daily") or b""
    return recorded.decode() in ("", f"{day}:0")  # the send record's day count (see read_sends in lib.lua)


def outcome(error_for: Callable[[], Exception]) -> Outcome:
    """Run getSms with a provider failing with ``error_for()``, then again with it healthy."""
    from smsverify.errors import VerificationError
    from smsverify.edge.responses import STATUS

    logger = logging.getLogger("smsverify")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)  # setLevel, not .level =: it also clears the loggers' level cache
    try:
        failing = _Sender("p", error_for())
        service = _service([failing])
        phone = service.phone(PHONE)
        error = error_for()
        try:
            service.send_code(phone, client_ip="203.0.113.7")
            raise AssertionError("the failing sender did not fail")
        except VerificationError as refused:
            answer = refused
        service.delivery.senders[0].error = None
        try:
            service.send_code(phone, client_ip="203.0.113.7")
            reservation = "released"
        except VerificationError:
            # refused again: kept, or released with the phone backed off (a number-level refusal)
            reservation = "released, phone backed off" if _quota_given_back(service, phone) else "kept"
        try:
            service.check_code(phone, failing.codes[0])
            code_valid = True
        except VerificationError:
            code_valid = False
        backup = _Sender("q", None)
        other = _service([_Sender("p", error_for()), backup])
        try:
            other.send_code(other.phone(PHONE), client_ip="203.0.113.7")
        except VerificationError:
            pass
        fails_over = bool(backup.codes)
    finally:
        logger.setLevel(level)
    if reservation == "kept" and code_valid and getattr(error, "maybe_sent", False):
        reservation = "maybe sent"
    return Outcome(answer.code_str, STATUS[answer.code_str], tuple(answer.fields), reservation, fails_over)


def provider_codes(module: Any) -> list[tuple[str, Callable[[], Exception]]]:
    """(code, error factory) of each code of ``module``'s own tables, then a provider-level sample."""
    codes = sorted(
        {*getattr(module, "UNKNOWN_OUTCOME", ()), *module.NUMBER_REJECTIONS, *module.NUMBER_LIMITS},
        key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c),
    )
    rows = [(code, lambda code=code: module.classify(code, "")) for code in codes]
    rows.append((OTHER_CODE, lambda: module.classify("GenerateDocsSample", "")))
    return rows


def provider_outcomes() -> dict[str, list[tuple[str, Outcome]]]:
    """provider name -> (code, outcome) rows, from each module of :data:`smsverify.senders.PROVIDERS`."""
    from smsverify.senders import PROVIDERS, provider_module

    return {name: [(code, outcome(factory)) for code, factory in provider_codes(provider_module(name))] for name in PROVIDERS}


def _outcome_cells(result: Outcome) -> str:
    kept = {"maybe sent": "kept, code valid (maybe sent)"}.get(result.reservation, result.reservation)
    return f"`{result.code_str}` | {result.status} | {kept} | {'yes' if result.fails_over else 'no'}"


def provider_tables() -> str:
    parts = []
    for name, rows in provider_outcomes().items():
        parts.append(f"`{name}` (smsverify.senders.{name}):\n")
        lines = ["| provider code | codeStr | status | reservation | fails over |", "|---|---|---|---|---|"]
        for code, result in rows:
            label = code if code == OTHER_CODE else f"`{code}`"
            lines.append(f"| {label} | {_outcome_cells(result)} |")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def transport_failures() -> list[tuple[str, str, Callable[[], Exception]]]:
    """(label, what happened, error factory) for the failures every provider shares
    (:func:`smsverify.senders.http.transport_failure` on real ``requests`` exceptions)."""
    import requests
    import urllib3

    from smsverify.senders.base import ProviderRefused, SendTimeout
    from smsverify.senders.http import transport_failure

    def refused() -> Exception:
        reason = urllib3.exceptions.NewConnectionError(None, "connection refused")
        return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", reason))

    causes = [
        ("connection refused or DNS failure", refused),
        ("no connection within the timeout", requests.exceptions.ConnectTimeout),
        ("TLS handshake or certificate check failed", requests.exceptions.SSLError),
        ("`HTTP_PROXY`/`HTTPS_PROXY` unreachable", requests.exceptions.ProxyError),
        ("no answer within `SMS_TIMEOUT_SECONDS`", requests.exceptions.ReadTimeout),
        ("connection dropped after the request was sent", requests.exceptions.ConnectionError),
    ]
    rows = [(transport_failure("p", cause()).provider_code, what, lambda cause=cause: transport_failure("p", cause()))
            for what, cause in causes]
    rows.append(("HTTP503", "an HTTP status other than 200 (e.g. 503)", lambda: ProviderRefused("p", "HTTP503")))
    rows.append(("InvalidResponse", "a 200 answer that does not parse", lambda: SendTimeout("p", "InvalidResponse")))
    return rows


def transport_outcomes() -> list[tuple[str, str, Outcome]]:
    return [(label, what, outcome(factory)) for label, what, factory in transport_failures()]


def transport_table() -> str:
    lines = ["| failure | `providerCode` | codeStr | status | reservation | fails over |", "|---|---|---|---|---|---|"]
    for label, what, result in transport_outcomes():
        lines.append(f"| {what} | `<provider>:{label}` | {_outcome_cells(result)} |")
    return "\n".join(lines) + "\n"


# -- deploying from CI ------------------------------------------------------------------------

#: What each name deploy.yml passes is for. A name the workflow uses must be here, and only those.
CI_DESCRIPTIONS = {
    "TENCENT_SECRET_ID": "API key ID of the CAM user that deploys; never reaches the function",
    "TENCENT_SECRET_KEY": "API key of the CAM user that deploys; never reaches the function",  # pragma: allowlist secret
    "CODE_SECRET": "HMAC key of the codes; required",  # pragma: allowlist secret
    "CODE_SECRET_PREVIOUS": "the previous key during a rotation",  # pragma: allowlist secret
    "REDIS_PASSWORD": "TencentDB for Redis password",  # pragma: allowlist secret
    "REDIS_URL": "instead of `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`: a `rediss:` (TLS) or `redis+cluster:` URL",
    "CAPTCHA_APP_SECRET_KEY": "Captcha AppSecretKey, with captcha on",  # pragma: allowlist secret
    "RONGLIAN_AUTH_TOKEN": "Ronglian AUTH TOKEN",
    "HUYI_API_KEY": "Huyi APIKEY",  # pragma: allowlist secret
    "ZHENZI_APP_SECRET": "Zhenzi appSecret",  # pragma: allowlist secret
    "REGION": "SCF region, e.g. `ap-guangzhou` (the Redis instance's region)",
    "SCF_ROLE": "execution role (with `QcloudSMSFullAccess`, and `QcloudCaptchaFullAccess` with captcha)",
    "VPC_ID": "the Redis instance's VPC",
    "SUBNET_ID": "the Redis instance's subnet",
    "REDIS_HOST": "the Redis instance's private address",
    "REDIS_PORT": "its port",
    "REDIS_DB": "its database number",
    "REDIS_CLUSTER": "`true` for the cluster edition",
    "SMS_PROVIDER": "`tencent` (default), another provider, or a failover list such as `tencent,ronglian`",
    "SMS_TEMPLATE_PARAMS": "order of the template values; `;templateId:code` entries for templates that differ",
    "SMS_SDKAPPID": "Tencent SMS SdkAppId",
    "SMS_SIGN": "Tencent SMS signature name",
    "SMS_TEMPLATE_ID": "Tencent SMS template ID",
    "SMS_TEMPLATES": "instead of `SMS_TEMPLATE_ID`, Tencent template per destination: `86:<mainland id>,*:<international id>`",
    "RONGLIAN_ACCOUNT_SID": "Ronglian ACCOUNT SID",
    "RONGLIAN_APP_ID": "Ronglian APP ID",
    "RONGLIAN_TEMPLATE_ID": "Ronglian template ID",
    "HUYI_ACCOUNT": "Huyi APIID",
    "HUYI_TEMPLATE": "Huyi approved template text",
    "ZHENZI_APP_ID": "Zhenzi application",
    "ZHENZI_TEMPLATE_ID": "Zhenzi template",
    "CAPTCHA_APP_ID": "Captcha CaptchaAppId (captcha on when set, with its key)",
    "SMS_SCENES": "allowed scenes with their Tencent template ids: `login:<id>,register:<id>` (per destination: `login:86:<id>\\|*:<id>`)",
    "RONGLIAN_SCENES": "Ronglian template id per scene, `scene:templateId` pairs",
    "ZHENZI_SCENES": "Zhenzi template id per scene, `scene:templateId` pairs",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "Alibaba Cloud AccessKey ID of a RAM user allowed `dysms:SendSms`",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "its AccessKey secret",  # pragma: allowlist secret
    "ALIYUN_SMS_SIGN_NAME": "Alibaba Cloud SMS signature name",
    "ALIYUN_SMS_TEMPLATE_CODE": "Alibaba Cloud SMS template code, e.g. `SMS_123456789`",
    "ALIYUN_SMS_SCENES": "Alibaba Cloud template code per scene, `scene:TemplateCode` pairs",
    "ALIYUN_SMS_TEMPLATE_VARIABLES": "the template's variables, `variable:value` pairs (default `code`)",
    "HUYI_SCENES": "Huyi template text per scene, `scene:text|scene:text`",
    "TOKEN_PRIVATE_KEY": "PEM (PKCS#8) EC P-256 or Ed25519 key that signs login tokens; or set TOKEN_SECRET",  # pragma: allowlist secret
    "TOKEN_PRIVATE_KEY_PREVIOUS": "the signing key before a rotation: its public key stays in the JWKS",  # pragma: allowlist secret
    "TOKEN_SECRET": "instead of TOKEN_PRIVATE_KEY: a >= 32-byte random HS256 secret shared with one backend",  # pragma: allowlist secret
    "TOKEN_ISSUER": "the token's `iss`; required",
    "TOKEN_AUDIENCE": "the token's `aud` (your backend); required",
    "TOKEN_TTL_SECONDS": "token lifetime in seconds (default 300)",
    "WECHAT_APP_ID": "mini-program AppID, with its secret: login accepts `wxCode` and the token carries `openid`",
    "WECHAT_APP_SECRET": "mini-program AppSecret",  # pragma: allowlist secret
    "ALLOWED_ORIGINS": "exact origins of H5 pages allowed by CORS, comma-separated",
    "RECEIPT_PATH": "path of the SMS delivery receipt callback, ending in >= 16 random characters (docs/operations.md)",
    "VOICE_SDKAPPID": "Tencent Cloud VMS application id: turns voice codes (channel=voice) on",
    "VMS_API_ENDPOINT": "VMS API host (default vms.tencentcloudapi.com)",
    "VOICE_PLAY_TIMES": "how many times a voice call reads the code, 1-3 (default 2)",
    "VOICE_DAILY_LIMIT": "voice codes per phone per day (default 3)",
    "TEST_PHONE_NUMBERS": "numbers for app review, +E.164:fixed code (no SMS; tokens say amr test)",
}


def ci_settings() -> list[tuple[str, str, str]]:
    """(name, ``secret`` or ``variable``, description) of every ``secrets.X`` / ``vars.X`` of deploy.yml."""
    text = DEPLOY_WORKFLOW.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for kind, name in re.findall(r"\b(secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)", text):
        found.setdefault(name, "secret" if kind == "secrets" else "variable")
    missing = sorted(set(found) - set(CI_DESCRIPTIONS))
    stale = sorted(set(CI_DESCRIPTIONS) - set(found))
    if missing or stale:
        raise SystemExit(f"docs/generate.py CI_DESCRIPTIONS: describe {missing}, drop {stale} (deploy.yml)")
    order = sorted(found, key=lambda name: found[name] != "secret")
    return [(name, found[name], CI_DESCRIPTIONS[name]) for name in order]


def ci_table() -> str:
    lines = ["| name | kind | what |", "|---|---|---|"]
    for name, kind, what in ci_settings():
        lines.append(f"| `{name}` | {kind} | {what} |")
    return "\n".join(lines) + "\n"


def threat_model() -> str:
    """bench/threat_model.py's table for the defaults, and what the shortest code length would change."""
    import importlib.util

    from smsverify.settings.config import Settings

    spec = importlib.util.spec_from_file_location("threat_model", ROOT / "bench" / "threat_model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    short = Settings.from_env({"CODE_LENGTH": "4"})
    return (
        module.table(Settings.from_env({})) + "\n\n"
        f"With `CODE_LENGTH=4` (refused inside SCF; local runs only) a targeted guess succeeds with probability "
        f"{module.guess_probability_per_year(short):.2%} per year. Run `python bench/threat_model.py NAME=VALUE ...` "
        "for the figures of another configuration.\n"
    )


# -- writing ----------------------------------------------------------------------------------

GENERATORS: dict[str, Callable[[], str]] = {
    "codestr-table": codestr_table,
    "configuration-table": configuration_table,
    "limits-table": limits_table,
    "provider-tables": provider_tables,
    "transport-table": transport_table,
    "ci-table": ci_table,
    "threat-model": threat_model,
}


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def generated() -> dict[Path, str]:
    """Each document with its generated blocks rewritten (only documents that have blocks)."""
    cache: dict[str, str] = {}

    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name not in GENERATORS:
            raise SystemExit(f"unknown generated block {name!r}: one of {', '.join(GENERATORS)}")
        if name not in cache:
            cache[name] = GENERATORS[name]()
        return match.group(1) + cache[name] + match.group(4)

    out = {}
    for path in documents():
        text = path.read_text(encoding="utf-8")
        if BLOCK.search(text):
            out[path] = BLOCK.sub(fill, text)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed document differs")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of date (run .venv/bin/python docs/generate.py): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    for path in stale:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
