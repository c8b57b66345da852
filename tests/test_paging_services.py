"""Opening, acknowledging and resolving pages; the engine's steps, repeats and fallback."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.coverage.models import CoverageModel, OutOfHoursDecision, ServiceCoverage
from vuoro.notify.models import DeskNotification, OutboundMessage
from vuoro.oncall.models import Layer, LayerMember, RotationKind, Schedule
from vuoro.paging import services
from vuoro.paging.models import (
    EscalationPolicy,
    EscalationStep,
    Page,
    PageEvent,
    PageStatus,
    TargetKind,
)
from vuoro.tickets.models import EventKind, TicketEvent
from vuoro.tickets.services import ticket_change

HELSINKI = ZoneInfo("Europe/Helsinki")
T0 = dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.UTC)  # Saturday 02:00 in Helsinki
MINUTE = dt.timedelta(minutes=1)


def page_message_keys(page: Page) -> list[str]:
    """Keys of the outbox rows written for the page's notifications, oldest first."""
    rows = OutboundMessage.objects.filter(key__startswith=f"page-{page.pk}-").order_by("id")
    return list(rows.values_list("key", flat=True))


def notified_users(page: Page) -> list[int]:
    """User ids in the page's notification keys (…-u<id> or …-u<id>:<method>)."""
    ids = []
    for key in page_message_keys(page):
        ids.append(int(key.split(":")[0].rsplit("-u", 1)[1]))
    return ids


def schedule_with(*members, name="Desk on call") -> Schedule:
    """A daily rotation around the clock from 2026-11-01 08:00 Helsinki time."""
    schedule = Schedule.objects.create(name=name, timezone="Europe/Helsinki")
    layer = Layer.objects.create(schedule=schedule, name="daily", rotation=RotationKind.DAILY,
                                 start_date=dt.date(2026, 11, 1), handoff_time=dt.time(8))
    for position, user in enumerate(members):
        LayerMember.objects.create(layer=layer, user=user, position=position)
    return schedule


def policy_with(*steps, name="Critical", repeat_count=0, fallback=None) -> EscalationPolicy:
    """Steps as (kind, target, wait_minutes)."""
    policy = EscalationPolicy.objects.create(name=name, repeat_count=repeat_count, fallback_user=fallback)
    for order, (kind, target, wait) in enumerate(steps):
        EscalationStep.objects.create(policy=policy, order=order, wait_minutes=wait, target_kind=kind,
                                      **{f"target_{kind}": target})
    return policy


def ticket_for(world, **kw):
    with time_machine.travel(T0, tick=False):
        return f.ticket(world.requester_a, world.critical, world.cat_critical, **kw)


def events(page: Page) -> list[str]:
    return list(PageEvent.objects.filter(page=page).order_by("id").values_list("kind", flat=True))


def test_page_open_snapshots_the_policy_and_is_due_at_once(world):
    policy = policy_with((TargetKind.USER, world.agent, 5))
    ticket = ticket_for(world)
    page = services.page_open(ticket=ticket, opened_by=world.agent2, reason="Mail down", policy=policy, now=T0)
    assert page.status == PageStatus.TRIGGERED
    assert page.next_escalation_at == T0
    assert (page.cycle, page.step_index) == (0, 0)
    assert page.snapshot["policies"][str(policy.pk)]["steps"] == [
        {"wait_minutes": 5, "targets": [["user", world.agent.pk]]}]
    assert events(page) == ["opened"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PAGE).count() == 1


def test_page_open_returns_the_active_page(world):
    ticket = ticket_for(world)
    first = services.page_open(ticket=ticket, user=world.agent, now=T0)
    again = services.page_open(ticket=ticket, user=world.agent2, now=T0 + MINUTE)
    assert again.pk == first.pk
    assert Page.objects.filter(ticket=ticket).count() == 1


