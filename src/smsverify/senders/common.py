"""What every SMS provider module is given from the common settings.

:class:`SmsCommon` lives beside the senders (not in
:mod:`smsverify.settings.config`) so that the senders import nothing from the
configuration: :mod:`smsverify.settings.config` builds one and hands it to
each provider module's ``from_env`` and ``build``. :class:`SenderSettings` is
the part of :class:`smsverify.settings.config.Settings` that the registry's
``build_*`` functions read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from smsverify.settings.scenes import DEFAULT_SCENE

__all__ = ["SenderSettings", "SmsCommon"]


@dataclass(frozen=True)
class SmsCommon:
    """What every SMS provider module may need from the common settings."""

    template_params: tuple[str, ...]  #: ``SMS_TEMPLATE_PARAMS``: ``code`` and/or ``minutes``, in order
    timeout_seconds: float  #: ``SMS_TIMEOUT_SECONDS``, per provider request
    code_length: int  #: ``CODE_LENGTH``, digits
    code_ttl_seconds: int  #: ``CODE_TTL_SECONDS``
    scenes: tuple[str, ...] = (DEFAULT_SCENE,)  #: ``SMS_SCENES``' names, in order: every provider needs a template for each
    #: ``ALLOWED_COUNTRY_CODES`` (None: any country): a provider's templates must cover each
    allowed_country_codes: frozenset[int] | None = frozenset({86})
    #: ``SMS_TEMPLATE_PARAMS``' per-template entries: template id -> names, instead of :attr:`template_params`
    template_params_by_template: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class SenderSettings(Protocol):
    """The fields of :class:`smsverify.settings.config.Settings` that building senders reads."""

    @property
    def sms_providers(self) -> tuple[str, ...]: ...

    @property
    def sms_common(self) -> SmsCommon: ...

    @property
    def voice(self) -> Any:
        """The voice-code settings (:class:`smsverify.senders.tencent_voice.VoiceSettings`), or None."""

    def provider_settings(self, name: str) -> Any: ...
