"""What a backup records about a database, and what a restore checks, asked in plain SQL so
it works on a database at any revision (the models describe only the newest)."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from kb.signoffs.chain import CHAINS

ALEMBIC_TABLE = "alembic_version"
# Rows a freshly migrated database holds already: the migrations write the organisation's
# default standard set. A target with only these is still empty.
WRITTEN_BY_MIGRATIONS = {ALEMBIC_TABLE, "standard_sets"}


def _quoted(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def table_names(connection: Connection) -> list[str]:
    """Every table of the database (PostgreSQL: of its current schema), sorted."""
    return sorted(inspect(connection).get_table_names())


def row_counts(connection: Connection) -> dict[str, int]:
    """Table name -> number of rows, for every table."""
    return {
        name: connection.execute(text(f"SELECT count(*) FROM {_quoted(connection, name)}"))
        .scalar_one()
        for name in table_names(connection)
    }


def revision(connection: Connection) -> str | None:
    """The database's Alembic revision (heads joined by commas), or None if never migrated."""
    if ALEMBIC_TABLE not in table_names(connection):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalars()
    return ",".join(sorted(rows)) or None


def chain_heads(connection: Connection) -> dict[str, dict]:
    """For each hash-chained table: how many records and the newest one's position and hash
    (the head a restored copy must end on)."""
    present = set(table_names(connection))
    heads = {}
    for which in CHAINS:
        table = which.model.__table__.name
        if table not in present:
            continue
        name = _quoted(connection, table)
        count = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
        head = connection.execute(
            text(f"SELECT seq, record_hash FROM {name} ORDER BY seq DESC LIMIT 1")).first()
        heads[table] = {"records": count, "head_seq": head.seq if head else None,
                        "head_hash": head.record_hash if head else None}
    return heads


def rows_in_use(counts: dict[str, int]) -> dict[str, int]:
    """The tables that make a database not empty (rows a new database would not hold)."""
    return {name: count for name, count in counts.items()
            if count and name not in WRITTEN_BY_MIGRATIONS}
