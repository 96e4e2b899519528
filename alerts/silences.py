"""Silences: mute the deliveries of matching alerts for a time (Alertmanager's silences).

A silence has matchers over the alert labels (category, severity, institution_type,
region_code, feed, entity_type, institution_id, entity_id, dedup_key), a start and an end, the
person who created it and why. Alerts are still stored and deduplicated while silenced; only
their notifications are held back. A per-entity snooze is a silence on one ``entity_id``.
Silences run on the wall clock: they are about when people want to be told.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from alerts.alert import utc
from alerts.errors import InvalidSilence, RoutingConfigError, SilenceNotFound
from alerts.matchers import ALERT_LABELS, Labelled, Matcher, alert_labels, parse_matcher
from alerts.store.tables import silences


@dataclass(frozen=True, slots=True)
class Silence:
    silence_id: str
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    expired_by: str | None = None

    def active(self, at: datetime) -> bool:
        return self.starts_at <= utc(at) < self.ends_at

    def compiled(self) -> tuple[Matcher, ...]:
        where = f"silence {self.silence_id}"
        return tuple(parse_matcher(m, where=where, labels=ALERT_LABELS) for m in self.matchers)

    def matches(self, alert: Labelled) -> bool:
        labels = alert_labels(alert)
        return all(m.matches(labels) for m in self.compiled())


def _silence(row: object) -> Silence:
    m = row._mapping  # type: ignore[attr-defined]
    return Silence(
        silence_id=m["silence_id"],
        matchers=tuple(m["matchers"]),
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        created_by=m["created_by"],
        comment=m["comment"],
        created_at=m["created_at"],
        expired_by=m["expired_by"],
    )


class Silences:
    """Create, expire and look up silences in the caller's session (and transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        matchers: list[str],
        starts_at: datetime,
        ends_at: datetime,
        created_by: str,
        comment: str,
        now: datetime,
    ) -> Silence:
        """A new silence; bad matchers, an empty comment or creator, or end <= start fail."""
        if not matchers:
            raise InvalidSilence("a silence needs at least one matcher (it would mute everything)")
        if not created_by.strip() or not comment.strip():
            raise InvalidSilence("a silence needs its creator and a comment saying why")
        if utc(ends_at) <= utc(starts_at):
            raise InvalidSilence(f"silence ends ({ends_at}) at or before it starts ({starts_at})")
        for text in matchers:
            try:
                parse_matcher(text, where="silence", labels=ALERT_LABELS)
            except RoutingConfigError as exc:
                raise InvalidSilence(str(exc)) from exc
        silence = Silence(
            silence_id="si-" + uuid.uuid4().hex,
            matchers=tuple(matchers),
            starts_at=utc(starts_at),
            ends_at=utc(ends_at),
            created_by=created_by,
            comment=comment,
            created_at=utc(now),
        )
        self.session.execute(
            insert(silences).values(
                silence_id=silence.silence_id,
                matchers=list(silence.matchers),
                starts_at=silence.starts_at,
                ends_at=silence.ends_at,
                created_by=created_by,
                comment=comment,
                created_at=silence.created_at,
            )
        )
        return silence

    def snooze(
        self,
        entity_id: str,
        *,
        until: datetime,
        created_by: str,
        comment: str,
        now: datetime,
        category: str | None = None,
    ) -> Silence:
        """Mute one entity (optionally one category of it) until ``until``."""
        matchers = [f'entity_id="{entity_id}"']
        if category is not None:
            matchers.append(f'category="{category}"')
        return self.create(
            matchers=matchers,
            starts_at=now,
            ends_at=until,
            created_by=created_by,
            comment=comment,
            now=now,
        )

    def get(self, silence_id: str) -> Silence:
        row = self.session.execute(
            select(silences).where(silences.c.silence_id == silence_id)
        ).first()
        if row is None:
            raise SilenceNotFound(f"no silence {silence_id!r}")
        return _silence(row)

    def expire(self, silence_id: str, *, by: str, at: datetime) -> Silence:
        """End a silence now (an already ended one is left as it was)."""
        silence = self.get(silence_id)
        if silence.ends_at > utc(at):
            self.session.execute(
                update(silences)
                .where(silences.c.silence_id == silence_id)
                .values(ends_at=max(utc(at), silence.starts_at), expired_by=by)
            )
            return self.get(silence_id)
        return silence

    def active(self, at: datetime) -> list[Silence]:
        query = (
            select(silences)
            .where(silences.c.ends_at > utc(at), silences.c.starts_at <= utc(at))
            .order_by(silences.c.created_at)
        )
        return [_silence(r) for r in self.session.execute(query)]

    def all(self) -> list[Silence]:
        query = select(silences).order_by(silences.c.created_at.desc())
        return [_silence(r) for r in self.session.execute(query)]

    def silencing(self, alert: Labelled, at: datetime) -> Silence | None:
        """The first active silence that mutes ``alert`` at ``at``, if any."""
        return next((s for s in self.active(at) if s.matches(alert)), None)
