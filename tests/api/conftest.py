"""Fixtures of the API tests: a store filled through the real alert pipeline, the app on it,
and credentials (JWTs and API keys) for any role and agency."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from alerts import (
    AlertPipeline,
    AlertsConfig,
    RoutingTree,
    StoreConfig,
    make_engine,
    migrate,
    writer,
)
from alerts.store import ApiKeys
from api import ApiSettings, create_app
from api.settings import ApiSection, AuthSection, LimitsSection, StreamSection
from models import Category, DetectorKind, DetectorRef, EntityType, Feed, Finding, Severity

REPO = Path(__file__).resolve().parents[2]
ROUTING_FILE = REPO / "deploy" / "config" / "routing.yaml"
JWT_KEY = "test-signing-key-0123456789abcdef0123456789"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def make_finding(
    category: Category,
    *,
    entity_id: str,
    institution_id: str | None,
    institution_type: str | None,
    feed: Feed = Feed.LOANS,
    entity_type: EntityType = EntityType.LOAN,
    severity: Severity = Severity.MEDIUM,
    score: float = 0.6,
    region_code: str | None = "350500",
    minutes: float = 0,
    event_id: str | None = None,
) -> Finding:
    return Finding(
        category=category,
        severity=severity,
        score=score,
        feed=feed,
        entity_type=entity_type,
        entity_id=entity_id,
        institution_id=institution_id,
        event_time=T0 + timedelta(minutes=minutes),
        detector=DetectorRef(DetectorKind.RULE, str(category), "1"),
        evidence={"observed": score, "limit": 0.5},
        event_ids=(event_id or f"ev-{uuid.uuid4().hex[:12]}",),
        explanation=({"feature": "rate", "contribution": 0.4},),
        institution_type=institution_type,
        region_code=region_code,
    )


#: One finding per sector and agency (routes follow deploy/config/routing.yaml):
#: name -> finding. The tests refer to the alerts by these names.
def sector_findings() -> dict[str, Finding]:
    return {
        "usury": make_finding(
            Category.USURIOUS_RATE,
            entity_id="L-0001",
            institution_id="FJ-MC-0007",
            institution_type="microcredit",
            minutes=1,
        ),
        "concentration": make_finding(
            Category.BORROWER_CONCENTRATION,
            entity_id="B-0009",
            entity_type=EntityType.BORROWER,
            institution_id="FJ-MC-0007",
            institution_type="microcredit",
            severity=Severity.HIGH,
            score=0.85,
            minutes=2,
        ),
        "wash": make_finding(
            Category.WASH_TRADE,
            feed=Feed.TRADES,
            entity_id="P-0001",
            entity_type=EntityType.PRODUCT,
            institution_id="FJ-TV-0001",
            institution_type="trading_venue",
            region_code="350100",
            minutes=3,
        ),
        "bank": make_finding(
            Category.DELINQUENCY_SPIKE,
            entity_id="FJ-LB-0002",
            entity_type=EntityType.INSTITUTION,
            institution_id="FJ-LB-0002",
            institution_type="local_bank",
            region_code="350200",
            minutes=4,
        ),
        "cluster": make_finding(
            Category.REGIONAL_CLUSTER,
            entity_id="350100",
            entity_type=EntityType.REGION,
            institution_id=None,
            institution_type=None,
            severity=Severity.CRITICAL,
            score=0.95,
            region_code="350100",
            minutes=5,
        ),
    }


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite store, made once; each test gets a copy (migrating is slow)."""
    path = tmp_path_factory.mktemp("template") / "api.db"
    engine = make_engine(StoreConfig(url=f"sqlite:///{path.as_posix()}"))
    migrate(engine)
    engine.dispose()
    return path


def sqlite_copy(template: Path, folder: Path) -> str:
    target = folder / "api.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target.as_posix()}"


@pytest.fixture
def store_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite store (query test modules add a PostgreSQL variant)."""
    return sqlite_copy(migrated_sqlite, tmp_path)


def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A fresh, migrated schema in the test PostgreSQL, dropped afterwards."""
    base = make_url(postgres_url)
    schema = f"api_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        rendered = url.render_as_string(hide_password=False)
        engine = make_engine(StoreConfig(url=rendered))
        migrate(engine)
        engine.dispose()
        yield rendered
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def limits() -> LimitsSection:
    return LimitsSection(max_page_size=100, rate_per_second=1000.0, burst=1000)


@pytest.fixture
def settings(store_url: str, limits: LimitsSection) -> ApiSettings:
    return ApiSettings(
        environment="development",
        api=ApiSection(
            auth=AuthSection(jwt_key=JWT_KEY, issuer="fenghuo-test", audience="fenghuo-api"),
            limits=limits,
            stream=StreamSection(
                poll_seconds=0.02, heartbeat_seconds=0.2, max_connection_seconds=0.6
            ),
        ),
        alerts=AlertsConfig(
            store=StoreConfig(url=store_url, migrate=False),
            routing_file=ROUTING_FILE,
            escalation=[],
        ),
    )


@pytest.fixture
def routing() -> RoutingTree:
    return RoutingTree.from_file(ROUTING_FILE)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def client(settings: ApiSettings, registry: CollectorRegistry) -> Iterator[TestClient]:
    """The app on the store (already migrated: the settings skip migrating at start-up)."""
    with TestClient(create_app(settings, registry=registry)) as test_client:
        yield test_client


@pytest.fixture
def pipeline(settings: ApiSettings, client: TestClient) -> Iterator[AlertPipeline]:
    """The real alert pipeline on the same store."""
    built = AlertPipeline.from_config(settings.alerts)
    yield built
    built.close()


@dataclass
class Loaded:
    """The sector alerts by name: ``ids["usury"]`` is the alert id of that finding."""

    ids: dict[str, str]
    routes: dict[str, tuple[str, ...]]


@pytest.fixture
def loaded(pipeline: AlertPipeline) -> Loaded:
    ids: dict[str, str] = {}
    routes: dict[str, tuple[str, ...]] = {}
    for name, found in sector_findings().items():
        (change,) = pipeline.handle(found)
        ids[name] = change.alert.alert_id
        routes[name] = change.alert.routes
    return Loaded(ids, routes)


Headers = dict[str, str]


@pytest.fixture
def token() -> Callable[..., str]:
    """``token(role, agency, **claims)``: a signed JWT valid for an hour."""

    def make(role: str, agency: str, *, key: str = JWT_KEY, **claims: Any) -> str:
        body: dict[str, Any] = {
            "sub": f"{role}@{agency}",
            "role": role,
            "agency": agency,
            "iss": "fenghuo-test",
            "aud": "fenghuo-api",
            "exp": datetime.now(UTC) + timedelta(hours=1),
            **claims,
        }
        return jwt.encode(body, key, algorithm="HS256")

    return make


@pytest.fixture
def as_(token: Callable[..., str]) -> Callable[[str, str], Headers]:
    """``as_(role, agency)``: Authorization headers of a bearer JWT."""
    return lambda role, agency: {"Authorization": f"Bearer {token(role, agency)}"}


@pytest.fixture
def api_key(settings: ApiSettings, client: TestClient) -> Iterator[Callable[..., str]]:
    """``api_key(role, agency)``: a new key in the store; returns its token."""
    engine = make_engine(settings.alerts.store)

    def make(role: str, agency: str, label: str = "test") -> str:
        with Session(writer(engine)) as session, session.begin():
            issued = ApiKeys(session).create(
                role=role, agency=agency, label=label, now=datetime.now(UTC)
            )
        return issued.token

    yield make
    engine.dispose()
