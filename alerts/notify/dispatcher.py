"""``OutboxDispatcher``: drains the transactional outbox to the receivers' channels.

Each round claims due rows (see ``alerts.notify.outbox``), sends every batch to each channel
of its receiver not done yet, then marks the rows delivered, or schedules a retry with
exponential backoff and jitter, or marks them dead (kept, visible) after ``max_attempts`` or
a permanent refusal. A channel that succeeded is remembered, so a retry does not resend it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from alerts.notify.alertmanager import AlertmanagerSender
from alerts.notify.config import ChannelKind, DeliveryConfig, RetryPolicy
from alerts.notify.email import EmailSender
from alerts.notify.metrics import DeliveryMetrics
from alerts.notify.notification import DeliveryFailed, Notification, Sender
from alerts.notify.outbox import Batch, OutboxClaims, Outcome
from alerts.notify.webhook import WebhookSender
from alerts.routing import RoutingTree

log = logging.getLogger(__name__)

#: Batches sent at the same time.
CONCURRENCY = 16


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def backoff(attempt: int, policy: RetryPolicy, rng: random.Random) -> timedelta:
    """Delay before attempt ``attempt + 1``: doubled each time up to ``max``, ± ``jitter``."""
    base: timedelta = min(policy.initial * 2 ** (attempt - 1), policy.max)
    return base * rng.uniform(1 - policy.jitter, 1 + policy.jitter)


@dataclass(slots=True)
class Round:
    """What one ``run_once`` did (rows, not notifications, except ``notifications``)."""

    notifications: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def default_senders(config: DeliveryConfig) -> dict[ChannelKind, Sender]:
    senders: dict[ChannelKind, Sender] = {}
    channels = config.receivers.values()
    if any(c.webhooks for c in channels):
        senders["webhook"] = WebhookSender()
    if config.smtp is not None and any(c.email for c in channels):
        senders["email"] = EmailSender(config.smtp)
    if any(c.alertmanager for c in channels):
        senders["alertmanager"] = AlertmanagerSender()
    return senders


class OutboxDispatcher:
    """Delivers outbox rows of the receivers in ``config``; rows of others stay queued."""

    def __init__(
        self,
        engine: Engine,
        config: DeliveryConfig,
        senders: Mapping[ChannelKind, Sender] | None = None,
        *,
        routing: RoutingTree | None = None,
        clock: Callable[[], datetime] = _wall_clock,
        metrics: DeliveryMetrics | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.senders = dict(senders) if senders is not None else default_senders(config)
        self.metrics = metrics
        self._clock = clock
        self._rng = rng or random.Random()
        self.claims = OutboxClaims(
            engine,
            receivers=list(config.receivers),
            lease=config.lease,
            routing=routing if config.grouping else None,
        )
        missing = {
            target.kind
            for channels in config.receivers.values()
            for _, target in channels.channels()
            if target.kind not in self.senders
        }
        if missing:
            raise ValueError(f"no sender for channel kinds {sorted(missing)}")
        if routing is not None:
            config.check_receivers(routing.receivers)
            idle = sorted(set(routing.receivers) - set(config.receivers))
            if idle:
                log.warning("receivers without delivery channels (rows stay queued): %s", idle)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; sleeps ``poll_interval`` when nothing was due."""
        wait = self.config.poll_interval.total_seconds()
        log.info("outbox dispatcher started for %d receivers", len(self.claims.receivers))
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:  # the store may be away for a while: try again next round
                log.exception("outbox round failed")
                done = Round()
            if done.notifications == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=wait)
        log.info("outbox dispatcher stopped")

    async def run_once(self) -> Round:
        """Claim what is due now, send it, settle the whole round in one transaction."""
        now = self._clock()
        batches = await asyncio.to_thread(self.claims.claim, now=now, limit=self.config.batch_size)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def deliver(batch: Batch) -> Outcome:
            async with limit:
                return await self._send(batch)

        outcomes = list(await asyncio.gather(*(deliver(b) for b in batches)))
        result = Round(notifications=len(batches))
        if outcomes:
            held = await asyncio.to_thread(self.claims.settle_all, outcomes, now=self._clock())
            for outcome, count in zip(outcomes, held, strict=True):
                self._report(outcome, count, result)
        if self.metrics is not None:
            self.metrics.backlog.set(await asyncio.to_thread(self.claims.backlog))
        return result

    async def _send(self, batch: Batch) -> Outcome:
        """Send to each channel of the receiver not done yet; never raises."""
        notification = Notification(
            key=batch.key,
            receiver=batch.receiver,
            group_key=batch.group_key,
            events=batch.events,
            alert_url=self.config.alert_url,
        )
        done = set(batch.done_channels)
        failures: list[DeliveryFailed] = []
        for name, target in self.config.receivers[batch.receiver].channels():
            if name in done:
                continue
            try:
                await self.senders[target.kind].send(notification, target)
            except DeliveryFailed as exc:
                failures.append(exc)
                self._count(batch.receiver, target.kind, "failed")
                continue
            except Exception as exc:  # a sender bug must not stop the other receivers
                log.exception("sender %s failed on %s", target.kind, batch.key)
                failures.append(DeliveryFailed(f"{type(exc).__name__}: {exc}"))
                self._count(batch.receiver, target.kind, "failed")
                continue
            done.add(name)
            self._count(batch.receiver, target.kind, "delivered")
        if not failures:
            return Outcome(batch, frozenset(done), delivered=True)
        error = "; ".join(str(f) for f in failures)
        retry = self.config.retry
        if any(f.permanent for f in failures) or batch.attempt >= retry.max_attempts:
            return Outcome(batch, frozenset(done), delivered=False, dead=True, error=error)
        retry_at = self._clock() + backoff(batch.attempt, retry, self._rng)
        return Outcome(batch, frozenset(done), delivered=False, retry_at=retry_at, error=error)

    def _report(self, outcome: Outcome, held: int, result: Round) -> None:
        batch = outcome.batch
        if held < len(batch.ids):
            log.warning(
                "%s: %d of %d rows were taken over after the lease expired",
                batch.key,
                len(batch.ids) - held,
                len(batch.ids),
            )
        if outcome.delivered:
            result.delivered += held
            return
        result.errors.append(outcome.error or "")
        if outcome.dead:
            result.dead += held
            for name, target in self.config.receivers[batch.receiver].channels():
                if name not in outcome.done_channels:
                    self._count(batch.receiver, target.kind, "dead")
            log.error(
                "gave up on %s for %s after %d attempts: %s",
                batch.key,
                batch.receiver,
                batch.attempt,
                outcome.error,
            )
            return
        result.retried += held
        log.warning(
            "delivery %s to %s failed (attempt %d, retry at %s): %s",
            batch.key,
            batch.receiver,
            batch.attempt,
            outcome.retry_at.isoformat() if outcome.retry_at else "-",
            outcome.error,
        )

    def _count(self, receiver: str, channel: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.deliveries.labels(receiver, channel, outcome).inc()

    async def aclose(self) -> None:
        """Close the senders' HTTP clients."""
        for sender in self.senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()
