"""``fenghuo train`` and ``fenghuo score`` (the click commands), and the report they write."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fenghuo.cli import main
from models.history import read_history
from models.ml import list_versions
from models.ml.report import END_MARK, START_MARK, render, write_report
from models.ml.train import TrainingResult


def test_score_writes_one_line_per_loan_event(
    crafted_path: Path, registry_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.jsonl"
    result = CliRunner().invoke(
        main, ["score", str(crafted_path), "--model-dir", str(registry_dir), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    loans = [r for r in read_history(crafted_path) if getattr(r, "topic", "") == "loans"]
    assert len(lines) == len(loans)
    assert set(lines[0]) == {"event_id", "anomaly_score", "default_probability", "model_version"}
    assert {line["model_version"] for line in lines} == {"v1"}
    assert all(0 <= line["default_probability"] <= 1 for line in lines)


def test_score_refuses_an_unknown_version(
    crafted_path: Path, registry_dir: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        [
            *("score", str(crafted_path), "--model-dir", str(registry_dir)),
            *("--model", "nope", "--out", str(tmp_path / "x.jsonl")),
        ],
    )
    assert result.exit_code != 0
    assert "'nope' has no metadata.json" in result.output


def test_train_registers_a_version(crafted_path: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models"
    result = CliRunner().invoke(
        main,
        [
            *("train", str(crafted_path), "--model-dir", str(registry)),
            *("--version", "cli1", "--performance-days", "60"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert list_versions(registry) == ["cli1"]
    assert "default_risk" in result.output


def test_train_on_a_too_short_history_fails_with_the_reason(
    crafted_path: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["train", str(crafted_path), "--model-dir", str(tmp_path), "--performance-days", "900"],
    )
    assert result.exit_code != 0
    assert "performance_days=900" in result.output


def test_report_block_replaces_only_the_generated_part(
    tmp_path: Path, trained: TrainingResult
) -> None:
    doc = tmp_path / "ml.md"
    stale = f"{START_MARK}\nstale table\n{END_MARK}"
    doc.write_text(f"# ML\n\nprose\n\n{stale}\n\nmore prose\n", "utf-8")
    write_report(doc, render({**trained.metadata, "version": "v1"}, []))
    text = doc.read_text("utf-8")
    assert "stale table" not in text
    assert text.startswith("# ML\n\nprose\n\n")
    assert text.endswith(f"{END_MARK}\n\nmore prose\n")
    assert "| logistic-regression baseline |" in text
