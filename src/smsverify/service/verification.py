"""The verification protocol: send a code (``getSms``) and check it (``login``).

Nothing here knows about events or HTTP: the edge passes plain strings and
turns the results or the :mod:`smsverify.errors` raised into responses.
"""

from __future__ import annotations

import enum
import logging
import math
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from smsverify import errors
from smsverify.clock import Clock, Moment, moment_at
from smsverify.settings.scenes import DEFAULT_SCENE, is_scene_name
from smsverify.senders.receipts import DeliveryState
from smsverify.senders.base import (
    NumberRateLimited,
    NumberRejected,
    ProviderUnreachable,
    SendError,
    SendReceipt,
    SmsMessage,
)
from smsverify.service.abuse import Client, client_of, destination_prefix
from smsverify.service.codes import code_digest, new_code
from smsverify.service.delivery import Delivery, DeliveryFailed, NoProviderForNumber
from smsverify.service.phone import Phone, parse_phone
from smsverify.service.policy import ServicePolicy
from smsverify.store.base import (
    CheckOutcome,
    CheckResult,
    CodeStore,
    PumpingChange,
    Refusal,
    RefusalReason,
    Replayed,
    Reserved,
    StoreUnavailable,
    Tally,
)

if TYPE_CHECKING:  # smsverify.tokens and smsverify.integrations.wechat load only where they are used
    from smsverify.tokens import IssuedToken, TokenIssuer
    from smsverify.integrations.wechat import WechatIdentity

log = logging.getLogger("smsverify")

#: CaptchaCode values that also mean our own CaptchaAppId/AppSecretKey may be
#: wrong (DescribeCaptchaResult: 16 appid-ticket mismatch, 100
#: appid-secretkey-ticket mismatch). A ticket of another app gives them too,
#: so the client still gets CaptchaFailed, and the operator an ERROR line.
CAPTCHA_CONFIG_SUSPECT = frozenset({16, 100})

#: A number the provider refused (number-level, e.g. Tencent
#: FailedOperation.PhoneNumberInBlacklist) is not asked again for the resend
#: interval, and for at least this many seconds (SEND_INTERVAL_SECONDS may be 0).
MIN_REFUSAL_BACKOFF_SECONDS = 60

#: The provider named for a test number's "send" (nothing is sent, nothing billed).
TEST_PROVIDER = "test"

#: ``amr`` of a token for a test number (RFC 8176 "sms", plus "test" so a backend can refuse it).
TEST_AMR = ("sms", "test")

#: A client-made ``verificationId``: 22-64 characters of the URL-safe base64
#: alphabet, i.e. at least 128 bits when random (22 x 6 = 132 bits).
VERIFICATION_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")


class CaptchaVerifier(Protocol):
    def verify(self, ticket: str, randstr: str, user_ip: str) -> None: ...


class WechatExchanger(Protocol):
    """:class:`smsverify.integrations.wechat.WechatLogin`'s contract."""

    def exchange(self, wx_code: str) -> WechatIdentity: ...


class Channel(str, enum.Enum):
    """How a code reaches the phone (the ``channel`` parameter of getSms)."""

    SMS = "sms"
    VOICE = "voice"


@dataclass(frozen=True)
class CodeSent:
    """getSms succeeded: the code is stored and the provider accepted the SMS."""

    phone: Phone
    expires_in: int  #: seconds the code stays valid
    resend_after: int  #: seconds until the next getSms for this phone can pass
    receipt: SendReceipt  #: from the provider that sent it (``receipt.provider``)
    failed_providers: tuple[str, ...] = ()  #: ``provider:code`` of failed attempts before it
    verification: str | None = None  #: the ``verificationId`` the code is bound to (``None``: legacy)
    replayed: bool = False  #: a repeat inside the resend interval: nothing was sent
    channel: Channel = Channel.SMS  #: how the code was sent
    test_number: bool = False  #: a ``TEST_PHONE_NUMBERS`` number: nothing was sent


class DeliveryStatus(NamedTuple):
    """``method=status``: where a verification's code stands (:meth:`VerificationService.status`)."""

    delivery: DeliveryState  #: ``sent`` until a receipt says ``delivered`` or ``failed``
    channel: Channel
    description: str  #: the carrier's word from the receipt (e.g. ``DELIVRD``), "" before one
    resend_after: int  #: seconds until the verification may be sent again (0: now)
    other_channel: bool  #: a resend by the other route (voice after SMS) is possible at all


