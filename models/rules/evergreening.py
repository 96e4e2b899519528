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

    State per lender: ``{"chains": {loan_id: chain}}`` holding only loans extended at least
    once, where a chain is ``{"n": count, "loans": [...], "events": [...], "closed": epoch
    seconds or None, "alert": loan id or None}``. A redelivered event
    (same event id) is not counted twice. Once a chain reaches the threshold, later extensions
    report under the same loan id (the loan of the event that completed it) with the longer
    chain, so one chain is one alert. A chain never clears: the pattern has happened.

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

    def state_key(self, event: Loan) -> str:
        return event.institution_id

    def detect(
        self, event: Loan, state: dict[str, Any] | None, ctx: Context
    ) -> tuple[dict[str, Any] | None, list[Finding]]:
        t = event.event_time.timestamp()
        if event.event_type != "extended":
            closing = event.outstanding <= 0.005 or event.event_type == "written_off"
            chain = state["chains"].get(event.loan_id) if state is not None and closing else None
            if chain is not None:
                chain["closed"] = t if chain["closed"] is None else max(chain["closed"], t)
            return state, []
        state = state if state is not None else {"chains": {}}
        chains: dict[str, dict[str, Any]] = state["chains"]
        chain = _extend(chains, event, t)
        _prune(chains, t)
        if chain is None or chain["n"] < self.params.evergreening.min_chain:
            return state, []
        chain["alert"] = chain["alert"] or event.loan_id
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


def _extend(chains: dict[str, dict[str, Any]], event: Loan, t: float) -> dict[str, Any] | None:
    """Count one extension or rollover; None for a redelivered event."""
    loan_id = event.loan_id
    chain = chains.pop(loan_id, None)
    if chain is not None and event.event_id in chain["events"]:
        chains[loan_id] = chain
        return None
    if chain is None:
        chain = {"n": 0, "loans": [loan_id], "events": [], "closed": None, "alert": None}
    previous = event.previous_loan_id
    if previous is not None and previous != loan_id:
        parent = chains.pop(previous, None)
        inherited: dict[str, Any] = parent or {"n": 0, "loans": [previous], "events": []}
        chain["n"] += inherited["n"]
        chain["loans"] = [*inherited["loans"], *chain["loans"]][-MAX_LISTED:]
        chain["events"] = [*inherited["events"], *chain["events"]]
        chain["alert"] = chain["alert"] or inherited.get("alert")
    chain["n"] += 1
    chain["events"] = [*chain["events"], event.event_id][-MAX_LISTED:]
    if chain["closed"] is not None and t > chain["closed"]:
        chain["closed"] = None  # extended after it was closed: alive again
    chains[loan_id] = chain  # re-inserted last: the dict is ordered by last touch
    return chain


def _prune(chains: dict[str, dict[str, Any]], now: float) -> None:
    """Drop a few of the least recently touched chains: closed long ago, or over the cap."""
    for _ in range(_PRUNE_PER_EVENT):
        if not chains:
            return
        oldest_id = next(iter(chains))
        oldest = chains[oldest_id]
        closed = oldest["closed"]
        if len(chains) > MAX_CHAINS or (
            closed is not None and closed < now - CLOSED_RETENTION_SECONDS
        ):
            del chains[oldest_id]
        else:
            return
