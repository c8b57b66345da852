"""Full-text index on subject and description, per database.

SQLite: an external-content FTS5 table kept in step by triggers. PostgreSQL: a GIN index on the
same to_tsvector expression that vuoro.tickets.search queries, so the planner uses it.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE tickets_ticket_fts USING fts5(
        subject, description, content='tickets_ticket', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER tickets_ticket_fts_ai AFTER INSERT ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_fts(rowid, subject, description)
        VALUES (new.id, new.subject, new.description); END""",
    """CREATE TRIGGER tickets_ticket_fts_ad AFTER DELETE ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, subject, description)
        VALUES ('delete', old.id, old.subject, old.description); END""",
    """CREATE TRIGGER tickets_ticket_fts_au AFTER UPDATE OF subject, description ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, subject, description)
        VALUES ('delete', old.id, old.subject, old.description);
        INSERT INTO tickets_ticket_fts(rowid, subject, description)
        VALUES (new.id, new.subject, new.description); END""",
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_au",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_ad",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_ai",
    "DROP TABLE IF EXISTS tickets_ticket_fts",
]
PG_FORWARD = [
    """CREATE INDEX IF NOT EXISTS ticket_fulltext ON tickets_ticket USING GIN (
        to_tsvector('simple'::regconfig, coalesce(subject, '') || ' ' || coalesce(description, '')))""",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS ticket_fulltext"]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
