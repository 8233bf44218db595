"""Property-based fuzzing of ``main_handler`` (malformed events).

Thousands of generated events go through ONE warm handler built once for the
module: in-process store (fakeredis), console SMS captured per call, and every
send limit opened wide so that a valid request really succeeds. What is proven:

1. Any Python value as the event (JSON-like values, and bytes, tuples, sets,
   ``object()``, ...) and as the context: the handler returns, never raises,
   with an integration response of exactly ``{isBase64Encoded, statusCode,
   headers, body}``, a JSON body with ``codeStr``/``msg``/``requestId``, a
   status that matches the ``codeStr``, never a 5xx; and ``InValidParam``/400
   whenever the event cannot even name a method (oracle
   :func:`could_name_method`, a necessary condition for anything else).
2. The real files in events/, mutated one way each (wrong types, dropped
   fields, random/latin-1/non-UTF-8/not-base64 bodies, 100 kB values,
   duplicate parameters (query lists, repeated form or JSON keys,
   query and body), random query dicts, methods, phones, codes and
   content types): every mutation that breaks the request by construction is
   a 400 (``InValidParam`` or ``MissingCode``); every mutation that keeps the
   request intact gets the answer of the untouched event; the rest are
   well-formed non-5xx answers.
3. Random valid-looking phones and codes: every spelling of one number gets
   the same answer; a sent code is the one the console SMS shows and is
   accepted exactly once; wrong or malformed codes get their exact codeStr;
   no number outside +86 is ever sent to.
4. The number of events actually run is at least 3000 (last test).

Defects this fuzzing found are pinned by the regression tests at the end of the file.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import io
import ipaddress
import json
import logging
import re
import types
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, unquote_plus

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsverify.edge.app import PARAMS as READ_PARAMS
from smsverify.edge.handler import create_handler
from smsverify.edge.responses import STATUS
from tests.support import CONSOLE_SMS, EVENTS, FakeClock, answer, load_event

# ---------------------------------------------------------------------------------------------
# The handler under test and the event counter
# ---------------------------------------------------------------------------------------------

WIDE_OPEN = "1000000000"
FUZZ_ENV = {
    "SMS_PROVIDER": "console",
    "CODE_SECRET": "fuzz-code-secret-0123456789abcdef",  # pragma: allowlist secret
    "SEND_INTERVAL_SECONDS": "0",
    "HOURLY_SEND_LIMIT": WIDE_OPEN,
    "DAILY_SEND_LIMIT": WIDE_OPEN,
    "IP_SEND_LIMIT": WIDE_OPEN,
    "GLOBAL_SEND_LIMIT": WIDE_OPEN,
    "DAILY_VERIFY_LIMIT": WIDE_OPEN,
    "UNKNOWN_IP_SEND_LIMIT": WIDE_OPEN,
    "PREFIX_SEND_LIMIT": WIDE_OPEN,
    "IP_VERIFY_LIMIT": WIDE_OPEN,
    "GLOBAL_VERIFY_LIMIT": WIDE_OPEN,
    "PUMPING_WINDOW_SENDS": "0",  # thousands of unused codes to one number block are the fuzz, not pumping
}

#: Events actually passed to the handler, per test; the last test checks the total.
RUN: collections.Counter = collections.Counter()

FUZZ = settings(
    deadline=None,
    # Generation speed depends on the machine (CI is loaded): not what these properties are about.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class _LastError(logging.Handler):
    """Keeps the last ERROR record, to explain an unexpected 5xx."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.text = logging.Formatter().format(record)


LAST_ERROR = _LastError()


@pytest.fixture(scope="module")
def handler() -> Callable[[Any, Any], dict]:
    """One warm ``main_handler`` for the module; its JSON log lines are discarded."""
    with contextlib.redirect_stderr(io.StringIO()):
        main_handler = create_handler(FUZZ_ENV, clock=FakeClock())
    logger = logging.getLogger("smsverify")
    saved = [(h, h.stream) for h in logger.handlers if type(h) is logging.StreamHandler]
    for h, _ in saved:
        h.stream = _Discard()  # not setStream(): that flushes the old stream, maybe a closed capture
    logger.addHandler(LAST_ERROR)
    yield main_handler
    logger.removeHandler(LAST_ERROR)
    for h, stream in saved:
        h.stream = stream


