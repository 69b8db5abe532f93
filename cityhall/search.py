"""Trigram indexes for the console's searches, where PostgreSQL has pg_trgm.

Django's icontains compiles to UPPER(column) LIKE UPPER('%words%'); a GIN index on
UPPER(column) with pg_trgm's operator class answers it from the index instead of reading every
row (a million service requests). pg_trgm ships with stock PostgreSQL (the contrib package, in
the official Docker image); the embedded PostgreSQL of `make run` lacks it, and there the
searches simply read the table, which is fast at demo size. Migrations call these functions.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def _name(prefix: str, column: str) -> str:
    return f"{prefix}_{column}_trgm"


def trigram_available(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        return cursor.fetchone() is not None


def create_trigram_indexes(schema_editor, *, table: str, prefix: str, columns: list[str]):
    """CREATE INDEX CONCURRENTLY (the migration must be atomic = False) for each column."""
    connection = schema_editor.connection
    if not trigram_available(connection):
        logger.warning("pg_trgm is not installed: %s is searched without trigram indexes", table)
        return
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(_name(prefix, column))} "
                f"ON {quote(table)} USING gin (UPPER({quote(column)}::text) gin_trgm_ops)"
            )


def drop_trigram_indexes(schema_editor, *, prefix: str, columns: list[str]):
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for column in columns:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(_name(prefix, column))}")
