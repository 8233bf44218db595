"""The set-up guide (docs/setup.zh-CN.md, docs/setup.en.md) against the real code.

The guide is read, not copied: its tables are marked with ``<!-- table:NAME -->``
comments and parsed here. Proven:

* the two languages mirror each other: the same numbered sections, the same
  number of checklist items in each, and the same backticked values (variables,
  codes) in every row of every marked table;
* every environment variable the guide names (a backticked UPPER_CASE name) is
  looked up by ``Settings.from_env`` (recorded by a Mapping that logs every key
  it is asked for, over complete Tencent configurations), or declared in
  serverless.yml as ``${env:NAME}``, or read by another program that is checked
  too: the proxy variables in the Tencent SDK's source, the deploy credentials in
  .github/workflows/deploy.yml; and every variable the configuration reads for
  the Tencent provider is in the guide;
* the secrets table and the serverless.yml table match serverless.yml, and the
  CODE_SECRET command makes a key the configuration accepts;
* the frequency table states the configuration's defaults, the relations it
  claims to Tencent's defaults hold, and with those defaults the function refuses
  before Tencent would be asked;
* every row of the troubleshooting table is reproduced through ``main_handler``
  with a real redis-server and the Tencent Cloud API emulator (which the real SDK
  talks to), and answers exactly the HTTP status, codeStr and providerCode /
  captchaCode the row states. Each Tencent code of the table is injected on both
  error paths (``sms_number_error``, ``sms_request_error``; ``AuthFailure.*`` on
  the request path only), and where the emulator models the cause itself (wrong
  signature, template, parameter count, SdkAppId) the misconfiguration is made
  for real. Transport rows: a closed port and a full accept backlog (no public
  network), an unreachable proxy in the function's own environment (a
  subprocess, since the SDK reads os.environ), Redis on a closed port, a missing
  variable at start-up (the log line is compared with the row), and the captcha
  misconfigurations.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import yaml

from smsverify.settings.config import Settings
from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from tests.support import CODE_SECRET, ROOT, SECRET_ID, SECRET_KEY, SESSION_TOKEN, answer, get_sms, login
from tests.support.redis_servers import free_port

GUIDES = {"zh": ROOT / "docs" / "setup.zh-CN.md", "en": ROOT / "docs" / "setup.en.md"}
SERVERLESS_YML = ROOT / "serverless.yml"
DEPLOY_WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"

PHONE_RAW = "8613800138000"  # the phone of events/get_sms.json
PHONE = "+8613800138000"
SOURCE_IP = "203.0.113.7"
CAPTCHA_ENV = {"CAPTCHA_APP_ID": "190000000", "CAPTCHA_APP_SECRET_KEY": "captcha-test-key"}  # the emulator's

TICKED = re.compile(r"`([^`\n]+)`")
FENCED = re.compile(r"^```.*?^```", flags=re.S | re.M)
VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]+[A-Z0-9]$")
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z0-9_]+)\}")

#: Names the guide says are read by another program than the function's configuration.
SDK_PROXY_VARIABLES = {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}  # tencentcloud.common.http.request
DEPLOY_CREDENTIALS = {"TENCENT_SECRET_ID", "TENCENT_SECRET_KEY"}  # the deploy CLI (scf deploy)
#: serverless.yml variables of the other SMS providers, outside this Tencent guide.
OTHER_PROVIDER_PREFIXES = ("RONGLIAN_", "HUYI_", "ZHENZI_", "ALIYUN_", "ALIBABA_CLOUD_")


# -- reading the guide ---------------------------------------------------------------------------
def guide(lang: str) -> str:
    return GUIDES[lang].read_text(encoding="utf-8")


def table(text: str, name: str) -> list[list[str]]:
    """The body cells of the Markdown table after ``<!-- table:NAME -->`` (header and rule dropped)."""
    marker = f"<!-- table:{name} -->"
    assert text.count(marker) == 1, f"{marker} must appear once"
    rows = []
    for line in text.split(marker, 1)[1].lstrip("\n").splitlines():
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    assert len(rows) > 2, f"no table after {marker}"
    return rows[2:]


def ticked(cell: str) -> list[str]:
    return TICKED.findall(cell)


def variables_named(text: str) -> set[str]:
    """Backticked UPPER_CASE names outside fenced code blocks."""
    return {token for token in TICKED.findall(FENCED.sub("", text)) if VARIABLE.match(token)}


@dataclass(frozen=True)
class Row:
    """One row of the troubleshooting table: what the function answers."""

    id: str
    status: int | None  #: None: no HTTP answer of ours (start-up failure)
    code_str: str | None
    provider_codes: tuple[str, ...] = ()  #: "tencent:<code>"; empty: no providerCode in the body
    captcha_codes: tuple[int, ...] = ()  #: empty: no captchaCode in the body
    log_line: str | None = None  #: the start-up error line, for the config row


def parse_row(cells: list[str]) -> Row:
    row_id, _cause, status, code_str, detail, _fix = cells
    provider_codes, captcha_codes, log_line = [], [], None
    for token in ticked(detail):
        if re.fullmatch(r"[a-z]+:[A-Za-z0-9.]+", token):
            provider_codes.append(token)
        elif match := re.fullmatch(r"captchaCode=(\d+)", token):
            captcha_codes.append(int(match[1]))
        elif token.startswith("smsverify.errors.ConfigError: "):
            log_line = token
        else:
            raise AssertionError(f"row {row_id}: unrecognised detail {token!r}")
    if not ticked(detail):
        assert detail == "—", f"row {row_id}: an empty detail is written as —"
    return Row(
        id=ticked(row_id)[0],
        status=None if status == "—" else int(status),
        code_str=None if code_str == "—" else ticked(code_str)[0],
        provider_codes=tuple(provider_codes),
        captcha_codes=tuple(captcha_codes),
        log_line=log_line,
    )


def troubleshooting(lang: str = "zh") -> dict[str, Row]:
    rows = [parse_row(cells) for cells in table(guide(lang), "troubleshooting")]
    assert len({r.id for r in rows}) == len(rows), "duplicate row ids"
    return {r.id: r for r in rows}


ROWS = troubleshooting()

#: How each row is reproduced below (a new row of the guide needs an entry and a test).
REPRODUCTIONS = {
    "ok-not-received": "test_ok_row_and_its_serial_number_in_the_log",
    "sign": "injected + test_the_misconfiguration_itself (wrong SMS_SIGN)",
    "template": "injected + test_the_misconfiguration_itself (unknown SMS_TEMPLATE_ID)",
    "template-params": "injected + test_the_misconfiguration_itself (one-variable template)",
    "sdkappid": "injected + test_the_misconfiguration_itself (the account AppID)",
    "balance": "injected",
    "app-limit": "injected",
    "role": "injected (request level)",
    "ip-allowlist": "injected",
    "public-network": "test_public_network_row",
    "proxy": "test_proxy_row",
    "provider-frequency": "injected",
    "provider-daily": "injected",
    "redis": "test_redis_row",
    "config": "test_config_row_log_line, test_config_row_causes",
    "captcha-app": "test_captcha_app_row",
    "captcha-role": "test_captcha_role_row",
    "captcha-ticket": "test_captcha_ticket_row",
}


def tencent_code(provider_code: str) -> str:
    provider, code = provider_code.split(":", 1)
    assert provider == "tencent", provider_code
    return code


def injected_cases() -> list:
    """(row, Tencent code, error path) for every Tencent code the table lists."""
    cases = []
    for row in ROWS.values():
        for provider_code in row.provider_codes:
            code = tencent_code(provider_code)
            if "." not in code:
                continue  # a transport label (Timeout, ConnectionRefused, ...): reproduced by its row's test
            paths = ["request"] if code.startswith("AuthFailure.") else ["number", "request"]
            cases += [pytest.param(row, code, path, id=f"{row.id}-{code}-{path}") for path in paths]
    return cases


# -- driving the function ------------------------------------------------------------------------
def assert_row(body: dict[str, Any], row: Row, provider_code: str | None = None) -> None:
    """The body answers as ``row`` states; ``provider_code`` pins which of the row's codes."""
    assert (body["_status"], body["codeStr"]) == (row.status, row.code_str), body
    if row.provider_codes:
        assert body.get("providerCode") in row.provider_codes, body
        if provider_code is not None:
            assert body["providerCode"] == provider_code
    else:
        assert "providerCode" not in body, body
    if row.captcha_codes:
        assert body.get("captchaCode") in row.captcha_codes, body
    else:
        assert "captchaCode" not in body, body


