"""SMS delivery receipts through ``main_handler``, on a real redis-server and the Tencent Cloud emulator.

* Push: a getSms through the emulator, then Tencent's documented callback
  body for its SerialNo POSTed to ``RECEIPT_PATH`` answers
  ``{"result":0,"errmsg":"OK"}`` and stores ``delivered`` next to the code,
  with the code's TTL. Batches, duplicates (nothing changes, TTL included),
  a failure followed by a late success, unknown serial numbers.
* Refusals with nothing written (Redis key count unchanged): malformed bodies
  (not JSON, not an array, a field of the wrong type, unknown status, too
  many items, too large, one bad item among good ones), GET on the receipt
  path, any other last segment under the receipt prefix (``NotFound``).
* Pull: the SCF timer event pulls the emulator's ``PullSmsSendStatus`` queue
  (TC3-signed, ``Limit`` 100, each status once) and records exact counts;
  a pull error answers ``ReceiptPullFailed``.
* Start-up refuses a weak or malformed ``RECEIPT_PATH``, naming it.
* The same push and pull on the 3-master Redis Cluster.
"""

from __future__ import annotations

import json

import pytest
from redis.cluster import RedisCluster

from smsverify.edge.handler import create_handler
from smsverify.errors import ConfigError
from smsverify.senders.receipts import DeliveryState
from smsverify.store.delivery import delivery_state
from smsverify.store.keys import delivery_key
from tests.support import SDK_APP_ID, SECRET_ID, SECRET_KEY, SESSION_TOKEN, SIGN, TEMPLATE_ID, answer, get_sms

RECEIPT_PATH = "/sms/receipts/Zq8xW1vT5yK2pL9sNc3R"  # pragma: allowlist secret
PHONE = "+8613800138000"
TIMER = {"Type": "Timer", "TriggerName": "receipts", "Time": "2026-11-18T02:00:00Z", "Message": ""}


def receipt_event(body: str, path: str = RECEIPT_PATH, method: str = "POST") -> dict:
    """What API Gateway passes for Tencent's callback POST (no query, JSON body)."""
    return {
        "httpMethod": method,
        "path": path,
        "headers": {"content-type": "application/json", "host": "service-x.gz.apigw.tencentcs.com"},
        "body": body,
        "queryString": {},
        "requestContext": {"requestId": "cb-1", "sourceIp": "198.51.100.20", "path": path, "httpMethod": method},
    }


def raw(response: dict) -> tuple[int, dict]:
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def rc(redis_server, redis_url):
    client = redis_server.client()
    yield client


@pytest.fixture
def handler(build):
    return build(RECEIPT_PATH=RECEIPT_PATH)


def send(handler, sms_api, phone: str = "8613800138000", ip: str = "203.0.113.7") -> str:
    """getSms through main_handler; the SerialNo the emulator gave the SMS."""
    body = answer(handler(get_sms(phone, ip=ip), {}))
    assert body["codeStr"] == "Ok", body
    return sms_api.sent[-1]["serial_no"]


def test_callback_for_the_serial_of_a_get_sms_marks_it_delivered(handler, sms_api, rc):
    serial = send(handler, sms_api)
    assert delivery_state(rc, PHONE, serial) is None

    status, body = raw(handler(receipt_event(sms_api.callback_body(serial)), {}))

    assert (status, body) == (200, {"result": 0, "errmsg": "OK"})
    assert delivery_state(rc, PHONE, serial) == (DeliveryState.DELIVERED, "DELIVRD")
    stored = rc.hgetall(delivery_key(PHONE, serial))
    assert stored == {b"state": b"delivered", b"description": b"DELIVRD", b"at": b"1794967200"}
    assert 0 < rc.pttl(delivery_key(PHONE, serial)) <= 300_000  # CODE_TTL_SECONDS


def test_a_batch_records_every_serial(handler, sms_api, rc):
    serials = [send(handler, sms_api, f"861380013800{i}", ip=f"203.0.113.{i + 1}") for i in range(3)]
    items = json.loads(sms_api.callback_body(*serials[:2])) + json.loads(
        sms_api.callback_body(serials[2], report_status="FAIL", errmsg="MK:0001", description="用户短信发送失败"))

    status, body = raw(handler(receipt_event(json.dumps(items, ensure_ascii=False)), {}))

    assert (status, body) == (200, {"result": 0, "errmsg": "OK"})
    assert [delivery_state(rc, f"+861380013800{i}", serial) for i, serial in enumerate(serials)] == [
        (DeliveryState.DELIVERED, "DELIVRD"), (DeliveryState.DELIVERED, "DELIVRD"), (DeliveryState.FAILED, "MK:0001")]


