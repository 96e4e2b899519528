"""The rules file: defaults equal domain.md, errors name the key and line, reload on change."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from models import DetectorParams
from models.rules_file import RulesFileError, RulesWatcher, load_rules, parse_rules

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "config" / "rules.yaml"


def test_shipped_rules_file_equals_the_built_in_defaults() -> None:
    assert load_rules(SHIPPED) == DetectorParams()


def test_defaults_are_the_values_of_domain_md() -> None:
    p = DetectorParams()
    assert p.rate_cap.cap_for(None) == 0.12
    single = {k: (v.limit, v.base) for k, v in p.concentration.single_client.items()}
    assert single == {
        "microcredit": (0.10, "net_assets"),
        "pawn": (0.25, "registered_capital"),
        "leasing": (0.30, "net_assets"),
    }
    assert p.concentration.related_party_total == 0.15
    assert (p.concentration.guarantee_single_debtor, p.concentration.guarantee_related_total) == (
        0.10,
        0.15,
    )
    assert (p.leverage.guarantee_multiple, p.leverage.guarantee_multiple_small_micro) == (10, 15)
    assert set(p.licensing.blocked_statuses) == {"suspended", "revoked", "in_liquidation"}
    assert p.licensing.unknown_is_unlicensed
    assert p.evergreening.min_chain == 3
    assert (p.multi_lender.min_lenders, p.multi_lender.window_days) == (5, 7)
    assert (p.venue.lawful_modes, p.venue.t_plus_days, p.venue.holder_limit) == (
        ("negotiated",),
        5,
        200,
    )
    assert (p.escalation.min_categories, p.escalation.window_days) == (3, 7)
    assert (p.regional_cluster.min_institutions, p.regional_cluster.window_days) == (3, 7)


def test_left_out_sections_keep_their_defaults() -> None:
    params = parse_rules("version: '2'\nvenue:\n  holder_limit: 150\n")
    assert params.version == "2"
    assert params.venue.holder_limit == 150
    assert params.venue.t_plus_days == 5
    assert params.concentration == DetectorParams().concentration


def test_a_numeric_version_is_read_as_text() -> None:
    assert parse_rules("version: 2\n").version == "2"


def test_holidays_are_read_as_dates() -> None:
    params = parse_rules("version: '1'\nvenue:\n  holidays: [2026-10-01, 2026-10-02]\n")
    assert params.venue.holidays == (date(2026, 10, 1), date(2026, 10, 2))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "version: '1'\nconcentration:\n  related_party_total: -1\n",
            r"line 3: concentration\.related_party_total: Input should be greater than 0",
        ),
        (
            "version: '1'\nrate_cap:\n  lpr: 0.03\n  multiplyer: 4\n",
            r"line 4: rate_cap\.multiplyer: Extra inputs are not permitted",
        ),
        (
            "version: '1'\nconcentration:\n  single_client:\n    pawn:\n      limit: 0.25\n"
            "      base: capital\n",
            r"line 6: concentration\.single_client\.pawn\.base: String should match",
        ),
        (
            "version: '1'\nvenue:\n  holidays:\n    - 2026-10-01\n    - not-a-day\n",
            r"line 5: venue\.holidays\.1: Input should be a valid date",
        ),
        ("version: '1'\nvenue:\n  t_plus_days: [5\n", r"line 4: \(yaml\)"),
        ("rate_cap:\n  lpr: 0.03\n", r"line 1: version: missing"),
        ("version: '1'\nvenue: {}\nvenue: {}\n", r"line 3: venue: given twice"),
        ("- 1\n- 2\n", r"line 1: \(document\): must be a mapping"),
    ],
)
def test_bad_rules_file_names_the_key_and_its_line(text: str, match: str) -> None:
    with pytest.raises(RulesFileError, match=match):
        parse_rules(text, source="rules.yaml")


def test_rules_file_error_is_a_value_error_listing_every_problem() -> None:
    text = "version: '1'\nvenue:\n  holder_limit: 0\n  t_plus_days: 0\n"
    with pytest.raises(ValueError, match=r"^rules\.yaml: ") as info:
        parse_rules(text, source="rules.yaml")
    assert isinstance(info.value, RulesFileError)
    assert sorted(e.line for e in info.value.errors) == [3, 4]


def test_missing_file_is_an_error_unless_missing_is_ok(tmp_path: Path) -> None:
    with pytest.raises(RulesFileError, match="not found"):
        load_rules(tmp_path / "absent.yaml")
    assert load_rules(tmp_path / "absent.yaml", missing_ok=True) == DetectorParams()


def _write(path: Path, text: str, tick: int) -> None:
    """Write and give the file its own mtime, whatever the filesystem's clock resolution."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def test_watcher_reloads_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "version: '1'\n", 1)
    watcher = RulesWatcher(path)
    assert watcher.reload_if_changed() is None
    _write(path, "version: '2'\nvenue:\n  holder_limit: 100\n", 2)
    reloaded = watcher.reload_if_changed()
    assert reloaded is not None and reloaded.version == "2"
    assert watcher.params.venue.holder_limit == 100


def test_watcher_ignores_a_touch_without_a_content_change(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "version: '1'\n", 1)
    watcher = RulesWatcher(path)
    _write(path, "version: '1'\n", 2)
    assert watcher.reload_if_changed() is None


def test_watcher_keeps_the_rules_in_force_after_a_bad_edit(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "version: '1'\n", 1)
    watcher = RulesWatcher(path)
    _write(path, "version: '2'\nvenue:\n  holder_limit: -5\n", 2)
    assert watcher.reload_if_changed() is None
    assert watcher.params.version == "1"
    assert watcher.last_error is not None and "line 3" in str(watcher.last_error)
    _write(path, "version: '2'\nvenue:\n  holder_limit: 5\n", 3)
    assert watcher.reload_if_changed() is not None
    assert watcher.last_error is None


def test_watcher_refuses_a_bad_file_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    _write(path, "version: '1'\nbogus: 1\n", 1)
    with pytest.raises(RulesFileError, match="line 2: bogus"):
        RulesWatcher(path)