def invoke(handler: Callable, event: Any, context: Any, test: str) -> tuple[dict, str]:
    """Run one event; return the checked body (with ``_status``) and the console SMS text."""
    console = io.StringIO()
    LAST_ERROR.text = ""
    with contextlib.redirect_stderr(console):
        response = handler(event, context)
    RUN[test] += 1
    return checked(response, event, context), console.getvalue()


def checked(response: Any, event: Any, context: Any) -> dict:
    """The properties every answer has, whatever the event; returns the body."""
    assert isinstance(response, dict)
    body = answer(response)  # exact key set, isBase64Encoded False, JSON content type, JSON body
    status = body["_status"]
    assert isinstance(status, int) and not isinstance(status, bool)
    assert status < 500, f"{status} {body.get('codeStr')}: {LAST_ERROR.text}"
    assert {"codeStr", "msg", "requestId"} <= set(body)
    assert body["codeStr"] in STATUS and STATUS[body["codeStr"]] == status
    assert isinstance(body["msg"], str) and body["msg"]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in response["headers"].items())
    # The SCF runtime serialises the return value as UTF-8 JSON.
    json.dumps(response, ensure_ascii=False).encode("utf-8")
    request_id, given_id = body["requestId"], given_request_id(event, context)
    assert isinstance(request_id, str) and 0 < len(request_id) <= 128
    if given_id is not None:
        assert given_id.startswith(request_id) and (request_id == given_id or len(request_id) == 128)
    return body


def given_request_id(event: Any, context: Any) -> str | None:
    """The id the answer must echo: the first non-empty, printable-ASCII one of
    ``requestContext.requestId`` and the context's ``request_id`` (others are
    replaced by a generated UUID)."""
    candidates = []
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        candidates.append(event["requestContext"].get("requestId"))
    candidates.append(context.get("request_id") if isinstance(context, dict) else getattr(context, "request_id", None))
    for rid in candidates:
        if isinstance(rid, str) and rid and rid.isascii() and rid.isprintable():
            return rid
    return None


# ---------------------------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------------------------

METHODS = ("getSms", "login")
PARAMS = ("method", "phone", "code", "ticket", "randstr")
REFUSED = {"InValidParam", "MissingCode"}
#: The answers an untouched event from events/ can get from this handler.
SERVED = {"getSms": {"Ok"}, "login": {"Success", "CodeIsError", "CodeHasValid", "CodeHasExpired"}}


def _decodings(text: str) -> set[str]:
    """``text`` and what form, base64 and JSON decoding could turn it into (two levels)."""
    found = {text}
    for _ in range(2):
        for item in list(found):
            found.add(unquote_plus(item))
            with contextlib.suppress(binascii.Error, ValueError):
                found.add(base64.b64decode(item).decode("latin-1"))
            with contextlib.suppress(ValueError, RecursionError):
                found.add(repr(json.loads(item)))
    return found


def mentions_method(text: str) -> bool:
    return any(m in t for t in _decodings(text) for m in METHODS)


def could_name_method(event: Any) -> bool:
    """Necessary for any answer but InValidParam: ``getSms``/``login`` is in the
    query or, after decoding, in the body."""
    if not isinstance(event, dict):
        return False
    body = event.get("body")
    return any(m in repr(event.get("queryString")) for m in METHODS) or (isinstance(body, str) and mentions_method(body))


def is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def well_formed_code(code: str) -> bool:
    text = code.strip()
    return "\x00" not in code and bool(text) and text.isascii() and text.isdigit() and len(text) <= 16


def expected_login(code: str, real: str | None) -> str:
    """The codeStr of a first login try with ``code`` on a fresh code ``real``."""
    if "\x00" in code:
        return "InValidParam"
    if not code.strip():
        return "MissingCode"
    if not well_formed_code(code):
        return "InValidParam"
    return "Success" if code.strip() == real else "CodeIsError"


# ---------------------------------------------------------------------------------------------
# Strategies: any value
# ---------------------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


