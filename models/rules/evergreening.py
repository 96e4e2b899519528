"""evergreening: a loan kept alive by repeated extensions or rollovers, hiding delinquency.

Source: domain.md, Definitions. A term extension is an ``extended`` event on the same loan; a
rollover is an ``extended`` event on the *new* loan naming the old one in ``previous_loan_id``
(with a repayment bringing the old loan to 0 at the same time). A chain of 3 or more
extensions or rollovers of one loan is evergreening; a new loan inherits its old loan's chain.
"""

from __future__ import annotations

from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity
from models.detector import Context, Detector
from models.events import Loan
from models.findings import Finding
from models.state import KeyedState, sub_key

__all__ = ["Evergreening"]

#: Chains remembered per lender (least recently touched dropped first).
MAX_CHAINS = 20_000
#: A closed loan's chain is kept this long for a rollover that names it to arrive.
CLOSED_RETENTION_SECONDS = 30 * 86_400.0
#: Loans and events listed per chain (the oldest are dropped from the evidence, not the count).
MAX_LISTED = 50
_PRUNE_PER_EVENT = 2


class Evergreening(Detector):
    """Category ``evergreening``: ``min_chain`` or more extensions/rollovers of one loan.

    Keyed state per lender, holding only loans extended at least once: ``lender|ch|loan_id`` is
    a chain ``{"n": count, "loans": [...], "events": [...], "closed": epoch seconds or None,
    "alert": loan id or None, "seq": last touch}``; ``lender|lru|seq`` names the chain touched
    at that step (one key per chain, so the least recently touched is found without a scan);
    ``lender`` holds ``{"chains": count, "next": next step, "head": oldest step}``. No value
    grows with the lender's book. A redelivered event (same event id) is not counted twice.
    Once a chain reaches the threshold, later extensions report under the same loan id (the
    loan of the event that completed it) with the longer chain, so one chain is one alert. A
    chain never clears: the pattern has happened.

    Parameters (``params.evergreening``)
    ----------
    min_chain : int, default 3

    Example: loan A extended, rolled over into B, B extended: the third event reports loan B
    with the chain [A, B] and its three event ids.
    """

    feed = Feed.LOANS
    categories = (Category.EVERGREENING,)
    kind = DetectorKind.RULE
    name = "evergreening"
    namespace = "evergreening"
    keyed = True

    def state_key(self, event: Loan) -> str:
        return event.institution_id

    def detect(
        self, event: Loan, state: KeyedState, ctx: Context
    ) -> tuple[KeyedState, list[Finding]]:
        t = event.event_time.timestamp()
        chains = _Chains(state, event.institution_id)
        if event.event_type != "extended":
            closing = event.outstanding <= 0.005 or event.event_type == "written_off"
            chain = chains.get(event.loan_id) if closing else None
            if chain is not None:
                chain["closed"] = t if chain["closed"] is None else max(chain["closed"], t)
                chains.put(event.loan_id, chain)
            return state, []
        chain = chains.extend(event, t)
        chains.prune(t)
        chains.save()
        if chain is None or chain["n"] < self.params.evergreening.min_chain:
            return state, []
        chain["alert"] = chain["alert"] or event.loan_id
        chains.put(event.loan_id, chain)
        return state, [self._finding(event, chain)]

    def _finding(self, event: Loan, chain: dict[str, Any]) -> Finding:
        min_chain = self.params.evergreening.min_chain
        n: int = chain["n"]
        excess = n - min_chain
        severity = Severity.MEDIUM if excess == 0 else Severity.HIGH
        if n >= 2 * min_chain:
            severity = Severity.CRITICAL
        return Finding(
            category=Category.EVERGREENING,
            severity=severity,
            score=min(1.0, 0.6 + 0.1 * excess),
            feed=Feed.LOANS,
            entity_type=EntityType.LOAN,
            entity_id=chain["alert"],
            institution_id=event.institution_id,
            event_time=event.event_time,
            detector=self.ref,
            evidence={
                "rule": self.name,
                "version": self.params.version,
                "chain_length": n,
                "limit": min_chain,
                "chain_loans": list(chain["loans"]),
                "chain_events": list(chain["events"]),
                "loan_id": event.loan_id,
                "borrower_id": event.borrower_id,
                "outstanding": event.outstanding,
                "days_past_due": event.days_past_due,
            },
            event_ids=tuple(chain["events"]),
        )


