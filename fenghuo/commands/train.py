"""``fenghuo train``: fit the ML risk models on a history file and register a new version.

With ``--report`` it also measures the default model on the real public datasets and rewrites
the evaluation tables of that markdown file (``docs/ml.md``), so anyone can regenerate them.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from tqdm import tqdm

log = logging.getLogger(__name__)


def _default_model_dir() -> Path:
    return Path(os.environ.get("FENGHUO_VAR_DIR", "var")) / "models"


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


@click.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Registry directory. [default: var/models]",
)
@click.option("--version", "version", help="Version name. [default: v<UTC time>-<data hash>]")
@click.option(
    "--performance-days",
    type=click.FloatRange(min=1),
    default=90.0,
    show_default=True,
    help="A new loan is bad when it defaults within this many days.",
)
@click.option(
    "--book-hours",
    type=click.FloatRange(min=0),
    default=6.0,
    show_default=True,
    help="New loans in the history's first hours re-report the book: not training rows.",
)
@click.option(
    "--test-fraction",
    type=click.FloatRange(0.05, 0.95),
    default=0.3,
    show_default=True,
    help="Share of the labelled loans, the latest ones, held out for the out-of-time test.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="random_state of the models.")
@click.option(
    "--current/--no-current",
    default=True,
    show_default=True,
    help="Point the registry's current version at the new one.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rewrite the evaluation tables of this markdown file (e.g. docs/ml.md).",
)
@click.option(
    "--datasets",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("../shared/datasets"),
    show_default=True,
    help="Folder of the real public datasets, evaluated with --report.",
)
def train(
    history: Path,
    model_dir: Path | None,
    version: str | None,
    performance_days: float,
    book_hours: float,
    test_fraction: float,
    seed: int,
    current: bool,
    report: Path | None,
    datasets: Path,
) -> None:
    """Train loan_anomaly and default_risk on HISTORY and register them as a new version."""
    from models.errors import ModelsError
    from models.ml.report import real_data_evaluation, render, write_report
    from models.ml.train import train_and_register

    registry = model_dir if model_dir is not None else _default_model_dir()
    with tqdm(total=_count_lines(history), unit="line", desc="features") as bar:
        try:
            name, result = train_and_register(
                history,
                model_dir=registry,
                version=version,
                performance_days=performance_days,
                book_hours=book_hours,
                test_fraction=test_fraction,
                random_state=seed,
                make_current=current,
                progress=bar.update,
            )
        except ModelsError as exc:
            raise click.ClickException(str(exc)) from exc
    metrics = result.metadata["metrics"]
    click.echo(f"registered {name} in {registry}")
    for key in ("default_risk", "logistic_baseline", "loan_anomaly"):
        m = metrics[key]
        auroc = "–" if m["auroc"] is None else f"{m['auroc']:.3f}"
        click.echo(f"  {key:18} AUROC {auroc}  alert rate {m['alert_rate']:.3f}")
    if report is not None:
        click.echo(f"evaluating on real data in {datasets} …")
        real = real_data_evaluation(datasets, random_state=seed)
        write_report(report, render({**result.metadata, "version": name}, real))
        click.echo(f"wrote the evaluation tables into {report}")
