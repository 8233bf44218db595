"""Warm invocations: main_handler on a warm container against a real
redis-server, as a ratio to the floor of one raw Redis round trip (PING) on
the same server, both measured in this run.

login and a refused getSms (cooldown) each cost exactly one Redis round trip
(tests/integration/test_round_trips.py), so the ratio is the function's own
overhead: event adaptation, WSGI, phone parsing, HMAC, JSON, logging.
Usage: python bench/invocation.py [N]
"""

from __future__ import annotations

import io
import logging
import sys

from _parts import median_seconds, real_parts
from tests.conftest import FakeClock, get_sms, login

from smsverify.edge.handler import create_handler


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with real_parts(MAX_VERIFY_ATTEMPTS="100", DAILY_VERIFY_LIMIT="1000000") as (env, server):
        handler = create_handler(env, clock=FakeClock())
        logging.getLogger("smsverify").handlers[0].stream = io.StringIO()  # keep the log lines off the terminal
        client = server.client()
        handler(get_sms("13800138000"), {})  # warm: scripts loaded, SDK imported, one code stored
        wrong, refused = login("13800138000", "000000"), get_sms("13800138000")

        def loop(job):
            return lambda: [job() for _ in range(n)]

        floor = median_seconds(loop(client.ping), 5) / n
        login_cost = median_seconds(loop(lambda: handler(wrong, {})), 5) / n
        refused_cost = median_seconds(loop(lambda: handler(refused, {})), 5) / n
        print(f"floor: one Redis PING round trip = 1.00  ({n} calls, median of 5 runs)")
        print(f"login (wrong code, 1 EVALSHA)      {login_cost / floor:6.2f} x floor")
        print(f"getSms refused by cooldown (1 EVALSHA) {refused_cost / floor:6.2f} x floor")


if __name__ == "__main__":
    main()
