"""The docs say what the code does.

Proven here:

* every generated block of docs/*.md is exactly what
  docs/generate.py makes from the code now (run it after changing an error, a
  variable, a provider table or deploy.yml);
* the generated codeStr table is the edge's status table, ``InternalError``
  included, and names every error class of the code;
* the generated provider outcomes (the real service run on each provider code
  of the sender modules' tables) match the outcome of the code's class that
  tests/integration/test_provider_faults.py proves end to end (``OUTCOMES``,
  through ``expected_outcome``), for every code of the tables and of the
  Ronglian, Huyi and Zhenzi emulators, and its transport faults, and every
  code of the Alibaba Cloud emulator (tests/integration/test_provider_aliyun.py);
  each code a table documents is one of the emulated codes;
* the generated limits table states the configuration's defaults (28 numbers,
  captcha off, ``CAPTCHA_MODE`` always) and lists every limit variable the
  settings read;
* the configuration table's recording (``smsverify.settings.env.RecordingEnv``) lists
  each variable with the kind, default and bounds the reader applied, and a
  plain mapping is read exactly as before;
* the module map of docs/architecture.md names every file of ``src/smsverify``.
"""

from __future__ import annotations

import re

import pytest

from smsverify.settings.config import Settings
from smsverify.edge.responses import STATUS
from smsverify.settings.env import EnvReader, RecordingEnv
from tests.support import ROOT
from tests.docs import generator
from tests.support.emulators.huyi import HUYI_ERRORS
from tests.support.emulators.ronglian import RONGLIAN_ERRORS
from tests.support.emulators.zhenzi import ZHENZI_ERRORS
from tests.integration.test_provider_faults import BACKED_OFF, KEPT, RELEASED, TRANSPORT_MAPPING, expected_outcome

G = generator()
EMULATED = {"ronglian": RONGLIAN_ERRORS, "huyi": HUYI_ERRORS, "zhenzi": ZHENZI_ERRORS}


def kept_or_released(outcome) -> str:
    """The tests' classes: released (the phone backed off, or not), or kept (a ``maybe sent`` too, with its code)."""
    return outcome.reservation if outcome.reservation in (RELEASED, BACKED_OFF) else KEPT


@pytest.fixture(scope="module")
def outcomes():
    return dict(G.provider_outcomes())


# -- the committed docs ---------------------------------------------------------------------


def test_the_committed_docs_are_what_the_code_generates():
    documents = G.generated()
    assert {path.name for path in documents} >= {"protocol.md", "configuration.md", "providers.md", "deploy.md"}
    stale = [str(path.relative_to(ROOT)) for path, text in documents.items() if path.read_text(encoding="utf-8") != text]
    assert stale == [], "run .venv/bin/python docs/generate.py"


def test_the_check_mode_fails_on_a_changed_block(tmp_path, monkeypatch):
    changed = tmp_path / "protocol.md"
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert "| `Ok` | 200 |" in text
    changed.write_text(text.replace("| `Ok` | 200 |", "| `Ok` | 201 |"), encoding="utf-8")
    monkeypatch.setattr(G, "documents", lambda: [changed])
    assert G.main(["--check"]) == 1
    assert G.main([]) == 0 and changed.read_text(encoding="utf-8") == text


# -- codeStr --------------------------------------------------------------------------------


def test_the_code_str_table_is_the_status_table_with_every_error_class():
    rows = G.codestr_rows()
    assert {code_str: status for code_str, status, _msg, _fields in rows} == STATUS
    assert set(G.error_classes()) <= set(STATUS)
    assert "InternalError" in STATUS
    assert all(msg for _code, _status, msg, _fields in rows)


def test_the_ok_and_success_fields_are_the_ones_the_edge_sends(redis_url, make_env, clock):
    """The declared fields of the documented answers hold every field a real answer carries."""
    from smsverify.edge.handler import create_handler
    from smsverify.edge.responses import BODY_FIELDS
    from tests.support import answer, get_sms

    fields = {code_str: extra for code_str, _status, _msg, extra in G.codestr_rows()}
    assert fields["Ok"] == list(BODY_FIELDS["Ok"]) and fields["Success"] == ["token", "tokenType", "expiresIn"]
    assert fields["CodeIsError"] == ["attemptsLeft"]
    assert fields["WechatLoginFailed"] == ["wechatErrcode"]
    handler = create_handler(make_env(redis_url), clock=clock)
    sent = answer(handler(get_sms(verificationId="generated-docs-verification-1"), {}))
    assert set(sent) - {"codeStr", "msg", "requestId", "_status"} <= set(fields["Ok"])
    assert {"verificationId", "expiresIn", "resendAfter", "provider"} <= set(sent)


