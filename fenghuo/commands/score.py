"""``fenghuo score``: anomaly score and default probability of every loan event of a history,
as JSON lines, so analysts can evaluate a model version on their own labelled data.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from tqdm import tqdm


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


@click.command()
@click.argument("history", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model", "version", default="current", show_default=True, help="Registry version name."
)
@click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Registry directory. [default: the model shipped with Fenghuo]",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON-lines output: event_id, anomaly_score, default_probability, model_version.",
)
def score(history: Path, version: str, model_dir: Path | None, out: Path) -> None:
    """Score every loan event of HISTORY with a registered model version."""
    from models.errors import ArtifactError
    from models.ml.artifacts import load_bundle, shipped_model_dir
    from models.ml.file_scoring import score_events
    from models.ml.train import history_events

    try:
        bundle = load_bundle(model_dir if model_dir is not None else shipped_model_dir(), version)
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from exc
    written = 0
    lines = _count_lines(history)
    with (
        out.open("w", encoding="utf-8") as fh,
        tqdm(total=lines, unit="line", desc="scoring") as bar,
    ):
        for doc in score_events(history_events(history, progress=bar.update), bundle):
            fh.write(json.dumps(doc) + "\n")
            written += 1
    click.echo(f"scored {written} loan events with {bundle.version} into {out}")
