"""Parses a ``fenghuo ...`` argument list the way the console command would, without running it.

Deploy files name subcommands and options as plain strings; this makes a missing command, an
unknown option or a bad value a test failure instead of a crash-looping container.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from fenghuo.cli import main


def parse_fenghuo(args: Sequence[str]) -> click.Context:
    """The subcommand's parsed context; raises ``click.UsageError`` for anything wrong.

    ``args`` start with the subcommand (the deploy files set no group option).
    """
    if not args:
        raise click.UsageError("no subcommand given")
    name, *options = args
    group_ctx = click.Context(main, info_name="fenghuo")
    command = main.get_command(group_ctx, name)
    if command is None:
        raise click.UsageError(f"no such command: fenghuo {name}")
    return command.make_context(name, options, parent=group_ctx)