class _Chains:
    """One lender's chains in keyed state, in order of last touch (see ``Evergreening``)."""

    __slots__ = ("lender", "state", "summary")

    def __init__(self, state: KeyedState, lender: str) -> None:
        self.state = state
        self.lender = lender
        found: dict[str, Any] | None = state.get(lender)
        if found is not None and isinstance(found.get("chains"), dict):
            found = self._split_whole_value(found["chains"])
        self.summary = found if found is not None else {"chains": 0, "next": 0, "head": 0}

    def _split_whole_value(self, old: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Write chains kept in the old layout (one ``{"chains": {loan_id: chain}}`` value per
        lender, least recently touched first) as keys, once."""
        for seq, (loan_id, chain) in enumerate(old.items()):
            self.put(loan_id, {**chain, "seq": seq})
            self.state.set(self._lru(seq), loan_id)
        summary = {"chains": len(old), "next": len(old), "head": 0}
        self.state.set(self.lender, summary)
        return summary

    def _key(self, loan_id: str) -> str:
        return sub_key(self.lender, "ch", loan_id)

    def _lru(self, seq: int) -> str:
        return sub_key(self.lender, "lru", str(seq))

    def get(self, loan_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.state.get(self._key(loan_id))
        return found

    def put(self, loan_id: str, chain: dict[str, Any]) -> None:
        self.state.set(self._key(loan_id), chain)

    def save(self) -> None:
        self.state.set(self.lender, self.summary)

    def touch(self, loan_id: str, chain: dict[str, Any]) -> None:
        """Store the chain as the most recently touched one."""
        if chain.get("seq") is not None:
            self.state.delete(self._lru(chain["seq"]))
        seq = self.summary["next"]
        self.summary["next"] = seq + 1
        chain["seq"] = seq
        self.state.set(self._lru(seq), loan_id)
        self.put(loan_id, chain)

    def drop(self, loan_id: str, chain: dict[str, Any]) -> None:
        self.state.delete(self._lru(chain["seq"]))
        self.state.delete(self._key(loan_id))
        self.summary["chains"] -= 1

    def extend(self, event: Loan, t: float) -> dict[str, Any] | None:
        """Count one extension or rollover; None for a redelivered event."""
        loan_id = event.loan_id
        chain = self.get(loan_id)
        if chain is not None and event.event_id in chain["events"]:
            self.touch(loan_id, chain)
            return None
        if chain is None:
            chain = {"n": 0, "loans": [loan_id], "events": [], "closed": None, "alert": None}
            self.summary["chains"] += 1
        previous = event.previous_loan_id
        if previous is not None and previous != loan_id:
            parent = self.get(previous)
            if parent is not None:
                self.drop(previous, parent)
            inherited: dict[str, Any] = parent or {"n": 0, "loans": [previous], "events": []}
            chain["n"] += inherited["n"]
            chain["loans"] = [*inherited["loans"], *chain["loans"]][-MAX_LISTED:]
            chain["events"] = [*inherited["events"], *chain["events"]]
            chain["alert"] = chain["alert"] or inherited.get("alert")
        chain["n"] += 1
        chain["events"] = [*chain["events"], event.event_id][-MAX_LISTED:]
        if chain["closed"] is not None and t > chain["closed"]:
            chain["closed"] = None  # extended after it was closed: alive again
        self.touch(loan_id, chain)
        return chain

    def prune(self, now: float) -> None:
        """Drop a few of the least recently touched chains: closed long ago, or over the cap."""
        for _ in range(_PRUNE_PER_EVENT):
            if self.summary["chains"] <= 0:
                return
            head: int = self.summary["head"]
            oldest_id: str | None = self.state.get(self._lru(head))
            last: int = self.summary["next"]
            while oldest_id is None and head < last:  # steps touched again or dropped since
                head += 1
                oldest_id = self.state.get(self._lru(head))
            self.summary["head"] = head
            oldest = self.get(oldest_id) if oldest_id is not None else None
            if oldest_id is None or oldest is None:
                return
            closed = oldest["closed"]
            if self.summary["chains"] > MAX_CHAINS or (
                closed is not None and closed < now - CLOSED_RETENTION_SECONDS
            ):
                self.drop(oldest_id, oldest)
            else:
                return
