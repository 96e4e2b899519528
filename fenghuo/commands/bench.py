"""``fenghuo bench``: throughput, latency and memory of one worker on a real local broker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

REPO = Path(__file__).resolve().parents[2]


@click.command()
@click.option("--events", "-n", default=50_000, show_default=True, help="Preloaded events.")
@click.option("--seed", default=7, show_default=True, help="Simulator seed.")
@click.option("--rate", default=3_000.0, show_default=True, help="Offered events/s (latency).")
@click.option("--latency-seconds", default=20.0, show_default=True, help="Paced run length.")
@click.option("--borrowers", default=100_000, show_default=True, help="Memory run: borrowers.")
@click.option("--graph-nodes", default=10_000, show_default=True, help="Memory run: graph nodes.")
@click.option(
    "--core", default=1, show_default=True, help="Core the worker is pinned to (-1: none)."
)
@click.option("--bootstrap", default=None, help="Use this broker instead of starting one.")
@click.option("--workers", default=2, show_default=True, help="Workers in the scaling run.")
@click.option("--latency/--no-latency", default=True, show_default=True)
@click.option("--scale/--no-scale", default=True, show_default=True, help="The memory run.")
@click.option("--scaling/--no-scaling", default=True, show_default=True, help="Several workers.")
@click.option("--profile", type=click.Path(path_type=Path), default=None,
              help="Also profile the worker with py-spy; summary here.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks/results.json"),
              show_default=True, help="Results JSON.")  # fmt: skip
@click.option("--flood", is_flag=True,
              help="Instead: -n good events alone and under a flood of as many hostile ones "
                   "(benchmarks/flood.py; results-flood.json).")  # fmt: skip
def bench(
    events: int,
    seed: int,
    rate: float,
    latency_seconds: float,
    borrowers: int,
    graph_nodes: int,
    core: int,
    bootstrap: str | None,
    workers: int,
    latency: bool,
    scale: bool,
    scaling: bool,
    profile: Path | None,
    out: Path,
    flood: bool,
) -> None:
    """Preload simulated feeds and measure: the bare consumer's rate (the ceiling), one worker's
    sustained rate with every detector and ML on, event-to-alert latency at a fixed offered
    load, peak RSS with a large book, and several workers sharing the partitions.

    Starts an isolated broker in a temporary directory unless --bootstrap is given.
    """
    if str(REPO) not in sys.path:  # benchmarks/ lives beside the installed packages
        sys.path.insert(0, str(REPO))
    if flood:
        from benchmarks.flood import DEFAULT_OUT, FloodConfig, render_flood, run_flood, write

        pinned = None if core < 0 else core
        flooded = run_flood(FloodConfig(events=events, seed=seed, core=pinned, bootstrap=bootstrap))
        target = DEFAULT_OUT if out == Path("benchmarks/results.json") else out
        write(flooded, target)
        click.echo(render_flood(flooded))
        click.echo(f"results written to {target}")
        return
    from benchmarks import BenchConfig, render_table, run_bench

    config = BenchConfig(
        events=events,
        seed=seed,
        rate=rate,
        latency_seconds=latency_seconds,
        borrowers=borrowers,
        graph_nodes=graph_nodes,
        core=None if core < 0 else core,
        bootstrap=bootstrap,
        scaling_workers=workers,
        latency=latency,
        scale=scale,
        scaling=scaling,
        profile=profile,
    )
    results = run_bench(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    click.echo(render_table(results))
    click.echo(f"results written to {out}")
