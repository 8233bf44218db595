"""Links between the repository's Markdown documents lead somewhere.

Proven: every relative link of README.md, docs/*.md and examples/**/README.md names a
file that exists, and a ``#fragment`` names a heading of that file (GitHub's anchor
rule: lower case, punctuation dropped, spaces to hyphens). Links to other sites are
not followed (no network in tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

DOCUMENTS = sorted({ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").glob("*/README.md")})
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {anchor(h) for h in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))}


def links(path: Path) -> list[str]:
    return [t for t in LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, https:, mailto: ...


def test_the_anchor_rule_is_githubs():
    assert anchor("Deploying from CI") == "deploying-from-ci"
    assert anchor("8. HMAC key for codes → `CODE_SECRET`") == "8-hmac-key-for-codes--code_secret"
    assert anchor("Redis keys") == "redis-keys"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_names_a_file_and_heading_that_exist(document):
    assert DOCUMENTS and links(ROOT / "docs" / "setup.en.md")  # the documents were found and have links
    broken = []
    for target in links(document):
        name, _, fragment = target.partition("#")
        path = (document.parent / name).resolve() if name else document
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif fragment and path.suffix == ".md" and fragment not in anchors(path):
            broken.append(f"{target}: no heading #{fragment} in {path.relative_to(ROOT)}")
    assert broken == []


CITATION = re.compile(r"""README(?:\.md)?(?:, |「)"?([^"」]+)["」]""")
CITING = [*DOCUMENTS, ROOT / "serverless.yml", *sorted((ROOT / "src" / "smsverify").rglob("*.py"))]


def test_every_section_of_the_readme_cited_by_name_exists():
    headings = {h.strip() for h in HEADING.findall(FENCE.sub("", (ROOT / "README.md").read_text(encoding="utf-8")))}
    cited = {(path.relative_to(ROOT).as_posix(), section) for path in CITING
             for section in CITATION.findall(path.read_text(encoding="utf-8"))}
    assert {(where, section) for where, section in cited if section not in headings} == set()
