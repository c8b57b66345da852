"""Full-text search: SQLite FTS5 on the embedded default, PostgreSQL full-text in production.

The index is created by migrations (an FTS5 table kept in step by triggers on
SQLite, 0002; a stored tsvector column with a GIN index on PostgreSQL, 0004). A query that looks
like a ticket reference also matches the reference exactly (case-insensitively).

On PostgreSQL the match is a condition on the ticket row itself (``search_document @@ query``),
not ``id IN (every matching ticket)``: the planner can then walk the sort index and stop after
one page when the word is common, or take the GIN index and sort the few matches when it is
rare. The ``IN`` form built the whole set of matches first, so a common word cost more with
every ticket added (a tenth of a second per 100k matches).
"""

import re

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from vuoro.tickets.models import Ticket

# A stored generated tsvector column with a GIN index (migration 0004).
PG_DOCUMENT = "search_document"
WORD = re.compile(r"\w+", re.UNICODE)
# PREFIX-YEAR-NUMBER, as ``tickets.services`` numbers tickets.
REFERENCE = re.compile(r"^\S+-\d{4}-\d+$")


def _fts5_query(text: str) -> str:
    # Each word as a quoted prefix term: user input can never be read as FTS5 syntax.
    words = WORD.findall(text)[:12]
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def _by_reference(text: str) -> Q | None:
    """The exact-reference match, only for text shaped like a reference.

    Written as equality on the spellings a reference can be stored in (as typed, upper case,
    with the configured prefix) rather than ``iexact``, so that the unique index on
    ``reference`` answers it.
    """
    if not REFERENCE.match(text):
        return None
    prefix = settings.VUORO_TICKET_PREFIX
    spellings = {text, text.upper()}
    if text.upper().startswith(prefix.upper() + "-"):
        spellings.add(prefix + text[len(prefix):])
    return Q(reference__in=sorted(spellings))


def search_tickets(qs: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    text = (text or "").strip()[:200]
    if not text:
        return qs
    by_reference = _by_reference(text)
    nothing = Q(pk__in=[])
    if connection.vendor == "postgresql":
        words = WORD.findall(text)[:12]
        if not words:
            return qs.filter(by_reference or nothing)
        tsquery = " & ".join(w + ":*" for w in words)
        matched = Q(RawSQL(f'"{Ticket._meta.db_table}"."{PG_DOCUMENT}" @@ to_tsquery(\'simple\', %s)',
                           [tsquery], output_field=BooleanField()))
    elif connection.vendor == "sqlite":
        query = _fts5_query(text)
        if not query:
            return qs.filter(by_reference or nothing)
        matched = Q(id__in=RawSQL(
            "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s", [query]
        ))
    else:  # pragma: no cover - other databases are not supported
        return qs.filter(Q(reference__iexact=text) | Q(subject__icontains=text))
    return qs.filter(matched | by_reference if by_reference is not None else matched)
