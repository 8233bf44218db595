"""The threat model in numbers: what the limits of a configuration let an
attacker do, computed from :class:`smsverify.settings.config.Settings` (the defaults,
or ``NAME=VALUE`` overrides on the command line)::

    python bench/threat_model.py                  # the defaults
    python bench/threat_model.py CODE_LENGTH=4    # what a setting changes

Brute force (a targeted guess of one phone's code)
    A guess needs a live code, and a code takes ``MAX_VERIFY_ATTEMPTS`` wrong
    tries before it is invalidated; at most ``DAILY_SEND_LIMIT`` codes are
    sent to a phone a day and at most ``DAILY_VERIFY_LIMIT`` wrong codes are
    accepted for it. Codes are uniform over 10^CODE_LENGTH values, so each
    code falls with probability tries / 10^CODE_LENGTH.
Targeted lockout
    How many client identities (IPv4 addresses, IPv6 /64s) an attacker needs
    to spend a phone's ``DAILY_VERIFY_LIMIT`` within one hour, given
    ``IP_VERIFY_LIMIT``.
SMS pumping
    SMS per hour that one client, one number block and the whole world can
    trigger (sliding windows, scaled to one hour).

No Redis, no network: a pure computation, run by tests/integration/test_threat_model.py.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from smsverify.settings.config import Settings

HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Figure:
    threat: str
    quantity: str
    value: str
    settings: str  #: the variables that move it


def per_hour(limit: int, window_seconds: int) -> float:
    """Most entries a sliding window of ``limit`` per ``window_seconds`` admits in one hour."""
    return limit * max(1, math.ceil(HOUR / window_seconds)) if window_seconds < HOUR else float(limit)


def guesses_per_phone_per_day(s: Settings) -> int:
    """Wrong codes an attacker can try against one phone in one calendar day (any number of clients)."""
    return min(s.daily_verify_limit, s.daily_send_limit * s.max_verify_attempts)


def guess_probability_per_day(s: Settings) -> float:
    """Probability that one day of targeted guessing logs in: codes tried one after another,
    ``MAX_VERIFY_ATTEMPTS`` distinct guesses each, until the day's guesses are spent."""
    space = 10 ** s.code_length
    left = guesses_per_phone_per_day(s)
    miss = 1.0
    while left > 0:
        tries = min(left, s.max_verify_attempts)
        miss *= 1 - tries / space
        left -= tries
    return 1 - miss


def guess_probability_per_year(s: Settings) -> float:
    return 1 - (1 - guess_probability_per_day(s)) ** 365


def figures(s: Settings) -> list[Figure]:
    day = guesses_per_phone_per_day(s)
    one_client_day = min(day, s.ip_verify_limit * math.ceil(DAY / s.ip_verify_window_seconds))
    clients_for_lockout_in_an_hour = math.ceil(s.daily_verify_limit / s.ip_verify_limit)
    hard = s.global_send_hard_limit
    rows = [
        Figure("brute force", "guesses per phone per day (all clients together)", str(day),
               "`DAILY_VERIFY_LIMIT`, `DAILY_SEND_LIMIT` x `MAX_VERIFY_ATTEMPTS`"),
        Figure("brute force", "guesses per phone per day from one client", str(one_client_day),
               "`IP_VERIFY_LIMIT` per `IP_VERIFY_WINDOW_SECONDS`"),
        Figure("brute force", "guesses per phone per day without a captcha ticket (captcha configured)",
               str(min(day, s.verify_captcha_after)), "`VERIFY_CAPTCHA_AFTER`"),
        Figure("brute force", "probability that a targeted guess succeeds, per day",
               f"{guess_probability_per_day(s):.2e}", "`CODE_LENGTH` and the guesses above"),
        Figure("brute force", "probability that a targeted guess succeeds, per year (365 days)",
               f"{guess_probability_per_year(s):.2%}", "`CODE_LENGTH` and the guesses above"),
        Figure("targeted lockout", "wrong logins that kill a live code", str(s.max_verify_attempts),
               "`MAX_VERIFY_ATTEMPTS` (the user asks a new code after `SEND_INTERVAL_SECONDS`)"),
        Figure("targeted lockout", "client identities needed to lock a phone's login for the day within an hour",
               str(clients_for_lockout_in_an_hour), "`DAILY_VERIFY_LIMIT` / `IP_VERIFY_LIMIT`"),
        Figure("targeted lockout", "failed logins per hour of the whole service before `ServiceBusy`",
               f"{per_hour(s.global_verify_limit, s.global_verify_window_seconds):.0f}",
               "`GLOBAL_VERIFY_LIMIT` per `GLOBAL_VERIFY_WINDOW_SECONDS`"),
        Figure("SMS pumping", "SMS per hour one client can trigger (one IPv4 address or one IPv6 /64)",
               f"{per_hour(s.ip_send_limit, s.ip_send_window_seconds):.0f}",
               "`IP_SEND_LIMIT` per `IP_SEND_WINDOW_SECONDS`, `IPV6_PREFIX_LENGTH`"),
        Figure("SMS pumping", "SMS per hour all requests without a client IP can trigger",
               f"{per_hour(s.unknown_ip_send_limit, s.ip_send_window_seconds):.0f}",
               "`UNKNOWN_IP_SEND_LIMIT` per `IP_SEND_WINDOW_SECONDS`"),
        Figure("SMS pumping", "SMS per hour to one number block (any number of clients)",
               f"{per_hour(s.prefix_send_limit, s.prefix_send_window_seconds):.0f}",
               "`PREFIX_SEND_LIMIT` per `PREFIX_SEND_WINDOW_SECONDS`, `PREFIX_DIGITS`"),
        Figure("SMS pumping", "SMS per hour the world can trigger",
               f"{per_hour(s.global_send_limit, s.global_send_window_seconds):.0f}"
               f" ({per_hour(hard, s.global_send_window_seconds):.0f} with captcha tickets, `adaptive`)",
               "`GLOBAL_SEND_LIMIT`, `GLOBAL_SEND_HARD_LIMIT`"),
    ]
    return rows


def table(s: Settings) -> str:
    lines = ["| threat | quantity | value | moved by |", "|---|---|---|---|"]
    lines += [f"| {f.threat} | {f.quantity} | {f.value} | {f.settings} |" for f in figures(s)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    env = {}
    for arg in argv:
        name, sep, value = arg.partition("=")
        if not sep:
            print(f"usage: threat_model.py [NAME=VALUE ...], got {arg!r}", file=sys.stderr)
            return 2
        env[name] = value
    print(table(Settings.from_env(env)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
