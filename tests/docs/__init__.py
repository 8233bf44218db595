"""Tests of the docs: the generated reference tables (docs/generate.py) against the code and the tests' own tables."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from types import ModuleType

from tests.support import ROOT


@lru_cache(maxsize=1)
def generator() -> ModuleType:
    """docs/generate.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("smsverify_docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
