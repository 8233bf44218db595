"""Issue 20, items 3-6: conversion counters, pumping caught by conversion, spend, ``stats``.

Everything through ``main_handler`` on a real redis-server (and the real
3-master cluster), the Tencent Cloud emulator sending the SMS and checking the
captcha tickets:

* a getSms counts ``sent`` (in its hour, number block, provider and scene), a
  right login ``verified`` in the send's bucket, a receipt ``delivered``, and
  a send the provider refused counts nothing; the same on the cluster;
* a pumping pattern (many sends to one block, none verified) mixed with
  normal traffic (4 of 5 codes verified) steps the pumped block up to a
  captcha once its window is full, then refuses it (``PrefixLimitExceeded``,
  ``reason: conversion``) after a few more sends with tickets, each change
  logged once as a WARNING; the normal blocks are never asked for anything;
* ``SPEND_ALERT_PER_HOUR`` logs one ERROR in the hour it is passed;
* ``python -m smsverify stats`` prints the table, ``--json`` and ``--html``
  (a page with an inline ``<svg>``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from smsverify.edge.handler import create_handler
from smsverify.store.metrics import read_counters
from tests.support import answer, get_sms, last_code, login
from tests.support.logs import capture_all_logs

RECEIPT_PATH = "/sms/receipts/Zq8xW1vT5yK2pL9sNc3R"  # pragma: allowlist secret
BLACKLISTED = "FailedOperation.SignatureIncorrectOrUnapproved"
CAPTCHA_ENV = {"CAPTCHA_APP_ID": "190000000", "CAPTCHA_APP_SECRET_KEY": "captcha-test-key", "CAPTCHA_MODE": "adaptive"}
PUMPED = "86:1380013"
NORMAL = ("86:1390000", "86:1370000", "86:1500000")


def receipt(sms_api, serial: str) -> dict:
    body = sms_api.callback_body(serial)
    return {"httpMethod": "POST", "path": RECEIPT_PATH, "headers": {"content-type": "application/json"},
            "body": body, "queryString": {}, "requestContext": {"requestId": "cb", "sourceIp": "198.51.100.20"}}


def counts(client, now: float, hours: int = 2) -> dict[tuple[str, str, str], dict[str, int]]:
    rows, _ = read_counters(client, int(now * 1000), hours)
    found: dict[tuple[str, str, str], dict[str, int]] = {}
    for row in rows:
        into = found.setdefault((row.block, row.provider, row.scene), Counter())
        for event in ("sent", "delivered", "failed", "verified"):
            into[event] += getattr(row.counts, event)
    return {key: {k: v for k, v in value.items() if v} for key, value in found.items()}


def exercise(handler, sms_api, clock) -> None:
    """getSms + right login, getSms never used, a receipt, a send the provider refuses."""
    assert answer(handler(get_sms("8613800138000", ip="203.0.113.1"), {}))["codeStr"] == "Ok"
    serial = sms_api.sent[-1]["serial_no"]
    assert answer(handler(login("8613800138000", last_code(sms_api, "+8613800138000")), {}))["codeStr"] == "Success"
    assert answer(handler(get_sms("8613800138001", ip="203.0.113.2"), {}))["codeStr"] == "Ok"
    assert handler(receipt(sms_api, serial), {})["statusCode"] == 200
    sms_api.sms_number_error = BLACKLISTED
    assert answer(handler(get_sms("8613800138002", ip="203.0.113.3"), {}))["codeStr"] == "SmsSendFailed"
    sms_api.sms_number_error = None


EXPECTED = {
    (PUMPED, "tencent", "login"): {"sent": 2, "verified": 1},
    (PUMPED, "tencent", "-"): {"delivered": 1},  # a receipt does not know the scene
}


def test_counters_on_a_single_server(redis_url, redis_server, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, RECEIPT_PATH=RECEIPT_PATH), clock=clock)
    exercise(handler, sms_api, clock)
    client = redis_server.client()
    assert counts(client, clock.now) == EXPECTED
    # bounded: every counter hash has a TTL of METRICS_RETENTION_DAYS (7 days)
    day_keys = [k for k in client.keys("smsverify:{metrics}:2*")]
    assert day_keys and all(6 * 86400 < client.ttl(k) <= 7 * 86400 for k in day_keys)


def test_counters_on_the_cluster(redis_cluster, make_env, sms_api, clock):
    from redis.cluster import RedisCluster

    redis_cluster.flush()
    handler = create_handler(make_env(redis_cluster.url, REDIS_CLUSTER="true", RECEIPT_PATH=RECEIPT_PATH), clock=clock)
    exercise(handler, sms_api, clock)
    client = RedisCluster.from_url(redis_cluster.url)
    try:
        assert counts(client, clock.now) == EXPECTED
    finally:
        client.close()


def test_pumping_steps_up_then_refuses_only_the_pumped_block(redis_url, make_env, sms_api, clock):
    """A pumped block (no code ever used) among normal ones (4 of 5 used)."""
    env = make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, PUMPING_WINDOW_SENDS="20",
                   PREFIX_SEND_LIMIT="1000")
    handler = create_handler(env, clock=clock)
    answers: dict[str, list[str]] = {block: [] for block in (PUMPED, *NORMAL)}
    ip = iter(f"198.18.{i // 250}.{i % 250 + 1}" for i in range(10_000))
    with capture_all_logs(sdk_debug=False) as dump:
        for i in range(30):
            for block in (PUMPED, *NORMAL):
                phone = block.replace(":", "") + f"{i:04d}"
                body = answer(handler(get_sms(phone, ip=next(ip)), {}))
                answers[block].append(body["codeStr"])
                if block != PUMPED and body["codeStr"] == "Ok" and i % 5 != 4:
                    done = answer(handler(login(phone, last_code(sms_api, "+" + phone)), {}))
                    assert done["codeStr"] == "Success"
            clock.advance(20)
        # the pumper solves captchas (a captcha farm): its ticketed sends pass, count, and its block is then refused
        refused = None
        for i in range(30, 40):
            phone = PUMPED.replace(":", "") + f"{i:04d}"
            address = next(ip)
            ticket, randstr = sms_api.issue_captcha_ticket(address)
            body = answer(handler(get_sms(phone, ip=address, ticket=ticket, randstr=randstr), {}))
            if body["codeStr"] != "Ok":
                refused = body
                break
    # stepped up within its window: the first 20 sends pass, the 21st and every later one needs a ticket
    assert answers[PUMPED][:20] == ["Ok"] * 20
    assert set(answers[PUMPED][20:]) == {"CaptchaRequired"}
    for block in NORMAL:
        assert answers[block] == ["Ok"] * 30, block
    assert refused is not None and (refused["codeStr"], refused["reason"], refused["_status"]) == (
        "PrefixLimitExceeded", "conversion", 429), refused
    assert refused["retryAfter"] > 0
    changes = [text for name, text in dump.chunks if text.startswith("number block ")]
    assert [c.splitlines()[0] for c in changes] == [
        "number block 86:1380013: normal -> stepup (conversion 0/20 = 0.00, PUMPING_MIN_CONVERSION=0.20)",
        "number block 86:1380013: stepup -> blocked (conversion 0/24 = 0.00, PUMPING_MIN_CONVERSION=0.20)",
    ]


def test_an_exempt_block_is_never_judged(redis_url, make_env, sms_api, clock):
    env = make_env(redis_url, **CAPTCHA_ENV, CAPTCHA_API_ENDPOINT=sms_api.url, PUMPING_WINDOW_SENDS="5",
                   PREFIX_SEND_LIMIT="1000", PUMPING_ALLOW_PREFIXES="86:138")
    handler = create_handler(env, clock=clock)
    codes = [answer(handler(get_sms(f"861380013{i:04d}", ip=f"198.18.0.{i + 1}"), {}))["codeStr"] for i in range(12)]
    assert codes == ["Ok"] * 12


def test_spend_alert_logs_one_error_in_the_hour_it_is_passed(redis_url, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url, SMS_PRICE="tencent:86=0.05", SPEND_ALERT_PER_HOUR="0.12"), clock=clock)
    with capture_all_logs(sdk_debug=False) as dump:
        for i in range(5):
            assert answer(handler(get_sms(f"861390000{i:04d}", ip=f"198.18.1.{i + 1}"), {}))["codeStr"] == "Ok"
    alerts = [text for name, text in dump.chunks if text.startswith("SMS spend this hour passed")]
    assert len(alerts) == 1  # the third send (0.15 CNY) passed 0.12; the fourth and fifth say nothing


def _stats_args(*argv: str) -> argparse.Namespace:
    from smsverify.__main__ import build_parser

    return build_parser().parse_args(["stats", *argv])


def test_stats_table_json_and_html(redis_url, redis_server, make_env, sms_api, clock, tmp_path, capsys):
    from smsverify import stats

    env = make_env(redis_url, RECEIPT_PATH=RECEIPT_PATH, SMS_PRICE="tencent:86=0.045")
    exercise(create_handler(env, clock=clock), sms_api, clock)
    capsys.readouterr()

    assert stats.run(_stats_args("--hours", "3", "--by", "prefix"), env=env, now=clock.now) == 0
    text = capsys.readouterr().out
    line = next(row for row in text.splitlines() if row.startswith(PUMPED))
    assert line.split() == [PUMPED, "2", "1", "0", "1", "0", "50.0%", "0.09"]

    clock.advance(3600)  # an hour later every code of that hour has expired: the unused one counts as expired
    assert stats.run(_stats_args("--hours", "3", "--by", "country", "--json"), env=env, now=clock.now) == 0
    report = json.loads(capsys.readouterr().out)
    [country] = report["groups"]
    assert (country["name"], country["sent"], country["verified"], country["delivered"], country["expired"]) == (
        "86", 2, 1, 1, 1)
    assert country["conversion"] == 0.5 and report["spend"] == pytest.approx(0.09)
    assert sum(h["sent"] for h in report["hourly"]) == 2 and len(report["hourly"]) == 3

    page = tmp_path / "stats.html"
    assert stats.run(_stats_args("--hours", "3", "--html", str(page)), env=env, now=clock.now) == 0
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "</svg>" in html and "<script src" not in html and "http://" not in html.split("<svg")[0]


def test_stats_command_line(redis_url, make_env, sms_api, clock):
    env = make_env(redis_url, RECEIPT_PATH=RECEIPT_PATH)
    exercise(create_handler(env, clock=clock), sms_api, clock)
    hours = int((__import__("time").time() - clock.now) // 3600) + 2  # the FakeClock's hour, from the real now
    done = subprocess.run([sys.executable, "-m", "smsverify", "stats", "--hours", str(hours), "--by", "provider", "--json"],
                          env={**os.environ, "REDIS_URL": redis_url}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [provider] = [g for g in json.loads(done.stdout)["groups"] if g["name"] == "tencent"]
    assert (provider["sent"], provider["verified"]) == (2, 1)
    bad = subprocess.run([sys.executable, "-m", "smsverify", "stats"], env={**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0"},
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "cannot read the counters" in bad.stderr