def send_sms_requests(sms_api) -> list[dict]:
    return [r for r in sms_api.requests if r["action"] == "SendSms"]


def clear_knobs(sms_api) -> None:
    sms_api.sms_number_error = None
    sms_api.sms_request_error = None


@pytest.fixture
def log_records() -> Iterator[list[logging.LogRecord]]:
    """Records of the ``smsverify`` logger during the test (it does not propagate)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(logging.DEBUG)
    logger = logging.getLogger("smsverify")
    logger.addHandler(keep)
    yield records
    logger.removeHandler(keep)


@pytest.fixture
def full_backlog() -> Iterator[str]:
    """An http:// endpoint whose accept queue is full: connecting times out (SYNs are dropped)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        server.close()


CHILD_INVOCATION = """
import json, sys, handler
event = json.load(open("events/get_sms.json"))
event["queryString"]["phone"] = sys.argv[1]
response = handler.main_handler(event, {})
print(json.dumps({"status": response["statusCode"], "body": json.loads(response["body"])}))
"""


def scf_process_env(function_env: dict[str, str], **extra: str) -> dict[str, str]:
    """The process environment of an SCF container: only the function's variables (plus PATH)."""
    env = {"PATH": os.environ.get("PATH", ""), "TENCENTCLOUD_RUNENV": "SCF", **function_env}
    env.pop("NO_PROXY", None)
    env.update(extra)
    return env


def invoke_in_process(env: dict[str, str], phone: str = PHONE_RAW) -> dict[str, Any]:
    """Load handler.py in a fresh interpreter with ``env`` as os.environ; answer events/get_sms.json for ``phone``."""
    done = subprocess.run([sys.executable, "-c", CHILD_INVOCATION, phone], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result["body"], "_status": result["status"]}


