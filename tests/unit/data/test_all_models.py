from __future__ import annotations

import ast
from pathlib import Path

from wheelyard.data import __all_models
from wheelyard.data.modelbase import SqlAlchemyBase

DATA_DIR = Path(__all_models.__file__).parent


def test_all_models_imports_every_module_in_alphabetical_order() -> None:
    tree = ast.parse(Path(__all_models.__file__).read_text())
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]
    modules = sorted(
        path.stem
        for path in DATA_DIR.glob("*.py")
        if path.stem not in {"__init__", "__all_models", "modelbase", "db_session", "upsert"}
    )
    assert imported == sorted(imported)
    assert imported == modules


# Running totals the database derives from other rows (migration 0005): no record of an
# event, so no date of their own.
DERIVED_TABLES = {"index_counts", "package_sizes"}


def test_every_table_has_an_indexed_created_date() -> None:
    for table in SqlAlchemyBase.metadata.sorted_tables:
        if table.name in DERIVED_TABLES:
            continue
        column = table.c.get("created_date")
        assert column is not None, table.name
        assert column.server_default is not None, table.name
        assert column.index, table.name
