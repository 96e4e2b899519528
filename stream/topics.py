"""The worker's topics, from settings: created on the broker at start and declared in Faust.

Feeds: ``institutions`` (compacted: the latest record per institution is what matters),
``loans``, ``guarantees``, ``trades``. Re-key topics: ``loans-by-borrower`` and
``guarantee-network`` (one partition: the whole graph). Out: ``findings`` and ``alerts``. Bad
input: ``<feed>.dlq`` per feed, and ``findings.dlq`` for findings the alert stage cannot handle.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from models import Feed
from stream.admin import TopicSpec
from stream.settings import WorkerSettings

FEEDS: tuple[Feed, ...] = (Feed.INSTITUTIONS, Feed.LOANS, Feed.GUARANTEES, Feed.TRADES)
#: Streams whose bad input has a dead-letter topic: the four feeds and the findings.
DEAD_LETTER_SOURCES: tuple[str, ...] = (*(str(f) for f in FEEDS), "findings")
#: Configured topics other than the feeds, by their settings field.
INTERNAL = ("loans_by_borrower", "guarantee_network", "findings", "alerts")


def dead_letter_topic(settings: WorkerSettings, source: str) -> str:
    return f"{settings.topic(source)}.dlq"


def topic_specs(settings: WorkerSettings) -> list[TopicSpec]:
    """Every topic the worker needs, with its partition count and cleanup policy."""
    topics = settings.kafka.topics
    specs = [
        TopicSpec(
            name=settings.topic(str(feed)),
            partitions=getattr(topics, str(feed)).partitions,
            compacted=feed is Feed.INSTITUTIONS,
        )
        for feed in FEEDS
    ]
    specs += [
        TopicSpec(name=settings.topic(field), partitions=getattr(topics, field).partitions)
        for field in INTERNAL
    ]
    specs += [
        TopicSpec(
            name=dead_letter_topic(settings, source), partitions=topics.dead_letter_partitions
        )
        for source in DEAD_LETTER_SOURCES
    ]
    return specs


@dataclass(frozen=True)
class Topics:
    """The Faust topics of one app; all carry raw bytes (codecs decode them explicitly)."""

    feeds: dict[str, TopicT]
    loans_by_borrower: TopicT
    guarantee_network: TopicT
    findings: TopicT
    alerts: TopicT
    dead_letters: dict[str, TopicT]


def declare_topics(app: faust.App, settings: WorkerSettings) -> Topics:
    """Declare every topic in ``app`` with the configured partitions."""
    topics = settings.kafka.topics

    def topic(name: str, partitions: int) -> TopicT:
        return app.topic(
            name,
            partitions=partitions,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )

    return Topics(
        feeds={
            str(feed): topic(settings.topic(str(feed)), getattr(topics, str(feed)).partitions)
            for feed in FEEDS
        },
        loans_by_borrower=topic(
            settings.topic("loans_by_borrower"), topics.loans_by_borrower.partitions
        ),
        guarantee_network=topic(
            settings.topic("guarantee_network"), topics.guarantee_network.partitions
        ),
        findings=topic(settings.topic("findings"), topics.findings.partitions),
        alerts=topic(settings.topic("alerts"), topics.alerts.partitions),
        dead_letters={
            source: topic(dead_letter_topic(settings, source), topics.dead_letter_partitions)
            for source in DEAD_LETTER_SOURCES
        },
    )


def changelog_specs(app: faust.App) -> list[TopicSpec]:
    """The state tables' changelog topics, compacted, created before the worker subscribes.

    Faust would create them itself, but only after the consumer group formed without them,
    which leaves their partitions unassigned until the next rebalance.
    """
    return [
        TopicSpec(
            name=table.changelog_topic.get_topic_name(),
            partitions=table.partitions or app.conf.topic_partitions,
            compacted=True,
        )
        for table in app.tables.values()
    ]
