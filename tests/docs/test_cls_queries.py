"""The CLS queries of docs/operations.md ("CLS queries") run against the invocation lines the function writes.

CLS is not reachable from a test, so each query's SQL (the part after ``* |``) runs in SQLite with
``FROM log`` added, over a table holding the invocation lines that real traffic through ``main_handler``
wrote on stderr (one column per field; a field a line lacks is NULL, as in CLS). The queries use only SQL
that CLS and SQLite share (CASE, sum, count, round, nullif, double-quoted names), and each answer is
checked against the traffic that was sent.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path

from smsverify.edge.handler import create_handler
from smsverify.observability import JsonFormatter
from tests.support import answer, get_sms, last_code, login, wrong

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def queries() -> list[str]:
    text = DOC.read_text(encoding="utf-8").split("### CLS queries", 1)[1]
    return [sql.strip() for sql in re.findall(r"```sql\n\* \| (.*?)\n```", text, re.S)]


def as_sqlite(sql: str) -> str:
    return re.sub(r" WHERE ", " FROM log WHERE ", sql, count=1)


#: The fields the doc tells to index in CLS (a field no line carried is still a column, NULL throughout).
INDEXED = ("method", "codeStr", "country", "prefix", "provider", "delivery", "replayed", "reason", "route")


def table(lines: list[dict]) -> sqlite3.Connection:
    columns = sorted({key for line in lines for key in line} | set(INDEXED))
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE log ({', '.join(json.dumps(c) for c in columns)})")
    for line in lines:
        values = [line.get(c) if not isinstance(line.get(c), (list, dict, bool)) else json.dumps(line.get(c))
                  for c in columns]
        db.execute(f"INSERT INTO log VALUES ({', '.join('?' for _ in columns)})", values)
    return db


class Lines(logging.Handler):
    """The JSON lines the function writes (its own formatter), kept in memory."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_the_documented_cls_queries_answer_for_the_traffic_sent(redis_url, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, SMS_PRICE="tencent:86=0.045"), clock=clock)
    written = Lines()
    logging.getLogger("smsverify").addHandler(written)
    try:
        send_traffic(handler, sms_api)
    finally:
        logging.getLogger("smsverify").removeHandler(written)
    lines = [json.loads(line) for line in written.lines]
    lines = [line for line in lines if line.get("message") == "invocation"]
    assert len(lines) == 8 and all("prefix" in line and "country" in line for line in lines)
    db = table(lines)

    by_country, by_prefix, refusals, spend = queries()
    assert db.execute(as_sqlite(by_country)).fetchall() == [(86, 4, 2, 0.5)]
    assert db.execute(as_sqlite(by_prefix)).fetchall() == [("86:1380013", 2, 1, 0.5), ("86:1390000", 2, 1, 0.5)]
    assert db.execute(as_sqlite(refusals)).fetchall() == [("getSms", "TooFrequent", None, 1), ("login", "CodeIsError", None, 1)]
    assert db.execute(as_sqlite(spend)).fetchall() == [("tencent", 86, 4, 0.18)]


def send_traffic(handler, sms_api) -> None:
    """Four codes sent to two blocks, one resend refused, two used, one wrong code."""
    for i, phone in enumerate(["8613800138000", "8613800138001", "8613900000001", "8613900000002"]):
        assert answer(handler(get_sms(phone, ip=f"203.0.113.{i + 1}"), {}))["codeStr"] == "Ok"
    assert answer(handler(get_sms("8613800138000", ip="203.0.113.9"), {}))["codeStr"] == "TooFrequent"
    assert answer(handler(login("8613800138000", last_code(sms_api, "+8613800138000")), {}))["codeStr"] == "Success"
    assert answer(handler(login("8613900000001", last_code(sms_api, "+8613900000001")), {}))["codeStr"] == "Success"
    assert answer(handler(login("8613900000002", wrong(last_code(sms_api, "+8613900000002"))), {}))["codeStr"] == "CodeIsError"
