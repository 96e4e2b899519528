"""The contract judge works on the schemas with their references written out in place, and
says exactly what it said with the references."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from models.contract import SCHEMA_FILES, _registry, inline_refs, validator
from tests.stream.test_codecs import loan

LOAN: dict[str, Any] = loan()
INSTITUTION: dict[str, Any] = {
    "event_id": "inst-1",
    "event_time": "2026-11-02T08:00:00+08:00",
    "institution_id": "FJ-MC-0007",
    "institution_type": "microcredit",
    "region_code": "350100",
}


def referenced(name: str) -> Draft202012Validator:
    """The judge as it was: the shipped schema, its references resolved at each use."""
    text = resources.files("models.contracts").joinpath(SCHEMA_FILES[name]).read_text("utf-8")
    return Draft202012Validator(
        json.loads(text), registry=_registry(), format_checker=FormatChecker()
    )


def violations(judge: Draft202012Validator, doc: Any) -> list[tuple[list[Any], str]]:
    return [(list(e.absolute_path), e.message) for e in judge.iter_errors(doc)]


def refs(node: Any) -> int:
    if isinstance(node, dict):
        return ("$ref" in node) + sum(refs(v) for v in node.values())
    if isinstance(node, list):
        return sum(refs(v) for v in node)
    return 0


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_the_judge_resolves_no_reference_while_judging(name: str) -> None:
    assert refs(validator(name).schema) == 0


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("loans", LOAN),
        ("loans", {**LOAN, "principal": "a lot"}),
        ("loans", {**LOAN, "event_time": "2026-11-26T10:15:00"}),
        ("loans", {**LOAN, "institution_id": "has space", "event_id": ""}),
        ("loans", {**LOAN, "borrower_region_code": "440100", "unexpected": 1}),
        ("loans", {k: v for k, v in LOAN.items() if k != "loan_id"}),
        ("loans", [1, 2, 3]),
        ("institutions", {**INSTITUTION, "institution_type": "bank"}),
        ("institutions", {**INSTITUTION, "region_code": 350100}),
        ("alert", {"specversion": "1.0", "time": "yesterday", "data": {}}),
    ],
)
def test_the_judge_names_the_same_violations_as_with_references(name: str, doc: Any) -> None:
    assert violations(validator(name), doc) == violations(referenced(name), doc)


def tiny_registry() -> Registry[Any]:
    common = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.test/common.json",
        "$defs": {
            "id": {"type": "string", "maxLength": 4},
            "tree": {"type": "object", "properties": {"child": {"$ref": "#/$defs/tree"}}},
        },
    }
    return Registry().with_resource(common["$id"], Resource.from_contents(common))


def test_a_reference_with_only_annotations_beside_it_becomes_its_target() -> None:
    node = {"$ref": "common.json#/$defs/id", "description": "an id"}

    flat = inline_refs(node, tiny_registry(), "https://example.test/root.json")

    assert flat == {"type": "string", "maxLength": 4, "description": "an id"}


def test_a_reference_with_other_keywords_beside_it_is_kept_as_all_of() -> None:
    node = {"$ref": "common.json#/$defs/id", "maxLength": 2}

    flat = inline_refs(node, tiny_registry(), "https://example.test/root.json")

    assert flat == {"maxLength": 2, "allOf": [{"type": "string", "maxLength": 4}]}


def test_a_recursive_reference_stays_a_reference_inside_its_own_expansion() -> None:
    node = {"$ref": "common.json#/$defs/tree"}

    flat = inline_refs(node, tiny_registry(), "https://example.test/root.json")

    assert flat["properties"]["child"] == {"$ref": "https://example.test/common.json#/$defs/tree"}
