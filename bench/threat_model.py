"""The threat model in numbers: what the limits of a configuration let an
attacker do, computed from :class:`smsverify.settings.config.Settings` (the defaults,
or ``NAME=VALUE`` overrides on the command line), for codes bound to a
``verificationId`` (the shipped clients) and legacy codes (the demo's
clients, ``LEGACY_LOGIN=on``), with and without captcha::

    python bench/threat_model.py                  # the defaults
    python bench/threat_model.py CODE_LENGTH=4    # what a setting changes

Brute force (a targeted guess of one phone's code)
    A guess needs a live code, and a code takes ``MAX_VERIFY_ATTEMPTS`` wrong
    tries before it is dead; at most ``DAILY_SEND_LIMIT`` codes are sent to a
    phone a day (2 x with a captcha ticket each, captcha configured). Legacy
    codes are also bound by ``DAILY_VERIFY_LIMIT`` wrong codes a day. Codes
    are uniform over 10^CODE_LENGTH values, so each code falls with
    probability tries / 10^CODE_LENGTH.
Targeted lockout
    What a stranger who does not receive the victim's SMS can do to the
    victim's login: nothing to a bound code (its tries are spent only by a
    login with its id, and its resend interval is its own); a legacy code's
    phone can be locked for the day by ``DAILY_VERIFY_LIMIT`` guesses at
    codes the attacker asked for.
SMS pumping
    SMS per hour that one client, one IPv6 site, one number block and the
    whole world can trigger (sliding windows, scaled to one hour).

No Redis, no network: a pure computation, run by tests/integration/test_threat_model.py.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from smsverify.settings.config import Settings
from smsverify.store.base import CLIENT_HARD_LIMIT_FACTOR, PHONE_HARD_LIMIT_FACTOR

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


def sends_per_phone_per_day(s: Settings, captcha: bool) -> int:
    """Codes one phone can be sent in a calendar day (with captcha: up to the phone's hard cap, a ticket each)."""
    return s.daily_send_limit * (PHONE_HARD_LIMIT_FACTOR if captcha else 1)


def guesses_per_phone_per_day(s: Settings, *, bound: bool = False, captcha: bool = False) -> int:
    """Wrong codes an attacker can try against one phone in one calendar day (any number of clients)."""
    per_codes = sends_per_phone_per_day(s, captcha) * s.max_verify_attempts
    return per_codes if bound else min(s.daily_verify_limit, per_codes)


def guess_probability_per_day(s: Settings, **kind: bool) -> float:
    """Probability that one day of targeted guessing logs in: codes tried one after another,
    ``MAX_VERIFY_ATTEMPTS`` distinct guesses each, until the day's guesses are spent."""
    space = 10 ** s.code_length
    left = guesses_per_phone_per_day(s, **kind)
    miss = 1.0
    while left > 0:
        tries = min(left, s.max_verify_attempts)
        miss *= 1 - tries / space
        left -= tries
    return 1 - miss


def guess_probability_per_year(s: Settings, **kind: bool) -> float:
    return 1 - (1 - guess_probability_per_day(s, **kind)) ** 365


def figures(s: Settings) -> list[Figure]:
    legacy_day = guesses_per_phone_per_day(s)
    bound_day = guesses_per_phone_per_day(s, bound=True)
    one_client_day = min(legacy_day, s.ip_verify_limit * math.ceil(DAY / s.ip_verify_window_seconds))
    codes_to_lock = math.ceil(s.daily_verify_limit / s.max_verify_attempts)
    hours_to_lock = math.ceil(codes_to_lock / s.hourly_send_limit) if codes_to_lock <= s.daily_send_limit else None
    hard = s.global_send_hard_limit
    client_hour = per_hour(s.ip_send_limit, s.ip_send_window_seconds)
    site_hour = per_hour(s.ipv6_site_send_limit, s.ip_send_window_seconds)
    rows = [
        Figure("brute force", "guesses per phone per day at bound codes (all clients together)",
               f"{bound_day} ({guesses_per_phone_per_day(s, bound=True, captcha=True)} with captcha tickets)",
               "`DAILY_SEND_LIMIT` x `MAX_VERIFY_ATTEMPTS` (x 2 with captcha)"),
        Figure("brute force", "guesses per phone per day at legacy codes (all clients together)", str(legacy_day),
               "`DAILY_VERIFY_LIMIT`, `DAILY_SEND_LIMIT` x `MAX_VERIFY_ATTEMPTS`"),
        Figure("brute force", "guesses per phone per day at legacy codes from one client", str(one_client_day),
               "`IP_VERIFY_LIMIT` per `IP_VERIFY_WINDOW_SECONDS`"),
        Figure("brute force", "guesses per phone per day at legacy codes without a captcha ticket (captcha configured)",
               str(min(legacy_day, s.verify_captcha_after)), "`VERIFY_CAPTCHA_AFTER`"),
        Figure("brute force", "probability that a targeted guess succeeds, per day",
               f"{guess_probability_per_day(s, bound=True):.2e}", "`CODE_LENGTH` and the guesses above"),
        Figure("brute force", "probability that a targeted guess succeeds, per year (365 days)",
               f"{guess_probability_per_year(s, bound=True):.2%}", "`CODE_LENGTH` and the guesses above"),
        Figure("targeted lockout", "a stranger's logins or sends that stop the owner's bound code", "0",
               "(by construction: only its `verificationId` checks it; its resend interval is its own)"),
        Figure("targeted lockout", "logins with no live code that count against anyone", "0", "(by construction)"),
        Figure("targeted lockout", "sends to one phone a stranger can spend per day before the owner needs a ticket "
               "(captcha configured) or waits until midnight (no captcha)", str(s.daily_send_limit),
               "`DAILY_SEND_LIMIT`, `HOURLY_SEND_LIMIT`"),
        Figure("targeted lockout", "codes a stranger must have sent to lock a phone's legacy login for the day",
               f"{codes_to_lock}" + (f" (at least {hours_to_lock} h, `HOURLY_SEND_LIMIT`)" if hours_to_lock else
                                     " (more than a day's sends: impossible)"),
               "`DAILY_VERIFY_LIMIT` / `MAX_VERIFY_ATTEMPTS`"),
        Figure("targeted lockout", "guesses at legacy codes per hour of the whole service before legacy logins "
               "need a ticket (captcha) or get `ServiceBusy` (no captcha)",
               f"{per_hour(s.global_verify_limit, s.global_verify_window_seconds):.0f}",
               "`GLOBAL_VERIFY_LIMIT` per `GLOBAL_VERIFY_WINDOW_SECONDS`"),
        Figure("SMS pumping", "SMS per hour one client can trigger (one IPv4 address or one IPv6 /64)",
               f"{client_hour:.0f} ({client_hour * CLIENT_HARD_LIMIT_FACTOR:.0f} with captcha tickets)",
               "`IP_SEND_LIMIT` per `IP_SEND_WINDOW_SECONDS`, `IPV6_PREFIX_LENGTH`"),
        Figure("SMS pumping", "SMS per hour one IPv6 site can trigger (its /`IPV6_SITE_PREFIX_LENGTH`)",
               f"{site_hour:.0f} ({site_hour * CLIENT_HARD_LIMIT_FACTOR:.0f} with captcha tickets)",
               "`IPV6_SITE_SEND_LIMIT` per `IP_SEND_WINDOW_SECONDS`"),
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