# -- the two languages ---------------------------------------------------------------------------
def sections(text: str) -> list[tuple[str, int]]:
    """(section number, checklist items in it) for every numbered ``## N.`` section."""
    out = []
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        number = re.match(r"(\d+)\.", part)
        if number:
            out.append((number[1], len(re.findall(r"^- \[ \] ", part, flags=re.M))))
    return out


def test_both_languages_have_the_same_sections_and_checklist():
    zh, en = guide("zh"), guide("en")
    assert sections(zh) == sections(en)
    assert [n for n, _ in sections(zh)] == [str(i) for i in range(13)]
    assert sum(items for _, items in sections(zh)) >= 30


@pytest.mark.parametrize("name", ["values", "frequency", "secrets", "serverless", "troubleshooting"])
def test_both_languages_have_the_same_tables(name):
    zh, en = table(guide("zh"), name), table(guide("en"), name)
    assert len(zh) == len(en)
    for zh_row, en_row in zip(zh, en):
        assert [Counter(ticked(c)) for c in zh_row] == [Counter(ticked(c)) for c in en_row], (zh_row[0], en_row[0])


def test_both_languages_state_the_same_answers():
    assert troubleshooting("zh") == troubleshooting("en")


def test_every_row_of_the_table_is_reproduced_here():
    assert set(ROWS) == set(REPRODUCTIONS)


#: Common API 3.0 error codes the table names (https://cloud.tencent.com/document/api/382/52075);
#: the SDK's errorcodes module lists the SMS ones only.
COMMON_ERROR_CODES = {"AuthFailure.UnauthorizedOperation"}


def test_every_tencent_code_of_the_table_is_one_tencent_documents():
    """Injection proves how the function maps a code, not that the code exists: check that here."""
    from tencentcloud.sms.v20210111 import errorcodes

    sms_codes = {value for name, value in vars(errorcodes).items() if name.isupper() and isinstance(value, str)}
    listed = {tencent_code(c) for row in ROWS.values() for c in row.provider_codes if "." in tencent_code(c)}
    assert len(listed) >= 15
    assert listed - sms_codes - COMMON_ERROR_CODES == set()


@pytest.mark.parametrize("lang", GUIDES)
def test_every_provider_code_the_prose_names_is_a_row_of_the_table(lang):
    """So every providerCode the guide mentions anywhere is one reproduced below."""
    mentioned = {token for token in TICKED.findall(guide(lang)) if re.fullmatch(r"tencent:[A-Za-z0-9.]+", token)}
    assert len(mentioned) >= 15
    in_table = {code for row in troubleshooting(lang).values() for code in row.provider_codes}
    assert mentioned - in_table == set()


