"""Keyset pagination and full-text search behind the desk queue and the API list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from vuoro.core.pagination import decode_cursor
from vuoro.tickets.selectors import TicketFilters, ticket_list


@pytest.fixture
def many(world):
    subjects = ["Printer jammed", "VPN drops", "Sähköposti ei toimi", "Näyttö pimeänä", "Password expired"]
    return [f.ticket(world.requester_a, world.other, world.cat_other, subject=f"{subjects[i % 5]} {i}")
            for i in range(23)]


@pytest.mark.parametrize("sort", ["newest", "oldest", "priority", "updated"])
def test_pages_are_disjoint_and_cover_every_ticket(world, many, sort):
    seen, cursor = [], None
    while True:
        page = ticket_list(user=world.agent, filters=TicketFilters(), sort=sort, cursor=cursor, size=5)
        seen += [t.reference for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23


def test_forged_cursor_is_refused(world, many):
    with pytest.raises(ValueError):
        ticket_list(user=world.agent, filters=TicketFilters(), cursor="not-a-cursor", size=5)
    with pytest.raises(ValueError):
        decode_cursor("WyIyMDI2Il0:forged:sig")


def test_search_finds_words_prefixes_and_finnish_letters(world, many):
    found = ticket_list(user=world.agent, filters=TicketFilters(text="printer"), size=50).items
    assert len(found) == 5 and all("Printer" in t.subject for t in found)
    assert len(ticket_list(user=world.agent, filters=TicketFilters(text="sähköp"), size=50).items) == 5
    assert ticket_list(user=world.agent, filters=TicketFilters(text="nothing-like-this"), size=50).items == []


def test_search_matches_reference_exactly(world, many):
    ref = many[3].reference
    assert [t.reference for t in ticket_list(user=world.agent, filters=TicketFilters(text=ref)).items] == [ref]


def test_search_input_cannot_inject_query_syntax(world, many):
    for text in ['"', "NEAR(", "a OR", "*", "'); DROP TABLE x; --", "printer AND NOT vpn"]:
        ticket_list(user=world.agent, filters=TicketFilters(text=text), size=5)


def test_requester_search_stays_inside_their_scope(world, many):
    f.ticket(world.requester_b, world.other, world.cat_other, subject="Printer of B")
    found = ticket_list(user=world.requester_a, filters=TicketFilters(text="printer"), size=50).items
    assert all(t.requester_id == world.requester_a.id for t in found)
    b_found = ticket_list(user=world.requester_b, filters=TicketFilters(text="printer"), size=50).items
    assert [t.subject for t in b_found] == ["Printer of B"]


def test_search_matches_a_reference_typed_in_lower_case(world, many):
    ref = many[7].reference
    found = ticket_list(user=world.agent, filters=TicketFilters(text=ref.lower())).items
    assert [t.reference for t in found] == [ref]


def test_search_for_a_reference_that_does_not_exist_finds_nothing(world, many):
    assert ticket_list(user=world.agent, filters=TicketFilters(text="VUO-1999-424242")).items == []


def test_search_combines_words_with_the_other_filters(world, many):
    closed = many[0]
    closed.status = "closed"
    closed.save(update_fields=["status"])
    active = ticket_list(user=world.agent, filters=TicketFilters(text="printer"), size=50).items
    every = ticket_list(user=world.agent, filters=TicketFilters(text="printer", include_closed=True), size=50).items
    assert closed.pk not in {t.pk for t in active}
    assert {t.pk for t in every} == {t.pk for t in active} | {closed.pk}


def test_a_later_page_starts_at_the_cursor_in_the_sort_index(world, many):
    first = ticket_list(user=world.agent, filters=TicketFilters(include_closed=True), size=5)
    with CaptureQueriesContext(connection) as captured:
        ticket_list(user=world.agent, filters=TicketFilters(include_closed=True), cursor=first.next_cursor, size=5)
    # The leading bound on its own (a range the index can start from), besides the exact OR.
    assert '"tickets_ticket"."created_at" <=' in captured[-1]["sql"]


def test_pages_stay_disjoint_and_complete_when_many_tickets_share_a_time(world, many):
    from vuoro.tickets.models import Ticket

    Ticket.objects.filter(pk__in=[t.pk for t in many[:12]]).update(created_at=many[0].created_at)
    seen, cursor = [], None
    while True:
        page = ticket_list(user=world.agent, filters=TicketFilters(include_closed=True), cursor=cursor, size=5)
        seen += [t.pk for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(Ticket.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
