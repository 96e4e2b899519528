"""``fenghuo``: the console command. Subcommands load lazily so ``--help`` stays instant."""

from __future__ import annotations

import importlib
from typing import Any

import click

#: name -> (module:attribute, one-line help). Each command lives in ``fenghuo/commands/``.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("fenghuo.commands.demo:demo", "Run everything: broker, worker, API, simulated feeds."),
    "kafka": ("fenghuo.commands.kafka:kafka", "Fetch, start, stop and inspect the local broker."),
    "worker": ("fenghuo.commands.worker:worker", "Run the stream worker (Faust agents)."),
    "api": ("fenghuo.commands.api:api", "Serve the regulator alert API."),
    "simulate": ("fenghuo.commands.simulate:simulate", "Produce a synthetic Fujian sector."),
    "replay": ("fenghuo.commands.replay:replay", "Produce a history file into Kafka."),
    "backtest": ("fenghuo.commands.backtest:backtest", "Run detectors over a history file."),
    "train": ("fenghuo.commands.train:train", "Train and register the ML risk models."),
    "score": ("fenghuo.commands.score:score", "Score every loan event of a history file."),
    "alerts": ("fenghuo.commands.alerts:alerts", "Work with the alert store (ingest …)."),
    "keys": ("fenghuo.commands.keys:keys", "Create and revoke API keys."),
    "bench": ("fenghuo.commands.bench:bench", "Measure throughput and latency on the broker."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attr = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attr)
        return command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--log-level", default="INFO", show_default=True, help="Logging level.")
@click.pass_context
def main(ctx: click.Context, log_level: str) -> None:
    """Fenghuo (烽火): early-warning risk monitoring of Fujian's local financial sector."""
    from fenghuo.logging import configure_logging

    configure_logging(log_level)
    ctx.ensure_object(dict)
