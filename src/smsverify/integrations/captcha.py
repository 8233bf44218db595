"""Tencent Cloud Captcha ticket check (``DescribeCaptchaResult``, version
2019-07-22, https://cloud.tencent.com/document/api/1110/36926) through the
slim SDK ``tencentcloud-sdk-python-captcha``.

The front end solves the captcha and hands the function a ``ticket`` and a
``randstr``; the function asks the Captcha API whether they are genuine with
``CaptchaType`` 9 (fixed by the API), its ``CaptchaAppId`` and
``AppSecretKey``, and the client's IP as ``UserIp``. ``CaptchaCode`` 1 means
verified; any other value is a failed check.
"""

from __future__ import annotations

import threading
from typing import Any

from smsverify.integrations.credentials import TencentCredentials
from smsverify.integrations.tencent_api import sdk_client

CAPTCHA_TYPE = 9
CAPTCHA_OK = 1


class CaptchaRejected(Exception):
    """The ticket did not verify. ``captcha_code`` is the API's CaptchaCode."""

    def __init__(self, captcha_code: int, message: str) -> None:
        super().__init__(f"CaptchaCode {captcha_code}: {message}")
        self.captcha_code = captcha_code


class CaptchaUnavailable(Exception):
    """The Captcha API could not be asked (network, authentication, timeout)."""


class TencentCaptcha:
    """Checks captcha tickets; the SDK client is built on first use and reused."""

    def __init__(
        self, credentials: TencentCredentials, *, app_id: int, app_secret_key: str, endpoint: str, timeout_seconds: float
    ) -> None:
        self.credentials = credentials
        self.app_id = app_id
        self.app_secret_key = app_secret_key
        self.endpoint = endpoint
        self.timeout_seconds = timeout_seconds
        self._client: Any = None
        self._lock = threading.Lock()

    def _sdk_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from tencentcloud.captcha.v20190722.captcha_client import CaptchaClient

                # The Captcha API is served from one region-less endpoint.
                self._client = sdk_client(CaptchaClient, self.credentials, "", self.endpoint, self.timeout_seconds)
            return self._client

    def verify(self, ticket: str, randstr: str, user_ip: str) -> None:
        """Return when the ticket verifies.

        Raises
        ------
        CaptchaRejected
            ``CaptchaCode`` was not 1.
        CaptchaUnavailable
            The API could not answer.
        """
        client = self._sdk_client()
        from tencentcloud.captcha.v20190722 import models
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        request = models.DescribeCaptchaResultRequest()
        request.CaptchaType = CAPTCHA_TYPE
        request.Ticket = ticket
        request.Randstr = randstr
        request.UserIp = user_ip
        request.CaptchaAppId = self.app_id
        request.AppSecretKey = self.app_secret_key
        try:
            response = client.DescribeCaptchaResult(request)
        except TencentCloudSDKException as exc:
            raise CaptchaUnavailable(f"{exc.get_code()}: {str(exc.get_message())[:200]}") from None
        if response.CaptchaCode != CAPTCHA_OK:
            raise CaptchaRejected(int(response.CaptchaCode or 0), response.CaptchaMsg or "")
