"""The common behaviour of ``_http.py``, proven on each of the three provider emulators.

Each provider's test module supplies ``make_emulator``, ``send_ok`` (a valid
send built by hand from the providers' public docs), ``answer_code``, ``SUCCESS``,
``PHONE`` and ``SECRETS``; every test here runs for Ronglian, Huyi and
Zhenzi.  Proven: ``delay_seconds`` answers after the delay (lower bound only)
and still processes a request whose client gave up; ``http_status`` answers
an HTML error without sending, counting or billing; ``down()`` refuses new
and pooled connections and ``up()`` serves again on the same port;
``reset()`` restores knobs, records and counters; the daily counter is
atomic under concurrent sends and follows the Beijing day; ``force_code``
answers every documented code of the provider's table; records hold no
secret; nothing is printed.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime

import pytest
import requests

from tests.integration import test_emulator_huyi as test_huyi, test_emulator_ronglian as test_ronglian, test_emulator_zhenzi as test_zhenzi
from tests.support import HUYI_ERRORS, RONGLIAN_ERRORS, ZHENZI_ERRORS
from tests.support.emulators._http import SHANGHAI, shanghai_date

PROVIDERS = [
    pytest.param(test_ronglian, id="ronglian"),
    pytest.param(test_huyi, id="huyi"),
    pytest.param(test_zhenzi, id="zhenzi"),
]


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def emu(provider):
    with provider.make_emulator() as emulator:
        yield emulator
        assert emulator.internal_errors == []


def wait_for(predicate, seconds=5.0):
    """Poll ``predicate`` until true or ``seconds`` pass (an upper bound for slow CI machines)."""
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def nothing_sent(provider, emu):
    assert emu.sent == [] and emu.daily_count(*_count_key(provider)) == 0


def _count_key(provider):
    return (provider.PHONE, "100001") if provider is test_ronglian else (provider.PHONE,)


# ---------------------------------------------------------------------- delay
def test_delay_answers_after_the_delay(provider, emu):
    emu.delay_seconds = 0.4
    started = time.monotonic()
    response = provider.send_ok(emu)
    elapsed = time.monotonic() - started
    # Lower bound only: the handler sleeps 0.4 s before answering; no upper bound on a loaded machine.
    assert elapsed >= 0.4
    assert provider.answer_code(response) == provider.SUCCESS
    assert len(emu.sent_to(provider.PHONE)) == 1


def test_delayed_request_is_still_processed_after_the_client_gives_up(provider, emu):
    emu.delay_seconds = 1.0
    with pytest.raises(requests.exceptions.ReadTimeout):
        provider.send_ok(emu, timeout=0.2)
    assert emu.sent == []  # not yet: the handler is still sleeping
    assert wait_for(lambda: len(emu.sent_to(provider.PHONE)) == 1)
    assert emu.requests[-1]["code"] == provider.SUCCESS


# ---------------------------------------------------------------- http_status
@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_http_status_answers_html_and_sends_nothing(provider, emu, status):
    balance = getattr(emu, "balance", None)
    emu.http_status = status
    response = provider.send_ok(emu)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/html"
    assert f"<h1>{status} ".encode() in response.content
    nothing_sent(provider, emu)
    assert getattr(emu, "balance", None) == balance
    assert emu.requests[-1]["code"] == f"HTTP {status}"
    emu.http_status = 200
    assert provider.answer_code(provider.send_ok(emu)) == provider.SUCCESS


# ------------------------------------------------------------------ down / up
def _refused(url) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.exceptions.ConnectionError:
        return True
    return False


def test_down_refuses_connections_and_up_serves_on_the_same_port(provider, emu):
    session = requests.Session()
    assert provider.answer_code(provider.send_ok(emu, session=session)) == provider.SUCCESS
    port, url = emu.port, emu.url

    emu.down()
    assert not emu.running
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert _refused(url)
    # The pooled keep-alive connection was dropped too: the session cannot reach it.
    with pytest.raises(requests.exceptions.ConnectionError):
        provider.send_ok(emu, session=session)

    emu.up()
    assert (emu.running, emu.port, emu.url) == (True, port, url)
    assert provider.answer_code(provider.send_ok(emu, session=session)) == provider.SUCCESS
    assert provider.answer_code(provider.send_ok(emu)) == provider.SUCCESS
    assert len(emu.sent) == 3
    session.close()


def test_down_and_up_can_repeat(provider, emu):
    port = emu.port
    for _ in range(3):
        emu.down()
        assert _refused(emu.url)
        emu.up()
        assert emu.port == port
        assert provider.answer_code(provider.send_ok(emu)) == provider.SUCCESS


def test_lifecycle(provider):
    emulator = provider.make_emulator()
    with pytest.raises(RuntimeError):
        emulator.up()  # never started: no port to come back on
    with pytest.raises(RuntimeError):
        emulator.down()
    with emulator as running:
        assert running is emulator and emulator.url == f"http://127.0.0.1:{emulator.port}"
        assert emulator.up() is emulator  # already up: no-op
        with pytest.raises(RuntimeError):
            emulator.start()
        assert provider.answer_code(provider.send_ok(emulator)) == provider.SUCCESS
    assert not emulator.running and _refused(emulator.url)
    emulator.stop()  # idempotent


# ---------------------------------------------------------------------- reset
def test_reset_restores_knobs_records_and_counters(provider, emu):
    provider.send_ok(emu)
    emu.delay_seconds, emu.http_status, emu.force_code = 0.01, 503, "x"
    emu.clock = lambda: 0.0
    emu.reset()
    assert (emu.delay_seconds, emu.http_status, emu.force_code, emu.clock) == (0.0, 200, None, time.time)
    assert (emu.sent, emu.requests) == ([], [])
    assert emu.daily_count(*_count_key(provider)) == 0
    assert provider.answer_code(provider.send_ok(emu)) == provider.SUCCESS


# ------------------------------------------------------------ daily counters
def test_concurrent_sends_never_exceed_the_daily_limit(provider):
    with provider.make_emulator(daily_limit=3) as emu:
        # A slow clock widens the gap between the limit check and the count: Ronglian and Zhenzi
        # read the clock in between (dateCreated / createTime), so 40 simultaneous sends overshoot
        # there whenever check-then-count is not atomic.  For Huyi this is a smoke check only.
        def slow_clock():
            time.sleep(0.005)
            return time.time()

        emu.clock = slow_clock
        codes: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(40)

        def one_send():
            barrier.wait()
            code = provider.answer_code(provider.send_ok(emu))
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=one_send) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(codes) == 40 and codes.count(provider.SUCCESS) == 3
        assert len(emu.sent) == 3 and emu.daily_count(*_count_key(provider)) == 3
        assert emu.internal_errors == []


#: provider module -> (its daily-limit code, the record field with the send time, and its two values)
DAILY = {
    "ronglian": ("160040", "date_created", ["20240101235959", "20240102000000"]),
    "huyi": ("4085", None, None),
    "zhenzi": ("109", "create_time", ["2024-01-01 23:59:59", "2024-01-02 00:00:00"]),
}
ERROR_TABLES = {"ronglian": RONGLIAN_ERRORS, "huyi": HUYI_ERRORS, "zhenzi": ZHENZI_ERRORS}


def name_of(provider) -> str:
    return provider.__name__.rsplit("_", 1)[-1]


def test_the_daily_limit_follows_the_beijing_day(provider):
    limit_code, time_field, times = DAILY[name_of(provider)]
    with provider.make_emulator(daily_limit=1) as emu:
        last_second = datetime(2024, 1, 1, 23, 59, 59, tzinfo=SHANGHAI).timestamp()  # 15:59:59 UTC
        emu.clock = lambda: last_second
        assert provider.answer_code(provider.send_ok(emu)) == provider.SUCCESS
        assert provider.answer_code(provider.send_ok(emu)) == limit_code
        emu.clock = lambda: last_second + 1  # 00:00:00 in Beijing, still 2024-01-01 in UTC
        assert provider.answer_code(provider.send_ok(emu)) == provider.SUCCESS
        if time_field:
            assert [m[time_field] for m in emu.sent] == times


@pytest.mark.parametrize("provider, code", [
    pytest.param(module, code, id=f"{name_of(module)}:{code}")
    for module in (test_ronglian, test_huyi, test_zhenzi) for code in sorted(ERROR_TABLES[name_of(module)])
])
def test_force_code_answers_every_documented_code(provider, code):
    with provider.make_emulator() as emu:
        emu.force_code = code
        response = provider.send_ok(emu)
        assert isinstance(response.json().get("code", response.json().get("statusCode")), type(code))
        provider.assert_refused(emu, response, code)


def test_shanghai_date_is_utc_plus_8():
    assert shanghai_date(1704124799) == "2024-01-01"  # 2024-01-01 15:59:59 UTC
    assert shanghai_date(1704124800) == "2024-01-02"  # 2024-01-01 16:00:00 UTC


# ------------------------------------------------------------- records, output
def test_records_hold_no_secret_and_nothing_is_printed(provider, emu, capfd):
    session = requests.Session()
    provider.send_ok(emu, session=session)
    emu.force_code = next(iter(_error_table(provider)))
    provider.send_ok(emu, session=session)
    emu.force_code = None
    emu.http_status = 502
    provider.send_ok(emu, session=session)
    emu.http_status = 200
    emu.delay_seconds = 0.5
    with pytest.raises(requests.exceptions.ReadTimeout):
        provider.send_ok(emu, timeout=0.1)
    emu.delay_seconds = 0
    emu.down()
    emu.up()
    requests.get(emu.url + "/nowhere", timeout=5)
    assert wait_for(lambda: len(emu.requests) == 5)
    session.close()
    recorded = repr(emu.requests) + repr(emu.sent)
    for secret in provider.SECRETS:
        assert secret not in recorded
    assert {"method", "path", "fields", "code"} == set(emu.requests[0])
    assert capfd.readouterr() == ("", "")


def _error_table(provider):
    for name in ("RONGLIAN_ERRORS", "HUYI_ERRORS", "ZHENZI_ERRORS"):
        table = getattr(provider, name, None)
        if table is not None:
            return table
    raise AssertionError("no error table imported")
