"""One Redis connection per warm container, counted by the real redis-server.

How it is measured: the test's own admin connection is opened first (its
CLIENT ID is then the highest the server has given out); every connection
with a higher id was opened by the handlers under test. Two counts must
agree: ``INFO stats total_connections_received`` (every accept, read on the
admin connection before and after) and ``CLIENT LIST`` (the connections
still open).

Proven: a container (one ``create_handler``) serving 50 mixed invocations
(getSms sent, refused by the cooldown, refused by the provider and undone;
logins right, wrong and without a code; an invalid phone that never reaches
Redis) opens exactly one connection and keeps it; a second container opens
its own one, and the first keeps using its own.
"""

from __future__ import annotations

import itertools

import pytest
import redis

from tests.support import answer, get_sms, last_code, login, wrong

BLACKLISTED = "FailedOperation.SignatureIncorrectOrUnapproved"  # a provider refusal that is undone (two round trips)


class Connections:
    """Connections the server accepted after this object's own."""

    def __init__(self, url: str) -> None:
        self.admin = redis.Redis.from_url(url, socket_timeout=10)
        self.own_id = self.admin.client_id()
        self.accepted_before = self._accepted()

    def _accepted(self) -> int:
        return int(self.admin.info("stats")["total_connections_received"])

    def opened(self) -> int:
        """Connections accepted since this object was made (its own excluded)."""
        return self._accepted() - self.accepted_before

    def open_ids(self) -> list[int]:
        """Ids of the connections opened after the admin's that are still open."""
        return sorted(int(c["id"]) for c in self.admin.client_list() if int(c["id"]) > self.own_id)


@pytest.fixture
def connections(redis_url) -> Connections:
    counter = Connections(redis_url)
    yield counter
    counter.admin.close()


def mixed_invocations(handler, sms_api, phones, count: int) -> list[str]:
    """``count`` invocations of every kind, in a fixed order; returns their codeStr.

    The steps take 2, 1, 2, 1, 2, 1 invocations; ``count`` must end on a step (20 and 50 do).
    """
    outcomes = []

    def run(event) -> str:
        outcomes.append(answer(handler(event, {}))["codeStr"])
        return outcomes[-1]

    steps = itertools.cycle(["sent and logged in", "no code", "wrong code", "provider refuses", "cooldown", "bad phone"])
    while len(outcomes) < count:
        step, phone = next(steps), next(phones)
        if step == "sent and logged in":
            run(get_sms(phone))
            run(login(phone, last_code(sms_api, "+" + phone)))
        elif step == "wrong code":
            run(get_sms(phone))
            run(login(phone, wrong(last_code(sms_api, "+" + phone))))
        elif step == "cooldown":
            run(get_sms(phone))
            run(get_sms(phone))
        elif step == "no code":
            run(login(phone, "123456"))
        elif step == "provider refuses":
            sms_api.sms_number_error = BLACKLISTED
            try:
                run(get_sms(phone))
            finally:
                sms_api.sms_number_error = None
        else:
            run(get_sms("12345"))
    assert len(outcomes) == count
    return outcomes


def phone_numbers(first: int):
    return (f"86138{n:08d}" for n in itertools.count(first))


#: Limits out of the way of 50 invocations from one client IP.
ROOMY = dict(IP_SEND_LIMIT="1000", HOURLY_SEND_LIMIT="1000", DAILY_SEND_LIMIT="1000", PREFIX_SEND_LIMIT="1000",
             IP_VERIFY_LIMIT="1000")


def test_a_container_opens_one_connection_for_fifty_mixed_invocations(build, sms_api, connections):
    handler = build(**ROOMY)
    assert connections.opened() == 0  # building the container does no network I/O

    outcomes = mixed_invocations(handler, sms_api, phone_numbers(0), 50)

    assert set(outcomes) == {"Ok", "Success", "CodeIsError", "TooFrequent", "CodeHasExpired", "SmsSendFailed", "InValidParam"}
    assert connections.opened() == 1
    assert len(connections.open_ids()) == 1


def test_a_second_container_opens_its_own_connection(build, sms_api, connections):
    first = build(**ROOMY)
    mixed_invocations(first, sms_api, phone_numbers(0), 20)
    [first_id] = connections.open_ids()

    second = build(**ROOMY)
    mixed_invocations(second, sms_api, phone_numbers(1000), 20)
    mixed_invocations(first, sms_api, phone_numbers(2000), 20)  # the first container keeps its own

    assert connections.opened() == 2
    ids = connections.open_ids()
    assert len(ids) == 2 and first_id in ids
