"""The README's tables say what the code does: the codeStr table matches the
edge's status table, and the provider-error table matches the mapping that
tests/integration/test_provider_faults.py proves against the emulator."""

from __future__ import annotations

import re

from smsverify.edge.responses import STATUS
from tests.conftest import ROOT
from tests.integration.test_provider_faults import KEPT, RELEASED, TENCENT_CODES

README = (ROOT / "README.md").read_text(encoding="utf-8")
TICKED = re.compile(r"`([^`]+)`")


def table_after(heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading`` (header and rule rows dropped)."""
    section = README.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def expand(codes: list[str]) -> list[str]:
    """``A.B``, ``.C`` -> ``A.B``, ``A.C`` (the README shortens codes sharing a prefix)."""
    out, prefix = [], ""
    for code in codes:
        if code.startswith("."):
            code = prefix + code
        prefix = code.split(".", 1)[0]
        out.append(code)
    return out


def test_the_code_str_table_matches_the_status_table():
    documented = {TICKED.findall(row[0])[0]: int(row[1]) for row in table_after("## The protocol")}
    assert documented == {code: status for code, status in STATUS.items() if code != "InternalError"}


def test_the_provider_error_table_matches_the_tested_mapping():
    documented: dict[str, tuple[str, int, str]] = {}
    for codes, code_str, status, reservation in table_after("## Provider errors"):
        outcome = (TICKED.findall(code_str)[0], int(status), KEPT if reservation.startswith("kept") else RELEASED)
        for code in expand([c for c in TICKED.findall(codes) if "." in c and not c.endswith("*")]):
            documented[code] = outcome
    tested = {code: (code_str, status, reservation) for code, code_str, status, reservation in TENCENT_CODES}
    assert documented == tested


def test_the_limits_table_states_the_defaults_of_the_configuration():
    from smsverify.config import Settings

    defaults = Settings.from_env({})
    checked = 0
    for _limit, variables, default, _answer in table_after("## Limits"):
        names = [v for v in TICKED.findall(variables) if v.isupper()]
        numbers = [int(n) for n in re.findall(r"\d+", default)]
        if default == "off":
            assert not defaults.captcha_enabled
            continue
        assert len(names) == len(numbers), (variables, default)
        for name, number in zip(names, numbers):
            value = getattr(defaults, name.lower())
            assert (value == frozenset({number})) if isinstance(value, frozenset) else (value == number), name
            checked += 1
    assert checked == 23  # every numeric default of the table was compared
