"""The py-spy summary: own time goes to the innermost frame, total time once per stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks._profile import render, summarise

RAW = (
    "main (/repo/fenghuo/__main__.py:3);score (/repo/stream/agents/_scoring.py:9);"
    "decode (/repo/stream/codecs.py:40) 3\n"
    "main (/repo/fenghuo/__main__.py:3);score (/repo/stream/agents/_scoring.py:9) 1\n"
)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "profile.raw"
    path.write_text(RAW)
    return path


def test_own_time_goes_to_the_innermost_frame(raw: Path) -> None:
    own = {row["function"]: row["share"] for row in summarise(raw)["own"]}  # type: ignore[attr-defined]
    assert own == {"decode (stream/codecs.py)": 0.75, "score (agents/_scoring.py)": 0.25}


def test_total_time_counts_each_stack_once_per_function(raw: Path) -> None:
    total = {row["function"]: row["share"] for row in summarise(raw)["total"]}  # type: ignore[attr-defined]
    assert total["main (fenghuo/__main__.py)"] == 1.0


def test_render_names_the_sample_count(raw: Path) -> None:
    assert "samples: 4" in render(summarise(raw), "title")