EVENT_KEYS = [
    "requestContext", "headers", "body", "path", "queryString", "httpMethod", "isBase64Encoded",
    "queryStringParameters", "headerParameters", "pathParameters", "stageVariables",
    "requestId", "sourceIp", "content-type", "multiValueHeaders", "version", "requestPath",
]
WORDS = [
    "getSms", "login", "8613800138000", "+8613800138000", "13800138000", "123456", "", "true", "false", "True",
    "GET", "POST", "HEAD", "/", "application/json", "application/x-www-form-urlencoded", "203.0.113.7",
    "method=getSms&phone=13800138000", _b64("method=login&phone=13800138000&code=123456"),
    '{"method": "getSms", "phone": "13800138000"}', "2.0",
]
TEXTS = st.text(max_size=40) | st.sampled_from(WORDS)
KEYS = st.sampled_from(EVENT_KEYS + list(PARAMS)) | st.text(max_size=12)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXTS
JSON_LIKE = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=6), max_leaves=30)

HASHABLES = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.binary(max_size=8) | st.tuples(st.integers())
ODD_LEAVES = (
    st.binary(max_size=40) | st.builds(bytearray, st.binary(max_size=8)) | st.builds(object) | st.complex_numbers()
    | st.decimals() | st.fractions() | st.sets(HASHABLES, max_size=4) | st.frozensets(HASHABLES, max_size=4)
    | st.sampled_from([Ellipsis, int, len, b"getSms", range(3)])
)
PY_VALUES = st.recursive(
    SCALARS | ODD_LEAVES,
    lambda c: (
        st.lists(c, max_size=4) | st.tuples(c, c) | st.dictionaries(KEYS | HASHABLES, c, max_size=6)
        | st.builds(types.MappingProxyType, st.dictionaries(KEYS, c, max_size=4))
        | st.builds(collections.OrderedDict, st.dictionaries(KEYS, c, max_size=4))
    ),
    max_leaves=30,
)
#: Dicts shaped like events, each field mostly right and sometimes wrong or missing,
#: so that the handler is also driven past the edge into the service.
PARAM_VALUES = st.sampled_from(["getSms", "login", "13800138000", "+8613800138000", "123456", "abc", ""]) | TEXTS


def _mostly(good: st.SearchStrategy, bad: st.SearchStrategy = JSON_LIKE) -> st.SearchStrategy:
    """``good`` nine times in ten, else ``bad``."""
    return st.integers(0, 9).flatmap(lambda i: good if i else bad)


QUERY_LIKE = st.fixed_dictionaries(
    {"method": _mostly(st.sampled_from(METHODS), TEXTS),
     "phone": _mostly(st.sampled_from(["13800138000", "+8613800138000", "8613800138000"]), TEXTS)},
    optional={"code": st.sampled_from(["123456", " 123456", ""]) | TEXTS, "x": TEXTS},
)


EVENT_LIKE = st.fixed_dictionaries(
    {"queryString": _mostly(QUERY_LIKE, st.dictionaries(st.sampled_from(PARAMS) | st.text(max_size=8), PARAM_VALUES | st.lists(PARAM_VALUES, max_size=2), max_size=4) | JSON_LIKE)},
    optional={
        "body": _mostly(st.just("") | TEXTS | QUERY_LIKE.map(json.dumps)),
        "headers": _mostly(st.dictionaries(st.sampled_from(["content-type", "host", "accept"]) | st.text(max_size=8), TEXTS, max_size=3)),
        "isBase64Encoded": _mostly(st.sampled_from([True, False, "true", "false", None])),
        "httpMethod": _mostly(st.sampled_from(["GET", "POST", "get", "PUT"])),
        "path": _mostly(st.sampled_from(["/", "/sms", ""])),
        "requestContext": _mostly(st.fixed_dictionaries({}, optional={"requestId": TEXTS, "sourceIp": TEXTS})),
    },
)
ANY_VALUE = JSON_LIKE | PY_VALUES | EVENT_LIKE
CONTEXTS = st.just({}) | st.none() | st.fixed_dictionaries({"request_id": TEXTS}) | JSON_LIKE