def test_a_second_active_page_is_refused_by_the_database(world):
    ticket = ticket_for(world)
    page = services.page_open(ticket=ticket, user=world.agent, now=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Page.objects.create(ticket=ticket, opened_at=T0, snapshot=page.snapshot)


def test_page_open_uses_the_coverage_policy_by_default(world):
    policy = policy_with((TargetKind.USER, world.agent, 5))
    ServiceCoverage.objects.create(service=world.critical, escalation_policy=policy)
    page = services.page_open(ticket=ticket_for(world), now=T0)
    assert page.policy == policy


def test_page_open_without_anyone_to_page_is_refused(world):
    ticket = ticket_for(world)
    with pytest.raises(ValidationError):
        services.page_open(ticket=ticket, now=T0)
    assert not Page.objects.exists()


def test_policy_edits_do_not_disturb_a_page_in_flight(world):
    policy = policy_with((TargetKind.USER, world.agent, 5), (TargetKind.USER, world.agent2, 5))
    page = services.page_open(ticket=ticket_for(world), policy=policy, now=T0)
    policy.steps.all().delete()
    EscalationStep.objects.create(policy=policy, order=0, wait_minutes=1, target_kind=TargetKind.USER,
                                  target_user=world.admin)
    services.escalate_due(now=T0)
    services.escalate_due(now=T0 + 5 * MINUTE)
    assert notified_users(page) == [world.agent.pk, world.agent2.pk]


# -- the engine -------------------------------------------------------------------------------


def two_step_policy(world, **kw) -> EscalationPolicy:
    return policy_with((TargetKind.USER, world.agent, 5), (TargetKind.USER, world.agent2, 5), **kw)


def test_step_one_fires_now_and_step_two_after_its_wait(world):
    page = services.page_open(ticket=ticket_for(world), policy=two_step_policy(world), now=T0)
    assert services.escalate_due(now=T0) == 1
    assert notified_users(page) == [world.agent.pk]
    page.refresh_from_db()
    assert (page.cycle, page.step_index, page.next_escalation_at) == (0, 1, T0 + 5 * MINUTE)
    assert services.escalate_due(now=T0 + 4 * MINUTE) == 0
    assert services.escalate_due(now=T0 + 5 * MINUTE) == 1
    assert notified_users(page) == [world.agent.pk, world.agent2.pk]
    assert events(page) == ["opened", "notified", "notified"]


def test_escalating_twice_at_the_same_instant_writes_nothing_new(world):
    page = services.page_open(ticket=ticket_for(world), policy=two_step_policy(world), now=T0)
    assert services.escalate_due(now=T0) == 1
    keys, kinds = page_message_keys(page), events(page)
    assert services.escalate_due(now=T0) == 0
    assert page_message_keys(page) == keys and events(page) == kinds


def test_the_notification_names_the_ticket_and_carries_the_ack_link(world):

    page = services.page_open(ticket=ticket_for(world, subject="Mail is down"),
                              policy=two_step_policy(world), now=T0)
    services.escalate_due(now=T0)
    body = OutboundMessage.objects.get(key__startswith=f"page-{page.pk}-").body
    assert page.ticket.reference in body and "Mail is down" in body
    assert "/pages/ack/" in body


def test_steps_repeat_then_the_fallback_is_paged_once_and_the_owner_told(world):
    policy = two_step_policy(world, repeat_count=1, fallback=world.admin)
    page = services.page_open(ticket=ticket_for(world), policy=policy, now=T0)
    for minutes in (0, 5, 10, 15, 20):
        assert services.escalate_due(now=T0 + minutes * MINUTE) == 1
    assert notified_users(page) == [world.agent.pk, world.agent2.pk, world.agent.pk, world.agent2.pk,
                                    world.admin.pk]
    assert events(page) == ["opened", "notified", "notified", "repeated", "notified", "notified",
                            "exhausted", "fallback"]
    page.refresh_from_db()
    assert page.status == PageStatus.TRIGGERED and page.next_escalation_at is None
    assert services.escalate_due(now=T0 + dt.timedelta(days=1)) == 0
    assert DeskNotification.objects.filter(user=world.owner, ticket=page.ticket).count() == 1


def test_nobody_on_call_pages_the_fallback_and_tells_the_owner(world):
    empty = Schedule.objects.create(name="Empty", timezone="Europe/Helsinki")
    policy = policy_with((TargetKind.SCHEDULE, empty, 5), fallback=world.admin)
    page = services.page_open(ticket=ticket_for(world), policy=policy, now=T0)
    services.escalate_due(now=T0)
    assert notified_users(page) == [world.admin.pk]
    assert events(page) == ["opened", "nobody_on_call", "fallback"]
    assert DeskNotification.objects.filter(user=world.owner, key__startswith=f"paging-owner-{page.pk}-").exists()


def test_a_schedule_step_pages_whoever_is_on_call_at_that_instant(world):
    schedule = schedule_with(world.agent, world.agent2)  # daily from 1 Nov 08:00: agent on odd days
    policy = policy_with((TargetKind.SCHEDULE, schedule, 60), repeat_count=1)
    page = services.page_open(ticket=ticket_for(world), policy=policy, now=T0)
    services.escalate_due(now=T0)  # Saturday 02:00: Friday's shift (20 Nov, agent2)
    services.escalate_due(now=T0 + 8 * 60 * MINUTE)  # 10:00: Saturday's shift (21 Nov, agent)
    assert notified_users(page) == [world.agent2.pk, world.agent.pk]


def test_a_team_step_pages_every_member(world):
    policy = policy_with((TargetKind.TEAM, world.desk_team, 5))
    page = services.page_open(ticket=ticket_for(world), policy=policy, now=T0)
    services.escalate_due(now=T0)
    assert sorted(notified_users(page)) == sorted([world.agent.pk, world.agent2.pk])


def test_a_handover_continues_with_the_other_policy_at_once(world):
    second = policy_with((TargetKind.USER, world.agent2, 5), name="Second line")
    first = policy_with((TargetKind.POLICY, second, 5), name="First line")
    page = services.page_open(ticket=ticket_for(world), policy=first, now=T0)
    assert services.escalate_due(now=T0) == 2
    assert notified_users(page) == [world.agent2.pk]
    assert events(page) == ["opened", "handed_over", "notified"]


def test_a_page_to_a_person_repeats_until_acknowledged(world):
    page = services.page_open(ticket=ticket_for(world), user=world.agent, now=T0)
    for minutes in (0, 5, 10):
        services.escalate_due(now=T0 + minutes * MINUTE)
    assert notified_users(page) == [world.agent.pk] * 3


def test_overdue_pages_are_counted_and_driven_by_the_next_cycle(world):
    page = services.page_open(ticket=ticket_for(world), policy=two_step_policy(world), now=T0)
    assert services.pages_overdue(T0 + 10 * MINUTE) == 1
    assert services.escalate_due(now=T0 + 10 * MINUTE) == 1
    assert services.pages_overdue(T0 + 10 * MINUTE) == 0
    assert notified_users(page) == [world.agent.pk]


# -- acknowledging and resolving ---------------------------------------------------------------


def test_acknowledging_stops_the_escalation_and_cancels_waiting_notifications(world):
    page = services.page_open(ticket=ticket_for(world), policy=two_step_policy(world), now=T0)
    services.escalate_due(now=T0)
    page = services.page_acknowledge(page=page, user=world.agent, via="desk", now=T0 + MINUTE)
    assert page.status == PageStatus.ACKNOWLEDGED and page.next_escalation_at is None
    assert (page.acknowledged_by, page.acknowledged_via) == (world.agent, "desk")
    assert services.escalate_due(now=T0 + 10 * MINUTE) == 0
    assert notified_users(page) == [world.agent.pk]
    assert events(page)[-1] == "acknowledged"
    assert TicketEvent.objects.filter(ticket=page.ticket, kind=EventKind.PAGE).count() == 2


def test_acknowledging_cancels_the_later_rules_of_the_step_already_fired(world):
    from vuoro.notify.sender import send_messages
    from vuoro.notify.services import contact_method_add, notification_rule_add

    method = contact_method_add(user=world.agent, kind="email", address="agent@example.com")
    notification_rule_add(user=world.agent, contact_method_id=method.pk, delay_minutes=0)
    notification_rule_add(user=world.agent, contact_method_id=method.pk, delay_minutes=10)
    page = services.page_open(ticket=ticket_for(world), user=world.agent, now=T0)
    services.escalate_due(now=T0)
    send_messages(now=T0)  # the first rule's message leaves at once (to Django's test outbox)
    services.page_acknowledge(page=page, user=world.agent, via="desk", now=T0 + MINUTE)
    statuses = OutboundMessage.objects.filter(key__startswith=f"page-{page.pk}-").order_by("next_attempt_at")
    assert list(statuses.values_list("status", flat=True)) == ["sent", "cancelled"]


def test_acknowledging_twice_is_refused_and_changes_nothing(world):
    page = services.page_open(ticket=ticket_for(world), user=world.agent, now=T0)
    services.page_acknowledge(page=page, user=world.agent, via="desk", now=T0 + MINUTE)
    with pytest.raises(ValidationError):
        services.page_acknowledge(page=page, user=world.agent2, via="api", now=T0 + 2 * MINUTE)
    page.refresh_from_db()
    assert (page.acknowledged_by, page.acknowledged_at) == (world.agent, T0 + MINUTE)
    assert events(page).count("acknowledged") == 1


def test_a_requester_cannot_acknowledge(world):
    page = services.page_open(ticket=ticket_for(world), user=world.agent, now=T0)
    with pytest.raises(PermissionDenied):
        services.page_acknowledge(page=page, user=world.requester_a, via="desk")
    page.refresh_from_db()
    assert page.status == PageStatus.TRIGGERED


def test_resolving_the_ticket_resolves_the_page(world):
    ticket = ticket_for(world)
    page = services.page_open(ticket=ticket, policy=two_step_policy(world), now=T0)
    services.escalate_due(now=T0)
    ticket_change(actor=world.agent, ticket=ticket, status="resolved")
    page.refresh_from_db()
    assert page.status == PageStatus.RESOLVED and page.next_escalation_at is None
    assert services.escalate_due(now=T0 + dt.timedelta(hours=1)) == 0
    assert events(page)[-1] == "resolved"


def test_the_ooh_figures_record_the_page_and_its_acknowledgement(world):
    world.critical.calendar = office_hours()
    world.critical.save()
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.NONE)
    ticket = ticket_for(world, stops_work="yes")
    page = services.page_open(ticket=ticket, user=world.agent, now=T0)
    services.page_acknowledge(page=page, user=world.agent, via="desk", now=T0 + 3 * MINUTE)
    decision = OutOfHoursDecision.objects.get(ticket=ticket)
    assert (decision.paged_at, decision.acknowledged_at) == (T0, T0 + 3 * MINUTE)


