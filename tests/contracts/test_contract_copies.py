"""The schemas shipped in models/contracts must stay identical to the shared contracts."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from models.contract import SCHEMA_FILES, contract_errors

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "contracts"


@pytest.mark.parametrize("name", sorted({*SCHEMA_FILES.values(), "common.schema.json"}))
def test_shipped_schema_equals_shared_contract(name: str) -> None:
    shipped = json.loads(resources.files("models.contracts").joinpath(name).read_text("utf-8"))
    assert shipped == json.loads((SHARED / name).read_text("utf-8"))


@pytest.mark.parametrize(
    ("feed", "example"),
    [
        ("loans", "loan"),
        ("guarantees", "guarantee"),
        ("trades", "trade"),
        ("institutions", "institution"),
        ("alert", "alert"),
    ],
)
def test_shared_examples_are_valid(feed: str, example: str) -> None:
    doc = json.loads((SHARED / "examples" / f"{example}.json").read_text("utf-8"))
    assert contract_errors(feed, doc) == []


def test_contract_errors_name_the_field() -> None:
    doc = json.loads((SHARED / "examples" / "loan.json").read_text("utf-8"))
    doc["annual_rate"] = 12
    (error,) = contract_errors("loans", doc)
    assert error.startswith("annual_rate:")
