"""serverless.yml agrees with the code it deploys.

Proven here:

- it parses, as an ``scf`` component instance;
- its handler string resolves to the real entry point: importing the module it names (from
  the repository root, in a separate process) gives smsverify's ``main_handler``;
- its runtime (``Python3.10``) is the Python the package is built for (scripts/package.sh)
  and the lower bound of pyproject's ``requires-python``;
- every variable the configuration reads is declared. The set is not copied from the
  docs: it is recorded by running the function's whole start-up read
  (``read_configuration``: service settings, CORS, tokens, WeChat) over complete
  configurations (each SMS provider, captcha, a failover list, scenes, a signing key with
  its predecessor, WeChat and CORS) with a mapping that notes every name looked up.
  Conversely, everything declared is read by the configuration;
- no literal secret: every variable named like a secret (SECRET, PASSWORD, TOKEN, KEY) and
  REDIS_URL (which may hold the password) is a ``${env:...}`` reference; the role's key
  (TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN) is not declared, since SCF injects it;
- the declared environment, filled as CI fills it, is a valid configuration inside SCF;
- the timeout covers the worst getSms the comment in serverless.yml adds up (captcha,
  Redis with its retries, the failover budget), and API Gateway waits longer than that;
- the trigger is a public Function URL without CAM signature; the API Gateway
  alternative, written as a comment for existing services beside Tencent's notice, parses
  once uncommented and has integrated response on, for GET and POST; events/ holds a
  getSms and a login of each trigger's shape;
- .env.example lists exactly the names ``scf deploy`` reads (serverless.yml's
  ``${env:...}`` references and the CLI's own key), gives no secret a value, marks its
  placeholders, and deployed unchanged would fail at start-up rather than run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from smsverify.settings.config import OLDER_NAMES, Settings
from smsverify.errors import ConfigError
from smsverify.edge.handler import read_configuration
from tests.support import (
    CODE_SECRET, answer, load_event, ROOT, SECRET_ID, SECRET_KEY, SESSION_TOKEN, TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_SECRET,
)

SERVERLESS = yaml.safe_load((ROOT / "serverless.yml").read_text(encoding="utf-8"))
INPUTS = SERVERLESS["inputs"]
DECLARED: dict[str, Any] = INPUTS["environment"]["variables"]
ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "KEY")

#: What the SCF runtime sets itself: never declared in serverless.yml.
RUNTIME = {"TENCENTCLOUD_RUNENV": "SCF", "TENCENTCLOUD_SECRETID": SECRET_ID,
           "TENCENTCLOUD_SECRETKEY": SECRET_KEY, "TENCENTCLOUD_SESSIONTOKEN": SESSION_TOKEN}
RUNTIME_NAMES = set(RUNTIME) | {"SCF_FUNCTIONNAME"}

# Complete configurations (fake values, valid shapes): the base every deployment needs, and
# each provider's settings.
TOKEN = {"TOKEN_SECRET": TOKEN_SECRET, "TOKEN_ISSUER": TOKEN_ISSUER, "TOKEN_AUDIENCE": TOKEN_AUDIENCE}
BASE = {**RUNTIME, "REDIS_HOST": "10.0.0.5", "REDIS_PASSWORD": "redis-password-for-tests",  # pragma: allowlist secret
        "CODE_SECRET": CODE_SECRET, **TOKEN}
TENCENT = {"SMS_SDKAPPID": "1400000000", "SMS_SIGN": "测试签名", "SMS_TEMPLATE_ID": "100001"}
CAPTCHA = {"CAPTCHA_APP_ID": "2000000000", "CAPTCHA_APP_SECRET_KEY": "captcha-key-for-tests"}  # pragma: allowlist secret
RONGLIAN = {"RONGLIAN_ACCOUNT_SID": "ronglian-account-sid-for-tests", "RONGLIAN_APP_ID": "ronglian-app-id-for-tests",
            "RONGLIAN_AUTH_TOKEN": "ronglian-token-for-tests",  # pragma: allowlist secret
            "RONGLIAN_TEMPLATE_ID": "123456"}
HUYI = {"HUYI_ACCOUNT": "C12345678", "HUYI_API_KEY": "huyi-key-for-tests"}  # pragma: allowlist secret
ZHENZI = {"ZHENZI_APP_ID": "100000", "ZHENZI_TEMPLATE_ID": "1234",
          "ZHENZI_APP_SECRET": "zhenzi-secret-for-tests"}  # pragma: allowlist secret
ALIYUN = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5tServerlessTest", "ALIYUN_SMS_SIGN_NAME": "测试签名",
          "ALIYUN_SMS_TEMPLATE_CODE": "SMS_100001", "ALIYUN_SMS_TEMPLATE_VARIABLES": "code",
          "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "aliyun-secret-for-tests"}  # pragma: allowlist secret
CONFIGURATIONS = {
    "tencent": {**BASE, "SMS_PROVIDER": "tencent", **TENCENT},
    "tencent+captcha": {**BASE, "SMS_PROVIDER": "tencent", **TENCENT, **CAPTCHA},
    "ronglian": {**BASE, "SMS_PROVIDER": "ronglian", **RONGLIAN},
    "huyi": {**BASE, "SMS_PROVIDER": "huyi", **HUYI},
    "zhenzi": {**BASE, "SMS_PROVIDER": "zhenzi", **ZHENZI},
    "aliyun": {**BASE, "SMS_PROVIDER": "aliyun", **ALIYUN},
    "failover": {**BASE, "SMS_PROVIDER": "tencent,ronglian,huyi,zhenzi,aliyun", **TENCENT, **RONGLIAN, **HUYI, **ZHENZI,
                 **ALIYUN},
    "scenes, key rotation, WeChat, CORS": {
        **{k: v for k, v in BASE.items() if k != "TOKEN_SECRET"}, "SMS_PROVIDER": "tencent,ronglian,huyi,zhenzi,aliyun",
        **TENCENT, **RONGLIAN, **HUYI, **ZHENZI, **ALIYUN, "ALIYUN_SMS_SCENES": "register:SMS_100003",
        "SMS_SCENES": "login,register:100003",
        "RONGLIAN_SCENES": "register:123457", "ZHENZI_SCENES": "register:1235", "HUYI_SCENES": "register:注册码{code}",
        "TOKEN_PRIVATE_KEY": "", "TOKEN_PRIVATE_KEY_PREVIOUS": "", "TOKEN_TTL_SECONDS": "300",
        "WECHAT_APP_ID": "wx0123456789abcdef", "WECHAT_APP_SECRET": "wechat-secret-for-tests",  # pragma: allowlist secret
        "ALLOWED_ORIGINS": "https://h5.example.com",
    },
}


class RecordingEnv(dict):
    """An environment mapping that notes every name the configuration looks up."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def __iter__(self):
        raise AssertionError("the configuration iterates the environment: the names it reads cannot be recorded")

    keys = items = values = __iter__


