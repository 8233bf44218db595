"""Every package the deployed code imports is a declared dependency, declared once.

Proven here:

- requirements.txt (what scripts/package.sh installs into the code package) lists exactly
  pyproject.toml's ``[project] dependencies``, with the same version bounds;
- every third-party module imported anywhere in src/ and handler.py (at module level or inside
  a function, found by parsing the code) belongs to a declared runtime dependency, or to the
  ``local`` extra for the in-process store (fakeredis, never reached inside SCF). The module ->
  distribution map is the installed one (``importlib.metadata.packages_distributions``);
- a module no dependency provides fails the check (``requests`` once arrived only through the
  Tencent SDK).
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.support import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def normalise(requirement: str) -> str:
    """``Werkzeug>=3.0`` -> ``werkzeug>=3.0``; ``fakeredis[lua]>=2.26`` -> ``fakeredis[lua]>=2.26`` (PEP 503 name)."""
    name, rest = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + rest.replace(" ", "")


def dist_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", normalise(requirement), maxsplit=1)[0]


def requirements_txt() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def imported_top_level(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level module name -> the files importing it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.name)
    return found


def third_party(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: files for name, files in imports.items()
            if name not in sys.stdlib_module_names and name not in ("smsverify", "__future__")}


def undeclared(imports: dict[str, set[str]], declared: set[str]) -> dict[str, set[str]]:
    """Modules whose distribution is not declared (a module no installed distribution provides counts)."""
    providers = packages_distributions()
    return {name: files for name, files in third_party(imports).items()
            if not {dist_name(d) for d in providers.get(name, [])} & declared}


def deployed_sources() -> list[Path]:
    return sorted((ROOT / "src").rglob("*.py")) + [ROOT / "handler.py"]


def test_requirements_txt_is_pyprojects_runtime_dependency_list():
    assert sorted(map(normalise, requirements_txt())) == sorted(map(normalise, PYPROJECT["project"]["dependencies"]))


def test_every_third_party_module_the_code_imports_is_a_declared_dependency():
    imports = imported_top_level(deployed_sources())
    assert {"redis", "requests", "werkzeug", "phonenumbers", "tencentcloud"} <= set(third_party(imports))
    runtime = {dist_name(r) for r in PYPROJECT["project"]["dependencies"]}
    local = {dist_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["local"]}
    stats = {dist_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["stats"]}
    assert undeclared(imports, runtime | local | stats) == {}
    # The in-process store's fakeredis and the `stats --html` chart's pygal (imported only by that command)
    # are the only imports the runtime list does not provide.
    assert set(undeclared(imports, runtime)) <= {"fakeredis", "pygal"}


def test_a_module_no_declared_dependency_provides_is_reported(tmp_path):
    (tmp_path / "probe.py").write_text("def send():\n    import requests\n    from yaml import safe_load\n    import json\n")
    imports = imported_top_level([tmp_path / "probe.py"])
    runtime = {dist_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert set(undeclared(imports, runtime)) == {"yaml"}
    assert set(undeclared(imports, runtime - {"requests"})) == {"yaml", "requests"}
