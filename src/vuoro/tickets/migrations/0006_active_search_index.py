"""PostgreSQL: a GIN index on the search document of active tickets only.

The queue searches active tickets by default. With one GIN index over every ticket, a common
word meant fetching all its matches (tens of thousands at a million tickets, almost all closed
long ago) to keep the few still open. This partial index holds the open tickets alone, so that
search costs what the open work costs, not what the history does. Its condition is written as
``tickets.selectors.ticket_list`` filters (``status NOT IN`` the done statuses), so the planner
can prove a query implies it. SQLite keeps FTS5.
"""

from django.db import migrations

FORWARD = [
    """CREATE INDEX ticket_active_search_document ON tickets_ticket USING GIN (search_document)
       WHERE status NOT IN ('resolved', 'closed')""",
]
BACKWARD = ["DROP INDEX IF EXISTS ticket_active_search_document"]


def on_postgresql(statements):
    """A migration step that runs ``statements`` on PostgreSQL and does nothing elsewhere."""
    def step(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)
    return step


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_event_kinds")]
    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
