"""Cold start: a fresh interpreter that imports handler.py and answers one event,
against a bare interpreter (the floor), each measured in this run.

Prints the median of N runs of each as a ratio to the floor, and which heavy
modules the cold login path loaded. Usage: python bench/cold_start.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys

from _parts import ROOT, median_seconds, real_parts

SCRIPT = """
import json, sys
import handler
event = json.load(open(sys.argv[1]))
if len(sys.argv) > 2:
    print(json.loads(handler.main_handler(event, {})["body"])["codeStr"],
          "tencentcloud loaded" if "tencentcloud.sms" in sys.modules else "tencentcloud not loaded")
"""


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    with real_parts(SEND_INTERVAL_SECONDS="0", DAILY_SEND_LIMIT="100000", HOURLY_SEND_LIMIT="100000") as (env, _):
        full_env = {**os.environ, **env}

        def run(*args: str) -> str:
            done = subprocess.run([sys.executable, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, check=True)
            return done.stdout.strip()

        floor = median_seconds(lambda: run("-c", "pass"), repeat)
        rows = [
            ("import handler (start-up)", lambda: run("-c", SCRIPT, "events/login.json")),
            ("start-up + first login", lambda: run("-c", SCRIPT, "events/login.json", "x")),
            ("start-up + first getSms", lambda: run("-c", SCRIPT, "events/get_sms.json", "x")),
        ]
        print(f"floor: bare interpreter, median of {repeat} = 1.00")
        for name, job in rows:
            print(f"{name:28s} {median_seconds(job, repeat) / floor:6.2f} x floor")
        print("login path:", run("-c", SCRIPT, "events/login.json", "x"))
        print("getSms path:", run("-c", SCRIPT, "events/get_sms.json", "x"))


if __name__ == "__main__":
    main()
