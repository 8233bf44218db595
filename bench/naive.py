"""The naive baseline: the verification function as the source documents build it.

Tencent's Node.js SCF demo "SmsVerificationCode" (Tencent Cloud SCF demo
template), ported to Python as literally as the
benchmark needs, defects included; it exists only to be measured against:

- a new Redis client (a new connection) in every invocation;
- the code is 6 characters of a non-cryptographic random number, stored as
  JSON ``{code, num, used}`` under ``sms_<phone>``;
- getSms: ``SET`` then a separate ``EXPIRE 300``, then an SMS client built
  for this invocation sends ``SendSms`` with the code as the only template
  parameter; the code stays stored when the send fails;
- login: ``GET``, compare in the function, then ``SET`` and ``EXPIRE``
  (``EXPIRE 0`` to consume a right code; the TTL reset to 300 s after a
  wrong one): read-then-write, not atomic;
- plain JSON objects as answers (API Gateway passthrough), no log line.

Differences from the demo, none of which favours the baseline: the SMS API
version is 2021-01-11 (the emulator's; the demo used 2019-07-11), the Redis
commands are awaited (the demo fired SET/EXPIRE without waiting), and the
client is closed at the end of the invocation (the demo never closed it, so
connections piled up until the container froze).
"""

from __future__ import annotations

import json
import random
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

import redis

EXPIRE_SECONDS = 5 * 60


class NaiveFunction:
    """``main_handler(event, context)`` of the baseline.

    ``env`` holds REDIS_URL, the SMS_* settings and the TENCENTCLOUD_*
    credentials, as in :func:`tests.support.tencent_env`; ``template_id``
    is a template with one parameter (the demo sends only the code);
    ``expire_seconds`` is the demo's 300 s unless a benchmark must see a code
    expire.
    """

    def __init__(self, env: Mapping[str, str], *, template_id: str, expire_seconds: int = EXPIRE_SECONDS) -> None:
        self.env = dict(env)
        self.template_id = template_id
        self.expire_seconds = expire_seconds

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, str] | None:
        params = dict(event.get("queryString") or {})
        if event.get("httpMethod") == "POST":
            params = dict(parse_qsl(event.get("body") or ""))
        if not params.get("method") or not params.get("phone"):
            return {"codeStr": "InValidParam", "msg": "缺少参数"}
        store = redis.Redis.from_url(self.env["REDIS_URL"])  # a new client per invocation
        try:
            if params["method"] == "getSms":
                return self.get_sms(params, store)
            if params["method"] == "login":
                return self.login(params, store)
            return None  # the demo returns nothing for an unknown method
        finally:
            store.close()

    def get_sms(self, params: Mapping[str, str], store: redis.Redis) -> dict[str, str]:
        code = f"{random.random():.6f}"[-6:]
        key = "sms_" + params["phone"]
        store.set(key, json.dumps({"code": code, "num": 0, "used": False}))
        store.expire(key, self.expire_seconds)
        return self.send_sms(params["phone"], code)

    def login(self, params: Mapping[str, str], store: redis.Redis) -> dict[str, str]:
        if not params.get("code"):
            return {"codeStr": "MissingCode", "errorMessage": "缺少验证码参数"}
        key = "sms_" + params["phone"]
        raw = store.get(key)
        if not raw:
            return {"codeStr": "CodeHasExpired", "msg": "验证码已过期"}
        stored = json.loads(raw)
        if stored["used"] or stored["num"] >= 3:
            return {"codeStr": "CodeHasValid", "msg": "验证码已失效"}
        used = stored["code"] == params["code"]
        store.set(key, json.dumps({"code": stored["code"], "num": stored["num"] + 1, "used": used}))
        store.expire(key, 0 if used else self.expire_seconds)
        if used:
            return {"codeStr": "Success", "msg": "校验验证码成功"}
        return {"codeStr": "CodeIsError", "msg": "请检查手机号和验证码是否正确"}

    def send_sms(self, phone: str, code: str) -> dict[str, str]:
        # The demo builds the credential, profiles and client inside each send.
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        env = self.env
        endpoint = env["SMS_API_ENDPOINT"]
        http = HttpProfile(endpoint=endpoint)
        if "://" in endpoint:  # the local emulator
            parts = urlsplit(endpoint)
            http = HttpProfile(protocol=parts.scheme, endpoint=parts.netloc)
        cred = credential.Credential(
            env["TENCENTCLOUD_SECRETID"], env["TENCENTCLOUD_SECRETKEY"], env.get("TENCENTCLOUD_SESSIONTOKEN")
        )
        client = sms_client.SmsClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+" + phone]
        request.TemplateId = self.template_id
        request.SignName = env["SMS_SIGN"]
        request.TemplateParamSet = [code]
        request.SmsSdkAppId = env["SMS_SDKAPPID"]
        status = client.SendSms(request).SendStatusSet[0]
        return {"codeStr": status.Code, "msg": status.Message}
