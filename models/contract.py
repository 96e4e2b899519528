"""Validates documents against the wire contracts shipped in ``models/contracts``.

The schemas are the ones in the project's shared ``contracts/`` folder, copied into the package
so an installed worker needs nothing beside it; a test keeps the copies identical.

Every event of every feed is checked, so speed matters: a compiled validator
(``fastjsonschema``, about 0.1 ms) clears valid documents, and whatever it rejects is judged again
by ``jsonschema``, which has the last word and names the violations. The judge works on the
schema with its ``$ref``s to ``common.schema.json`` written out in place (same keywords, same
messages and paths): resolving a reference per field was four fifths of a judgement (0.9 ms
against 0.17 ms for a loan with one broken field), and a flood of bad records pays it per record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urldefrag, urljoin

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from models.categories import Feed

log = logging.getLogger(__name__)

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


#: Keywords that only annotate: beside a ``$ref`` they merge into its target without changing
#: what the target validates.
ANNOTATIONS = frozenset({"description", "title", "default", "examples", "$comment"})


def inline_refs(node: Any, registry: Registry[Any], base: str, seen: tuple[str, ...] = ()) -> Any:
    """``node`` (found at ``base``) with every ``$ref`` replaced by its target, recursively.

    A ``$ref`` with only annotations beside it becomes its target plus those annotations; one
    with other keywords beside it becomes ``allOf: [target]`` plus them (both validate exactly
    what the reference did). A reference back into one being written out stays a ``$ref``,
    made absolute.
    """
    if isinstance(node, list):
        return [inline_refs(item, registry, base, seen) for item in node]
    if not isinstance(node, dict):
        return node
    rest = {k: inline_refs(v, registry, base, seen) for k, v in node.items() if k != "$ref"}
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return rest
    where = urljoin(base, ref)
    if where in seen:  # absolute: the reference now sits in another document
        return {"$ref": where, **rest}
    resolved = registry.resolver(base).lookup(ref)
    target = inline_refs(resolved.contents, registry, urldefrag(where).url, (*seen, where))
    if not isinstance(target, dict) or not set(rest) <= ANNOTATIONS:
        return {**rest, "allOf": [*rest.get("allOf", []), target]}
    return {**target, **rest}


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of a feed (``loans``…) or of ``alert``, on the schema with refs inlined."""
    schema = json.loads(
        resources.files("models.contracts").joinpath(SCHEMA_FILES[name]).read_text("utf-8")
    )
    flat = inline_refs(schema, _registry(), schema["$id"])
    return Draft202012Validator(flat, registry=_registry(), format_checker=FormatChecker())


@cache
def compiled(name: str) -> Callable[[Any], Any] | None:
    """The compiled validator of a contract; None if it cannot be compiled (then: jsonschema)."""
    files = resources.files("models.contracts")
    try:
        by_id = {}
        for entry in files.iterdir():
            if entry.name.endswith(".schema.json"):
                schema = json.loads(entry.read_text(encoding="utf-8"))
                by_id[schema["$id"]] = schema
        root = json.loads(files.joinpath(SCHEMA_FILES[name]).read_text(encoding="utf-8"))
        compiled: Callable[[Any], Any] = fastjsonschema.compile(
            root, handlers={"https": by_id.__getitem__}
        )
        return compiled
    except Exception as exc:  # an unsupported keyword must cost speed, not correctness
        log.warning("contract %s not compiled (%s): using jsonschema alone", name, exc)
        return None


def passes_compiled(name: Feed | str, doc: Any) -> bool:
    """True when the compiled validator accepts ``doc`` (False also when there is none)."""
    check = compiled(str(name))
    if check is None:
        return False
    try:
        check(doc)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def contract_errors(name: Feed | str, doc: Any, *, limit: int = 3) -> list[str]:
    """Human-readable contract violations of ``doc``, at most ``limit``; empty when valid."""
    if passes_compiled(name, doc):
        return []
    errors = []
    for err in validator(str(name)).iter_errors(doc):
        where = "/".join(str(p) for p in err.absolute_path) or "(document)"
        errors.append(f"{where}: {err.message}")
        if len(errors) >= limit:
            break
    return errors
