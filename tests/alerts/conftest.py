"""Fixtures of the alerts tests: a finding factory and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from alerts import AlertPipeline, AlertsConfig, RoutingTree, StoreConfig, make_engine, migrate
from models import Category, DetectorKind, DetectorRef, EntityType, Feed, Finding, Severity

REPO = Path(__file__).resolve().parents[2]
ROUTING_FILE = REPO / "deploy" / "config" / "routing.yaml"
T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

FindingFactory = Callable[..., Finding]


@pytest.fixture
def finding() -> FindingFactory:
    """``finding(event_ids=("e1",), minutes=0, **changes)``: a usurious-rate loan finding."""

    def make(*, minutes: float = 0, **changes: Any) -> Finding:
        base = Finding(
            category=Category.USURIOUS_RATE,
            severity=Severity.MEDIUM,
            score=0.6,
            feed=Feed.LOANS,
            entity_type=EntityType.LOAN,
            entity_id="L-0001",
            institution_id="FJ-MC-0007",
            event_time=T0 + timedelta(minutes=minutes),
            detector=DetectorRef(DetectorKind.RULE, "rate_cap", "1"),
            evidence={"rate": 0.15, "cap": 0.12},
            event_ids=("e1",),
            institution_type="microcredit",
            region_code="350500",
        )
        return replace(base, **changes)

    return make


@pytest.fixture(scope="session")
def routing() -> RoutingTree:
    return RoutingTree.from_file(ROUTING_FILE)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, or its own schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'alerts.db').as_posix()}"
        return
    base = make_url(request.getfixturevalue("postgres_url"))
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A migrated store engine."""
    built = make_engine(StoreConfig(url=store_url))
    migrate(built)
    yield built
    built.dispose()


@pytest.fixture
def config(store_url: str) -> AlertsConfig:
    return AlertsConfig(store=StoreConfig(url=store_url), routing_file=ROUTING_FILE)


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(days=1))


@pytest.fixture
def memory_config() -> AlertsConfig:
    return AlertsConfig(store=StoreConfig(url="sqlite://"), routing_file=ROUTING_FILE)


@pytest.fixture
def pipeline(memory_config: AlertsConfig, clock: Clock) -> Iterator[AlertPipeline]:
    """A pipeline on an in-memory SQLite store with the shipped routing tree."""
    built = AlertPipeline.from_config(memory_config, clock=clock)
    yield built
    built.close()
