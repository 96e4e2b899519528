"""Alembic migrations of the alert store (a package so installs ship them)."""
