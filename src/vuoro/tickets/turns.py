"""Ticket numbers and round-robin turns, taken without a row held until commit (core.counters)."""

from vuoro.core import counters
from vuoro.tickets.models import ReferenceCounter


def reference_number(year: int) -> int:
    """The year's next ticket number.

    PostgreSQL: the year's sequence, starting after ``ReferenceCounter.last`` for a year
    numbered before sequences were used. SQLite: the ``ReferenceCounter`` row itself.
    """
    table = ReferenceCounter._meta.db_table
    if counters.uses_sequences():
        return counters.next_value(f"ticket_reference_{year}", start=1,
                                   start_sql=f"SELECT last + 1 FROM {table} WHERE year = %s",
                                   params=[year])
    from django.db import connection

    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last", [year])
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
            ReferenceCounter.objects.get_or_create(year=year)
    raise RuntimeError("could not take a ticket number")


def references_reserve(year: int, count: int) -> list[int]:
    """``count`` numbers of ``year`` for a bulk load (seeding); ascending, not reused."""
    if count <= 0:
        return []
    if counters.uses_sequences():
        first = reference_number(year)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [f"vuoro_ticket_reference_{year}", count - 1])
            return [first, *(int(row[0]) for row in cursor.fetchall())]
    ReferenceCounter.objects.get_or_create(year=year)
    from django.db.models import F

    ReferenceCounter.objects.filter(year=year).update(last=F("last") + count)
    last = ReferenceCounter.objects.get(year=year).last
    return list(range(last - count + 1, last + 1))


def team_turn(team_id: int) -> int:
    """The team's next round-robin turn: 0, 1, 2, … (the member is ``turn % len(members)``)."""
    return counters.next_value(f"team_turn_{team_id}", start=0)
