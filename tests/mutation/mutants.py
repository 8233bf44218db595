"""The defects the suite must catch, each a small source patch (see tests/mutation/run.py).

Each :class:`Mutant` replaces one exact snippet of one file under src/ (it must occur exactly
once, or the mutant is reported as stale) and names the tests that should catch it, fastest
first. The list follows the defects a targeted mutation run of this suite is expected to kill:
the attempt guard, replay, TTL refresh on a wrong try, the cooldown boundary, the daily count,
the window's trimmed side, release of a newer code, a refusal keeping its reservation,
``random`` for ``secrets``, the region of national numbers, the body bound, an unmasked phone in
the log, the SCF secret check, a provider limit mapped as a refusal, and a national number of
the default region CN accepted under another ``DEFAULT_REGION``; and one more, the length bound
of ``CODE_SECRET`` (16 characters). Then the three survivors of a held-out run (a release that
lifts another reservation's cooldown, the digest fallback summing signed byte differences, a
token ``exp`` that ignores ``TOKEN_TTL_SECONDS``) and three rules of the verification-id turn
(a login with no live code counts nothing, a bound getSms inside its resend interval sends no
second SMS, a hard cap refuses before any step-up); tests/integration/test_mutant_guards.py
holds the tests written for them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository root
    old: str
    new: str
    tests: tuple[str, ...]


STORE_TESTS = ("tests/integration/test_store_contract.py", "tests/integration/test_limits.py", "tests/integration/test_protocol.py")
SECRET_TESTS = ("tests/unit/test_code_secret_bounds.py", "tests/unit/test_config.py", "tests/deploy/test_serverless_yml.py", "tests/docs/test_setup_guide.py",
                "tests/deploy/test_package.py")
GUARDS = "tests/integration/test_mutant_guards.py"
PHONE_TESTS = ("tests/unit/test_phone.py", "tests/unit/test_config.py", "tests/integration/test_input_forms.py",
               "tests/docs/test_setup_guide.py")

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "attempt guard: one wrong try more than the limit",
        "src/smsverify/store/lua/check.lua",
        "if current and tonumber(stored[2]) < MAX_VERIFY_ATTEMPTS then",
        "if current and tonumber(stored[2]) <= MAX_VERIFY_ATTEMPTS then",
        STORE_TESTS,
    ),
    Mutant(
        "replay: a matched code is not consumed",
        "src/smsverify/store/lua/check.lua",
        "redis.call('HSET', KEYS[1], 'd', '', record, 'OK')", "redis.call('HSET', KEYS[1], record, 'OK')",
        STORE_TESTS,
    ),
    Mutant(
        "TTL refresh on a wrong try (the Node demo's defect)",
        "src/smsverify/store/lua/check.lua",
        "redis.call('HSET', KEYS[1], unpack(fields))\n",
        "redis.call('HSET', KEYS[1], unpack(fields))\nredis.call('HSET', KEYS[1], 'x', now + CODE_TTL_MS)\n"
        "redis.call('PEXPIRE', KEYS[1], CODE_TTL_MS)\n",
        STORE_TESTS,
    ),
    Mutant(
        "cooldown boundary: refused at the exact end of the cooldown",
        "src/smsverify/store/lua/send.lua",
        "if not bound and sends.cooldown_until > now then", "if not bound and sends.cooldown_until >= now then",
        STORE_TESTS,
    ),
    Mutant(
        "daily count: one send more than the daily limit",
        "src/smsverify/store/lua/send.lua",
        "{reason = 'DAILY', count = sends.daily,", "{reason = 'DAILY', count = sends.daily - 1,",
        STORE_TESTS,
    ),
    Mutant(
        "sliding window trims its recent side instead of its old one",
        "src/smsverify/store/lua/lib.lua",
        "redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)", "redis.call('ZREMRANGEBYSCORE', key, now - window, '+inf')",
        STORE_TESTS,
    ),
    Mutant(
        "release deletes a newer code (not only its own reservation's)",
        "src/smsverify/store/lua/release.lua",
        "elseif code[1] == member then", "elseif code[1] then",
        ("tests/integration/test_store_contract.py", "tests/integration/test_provider_faults.py",
         "tests/integration/test_providers.py", "tests/integration/test_redis_faults.py"),
    ),
    Mutant(
        "a provider refusal keeps its reservation (cooldown and counts stay)",
        "src/smsverify/service/verification.py",
        "        try:\n            self.store.release_send(",
        "        return\n        try:\n            self.store.release_send(",
        ("tests/integration/test_providers.py", "tests/integration/test_provider_faults.py", "tests/integration/test_protocol.py"),
    ),
    Mutant(
        "codes drawn with random instead of secrets",
        "src/smsverify/service/codes.py",
        "return str(secrets.randbelow(10**length)).zfill(length)",
        "import random\n    return str(random.randrange(10**length)).zfill(length)",
        ("tests/unit/test_codes.py",),
    ),
    Mutant(
        "national numbers read in CN whatever DEFAULT_REGION says",
        "src/smsverify/service/phone.py",
        "number = _mobile(text, default_region) or _mobile(\"+\" + text, None)",
        "number = _mobile(text, \"CN\") or _mobile(\"+\" + text, None)",
        PHONE_TESTS,
    ),
    Mutant(
        "body bound doubled (a 64-128 KiB body accepted)",
        "src/smsverify/edge/event.py",
        "    if len(raw) > MAX_BODY_BYTES:\n", "    if len(raw) > MAX_BODY_BYTES * 2:\n",
        ("tests/unit/test_event_adapter.py", "tests/unit/test_app_params.py", "tests/integration/test_input_forms.py"),
    ),
    Mutant(
        "the invocation log line carries the full phone",
        "src/smsverify/edge/app.py",
        "    fields[\"phone\"] = phone.masked\n", "    fields[\"phone\"] = phone.e164\n",
        ("tests/integration/test_no_leaks.py", "tests/e2e/test_cli.py", "tests/integration/test_protocol.py"),
    ),
    Mutant(
        "SCF secret check: no CODE_SECRET inside SCF falls back to a per-process key",
        "src/smsverify/settings/config.py",
        "    if secret is None:\n        if in_scf:\n", "    if secret is None:\n        if False:\n",
        SECRET_TESTS,
    ),
    Mutant(
        "Tencent's per-number daily limit mapped as a provider refusal (failover, release)",
        "src/smsverify/senders/tencent.py",
        '    "LimitExceeded.PhoneNumberDailyLimit": True,\n', "",
        ("tests/unit/test_sender_tables.py", "tests/integration/test_sender_contract.py", "tests/unit/test_delivery.py",
         "tests/integration/test_providers.py"),
    ),
    # Beyond the list: the length bound of the same check.
    Mutant(
        "secret length bound: a CODE_SECRET of 12 to 15 characters accepted",
        "src/smsverify/settings/config.py",
        "elif len(secret) < 16:", "elif len(secret) < 12:",
        SECRET_TESTS,
    ),
    Mutant(
        "a national number of CN accepted under another DEFAULT_REGION",
        "src/smsverify/service/phone.py",
        "number = _mobile(text, default_region) or _mobile(\"+\" + text, None)",
        "number = _mobile(text, default_region) or _mobile(text, \"CN\") or _mobile(\"+\" + text, None)",
        PHONE_TESTS,
    ),
    # The survivors of a held-out mutation run of 18 realistic mutants.
    Mutant(
        "release lifts a cooldown another reservation set (a lost getSms reply re-opens the phone)",
        "src/smsverify/store/lua/release.lua",
        "if string.sub(cooldown, -string.len(member) - 1) == ':' .. member then", "if cooldown ~= '' then",
        (GUARDS + "::test_a_get_sms_whose_reply_was_lost_keeps_the_cooldown_of_the_one_delivered",
         "tests/integration/test_store_contract.py", "tests/integration/test_redis_faults.py"),
    ),
    Mutant(
        "digest fallback (no redis.sha1hex) sums signed byte differences",
        "src/smsverify/store/lua/lib.lua",
        "    diff = diff + d * d\n", "    diff = diff + d\n",
        (GUARDS + "::test_the_in_process_store_refuses_a_wrong_code_whose_digest_bytes_sum_to_the_right_ones",),
    ),
    Mutant(
        "the token's exp ignores TOKEN_TTL_SECONDS (always the default 300 s)",
        "src/smsverify/tokens/issuer.py",
        '"exp": iat + ttl,', '"exp": iat + DEFAULT_TTL_SECONDS,',
        ("tests/integration/test_token_login.py", "tests/unit/test_token.py"),
    ),
    # Rules of the verification-id turn.
    Mutant(
        "a login with no live code counts a wrong try on the phone's day",
        "src/smsverify/store/lua/check.lua",
        "if not current and not pending then\n  return {'EXPIRED'}\nend",
        "if not current and not pending then\n  if legacy then\n    count_today(KEYS[2], tonumber(ARGV[3]) + HOUR_MS)\n"
        "  end\n  return {'EXPIRED'}\nend",
        ("tests/integration/test_abuse.py::test_logins_for_a_phone_without_a_live_code_count_nothing[single]",
         "tests/integration/test_store_contract.py"),
    ),
    Mutant(
        "a bound code's getSms inside its resend interval sends again",
        "src/smsverify/store/lua/send.lua",
        "if bound and code[9] and tonumber(code[9]) > now then", "if bound and code[9] and tonumber(code[9]) < now then",
        (GUARDS + "::test_a_bound_get_sms_repeated_inside_its_resend_interval_sends_one_sms",
         "tests/integration/test_round_trips.py", "tests/integration/test_abuse.py"),
    ),
    Mutant(
        "the step-up is judged before the hard cap (a throttled client is asked for a captcha)",
        "src/smsverify/store/lua/lib.lua",
        "local function judge(limits, ticket, ask)\n  for _, l in ipairs(limits) do\n",
        "local function judge(limits, ticket, ask)\n  if not ticket then\n    for _, l in ipairs(limits) do\n"
        "      if l.count >= l.soft then\n        return {'STEPUP', l}\n      end\n    end\n"
        "    if ask then\n      return {'STEPUP', nil}\n    end\n  end\n  for _, l in ipairs(limits) do\n",
        (GUARDS + "::test_a_client_at_its_hard_cap_is_refused_without_being_asked_for_a_captcha",
         "tests/integration/test_abuse.py", "tests/integration/test_captcha.py"),
    ),
)
