"""`vuoro seed`: bulk tickets that look real and leave the reference counter consistent."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F

from vuoro.accounts.models import Role, User
from vuoro.catalog.models import Category
from vuoro.ops.demo import load_demo
from vuoro.tickets.models import EventKind, ReferenceCounter, Status, Ticket
from vuoro.tickets.services import ticket_create

REFERENCE = re.compile(r"^VUO-(\d{4})-(\d{6})$")


def seed(tickets: int = 200, **options) -> str:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("seed", tickets=tickets, no_progress=True, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo(db):
    load_demo()


def test_seeding_creates_the_tickets_asked_for_with_well_formed_unique_references(demo):
    output = seed(200)
    assert "Seeded 200 tickets" in output
    references = list(Ticket.objects.values_list("reference", flat=True))
    assert len(references) == 200 == len(set(references))
    assert all(REFERENCE.match(r) for r in references)


def test_references_continue_each_year_counter_without_gaps(demo):
    seed(200)
    for counter in ReferenceCounter.objects.all():
        numbers = sorted(int(REFERENCE.match(r)[2]) for r in Ticket.objects.filter(
            reference__startswith=f"VUO-{counter.year}-").values_list("reference", flat=True))
        assert numbers == list(range(1, counter.last + 1))


def test_a_ticket_taken_in_after_seeding_gets_the_next_number(demo):
    seed(200)
    requester = User.objects.get(username="maija")
    category = Category.objects.get(service__slug="workstations", slug="broken")
    ticket = ticket_create(actor=None, requester=requester, service=category.service, category=category,
                           subject="Näyttö vilkkuu", stops_work="no", affected="me",
                           channel="portal").ticket
    year, number = REFERENCE.match(ticket.reference).groups()
    same_year = Ticket.objects.filter(reference__startswith=f"VUO-{year}-")
    earlier = [int(REFERENCE.match(r).group(2))
               for r in same_year.exclude(pk=ticket.pk).values_list("reference", flat=True)]
    assert int(number) == max(earlier) + 1
    assert same_year.count() == int(number)


def test_statuses_are_mixed_mostly_done(demo):
    seed(200)
    statuses = dict(Ticket.objects.values_list("status").annotate(n=Count("id")))
    done = statuses.get(Status.RESOLVED, 0) + statuses.get(Status.CLOSED, 0)
    assert len(statuses) >= 3
    assert done > 100


def test_every_ticket_has_its_created_event(demo):
    seed(200)
    without = Ticket.objects.exclude(events__kind=EventKind.CREATED)
    assert not without.exists()


def test_ticket_organisation_is_always_the_requesters(demo):
    seed(200)
    assert not Ticket.objects.exclude(organisation=F("requester__organisation")).exists()
    assert not Ticket.objects.filter(organisation__isnull=True).exists()


def test_timestamps_agree_with_status(demo):
    seed(200)
    done = Ticket.objects.filter(status__in=[Status.RESOLVED, Status.CLOSED])
    assert not done.filter(resolved_at__isnull=True).exists()
    assert not done.filter(resolved_at__lt=F("created_at")).exists()
    assert not Ticket.objects.filter(status=Status.CLOSED, closed_at__isnull=True).exists()
    assert not Ticket.objects.filter(updated_at__lt=F("created_at")).exists()


def test_seeded_people_cannot_sign_in(demo):
    seed(200)
    seeded = User.objects.filter(username__startswith="asiakas")
    assert seeded.exists()
    assert not any(u.has_usable_password() for u in seeded)
    assert User.objects.filter(username__startswith="tuki", role=Role.AGENT).exists()


def test_same_seed_gives_the_same_subjects(demo):
    seed(50, seed=7)
    first = list(Ticket.objects.order_by("id").values_list("subject", "status", "priority"))
    Ticket.objects.all().delete()
    seed(50, seed=7)
    second = list(Ticket.objects.order_by("id").values_list("subject", "status", "priority"))
    assert [s for s, *_ in first] == [s for s, *_ in second]


def test_without_services_the_command_says_to_run_demo(db):
    with pytest.raises(CommandError, match="vuoro demo"):
        seed(10)
    assert Ticket.objects.count() == 0


def test_the_batch_size_does_not_change_the_tickets(demo):
    seed(60, seed=3, batch_size=7)
    small = list(Ticket.objects.order_by("reference").values_list("subject", "status", "priority", "form_answers"))
    Ticket.objects.all().delete()
    seed(60, seed=3, batch_size=60)
    whole = list(Ticket.objects.order_by("id").values_list("subject", "status", "priority", "form_answers"))
    assert len(small) == 60
    assert small == whole


def test_each_history_row_belongs_to_its_own_ticket(demo):
    seed(120, batch_size=50)
    created = Ticket.objects.filter(events__kind=EventKind.CREATED)
    assert created.count() == 120
    assert not created.exclude(events__created_at=F("created_at")).exists()
    assert not created.exclude(events__actor=F("created_by")).exists()
    moved = Ticket.objects.exclude(status=Status.NEW)
    assert moved.exists()
    for ticket in moved:
        change = ticket.events.get(kind=EventKind.CHANGED)
        assert (change.field, change.old_value, change.new_value) == ("status", Status.NEW, ticket.status)


def test_seeded_tickets_are_found_by_full_text_search(demo):
    from vuoro.tickets.selectors import TicketFilters, ticket_list

    seed(100)
    agent = User.objects.get(username="antti")
    ticket = Ticket.objects.order_by("id").last()
    word = max(re.findall(r"\w+", ticket.subject), key=len)
    found = ticket_list(user=agent, filters=TicketFilters(text=word, include_closed=True), size=200)
    assert ticket.pk in {t.pk for t in found.items}