# ---------------------------------------------------------------------------------------------
# Strategies: mutated real events
# ---------------------------------------------------------------------------------------------

BASES = sorted(p.name for p in EVENTS.glob("*.json"))
SERVED_AS_IS, BROKEN, ANYTHING = "served", "broken", "any"
HEADER_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


def breaks_header(*texts: str) -> bool:
    """CR, LF and NUL are not allowed in header fields (RFC 9110 5.5) nor in the
    path: an event carrying one there is refused."""
    return any(c in text for text in texts for c in "\r\n\x00")
PLAIN_TEXT = st.text(max_size=80).filter(lambda s: not mentions_method(s))
LATIN1_BYTES = st.binary(max_size=120).map(lambda b: b.decode("latin-1")).filter(lambda s: not mentions_method(s))
HUGE = st.sampled_from(["9", "a", "中", "%", "+", " ", "&", "=", "\x00"]).map(lambda c: c * 100_000)
TRUE_FLAGS = st.sampled_from([True, "true", "True"])


@dataclass
class Mutant:
    name: str
    event: dict
    expect: str  # SERVED_AS_IS | BROKEN | ANYTHING
    method: str  # the method of the untouched event


def _wrong_type(field: str) -> st.SearchStrategy:
    """Values ``field`` must refuse."""
    accepted: dict[str, Callable[[Any], bool]] = {
        "headers": lambda v: v is None or isinstance(v, dict),
        "queryString": lambda v: v is None or isinstance(v, dict) or (isinstance(v, str) and v == ""),
        "body": lambda v: v is None or isinstance(v, str),
        "isBase64Encoded": lambda v: v is None or isinstance(v, bool) or (isinstance(v, str) and v in ("true", "false", "True", "False")),
        "httpMethod": lambda v: isinstance(v, str),
        "path": lambda v: isinstance(v, str),
    }
    return ANY_VALUE.filter(lambda v: not accepted[field](v))


def _body_text(event: dict) -> str:
    body = event.get("body") or ""
    return base64.b64decode(body).decode() if event.get("isBase64Encoded") in (True, "true") else body


def _set_body_text(event: dict, text: str) -> None:
    event["body"] = _b64(text) if event.get("isBase64Encoded") in (True, "true") else text


def _body_params(event: dict) -> dict[str, str]:
    text = _body_text(event)
    if not text:
        return {}
    return json.loads(text) if text.lstrip().startswith("{") else dict(parse_qsl(text))


def _content_type_key(event: dict) -> str:
    return next((k for k in event["headers"] if k.lower() == "content-type"), "content-type")


# Each mutation changes ``event`` in place and returns what the answer must be.
def m_identity(draw, event, in_query, method):
    return SERVED_AS_IS


def m_wrong_type_shape(draw, event, in_query, method):
    field = draw(st.sampled_from(["headers", "queryString", "body", "isBase64Encoded", "httpMethod", "path"]))
    event[field] = draw(_wrong_type(field))
    return BROKEN


def m_wrong_type_entry(draw, event, in_query, method):
    where = draw(st.sampled_from(["headers", "queryString"]))
    key = draw(st.sampled_from(sorted(event[where]) + ["method", "x-new"]))
    event[where][key] = draw(ANY_VALUE.filter(
        lambda v: not isinstance(v, str) and not (where == "queryString" and isinstance(v, list) and all(isinstance(i, str) for i in v))
    ))
    return BROKEN


def m_wrong_type_ignored(draw, event, in_query, method):
    """Fields the function does not read (or only reads when well typed) stay harmless."""
    field = draw(st.sampled_from([
        "requestContext", "queryStringParameters", "headerParameters", "pathParameters", "stageVariables",
        "multiValueHeaders", "multiValueQueryStringParameters", "version", "requestPath", "source", "x-unknown",
        "requestContext.requestId", "requestContext.identity", "requestContext.elb",
    ]))
    value = draw(ANY_VALUE)
    if field.startswith("requestContext."):
        event.setdefault("requestContext", {})[field.split(".", 1)[1]] = value
    else:
        event[field] = value
    if field == "requestContext" and isinstance(value, dict):
        return _source_ip_expectation(value.get("sourceIp"))  # the one requestContext field that is checked
    return SERVED_AS_IS


