"""The argument checker the deploy tests rely on: real command lines pass, broken ones fail."""

from __future__ import annotations

import click
import pytest

from tests.deploy.cli_args import parse_fenghuo


def test_a_real_command_line_parses_to_its_options() -> None:
    ctx = parse_fenghuo(["api", "--host", "0.0.0.0", "--port", "8000"])

    assert ctx.info_name == "api"
    assert ctx.params["host"] == "0.0.0.0"
    assert ctx.params["port"] == 8000


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["wroker"], "no such command"),
        (["api", "--listen", "0.0.0.0"], "No such option"),
        (["api", "--port", "99999"], "99999"),
        ([], "no subcommand"),
    ],
)
def test_broken_command_lines_are_refused(args: list[str], match: str) -> None:
    with pytest.raises(click.UsageError, match=match):
        parse_fenghuo(args)
