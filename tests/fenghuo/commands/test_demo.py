"""fenghuo demo prints one readable line per alert change."""

from __future__ import annotations

from typing import Any

from fenghuo.commands.demo import alert_line


def cloudevent(**data: Any) -> dict[str, Any]:
    base = {
        "severity": "high",
        "category": "usurious_rate",
        "entity_type": "loan",
        "entity_id": "MC7-2026-118204",
        "institution_id": "FJ-MC-0007",
        "institution_type": "microcredit",
        "region_code": "350500",
        "routes": ["office.banking_insurance", "eic", "coordination"],
    }
    base.update(data)
    return {"type": "fenghuo.alert.opened", "data": base}


def test_an_alert_line_names_severity_category_entity_and_routes() -> None:
    line = alert_line(cloudevent())

    assert "HIGH" in line
    assert "usurious_rate" in line
    assert "loan MC7-2026-118204 @ FJ-MC-0007 (microcredit, 350500)" in line
    assert line.endswith("-> office.banking_insurance, eic, coordination  [opened]")


def test_an_alert_without_institution_or_routes_still_reads() -> None:
    line = alert_line(
        cloudevent(
            category="model_drift",
            entity_type="model",
            entity_id="loan_anomaly",
            institution_id=None,
            institution_type=None,
            region_code=None,
            routes=[],
        )
    )

    assert "model loan_anomaly @ -  -> -  [opened]" in line
