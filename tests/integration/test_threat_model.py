"""bench/threat_model.py runs and prints the defaults' figures, computed from
the configuration (so the threat-model table of docs/protocol.md can be regenerated)."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT

SCRIPT = ROOT / "bench" / "threat_model.py"


def run(*overrides: str) -> dict[str, str]:
    done = subprocess.run([sys.executable, str(SCRIPT), *overrides], capture_output=True, text=True, check=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")})
    rows = [line.strip("|").split("|") for line in done.stdout.splitlines()[2:]]
    return {cells[1].strip(): cells[2].strip() for cells in rows}


def test_the_defaults_figures():
    figures = run()
    assert figures["guesses per phone per day at bound codes (all clients together)"] == "30 (60 with captcha tickets)"
    assert figures["guesses per phone per day at legacy codes (all clients together)"] == "30"
    assert figures["probability that a targeted guess succeeds, per day"] == "3.00e-05"  # 30 / 10^6
    assert figures["probability that a targeted guess succeeds, per year (365 days)"] == "1.09%"
    assert figures["SMS per hour one client can trigger (one IPv4 address or one IPv6 /64)"] == "20 (200 with captcha tickets)"
    assert figures["SMS per hour one IPv6 site can trigger (its /`IPV6_SITE_PREFIX_LENGTH`)"] == "100 (1000 with captcha tickets)"
    assert figures["SMS per hour to one number block (any number of clients)"] == "30"
    assert figures["SMS per hour the world can trigger"].startswith("1000 (3000 ")
    assert figures["a stranger's logins or sends that stop the owner's bound code"] == "0"
    assert figures["codes a stranger must have sent to lock a phone's legacy login for the day"] == "10 (at least 2 h, `HOURLY_SEND_LIMIT`)"


def test_a_four_digit_code_falls_within_a_year_with_probability_about_two_thirds():
    figures = run("CODE_LENGTH=4")
    assert figures["probability that a targeted guess succeeds, per year (365 days)"] == "66.55%"


def test_settings_move_the_figures():
    figures = run("IP_SEND_LIMIT=5", "IP_SEND_WINDOW_SECONDS=600", "DAILY_VERIFY_LIMIT=12")
    assert figures["SMS per hour one client can trigger (one IPv4 address or one IPv6 /64)"] == "30 (300 with captcha tickets)"
    assert figures["guesses per phone per day at legacy codes (all clients together)"] == "12"