def test_duplicates_change_nothing_and_a_late_success_wins_over_a_failure(handler, sms_api, rc):
    first, second = send(handler, sms_api), send(handler, sms_api, "8613800138009", ip="203.0.113.9")
    key = delivery_key(PHONE, first)
    body = sms_api.callback_body(first)
    assert raw(handler(receipt_event(body), {}))[0] == 200
    before, ttl = rc.hgetall(key), rc.pttl(key)

    for duplicate in (body, body, sms_api.callback_body(first, report_status="FAIL", errmsg="MK:0001")):
        assert raw(handler(receipt_event(duplicate), {})) == (200, {"result": 0, "errmsg": "OK"})
    assert rc.hgetall(key) == before
    assert rc.pttl(key) <= ttl  # not refreshed

    other = delivery_key("+8613800138009", second)
    handler(receipt_event(sms_api.callback_body(second, report_status="FAIL", errmsg="MK:0001")), {})
    assert delivery_state(rc, "+8613800138009", second) == (DeliveryState.FAILED, "MK:0001")
    handler(receipt_event(sms_api.callback_body(second)), {})
    assert delivery_state(rc, "+8613800138009", second) == (DeliveryState.DELIVERED, "DELIVRD")
    assert 0 < rc.pttl(other) <= 300_000


def test_an_unknown_serial_is_stored_under_the_code_ttl(handler, sms_api, rc):
    status, body = raw(handler(receipt_event(sms_api.callback_body("2019:unknown-serial-1")), {}))

    assert (status, body) == (200, {"result": 0, "errmsg": "OK"})
    assert delivery_state(rc, "+8613900000000", "2019:unknown-serial-1") == (DeliveryState.DELIVERED, "DELIVRD")
    assert 0 < rc.pttl(delivery_key("+8613900000000", "2019:unknown-serial-1")) <= 300_000
    # besides it only the hour's conversion counters (issue 20), which have a TTL of their own
    others = [k for k in rc.keys() if k != delivery_key("+8613900000000", "2019:unknown-serial-1").encode()]
    assert len(others) == 1 and others[0].startswith(b"smsverify:{metrics}:") and rc.ttl(others[0]) > 0


def _item(**changes):
    item = {"user_receive_time": "2026-11-18 10:00:00", "nationcode": "86", "mobile": "13800138000",
            "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": "3369:1"}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not ...}


