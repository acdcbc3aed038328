"""Operations: the schema and its migrations, row counts, storage garbage collection,
and the importers. May use every other domain.
"""