@dataclass(frozen=True)
class CodeVerified:
    """login succeeded: the code was right and is now consumed."""

    phone: Phone
    token: IssuedToken | None = None  #: the signed login token, when the service has an issuer
    wechat: WechatIdentity | None = None  #: who sent ``wxCode``, when WeChat login is on and one was sent
    test_number: bool = False  #: a ``TEST_PHONE_NUMBERS`` number logged in with its fixed code


def _store_down(exc: StoreUnavailable, address: str = "") -> None:
    """The one WARNING line of a 503 caused by Redis: its cause class and where, no secrets."""
    log.warning("redis unavailable at %s (cause: %s); answering ServiceUnavailable", address or "?", exc.cause)


#: CaptchaRequired's message by what asked for the captcha (a limit's refusal word, or the login's).
_STEP_UP_MESSAGES: dict[RefusalReason | str | None, str] = {
    RefusalReason.DAILY: "该手机号今日获取验证码次数较多，请先完成人机验证",
    RefusalReason.HOURLY: "该手机号获取验证码过于频繁，请先完成人机验证",
    RefusalReason.IP: "当前网络获取验证码过于频繁，请先完成人机验证",
    RefusalReason.SITE: "当前网络获取验证码过于频繁，请先完成人机验证",
    RefusalReason.GLOBAL: "发送量较大，请先完成人机验证",
    RefusalReason.CONVERSION: "该号段近期验证码使用率异常，请先完成人机验证",
    "login": "验证码错误次数较多，请先完成人机验证",
}


def _block_changed(change: PumpingChange, minimum: float) -> None:
    """The one WARNING line of a number block's change of state (pumping caught by conversion)."""
    rate = change.verified / change.sends if change.sends else 0.0
    log.warning(
        "number block %s: %s -> %s (conversion %d/%d = %.2f, PUMPING_MIN_CONVERSION=%.2f)",
        change.block, change.old, change.new, change.verified, change.sends, rate, minimum,
        extra={"fields": {"pumpingBlock": change.block, "pumpingFrom": change.old, "pumpingTo": change.new,
                          "windowSends": change.sends, "windowVerified": change.verified}},
    )


def _seconds(ms: int) -> int:
    return max(1, math.ceil(ms / 1000))


