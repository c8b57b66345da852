"""Full-text search: SQLite FTS5 on the embedded default, PostgreSQL full-text in production.

The index is created by migrations (an FTS5 table kept in step by triggers on
SQLite, 0002; a stored tsvector column with a GIN index on PostgreSQL, 0004). A query that looks like a ticket reference
also matches the reference exactly.
"""

import re

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from vuoro.tickets.models import Ticket

# A stored generated tsvector column with a GIN index (migration 0004).
PG_DOCUMENT = "search_document"
WORD = re.compile(r"\w+", re.UNICODE)


def _fts5_query(text: str) -> str:
    # Each word as a quoted prefix term: user input can never be read as FTS5 syntax.
    words = WORD.findall(text)[:12]
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def search_tickets(qs: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    text = (text or "").strip()[:200]
    if not text:
        return qs
    by_reference = Q(reference__iexact=text)
    if connection.vendor == "postgresql":
        words = WORD.findall(text)[:12]
        if not words:
            return qs.filter(by_reference)
        tsquery = " & ".join(w + ":*" for w in words)
        matched = RawSQL(
            f"SELECT id FROM tickets_ticket WHERE {PG_DOCUMENT} @@ to_tsquery('simple', %s)",
            [tsquery],
        )
    elif connection.vendor == "sqlite":
        query = _fts5_query(text)
        if not query:
            return qs.filter(by_reference)
        matched = RawSQL(
            "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s", [query]
        )
    else:  # pragma: no cover - other databases are not supported
        return qs.filter(by_reference | Q(subject__icontains=text))
    return qs.filter(by_reference | Q(id__in=matched))