# -- intake --------------------------------------------------------------------------------------


def office_hours():
    from vuoro.calendars.models import Calendar, OpeningHours

    calendar = Calendar.objects.create(name="Office hours", timezone="Europe/Helsinki", holiday_country="FI")
    for weekday in range(5):
        OpeningHours.objects.create(calendar=calendar, weekday=weekday, start=dt.time(8), end=dt.time(16))
    return calendar


def test_a_work_stopping_request_on_saturday_night_pages_the_critical_service_policy(world):
    world.critical.calendar = office_hours()
    world.critical.save()
    policy = policy_with((TargetKind.USER, world.agent, 5))
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.NONE, escalation_policy=policy)
    saturday_night = dt.datetime(2026, 11, 21, 2, 0, tzinfo=HELSINKI)
    with time_machine.travel(saturday_night, tick=False):
        ticket = f.ticket(world.requester_a, world.critical, world.cat_critical, stops_work="yes")
    page = Page.objects.get(ticket=ticket)
    assert (page.policy, page.status, page.next_escalation_at) == (policy, PageStatus.TRIGGERED, saturday_night)
    assert OutOfHoursDecision.objects.get(ticket=ticket).paged_at == saturday_night
    services.escalate_due(now=saturday_night)
    assert notified_users(page) == [world.agent.pk]