class VerificationService:
    """Sends and checks verification codes.

    Parameters
    ----------
    policy:
        The numbers the service decides with (built by :mod:`smsverify.bootstrap`).
    store:
        The code store (Redis).
    delivery:
        The SMS providers, in failover order.
    captcha:
        Captcha ticket verifier, or ``None`` when captcha is off.
    clock:
        Unix time in seconds; tests pass a controllable one.
    issuer:
        Signs a token for each right code (:mod:`smsverify.tokens`), or ``None``.
    wechat:
        Exchanges a login's ``wxCode``, or ``None`` when WeChat login is off
        (then ``wxCode`` is ignored).
    voice:
        Delivers voice codes (``channel=voice``, Tencent Cloud VMS), or ``None``
        when ``VOICE_SDKAPPID`` is unset.
    store_address:
        Where the store is (``host:port``, never a password), for the WARNING
        line of a Redis outage.
    """

    def __init__(
        self,
        policy: ServicePolicy,
        store: CodeStore,
        delivery: Delivery,
        captcha: CaptchaVerifier | None = None,
        clock: Clock = time.time,
        issuer: TokenIssuer | None = None,
        wechat: WechatExchanger | None = None,
        voice: Delivery | None = None,
        store_address: str = "",
    ) -> None:
        self.policy = policy
        self.issuer = issuer
        self.store = store
        self.delivery = delivery
        self.captcha = captcha
        self.clock = clock
        self.wechat = wechat
        self.voice = voice
        self.store_address = store_address
        self._keys = list(policy.code_keys)
        if policy.captcha_required != (captcha is not None):
            raise ValueError("a captcha verifier is needed exactly when policy.captcha_required is True")
        if captcha is None:
            log.warning(
                "no captcha configured: requests whose event carries no client IP (requestContext.sourceIp) share "
                "one bucket of UNKNOWN_IP_SEND_LIMIT=%d getSms per %d s and nothing else tells their clients apart; "
                "set CAPTCHA_APP_ID and CAPTCHA_APP_SECRET_KEY to ask them for a captcha ticket",
                policy.unknown_ip_send_limit, policy.ip_send_window_seconds,
            )

    def phone(self, raw: str) -> Phone:
        """A client's spelling of a phone as a :class:`Phone`; raises :class:`errors.InvalidParam`."""
        return parse_phone(raw, self.policy.default_region, self.policy.allowed_country_codes)

    def is_test_number(self, phone: Phone) -> bool:
        """Whether ``phone`` is one of ``TEST_PHONE_NUMBERS`` (no SMS; its fixed code logs in)."""
        return phone.e164 in self.policy.test_phone_numbers

    def scene(self, raw: str | None) -> str:
        """The scene a request names (``None`` or blank: ``login``), checked against ``SMS_SCENES``.

        Raises
        ------
        errors.InvalidParam
            Not one of the allowed scenes (the message names them).
        """
        if raw is None or raw.strip() == "":
            return DEFAULT_SCENE
        scene = raw.strip()
        if not is_scene_name(scene) or scene not in self.policy.scenes:
            raise errors.InvalidParam(f"参数 scene 无效，可用：{', '.join(self.policy.scenes)}")
        return scene

    # -- getSms -------------------------------------------------------------------
    def verification_id(self, raw: str | None) -> str | None:
        """A request's ``verificationId`` (``None`` or blank: a legacy request), checked.

        Raises
        ------
        errors.InvalidParam
            Not 22-64 characters of ``[A-Za-z0-9_-]`` (:data:`VERIFICATION_ID`).
        """
        if raw is None or raw == "":
            return None
        if not VERIFICATION_ID.fullmatch(raw):
            raise errors.InvalidParam("参数 verificationId 无效：应为客户端生成的 22-64 位随机串（A-Z a-z 0-9 _ -）")
        return raw

    def _client(self, client_ip: str | None) -> Client:
        return client_of(client_ip, self.policy.ipv6_prefix_length, self.policy.ipv6_site_prefix_length)

    def _captcha_state(self, client: Client, *, sending: bool) -> int:
        """The store's ``captcha`` switch: 0 off, 1 reached limits step up, 2 a ticket is required now."""
        if self.captcha is None:
            return 0
        if not client.known or (sending and self.policy.captcha_mode == "always"):
            return 2
        return 1

    def send_code(
        self,
        phone: Phone,
        *,
        client_ip: str | None,
        ticket: str | None = None,
        randstr: str | None = None,
        reference: str = "",
        scene: str = DEFAULT_SCENE,
        verification: str | None = None,
        channel: Channel = Channel.SMS,
    ) -> CodeSent:
        """Send a new verification code to ``phone``.

        Order: reserve the send and store the code's HMAC in one atomic store
        step, which checks every limit first (and reads which providers are
        marked down); only when a limit or the captcha mode asks for it is
        the captcha ticket verified, and the store step run again with it.
        Then deliver through the providers in failover order
        (:mod:`smsverify.service.delivery`).

        With ``verification`` (the client's ``verificationId``, from
        :meth:`verification_id`) the code is bound: only a login with the same
        id checks it, the resend interval is that verification's, and a
        repeat inside it answers the first request's ``Ok`` (``replayed``)
        without a second SMS. Without one the code is the phone's legacy
        code (refused with ``InvalidParam`` when ``LEGACY_LOGIN=off``).

        When no provider sent it, the reservation is released, so the refused
        send costs the user no quota, except after a provider's own
        per-number frequency limit (the limit is real) and after a timeout
        (the SMS may have gone out, so its code is kept). A number-level
        refusal (the provider refuses this number) still counts against the
        client's quota and backs the phone off for the resend interval (at
        least :data:`MIN_REFUSAL_BACKOFF_SECONDS`) with ``TooFrequent``,
        without asking the provider. A resend never costs the user the code
        they have: beside a still-valid code the new one is pending, and
        replaces it only once a provider accepted the SMS; refused, the old
        code stays with its remaining TTL and wrong tries; after a timeout
        both stay valid.

        Parameters
        ----------
        phone:
            From :meth:`phone`.
        client_ip:
            The caller's IP as seen by the gateway, or ``None`` when unknown
            (:func:`smsverify.service.abuse.client_of`): limits count per
            client, per IPv6 site, and in one shared bucket
            (``UNKNOWN_IP_SEND_LIMIT``) for every request without an IP.
        ticket, randstr:
            Captcha answer from the front end: verified only when asked for
            (``CAPTCHA_MODE=always``, no client IP, or a limit reached).
        reference:
            The invocation's request id, kept by providers that store one.
        scene:
            What the code is for, from :meth:`scene`: the code is stored per
            (phone, scene) and sent with the scene's template; the send
            limits are the phone's, across scenes.
        verification:
            The client's ``verificationId`` or ``None`` (legacy).
        channel:
            :attr:`Channel.VOICE` reads the code out in a phone call (Tencent
            Cloud VMS, mainland numbers only): a resend of the same
            verification by another route, counted against the phone's send
            limits like an SMS and against ``VOICE_DAILY_LIMIT``.

        Raises
        ------
        errors.InvalidParam, errors.CaptchaRequired, errors.CaptchaFailed,
        errors.TooFrequent, errors.HourlyLimitExceeded, errors.DailyLimitExceeded,
        errors.IpLimitExceeded, errors.PrefixLimitExceeded, errors.ServiceBusy,
        errors.SmsSendFailed, errors.SmsSendTimeout, errors.ServiceUnavailable
        """
        if scene not in self.policy.scenes:
            raise errors.InvalidParam(f"参数 scene 无效，可用：{', '.join(self.policy.scenes)}")
        if verification is None and not self.policy.legacy_login:
            raise errors.InvalidParam("缺少参数 verificationId（本服务只签发绑定验证码）")
        delivery = self.delivery
        if channel is Channel.VOICE:
            if self.voice is None:
                raise errors.InvalidParam("未开通语音验证码（channel=voice 需要配置 VOICE_SDKAPPID）")
            delivery = self.voice
            if not any(sender.supports(phone.e164) for sender in delivery.senders):
                raise errors.InvalidParam("语音验证码仅支持中国大陆手机号")
        client = self._client(client_ip)
        prefix = destination_prefix(phone, self.policy.prefix_digits)
        test_code = self.policy.test_phone_numbers.get(phone.e164)
        code = new_code(self.policy.code_length) if test_code is None else test_code
        reservation = uuid.uuid4().hex
        moment = moment_at(self.clock())
        watched = delivery.names if delivery.failover else ()
        voice = channel is Channel.VOICE
        captcha = self._captcha_state(client, sending=True)
        digest = code_digest(self._keys[0], phone.e164, code)
        tally = self._tally(phone, prefix, scene, delivery)

        def reserve(ticket_ok: bool) -> Refusal | Reserved | Replayed:
            try:
                outcome = self.store.reserve_send(
                    phone.e164, digest, reservation, client.key, moment, watched, prefix=prefix, ticket=ticket_ok,
                    scene=scene, verification=verification, site=client.site, captcha=captcha, voice=voice, tally=tally,
                )
            except StoreUnavailable as exc:
                _store_down(exc, self.store_address)
                # No answer even after the store's retries: the reservation may
                # have been made. Undo it by its id so the user's retry is not
                # refused by a cooldown for an SMS that never left.
                self._release(phone, reservation, client, moment, prefix, scene, verification, quiet=True, voice=voice, tally=tally)
                raise errors.ServiceUnavailable() from exc
            if not isinstance(outcome, Replayed) and outcome.pumping is not None:
                _block_changed(outcome.pumping, self.policy.insight.pumping_min_conversion)
            if isinstance(outcome, Reserved) and outcome.spend_alert:
                log.error("SMS spend this hour passed SPEND_ALERT_PER_HOUR=%s CNY (priced by SMS_PRICE); "
                          "see python -m smsverify stats --by prefix", self.policy.insight.spend_alert_per_hour)
            return outcome

        outcome = reserve(False)
        if isinstance(outcome, Refusal) and outcome.reason is RefusalReason.STEPUP:
            self._check_captcha(ticket, randstr, client_ip, outcome.limit)
            outcome = reserve(True)
        if isinstance(outcome, Refusal):
            raise self._refused(outcome)
        ttl = self.policy.code_ttl_seconds
        if isinstance(outcome, Replayed):
            return CodeSent(phone=phone, expires_in=ttl, resend_after=self.policy.send_interval_seconds,
                            receipt=SendReceipt(outcome.provider), verification=verification, replayed=True,
                            channel=channel)
        if test_code is not None:  # a test number (TEST_PHONE_NUMBERS): its fixed code is stored, nothing is sent
            if outcome.pending or verification is not None:
                self._settle(phone, reservation, moment, scene, verification, accepted=True,
                             receipt=SendReceipt(TEST_PROVIDER))
            return CodeSent(phone=phone, expires_in=ttl, resend_after=self.policy.send_interval_seconds,
                            receipt=SendReceipt(TEST_PROVIDER), verification=verification, channel=channel,
                            test_number=True)
        message = SmsMessage(
            phone=phone.e164, code=code, ttl_minutes=math.ceil(ttl / 60), reference=reference, scene=scene
        )
        try:
            receipt, failures = delivery.send(message, outcome.providers_down, lambda exc: self._provider_failed(exc, moment))
        except NoProviderForNumber:
            self._release(phone, reservation, client, moment, prefix, scene, verification, voice=voice, tally=tally)
            raise errors.InvalidParam("已配置的短信服务商均不支持该手机号所在地区") from None
        except DeliveryFailed as failed:
            if isinstance(failed.final, NumberRateLimited):
                # The provider's limit is real: the reservation stays, but its
                # never-delivered code must not replace the one the user has.
                if outcome.pending:
                    self._settle(phone, reservation, moment, scene, verification, accepted=False)
            elif not failed.maybe_sent:
                # A number-level refusal backs the phone off, so that repeated
                # requests do not ask the provider again and again, and still
                # counts against the client that asked for that number.
                rejected = isinstance(failed.final, NumberRejected)
                self._release(phone, reservation, client, moment, prefix, scene, verification,
                              backoff_ms=self._refusal_backoff_ms if rejected else 0, keep_client=rejected, voice=voice, tally=tally)
            # maybe sent: both codes stay valid (a pending one until its TTL).
            error = self._delivery_error(failed, moment)
            error.log_fields["failedProviders"] = [f.qualified_code for f in failed.failures]
            raise error from None
        if tally is not None and receipt.provider != tally.provider and receipt.provider:
            self._failed_over(moment, tally, receipt.provider)
        if outcome.pending or verification is not None:
            # a resend beside a valid code: the new one now replaces it; a bound
            # code also records who sent it (for a repeat and for its delivery state)
            self._settle(phone, reservation, moment, scene, verification, accepted=True, receipt=receipt)
        return CodeSent(
            phone=phone,
            expires_in=ttl,
            resend_after=self.policy.send_interval_seconds,
            receipt=receipt,
            failed_providers=tuple(f.qualified_code for f in failures),
            verification=verification,
            channel=channel,
        )

    def _tally(self, phone: Phone, block: str, scene: str, delivery: Delivery) -> Tally | None:
        """Where a send to ``phone`` counts (:class:`~smsverify.store.base.Tally`); ``None`` when no
        provider serves the number (the send is refused before it counts)."""
        provider = delivery.expected(phone.e164)
        if provider is None:
            return None
        insight = self.policy.insight
        return Tally(block, provider, scene, insight.price_micro(provider, phone.country_code),
                     judged=insight.pumping_window_sends > 0 and not insight.exempt(block))

    def _failed_over(self, moment: Moment, tally: Tally, provider: str) -> None:
        try:
            self.store.record_failover(moment, tally, provider)
        except StoreUnavailable as exc:
            log.warning("could not move the sent count to provider %s (cause: %s)", provider, exc.cause)

    def _provider_failed(self, exc: SendError, moment: Moment) -> None:
        """A provider-level failure: log it, and with failover mark the
        provider down for ``PROVIDER_BACKOFF_SECONDS`` in every instance."""
        # The code and its kind only: a provider's own message may quote the number.
        log.error("sms provider failed: %s (%s)", exc.qualified_code, type(exc).__name__)
        seconds = self.policy.provider_backoff_seconds
        if not self.delivery.failover or seconds <= 0:
            return
        try:
            self.store.mark_provider_down(exc.provider, moment, seconds)
        except StoreUnavailable:
            log.error("could not mark sms provider %s down", exc.provider)

    def _delivery_error(self, failed: DeliveryFailed, moment: Moment) -> errors.VerificationError:
        final = failed.final
        code = final.qualified_code
        if isinstance(final, NumberRateLimited):
            if final.daily:  # the provider's day: assumed to be China's calendar day, like ours
                return errors.DailyLimitExceeded(retryAfter=_seconds(moment.ms_to_day_end), providerCode=code)
            # The provider's own short-term window, not ours: SEND_INTERVAL_SECONDS may be 0.
            return errors.TooFrequent(retryAfter=max(1, self.policy.send_interval_seconds), providerCode=code)
        if isinstance(final, NumberRejected):
            return errors.InvalidParam("短信服务商无法识别该手机号", providerCode=code)
        if failed.maybe_sent:
            timed_out = next(f for f in failed.failures if f.maybe_sent)
            log.warning("sms send outcome unknown (%s); code kept", timed_out.qualified_code)
            return errors.SmsSendTimeout(
                providerCode=timed_out.qualified_code, resendAfter=self.policy.send_interval_seconds
            )
        if isinstance(final, ProviderUnreachable):
            return errors.SmsSendFailed("短信服务连接失败", providerCode=code)
        return errors.SmsSendFailed(providerCode=code)

    def _check_captcha(self, ticket: str | None, randstr: str | None, client_ip: str | None,
                       limit: RefusalReason | str | None = None) -> None:
        """Verify the request's captcha answer; ``limit`` names what asked for it (for the message).

        Raises errors.CaptchaRequired (no ticket), errors.CaptchaFailed, errors.ServiceUnavailable.
        """
        from smsverify.integrations.captcha import CaptchaRejected, CaptchaUnavailable

        if not ticket or not randstr:
            raise errors.CaptchaRequired(_STEP_UP_MESSAGES.get(limit, "请先完成人机验证（缺少 ticket 或 randstr）"))
        try:
            self.captcha.verify(ticket, randstr, client_ip or "0.0.0.0")
        except CaptchaRejected as exc:
            if exc.captcha_code in CAPTCHA_CONFIG_SUSPECT:
                log.error("captcha rejected with CaptchaCode %d: check CAPTCHA_APP_ID and CAPTCHA_APP_SECRET_KEY", exc.captcha_code)
            raise errors.CaptchaFailed(captchaCode=exc.captcha_code) from None
        except CaptchaUnavailable as exc:
            log.error("captcha check unavailable: %s", exc)
            raise errors.ServiceUnavailable("人机验证服务暂不可用，请稍后再试") from None

    def _refused(self, refusal: Refusal) -> errors.VerificationError:
        reason = refusal.reason
        retry_after = _seconds(refusal.wait_ms)
        if reason is RefusalReason.COOLDOWN:
            return errors.TooFrequent(retryAfter=retry_after)
        if reason is RefusalReason.HOURLY:
            return errors.HourlyLimitExceeded(retryAfter=retry_after)
        if reason is RefusalReason.DAILY:
            return errors.DailyLimitExceeded(retryAfter=retry_after)
        if reason is RefusalReason.IP:
            return errors.IpLimitExceeded(retryAfter=retry_after)
        if reason is RefusalReason.SITE:
            return errors.IpLimitExceeded("当前网络获取验证码过于频繁，请稍后再试", retryAfter=retry_after)
        if reason is RefusalReason.PREFIX:
            return errors.PrefixLimitExceeded(retryAfter=retry_after)
        if reason is RefusalReason.CONVERSION:
            error = errors.PrefixLimitExceeded("该号段近期验证码使用率异常，请稍后再试", retryAfter=retry_after, reason="conversion")
            error.log_fields["reason"] = "conversion"
            return error
        if refusal.first_trip:
            log.error(
                "global send limit reached: %d SMS per %d s; getSms refused until the window frees up",
                self.policy.global_send_limit,
                self.policy.global_send_window_seconds,
            )
        return errors.ServiceBusy(retryAfter=retry_after)

    @property
    def _refusal_backoff_ms(self) -> int:
        """How long a number the provider refused (number-level) is not asked again:
        the resend interval, at least :data:`MIN_REFUSAL_BACKOFF_SECONDS`."""
        return max(self.policy.send_interval_seconds, MIN_REFUSAL_BACKOFF_SECONDS) * 1000

    def _release(
        self, phone: Phone, reservation: str, client: Client, moment: Moment, prefix: str, scene: str,
        verification: str | None, *, backoff_ms: int = 0, keep_client: bool = False, quiet: bool = False,
        voice: bool = False,
        tally: Tally | None = None,
    ) -> None:
        """Give back what ``reservation`` counted. ``quiet``: after a reserve that got no answer,
        when there may be nothing to give back (Redis is down: one WARNING line said so)."""
        try:
            self.store.release_send(
                phone.e164, reservation, client.key, moment, prefix=prefix, scene=scene, backoff_ms=backoff_ms,
                verification=verification, site=client.site, keep_client=keep_client, voice=voice, tally=tally,
            )
        except StoreUnavailable:
            if not quiet:
                log.error("could not release the send reservation for %s; its cooldown and counts stay", phone.masked)

    def _settle(self, phone: Phone, reservation: str, moment: Moment, scene: str, verification: str | None, *,
                accepted: bool, receipt: SendReceipt | None = None) -> None:
        try:
            self.store.settle_send(
                phone.e164, reservation, moment, accepted=accepted, scene=scene, verification=verification,
                provider=receipt.provider if receipt else "", serial_no=receipt.serial_no if receipt else "",
            )
        except StoreUnavailable as exc:
            # Both codes stay valid until the older one expires: lenient, never a refusal.
            log.warning("could not settle the sent code for %s (cause: %s); both codes stay valid",
                        phone.masked, exc.cause)

    # -- status -------------------------------------------------------------------
    def status(self, phone: Phone, verification: str | None, *, client_ip: str | None,
               scene: str = DEFAULT_SCENE) -> DeliveryStatus:
        """Where the code of ``verification`` stands: sent, delivered or failed (delivery
        receipts, :mod:`smsverify.store.delivery`), by which channel, and when it may be sent
        again. Only the holder of the ``verificationId`` can ask (legacy codes have no status:
        anyone could ask); an unknown, expired or used id is ``CodeHasExpired``, the same
        answer as for an id never sent, so nothing is revealed. Each request counts against
        the client's status quota (``STATUS_LIMIT`` per ``STATUS_WINDOW_SECONDS``).

        Raises
        ------
        errors.InvalidParam (no ``verificationId``), errors.CodeHasExpired,
        errors.IpLimitExceeded (``retryAfter``), errors.ServiceUnavailable
        """
        if verification is None:
            raise errors.InvalidParam("method=status 需要参数 verificationId（旧版验证码没有状态）")
        moment = moment_at(self.clock())
        try:
            wait_ms = self.store.count_status(self._client(client_ip).key, moment)
            if wait_ms:
                raise errors.IpLimitExceeded("当前网络查询过于频繁，请稍后再试", retryAfter=_seconds(wait_ms))
            code = self.store.bound_code(phone.e164, scene, verification, moment)
            if code is None:
                raise errors.CodeHasExpired()
        except StoreUnavailable as exc:
            _store_down(exc, self.store_address)
            raise errors.ServiceUnavailable() from exc
        voice_sent = code.provider in self._voice_names
        delivery, description = (DeliveryState(code.delivery[0]), code.delivery[1]) if code.delivery else (
            DeliveryState.SENT, "")
        return DeliveryStatus(
            delivery=delivery,
            channel=Channel.VOICE if voice_sent else Channel.SMS,
            description=description,
            resend_after=math.ceil(code.resend_wait_ms / 1000),
            other_channel=self.voice is not None and not voice_sent,
        )

    @property
    def _voice_names(self) -> tuple[str, ...]:
        return self.voice.names if self.voice is not None else ()

    # -- keys ---------------------------------------------------------------------
    def jwks(self) -> dict:
        """The public keys that verify this service's login tokens: ``{"keys": [JWK, ...]}`` (RFC 7517).

        Raises
        ------
        errors.InvalidParam
            Tokens are signed with a shared secret (``TOKEN_SECRET``, HS256), or not issued at all:
            there is no public key to publish.
        """
        from smsverify.tokens import NoPublicKey

        if self.issuer is None:
            raise errors.InvalidParam("未配置登录令牌 (login tokens are off)")
        try:
            return self.issuer.jwks()
        except NoPublicKey:
            raise errors.InvalidParam("令牌使用 HS256 共享密钥签名，没有公钥 (no public key with TOKEN_SECRET)") from None

    # -- login --------------------------------------------------------------------
    def check_code(
        self,
        phone: Phone,
        code: str | None,
        *,
        client_ip: str | None = None,
        ticket: str | None = None,
        randstr: str | None = None,
        wx_code: str | None = None,
        scene: str = DEFAULT_SCENE,
        verification: str | None = None,
    ) -> CodeVerified:
        """Check ``code`` for ``phone`` (from :meth:`phone`) and consume it when right.

        With ``verification`` (the ``verificationId`` of the getSms) only that
        verification's bound code is checked, and a wrong code counts on it
        alone. Without, the phone's legacy code: a wrong code also counts on
        the phone's day (``DAILY_VERIFY_LIMIT``) and in the client's
        (``IP_VERIFY_LIMIT``; ``client_ip`` ``None``: the no-IP bucket) and the
        global (``GLOBAL_VERIFY_LIMIT``) failed-login quotas, which are checked
        first. A login with no live code to check counts nothing anywhere.
        With captcha configured a reached quota (or ``VERIFY_CAPTCHA_AFTER``
        wrong codes for the phone today, or no client IP) asks for ``ticket``
        and ``randstr``, verified only then. With WeChat login on and a
        ``wx_code`` (from ``wx.login``), the code is first checked without
        being consumed, the ``wx_code`` exchanged only when it is right, and
        the code consumed after the exchange succeeded: a mistyped code leaves
        the ``wx_code`` unspent, and a refusal or an outage at WeChat leaves
        the SMS code valid. Only a code sent for ``scene`` (from
        :meth:`scene`) matches: another scene's code is ``CodeHasExpired``
        here. The token carries ``scene``.

        Raises
        ------
        errors.InvalidParam, errors.MissingCode, errors.CodeHasExpired,
        errors.CodeHasValid, errors.CodeIsError (``attemptsLeft``),
        errors.VerifyLimitExceeded, errors.IpLimitExceeded, errors.ServiceBusy,
        errors.CaptchaRequired, errors.CaptchaFailed, errors.ServiceUnavailable,
        errors.WechatLoginFailed (``wechatErrcode``)
        """
        if scene not in self.policy.scenes:
            raise errors.InvalidParam(f"参数 scene 无效，可用：{', '.join(self.policy.scenes)}")
        if code is None or code.strip() == "":
            raise errors.MissingCode()
        code = code.strip()
        if not code.isascii() or not code.isdigit() or len(code) > 16:
            raise errors.InvalidParam("验证码格式不正确，应为数字")
        digests = [code_digest(key, phone.e164, code) for key in self._keys]
        client = self._client(client_ip)
        captcha = self._captcha_state(client, sending=False)
        exchange = self.wechat is not None and bool(wx_code)

        def check(ticket_ok: bool, peek: bool) -> CheckResult:
            try:
                return self.store.check_code(
                    phone.e164, digests, moment_at(self.clock()), client=client.key, ticket=ticket_ok, scene=scene,
                    verification=verification, captcha=captcha, peek=peek,
                    block=destination_prefix(phone, self.policy.prefix_digits),
                )
            except StoreUnavailable as exc:
                _store_down(exc, self.store_address)
                raise errors.ServiceUnavailable() from exc

        ticket_ok = False
        result = check(False, exchange)
        if result.status is CheckOutcome.CAPTCHA:
            if result.global_quota:
                self._global_verify_tripped(captcha=True)
            self._check_captcha(ticket, randstr, client_ip, "login")
            ticket_ok = True
            result = check(True, exchange)
        identity = None
        if result.status is CheckOutcome.OK and exchange:
            identity = self._exchange_wx_code(wx_code or "")
            result = check(ticket_ok, False)  # consume: a concurrent login may have won it meanwhile
        if result.status is CheckOutcome.OK:
            test = phone.e164 in self.policy.test_phone_numbers
            return CodeVerified(phone=phone, token=self._token(phone, identity, scene, test=test), wechat=identity,
                                test_number=test)
        if result.status is CheckOutcome.IP:
            raise errors.IpLimitExceeded("当前网络校验失败次数过多，请稍后再试", retryAfter=_seconds(result.wait_ms))
        if result.status is CheckOutcome.BUSY:
            self._global_verify_tripped(captcha=False)
            raise errors.ServiceBusy("校验失败的请求过多，请稍后再试", retryAfter=_seconds(result.wait_ms))
        if result.status is CheckOutcome.CAPTCHA:  # only after a verified ticket: cannot pass twice
            raise errors.CaptchaRequired(_STEP_UP_MESSAGES["login"])
        if result.status is CheckOutcome.WRONG:
            raise errors.CodeIsError(attemptsLeft=result.tries_left)
        if result.status is CheckOutcome.INVALIDATED:
            raise errors.CodeHasValid()
        if result.status is CheckOutcome.LOCKED:
            raise errors.VerifyLimitExceeded(retryAfter=_seconds(result.wait_ms))
        raise errors.CodeHasExpired()

    def _global_verify_tripped(self, *, captcha: bool) -> None:
        """One WARNING per window, across instances, when the global failed-login quota is reached."""
        window = self.policy.global_verify_window_seconds
        try:
            first = self.store.first_of_window("verifies", moment_at(self.clock()), window)
        except StoreUnavailable:
            return
        if first:
            log.warning(
                "global failed-login quota reached: GLOBAL_VERIFY_LIMIT wrong codes for legacy codes per %d s; "
                "legacy logins %s until the window frees up (bound codes are not affected)",
                window, "need a captcha" if captcha else "are refused (ServiceBusy)",
            )

    def _token(self, phone: Phone, identity: WechatIdentity | None, scene: str, *, test: bool = False) -> IssuedToken | None:
        """The signed login token for ``phone``, naming the WeChat user too when one was exchanged."""
        if self.issuer is None:
            return None
        extra: dict[str, str] = {}
        if identity is not None:
            extra["openid"] = identity.openid
            if identity.unionid:
                extra["unionid"] = identity.unionid
        if test:
            return self.issuer.issue(phone_e164=phone.e164, scene=scene, extra_claims=extra, amr=TEST_AMR)
        return self.issuer.issue(phone_e164=phone.e164, scene=scene, extra_claims=extra)

    def _exchange_wx_code(self, wx_code: str) -> WechatIdentity:
        from smsverify.integrations.wechat import InvalidWxCode, WechatRejected, WechatUnavailable

        try:
            return self.wechat.exchange(wx_code)
        except InvalidWxCode:
            raise errors.InvalidParam("参数 wxCode 格式不正确") from None
        except WechatRejected as exc:
            error = errors.WechatLoginFailed(wechatErrcode=exc.errcode)
            error.log_fields["wechatErrcode"] = exc.errcode
            raise error from None
        except WechatUnavailable as exc:
            log.error("wechat login unavailable: %s", exc)
            raise errors.ServiceUnavailable("微信登录服务暂不可用，请稍后再试") from None
