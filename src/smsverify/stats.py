"""``python -m smsverify stats``: the conversion counters, as a table, JSON or an HTML page.

Reads the hourly counters (:mod:`smsverify.store.metrics`) from the Redis the
function uses (``REDIS_URL`` or ``REDIS_HOST`` ..., ``REDIS_CLUSTER``, as
:meth:`smsverify.settings.config.Settings.from_env` reads them) and groups them
``--by`` country, number block (``prefix``), provider or scene, with:

- ``sent``, ``delivered``, ``failed``, ``verified``: counted as they happened;
- ``expired`` (expired unused): ``sent - verified`` of the hours whose codes
  have all expired (the hour ended more than ``CODE_TTL_SECONDS`` ago), so a
  code still alive is never counted as lost;
- ``conversion``: verified / sent;
- ``spend``: sent x ``SMS_PRICE`` of (provider, country), CNY; a provider or
  country without a price counts 0 and is named in ``unpriced``.

``--html FILE`` writes one self-contained page (no script, no network): the
table and a chart of sent, delivered and verified per hour, an inline SVG made
with pygal (``pip install 'smsverify[stats]'``).
"""

from __future__ import annotations

import html
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from smsverify.store.metrics import EVENTS, Counts, Row, read_counters

GROUPS = ("country", "prefix", "provider", "scene")


@dataclass
class Group:
    """The counts of one group over the hours read."""

    name: str
    counts: Counts = field(default_factory=Counts)
    expired: int = 0
    spend: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        conversion = self.counts.conversion
        return {"name": self.name, **{event: getattr(self.counts, event) for event in EVENTS},
                "expired": self.expired, "conversion": None if conversion is None else round(conversion, 4),
                "spend": round(self.spend, 4)}


@dataclass
class Report:
    """What ``stats`` shows: the groups, the hourly series and the spend."""

    by: str
    hours: int
    groups: list[Group]
    hourly: list[tuple[datetime, Counts, float]]  #: (hour start, counts, spend CNY), oldest first
    unpriced: list[str]  #: ``provider:country`` pairs sent to without an ``SMS_PRICE``

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by, "hours": self.hours, "groups": [g.as_dict() for g in self.groups],
            "hourly": [{"hour": hour.isoformat(), **{e: getattr(c, e) for e in EVENTS}, "spend": round(spend, 4)}
                       for hour, c, spend in self.hourly],
            "spend": round(sum(spend for _, _, spend in self.hourly), 4), "unpriced": self.unpriced,
        }


def _group_name(row: Row, by: str) -> str:
    return {"country": row.country, "prefix": row.block, "provider": row.provider, "scene": row.scene}[by]


def build_report(rows: Sequence[Row], *, by: str, hours: int, now: datetime, code_ttl_seconds: int,
                 prices: Mapping[tuple[str, str], float]) -> Report:
    """Group ``rows`` (from :func:`smsverify.store.metrics.read_counters`) ``by`` one of :data:`GROUPS`."""
    groups: dict[str, Group] = {}
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    hourly = {start + timedelta(hours=h): [Counts(), 0.0] for h in range(hours)}
    unpriced: set[str] = set()
    settled = now - timedelta(seconds=code_ttl_seconds)
    for row in rows:
        group = groups.setdefault(_group_name(row, by), Group(_group_name(row, by)))
        group.counts.add(row.counts)
        if row.hour + timedelta(hours=1) <= settled:
            group.expired += max(0, row.counts.sent - row.counts.verified)
        price = prices.get((row.provider, row.country), prices.get((row.provider, "*")))
        if price is None and row.counts.sent:
            unpriced.add(f"{row.provider}:{row.country}")
        spend = (price or 0.0) * row.counts.sent
        group.spend += spend
        slot = hourly.get(row.hour)
        if slot is not None:
            slot[0].add(row.counts)
            slot[1] += spend
    ordered = sorted(groups.values(), key=lambda g: (-g.counts.sent, g.name))
    return Report(by, hours, ordered, [(hour, c, s) for hour, (c, s) in sorted(hourly.items())], sorted(unpriced))