# -- variables -------------------------------------------------------------------------------
class RecordingEnv(Mapping):
    """An environment that records every name looked up (``get``, ``in`` and ``[]`` all land here)."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)
        self.looked_up: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.looked_up.add(key)
        return self._values[key]

    def __iter__(self):
        raise AssertionError("the configuration iterates over the environment: record its names another way")

    def __len__(self) -> int:
        return len(self._values)


#: Placeholders for the secret-like settings (none is a real key).
FAKE_SECRETS = {
    "TENCENTCLOUD_SECRETID": SECRET_ID,
    "TENCENTCLOUD_SECRETKEY": SECRET_KEY,
    "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN,
    "CODE_SECRET": CODE_SECRET,
    "CODE_SECRET_PREVIOUS": "previous-code-secret-for-tests-0123",  # pragma: allowlist secret
    "CAPTCHA_APP_SECRET_KEY": "captcha-test-key",  # pragma: allowlist secret
    "REDIS_PASSWORD": "redis-password-for-tests",  # pragma: allowlist secret
}
#: Every setting, valid, for the Tencent provider (a complete configuration reads every branch).
EVERY_SETTING = {
    "SMS_PROVIDER": "tencent", "SMS_SDKAPPID": "1400000000", "SMS_SIGN": "测试签名", "SMS_TEMPLATE_ID": "100001",
    "SMS_TEMPLATE_PARAMS": "code,minutes", "SMS_REGION": "ap-guangzhou", "SMS_API_ENDPOINT": "sms.tencentcloudapi.com",
    "SMS_TIMEOUT_SECONDS": "5", "CODE_LENGTH": "6", "CODE_TTL_SECONDS": "300",
    "MAX_VERIFY_ATTEMPTS": "3", "SEND_INTERVAL_SECONDS": "60", "HOURLY_SEND_LIMIT": "5", "DAILY_SEND_LIMIT": "10",
    "DAILY_VERIFY_LIMIT": "30", "IP_SEND_LIMIT": "20", "IP_SEND_WINDOW_SECONDS": "3600", "GLOBAL_SEND_LIMIT": "1000",
    "GLOBAL_SEND_WINDOW_SECONDS": "3600", "DEFAULT_REGION": "CN", "ALLOWED_COUNTRY_CODES": "86",
    "CAPTCHA_APP_ID": "190000000", "CAPTCHA_API_ENDPOINT": "captcha.tencentcloudapi.com",
    "REDIS_TIMEOUT_SECONDS": "1.0", "REDIS_CLUSTER": "false",
    **{k: v for k, v in FAKE_SECRETS.items() if k != "REDIS_PASSWORD"},
}
COMPLETE_CONFIGURATIONS = [
    {"TENCENTCLOUD_RUNENV": "SCF", "SCF_FUNCTIONNAME": "smsverify", **EVERY_SETTING,
     "REDIS_HOST": "10.0.0.12", "REDIS_PORT": "6379", "REDIS_PASSWORD": FAKE_SECRETS["REDIS_PASSWORD"], "REDIS_DB": "0"},
    {"TENCENTCLOUD_RUNENV": "SCF", "SCF_FUNCTIONNAME": "smsverify", **EVERY_SETTING,
     "REDIS_URL": f"rediss://:{FAKE_SECRETS['REDIS_PASSWORD']}@10.0.0.12:6379/0"},
    {k: v for k, v in EVERY_SETTING.items() if k != "SMS_PROVIDER"} | {"REDIS_HOST": "127.0.0.1"},  # local, provider inferred
]


def configuration_reads() -> set[str]:
    names: set[str] = set()
    for values in COMPLETE_CONFIGURATIONS:
        env = RecordingEnv(values)
        settings = Settings.from_env(env)
        assert settings.sms_provider == "tencent" and settings.captcha_enabled
        names |= env.looked_up
    return names


def serverless_env_names() -> set[str]:
    """Names of the ``${env:NAME}`` references in serverless.yml's values (comments aside)."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            names.update(ENV_REFERENCE.findall(node))

    walk(yaml.safe_load(SERVERLESS_YML.read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("lang", GUIDES)
def test_every_variable_the_guide_names_is_read_by_someone(lang):
    named = variables_named(guide(lang))
    unknown = named - configuration_reads() - serverless_env_names() - SDK_PROXY_VARIABLES - DEPLOY_CREDENTIALS
    assert unknown == set()


@pytest.mark.parametrize("lang", GUIDES)
def test_every_variable_the_configuration_reads_is_in_the_guide(lang):
    assert configuration_reads() - variables_named(guide(lang)) == set()


def test_the_tencent_sdk_reads_the_proxy_variables_the_guide_names():
    import inspect

    import tencentcloud.common.http.request as sdk_http

    source = inspect.getsource(sdk_http)
    for name in SDK_PROXY_VARIABLES:
        assert f'"{name}"' in source, name
    assert variables_named(guide("zh")) >= SDK_PROXY_VARIABLES


def test_the_deploy_workflow_uses_the_deploy_credentials_the_guide_names():
    if not DEPLOY_WORKFLOW.exists():
        pytest.skip(".github/workflows/deploy.yml is not written yet")
    workflow = DEPLOY_WORKFLOW.read_text(encoding="utf-8")
    for name in DEPLOY_CREDENTIALS:
        assert name in workflow, name


def yaml_path(document: Any, path: str) -> Any:
    for key in path.split("."):
        document = document[key]
    return document


@pytest.mark.parametrize("lang", GUIDES)
def test_the_serverless_table_matches_serverless_yml(lang):
    document = yaml.safe_load(SERVERLESS_YML.read_text(encoding="utf-8"))
    rows = table(guide(lang), "serverless")
    assert rows
    for field_cell, variable_cell in rows:
        [field], [variable] = ticked(field_cell), ticked(variable_cell)
        assert yaml_path(document, field) == f"${{env:{variable}}}", field


def repository_settings(lang: str) -> dict[str, tuple[str, str]]:
    """The secrets table: name -> (where it is stored: secrets | vars | inputs, where it comes from)."""
    out = {}
    for name, kind, source in table(guide(lang), "secrets"):
        [kind_token] = ticked(kind)
        assert kind_token in ("secrets", "vars", "inputs"), kind
        out[ticked(name)[0]] = (kind_token, source)
    return out


@pytest.mark.parametrize("lang", GUIDES)
def test_the_secrets_table_matches_serverless_yml(lang):
    document = yaml.safe_load(SERVERLESS_YML.read_text(encoding="utf-8"))
    function_variables = document["inputs"]["environment"]["variables"]
    settings = repository_settings(lang)
    read_by_function = configuration_reads()
    for name in settings:
        if name in read_by_function:
            assert function_variables.get(name) == f"${{env:{name}}}", name
        else:
            assert name in serverless_env_names() | DEPLOY_CREDENTIALS, name
    # Every CI variable serverless.yml needs (for Tencent) is one the guide tells users to set.
    needed = {n for n in serverless_env_names() if not n.startswith(OTHER_PROVIDER_PREFIXES)}
    assert needed - set(settings) == set()


@pytest.mark.parametrize("lang", GUIDES)
def test_the_secrets_table_says_where_the_deploy_workflow_reads_each_name(lang):
    if not DEPLOY_WORKFLOW.exists():
        pytest.skip(".github/workflows/deploy.yml is not written yet")
    workflow = DEPLOY_WORKFLOW.read_text(encoding="utf-8")
    read_from = dict(re.findall(r"^\s+([A-Z][A-Z0-9_]+):\s*\$\{\{\s*(secrets|vars|inputs)\.", workflow, flags=re.M))
    assert {name: kind for name, (kind, _) in repository_settings(lang).items()} == {
        name: read_from.get(name) for name in repository_settings(lang)
    }


SCF_MINIMUM = {
    "TENCENTCLOUD_RUNENV": "SCF", "REDIS_HOST": "10.0.0.12", "REDIS_PORT": "6379",
    "SMS_SDKAPPID": "1400000000", "SMS_SIGN": "测试签名", "SMS_TEMPLATE_ID": "100001",
    **{k: FAKE_SECRETS[k] for k in ("REDIS_PASSWORD", "CODE_SECRET", "TENCENTCLOUD_SECRETID",
                                    "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN")},
}


@pytest.mark.parametrize("lang, optional", [("zh", "可选"), ("en", "optional")])
def test_optional_settings_left_empty_are_the_defaults(lang, optional):
    """An unset repository variable reaches the function as an empty string ("unset means the default")."""
    names = [name for name, (_, source) in repository_settings(lang).items() if source.startswith(optional)]
    assert len(names) >= 6
    assert not set(names) & set(SCF_MINIMUM)
    assert Settings.from_env({**SCF_MINIMUM, **dict.fromkeys(names, "")}) == Settings.from_env(SCF_MINIMUM)


def test_the_code_secret_command_makes_a_key_the_configuration_accepts():
    block = guide("zh").split("<!-- command:code-secret -->", 1)[1]
    command = re.search(r"```sh\n(.+?)\n```", block, flags=re.S)[1]
    assert command in guide("en")
    argv = shlex.split(command)
    assert argv[0] == "python"
    done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert len(key) >= 16
    assert Settings.from_env({"CODE_SECRET": key}).code_secret == key.encode()


# -- frequency limits ----------------------------------------------------------------------------
def frequency_limits() -> dict[str, tuple[int | None, int]]:
    """variable -> (Tencent's default or None, the function's default), from the guide."""
    out = {}
    for _limit, tencent, variable, ours in table(guide("zh"), "frequency"):
        number = re.match(r"\d+", tencent)
        out[ticked(variable)[0]] = (int(number[0]) if number else None, int(ours))
    return out


def test_the_frequency_table_states_the_configuration_defaults_and_the_claimed_relations():
    defaults = Settings.from_env({})
    limits = frequency_limits()
    for variable, (_tencent, ours) in limits.items():
        assert getattr(defaults, variable.lower()) == ours, variable
    interval_tencent, interval_ours = limits["SEND_INTERVAL_SECONDS"]
    daily_tencent, daily_ours = limits["DAILY_SEND_LIMIT"]
    assert interval_ours >= interval_tencent  # "not below Tencent's interval"
    assert daily_ours <= daily_tencent  # "not above Tencent's daily count"


def test_with_the_defaults_the_cooldown_refuses_before_tencents_interval(redis_url, make_env, sms_api, clock):
    tencent_interval, ours = frequency_limits()["SEND_INTERVAL_SECONDS"]
    handler = create_handler(make_env(redis_url), clock=clock)
    assert answer(handler(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"

    clock.advance(tencent_interval)  # Tencent would accept the same number again now
    again = answer(handler(get_sms(PHONE_RAW), {}))

    assert (again["codeStr"], again["_status"], again["retryAfter"]) == ("TooFrequent", 429, ours - tencent_interval)
    assert "providerCode" not in again
    assert len(send_sms_requests(sms_api)) == 1  # Tencent was not asked


def test_with_the_defaults_the_daily_limit_refuses_before_tencents(redis_url, make_env, sms_api, clock):
    tencent_daily, ours = frequency_limits()["DAILY_SEND_LIMIT"]
    handler = create_handler(make_env(redis_url), clock=clock)
    for _ in range(ours):
        assert answer(handler(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"
        clock.advance(900)  # past the cooldown, at most 4 sends in any hour

    refused = answer(handler(get_sms(PHONE_RAW), {}))

    assert (refused["codeStr"], refused["_status"]) == ("DailyLimitExceeded", 429)
    assert "providerCode" not in refused
    assert len(send_sms_requests(sms_api)) == ours <= tencent_daily


# -- troubleshooting: Tencent's codes ------------------------------------------------------------
@pytest.mark.parametrize("row, code, path", injected_cases())
def test_tencent_code_of_the_table(row, code, path, redis_url, make_env, sms_api, clock, log_records):
    interval = 45  # not the default, so retryAfter = SEND_INTERVAL_SECONDS is meaningful
    handler = create_handler(make_env(redis_url, SEND_INTERVAL_SECONDS=str(interval)), clock=clock)
    if path == "number":
        sms_api.sms_number_error = code
    else:
        sms_api.sms_request_error = (code, "injected by the test")

    body = answer(handler(get_sms(PHONE_RAW), {}))

    assert_row(body, row, provider_code=f"tencent:{code}")
    [line] = [getattr(r, "fields", {}) for r in log_records if r.getMessage() == "invocation"]
    assert (line["codeStr"], line["providerCode"]) == (body["codeStr"], body["providerCode"])  # "also in the log line"
    if row.code_str == "TooFrequent":
        assert body["retryAfter"] == interval
    assert sms_api.sent == []
    # "502 rows count against no limit; 429 rows keep the cooldown and the counts"
    clear_knobs(sms_api)
    again = answer(handler(get_sms(PHONE_RAW), {}))
    if row.status == 502:
        assert again["codeStr"] == "Ok", again
    else:
        assert (again["codeStr"], again["retryAfter"]) == ("TooFrequent", interval), again
        assert "providerCode" not in again


@pytest.mark.parametrize("row_id, overrides", [
    pytest.param("sign", {"SMS_SIGN": "【测试签名】"}, id="sign-in-brackets"),
    pytest.param("sign", {"SMS_SIGN": "测试"}, id="sign-not-the-approved-text"),
    pytest.param("template", {"SMS_TEMPLATE_ID": "999999"}, id="template-unknown"),
    pytest.param("template-params", {"SMS_TEMPLATE_ID": "100002"}, id="one-variable-template-with-code-minutes"),
    pytest.param("sdkappid", {"SMS_SDKAPPID": "1250000000"}, id="account-appid-as-sdkappid"),
])
def test_the_misconfiguration_itself(row_id, overrides, redis_url, make_env, sms_api, clock):
    """The emulator refuses these the way Tencent does; nothing is injected."""
    handler = create_handler(make_env(redis_url, **overrides), clock=clock)

    body = answer(handler(get_sms(PHONE_RAW), {}))

    assert_row(body, ROWS[row_id])
    assert sms_api.sent == []


@pytest.mark.parametrize("ttl, minutes", [(None, "5"), ("90", "2"), ("600", "10")])
def test_the_second_template_variable_is_the_lifetime_in_whole_minutes(ttl, minutes, redis_url, make_env, sms_api, clock):
    overrides = {} if ttl is None else {"CODE_TTL_SECONDS": ttl}
    handler = create_handler(make_env(redis_url, **overrides), clock=clock)

    assert answer(handler(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"
    code, sent_minutes = sms_api.sent_to(PHONE)[0]["params"]
    assert (len(code), sent_minutes) == (6, minutes)  # CODE_LENGTH 6 by default; {2} rounded up


def test_a_code_sent_before_a_key_rotation_still_logs_in(redis_url, make_env, sms_api, clock):
    old_key, new_key = "old-code-secret-0123456789", "new-code-secret-0123456789"
    before = create_handler(make_env(redis_url, CODE_SECRET=old_key), clock=clock)
    assert answer(before(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"
    code = sms_api.sent_to(PHONE)[0]["params"][0]

    after = create_handler(make_env(redis_url, CODE_SECRET=new_key, CODE_SECRET_PREVIOUS=old_key), clock=clock)

    assert answer(after(login(PHONE_RAW, code), {}))["codeStr"] == "Success"


def test_the_template_params_fix_sends(redis_url, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, SMS_TEMPLATE_ID="100002", SMS_TEMPLATE_PARAMS="code"), clock=clock)

    assert answer(handler(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"
    assert len(sms_api.sent_to(PHONE)[0]["params"]) == 1


def test_ok_row_and_its_serial_number_in_the_log(redis_url, make_env, sms_api, clock, log_records):
    handler = create_handler(make_env(redis_url), clock=clock)

    body = answer(handler(get_sms(PHONE_RAW), {}))

    assert_row(body, ROWS["ok-not-received"])
    [sent] = sms_api.sent_to(PHONE)
    [line] = [getattr(r, "fields", {}) for r in log_records if r.getMessage() == "invocation"]
    assert (line["codeStr"], line["serialNo"]) == ("Ok", sent["serial_no"])


# -- troubleshooting: transport rows -------------------------------------------------------------
def test_public_network_row(redis_url, make_env, sms_api, clock, full_backlog):
    row = ROWS["public-network"]
    unreachable = {
        "tencent:ConnectionRefused": {"SMS_API_ENDPOINT": f"http://127.0.0.1:{free_port()}"},
        "tencent:ConnectTimeout": {"SMS_API_ENDPOINT": full_backlog, "SMS_TIMEOUT_SECONDS": "0.5"},
    }
    assert set(row.provider_codes) == set(unreachable)
    for provider_code, overrides in unreachable.items():
        handler = create_handler(make_env(redis_url, **overrides), clock=clock)
        assert_row(answer(handler(get_sms(PHONE_RAW), {})), row, provider_code=provider_code)
    assert sms_api.requests == []
    # 502: nothing was counted, a container that can reach the API sends at once
    working = create_handler(make_env(redis_url), clock=clock)
    assert answer(working(get_sms(PHONE_RAW), {}))["codeStr"] == "Ok"


def test_proxy_row(redis_url, make_env, sms_api):
    """HTTP_PROXY / HTTPS_PROXY in the function's own environment, as SCF sets it (os.environ of the process)."""
    row = ROWS["proxy"]
    closed_proxy = f"http://127.0.0.1:{free_port()}"

    # The emulator is an http:// endpoint: the SDK takes HTTP_PROXY for it.
    body = invoke_in_process(scf_process_env(make_env(redis_url), HTTP_PROXY=closed_proxy), "8613800138001")
    assert_row(body, row, provider_code="tencent:ProxyError")
    assert sms_api.requests == []  # it went to the proxy, never to the API

    # An https:// endpoint (as the real sms.tencentcloudapi.com) takes HTTPS_PROXY instead.
    https_env = make_env(redis_url, SMS_API_ENDPOINT=f"https://127.0.0.1:{free_port()}")
    direct = invoke_in_process(scf_process_env(https_env), "8613800138002")
    assert direct["providerCode"] == "tencent:ConnectionRefused"  # no proxy: the port refuses
    proxied = invoke_in_process(scf_process_env(https_env, HTTPS_PROXY=closed_proxy), "8613800138003")
    assert_row(proxied, row, provider_code="tencent:ProxyError")

    # "502 rows leave nothing counted": nothing was sent, so the phone may try again at once.
    working = create_handler(make_env(redis_url))  # the real clock, like the child processes
    again = answer(working(get_sms("8613800138001"), {}))
    assert again["codeStr"] == "Ok", again


def test_the_documented_proxy_fix_sends(redis_url, make_env, sms_api):
    """The fix of the proxy row: the API's exact host in NO_PROXY (the SDK compares the whole host)."""
    closed_proxy = f"http://127.0.0.1:{free_port()}"
    # The emulator's host is 127.0.0.1:PORT. The SDK looks for that whole string in NO_PROXY, and
    # requests (under it) matches an IP without its port: each needs its entry. For the real
    # sms.tencentcloudapi.com one entry serves both (test_the_sdk_needs_the_full_api_host_in_no_proxy).
    no_proxy = f"127.0.0.1,{sms_api.endpoint}"
    env = scf_process_env(make_env(redis_url), HTTP_PROXY=closed_proxy, NO_PROXY=no_proxy)

    assert invoke_in_process(env)["codeStr"] == "Ok"
    assert len(sms_api.sent_to(PHONE)) == 1


NO_PROXY_PROBE = """
import requests.utils
from tencentcloud.common.http.request import _get_proxy_from_env
url = "https://sms.tencentcloudapi.com/"
sdk = _get_proxy_from_env("sms.tencentcloudapi.com", varname="HTTPS_PROXY")  # the proxy the SDK passes itself
session = requests.utils.get_environ_proxies(url).get("https")  # what requests adds from the environment
print("direct" if sdk is None and session is None else "proxy")
"""


@pytest.mark.parametrize("no_proxy, route", [
    (".tencentcloudapi.com", "proxy"),  # "a suffix does not work"
    ("tencentcloudapi.com", "proxy"),
    ("sms.tencentcloudapi.com", "direct"),  # "the full host name"
    ("localhost,sms.tencentcloudapi.com,captcha.tencentcloudapi.com", "direct"),
])
def test_the_sdk_needs_the_full_api_host_in_no_proxy(no_proxy, route):
    proxy = "http://proxy.invalid:3128"
    env = {"PATH": os.environ.get("PATH", ""), "HTTPS_PROXY": proxy, "NO_PROXY": no_proxy}
    done = subprocess.run([sys.executable, "-c", NO_PROXY_PROBE], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == route


def test_an_unreachable_proxy_is_a_failed_send_not_a_timeout(redis_url, make_env, sms_api):
    body = invoke_in_process(scf_process_env(make_env(redis_url), HTTP_PROXY=f"http://127.0.0.1:{free_port()}"))

    assert (body["codeStr"], body["_status"]) == ("SmsSendFailed", 502), body
    assert body["providerCode"].startswith("tencent:") and body["providerCode"] != "tencent:Timeout"
    assert sms_api.requests == []
    again = answer(create_handler(make_env(redis_url))(get_sms(PHONE_RAW), {}))  # the real clock, like the child
    assert again["codeStr"] == "Ok"  # released, like a refused connection


def test_redis_row(make_env, sms_api, clock):
    row = ROWS["redis"]
    env = make_env(None, REDIS_HOST="127.0.0.1", REDIS_PORT=str(free_port()), REDIS_TIMEOUT_SECONDS="0.5")
    handler = create_handler(env, clock=clock)

    assert_row(answer(handler(get_sms(PHONE_RAW), {})), row)
    assert_row(answer(handler(login(PHONE_RAW, "123456"), {})), row)  # "login answers 503 too"
    assert sms_api.requests == []


# -- troubleshooting: start-up and captcha -------------------------------------------------------
def test_config_row_log_line(redis_url, make_env):
    """The row's line is the last line SCF logs when the handler module fails to load."""
    row = ROWS["config"]
    assert (row.status, row.code_str) == (None, None)
    variable = row.log_line.split(": ")[1]
    env = scf_process_env(make_env(redis_url))
    del env[variable]

    done = subprocess.run([sys.executable, "-c", "import handler"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == row.log_line


CONFIG_CAUSES = [
    # (what the guide says, how the environment differs, the variable named, named in the config row)
    ("SMS_SIGN missing", {"SMS_SIGN": None}, "SMS_SIGN", True),
    ("spaces around SMS_SIGN", {"SMS_SIGN": " 测试签名"}, "SMS_SIGN", True),
    ("non-numeric SMS_SDKAPPID", {"SMS_SDKAPPID": "好物小铺"}, "SMS_SDKAPPID", True),
    ("CODE_SECRET too short", {"CODE_SECRET": "short"}, "CODE_SECRET", True),  # pragma: allowlist secret
    ("no execution role", {"TENCENTCLOUD_SECRETID": None, "TENCENTCLOUD_SECRETKEY": None,
                           "TENCENTCLOUD_SESSIONTOKEN": None}, "TENCENTCLOUD_SECRETID", True),
    ("captcha half configured", {"CAPTCHA_APP_ID": "190000000"}, "CAPTCHA_APP_SECRET_KEY", True),
    ("CODE_LENGTH above 6 (step 3)", {"CODE_LENGTH": "8"}, "CODE_LENGTH", False),
    ("no Redis inside SCF (step 6)", {"REDIS_URL": None}, "REDIS_HOST", False),
]


@pytest.mark.parametrize("cause, changes, variable, in_row", CONFIG_CAUSES, ids=[c[0] for c in CONFIG_CAUSES])
def test_config_row_causes(cause, changes, variable, in_row, redis_url, make_env, clock):
    env = {"TENCENTCLOUD_RUNENV": "SCF", **make_env(redis_url)}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value

    with pytest.raises(ConfigError) as raised:
        create_handler(env, clock=clock)

    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")  # "the name before the colon"
    fix = [cells[5] for cells in table(guide("zh"), "troubleshooting") if ticked(cells[0]) == ["config"]][0]
    assert (variable in ticked(fix)) == in_row


def captcha_get_sms(sms_api, **query: str) -> dict:
    ticket, randstr = sms_api.issue_captcha_ticket(SOURCE_IP)
    return get_sms(PHONE_RAW, ip=SOURCE_IP, ticket=ticket, randstr=randstr, **query)


def test_captcha_app_row(redis_url, make_env, sms_api, clock, log_records):
    row = ROWS["captcha-app"]
    wrong = {16: {"CAPTCHA_APP_ID": "190000001"}, 100: {"CAPTCHA_APP_SECRET_KEY": "not-the-app-secret-key"}}
    assert set(row.captcha_codes) == set(wrong)
    for captcha_code, overrides in wrong.items():
        env = make_env(redis_url, **{**CAPTCHA_ENV, **overrides}, CAPTCHA_API_ENDPOINT=sms_api.url)
        body = answer(create_handler(env, clock=clock)(captcha_get_sms(sms_api), {}))
        assert_row(body, row)
        assert body["captchaCode"] == captcha_code
    assert send_sms_requests(sms_api) == []
    errors = [r.getMessage() for r in log_records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("CAPTCHA_APP_ID" in e and "CAPTCHA_APP_SECRET_KEY" in e for e in errors)


def test_captcha_role_row(redis_url, make_env, sms_api, clock, log_records):
    """The Captcha API refuses the role's key: any AuthFailure there is the same path."""
    env = make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url,
                   TENCENTCLOUD_SECRETKEY="a-key-the-captcha-api-refuses")  # pragma: allowlist secret

    body = answer(create_handler(env, clock=clock)(captcha_get_sms(sms_api), {}))

    assert_row(body, ROWS["captcha-role"])
    assert send_sms_requests(sms_api) == []
    errors = [r.getMessage() for r in log_records if r.levelno == logging.ERROR]
    assert any(e.startswith("captcha check unavailable: AuthFailure.") for e in errors), errors


def test_captcha_ticket_row(redis_url, make_env, sms_api, clock):
    env = make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url)

    body = answer(create_handler(env, clock=clock)(get_sms(PHONE_RAW, ip=SOURCE_IP), {}))

    assert_row(body, ROWS["captcha-ticket"])
    assert sms_api.requests == []


# -- the Alibaba Cloud appendix ----------------------------------------------------------------
def aliyun_appendix(lang: str) -> str:
    heading = {"zh": "## 附录：阿里云短信", "en": "## Appendix: Alibaba Cloud SMS"}[lang]
    return guide(lang).split(heading, 1)[1].split("\n## ", 1)[0]


def test_the_aliyun_appendix_names_the_same_values_in_both_languages():
    assert Counter(TICKED.findall(aliyun_appendix("zh"))) == Counter(TICKED.findall(aliyun_appendix("en")))


@pytest.mark.parametrize("lang", GUIDES)
def test_the_aliyun_appendix_names_what_the_aliyun_provider_reads_and_codes_of_its_emulator(lang):
    from tests.support.emulators.aliyun import ALIYUN_ERRORS

    text = aliyun_appendix(lang)
    env = RecordingEnv({
        "SMS_PROVIDER": "aliyun", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tGuide",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "guide-secret", "ALIYUN_SMS_SIGN_NAME": "好物小铺",  # pragma: allowlist secret
        "ALIYUN_SMS_TEMPLATE_CODE": "SMS_123456789", "ALIYUN_SMS_TEMPLATE_VARIABLES": "code:code,time:minutes",
    })
    Settings.from_env(env)
    provider_variables = {n for n in env.looked_up if n.startswith(("ALIYUN_", "ALIBABA_CLOUD_"))}
    named = {n for n in variables_named(text) if n.startswith(("ALIYUN_", "ALIBABA_CLOUD_"))}
    assert named == provider_variables - {"ALIYUN_SMS_ENDPOINT"}  # the endpoint is fixed in serverless.yml
    codes = {t.split(":", 1)[1] for t in TICKED.findall(text) if t.startswith("aliyun:")}
    assert len(codes) >= 8 and codes <= set(ALIYUN_ERRORS)
    assert '"Action": "dysms:SendSms"' in text
