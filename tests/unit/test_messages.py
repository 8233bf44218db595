"""The English catalog (:mod:`smsverify.edge.messages`): complete, and the language rules.

Completeness is read from the source with :mod:`ast`, so a new Chinese sentence without an
English one fails here: every Chinese string literal and f-string of ``src/smsverify`` (docstrings
aside) is a message, except the few listed in :data:`NOT_MESSAGES` (texts sent to providers or
matched in their answers). An f-string is checked with a placeholder in each ``{...}``: its English
must carry every placeholder over. The brief's rule is checked as well: every literal passed as the
first argument of an error class, every ``default_msg`` and every ``body(...)`` message is among them.
"""

from __future__ import annotations

import ast

import pytest

from smsverify import errors
from smsverify.edge.messages import CATALOG, HAN, PATTERNS, choose, english, from_accept_language, localise, normalise
from tests.support import ROOT

SRC = ROOT / "src" / "smsverify"
CATALOG_MODULE = "edge/messages.py"  # the catalog itself: its Chinese keys are not messages of their own

#: (module, text) of the Chinese literals that are not a ``msg``; an f-string with ``VARn`` placeholders.
NOT_MESSAGES = {
    ("senders/console.py", "[console SMS to VAR0] 您的验证码为 VAR1，VAR2 分钟内有效。"),  # the local SMS text
    ("senders/huyi.py", "您的验证码是：{code}。请不要把验证码泄露给其他人。"),  # Huyi's default template
    ("senders/aliyun.py", "天级"),  # matched in Alibaba Cloud's answer
}

ERROR_CLASSES = {name for name, value in vars(errors).items()
                 if isinstance(value, type) and issubclass(value, errors.VerificationError)}


def _text(node: ast.AST) -> str | None:
    """A literal's text; an f-string with ``VAR0``, ``VAR1``... for its ``{...}`` parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts, index = [], 0
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value)
            else:
                parts.append(f"VAR{index}")
                index += 1
        return "".join(parts)
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in [tree, *ast.walk(tree)]:
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _branches(node: ast.AST):
    """A message expression's literals: itself, or both branches of ``a if c else b``."""
    if isinstance(node, ast.IfExp):
        yield from _branches(node.body)
        yield from _branches(node.orelse)
    elif _text(node) is not None:
        yield node


def walk_source() -> tuple[set[tuple[str, str]], set[str]]:
    """(every Chinese literal as (module, text), the texts in a message position)."""
    chinese: set[tuple[str, str]] = set()
    positioned: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        module = str(path.relative_to(SRC))
        if module == CATALOG_MODULE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                skip.update(id(value) for value in node.values)  # the pieces of an f-string
        for node in ast.walk(tree):
            text = _text(node)
            if text is not None and id(node) not in skip and HAN.search(text):
                chinese.add((module, text))
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name in ERROR_CLASSES and node.args:
                    positioned.update(_text(n) for n in _branches(node.args[0]))
                if name == "body" and len(node.args) >= 2:
                    positioned.update(_text(n) for n in _branches(node.args[1]))
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["default_msg"]:
                positioned.update(_text(n) for n in _branches(node.value))
    return chinese, positioned


CHINESE, POSITIONED = walk_source()
MESSAGES = sorted(text for module, text in CHINESE if (module, text) not in NOT_MESSAGES)


def test_every_chinese_message_has_an_english_one():
    assert len(MESSAGES) >= 55  # the walk found the package's sentences, not a handful
    missing = [text for text in MESSAGES if english(text) is None]
    assert missing == [], "add these to CATALOG or PATTERNS in src/smsverify/edge/messages.py"
    for text in MESSAGES:
        translated = english(text)
        assert not HAN.search(translated), (text, translated)
        placeholders = [f"VAR{i}" for i in range(text.count("VAR"))]
        assert all(p in translated for p in placeholders), (text, translated)  # variable parts carried over


def test_every_message_position_holds_a_catalogued_sentence():
    """The error classes' first arguments, ``default_msg`` and ``body(...)`` messages: each Chinese one is a
    message the walk found, and every default ``msg`` is among them."""
    chinese = {text for text in POSITIONED if HAN.search(text)}
    assert chinese <= set(MESSAGES)
    defaults = {getattr(errors, name).default_msg for name in ERROR_CLASSES}
    assert len(defaults) == len(ERROR_CLASSES) and defaults <= chinese
    assert {"验证码已发送", "校验验证码成功", "缺少参数 phone", "参数 VAR0 重复"} <= chinese
    not_chinese = {text for text in POSITIONED if not HAN.search(text)}  # kept as they are in English
    assert all(localise({"codeStr": "InValidParam", "msg": t}, "en")["msg"] == t for t in not_chinese)


def test_the_exceptions_are_not_messages_and_every_entry_is_used():
    assert NOT_MESSAGES <= CHINESE, "NOT_MESSAGES lists a text the source no longer has"
    assert not {text for _, text in NOT_MESSAGES} & POSITIONED
    unused = set(CATALOG) - set(MESSAGES)
    assert unused == set(), "CATALOG has sentences the source no longer has"
    for pattern, _ in PATTERNS:
        assert any(pattern.fullmatch(text) for text in MESSAGES), pattern.pattern
    assert all(HAN.search(zh) and not HAN.search(en) for zh, en in CATALOG.items())


@pytest.mark.parametrize("header, expected", [
    ("en-US,en;q=0.9,zh;q=0.1", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("en;q=0.5, zh-CN;q=0.9", "zh-CN"),  # the weight decides, not an exact tag (Werkzeug's best_match says en)
    ("fr, en-GB;q=0.3", "en"),
    ("zh-TW", "zh-CN"),  # any Chinese
    ("zh-Hans-CN;q=0.2, EN;q=0.1", "zh-CN"),
    ("en;q=0, zh;q=0.01", "zh-CN"),  # q=0: not English
    ("en;q=0", None),
    ("*", "en"),  # every language: the default (en here)
    ("*;q=0.5, en;q=0.1", "zh-CN"),  # * stands for the languages not named
    ("fr", None),
    ("", None),
    (";;q=x,,", None),
])
def test_accept_language_picks_the_best_weighted_of_the_two(header, expected):
    assert from_accept_language(header, default="en") == expected


@pytest.mark.parametrize("tag, expected", [
    ("zh-CN", "zh-CN"), ("zh", "zh-CN"), ("zh_CN", "zh-CN"), ("ZH-hk", "zh-CN"), ("en", "en"), ("en-US", "en"),
    ("en_GB", "en"), (" EN ", "en"), ("fr", None), ("", None), ("english", None), ("en-", None), ("e" * 65, None),
    (None, None),
])
def test_lang_tags_are_normalised_to_the_two_languages(tag, expected):
    assert normalise(tag) == expected
    assert choose(tag, None, "zh-CN") == (expected or "zh-CN")


def test_a_sentence_missing_from_the_catalog_falls_back_to_the_codestr_default():
    assert localise({"codeStr": "TooFrequent", "msg": "某个新的句子", "retryAfter": 5}, "en") == {
        "codeStr": "TooFrequent", "msg": "Codes are requested too often; please try again later", "retryAfter": 5}
    same = {"codeStr": "Ok", "msg": "验证码已发送"}
    assert localise(same, "zh-CN") is same
