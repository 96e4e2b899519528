"""The path every feed message takes: decode, skip resends, score, emit, or dead-letter.

Faust acks a message whose agent body raised, so nothing may escape this path: a decoding
problem, a detector failure reported by the engine, or any other exception turns the message
into a dead letter with the reason, is counted, and the agent goes on with the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from faust.types import EventT

from models import Feed, FeedEvent, Finding, Outcome, Partition
from stream.agents._context import WorkerContext
from stream.codecs import DeadLetter, Origin, decode
from stream.tables import StateSection

log = logging.getLogger(__name__)

#: Events scored between two turns given to the rest of the event loop.
YIELD_EVERY = 32

#: Header carrying the wall time (epoch seconds) the worker first read the event.
INGESTED_AT = "fenghuo-ingested-at"

Forward = Callable[[FeedEvent, "Received"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Received:
    """One consumed message: its bytes, where it was read, and when it entered the worker."""

    raw: bytes
    origin: Origin
    ingested_at: float

    @classmethod
    def of(cls, event: EventT[Any], *, check_key: bool) -> Received:
        message = event.message
        raw = message.value if isinstance(message.value, bytes) else b""
        key = message.key if check_key and isinstance(message.key, bytes) else None
        origin = Origin(message.topic, message.partition, message.offset, key)
        return cls(raw, origin, ingested_at(message.headers))

    def letter(self, reason: str, event_id: str | None = None) -> DeadLetter:
        return DeadLetter.of(reason, self.raw, self.origin, event_id=event_id)

    def headers(self) -> list[tuple[str, bytes]]:
        return [(INGESTED_AT, repr(self.ingested_at).encode())]


def ingested_at(headers: Any) -> float:
    """The ingest time a re-keyed message carries, or now for a message fresh from a feed."""
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, value in items:
        if name == INGESTED_AT:
            try:
                return float(value)
            except (TypeError, ValueError):
                break
    return time.time()


def accept(
    ctx: WorkerContext, feed: Feed, received: Received, *, count: bool
) -> FeedEvent | DeadLetter | None:
    """The event in a message; a dead letter if it is bad input; None for a recent resend.

    ``count``: count resends (only the first stage does, so an event is counted once).
    """
    max_bytes = ctx.settings.input.max_event_bytes
    decoded = decode(feed, received.raw, received.origin, max_bytes=max_bytes)
    if isinstance(decoded, DeadLetter):
        return decoded
    origin = received.origin
    if ctx.recent.seen_before(origin.topic, origin.partition, decoded.event_id):
        if count:
            ctx.metrics.events.labels(str(feed), "duplicate").inc()
        return None
    return decoded


async def emit(
    ctx: WorkerContext,
    feed: Feed,
    outcome: Outcome,
    received: Mapping[str, Received],
) -> set[str]:
    """Produce findings to ``findings``; dead-letter the events detectors failed on.

    ``received`` maps event id to its message. Returns the ids that were dead-lettered.
    """
    for finding in outcome.findings:
        source = _source_of(finding, received)
        await send_finding(ctx, finding, source.ingested_at if source else time.time())
    reasons: dict[str, list[str]] = {}
    for failure in outcome.failures:
        reasons.setdefault(failure.event_id, []).append(failure.reason)
    for event_id, why in reasons.items():
        message = received.get(event_id)
        if message is None:
            log.error("detector failure on unknown event %s: %s", event_id, "; ".join(why))
            continue
        await ctx.dead_letters.send(str(feed), message.letter("; ".join(why), event_id))
    return set(reasons)


async def send_finding(ctx: WorkerContext, finding: Finding, ingested: float) -> None:
    await ctx.outlets.findings.send(
        key=(finding.institution_id or "-").encode("utf-8"),
        value=orjson.dumps(finding.to_dict()),
        headers=[(INGESTED_AT, repr(ingested).encode())],
    )
    ctx.metrics.findings.labels(str(finding.category)).inc()


def _source_of(finding: Finding, received: Mapping[str, Received]) -> Received | None:
    for event_id in finding.event_ids:
        if event_id in received:
            return received[event_id]
    return next(iter(received.values()), None)


@dataclass
class Produced:
    """What a batch's events caused so far, produced together by ``send``."""

    feed: Feed
    forward: Forward | None
    #: The state keys the batch changed, released once what they caused is queued.
    section: StateSection
    findings: list[tuple[Finding, float]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    scored: list[tuple[FeedEvent, Received]] = field(default_factory=list)
    messages: list[Received] = field(default_factory=list)
    ok: int = 0

    async def send(self, ctx: WorkerContext) -> None:
        """Produce findings, dead letters and re-keyed events; the DLQ for all if that fails."""
        try:
            for finding, ingested in self.findings:
                await send_finding(ctx, finding, ingested)
            for letter in self.letters:
                await ctx.dead_letters.send(str(self.feed), letter)
            if self.forward is not None:
                for accepted, received in self.scored:
                    await self.forward(accepted, received)
            if self.ok:
                ctx.metrics.events.labels(str(self.feed), "ok").inc(self.ok)
        except Exception as exc:  # producing failed: the batch's messages go to the DLQ
            await fail(ctx, self.feed, self.messages, exc)
        self.section.release()
        self.findings, self.letters, self.scored, self.messages = [], [], [], []
        self.ok = 0


async def score_many(
    ctx: WorkerContext,
    feed: Feed,
    partition: Partition,
    batch: Sequence[EventT[Any]],
    *,
    check_key: bool,
    forward: Forward | None = None,
) -> None:
    """Decode and score a batch of messages, then produce what they caused. Never raises.

    Each event is judged on its own (the registry as of its own time, the state of its own
    partition, in the order read); what the batch produces (findings, dead letters, re-keyed
    events) is sent after the whole batch is scored, so the per-message costs of the stream
    are paid once per batch; but what the events so far caused is sent before any other await:
    before an event waits for its institution's record (``WorkerContext.await_institution``),
    so they do not wait with it, and before the loop is given a turn every ``YIELD_EVERY``
    events, so no state flush runs while findings of state already changed are unsent. Events
    are counted (ok, duplicate) in the ``feed`` stage only; re-keyed stages count their dead
    letters alone.
    """
    started = time.perf_counter()
    first_stage = partition is Partition.FEED
    out = Produced(feed, forward, ctx.state.section())
    for index, event in enumerate(batch, 1):
        if index % YIELD_EVERY == 0:
            # Let the fetcher fill the next batch meanwhile, but send first: the state flush
            # may run at any await, and state must not reach its changelog ahead of the
            # findings it caused (a replay after a crash would then find nothing new).
            await out.send(ctx)
            await asyncio.sleep(0)
        received = Received.of(event, check_key=check_key)
        try:
            accepted = accept(ctx, feed, received, count=first_stage)
            if accepted is None:
                continue
            if (
                first_stage
                and not isinstance(accepted, DeadLetter)
                and not ctx.knows_institution(accepted)
            ):
                await out.send(ctx)  # what came before does not wait with it
                await ctx.await_institution(accepted)
            out.messages.append(received)
            if isinstance(accepted, DeadLetter):
                out.letters.append(accepted)
                continue
            with ctx.metrics.scoring_seconds.labels(str(partition)).time():
                outcome = ctx.engine.process(
                    accepted,
                    store=ctx.store(received.origin.partition, out.section),
                    registry=ctx.registry.as_of(accepted.event_time),
                    partition=partition,
                )
        except Exception as exc:  # the message must be dead-lettered, not acked and lost
            log.exception("processing %s failed", feed)
            if not out.messages or out.messages[-1] is not received:
                out.messages.append(received)
            out.letters.append(received.letter(failure_reason(exc)))
            continue
        out.findings.extend((finding, received.ingested_at) for finding in outcome.findings)
        reasons = [failure.reason for failure in outcome.failures]
        if reasons:
            out.letters.append(received.letter("; ".join(reasons), accepted.event_id))
        elif first_stage:
            out.ok += 1
        out.scored.append((accepted, received))
    try:
        await out.send(ctx)
    finally:
        observe_batch(ctx, str(feed), len(batch), started)


def observe_batch(ctx: WorkerContext, stage: str, size: int, started: float) -> None:
    """Record a batch's processing time as that many messages of an equal share each."""
    if size:
        ctx.metrics.batch_size.labels(stage).observe(size)
        per_message = (time.perf_counter() - started) / size
        histogram = ctx.metrics.processing_seconds.labels(stage)
        for _ in range(size):
            histogram.observe(per_message)
        ctx.metrics.last_processed.labels(stage).set(time.time())


def failure_reason(exc: Exception) -> str:
    return f"worker failed: {type(exc).__name__}: {exc}"


async def fail(
    ctx: WorkerContext, feed: Feed | str, messages: Sequence[Received], exc: Exception
) -> None:
    """Dead-letter messages whose processing raised, with the exception as the reason."""
    log.exception("processing %s failed", feed)
    reason = failure_reason(exc)
    for message in messages:
        await ctx.dead_letters.send(str(feed), message.letter(reason))
