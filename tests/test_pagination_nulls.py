"""Keyset pages over a nullable sort field: NULLs last, pages disjoint and complete."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from vuoro.core.pagination import keyset_page
from vuoro.tickets.models import Ticket
from vuoro.tickets.selectors import SORTS

BASE = dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC)
# Hours after BASE per ticket; None: no due time. Ties and NULLs straddle page borders.
DUE_HOURS = [3, None, 1, 3, None, 2, 3, None, 1, 5, None]


@pytest.fixture
def tickets(world):
    """Eleven tickets with a mix of due times, equal due times and none."""
    made = []
    for n, hours in enumerate(DUE_HOURS):
        ticket = f.ticket(world.requester_a, world.other, world.cat_other, subject=f"Due {n}")
        due = None if hours is None else BASE + dt.timedelta(hours=hours)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
        made.append(ticket.pk)
    return made


def walk(ordering: list[str], size: int) -> list[list[int]]:
    """Every page's ids, following the cursors to the end."""
    pages, cursor = [], None
    while True:
        page = keyset_page(Ticket.objects.all(), ordering, cursor, size)
        pages.append([t.pk for t in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def expected(reverse: bool) -> list[int]:
    rows = list(Ticket.objects.values_list("sla_due_at", "id"))
    dated = sorted((r for r in rows if r[0] is not None), reverse=reverse)
    undated = sorted((r for r in rows if r[0] is None), key=lambda r: r[1], reverse=reverse)
    return [pk for _, pk in dated + undated]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 20])
def test_due_sort_pages_are_disjoint_and_complete_with_nulls_last(tickets, size):
    pages = walk(SORTS["due"], size)
    shown = [pk for page in pages for pk in page]
    assert len(shown) == len(set(shown)) == len(tickets)
    assert shown == expected(reverse=False)


@pytest.mark.parametrize("size", [1, 3, 5])
def test_descending_nullable_sort_still_puts_nulls_last(tickets, size):
    shown = [pk for page in walk(["-sla_due_at", "-id"], size) for pk in page]
    assert shown == expected(reverse=True)


def test_a_page_starting_after_a_null_holds_only_later_nulls(tickets):
    first = keyset_page(Ticket.objects.all(), SORTS["due"], None, 8)
    assert first.items[-1].sla_due_at is None
    rest = keyset_page(Ticket.objects.all(), SORTS["due"], first.next_cursor, 8)
    assert [t.sla_due_at for t in rest.items] == [None, None, None]
    assert all(t.pk > first.items[-1].pk for t in rest.items)
    assert rest.next_cursor is None


def test_a_sort_on_non_null_fields_adds_no_null_test(tickets):
    first = keyset_page(Ticket.objects.all(), SORTS["newest"], None, 4)
    with CaptureQueriesContext(connection) as captured:
        keyset_page(Ticket.objects.all(), SORTS["newest"], first.next_cursor, 4)
    assert "IS NULL" not in captured[0]["sql"].upper()


def test_newest_sort_pages_are_unchanged_by_due_times(tickets):
    shown = [pk for page in walk(SORTS["newest"], 3) for pk in page]
    newest = list(Ticket.objects.order_by("-created_at", "-id").values_list("id", flat=True))
    assert shown == newest