def m_drop(draw, event, in_query, method):
    field = draw(st.sampled_from(["headers", "requestContext", "queryString", "body", "httpMethod", "path", "isBase64Encoded"]))
    base64_body = event.get("isBase64Encoded") in (True, "true")
    event.pop(field, None)
    if field == "queryString":
        return BROKEN if in_query else SERVED_AS_IS
    if field == "body":
        return SERVED_AS_IS if in_query else BROKEN
    if field == "isBase64Encoded":
        return BROKEN if base64_body else SERVED_AS_IS
    return SERVED_AS_IS


def m_body_text(draw, event, in_query, method):
    event["body"] = draw(PLAIN_TEXT | LATIN1_BYTES)
    return ANYTHING if in_query else BROKEN


def m_body_not_utf8(draw, event, in_query, method):
    raw = draw(st.binary(min_size=1, max_size=120).filter(lambda b: not is_utf8(b)))
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), draw(TRUE_FLAGS)
    return BROKEN


def m_body_not_base64(draw, event, in_query, method):
    event["body"] = draw(st.text(min_size=1, max_size=80).filter(lambda s: not is_base64(s)))
    event["isBase64Encoded"] = draw(TRUE_FLAGS)
    return BROKEN


def m_huge(draw, event, in_query, method):
    target, value = draw(st.sampled_from(["body", "method", "phone", "code", "path", "header", "requestId", "query", "sourceIp"])), draw(HUGE)
    if target == "body":
        event["body"] = value
        return BROKEN
    if target in PARAMS:
        event["queryString"][target] = value
        return BROKEN
    if target == "path":
        event["path"] = "/" + value
        return BROKEN
    if target == "header":  # beyond any gateway's header size: refused, even in an unknown header
        event["headers"]["x-huge"] = value.replace("\x00", "0")
        return BROKEN
    if target == "query":  # likewise for an unknown query parameter
        event["queryString"]["x-huge"] = value
        return BROKEN
    event.setdefault("requestContext", {})[target] = value  # cut (requestId) or refused (sourceIp: not an address)
    return BROKEN if target == "sourceIp" else SERVED_AS_IS


def m_source_ip(draw, event, in_query, method):
    """``requestContext.sourceIp``: an address (normalised), absent/empty, or anything else (refused)."""
    value = draw(ANY_VALUE | st.ip_addresses().map(str))
    event.setdefault("requestContext", {})["sourceIp"] = value
    return _source_ip_expectation(value)


def _source_ip_expectation(value: Any) -> str:
    if value is None or value == "":
        return SERVED_AS_IS
    if not isinstance(value, str):
        return BROKEN
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return BROKEN
    return SERVED_AS_IS if len(value) <= 64 else BROKEN


def m_duplicate_in_query(draw, event, in_query, method):
    event["queryString"][draw(st.sampled_from(PARAMS))] = draw(st.lists(TEXTS, min_size=2, max_size=4))
    return BROKEN


def m_single_item_lists(draw, event, in_query, method):
    event["queryString"] = {k: [v] for k, v in event["queryString"].items()}
    return SERVED_AS_IS


def m_duplicate_in_body(draw, event, in_query, method):
    """A parameter twice in a form or JSON body (or, for GET events, in query and body)."""
    key = draw(st.sampled_from(PARAMS))
    first, second = draw(TEXTS), draw(TEXTS)
    content_type = event["headers"].get("content-type", "")
    if "form" in content_type:
        _set_body_text(event, _body_text(event) + f"&{key}={quote(first)}&{key}={quote(second)}")
    elif "json" in content_type:
        pairs = f"{json.dumps(key)}: {json.dumps(first)}, {json.dumps(key)}: {json.dumps(second)}, "
        _set_body_text(event, "{" + pairs + _body_text(event).lstrip()[1:])
    elif in_query:
        event["body"] = f"{quote(key)}={quote(first)}"
        event["queryString"][key] = second
    else:
        key = draw(st.sampled_from(sorted(_body_params(event))))
        event["queryString"][key] = second
    return BROKEN


