"""PostgreSQL: store the search document in a generated column and index that.

Computing to_tsvector per row made the planner's sequential-scan choice on mid-sized tables
slow (about 300 ms at 10k tickets); a stored column costs nothing to read. SQLite keeps FTS5.
"""

from django.db import migrations

FORWARD = [
    """ALTER TABLE tickets_ticket ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || coalesce(description, ''))) STORED""",
    "CREATE INDEX ticket_search_document ON tickets_ticket USING GIN (search_document)",
    "DROP INDEX IF EXISTS ticket_fulltext",
]
BACKWARD = [
    """CREATE INDEX IF NOT EXISTS ticket_fulltext ON tickets_ticket USING GIN (
        to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || coalesce(description, '')))""",
    "DROP INDEX IF EXISTS ticket_search_document",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_document",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_sla_due")]
    operations = [migrations.RunPython(forward, backward)]