MALFORMED = {
    "not JSON": "[{not json",
    "empty body": "",
    "an object, not an array": json.dumps(_item()),
    "an item that is not an object": json.dumps([_item(), "sid"]),
    "mobile as a number": json.dumps([_item(mobile=13800138000)]),
    "sid missing": json.dumps([_item(sid=...)]),
    "sid with a space": json.dumps([_item(sid="3369 1")]),
    "unknown report_status": json.dumps([_item(report_status="MAYBE")]),
    "not a phone number": json.dumps([_item(mobile="138-0013")]),
    "bad time": json.dumps([_item(user_receive_time="yesterday")]),
    "one bad item among good ones": json.dumps([_item(sid="3369:2"), _item(errmsg=None), _item(sid="3369:3")]),
    "too many items": json.dumps([_item(sid=f"3369:{i}") for i in range(1001)]),
    "too large": json.dumps([_item(description="x" * 200, sid=f"3369:{i}") for i in range(900)]) + " " * 400_000,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_body_is_refused_with_nothing_written(handler, sms_api, rc, case):
    send(handler, sms_api)
    keys = rc.dbsize()

    body = answer(handler(receipt_event(MALFORMED[case]), {}))

    assert (body["_status"], body["codeStr"]) == (400, "InValidParam")
    assert rc.dbsize() == keys
    assert not rc.keys("*:delivery:*")


def test_a_bad_item_is_named_in_the_refusal(handler, rc):
    body = answer(handler(receipt_event(json.dumps([_item(), _item(mobile=1, report_status="MAYBE")])), {}))

    assert body["codeStr"] == "InValidParam"
    assert "[1].mobile is not a string" in body["msg"]
    assert "13800138000" not in body["msg"]


@pytest.mark.parametrize("path", [
    "/sms/receipts/Zq8xW1vT5yK2pL9sNc3X",     # one character off  # pragma: allowlist secret
    "/sms/receipts/guess",
    "/sms/receipts/",
    "/release/sms/receipts/Zq8xW1vT5yK2pL9sN",  # a prefix of the secret
    "/sms/receipts/Zq8xW1vT5yK2pL9sNc3R/more",  # pragma: allowlist secret
])
def test_another_segment_under_the_receipt_prefix_is_refused_with_nothing_run(handler, sms_api, rc, path):
    keys = rc.dbsize()

    body = answer(handler(receipt_event(sms_api.callback_body("3369:1"), path=path), {}))

    assert (body["_status"], body["codeStr"]) == (404, "NotFound")
    assert rc.dbsize() == keys == 0


def test_the_receipt_path_under_a_stage_prefix_is_a_receipt_and_get_is_refused(handler, sms_api, rc):
    body = answer(handler(receipt_event("[]", method="GET"), {}))
    assert (body["_status"], body["codeStr"]) == (400, "InValidParam")

    status, answered = raw(handler(receipt_event(sms_api.callback_body("3369:7"), path="/release" + RECEIPT_PATH), {}))
    assert (status, answered) == (200, {"result": 0, "errmsg": "OK"})
    assert len(rc.keys("*:delivery:*")) == 1 and rc.dbsize() == 2  # and the hour's counters (issue 20)


def test_without_receipt_path_the_protocol_answers_every_path(build, sms_api, rc):
    handler = build()
    body = answer(handler(receipt_event(sms_api.callback_body("3369:1")), {}))
    assert body["codeStr"] == "InValidParam"  # the protocol's answer to a request without method
    assert rc.dbsize() == 0


@pytest.mark.parametrize("value", ["/sms/receipts/short", "sms/receipts/Zq8xW1vT5yK2pL9sNc3R",  # pragma: allowlist secret
                                   "/Zq8xW1vT5yK2pL9sNc3R", "/sms/receipts/Zq8xW1vT5yK2pL9s.c3R"])
def test_start_up_refuses_a_weak_receipt_path(make_env, value):
    with pytest.raises(ConfigError) as caught:
        create_handler(make_env(None, RECEIPT_PATH=value))
    assert caught.value.variable == "RECEIPT_PATH"


# -------------------------------------------------------------------- pull


def test_the_timer_pulls_and_records_every_status(handler, sms_api, rc):
    serials = [send(handler, sms_api, f"861380013800{i}", ip=f"203.0.113.{i + 1}") for i in range(2)]
    sms_api.sms_delivery = ("FAIL", "MK:0001")
    serials.append(send(handler, sms_api, "8613800138002", ip="203.0.113.3"))
    sms_api.sms_delivery = None  # no report for this one yet
    send(handler, sms_api, "8613800138003", ip="203.0.113.4")

    body = answer(handler(dict(TIMER), {}))

    assert (body["_status"], body["codeStr"]) == (200, "Ok")
    assert {k: body[k] for k in ("pulled", "changed", "unchanged", "skipped")} == {
        "pulled": 3, "changed": 3, "unchanged": 0, "skipped": 0}
    assert sms_api.pulls == 1  # 3 < Limit: the queue is empty
    assert [delivery_state(rc, f"+861380013800{i}", serial) for i, serial in enumerate(serials)] == [
        (DeliveryState.DELIVERED, "DELIVRD"), (DeliveryState.DELIVERED, "DELIVRD"), (DeliveryState.FAILED, "MK:0001")]
    assert len(rc.keys("*:delivery:*")) == 3
    pull = [r for r in sms_api.requests if r["action"] == "PullSmsSendStatus"]
    assert [r["body"] for r in pull] == [{"Limit": 100, "SmsSdkAppId": SDK_APP_ID}]

    again = answer(handler(dict(TIMER), {}))
    assert (again["pulled"], again["changed"], sms_api.pulls) == (0, 0, 2)


def test_the_timer_pulls_100_at_a_time_until_the_queue_is_empty(handler, sms_api, rc):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models
    from tencentcloud.sms.v20210111.sms_client import SmsClient

    client = SmsClient(credential.Credential(SECRET_ID, SECRET_KEY, SESSION_TOKEN), "ap-guangzhou",
                       ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=sms_api.endpoint)))
    request = models.SendSmsRequest()
    request.PhoneNumberSet = [f"+86139{i:08d}" for i in range(150)]
    request.SmsSdkAppId, request.SignName, request.TemplateId = SDK_APP_ID, SIGN, TEMPLATE_ID
    request.TemplateParamSet = ["123456", "5"]
    assert all(s.Code == "Ok" for s in client.SendSms(request).SendStatusSet)
    assert sms_api.queued_statuses == 150

    body = answer(handler(dict(TIMER), {}))

    assert (body["pulled"], body["changed"], body["unchanged"]) == (150, 150, 0)
    assert sms_api.pulls == 2 and sms_api.queued_statuses == 0
    assert len(rc.keys("*:delivery:*")) == 150
    serial = sms_api.sent[149]["serial_no"]
    assert delivery_state(rc, "+8613900000149", serial) == (DeliveryState.DELIVERED, "DELIVRD")


