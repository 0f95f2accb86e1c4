import logging

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from storage.migrate import upgrade_database
from storage.tables import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_repeatable_and_keeps_application_logging(database_url: str) -> None:
    app_logger = logging.getLogger("hotline.probe")
    root_level = logging.getLogger().level
    upgrade_database(database_url)
    assert not app_logger.disabled
    assert logging.getLogger().level == root_level
