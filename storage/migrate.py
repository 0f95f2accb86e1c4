"""Brings a database schema up to date, as `alembic upgrade head` does.

Alembic is configured here, in code, from the migrations shipped inside this package, so an
installed wheel migrates from any directory. The repository's alembic.ini is only for developers'
`alembic` command in a checkout (`alembic revision`, `alembic -x url=... upgrade head`)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config

MIGRATIONS = files("storage") / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
