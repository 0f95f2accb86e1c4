"""Alembic environment, for storage.migrate (the application, configured in code) and for
developers' `alembic` command (the repository's alembic.ini). URL precedence: `-x url=...`, the
config's sqlalchemy.url (set by storage.migrate), HOTLINE_DATABASE_URL, then the SQLite file in
HOTLINE_RUN_DIR, else in ./.run (the checkout's, run from its root)."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from storage.database import make_engine
from storage.tables import Base

DEFAULT_URL = f"sqlite:///{os.environ.get('HOTLINE_RUN_DIR') or '.run'}/hotline.db"

config = context.config
target_metadata = Base.metadata

# Only the alembic command line configures logging; storage.migrate keeps the application's.
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("HOTLINE_DATABASE_URL")
        or DEFAULT_URL
    )


def run_offline(url: str) -> None:
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=url.startswith("sqlite")
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline(database_url())
else:
    run_online(database_url())
