"""getSms then login through main_handler, real redis-server, Tencent SMS emulator."""

from smsverify.edge.handler import create_handler
from tests.support import answer, get_sms, login


def test_get_sms_then_login_on_one_redis_succeeds_once(redis_url, make_env, sms_api, clock):
    handler = create_handler(make_env(redis_url), clock=clock)
    sent = answer(handler(get_sms("8613800138000"), {}))
    assert sent["codeStr"] == "Ok" and sent["_status"] == 200
    assert sent["expiresIn"] == 300 and sent["resendAfter"] == 60
    [sms] = sms_api.sent_to("+8613800138000")
    code, minutes = sms["params"]
    assert minutes == "5" and len(code) == 6 and code.isdigit()

    first = answer(handler(login("+8613800138000", code), {}))
    assert first["codeStr"] == "Success" and first["_status"] == 200
    again = answer(handler(login("13800138000", code), {}))
    assert again["codeStr"] == "CodeHasExpired" and again["_status"] == 401