# -- provider outcomes ----------------------------------------------------------------------


def test_the_tencent_outcomes_are_the_tested_mapping(outcomes):
    for code, outcome in outcomes["tencent"]:
        sample = "GenerateDocsSample" if code == G.OTHER_CODE else code
        expected = expected_outcome("tencent", sample)
        assert (outcome.code_str, outcome.status, kept_or_released(outcome)) == expected, code


def test_the_transport_outcomes_are_the_tested_mapping():
    documented = {label: outcome for label, _what, outcome in G.transport_outcomes()}
    checked = 0
    for row in TRANSPORT_MAPPING:
        if row.code in documented:
            outcome = documented[row.code]
            assert (outcome.code_str, outcome.status, kept_or_released(outcome)) == (row.code_str, row.status, row.reservation)
            checked += 1
    assert checked == 2  # Timeout and ConnectionRefused; the others are Tencent codes, checked above
    assert documented["Timeout"].reservation == "maybe sent"  # the code stays valid


@pytest.mark.parametrize("provider", sorted(EMULATED))
def test_the_provider_outcomes_are_the_tested_ones_for_every_emulator_code(provider, outcomes):
    documented = dict(outcomes[provider])
    emulated = {str(code) for code in EMULATED[provider]}
    assert set(documented) - {G.OTHER_CODE} <= emulated
    for code in emulated:
        outcome = documented.get(code, documented[G.OTHER_CODE])
        assert (outcome.code_str, outcome.status, kept_or_released(outcome)) == expected_outcome(provider, code), code


def test_the_aliyun_outcomes_are_the_tested_ones_for_every_emulator_code(outcomes):
    from tests.integration.test_provider_aliyun import NUMBER_LEVEL, PROVIDER_LEVEL
    from tests.support.emulators.aliyun import ALIYUN_ERRORS

    documented = dict(outcomes["aliyun"])
    assert set(documented) - {G.OTHER_CODE} <= set(ALIYUN_ERRORS)
    for code in ALIYUN_ERRORS:
        outcome = documented.get(code, documented[G.OTHER_CODE])
        assert (outcome.code_str, outcome.status, kept_or_released(outcome)) == NUMBER_LEVEL.get(code, PROVIDER_LEVEL), code


def test_number_level_codes_never_fail_over_and_provider_level_ones_do(outcomes):
    for provider, rows in outcomes.items():
        for code, outcome in rows:
            assert outcome.fails_over == (outcome.code_str in ("SmsSendFailed", "SmsSendTimeout")), (provider, code)


# -- limits and variables -------------------------------------------------------------------


def test_the_limits_table_states_the_defaults_of_the_configuration():
    defaults = Settings.from_env({})
    # voice codes are off by default: their settings (and daily limit) are read once VOICE_SDKAPPID is set
    voice_defaults = Settings.from_env({"VOICE_SDKAPPID": "1400000000", "TENCENTCLOUD_SECRETID": "id",  # pragma: allowlist secret
                                       "TENCENTCLOUD_SECRETKEY": "key"}).voice  # pragma: allowlist secret
    checked = 0
    for _limit, names, values, _code_str, _status in G.limit_rows():
        if all(value is None for value in values):
            if names == ["PUMPING_ALLOW_PREFIXES"]:  # none by default
                assert defaults.insight.pumping_allow_prefixes == ()
                continue
            assert names == ["CAPTCHA_APP_ID", "CAPTCHA_APP_SECRET_KEY"] and not defaults.captcha_enabled
            continue
        for name, value in zip(names, values):
            if name == "VOICE_DAILY_LIMIT":
                actual = voice_defaults.daily_limit
            elif name.startswith("PUMPING_"):  # issue 20: read into Settings.insight
                actual = getattr(defaults.insight, name.lower())
            else:
                actual = getattr(defaults, name.lower())
            if name == "PUMPING_ALLOW_PREFIXES":
                assert actual == () and value is None
                continue
            if name == "PUMPING_MIN_CONVERSION":
                assert actual == float(value) == 0.2
                continue
            if name == "CAPTCHA_MODE":
                assert actual == value == "always"
                continue
            if name == "LEGACY_LOGIN":
                assert actual is True and value == "on"
                continue
            number = int(value)
            assert (actual == frozenset({number})) if isinstance(actual, frozenset) else (actual == number), name
            checked += 1
    assert checked == 30  # every numeric default of the table was compared (PUMPING_WINDOW_SENDS, _BLOCK_SECONDS: 30)