def m_random_query(draw, event, in_query, method):
    event["queryString"] = draw(
        st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=8).filter(lambda d: not mentions_method(repr(d)))
    )
    return BROKEN if in_query else ANYTHING


def m_extra_query(draw, event, in_query, method):
    # Names the function does not read (scene and wxCode are read: a random scene is refused).
    extra = draw(st.dictionaries(st.text(max_size=12).filter(lambda k: k not in READ_PARAMS), st.text(max_size=30), max_size=8))
    event["queryString"] = {**extra, **event["queryString"]}
    return SERVED_AS_IS


def m_random_method(draw, event, in_query, method):
    event["queryString"]["method"] = draw(TEXTS.filter(lambda s: s not in METHODS))
    return BROKEN


def m_random_phone(draw, event, in_query, method):
    phone = draw(st.text(max_size=40) | st.from_regex(r"\+?[0-9 ()-]{0,20}", fullmatch=True))
    event["queryString"]["phone"] = phone
    cannot_be_mobile = sum(ch.isalnum() for ch in phone) < 11  # a CN mobile has 11 national digits
    return BROKEN if not in_query or cannot_be_mobile else ANYTHING


def m_random_code(draw, event, in_query, method):
    code = draw(st.text(max_size=24) | st.from_regex(r"\s*[0-9]{0,12}\s*", fullmatch=True))
    event["queryString"]["code"] = code
    if method != "login":
        return ANYTHING
    return BROKEN if not in_query or not well_formed_code(code) else ANYTHING


def m_content_type(draw, event, in_query, method):
    read = ("application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data")
    odd = st.from_regex(r"[a-z]{1,12}/[a-z0-9.+-]{1,20}", fullmatch=True).filter(lambda t: t not in read)
    value = draw(odd | HEADER_TEXT)
    event["headers"][_content_type_key(event)] = value
    if breaks_header(value):
        return BROKEN
    if in_query:
        return SERVED_AS_IS  # no body to read
    if value.partition(";")[0].strip().lower() in read:
        return ANYTHING  # a type the function reads, whatever the body really is
    return BROKEN if re.fullmatch(r"[a-z]{1,12}/[a-z0-9.+-]{1,20}", value) else ANYTHING


def m_base64_flag(draw, event, in_query, method):
    if event.get("isBase64Encoded") in (True, "true"):
        event["isBase64Encoded"] = draw(st.sampled_from([False, "false", "False", None]))
        return BROKEN
    event["isBase64Encoded"] = draw(TRUE_FLAGS)
    return BROKEN if event.get("body") else SERVED_AS_IS


def m_http_method(draw, event, in_query, method):
    value = draw(st.text(max_size=20) | st.sampled_from(["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"]))
    event["httpMethod"] = value
    return SERVED_AS_IS if value.upper() in ("GET", "POST") else BROKEN  # HEAD/OPTIONS/...: never run the protocol


def m_path(draw, event, in_query, method):
    event["path"] = path = draw(st.text(max_size=60) | st.sampled_from(["/", "/sms", "/test/{path}", "sms", "/%ZZ", "/a?b=c"]))
    return BROKEN if breaks_header(path) else SERVED_AS_IS


def m_extra_headers(draw, event, in_query, method):
    names = st.sampled_from([
        "x-forwarded-for", "host", "Host", "x-forwarded-proto", "x-forwarded-port", "cookie", "content-length",
        "x-request-id", "authorization", "accept", "user-agent", "expect", "connection", "x-real-ip",
    ]) | st.text(max_size=20)
    extra = draw(st.dictionaries(names.filter(lambda n: n.lower() != "content-type"), HEADER_TEXT, max_size=5))
    event["headers"].update(extra)
    return BROKEN if breaks_header(*extra, *extra.values()) else SERVED_AS_IS


MUTATIONS = [
    m_identity, m_source_ip, m_wrong_type_shape, m_wrong_type_entry, m_wrong_type_ignored, m_drop, m_body_text, m_body_not_utf8,
    m_body_not_base64, m_huge, m_duplicate_in_query, m_single_item_lists, m_duplicate_in_body, m_random_query,
    m_extra_query, m_random_method, m_random_phone, m_random_code, m_content_type, m_base64_flag, m_http_method,
    m_path, m_extra_headers,
]


