"""The rule catalogue as the engine runs it: contract attributes, JSON-able output."""

from __future__ import annotations

import json

from models import DetectorKind, DictStore, Partition, RiskEngine
from models.rules import RULE_DETECTORS
from tests.models.rules._make import guarantee, institution, loan, registry, trade


def test_every_rule_detector_follows_the_contract() -> None:
    names = [cls.name for cls in RULE_DETECTORS]
    namespaces = [cls.namespace for cls in RULE_DETECTORS if cls.namespace is not None]
    assert len(set(names)) == len(names)
    assert len(set(namespaces)) == len(namespaces)
    for cls in RULE_DETECTORS:
        assert cls.kind is DetectorKind.RULE
        assert cls.partition is Partition.FEED
        assert cls.categories


def test_findings_and_state_through_the_engine_are_json_without_nan() -> None:
    engine = RiskEngine(detectors=[cls() for cls in RULE_DETECTORS])
    store = DictStore()
    reg = registry(
        institution(net_assets=0.0, license_status="suspended"),
        institution("FJ-GT-0001", institution_type="guarantee", net_assets=0.0),
    )
    events = [
        loan(annual_rate=0.5, related_party=True),
        guarantee(debtor_related_party=True),
        trade(trading_mode="auction", buyer_owner_id="O1", seller_owner_id="O1"),
    ]
    findings = [f for e in events for f in engine.process(e, store=store, registry=reg).findings]
    categories = {str(f.category) for f in findings}
    assert {"usurious_rate", "borrower_concentration", "related_party_lending"} <= categories
    assert {"guarantee_leverage", "guarantee_concentration", "unlicensed_activity"} <= categories
    assert {"prohibited_trading_mode", "t_plus_5_violation"} <= categories
    for finding in findings:
        json.dumps(finding.to_dict(), allow_nan=False)
        assert finding.detector.version == "1"
    json.dumps(store.data, allow_nan=False)
