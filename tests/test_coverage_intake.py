"""Every intake stores an out-of-hours decision; the partner gets the urgent ones it covers."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from vuoro.accounts.models import AssignmentStrategy, Team
from vuoro.calendars.models import Calendar, OpeningHours
from vuoro.coverage.demo import load_coverage_demo
from vuoro.coverage.models import CoverageModel, OutOfHoursDecision, ServiceCoverage
from vuoro.coverage.services import coverage_decide_at_intake
from vuoro.tickets import access
from vuoro.tickets.models import Ticket, TicketEvent

HELSINKI = ZoneInfo("Europe/Helsinki")
SATURDAY_NIGHT = dt.datetime(2026, 11, 21, 2, 0, tzinfo=HELSINKI)
MONDAY_MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=HELSINKI)
MONDAY_OPENING = dt.datetime(2026, 11, 23, 8, 0, tzinfo=HELSINKI)


def office_hours() -> Calendar:
    """Monday to Friday 8–16, Finnish public holidays."""
    calendar = Calendar.objects.create(name="Office hours", timezone="Europe/Helsinki", holiday_country="FI")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time(8), end=dt.time(16))
    return calendar


def weekday_evenings() -> Calendar:
    """The partner covers Monday to Friday 16–23 only."""
    calendar = Calendar.objects.create(name="Evenings", timezone="Europe/Helsinki")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time(16), end=dt.time(23))
    return calendar


@pytest.fixture
def hours(world):
    calendar = office_hours()
    for service in (world.critical, world.other):
        service.calendar = calendar
        service.save()
    return calendar


def cover(service, team, model=CoverageModel.CATCH_DISPATCH, calendar=None) -> ServiceCoverage:
    return ServiceCoverage.objects.create(service=service, model=model, partner_team=team,
                                          out_of_hours_calendar=calendar)


def intake(world, service, category, at, **kw):
    with time_machine.travel(at, tick=False):
        ticket = f.ticket(world.requester_a, service, category, **kw)
    return ticket, OutOfHoursDecision.objects.get(ticket=ticket)


def team_events(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket, field="team"))


def test_work_stopping_request_on_a_covered_critical_service_goes_to_the_partner(world, hours):
    cover(world.critical, world.partner_team)
    ticket, decision = intake(world, world.critical, world.cat_critical, SATURDAY_NIGHT, stops_work="yes")
    assert (decision.action, decision.reason, decision.handled_by) == ("handle_now", "urgent_covered", "partner")
    assert not decision.service_open and decision.covered and decision.critical
    assert decision.partner_team == world.partner_team and decision.next_opening is None
    assert Ticket.objects.get(pk=ticket.pk).team == world.partner_team
    [event] = team_events(ticket)
    assert (event.old_value, event.new_value, event.internal) == ("Desk", "Night partner", True)


def test_routing_to_the_partner_drops_the_desk_assignee_and_lets_the_partner_see_it(world, hours):
    world.desk_team.assignment_strategy = AssignmentStrategy.ROUND_ROBIN
    world.desk_team.save()
    cover(world.critical, world.partner_team)
    ticket, _decision = intake(world, world.critical, world.cat_critical, SATURDAY_NIGHT, stops_work="yes")
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.team, stored.assignee) == (world.partner_team, None)
    assignee_events = TicketEvent.objects.filter(ticket=ticket, field="assignee").order_by("id")
    assert [e.new_value for e in assignee_events][-1] == ""
    assert access.can_view(world.partner, stored)


def test_ordinary_request_out_of_hours_waits_for_monday_morning(world, hours):
    ticket, decision = intake(world, world.other, world.cat_other, SATURDAY_NIGHT)
    assert (decision.action, decision.reason, decision.handled_by) == ("defer", "not_urgent", "desk")
    assert decision.next_opening == MONDAY_OPENING
    assert Ticket.objects.get(pk=ticket.pk).team == world.desk_team
    assert team_events(ticket) == []


def test_request_on_a_covered_service_that_does_not_stop_work_waits(world, hours):
    cover(world.critical, world.partner_team)
    ticket, decision = intake(world, world.critical, world.cat_critical, SATURDAY_NIGHT)
    assert (decision.action, decision.covered) == ("defer", True)
    assert decision.next_opening == MONDAY_OPENING
    assert Ticket.objects.get(pk=ticket.pk).team == world.desk_team


def test_open_service_is_business_as_usual(world, hours):
    cover(world.critical, world.partner_team)
    ticket, decision = intake(world, world.critical, world.cat_critical, MONDAY_MORNING, stops_work="yes")
    assert (decision.action, decision.reason, decision.handled_by) == ("normal", "service_open", "desk")
    assert decision.service_open and not decision.covered
    assert Ticket.objects.get(pk=ticket.pk).team == world.desk_team
    assert team_events(ticket) == []


def test_service_without_hours_is_always_open(world):
    _ticket, decision = intake(world, world.other, world.cat_other, SATURDAY_NIGHT, stops_work="yes")
    assert (decision.action, decision.service_open) == ("normal", True)


def test_critical_service_without_a_partner_is_handled_at_once_by_the_desk(world, hours):
    coverage = ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.NONE)
    assert coverage.handled_at_once_by_desk
    ticket, decision = intake(world, world.critical, world.cat_critical, SATURDAY_NIGHT, stops_work="yes")
    assert (decision.action, decision.reason, decision.handled_by) == ("handle_now", "urgent_critical", "desk")
    assert decision.model == "none" and decision.partner_team is None
    assert Ticket.objects.get(pk=ticket.pk).team == world.desk_team


def test_urgent_request_on_an_uncovered_ordinary_service_waits(world, hours):
    _ticket, decision = intake(world, world.other, world.cat_other, SATURDAY_NIGHT, stops_work="yes")
    assert (decision.action, decision.reason) == ("defer", "not_covered")
    assert decision.next_opening == MONDAY_OPENING


def test_partner_outside_its_own_hours_does_not_cover(world, hours):
    evenings = weekday_evenings()
    cover(world.other, world.partner_team, model=CoverageModel.GUIDED_ACTIONS, calendar=evenings)
    cover(world.critical, world.partner_team, calendar=evenings)
    _t, ordinary = intake(world, world.other, world.cat_other, SATURDAY_NIGHT, stops_work="yes")
    ticket, critical = intake(world, world.critical, world.cat_critical, SATURDAY_NIGHT, stops_work="yes")
    assert (ordinary.action, ordinary.covered, ordinary.reason) == ("defer", False, "not_covered")
    assert (critical.action, critical.handled_by) == ("handle_now", "desk")
    assert Ticket.objects.get(pk=ticket.pk).team == world.desk_team


def test_partner_within_its_own_hours_covers(world, hours):
    cover(world.other, world.partner_team, model=CoverageModel.GUIDED_ACTIONS, calendar=weekday_evenings())
    evening = dt.datetime(2026, 11, 23, 18, 0, tzinfo=HELSINKI)
    ticket, decision = intake(world, world.other, world.cat_other, evening, stops_work="yes")
    assert (decision.action, decision.handled_by, decision.covered) == ("handle_now", "partner", True)
    assert decision.model == "guided_actions"
    assert Ticket.objects.get(pk=ticket.pk).team == world.partner_team


def test_api_intake_stores_a_decision(client, world, hours):
    token = f.api_token(world.requester_a)
    body = {"service": "workstations", "category": world.cat_other.slug, "subject": "New laptop",
            "stops_work": "no", "affected": "me", "form_answers": {"device": "laptop"}}
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        response = client.post("/api/v1/tickets", body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201, response.content
    decision = OutOfHoursDecision.objects.get(ticket__channel="api")
    assert decision.action == "defer" and decision.next_opening == MONDAY_OPENING


def test_portal_intake_stores_a_decision(login, world, hours):
    cover(world.critical, world.partner_team)
    url = reverse("portal:new_request", args=[world.critical.slug, world.cat_critical.slug])
    data = {"subject": "Mail is down", "description": "Nothing arrives.", "stops_work": "yes",
            "affected": "many", "answer_device": "laptop"}
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        response = login(world.requester_a).post(url, data)
    assert response.status_code == 302
    decision = OutOfHoursDecision.objects.get(ticket__channel="portal")
    assert (decision.action, decision.handled_by) == ("handle_now", "partner")
    assert decision.ticket.team == world.partner_team


def test_the_decision_takes_two_queries(world, hours):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    OutOfHoursDecision.objects.filter(ticket=ticket).delete()
    with CaptureQueriesContext(connection) as queries:
        coverage_decide_at_intake(ticket=ticket, at=SATURDAY_NIGHT)
    assert len(queries) <= 2


def test_coverage_needs_a_partner_team_unless_there_is_no_model(world):
    with pytest.raises(ValidationError) as error:
        ServiceCoverage(service=world.critical, model=CoverageModel.CATCH_DISPATCH).full_clean()
    assert "partner_team" in error.value.message_dict
    with pytest.raises(ValidationError):
        ServiceCoverage(service=world.critical, model=CoverageModel.NONE,
                        partner_team=world.partner_team).full_clean()
    ServiceCoverage(service=world.critical, model=CoverageModel.NONE).full_clean()
    ServiceCoverage(service=world.critical, model=CoverageModel.GUIDED_ACTIONS,
                    partner_team=world.partner_team).full_clean()


def test_one_coverage_per_service(world):
    cover(world.critical, world.partner_team)
    with pytest.raises(ValidationError):
        ServiceCoverage(service=world.critical, model=CoverageModel.NONE).full_clean()


def test_demo_covers_the_critical_services_with_guided_actions_and_catch_and_dispatch(world):
    night = Team.objects.create(name="Päivystyskumppani")
    f.service("erp", critical=True)
    assert load_coverage_demo() == 2
    assert load_coverage_demo() == 2
    rows = ServiceCoverage.objects.filter(service__slug__in=["email", "erp"])
    assert {(r.service.slug, r.model, r.partner_team_id) for r in rows} == {
        ("email", CoverageModel.GUIDED_ACTIONS, night.pk), ("erp", CoverageModel.CATCH_DISPATCH, night.pk)}


def test_decisions_are_read_only_in_the_admin(login, world, hours):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    ticket, decision = intake(world, world.other, world.cat_other, SATURDAY_NIGHT)
    client = login(world.admin)
    assert client.get(reverse("admin:coverage_outofhoursdecision_changelist")).status_code == 200
    assert client.get(reverse("admin:coverage_outofhoursdecision_add")).status_code == 403
    assert client.get(reverse("admin:coverage_servicecoverage_add")).status_code == 200


def test_demo_data_gets_coverage_for_email_and_erp(db):
    from vuoro.ops.demo import load_demo

    load_demo()
    assert load_coverage_demo() == 2
    covered = ServiceCoverage.objects.select_related("service", "partner_team")
    assert {c.service.slug for c in covered} == {"email", "erp"}
    assert {c.partner_team.name for c in covered} == {"Päivystyskumppani"}