def test_a_request_that_does_not_stop_work_opens_no_page(world):
    world.critical.calendar = office_hours()
    world.critical.save()
    policy = policy_with((TargetKind.USER, world.agent, 5))
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.NONE, escalation_policy=policy)
    with time_machine.travel(dt.datetime(2026, 11, 21, 2, 0, tzinfo=HELSINKI), tick=False):
        ticket = f.ticket(world.requester_a, world.critical, world.cat_critical, stops_work="no")
    assert not Page.objects.filter(ticket=ticket).exists()


def test_a_partner_outside_its_scope_cannot_acknowledge(world):
    page = services.page_open(ticket=ticket_for(world), user=world.agent, now=T0)
    assert page.ticket.team == world.desk_team
    partner = f.user(Role.PARTNER, username="outsider")
    with pytest.raises(PermissionDenied):
        services.page_acknowledge(page=page, user=partner, via="api")


def test_a_broken_page_is_put_back_and_does_not_hold_up_the_others(world):
    broken = services.page_open(ticket=ticket_for(world), user=world.agent, now=T0)
    Page.objects.filter(pk=broken.pk).update(snapshot={"active": "gone", "policies": {}})
    other = services.page_open(ticket=ticket_for(world, subject="Other"), user=world.agent2,
                               now=T0 + dt.timedelta(seconds=1))
    assert services.escalate_due(now=T0 + MINUTE) == 1
    assert notified_users(other) == [world.agent2.pk]
    broken.refresh_from_db()
    assert broken.next_escalation_at == T0 + 2 * MINUTE and notified_users(broken) == []


