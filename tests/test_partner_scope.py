"""A partner agent sees only the tickets their out-of-hours work needs, and never people lists."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from tests.test_coverage_intake import office_hours
from vuoro.accounts.models import Role
from vuoro.coverage.models import CoverageModel, OutOfHoursDecision, ServiceCoverage
from vuoro.partner.services import partner_catch, partner_dispatch_to_team
from vuoro.tickets import access
from vuoro.tickets.models import Status, Ticket
from vuoro.tickets.services import ticket_change

HELSINKI = ZoneInfo("Europe/Helsinki")
SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 2, 0, tzinfo=HELSINKI)
MONDAY_MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=HELSINKI)


@pytest.fixture
def night(world):
    return night_world(world)


def night_world(world):
    """Both services keep office hours; the night partner covers the critical one."""
    calendar = office_hours()
    for service in (world.critical, world.other):
        service.calendar = calendar
        service.save()
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team,
                                   notes="Check the mail relay status page first.")
    return world


def night_ticket(world, service=None, category=None, at=SATURDAY_NIGHT, subject="Mail is down",
                 stops_work="yes", requester=None) -> Ticket:
    """A request made at ``at`` through the one intake (work-stopping by default)."""
    with time_machine.travel(at, tick=False):
        ticket = f.ticket(requester or world.requester_a, service or world.critical,
                          category or world.cat_critical, subject=subject, stops_work=stops_work,
                          affected="many")
    return Ticket.objects.get(pk=ticket.pk)


def visible(user) -> set[str]:
    return set(access.tickets_visible_to(user).values_list("reference", flat=True))


def test_urgent_night_request_on_the_covered_service_is_in_scope(night):
    ticket = night_ticket(night)
    assert OutOfHoursDecision.objects.get(ticket=ticket).handled_by == "partner"
    assert visible(night.partner) == {ticket.reference}


def test_handled_now_stays_in_scope_while_open_even_after_leaving_the_partner_team(night):
    ticket = night_ticket(night)
    ticket_change(actor=night.agent, ticket=ticket, team=night.desk_team)
    assert visible(night.partner) == {ticket.reference}
    ticket_change(actor=night.agent, ticket=ticket, status=Status.RESOLVED)
    # Resolved by the desk, never touched by the partner: out of sight.
    assert visible(night.partner) == set()


def test_tickets_the_partner_caught_stay_in_scope_after_resolution(night):
    ticket = night_ticket(night)
    partner_catch(user=night.partner, ticket=ticket)
    partner_dispatch_to_team(user=night.partner, ticket=ticket, team=night.desk_team)
    ticket_change(actor=night.agent, ticket=ticket, status=Status.RESOLVED)
    assert visible(night.partner) == {ticket.reference}


def test_other_service_decided_normal_and_deferred_tickets_are_out_of_scope(night):
    uncovered = night_ticket(night, night.other, night.cat_other, subject="Uncovered")
    Ticket.objects.filter(pk=uncovered.pk).update(team=night.partner_team)  # even if routed there
    daytime = night_ticket(night, at=MONDAY_MORNING, subject="Daytime")
    deferred = night_ticket(night, stops_work="no", subject="Can wait")
    assert OutOfHoursDecision.objects.get(ticket=daytime).action == "normal"
    assert OutOfHoursDecision.objects.get(ticket=deferred).action == "defer"
    assert visible(night.partner) == set()


def test_another_partner_teams_tickets_are_out_of_scope(night):
    rival = f.user(Role.PARTNER, username="rival")
    rival_team = f.team("Rival partner", members=[rival])
    ServiceCoverage.objects.create(service=night.other, model=CoverageModel.GUIDED_ACTIONS,
                                   partner_team=rival_team)
    theirs = night_ticket(night, night.other, night.cat_other, subject="Rival's")
    ours = night_ticket(night)
    assert visible(night.partner) == {ours.reference}
    assert visible(rival) == {theirs.reference}


def test_assigned_and_team_tickets_of_the_covered_service_stay_in_scope(night):
    daytime = night_ticket(night, at=MONDAY_MORNING, subject="Daytime, handed over")
    ticket_change(actor=night.agent, ticket=daytime, assignee=night.partner)
    routed = night_ticket(night, at=MONDAY_MORNING, subject="Daytime, routed")
    ticket_change(actor=night.agent, ticket=routed, team=night.partner_team)
    assert visible(night.partner) == {daytime.reference, routed.reference}


def test_the_scope_is_one_query_whatever_the_number_of_tickets(night):
    for n in range(3):
        night_ticket(night, subject=f"Night {n}")
    with CaptureQueriesContext(connection) as queries:
        assert len(visible(night.partner)) == 3
    assert len(queries) == 1


@pytest.mark.parametrize("url_name", ["desk:ticket", "partner:ticket", "partner:catch"])
def test_a_guessed_reference_is_not_found(night, client, url_name):
    daytime = night_ticket(night, at=MONDAY_MORNING, subject="Daytime secret")
    client.force_login(night.partner)
    guessed = client.get(reverse(url_name, args=[daytime.reference]))
    missing = client.get(reverse(url_name, args=["VUO-2000-999999"]))
    assert guessed.status_code == missing.status_code == 404
    assert "Daytime secret" not in guessed.content.decode()


def test_a_guessed_reference_is_not_found_in_the_api(night, client):
    daytime = night_ticket(night, at=MONDAY_MORNING, subject="Daytime secret")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.partner)}"}
    for path in ("", "/messages", "/events", "/attachments"):
        response = client.get(f"/api/v1/tickets/{daytime.reference}{path}", **auth)
        assert response.status_code == 404, path


def test_partners_cannot_list_requesters_in_the_desk(night, client):
    client.force_login(night.partner)
    response = client.get(reverse("desk:requester_lookup"), {"requester_q": "req"})
    assert response.status_code == 403
    assert night.requester_a.email not in response.content.decode()


def test_partners_cannot_reach_users_or_organisations_in_the_admin(night, client):
    client.force_login(night.partner)
    for name in ("admin:index", "admin:accounts_user_changelist", "admin:accounts_organisation_changelist"):
        assert client.get(reverse(name)).status_code == 302


def test_the_api_has_no_people_or_organisation_lists_and_hides_them_from_partners(night, client):
    night_ticket(night)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if "user" in p or "organisation" in p]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.partner)}"}
    [item] = client.get("/api/v1/tickets", **auth).json()["items"]
    assert item["requester"]["email"] is None and item["organisation"] is None


def test_the_console_shows_the_requester_name_but_not_email_or_organisation(night, client):
    night.requester_a.phone = "+358 40 123 4567"
    night.requester_a.save()
    ticket = night_ticket(night)
    client.force_login(night.partner)
    page = client.get(reverse("partner:ticket", args=[ticket.reference])).content.decode()
    assert night.requester_a.display_name() in page and "+358 40 123 4567" in page
    assert night.requester_a.email not in page and night.org_a.name not in page
