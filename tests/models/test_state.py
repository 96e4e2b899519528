"""State stores: the dict backing, the keyed view, and how the engine hands state over."""

from __future__ import annotations

from typing import Any, ClassVar

from models.categories import Category, DetectorKind, Feed
from models.detector import Context, Detector
from models.engine import RiskEngine
from models.findings import Finding
from models.state import DictRegistry, DictStore, KeyedState, sub_key
from tests.models.rules._make import loan


def test_delete_forgets_a_key_and_ignores_an_absent_one() -> None:
    store = DictStore()
    store.set("ns", "a", 1)
    store.delete("ns", "a")
    store.delete("ns", "a")
    store.delete("other", "a")
    assert store.get("ns", "a") is None and store.size("ns") == 0


def test_keyed_state_reads_and_writes_one_namespace() -> None:
    store = DictStore()
    view = KeyedState(store, "ns")
    view.set("k", [1, 2])
    store.set("other", "k", "elsewhere")
    assert view.get("k") == [1, 2] and store.get("ns", "k") == [1, 2]
    view.delete("k")
    assert view.get("k") is None and store.get("other", "k") == "elsewhere"


def test_sub_key_joins_its_parts() -> None:
    assert sub_key("FJ-MC-0001", "p", "L1") == "FJ-MC-0001|p|L1"


class _CountsLoans(Detector):
    """Keeps a count per lender in a sub-key, as a keyed detector does."""

    feed = Feed.LOANS
    categories = (Category.LENDING_SURGE,)
    kind: ClassVar[DetectorKind] = DetectorKind.RULE
    name = "counts_loans"
    namespace = "counts"
    keyed = True

    def state_key(self, event: Any) -> str:
        return str(event.institution_id)

    def detect(self, event: Any, state: Any, ctx: Context) -> tuple[Any, list[Finding]]:
        assert isinstance(state, KeyedState)
        key = sub_key(event.institution_id, "n")
        state.set(key, (state.get(key) or 0) + 1)
        return "ignored", []


def test_engine_hands_a_keyed_detector_its_namespace_and_ignores_the_returned_state() -> None:
    engine = RiskEngine(detectors=[_CountsLoans()])
    store = DictStore()
    for name in ("L1", "L2"):
        engine.process(loan(name), store=store, registry=DictRegistry())
    assert store.data == {"counts": {"FJ-MC-0001|n": 2}}