def names_read(configuration: dict[str, str]) -> set[str]:
    env = RecordingEnv(configuration)
    if "TOKEN_PRIVATE_KEY" in configuration:
        env.update(TOKEN_PRIVATE_KEY=private_pem(), TOKEN_PRIVATE_KEY_PREVIOUS=private_pem())
    read_configuration(env)
    return env.read


def private_pem() -> str:
    """A fresh EC P-256 key as the PKCS#8 PEM ``TOKEN_PRIVATE_KEY`` takes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def declared_value(name: str) -> str:
    """A declared literal, or the configuration's default for a ``${env:...}`` one."""
    value = DECLARED[name]
    return "" if ENV_REF.match(str(value)) else str(value)


def as_ci_fills_it(ci: dict[str, str]) -> dict[str, str]:
    """The function's environment after deployment: ``${env:X}`` replaced by CI's X, or by
    the empty string when CI has no X; literals as written; plus the runtime's own."""
    env = {}
    for name, value in DECLARED.items():
        ref = ENV_REF.match(str(value))
        env[name] = ci.get(ref.group(1), "") if ref else str(value)
    return env | RUNTIME


# -- shape ----------------------------------------------------------------------------------

def test_it_parses_as_an_scf_component():
    assert SERVERLESS["component"] == "scf"
    assert SERVERLESS["name"] and INPUTS["name"]
    assert all(isinstance(v, str) for v in DECLARED.values()), "every environment value must be a string"


