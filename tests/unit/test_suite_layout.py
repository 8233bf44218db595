"""The suite's own layout rules, read from the test sources (ast, no imports run).

- test names are unique across files, so a failure's name says where it is;
- nothing imports tests/conftest.py as a library (shared code is in tests.support);
- tests/unit/ does no I/O: no subprocess, socket or server module, no real-part fixture.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.support import ROOT

TESTS = ROOT / "tests"
#: A unit module with one import probe in a fresh interpreter (subprocess), to move to tests/integration/.
UNIT_IO_EXCEPTIONS = {"tests/unit/test_config_providers.py"}
IO_MODULES = {"subprocess", "socket", "socketserver", "http.server", "multiprocessing"}
REAL_PART_FIXTURES = {"redis_server", "redis_url", "redis_cluster", "cloud_api", "sms_api", "ronglian_api", "huyi_api",
                      "zhenzi_api", "ronglian_emulator", "huyi_emulator", "zhenzi_emulator", "aliyun_api", "aliyun_emulator",
                      "build", "make_env"}


def modules(folder=TESTS):
    for path in sorted(folder.rglob("test_*.py")):
        if "node_modules" not in path.parts:
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def defined_tests(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            yield node


def imported(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_test_names_are_unique_across_files():
    files = defaultdict(set)
    for name, tree in modules():
        for function in defined_tests(tree):
            files[function.name].add(name)
    assert {test: sorted(where) for test, where in files.items() if len(where) > 1} == {}


def test_no_module_imports_conftest_as_a_library():
    importing = {name for name, tree in modules() if "tests.conftest" in imported(tree) or "conftest" in imported(tree)}
    assert importing == set()


def test_unit_tests_do_no_io():
    offending = {}
    for name, tree in modules(TESTS / "unit"):
        io = {m for m in imported(tree) if m in IO_MODULES or m.split(".")[0] in {"subprocess", "socket"}}
        fixtures = {arg.arg for f in defined_tests(tree) for arg in f.args.args} & REAL_PART_FIXTURES
        if (io or fixtures) and name not in UNIT_IO_EXCEPTIONS:
            offending[name] = sorted(io | fixtures)
    assert offending == {}
