"""Tiny hand-made events and a runner that threads JSON-round-tripped state through a detector."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from models import Context, Detector, DictRegistry, Finding, Guarantee, Institution, Loan, Trade
from models.events import parse_time
from models.state import DictStore, KeyedState

T0 = "2026-11-02T10:00:00+08:00"  # a Monday


def when(value: str = T0) -> datetime:
    return parse_time(value)


def institution(institution_id: str = "FJ-MC-0001", **fields: Any) -> Institution:
    doc: dict[str, Any] = {
        "event_id": f"inst-{institution_id}",
        "event_time": when("2026-11-01T08:00:00+08:00"),
        "institution_id": institution_id,
        "name": "某公司",
        "institution_type": "microcredit",
        "region_code": "350500",
        "registered_capital": 100_000_000.0,
        "net_assets": 100_000_000.0,
        "license_status": "active",
    }
    doc.update(fields)
    return Institution(**doc)


def loan(loan_id: str = "L1", **fields: Any) -> Loan:
    doc: dict[str, Any] = {
        "event_id": f"ev-{loan_id}",
        "event_type": "originated",
        "event_time": when(),
        "institution_id": "FJ-MC-0001",
        "loan_id": loan_id,
        "borrower_id": "B1",
        "borrower_type": "enterprise",
        "principal": 1_000_000.0,
        "outstanding": 1_000_000.0,
        "annual_rate": 0.10,
        "term_days": 180,
        "days_past_due": 0,
    }
    doc.update(fields)
    if isinstance(doc["event_time"], str):
        doc["event_time"] = when(doc["event_time"])
    return Loan(**doc)


def guarantee(guarantee_id: str = "G1", **fields: Any) -> Guarantee:
    doc: dict[str, Any] = {
        "event_id": f"ev-{guarantee_id}",
        "event_type": "issued",
        "event_time": when(),
        "institution_id": "FJ-GT-0001",
        "guarantee_id": guarantee_id,
        "guarantor_id": "FJ-GT-0001",
        "guarantor_type": "guarantee_company",
        "debtor_id": "D1",
        "creditor_id": "FJ-MC-0001",
        "amount": 1_000_000.0,
        "outstanding": 1_000_000.0,
    }
    doc.update(fields)
    if isinstance(doc["event_time"], str):
        doc["event_time"] = when(doc["event_time"])
    return Guarantee(**doc)


def trade(trade_id: str = "T1", **fields: Any) -> Trade:
    doc: dict[str, Any] = {
        "event_id": f"ev-{trade_id}",
        "event_time": when(),
        "venue_id": "FJ-TV-0001",
        "product_id": "P1",
        "product_type": "equity",
        "trade_id": trade_id,
        "buyer_account": "ACC-B",
        "seller_account": "ACC-S",
        "buyer_owner_id": "OWN-B",
        "seller_owner_id": "OWN-S",
        "price": 1.0,
        "quantity": 100.0,
        "trading_mode": "negotiated",
    }
    doc.update(fields)
    if isinstance(doc["event_time"], str):
        doc["event_time"] = when(doc["event_time"])
    return Trade(**doc)


def registry(*records: Institution) -> DictRegistry:
    reg = DictRegistry()
    for record in records:
        reg.put(record)
    return reg


def run(
    detector: Detector, events: list[Any], reg: DictRegistry | None = None
) -> list[list[Finding]]:
    """Findings per event; state goes through JSON between events, as in a Faust table.

    An ``Institution`` among the events updates the registry (and finds nothing), as the
    ``institutions`` feed does between business events. A keyed detector gets its namespace
    of a ``DictStore`` whose every value is JSON-round-tripped between events.
    """
    reg = reg if reg is not None else DictRegistry()
    ctx = Context(registry=reg)
    states: dict[str | None, Any] = {}
    store = DictStore()
    out: list[list[Finding]] = []
    for event in events:
        if isinstance(event, Institution):
            reg.put(event)
            out.append([])
            continue
        key = detector.state_key(event)
        if detector.keyed:
            view = KeyedState(store, detector.namespace or "")
            _, found = detector.detect(event, view if key is not None else None, ctx)
            store.data = json.loads(json.dumps(store.data))
        else:
            state, found = detector.detect(event, states.get(key), ctx)
            states[key] = json.loads(json.dumps(state))
        out.append(found)
    return out


def last(detector: Detector, events: list[Any], reg: DictRegistry | None = None) -> list[Finding]:
    """Findings of the last event."""
    return run(detector, events, reg)[-1]