def test_a_resolved_ticket_cannot_be_paged_for(world):
    ticket = ticket_for(world)
    ticket_change(actor=world.agent, ticket=ticket, status="resolved")
    with pytest.raises(ValidationError):
        services.page_open(ticket=ticket, user=world.agent, now=T0)
    assert not Page.objects.exists()


def test_the_engine_follows_the_clock_when_no_instant_is_given(world):
    with time_machine.travel(T0, tick=False):
        page = services.page_open(ticket=ticket_for(world), policy=two_step_policy(world))
        assert services.escalate_due() == 1
    with time_machine.travel(T0 + 4 * MINUTE + 59 * MINUTE / 60, tick=False):
        assert services.escalate_due() == 0
    with time_machine.travel(T0 + 5 * MINUTE, tick=False):
        assert services.escalate_due() == 1
    assert notified_users(page) == [world.agent.pk, world.agent2.pk]


def test_only_desk_people_are_paged(world):
    with pytest.raises(ValidationError):
        services.page_open(ticket=ticket_for(world), user=world.requester_a, now=T0)
    team = f.team("Mixed", members=[world.agent, world.requester_b])
    page = services.page_open(ticket=ticket_for(world), policy=policy_with((TargetKind.TEAM, team, 5)), now=T0)
    services.escalate_due(now=T0)
    assert notified_users(page) == [world.agent.pk]


def test_a_person_in_both_policies_of_a_handover_is_paged_by_each(world):
    second = policy_with((TargetKind.USER, world.agent, 5), name="Second line")
    first = policy_with((TargetKind.USER, world.agent, 5), (TargetKind.POLICY, second, 5), name="First line")
    page = services.page_open(ticket=ticket_for(world), policy=first, now=T0)
    services.escalate_due(now=T0)
    services.escalate_due(now=T0 + 5 * MINUTE)
    assert notified_users(page) == [world.agent.pk, world.agent.pk]


def test_a_page_to_a_schedule_reaches_whoever_is_on_call(world):
    schedule = schedule_with(world.agent, world.agent2)
    page = services.page_open(ticket=ticket_for(world), schedule=schedule, opened_by=world.partner, now=T0)
    assert page.policy is None
    services.escalate_due(now=T0)
    assert notified_users(page) == [world.agent2.pk]  # Friday's shift runs until Saturday 08:00
