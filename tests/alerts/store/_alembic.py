"""Taking a store back to an earlier revision, for the migration tests' round trips."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine

from alerts.store.migrate import alembic_config


def downgrade(engine: Engine, revision: str) -> None:
    """Run Alembic's downgrade to ``revision`` on ``engine``'s own connection."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
