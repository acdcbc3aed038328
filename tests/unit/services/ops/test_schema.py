from __future__ import annotations

import sqlalchemy as sa

from wheelyard.services.ops import schema


def test_models_and_migrations_agree(engine: sa.Engine) -> None:
    # The session fixture built this database with the migrations alone.
    with engine.connect() as connection:
        assert schema.pending_differences(connection) == []
        assert schema.current_revision(connection) is not None


def test_migrations_apply_from_scratch_and_downgrade(engine: sa.Engine) -> None:
    # Round trip on a separate, empty SQLite database so the shared one stays intact.
    scratch = sa.create_engine("sqlite://")
    try:
        schema.upgrade(scratch)
        with scratch.connect() as connection:
            assert "packages" in sa.inspect(connection).get_table_names()
        schema.downgrade(scratch, "base")
        with scratch.connect() as connection:
            assert sa.inspect(connection).get_table_names() == ["alembic_version"]
    finally:
        scratch.dispose()
