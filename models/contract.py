"""Validates documents against the wire contracts shipped in ``models/contracts``.

The schemas are the ones in the project's shared ``contracts/`` folder, copied into the package
so an installed worker needs nothing beside it; a test keeps the copies identical.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from models.categories import Feed

SCHEMA_FILES: dict[str, str] = {
    "loans": "loan.schema.json",
    "guarantees": "guarantee.schema.json",
    "trades": "trade.schema.json",
    "institutions": "institution.schema.json",
    "alert": "alert.schema.json",
}


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for entry in resources.files("models.contracts").iterdir():
        if entry.name.endswith(".schema.json"):
            schema = json.loads(entry.read_text(encoding="utf-8"))
            registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of a feed (``loans``…) or of ``alert``."""
    schema = json.loads(
        resources.files("models.contracts").joinpath(SCHEMA_FILES[name]).read_text("utf-8")
    )
    return Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())


def contract_errors(name: Feed | str, doc: Any, *, limit: int = 3) -> list[str]:
    """Human-readable contract violations of ``doc``, at most ``limit``; empty when valid."""
    errors = []
    for err in validator(str(name)).iter_errors(doc):
        where = "/".join(str(p) for p in err.absolute_path) or "(document)"
        errors.append(f"{where}: {err.message}")
        if len(errors) >= limit:
            break
    return errors