def test_the_handler_string_resolves_to_smsverify_main_handler():
    script = (
        "import importlib, json, sys\n"
        "module_name, _, attribute = sys.argv[1].rpartition('.')\n"
        "module = importlib.import_module(module_name)\n"
        "handler = getattr(module, attribute)\n"
        "print(json.dumps({'file': module.__file__, 'callable': callable(handler),\n"
        "                  'module': handler.__module__, 'qualname': handler.__qualname__}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "SCF_", "REDIS_", "SMS_"))}
    done = subprocess.run([sys.executable, "-c", script, INPUTS["handler"]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found == {"file": str(ROOT / "handler.py"), "callable": True,
                     "module": "smsverify.edge.handler", "qualname": "create_handler.<locals>.main_handler"}


def test_the_runtime_is_the_python_the_package_is_built_for():
    runtime = re.fullmatch(r"Python(\d+\.\d+)", INPUTS["runtime"])
    assert runtime, INPUTS["runtime"]
    package_sh = (ROOT / "scripts/package.sh").read_text()
    built_for = re.search(r"^PYTHON_VERSION=(\S+)$", package_sh, re.M).group(1)
    requires = re.search(r'^requires-python\s*=\s*">=\s*(\d+\.\d+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert runtime.group(1) == built_for == requires.group(1)


# -- the environment ------------------------------------------------------------------------

@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_every_variable_the_configuration_reads_is_declared(name):
    missing = names_read(CONFIGURATIONS[name]) - RUNTIME_NAMES - set(DECLARED) - set(OLDER_NAMES)  # read when unset
    assert missing == set(), f"serverless.yml does not declare {sorted(missing)}"


def test_every_declared_variable_is_read_by_the_configuration():
    read = set().union(*(names_read(c) for c in CONFIGURATIONS.values()))
    assert set(DECLARED) - read == set()


def test_the_role_key_injected_by_scf_is_not_declared():
    assert RUNTIME_NAMES & set(DECLARED) == set()


@pytest.mark.parametrize("name", sorted(n for n in DECLARED if any(w in n for w in SECRET_WORDS) or n == "REDIS_URL"))
def test_secrets_come_only_from_the_ci_environment(name):
    assert DECLARED[name] == f"${{env:{name}}}"


def walk(node: Any, path: str = ""):
    """Every (path, key, value) of the parsed file."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, str(key), value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def test_nothing_anywhere_in_the_file_is_a_literal_credential():
    for path, key, value in walk(SERVERLESS):
        if any(word in key.upper() for word in SECRET_WORDS):
            assert isinstance(value, str) and ENV_REF.match(value), f"{path}.{key} is not a ${{env:...}} reference"
    assert not re.search(r"AKID[0-9A-Za-z]{10,}", (ROOT / "serverless.yml").read_text(encoding="utf-8"))  # a SecretId


@pytest.mark.parametrize("providers, ci", [
    ("tencent", TENCENT),
    ("tencent,ronglian,huyi,zhenzi", {**TENCENT, **RONGLIAN, **HUYI, **ZHENZI}),
    ("aliyun,tencent", {**ALIYUN, **TENCENT}),
])
def test_the_declared_environment_is_a_valid_configuration_inside_scf(providers, ci):
    ci = {"REDIS_HOST": BASE["REDIS_HOST"], "REDIS_PASSWORD": BASE["REDIS_PASSWORD"], "CODE_SECRET": CODE_SECRET,
          "SMS_PROVIDER": providers, **TOKEN, **ci}
    config = read_configuration(as_ci_fills_it(ci))
    settings = config.settings
    assert (config.token.algorithm, config.token.issuer, config.token.audience) == ("HS256", TOKEN_ISSUER, TOKEN_AUDIENCE)
    assert config.wechat is None and config.edge.allowed_origins == frozenset() and settings.scenes == ("login",)
    assert settings.in_scf
    assert settings.sms_provider == providers
    assert settings.redis_url == "redis://:redis-password-for-tests@10.0.0.5:6379/0"
    assert settings.code_secret == CODE_SECRET.encode()
    assert not settings.captcha_enabled


# -- time, trigger, network -----------------------------------------------------------------

def test_the_timeout_covers_the_worst_get_sms():
    from smsverify.service.delivery import MIN_ATTEMPT_SECONDS
    from smsverify.store.connection import RETRIES

    defaults = Settings.from_env({})
    sms = float(declared_value("SMS_TIMEOUT_SECONDS") or defaults.sms_timeout_seconds)
    budget = float(declared_value("SMS_SEND_BUDGET_SECONDS") or defaults.sms_send_budget_seconds)
    redis_call = (1 + RETRIES) * float(declared_value("REDIS_TIMEOUT_SECONDS") or defaults.redis_timeout_seconds)
    # captcha + reserve + delivery (capped by the budget) + mark the last provider down + release
    worst = sms + redis_call + budget + MIN_ATTEMPT_SECONDS + redis_call + redis_call
    assert worst == 22.5  # the sum written in serverless.yml's comment, with its values
    assert INPUTS["timeout"] > worst
    assert INPUTS["timeout"] > defaults.sms_timeout_seconds + defaults.redis_timeout_seconds


def commented_api_gateway() -> list[dict]:
    """The commented API Gateway alternative: the ``# - apigw:`` block, uncommented and parsed
    as the events list it replaces (what a user gets by removing the ``# ``)."""
    lines = (ROOT / "serverless.yml").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(r"\s*# - apigw:", line))
    indent = lines[start].index("#")
    block = []
    for line in lines[start:]:
        if not line.startswith(" " * indent + "#"):
            break
        block.append(line[indent + 2:])
    return yaml.safe_load("\n".join(block))


def test_the_default_trigger_is_a_public_function_url():
    assert INPUTS["events"] == [{"http": {"parameters": {
        "netConfig": {"enableIntranet": False, "enableExtranet": True}, "qualifier": "$DEFAULT", "authType": "NONE"}}}]


def test_the_commented_api_gateway_alternative_answers_get_and_post_with_integrated_response():
    (event,) = commented_api_gateway()
    gateway = event["apigw"]["parameters"]
    endpoints = gateway["endpoints"]
    assert sorted(e["method"] for e in endpoints) == ["GET", "POST"]
    assert {e["path"] for e in endpoints} == {"/"}
    assert all(e["function"]["isIntegratedResponse"] is True for e in endpoints)
    assert all(e["serviceTimeout"] > INPUTS["timeout"] for e in endpoints)
    assert gateway["protocols"] == ["https"]


def test_the_api_gateway_notice_is_written_beside_the_alternative():
    text = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    notice = text[text.index("# API Gateway, for"):text.index("# - apigw:")]
    assert "allowlist" in notice and "2025-06-30" in notice and "existing" in notice


@pytest.mark.parametrize("fixture", ["get_sms_function_url.json", "login_function_url.json",
                                     "get_sms.json", "login.json"])
def test_both_trigger_shapes_have_sample_events(fixture):
    """events/ holds a getSms and a login of each trigger: API Gateway events carry
    requestContext.serviceId, Function URL ones do not (tests/integration runs them)."""
    event = json.loads((ROOT / "events" / fixture).read_text(encoding="utf-8"))
    assert {"httpMethod", "path", "headers", "queryString", "body"} <= set(event)
    assert ("serviceId" in event.get("requestContext", {})) == ("function_url" not in fixture)


def test_the_function_url_sample_events_get_a_code_and_log_in(build, sms_api):
    """The default trigger's pair, as in events/ (the documented shape for getSms, a real
    capture's shape for login), through main_handler with a real Redis and the SMS emulator."""
    handler = build()
    assert answer(handler(load_event("get_sms_function_url.json"), {}))["codeStr"] == "Ok"
    [sms] = sms_api.sent
    login_event = load_event("login_function_url.json")
    login_body = json.loads(login_event["body"])
    assert "+86" + login_body["phone"] == sms["phone"]
    login_event["body"] = json.dumps({**login_body, "code": sms["params"][0]})
    assert answer(handler(login_event, {}))["codeStr"] == "Success"


# -- .env.example -----------------------------------------------------------------------------

ENV_EXAMPLE = ROOT / ".env.example"
#: Read by the CLI itself (the deploying CAM user's key), not referenced by serverless.yml.
CLI_NAMES = {"TENCENT_SECRET_ID", "TENCENT_SECRET_KEY"}


def env_example() -> list[tuple[str, str]]:
    """(name, value) of every assignment line of .env.example, in order."""
    pairs = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), line
            pairs.append((name, value))
    return pairs


def test_the_env_example_lists_exactly_what_scf_deploy_reads():
    referenced = set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", (ROOT / "serverless.yml").read_text(encoding="utf-8")))
    names = [name for name, _ in env_example()]
    assert len(names) == len(set(names))
    assert set(names) == referenced | CLI_NAMES


def test_the_env_example_holds_no_secret_and_marks_its_placeholders():
    workflow = (ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    ci_secrets = set(re.findall(r"\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}", workflow))
    assert {"CODE_SECRET", "REDIS_PASSWORD", "TENCENT_SECRET_KEY"} <= ci_secrets
    for name, value in env_example():
        assert "#" not in value and value == value.strip() and not value.startswith(("'", '"')), name  # dotenv and sh read it alike
        if name in ci_secrets:
            assert value == "", f"{name}: a secret gets no value in the example"
    placeholders = {name for name, value in env_example() if "xxxx" in value or "x.x.x" in value}
    assert {"REGION", "SCF_ROLE", "VPC_ID", "SUBNET_ID", "REDIS_HOST", "SMS_SDKAPPID", "SMS_SIGN", "SMS_TEMPLATE_ID",
            "TOKEN_ISSUER", "TOKEN_AUDIENCE"} <= placeholders


def test_the_env_example_as_filled_in_is_not_a_valid_configuration_until_its_placeholders_are_replaced():
    """Deployed unchanged, the function refuses to start (no CODE_SECRET, no token key, a
    placeholder SdkAppId), instead of running with a placeholder."""
    with pytest.raises(ConfigError) as refused:
        read_configuration(as_ci_fills_it(dict(env_example())))
    assert {"CODE_SECRET", "TOKEN_PRIVATE_KEY / TOKEN_SECRET", "SMS_SDKAPPID"} <= {name for name, _ in refused.value.problems}


def test_the_function_runs_in_the_redis_vpc_with_its_role():
    assert INPUTS["vpcConfig"] == {"vpcId": "${env:VPC_ID}", "subnetId": "${env:SUBNET_ID}"}
    assert INPUTS["role"] == "${env:SCF_ROLE}"
    text = (ROOT / "serverless.yml").read_text(encoding="utf-8")
    assert "QcloudSMSFullAccess" in text and "QcloudCaptchaFullAccess" in text
