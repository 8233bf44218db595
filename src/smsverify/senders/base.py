"""The sender contract: a sender only sends, and reports exactly what happened.

A sender turns an :class:`SmsMessage` into one provider request. It returns a
:class:`SendReceipt` when the provider accepted the message, and otherwise
raises one of four :class:`SendError` subclasses. Two of them are about the
number, so no other provider would do better; two are about the provider, so
another provider may:

=====================  ==============  ===========================  ==========
error                  scope           was the SMS sent?            failover
=====================  ==============  ===========================  ==========
:class:`NumberRejected`   the number   no                           no
:class:`NumberRateLimited` the number  no (the limit is real)       no
:class:`ProviderRefused`  the provider no (configuration, balance,  yes
                                       auth, HTTP 5xx)
:class:`ProviderUnreachable` provider  no (failed before the request yes
  (a ProviderRefused)                  left: connect, TLS, DNS, proxy)
:class:`SendTimeout`      the provider unknown (no answer in time)  yes
=====================  ==============  ===========================  ==========

Provider and transport exceptions never escape a sender module. Every error
carries ``provider`` (the sender's name), ``provider_code`` (the provider's
own code, or a transport label such as ``ConnectionRefused``) and
``maybe_sent`` (True only when the message may have left: the caller keeps
the code and the cooldown then, and releases them otherwise);
:attr:`SendError.qualified_code` is the ``<provider>:<code>`` form clients see
as ``providerCode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Protocol

from smsverify.settings.scenes import DEFAULT_SCENE


@dataclass(frozen=True)
class SmsMessage:
    """One verification SMS.

    ``phone`` is E.164; ``code`` the verification code; ``ttl_minutes`` the
    validity the message announces (whole minutes, rounded up);
    ``reference`` an identifier of the invocation (the request id) that
    providers able to store one keep with the message, or ``""``;
    ``scene`` what the code is for (:mod:`smsverify.settings.scenes`), which picks
    the provider's template.
    """

    phone: str
    code: str
    ttl_minutes: int
    reference: str = ""
    scene: str = DEFAULT_SCENE

    def __repr__(self) -> str:  # the code must never reach a log through repr
        return (
            f"SmsMessage(phone=<masked>, code=<hidden>, ttl_minutes={self.ttl_minutes}, "
            f"reference={self.reference!r}, scene={self.scene!r})"
        )

    def values(self, names: tuple[str, ...]) -> list[str]:
        """Template parameter values in the order of ``names`` (``code``, ``minutes``)."""
        known = {"code": self.code, "minutes": str(self.ttl_minutes)}
        return [known[name] for name in names]


@dataclass(frozen=True)
class SendReceipt:
    """The provider accepted the message. Identifiers only, safe to log."""

    provider: str
    serial_no: str = ""
    request_id: str = ""


class SendError(Exception):
    """Root of sender failures.

    Parameters
    ----------
    provider:
        The sender's :attr:`SmsSender.name`, e.g. ``"ronglian"``.
    provider_code:
        The provider's error code as a string (``"160040"``,
        ``"FailedOperation.InsufficientBalanceInSmsPackage"``) or a transport
        label (``ConnectionRefused``, ``ConnectTimeout``, ``Timeout``,
        ``HTTP503``, ``InvalidResponse``).
    detail:
        The provider's message, for logs (never contains the code).
    """

    #: Whether the message may have been sent despite the failure.
    maybe_sent: bool = False

    def __init__(self, provider: str, provider_code: str, detail: str = "") -> None:
        super().__init__(f"{provider}:{provider_code}: {detail}" if detail else f"{provider}:{provider_code}")
        self.provider = provider
        self.provider_code = provider_code
        self.detail = detail

    @property
    def qualified_code(self) -> str:
        """``<provider>:<provider_code>``, the ``providerCode`` of responses."""
        return f"{self.provider}:{self.provider_code}"


class NumberRejected(SendError):
    """The provider says the number is malformed or not deliverable."""


class NumberRateLimited(SendError):
    """The provider's own frequency limit for this number refused the send.

    ``daily`` is True for a per-day limit, False for a short-term one.
    """

    def __init__(self, provider: str, provider_code: str, detail: str = "", *, daily: bool = False) -> None:
        super().__init__(provider, provider_code, detail)
        self.daily = daily


class ProviderRefused(SendError):
    """The provider certainly did not send: it refused the request for a
    reason of its own (configuration, template or signature not approved,
    balance, authentication, HTTP 5xx) or could not be reached."""


class ProviderUnreachable(ProviderRefused):
    """The request never left: the connection, its TLS handshake, the DNS
    lookup or the proxy failed before anything was sent."""


class SendTimeout(SendError):
    """No usable answer in time: the message may have been sent."""

    maybe_sent = True


class SmsSender(Protocol):
    """What the service needs of a provider."""

    #: Short provider name: ``tencent``, ``ronglian``, ``huyi``, ``zhenzi``, ``console``.
    name: str

    def supports(self, phone: str) -> bool:
        """Whether this provider can send to ``phone`` (E.164) at all."""
        ...

    def send(self, message: SmsMessage, timeout_seconds: float) -> SendReceipt:
        """Send ``message``, waiting at most ``timeout_seconds`` for the answer.

        Raises :class:`NumberRejected`, :class:`NumberRateLimited`,
        :class:`ProviderRefused` or :class:`SendTimeout`.
        """
        ...


def classify_code(
    provider: str,
    code: str,
    detail: str,
    *,
    rejections: frozenset[str],
    limits: dict[str, bool],
    unknown_outcome: frozenset[str] = frozenset(),
) -> SendError:
    """The error for a provider's error ``code``, from the provider module's
    tables: ``rejections`` (the number is bad), ``limits`` (the number's
    rate limits, True for a per-day one), ``unknown_outcome`` (may have been
    sent). Any other code is a provider-level :class:`ProviderRefused`."""
    if code in unknown_outcome:
        return SendTimeout(provider, code, detail)
    if code in rejections:
        return NumberRejected(provider, code, detail)
    if code in limits:
        return NumberRateLimited(provider, code, detail, daily=limits[code])
    return ProviderRefused(provider, code, detail)


def scene_template(templates: Mapping[str, str], scene: str, default: str) -> str:
    """The template of ``scene`` in ``templates`` (a provider's scene map), else ``default``.

    Configuration gives every allowed scene a template, so ``default`` (the
    provider's single template) serves only senders built without a map.
    """
    return templates.get(scene) or default


def mainland_number(phone: str) -> str | None:
    """The 11-digit national number of a +86 mobile phone, else ``None``.

    For the domestic-only providers (Ronglian, Huyi, Zhenzi), whose APIs take
    national numbers.
    """
    if phone.startswith("+861") and len(phone) == 14 and phone[1:].isdigit():
        return phone[3:]
    return None
