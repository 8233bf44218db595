"""What the service needs from a code store (:class:`CodeStore`), and the
values that cross the boundary. :class:`smsverify.store.redis_store.RedisCodeStore`
satisfies it on a single redis-server, a Redis Cluster and fakeredis."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from smsverify.clock import Moment
from smsverify.scenes import DEFAULT_SCENE
from smsverify.store.redis_store import (
    CheckOutcome,
    CheckResult,
    RefusalReason,
    Refusal,
    Reserved,
    StoreUnavailable,
)

__all__ = ["CheckOutcome", "CheckResult", "CodeStore", "Refusal", "RefusalReason", "Reserved", "StoreUnavailable"]


@runtime_checkable
class CodeStore(Protocol):
    """Codes and send limits. Every method raises :class:`StoreUnavailable`
    when the store fails; each call is exactly once under the store's own
    retries (a repeat of the same id returns the recorded outcome)."""

    def reserve_send(
        self, phone: str, digest: str, reservation_id: str, client_ip: str | None, moment: Moment,
        providers: Sequence[str] = (), *, prefix: str | None = None, ticket: bool = False, scene: str = DEFAULT_SCENE,
    ) -> Refusal | Reserved:
        """Count a send to ``phone`` (E.164) under every limit and store the
        code's HMAC for ``scene``, or return the first limit that refused.
        ``prefix``: the destination number block; ``ticket``: a verified
        captcha ticket came."""
        ...

    def release_send(
        self, phone: str, reservation_id: str, client_ip: str | None, moment: Moment, *, prefix: str | None = None,
        scene: str = DEFAULT_SCENE, backoff_ms: int = 0,
    ) -> int:
        """Undo what reservation ``reservation_id`` wrote (a pending code goes, the
        code it was kept beside stays); returns how many entries. ``backoff_ms``
        > 0: refuse getSms for the phone that long (a number-level refusal)."""
        ...

    def settle_send(
        self, phone: str, reservation_id: str, moment: Moment, *, accepted: bool, scene: str = DEFAULT_SCENE,
    ) -> bool:
        """Promote (``accepted``) or drop a pending code (``Reserved.pending``)."""
        ...

    def check_code(
        self, phone: str, digests: Sequence[str], moment: Moment, attempt_id: str | None = None, *,
        client: str | None = None, ticket: bool = False, scene: str = DEFAULT_SCENE,
    ) -> CheckResult:
        """Check ``scene``'s code given as its HMACs; consume it when one
        matches. With ``client`` (its limit key) the login throttles apply;
        ``ticket``: a verified captcha ticket came with the request."""
        ...

    def mark_provider_down(self, provider: str, moment: Moment, seconds: int) -> None:
        """Skip ``provider`` in failover for ``seconds`` in every instance."""
        ...
