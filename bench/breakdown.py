"""Where a warm login's time goes: its parts timed alone, back to back, on the
same server, next to the whole login through main_handler.

The parts are called through smsverify's internal functions (the store step,
phone normalisation and masking, the code HMAC, the event adapter,
serverless-wsgi with a trivial WSGI app, the log line), so this section
follows the code: when an internal name changes, the section reports itself
unavailable instead of stopping the run. ``phonenumbers.parse`` calls per
login are counted with cProfile.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

from _parts import UNLIMITED, Parts
from tests.support import get_sms, last_code, login, wrong
from warm import silence_function_logs

PHONE = "8613900099999"  # the Node demo's spelling: country code and number, no plus
E164 = "+" + PHONE


@dataclass
class Breakdown:
    #: (part, median µs), in call order; the first is the whole login
    parts: list[tuple[str, float]]
    #: phonenumbers.parse calls per login
    parses_per_login: float


def _median_us(call: Callable[[], Any], n: int) -> float:
    for _ in range(min(200, n)):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def run(parts: Parts, *, n: int) -> Breakdown:
    import serverless_wsgi
    from werkzeug.wrappers import Request, Response

    from smsverify.bootstrap import build_service
    from smsverify.settings.config import Settings
    from smsverify.edge.event import to_wsgi_event
    from smsverify.edge.handler import create_handler
    from smsverify.observability import log_invocation
    from smsverify.clock import moment_at
    from smsverify.service.codes import code_digest
    from smsverify.service.phone import _parse, parse_phone

    env = {**parts.env, **UNLIMITED, "MAX_VERIFY_ATTEMPTS": "100"}
    handler = create_handler(env)
    silence_function_logs()
    settings = Settings.from_env(env)
    service = build_service(settings)
    key = settings.code_secret

    def fresh_wrong_login() -> dict:
        handler(get_sms(PHONE), {})
        return login(PHONE, wrong(last_code(parts.emulator, E164)))

    event = fresh_wrong_login()
    left = [90]

    def whole() -> None:
        nonlocal event
        if left[0] == 0:  # a new code before this one is used up: 1 sample in 90 includes a getSms
            event, left[0] = fresh_wrong_login(), 90
        left[0] -= 1
        if json.loads(handler(event, {})["body"])["codeStr"] != "CodeIsError":
            raise RuntimeError("breakdown workload broke")

    digests = [code_digest(key, E164, "000000")]
    region, countries = settings.default_region, settings.allowed_country_codes
    wsgi_event = to_wsgi_event(event, "request-id")

    def trivial_app(environ: dict, start_response: Callable) -> list[bytes]:
        start_response("401 UNAUTHORIZED", [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")])
        return [b'{"codeStr": "CodeIsError"}']

    def werkzeug_app(environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        dict(request.args)
        response = Response('{"codeStr": "CodeIsError"}', status=401,
                            headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"})
        return response(environ, start_response)

    measured = [
        ("whole wrong-code login through main_handler", _median_us(whole, n)),
        ("store step alone: EVALSHA of check.lua (redis-py)", _median_us(
            lambda: service.store.check_code(E164, digests, moment_at(time.time())), n)),
        ("phone parse, uncached (demo spelling)", _median_us(lambda: _parse.__wrapped__(PHONE, region), n)),
        ("phone parse, cached (demo spelling)", _median_us(lambda: parse_phone(PHONE, region, countries), n)),
        ("phone masking for the log", _median_us(lambda: parse_phone(E164, region, countries).masked, n)),
        ("code HMAC", _median_us(lambda: code_digest(key, E164, "000000"), n)),
        ("event -> WSGI event (edge.event)", _median_us(lambda: to_wsgi_event(event, "request-id"), n)),
        ("serverless-wsgi + werkzeug around a trivial app", _median_us(
            lambda: serverless_wsgi.handle_request(trivial_app, wsgi_event, {}), n)),
        ("serverless-wsgi + werkzeug Request and Response around a trivial app", _median_us(
            lambda: serverless_wsgi.handle_request(werkzeug_app, wsgi_event, {}), n)),
        ("the JSON log line", _median_us(lambda: log_invocation(
            requestId="d1f0a7c2-7b61-11e6-9a41-93e8deadbeef", method="login", codeStr="CodeIsError",
            phone="+86139****9999", ip="203.0.113.7", durationMs=0.3), n)),
    ]

    profile = cProfile.Profile()
    logins = 50
    event = fresh_wrong_login()
    profile.enable()
    for _ in range(logins):
        handler(event, {})
    profile.disable()
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    parses = sum(v[1] for (file, _, name), v in stats.items() if name == "parse" and "phonenumberutil" in file)
    return Breakdown(measured, parses / logins)
