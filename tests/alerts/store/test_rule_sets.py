"""Stored rule sets: validated like the rules file, versioned, one active, every change audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts import writer
from alerts.store import RuleSetNotFound, RuleSets, SavedRuleSet
from alerts.store.rule_sets import MAX_DECLARED_VERSION, MAX_DEPTH, digest, stamp
from alerts.store.tables import rule_sets
from models.rules_file import RulesFileError
from tests.alerts.conftest import REPO

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
LPR_31 = "version: '2026-12'\nrate_cap:\n  lpr: 0.031\n"
LPR_29 = "version: '2026-12b'\nrate_cap:\n  lpr: 0.029\n"


def save(engine: Engine, text: str, *, actor: str = "key:a1", minutes: int = 0) -> SavedRuleSet:
    with Session(writer(engine)) as session, session.begin():
        return RuleSets(session).save(
            text, actor=actor, comment="test", now=NOW + timedelta(minutes=minutes)
        )


def test_first_save_is_version_one_and_active(engine: Engine) -> None:
    saved = save(engine, LPR_31)

    assert saved.changed
    assert saved.rule_set.version_id == 1
    assert saved.rule_set.active
    assert saved.rule_set.sha256 == digest(LPR_31)
    assert saved.rule_set.declared_version == "2026-12"
    assert saved.rule_set.created_by == saved.rule_set.activated_by == "key:a1"


def test_stored_params_carry_the_declared_version_and_the_version_id(engine: Engine) -> None:
    saved = save(engine, LPR_31)

    params = saved.rule_set.params()

    assert params.version == "2026-12+store.1" == stamp("2026-12", 1)
    assert params.rate_cap.lpr == 0.031


def test_saving_the_active_text_again_changes_nothing(engine: Engine) -> None:
    save(engine, LPR_31)

    again = save(engine, LPR_31, actor="key:b2", minutes=5)

    assert not again.changed
    assert again.rule_set.version_id == 1
    with Session(engine) as session:
        assert len(RuleSets(session).page(limit=10)) == 1
        assert [c.action for c in RuleSets(session).history()] == ["activated", "created"]


def test_a_new_text_becomes_the_only_active_version(engine: Engine) -> None:
    save(engine, LPR_31)
    second = save(engine, LPR_29, minutes=1)

    with Session(engine) as session:
        sets = RuleSets(session)
        assert second.rule_set.version_id == 2
        assert sets.active() == second.rule_set
        assert [s.active for s in sets.page(limit=10)] == [True, False]


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("version: '2'\nrate_cap:\n  lpr: -1\n", 3, "rate_cap.lpr"),
        ("version: '2'\nrate_cap:\n  lpx: 0.03\n", 3, "rate_cap.lpx"),
        ("rate_cap:\n  lpr: 0.03\n", 1, "version"),
        ("version: '2'\nversion: '3'\n", 2, "version"),
        ("version: '2'\nrate_cap: [\n", 3, "(yaml)"),
    ],
)
def test_an_invalid_text_names_key_and_line_and_stores_nothing(
    engine: Engine, text: str, line: int, key: str
) -> None:
    with pytest.raises(RulesFileError, match="line") as raised:
        save(engine, text)

    assert (raised.value.errors[0].line, raised.value.errors[0].key) == (line, key)
    with Session(engine) as session:
        assert RuleSets(session).page(limit=10) == []
        assert RuleSets(session).history() == []


def test_aliases_are_refused_before_they_expand(engine: Engine) -> None:
    bomb = "version: '1'\na: &a [x, x, x]\nb: [*a, *a, *a]\n"

    with pytest.raises(RulesFileError, match=r"line 2: \(yaml\): anchors and aliases"):
        save(engine, bomb)


def test_declared_version_longer_than_the_limit_is_refused(engine: Engine) -> None:
    long = "v" * (MAX_DECLARED_VERSION + 1)

    with pytest.raises(RulesFileError, match=rf"line 2: version: at most {MAX_DECLARED_VERSION}"):
        save(engine, f"# comment\nversion: '{long}'\n")


def test_declared_version_at_the_limit_fits_the_alert_column(engine: Engine) -> None:
    saved = save(engine, f"version: '{'v' * MAX_DECLARED_VERSION}'\n")

    assert len(saved.rule_set.params().version) <= 40


def test_activating_an_older_version_rolls_back_and_is_audited(engine: Engine) -> None:
    save(engine, LPR_31)
    save(engine, LPR_29, minutes=1)

    with Session(writer(engine)) as session, session.begin():
        back = RuleSets(session).activate(
            1, actor="admin@*", comment="LPR 2.9 % withdrawn", now=NOW + timedelta(minutes=2)
        )

    assert back.changed
    assert back.rule_set.version_id == 1 and back.rule_set.active
    with Session(engine) as session:
        sets = RuleSets(session)
        assert sets.active() == back.rule_set
        latest = sets.history()[0]
        assert (latest.version_id, latest.actor, latest.action) == (1, "admin@*", "activated")
        assert latest.detail == {"comment": "LPR 2.9 % withdrawn", "previous": 2}


def test_activating_the_active_version_changes_nothing(engine: Engine) -> None:
    save(engine, LPR_31)

    with Session(writer(engine)) as session, session.begin():
        same = RuleSets(session).activate(1, actor="x", comment="", now=NOW)

    assert not same.changed
    with Session(engine) as session:
        assert len(RuleSets(session).history()) == 2


def test_unknown_version_is_not_found(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(RuleSetNotFound, match="version 7"):
        RuleSets(session).get(7)


def test_pages_go_newest_first_and_continue_before_a_version(engine: Engine) -> None:
    for i in range(5):
        save(engine, f"version: 'v{i}'\n", minutes=i)

    with Session(engine) as session:
        sets = RuleSets(session)
        first = sets.page(limit=2)
        rest = sets.page(limit=10, before=first[-1].version_id)

    assert [s.version_id for s in first] == [5, 4]
    assert [s.version_id for s in rest] == [3, 2, 1]


def test_the_store_refuses_two_active_versions(engine: Engine) -> None:
    save(engine, LPR_31)
    save(engine, LPR_29, minutes=1)

    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(update(rule_sets).values(active=True))


@pytest.mark.parametrize(
    "text",
    [
        "version: '1'\na: " + "[" * 5000 + "]" * 5000 + "\n",
        "version: '1'\n" + "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 2)),
    ],
)
def test_nesting_deeper_than_the_limit_is_refused(engine: Engine, text: str) -> None:
    with pytest.raises(RulesFileError, match=rf"\(yaml\): nested deeper than {MAX_DEPTH}"):
        save(engine, text)


def test_the_shipped_rules_file_is_a_valid_rule_set(engine: Engine) -> None:
    text = (REPO / "deploy" / "config" / "rules.yaml").read_text(encoding="utf-8")

    assert save(engine, text).rule_set.params().version == "1+store.1"