#: Names of the variables that set a limit (what is refused, when, or for whom).
LIMIT_WORDS = re.compile(r"LIMIT|WINDOW|INTERVAL|ATTEMPTS|PREFIX|_AFTER|CAPTCHA_MODE|COUNTRY_CODES|CODE_TTL")


def test_the_limits_table_lists_every_limit_variable_the_settings_read():
    from smsverify.settings.env import RecordingEnv

    env = RecordingEnv({})
    Settings.from_env(env)
    limits = {name for name in env.read if LIMIT_WORDS.search(name)}
    assert len(limits) >= 20  # the recording saw the limits (the words match)
    listed = {name for _limit, names, *_ in G.limit_rows() for name in names}
    assert limits - listed == set(), "add these to LIMITS in docs/generate.py"


def test_a_recording_environment_lists_kind_default_bounds_and_reader():
    env = RecordingEnv({"REDIS_PORT": "6380"})
    reader = EnvReader(env)
    assert reader.integer("REDIS_PORT", 6379, maximum=65535) == 6380
    assert reader.number("SMS_TIMEOUT_SECONDS", 5.0) == 5.0
    assert reader.text("SMS_REGION", "ap-guangzhou") == "ap-guangzhou"
    assert env.get("ALLOWED_ORIGINS") is None
    assert [(v.name, v.kind, v.default, v.minimum, v.maximum) for v in env.read.values()] == [
        ("TENCENTCLOUD_RUNENV", "text", None, None, None),  # is_scf, when the reader is made
        ("SCF_FUNCTIONNAME", "text", None, None, None),
        ("REDIS_PORT", "integer", 6379, 1, 65535),
        ("SMS_TIMEOUT_SECONDS", "seconds", 5.0, 0.05, 60.0),
        ("SMS_REGION", "text", "ap-guangzhou", None, None),
        ("ALLOWED_ORIGINS", "text", None, None, None),
    ]
    assert {v.reader for v in env.read.values()} == {__name__}  # the module that made the reads


def test_the_configuration_table_lists_what_a_complete_read_reads():
    read, required = G.record_variables()
    assert {"REDIS_HOST", "CODE_SECRET", "SMS_SDKAPPID", "TOKEN_ISSUER", "WECHAT_APP_ID", "ALLOWED_ORIGINS",
            "ZHENZI_BASE_URL", "PROVIDER_BACKOFF_SECONDS"} <= set(read)
    assert read["ZHENZI_BASE_URL"].default == "https://smsdeveloper.zhenzikj.com"
    assert read["TOKEN_TTL_SECONDS"][1:5] == ("integer", 300, 30, 3600)
    assert "inside SCF" in required["REDIS_HOST"] and "inside SCF" in required["TOKEN_AUDIENCE"]


# -- the module map -------------------------------------------------------------------------


def module_map() -> set[str]:
    """Paths under src/smsverify named by the code block of docs/architecture.md's Module map."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"^## Module map\n.*?^```\n(.*?)^```", text, re.S | re.M)
    assert block, "docs/architecture.md has no module map under ## Module map"
    lines = block.group(1).split("src/smsverify/\n", 1)[1].splitlines()
    named, folder = set(), ""
    for line in lines:
        first = line.split()[0] if line.strip() else ""
        if line.startswith("  ") and not line.startswith("   "):
            folder = first if first.endswith("/") else ""
        for name in re.findall(r"(?<![\w./])((?:[\w]+/)*[\w]+\.(?:py|lua))\b", line):
            named.add(folder + name)
    return named


def test_the_module_map_names_every_file_of_the_package():
    package = ROOT / "src" / "smsverify"
    files = {
        str(path.relative_to(package)) for path in package.rglob("*")
        if path.is_file() and path.suffix in (".py", ".lua") and "__pycache__" not in path.parts
    }
    named = module_map()
    assert files - named == set(), "add these to the module map of docs/architecture.md"
    assert named - files == set(), "the module map of docs/architecture.md names files that do not exist"