@st.composite
def mutants(draw) -> Mutant:
    name = draw(st.sampled_from(BASES))
    event = load_event(name)
    method = "login" if name.startswith("login") else "getSms"
    mutation = draw(st.sampled_from(MUTATIONS))
    expect = mutation(draw, event, bool(event.get("queryString")), method)
    return Mutant(f"{mutation.__name__} on {name}", event, expect, method)


# ---------------------------------------------------------------------------------------------
# Strategies: valid-looking phones and codes
# ---------------------------------------------------------------------------------------------

CN_NATIONAL = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
CODES = st.from_regex(r"[0-9]{1,10}", fullmatch=True) | st.from_regex(r"\s{0,2}[0-9]{6}\s{0,2}", fullmatch=True) | st.text(max_size=12)
ANY_DIGITS = st.from_regex(r"\+?[0-9][0-9 -]{0,18}", fullmatch=True)


def spellings(national: str) -> list[str]:
    """The accepted spellings of one CN mobile number: E.164, the demo's form, national, spaced."""
    return [f"+86{national}", f"86{national}", national, f"+86 {national[:3]} {national[3:7]} {national[7:]}"]


def query_event(**query: str) -> dict:
    return load_event("get_sms.json" if query["method"] == "getSms" else "login.json", **query)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=2000)
@given(event=ANY_VALUE, context=CONTEXTS)
def test_any_value_as_event_gets_an_integration_response(handler, event, context):
    before = repr(event)
    body, _ = invoke(handler, event, context, "any_value")
    hypothesis.event(f"{type(event).__name__}: {body['codeStr']}")  # --hypothesis-show-statistics
    if not could_name_method(event):
        assert (body["codeStr"], body["_status"]) == ("InValidParam", 400)
    assert repr(event) == before, "the handler must not change the event it was given"


@settings(FUZZ, max_examples=2500)
@given(mutant=mutants())
def test_mutated_real_events_are_refused_or_served(handler, mutant):
    hypothesis.event(f"{mutant.name.split(' on ')[0]}: {mutant.expect}")  # --hypothesis-show-statistics
    body, _ = invoke(handler, mutant.event, {}, "mutants")
    outcome = (mutant.name, body["codeStr"], body["_status"])
    if mutant.expect == BROKEN:
        assert body["_status"] == 400 and body["codeStr"] in REFUSED, outcome
    elif mutant.expect == SERVED_AS_IS:
        assert body["codeStr"] in SERVED[mutant.method], outcome


@settings(FUZZ, max_examples=300)
@given(national=CN_NATIONAL, code=CODES, login_as=st.integers(0, 3))
def test_valid_looking_phones_and_codes_get_exact_answers(handler, national, code, login_as):
    phones = spellings(national)
    sends = [invoke(handler, query_event(method="getSms", phone=p), {}, "phones") for p in phones]
    outcomes = {body["codeStr"] for body, _ in sends}
    assert len(outcomes) == 1 and outcomes <= {"Ok", "InValidParam"}, (national, outcomes)
    consoles = [CONSOLE_SMS.findall(console) for _, console in sends]
    if outcomes == {"InValidParam"}:
        assert consoles == [[], [], [], []]
        body, _ = invoke(handler, query_event(method="login", phone=phones[login_as], code=code), {}, "phones")
        assert body["codeStr"] == "InValidParam"
        return
    assert all(len(sms) == 1 and sms[0][0] == f"+86{national}" for sms in consoles), "one SMS per send, to E.164"
    real = consoles[-1][0][1]  # the last send replaced the earlier codes
    first, _ = invoke(handler, query_event(method="login", phone=phones[login_as], code=code), {}, "phones")
    assert first["codeStr"] == expected_login(code, real)
    if first["codeStr"] == "CodeIsError":
        assert first["attemptsLeft"] == 2
    second, _ = invoke(handler, query_event(method="login", phone=phones[-1 - login_as], code=real), {}, "phones")
    assert second["codeStr"] == ("CodeHasExpired" if first["codeStr"] == "Success" else "Success")
    replay, _ = invoke(handler, query_event(method="login", phone=phones[login_as], code=real), {}, "phones")
    assert replay["codeStr"] == "CodeHasExpired"


