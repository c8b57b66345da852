"""Numbers handed out without a row held until commit: ticket references, round-robin turns.

On PostgreSQL each counter is a sequence, created on first use by the ``vuoro_next`` function
(migration ``core/0002``): ``nextval`` is one statement, never waits for another transaction
and holds nothing until commit, so concurrent intakes do not queue on a hot row. A number
taken by a transaction that then rolls back is not reused (a gap), as with any sequence.

On SQLite one writer holds the database at a time anyway; a counter is one ``UPDATE …
RETURNING`` on a ``Counter`` row (or the caller's own table) inside the writer's transaction.
"""

from __future__ import annotations

import re

from django.db import connection

from vuoro.core.models import Counter

_NAME = re.compile(r"^[a-z0-9_]{1,60}$")

# One statement: nextval, creating the sequence at ``start`` when it does not exist yet; a
# concurrent creation is caught and the other's sequence used.
NEXT_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION vuoro_next(seq_name text, start_at bigint) RETURNS bigint AS $$
BEGIN
    RETURN nextval(seq_name::regclass);
EXCEPTION WHEN undefined_table THEN
    BEGIN
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I MINVALUE 0 START %s', seq_name, start_at);
    EXCEPTION WHEN unique_violation OR duplicate_table THEN
        NULL;
    END;
    RETURN nextval(seq_name::regclass);
END;
$$ LANGUAGE plpgsql;
"""


def uses_sequences() -> bool:
    return connection.vendor == "postgresql"


def next_value(name: str, start: int = 1, start_sql: str = "", params: list | None = None) -> int:
    """The counter's next value; the first is ``start`` (or, on PostgreSQL, the value of the
    scalar ``start_sql`` when the sequence is created, for counters that existed before)."""
    if not _NAME.match(name):
        raise ValueError(f"bad counter name {name!r}")
    with connection.cursor() as cursor:
        if uses_sequences():
            first = f"COALESCE(({start_sql}), %s)" if start_sql else "%s"
            cursor.execute(f"SELECT vuoro_next(%s, {first})", [f"vuoro_{name}", *(params or []), start])
            return int(cursor.fetchone()[0])
        table = Counter._meta.db_table
        for _attempt in range(2):
            cursor.execute(f"UPDATE {table} SET value = value + 1 WHERE name = %s RETURNING value", [name])
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
            Counter.objects.get_or_create(name=name, defaults={"value": start - 1})
    raise RuntimeError(f"could not take a number from {name}")
