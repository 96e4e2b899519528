"""The routing tree: domain.md's default table, Alertmanager semantics, validation at load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from alerts import RoutingConfigError, RoutingTree
from alerts.routing import parse_duration
from models import Category, InstitutionType

# domain.md, "Default routing that follows the division of duties": Office division + agency.
SECTOR_RECEIVERS: dict[str, set[str]] = {
    "microcredit": {"office.banking_insurance", "eic"},
    "guarantee": {"office.banking_insurance", "eic"},
    "pawn": {"office.banking_insurance", "eic"},
    "leasing": {"office.banking_insurance", "eic"},
    "local_bank": {"office.banking_insurance", "regulator.banking"},
    "local_insurer": {"office.banking_insurance", "regulator.insurance"},
    "securities": {"office.capital_markets", "regulator.securities"},
    "futures": {"office.capital_markets", "regulator.securities"},
    "trading_venue": {"office.capital_markets"},
    "equity_fund": {"office.capital_markets"},
    "private_lending": {"office.banking_insurance", "coordination"},
    "other": {"office.general"},
}
# "On top of that": what a category adds whatever the sector.
CATEGORY_ADDS: dict[str, set[str]] = {
    "institution_risk_escalation": {"coordination"},
    "regional_cluster": {"coordination", "pboc.fuzhou"},
    "guarantee_contagion": {"coordination", "pboc.fuzhou"},
}
SEVERITY_ADDS: dict[str, set[str]] = {"high": {"coordination"}, "critical": {"coordination"}}


@dataclass(frozen=True)
class Labels:
    """Just what routing reads from an alert."""

    category: str
    severity: str = "medium"
    feed: str = "loans"
    entity_type: str = "loan"
    institution_type: str | None = None
    region_code: str | None = "350100"
    institution_id: str | None = "FJ-X-1"
    entity_id: str = "E-1"
    dedup_key: str = "k"


def expected(category: str, institution_type: str, severity: str) -> set[str]:
    if category == "model_drift":
        return {"office.planning"}
    return (
        SECTOR_RECEIVERS[institution_type]
        | CATEGORY_ADDS.get(category, set())
        | SEVERITY_ADDS.get(severity, set())
    )


@pytest.mark.parametrize("severity", ["low", "critical"])
@pytest.mark.parametrize("institution_type", list(InstitutionType))
@pytest.mark.parametrize("category", list(Category))
def test_default_tree_follows_the_division_of_duties(
    routing: RoutingTree, category: str, institution_type: str, severity: str
) -> None:
    alert = Labels(category=category, severity=severity, institution_type=institution_type)
    receivers = routing.route(alert)
    assert len(receivers) == len(set(receivers))
    assert set(receivers) == expected(category, institution_type, severity)


@pytest.mark.parametrize(
    ("feed", "sector"),
    [("trades", "trading_venue"), ("guarantees", "guarantee"), ("loans", "other")],
)
def test_unknown_institution_type_routes_as_the_sector_of_its_feed(
    routing: RoutingTree, feed: str, sector: str
) -> None:
    alert = Labels(category="unlicensed_activity", feed=feed, institution_type=None)
    assert set(routing.route(alert)) == SECTOR_RECEIVERS[sector]


def test_regional_cluster_without_institution_reaches_coordination_and_central_bank(
    routing: RoutingTree,
) -> None:
    alert = Labels(category="regional_cluster", institution_type=None, institution_id=None)
    assert routing.route(alert) == ["office.general", "coordination", "pboc.fuzhou"]


def test_model_drift_goes_to_planning_alone_even_when_critical(routing: RoutingTree) -> None:
    alert = Labels(category="model_drift", severity="critical", feed="system")
    assert routing.route(alert) == ["office.planning"]


def test_sector_receivers_come_before_the_added_ones(routing: RoutingTree) -> None:
    alert = Labels(category="borrower_concentration", severity="high", institution_type="pawn")
    assert routing.route(alert) == ["office.banking_insurance", "eic", "coordination"]


def test_every_receiver_of_domain_md_is_declared(routing: RoutingTree) -> None:
    assert set(routing.receivers) == {
        "office.general",
        "office.planning",
        "office.banking_insurance",
        "office.capital_markets",
        "eic",
        "pboc.fuzhou",
        "regulator.banking",
        "regulator.securities",
        "regulator.insurance",
        "finance_dept",
        "coordination",
    }


@pytest.mark.parametrize("severity", ["info", "medium", "high"])
def test_only_high_and_critical_add_coordination(routing: RoutingTree, severity: str) -> None:
    alert = Labels(category="usurious_rate", severity=severity, institution_type="microcredit")
    added = {"coordination"} if severity == "high" else set()
    assert set(routing.route(alert)) == {"office.banking_insurance", "eic"} | added


# -- Alertmanager semantics on small trees ---------------------------------------------------
RECEIVERS = [{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d"}]


def tree(*routes: dict[str, Any], **root: Any) -> RoutingTree:
    return RoutingTree.from_dict(
        {"receivers": RECEIVERS, "route": {"receivers": ["a"], **root, "routes": list(routes)}}
    )


def test_root_receives_when_no_child_matches() -> None:
    routing = tree({"matchers": ['feed="trades"'], "receivers": ["b"]})
    assert routing.route(Labels(category="usurious_rate")) == ["a"]


def test_first_matching_child_wins_without_continue() -> None:
    routing = tree(
        {"matchers": ['feed="loans"'], "receivers": ["b"]},
        {"matchers": ['severity="medium"'], "receivers": ["c"]},
    )
    assert routing.route(Labels(category="usurious_rate")) == ["b"]


def test_continue_lets_later_siblings_match_too() -> None:
    routing = tree(
        {"matchers": ['feed="loans"'], "receivers": ["b"], "continue": True},
        {"matchers": ['severity="medium"'], "receivers": ["c"]},
        {"receivers": ["d"]},
    )
    assert routing.route(Labels(category="usurious_rate")) == ["b", "c"]


def test_nested_route_delivers_to_the_deepest_match() -> None:
    routing = tree(
        {
            "matchers": ['feed="loans"'],
            "receivers": ["b"],
            "routes": [{"matchers": ['region_code="350100"'], "receivers": ["c"]}],
        }
    )
    assert routing.route(Labels(category="usurious_rate")) == ["c"]
    assert routing.route(Labels(category="usurious_rate", region_code="350200")) == ["b"]


@pytest.mark.parametrize(
    ("matcher", "reached"),
    [
        ('severity!="medium"', ["a"]),
        ('severity!="high"', ["b"]),
        ('category=~"usurious_.*"', ["b"]),
        ('category!~"usurious_.*"', ["a"]),
        ('region_code=~"3501.."', ["b"]),
        ('institution_type=""', ["b"]),
        ("feed=loans", ["b"]),
    ],
)
def test_matcher_operators(matcher: str, reached: list[str]) -> None:
    routing = tree({"matchers": [matcher], "receivers": ["b"]})
    assert routing.route(Labels(category="usurious_rate")) == reached


def test_children_inherit_receivers_and_timers_from_the_parent() -> None:
    routing = tree(
        {"matchers": ['feed="loans"'], "group_wait": "1m", "routes": [{"group_by": ["feed"]}]},
        group_by=["category"],
        group_wait="30s",
        repeat_interval="2h",
    )
    [match] = routing.matches(Labels(category="usurious_rate"))
    assert match.receiver == "a"
    assert match.route.group_wait == timedelta(minutes=1)
    assert match.route.repeat_interval == timedelta(hours=2)
    assert match.route.group_by == ("feed",)
    assert match.route.group_key(Labels(category="usurious_rate")).endswith("feed=loans")


def test_shipped_tree_timers() -> None:
    routing = RoutingTree.from_dict(
        {"receivers": RECEIVERS, "route": {"receivers": ["a"], "group_interval": "1h30m"}}
    )
    assert routing.root.group_interval == timedelta(hours=1, minutes=30)
    assert routing.root.group_wait == timedelta(seconds=30)


# -- validation at load ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ([{"name": "venues", "receivers": ["nobody"]}], r"routes\[0\] \(venues\).*'nobody'"),
        ([{"matchers": ['colour="red"']}], r"routes\[0\].*unknown label 'colour'"),
        ([{"matchers": ['severity="hgh"']}], r"unknown severity 'hgh'"),
        ([{"matchers": ['category=~"usurious_rate|wash_trades"']}], r"'wash_trades'"),
        ([{"matchers": ["severity high"]}], r"is not label=\"value\""),
        ([{"matchers": ['feed=~"("']}], r"bad regex"),
        ([{"recievers": ["a"]}], r"route\.routes\[0\]\.recievers: Extra inputs"),
        ([{"group_wait": "soon"}], r"group_wait.*30s"),
        ([{"group_by": ["borrower"]}], r"cannot group by 'borrower'"),
        ([{"routes": [{"receivers": ["x"]}]}], r"route\.routes\[0\]\.routes\[0\]: unknown"),
    ],
)
def test_bad_tree_is_rejected_naming_the_route(routes: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(RoutingConfigError, match=message):
        tree(*routes)


def test_root_with_matchers_is_rejected() -> None:
    with pytest.raises(RoutingConfigError, match="must match all"):
        tree(matchers=['feed="loans"'])


def test_receiver_declared_twice_is_rejected() -> None:
    doc = {"receivers": [{"id": "a"}, {"id": "a"}], "route": {"receivers": ["a"]}}
    with pytest.raises(RoutingConfigError, match="'a' is declared twice"):
        RoutingTree.from_dict(doc)


def test_unreadable_file_is_a_routing_error(tmp_path: Any) -> None:
    with pytest.raises(RoutingConfigError, match="cannot read"):
        RoutingTree.from_file(tmp_path / "missing.yaml")


def test_invalid_yaml_is_a_routing_error(tmp_path: Any) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("route: [unclosed", encoding="utf-8")
    with pytest.raises(RoutingConfigError, match="not valid YAML"):
        RoutingTree.from_file(path)


@pytest.mark.parametrize(
    ("text", "value"),
    [("30s", timedelta(seconds=30)), ("4h", timedelta(hours=4)), ("1d2h", timedelta(hours=26))],
)
def test_durations(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "-1m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration must look like"):
        parse_duration(text)
