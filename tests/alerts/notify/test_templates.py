"""The bilingual message: every category named in both languages, figures readable."""

from __future__ import annotations

import pytest

from alerts.notify.templates import CATEGORY_NAMES, evidence_lines, figure, headline
from models import Category


@pytest.mark.parametrize("category", list(Category))
def test_every_category_has_a_chinese_and_an_english_name(category: Category) -> None:
    zh, en = CATEGORY_NAMES[str(category)]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert en and en.isascii()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.15, "0.15"),
        (12.5, "12.5"),
        (1_234_567.891, "1,234,567.89"),
        (42, "42"),
        (1_000_000, "1,000,000"),
        (True, "true"),
        ("FJ-MC-0007", "FJ-MC-0007"),
    ],
)
def test_figures_read_as_people_write_them(value: object, shown: str) -> None:
    assert figure(value) == shown


def test_evidence_shows_scalars_only_and_at_most_eight() -> None:
    evidence = {f"k{n}": n for n in range(10)} | {"chain": ["L-1", "L-2"]}
    lines = evidence_lines({"chain": ["L-1"], **evidence})
    assert lines == [f"k{n}: {n}" for n in range(8)]


EVENT = {
    "id": "a-1.1",
    "type": "fenghuo.alert.opened",
    "data": {
        "category": "usurious_rate",
        "severity": "medium",
        "entity_id": "L-1",
        "institution_id": "FJ-MC-0007",
    },
}


def test_change_headline_names_the_change() -> None:
    assert headline(EVENT) == (
        "【新预警】高利放贷（中）FJ-MC-0007",
        "[New alert] Usurious lending rate (medium) FJ-MC-0007",
    )


def test_reminder_headline_names_its_number() -> None:
    assert headline({**EVENT, "fenghuorepeat": 3}) == (
        "【重复提醒 第3次】高利放贷（中）FJ-MC-0007",
        "[Reminder #3] Usurious lending rate (medium) FJ-MC-0007",
    )
