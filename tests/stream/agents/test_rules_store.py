"""Rules from the store: an API-activated rule set wins over the rules file, on a real store."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session

from alerts import AlertsConfig, StoreConfig, make_engine, migrate, writer
from alerts.store import RuleSets
from alerts.store.tables import rule_sets
from models import DetectorKind, DetectorParams
from models.rules_file import RulesWatcher
from stream.agents.rules import RulesInForce, StoredRules
from tests.stream.agents.kit import build_worker

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
FILE_RULES = "version: 'file-1'\nrate_cap:\n  lpr: 0.030\n"
STORED = "version: 'api-1'\nrate_cap:\n  lpr: 0.031\n"
STORED_2 = "version: 'api-2'\nrate_cap:\n  lpr: 0.029\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreConfig]:
    config = StoreConfig(url=f"sqlite:///{(tmp_path / 'alerts.db').as_posix()}")
    engine = make_engine(config)
    migrate(engine)
    engine.dispose()
    yield config


@pytest.fixture
def engine(store: StoreConfig) -> Iterator[Engine]:
    built = make_engine(store)
    yield built
    built.dispose()


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(FILE_RULES, encoding="utf-8")
    return path


def put(engine: Engine, text: str) -> int:
    with Session(writer(engine)) as session, session.begin():
        return (
            RuleSets(session).save(text, actor="admin@*", comment="t", now=NOW).rule_set.version_id
        )


def refresh(rules: RulesInForce, stored: StoredRules) -> DetectorParams | None:
    """One reload tick: read the store, let the rules in force follow it."""
    active, read = stored.read()
    return rules.update(active, store_read=read)


def rules_in_force(rules_file: Path, store: StoreConfig) -> tuple[RulesInForce, StoredRules]:
    return RulesInForce(RulesWatcher(rules_file)), StoredRules(store)


def test_with_no_stored_set_the_file_governs(rules_file: Path, store: StoreConfig) -> None:
    rules, stored = rules_in_force(rules_file, store)

    assert refresh(rules, stored) is None
    assert (rules.params.version, rules.source) == ("file-1", "file")


def test_an_active_stored_set_wins_and_carries_its_stored_version(
    rules_file: Path, store: StoreConfig, engine: Engine
) -> None:
    rules, stored = rules_in_force(rules_file, store)
    put(engine, STORED)

    params = refresh(rules, stored)

    assert params is not None
    assert (params.version, params.rate_cap.lpr) == ("api-1+store.1", 0.031)
    assert rules.source == "stored rule set 1"
    assert refresh(rules, stored) is None  # the same version: nothing to rebuild


def test_a_newly_activated_version_and_a_rollback_are_picked_up(
    rules_file: Path, store: StoreConfig, engine: Engine
) -> None:
    rules, stored = rules_in_force(rules_file, store)
    put(engine, STORED)
    refresh(rules, stored)
    put(engine, STORED_2)

    newer = refresh(rules, stored)
    with Session(writer(engine)) as session, session.begin():
        RuleSets(session).activate(1, actor="admin@*", comment="back", now=NOW)
    back = refresh(rules, stored)

    assert newer is not None and newer.version == "api-2+store.2"
    assert back is not None and back.version == "api-1+store.1"


def test_a_file_edit_does_not_replace_a_stored_set(
    rules_file: Path, store: StoreConfig, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    rules, stored = rules_in_force(rules_file, store)
    put(engine, STORED)
    refresh(rules, stored)
    rules_file.write_text("version: 'file-2'\nrate_cap:\n  lpr: 0.02\n", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="stream.agents.rules"):
        assert refresh(rules, stored) is None

    assert rules.params.version == "api-1+store.1"
    assert "stored rule set 1 stays in force" in caplog.text


def test_with_no_active_set_any_more_the_file_governs_again(
    rules_file: Path, store: StoreConfig, engine: Engine
) -> None:
    rules, stored = rules_in_force(rules_file, store)
    put(engine, STORED)
    refresh(rules, stored)
    with engine.begin() as connection:
        connection.execute(update(rule_sets).values(active=False))

    params = refresh(rules, stored)

    assert params is not None and params.version == "file-1"
    assert rules.stored_id is None


def test_a_bad_stored_set_is_logged_once_and_the_rules_in_force_stay(
    rules_file: Path, store: StoreConfig, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    rules, stored = rules_in_force(rules_file, store)
    with engine.begin() as connection:  # bypasses the API's validation, as a hand edit would
        connection.execute(
            insert(rule_sets).values(
                declared_version="bad",
                yaml="version: 'bad'\nrate_cap:\n  lpr: -1\n",
                sha256="0" * 64,
                created_by="dba",
                comment="by hand",
                created_at=NOW,
                active=True,
            )
        )

    with caplog.at_level(logging.ERROR, logger="stream.agents.rules"):
        assert refresh(rules, stored) is None
        assert refresh(rules, stored) is None

    assert rules.params.version == "file-1"
    assert caplog.text.count("stored rule set 1 not applied") == 1
    assert "rate_cap.lpr" in caplog.text


def test_an_unreadable_store_keeps_a_stored_set_in_force(
    rules_file: Path, store: StoreConfig, engine: Engine
) -> None:
    rules, stored = rules_in_force(rules_file, store)
    put(engine, STORED)
    refresh(rules, stored)

    assert rules.update(None, store_read=False) is None
    assert rules.params.version == "api-1+store.1"


def test_an_unreadable_store_still_lets_file_edits_apply(
    rules_file: Path, store: StoreConfig
) -> None:
    rules, _ = rules_in_force(rules_file, store)
    rules_file.write_text("version: 'file-2'\n", encoding="utf-8")

    params = rules.update(None, store_read=False)

    assert params is not None and params.version == "file-2"


def test_a_store_not_yet_migrated_holds_no_rule_set(tmp_path: Path) -> None:
    stored = StoredRules(StoreConfig(url=f"sqlite:///{(tmp_path / 'new.db').as_posix()}"))

    assert stored.read() == (None, True)
    stored.close()


def test_an_unreachable_store_is_reported_unread(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "dir.db").mkdir()  # a folder where the database file should be
    stored = StoredRules(StoreConfig(url=f"sqlite:///{(tmp_path / 'dir.db').as_posix()}"))

    with caplog.at_level(logging.WARNING, logger="stream.agents.rules"):
        assert stored.read() == (None, False)
        assert stored.read() == (None, False)

    assert caplog.text.count("stored rule sets unreadable") == 1
    stored.close()


def test_an_in_memory_store_is_never_read() -> None:
    assert StoredRules(StoreConfig(url="sqlite://")).read() == (None, True)


def test_a_worker_built_on_a_store_with_an_active_set_runs_it_from_the_start(
    store: StoreConfig, engine: Engine
) -> None:
    put(engine, STORED)

    worker = build_worker(alerts_config=AlertsConfig(store=store))

    rule_detectors = [d for d in worker.ctx.engine.detectors if d.kind is DetectorKind.RULE]
    assert rule_detectors
    assert {d.params.version for d in rule_detectors} == {"api-1+store.1"}
