"""SMS providers behind one contract (:mod:`smsverify.senders.base`): a
registry of provider names -> the modules that implement them.

Provider modules are imported when the settings are read (at start-up): each
one ``SMS_PROVIDER`` names and, while ``SMS_PROVIDER`` is unset, the default
provider's, whose ``IMPLIED_BY`` variables decide whether it is used (so it is
imported even when the console provider is chosen). What a provider talks
through, the Tencent SDK (``tencentcloud``) or ``requests``, is imported only
on its first send, so a login never loads one. Each provider module exposes:

- ``NAME``: the name ``SMS_PROVIDER`` uses;
- ``from_env(reader, common)``: its settings, read with an
  :class:`smsverify.settings.env.EnvReader` (problems recorded on the reader, e.g. a
  ``CODE_LENGTH`` its templates cannot carry) given the
  :class:`smsverify.settings.config.SmsCommon` values;
- ``build(settings, common)``: a sender (:class:`~smsverify.senders.base.SmsSender`).

Adding a provider = its module + one line in :data:`PROVIDERS`.

Voice codes are apart: :mod:`smsverify.senders.tencent_voice` (Tencent Cloud
VMS) is no ``SMS_PROVIDER`` and never part of SMS failover; its settings are
``Settings.voice`` and :func:`build_voice_sender` builds it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smsverify.senders.common import SenderSettings as Settings
    from smsverify.senders.common import SmsCommon
    from smsverify.settings.env import EnvReader
    from smsverify.senders.base import SmsSender
    from smsverify.senders.tencent_voice import VoiceSettings

#: Providers that may be combined for failover, in the order docs/providers.md lists them.
PROVIDERS: dict[str, str] = {
    "tencent": "smsverify.senders.tencent",
    "ronglian": "smsverify.senders.ronglian",
    "huyi": "smsverify.senders.huyi",
    "zhenzi": "smsverify.senders.zhenzi",
    "aliyun": "smsverify.senders.aliyun",
}
#: Providers for local runs only: alone, never inside SCF.
LOCAL_PROVIDERS: dict[str, str] = {"console": "smsverify.senders.console"}
#: Chosen when ``SMS_PROVIDER`` is unset inside SCF or when its ``IMPLIED_BY`` variables are set.
DEFAULT_PROVIDER = "tencent"
#: The voice-code sender's module (``VOICE_SDKAPPID``); a small module, its SDK loads on the first call.
VOICE_MODULE = "smsverify.senders.tencent_voice"


def provider_module(name: str) -> ModuleType:
    """The module of provider ``name`` (a key of :data:`PROVIDERS` or :data:`LOCAL_PROVIDERS`)."""
    return importlib.import_module({**PROVIDERS, **LOCAL_PROVIDERS}[name])


def read_names(reader: EnvReader) -> tuple[str, ...]:
    """``SMS_PROVIDER`` as a tuple of provider names in failover order.

    Unset: the default provider inside SCF or when its variables are set,
    else ``console`` (with a notice). Problems are recorded on ``reader``.
    """
    raw = reader.text("SMS_PROVIDER")
    if raw is None:
        implied = getattr(provider_module(DEFAULT_PROVIDER), "IMPLIED_BY", ())
        if reader.in_scf or any(reader.text(name) for name in implied):
            return (DEFAULT_PROVIDER,)
        reader.notices.append("no SMS settings: using the console SMS provider (messages go to stderr)")
        return ("console",)
    names = tuple(part.strip().lower() for part in raw.split(","))
    if len(names) == 1 and names[0] in LOCAL_PROVIDERS:
        if reader.in_scf:
            reader.problem("SMS_PROVIDER", f"{names[0]!r} writes codes to the log and is for local runs only")
        return names
    for name in names:
        if name in LOCAL_PROVIDERS:
            reader.problem("SMS_PROVIDER", f"{name!r} cannot be part of a failover list")
            return ()
        if name not in PROVIDERS:
            choices = ", ".join(PROVIDERS)
            reader.problem("SMS_PROVIDER", f"unknown provider {name!r}: use {choices} or {', '.join(LOCAL_PROVIDERS)}")
            return ()
    if len(set(names)) != len(names):
        reader.problem("SMS_PROVIDER", f"names a provider twice: {raw!r}")
        return ()
    return names


def read_settings(reader: EnvReader, names: tuple[str, ...], common: SmsCommon) -> tuple[Any, ...]:
    """Each named provider's settings (its module's ``from_env``), in order."""
    return tuple(provider_module(name).from_env(reader, common) for name in names)


def build_sender(settings: Settings, name: str) -> SmsSender:
    """The sender for provider ``name`` (one of ``settings.sms_providers``)."""
    return provider_module(name).build(settings.provider_settings(name), settings.sms_common)


def build_senders(settings: Settings) -> list[SmsSender]:
    """The senders named by ``SMS_PROVIDER``, in failover order."""
    return [build_sender(settings, name) for name in settings.sms_providers]


def read_voice_settings(reader: EnvReader, common: SmsCommon) -> VoiceSettings | None:
    """The voice-code settings (:func:`smsverify.senders.tencent_voice.from_env`), or
    ``None`` when ``VOICE_SDKAPPID`` is unset; problems are recorded on ``reader``."""
    return importlib.import_module(VOICE_MODULE).from_env(reader, common)


def build_voice_sender(settings: Settings) -> SmsSender | None:
    """The voice-code sender (name ``tencent_voice``), or ``None`` when voice codes
    are not configured (``settings.voice`` is None).

    It follows the sender contract of :mod:`smsverify.senders.base`; its
    ``supports(phone)`` is True for mainland China mobile numbers only.
    """
    if settings.voice is None:
        return None
    return importlib.import_module(VOICE_MODULE).build(settings.voice)