@settings(FUZZ, max_examples=400)
@given(phone=ANY_DIGITS | st.text(max_size=20))
def test_only_chinese_mobiles_are_ever_sent_to(handler, phone):
    body, console = invoke(handler, query_event(method="getSms", phone=phone), {}, "any_phone")
    assert body["codeStr"] in {"Ok", "InValidParam"}
    sent = CONSOLE_SMS.findall(console)
    if body["codeStr"] == "Ok":
        assert len(sent) == 1 and re.fullmatch(r"\+861[0-9]{10}", sent[0][0]), sent[0][0] if sent else None
    else:
        assert sent == []


# ---------------------------------------------------------------------------------------------
# Defects found by this fuzzing, pinned as regression tests
# ---------------------------------------------------------------------------------------------


def _get_sms_with(**change: Any) -> dict:
    event = load_event("get_sms.json")
    for path, value in change.items():
        target = event
        *parents, leaf = path.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return event


def _raw_call(handler, event, context=None) -> tuple[dict, str]:
    console = io.StringIO()
    with contextlib.redirect_stderr(console):
        response = handler(event, {} if context is None else context)
    return response, console.getvalue()


@pytest.mark.parametrize("header, value", [("x-note", "a\nb"), ("x-note", "a\r"), ("content-type", "application/json\r\n")])
def test_header_value_with_a_line_break_is_refused(handler, header, value):
    response, console = _raw_call(handler, _get_sms_with(**{f"headers__{header}": value}))
    assert response["statusCode"] == 400 and json.loads(response["body"])["codeStr"] == "InValidParam"
    assert console == ""


@pytest.mark.parametrize("where, value", [
    pytest.param("path", "/a\ud800", id="path"),
    pytest.param("queryString__phone", "\ud800", id="phone"),
    pytest.param("queryString__zzz", "\ud800", id="unknown-param-value"),
    pytest.param("queryString__x\ud800", "v", id="param-name"),
    pytest.param("headers__content-type", "text/\ud800", id="content-type"),
])
def test_lone_surrogate_in_the_event_is_refused(handler, where, value):
    response, console = _raw_call(handler, _get_sms_with(**{where: value}))
    assert response["statusCode"] == 400 and json.loads(response["body"])["codeStr"] == "InValidParam"
    assert console == ""


@pytest.mark.parametrize("source", ["event", "context"])
def test_request_id_that_is_not_utf8_does_not_break_the_answer(handler, source):
    if source == "event":
        response, console = _raw_call(handler, _get_sms_with(requestContext__requestId="req-\ud800"))
    else:
        response, console = _raw_call(handler, "not an event", {"request_id": "req-\udc80"})
    json.dumps(response, ensure_ascii=False).encode("utf-8")
    assert response["statusCode"] < 500


def test_head_request_gets_a_json_answer_and_sends_nothing(handler):
    response, console = _raw_call(handler, _get_sms_with(httpMethod="HEAD"))
    assert json.loads(response["body"])["codeStr"] == "InValidParam"
    assert CONSOLE_SMS.findall(console) == []


def test_transfer_encoding_header_does_not_drop_the_body(handler):
    event = load_event("get_sms_post_form.json")
    event["headers"]["transfer-encoding"] = "chunked"
    response, console = _raw_call(handler, event)
    assert json.loads(response["body"])["codeStr"] == "Ok"
    assert len(CONSOLE_SMS.findall(console)) == 1


# ---------------------------------------------------------------------------------------------
# Last: the "thousands of events" claim
# ---------------------------------------------------------------------------------------------


def test_thousands_of_generated_events_were_run():
    if not RUN:
        pytest.skip("no property test of this module ran in this session (deselected)")
    assert set(RUN) == {"any_value", "mutants", "phones", "any_phone"}, RUN
    assert sum(RUN.values()) >= 3000, RUN