def test_push_and_pull_of_the_same_status_record_it_once(handler, sms_api, rc):
    serial = send(handler, sms_api)
    assert raw(handler(receipt_event(sms_api.callback_body(serial)), {}))[0] == 200

    body = answer(handler(dict(TIMER), {}))

    assert (body["pulled"], body["changed"], body["unchanged"]) == (1, 0, 1)
    assert delivery_state(rc, PHONE, serial) == (DeliveryState.DELIVERED, "DELIVRD")


def test_a_pull_error_answers_receipt_pull_failed(handler, sms_api, rc):
    send(handler, sms_api)
    sms_api.sms_pull_error = ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "pull mode is not enabled")

    body = answer(handler(dict(TIMER), {}))

    assert (body["_status"], body["codeStr"]) == (502, "ReceiptPullFailed")
    assert body["providerCode"] == "tencent:UnauthorizedOperation.SmsSdkAppIdVerifyFail"
    assert not rc.keys("*:delivery:*")


def test_a_redis_failure_while_recording_answers_service_unavailable(handler, sms_api, redis_server):
    serial = send(handler, sms_api)
    redis_server.stop()
    try:
        body = answer(handler(receipt_event(sms_api.callback_body(serial)), {}))
    finally:
        redis_server.start()
    assert (body["_status"], body["codeStr"]) == (503, "ServiceUnavailable")


# ----------------------------------------------------------------- cluster


@pytest.fixture
def cluster(redis_cluster):
    redis_cluster.flush()
    return redis_cluster


def test_push_and_pull_on_a_redis_cluster(cluster, make_env, clock, sms_api):
    handler = create_handler(make_env(cluster.url, REDIS_CLUSTER="true", RECEIPT_PATH=RECEIPT_PATH), clock=clock)
    client = RedisCluster.from_url(cluster.url)
    try:
        first = send(handler, sms_api)
        second = send(handler, sms_api, "8613800138009", ip="203.0.113.9")
        status, body = raw(handler(receipt_event(sms_api.callback_body(first)), {}))
        assert (status, body) == (200, {"result": 0, "errmsg": "OK"})

        pulled = answer(handler(dict(TIMER), {}))

        assert (pulled["pulled"], pulled["changed"], pulled["unchanged"]) == (2, 1, 1)
        assert delivery_state(client, PHONE, first) == (DeliveryState.DELIVERED, "DELIVRD")
        assert delivery_state(client, "+8613800138009", second) == (DeliveryState.DELIVERED, "DELIVRD")
        # Each state lives on its phone's slot, with the code.
        assert client.keyslot(delivery_key(PHONE, first)) == client.keyslot(f"smsverify:{{{PHONE}}}:code")
        assert client.keyslot(delivery_key(PHONE, first)) != client.keyslot(delivery_key("+8613800138009", second))
    finally:
        client.close()


def test_one_invocation_line_per_receipt_and_timer_run_with_counts_and_no_phone(handler, sms_api, capfd):
    from tests.support.logs import capture_all_logs

    serial = send(handler, sms_api)
    with capture_all_logs(sdk_debug=False) as dump:
        handler(receipt_event(sms_api.callback_body(serial)), {})
        handler(receipt_event(json.dumps([_item(mobile=5)])), {})
        handler(dict(TIMER), {})
    lines = [chunk for name, chunk in dump.chunks if chunk.startswith("invocation")]
    out, err = capfd.readouterr()
    text = "\n".join(chunk for _, chunk in dump.chunks) + out + err

    assert len(lines) == 3
    assert "'route': 'receipt'" in lines[0] and "'changed': 1" in lines[0] and "'codeStr': 'Ok'" in lines[0]
    assert "'codeStr': 'InValidParam'" in lines[1] and "mobile is not a string" in lines[1]
    assert "'route': 'timer'" in lines[2] and "'pulled': 1" in lines[2] and "'unchanged': 1" in lines[2]
    assert "13800138000" not in text


def test_the_timer_without_a_tencent_provider_is_refused(build, sms_api, rc):
    handler = build(SMS_PROVIDER="console")

    body = answer(handler(dict(TIMER), {}))

    assert (body["_status"], body["codeStr"]) == (400, "InValidParam")
    assert sms_api.pulls == 0 and rc.dbsize() == 0


def test_scripts_flushed_between_receipts_are_loaded_again(handler, sms_api, rc):
    first, second = send(handler, sms_api), send(handler, sms_api, "8613800138009", ip="203.0.113.9")
    assert raw(handler(receipt_event(sms_api.callback_body(first)), {}))[0] == 200
    rc.script_flush()

    assert raw(handler(receipt_event(sms_api.callback_body(second)), {}))[0] == 200
    assert delivery_state(rc, "+8613800138009", second) == (DeliveryState.DELIVERED, "DELIVRD")
