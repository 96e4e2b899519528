"""The ``fenghuo`` command: one entry point with a subcommand per job."""

__all__: list[str] = []