def table(report: Report) -> str:
    """The report as a text table, one line per group, then the total."""
    head = [report.by, "sent", "delivered", "failed", "verified", "expired", "conversion", "spend"]
    total = Group("total")
    lines = []
    for g in report.groups:
        total.counts.add(g.counts)
        total.expired += g.expired
        total.spend += g.spend
        lines.append(g)
    cells = [head] + [_cells(g) for g in lines + [total]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    out.insert(1, "  ".join("-" * w for w in widths))
    out.insert(len(out) - 1, "  ".join("-" * w for w in widths))
    note = f"last {report.hours} h, Asia/Shanghai hours; spend in CNY from SMS_PRICE"
    if report.unpriced:
        note += f" (no price for {', '.join(report.unpriced)})"
    return "\n".join(out + [note])


def _cells(g: Group) -> list[str]:
    conversion = g.counts.conversion
    return [g.name, str(g.counts.sent), str(g.counts.delivered), str(g.counts.failed), str(g.counts.verified),
            str(g.expired), "-" if conversion is None else f"{conversion:.1%}", f"{g.spend:.2f}"]


def chart_svg(report: Report) -> str:
    """Sent, delivered and verified per hour as an inline SVG (pygal), without its tooltip script.

    Raises ImportError when pygal is not installed.
    """
    import sys

    import pygal

    # pygal appends a legacy meta-path finder for its map plugins (find_module only), which makes every
    # later failed import in the process warn (ImportWarning); this chart needs no map plugin.
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__module__ != "pygal"]
    chart = pygal.Line(title="SMS verification codes per hour", x_label_rotation=30, show_dots=True,
                       disable_xml_declaration=True, js=[], width=900, height=380, explicit_size=True)
    chart.x_labels = [hour.strftime("%m-%d %H:00") for hour, _, _ in report.hourly]
    for event in ("sent", "delivered", "verified"):
        chart.add(event, [getattr(c, event) for _, c, _ in report.hourly])
    return chart.render(is_unicode=True)


def page(report: Report) -> str:
    """One self-contained HTML page: the chart and the table."""
    data = html.escape(json.dumps(report.as_dict(), ensure_ascii=False))
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smsverify stats</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}</style></head><body>\n"
        f"<h1>smsverify: last {report.hours} h by {report.by}</h1>\n{chart_svg(report)}\n"
        f"<pre>{html.escape(table(report))}</pre>\n"
        f"<script type=\"application/json\" id=\"data\">{data}</script>\n</body></html>\n"
    )


def run(args: Any, env: Mapping[str, str] | None = None, now: float | None = None) -> int:
    """The ``stats`` command; exit 2 on a configuration error or when Redis cannot be read."""
    import os

    import redis

    from smsverify.settings.config import Settings
    from smsverify.errors import ConfigError
    from smsverify.store.connection import connect

    if not 1 <= args.hours <= 24 * 366:
        print("smsverify: --hours must be between 1 and 8784", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(os.environ if env is None else env)
    except ConfigError as exc:
        print(f"smsverify: configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.redis_url is None:
        print("smsverify: set REDIS_URL (or REDIS_HOST) to the function's Redis to read its counters", file=sys.stderr)
        return 2
    now_s = time.time() if now is None else now
    client = connect(settings.redis_url, cluster=settings.redis_cluster, timeout_seconds=settings.redis_timeout_seconds)
    try:
        rows, _ = read_counters(client, int(now_s * 1000), args.hours)
    except redis.RedisError as exc:
        print(f"smsverify: cannot read the counters from Redis: {type(exc).__name__}", file=sys.stderr)
        return 2
    from smsverify.clock import CHINA_TZ

    report = build_report(rows, by=args.by, hours=args.hours, now=datetime.fromtimestamp(now_s, CHINA_TZ),
                          code_ttl_seconds=settings.code_ttl_seconds, prices=settings.insight.sms_prices)
    if args.html:
        try:
            text = page(report)
        except ImportError:
            print("smsverify: --html needs pygal: pip install 'smsverify[stats]'", file=sys.stderr)
            return 2
        with open(args.html, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else table(report))
    return 0
