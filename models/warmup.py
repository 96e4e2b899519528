"""The book re-report: when a lender first reports, its existing book arrives as new loans.

domain.md: a history's first hours re-report the book that already exists (loans
``originated``, guarantees ``issued``). Those are not new business, so detectors that judge new
business (multi-lender borrowing, the ML scores) skip them.
"""

from __future__ import annotations

from models.events import Guarantee, Loan
from models.state import InstitutionRegistry


def is_book_report(event: Loan | Guarantee, registry: InstitutionRegistry, hours: float) -> bool:
    """True when ``event`` lies within ``hours`` after its institution's registry record."""
    record = registry.get(event.institution_id)
    if record is None:
        return False
    age = (event.event_time - record.event_time).total_seconds()
    return 0 <= age < hours * 3600.0
