"""Every Redis key the service uses, built in one place.

Keys of one phone share the Redis Cluster hash tag ``{<E.164 phone>}`` (its
codes, legacy and bound, its send record, its day's wrong codes, its SMS'
delivery states), so the send and check scripts touch a single slot whatever
the deployment. The client logs (``{ip:<client>}``: sends, failed logins,
status requests), the IPv6 site log (``{site:<prefix>}``), the number block
log (``{prefix:<cc>:<digits>}``), the global logs and markers (``{global}``,
provider health included) and the conversion counters (``{metrics}``,
:mod:`smsverify.store.metrics`) have tags of their own: in a single-node
deployment the scripts still update them in the same step; in a cluster each
is reserved or counted by its own call on its own slot (see
:mod:`smsverify.store.redis_store`).
"""

from __future__ import annotations

from dataclasses import dataclass

from smsverify.settings.scenes import DEFAULT_SCENE

PREFIX = "smsverify"


@dataclass(frozen=True)
class PhoneKeys:
    """Keys of one phone (E.164) for one Asia/Shanghai calendar day (``YYYYMMDD``)."""

    code: str
    #: the send record: a hash of the cooldown, the day's send and voice counts, the hourly log and the
    #: backoff (read_sends in lua/lib.lua)
    sends: str
    daily_verifies: str


def phone_keys(phone: str, day: str, scene: str = DEFAULT_SCENE, verification: str | None = None) -> PhoneKeys:
    """The keys of ``phone`` on ``day``; the code (and its wrong tries) is per
    ``scene``, every limit per phone. ``login`` keeps the key it had before
    scenes (``...:code``), so codes in flight survive the upgrade; another
    scene's code is ``...:code:<scene>`` (scene names are ``[A-Za-z0-9_-]``).
    A bound code (``verification``: the client's ``verificationId``,
    ``[A-Za-z0-9_-]{22,64}``) is ``...:vcode:<scene>:<verificationId>``, one
    hash per verification, so bound codes of one phone coexist."""
    tag = f"{PREFIX}:{{{phone}}}"
    if verification is not None:
        code = f"{tag}:vcode:{scene}:{verification}"
    else:
        code = f"{tag}:code" if scene == DEFAULT_SCENE else f"{tag}:code:{scene}"
    return PhoneKeys(
        code=code,
        sends=f"{tag}:sends",
        daily_verifies=f"{tag}:verify:{day}",
    )


def ip_log_key(client: str) -> str:
    """getSms of one client (an IPv4 address, an IPv6 /64 or the no-IP bucket)."""
    return f"{PREFIX}:{{ip:{client}}}:sends"


def status_log_key(client: str) -> str:
    """``method=status`` requests of one client."""
    return f"{PREFIX}:{{ip:{client}}}:status"


def site_log_key(site: str) -> str:
    """getSms of one IPv6 site (an IPv6 /``IPV6_SITE_PREFIX_LENGTH``, 48 by default)."""
    return f"{PREFIX}:{{site:{site}}}:sends"


def ip_verify_key(client: str) -> str:
    """Failed logins of one client (an IPv4 address, an IPv6 prefix or the no-IP bucket)."""
    return f"{PREFIX}:{{ip:{client}}}:verifies"


def prefix_log_key(prefix: str) -> str:
    """getSms to one destination number block (``<country code>:<first national digits>``)."""
    return f"{PREFIX}:{{prefix:{prefix}}}:sends"


GLOBAL_VERIFY_KEY = f"{PREFIX}:{{global}}:verifies"


def window_marker_key(name: str) -> str:
    """Marks that a quota's window was reported tripped (one log line per window)."""
    return f"{PREFIX}:{{global}}:tripped:{name}"


GLOBAL_LOG_KEY = f"{PREFIX}:{{global}}:sends"
GLOBAL_TRIPPED_KEY = f"{PREFIX}:{{global}}:tripped"


def provider_down_key(provider: str) -> str:
    """Marks an SMS provider skipped by failover; value: until when (ms)."""
    return f"{PREFIX}:{{global}}:provider:{provider}:down"


def delivery_key(phone: str, serial_no: str) -> str:
    """The delivery state of one SMS to ``phone`` (E.164), by the provider's serial number.

    A hash (``state``, ``description``, ``at``; :mod:`smsverify.store.delivery`)
    under the phone's hash tag, so it lives on the slot of the phone's code and
    a phone's script may read or write it in the same step.
    """
    return f"{PREFIX}:{{{phone}}}:delivery:{serial_no}"
