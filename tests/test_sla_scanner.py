"""The SLA scan: warnings and breaches fire once, with their notices, in the recipient's language."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from tests import factories as f
from vuoro.accounts.models import Role
from vuoro.notify.models import DeskNotification, OutboundEmail
from vuoro.sla.models import (
    ClockEventKind,
    ClockKind,
    ClockState,
    SlaAlert,
    SlaClock,
    SlaClockEvent,
    SlaPolicy,
)
from vuoro.sla.scanner import ScanResult, scan_sla
from vuoro.tickets.models import Priority, Ticket, TicketEvent


def sla_mail():
    """The SLA's own mail; the ticket's mail to the desk team is not what these tests count."""
    return OutboundEmail.objects.filter(key__startswith="sla-")


@pytest.fixture(autouse=True)
def no_requester_mail(settings):
    """These tests count the SLA's own mail; requester mail is tested in test_requester_mail."""
    settings.VUORO_REQUESTER_MAIL = False


def assigned_ticket(world, assignee=None, stops_work="partly", affected="team"):
    ticket = f.ticket(world.requester_a, world.critical, world.cat_critical, stops_work=stops_work,
                      affected=affected)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee or world.agent2)
    return Ticket.objects.get(pk=ticket.pk)


def running_clock(ticket, *, warn_in=timedelta(minutes=-10), due_in=timedelta(minutes=5),
                  kind=ClockKind.RESOLUTION, policy=None, state=ClockState.RUNNING):
    now = timezone.now()
    return SlaClock.objects.create(
        ticket=ticket, kind=kind, policy=policy, target_seconds=3600, warning_percent=80,
        state=state, running_since=now - timedelta(hours=1), due_at=now + due_in, warn_at=now + warn_in,
    )


@pytest.mark.django_db
def test_a_clock_past_its_warning_fires_one_warning_and_no_breach(world):
    clock = running_clock(assigned_ticket(world))

    assert scan_sla() == ScanResult(warnings=1, breaches=0)

    clock.refresh_from_db()
    assert clock.warned_at is not None and clock.breached_at is None
    assert list(SlaAlert.objects.values_list("kind", "cycle")) == [("warning", 1)]
    assert list(SlaClockEvent.objects.values_list("kind", flat=True)) == [ClockEventKind.WARNING]


@pytest.mark.django_db
def test_the_breach_fires_once_the_target_passes(world):
    clock = running_clock(assigned_ticket(world))
    scan_sla()

    later = timezone.now() + timedelta(minutes=6)
    assert scan_sla(now=later) == ScanResult(warnings=0, breaches=1)

    clock.refresh_from_db()
    assert clock.breached_at == later
    assert sorted(SlaAlert.objects.values_list("kind", flat=True)) == ["breach", "warning"]


@pytest.mark.django_db
def test_scanning_again_fires_nothing_new(world):
    running_clock(assigned_ticket(world), due_in=timedelta(minutes=-1))
    assert scan_sla() == ScanResult(warnings=1, breaches=1)
    before = (SlaAlert.objects.count(), DeskNotification.objects.count(), sla_mail().count())

    assert scan_sla() == ScanResult(warnings=0, breaches=0)
    assert scan_sla(now=timezone.now() + timedelta(days=1)) == ScanResult(warnings=0, breaches=0)

    assert (SlaAlert.objects.count(), DeskNotification.objects.count(), sla_mail().count()) == before


@pytest.mark.django_db
def test_a_paused_clock_is_not_fired(world):
    clock = running_clock(assigned_ticket(world), due_in=timedelta(minutes=-1), state=ClockState.PAUSED)

    assert scan_sla() == ScanResult(warnings=0, breaches=0)

    clock.refresh_from_db()
    assert clock.warned_at is None and clock.breached_at is None
    assert not SlaAlert.objects.exists() and not sla_mail().exists()


@pytest.mark.django_db
def test_a_restarted_cycle_fires_its_own_breach(world):
    clock = running_clock(assigned_ticket(world), due_in=timedelta(minutes=-1))
    scan_sla()
    SlaClock.objects.filter(pk=clock.pk).update(cycle=2, warned_at=None, breached_at=None)

    assert scan_sla() == ScanResult(warnings=1, breaches=1)

    assert sorted(SlaAlert.objects.values_list("kind", "cycle")) == [
        ("breach", 1), ("breach", 2), ("warning", 1), ("warning", 2)]


@pytest.mark.django_db
def test_the_assignee_and_the_team_lead_are_each_told_once(world):
    ticket = assigned_ticket(world)
    running_clock(ticket, warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))

    scan_sla()

    alert = SlaAlert.objects.get(kind="breach")
    assert sorted(DeskNotification.objects.values_list("user__username", "key")) == [
        ("agent", f"sla-{alert.pk}-{world.agent.pk}"), ("agent2", f"sla-{alert.pk}-{world.agent2.pk}")]
    assert sorted(sla_mail().values_list("to", flat=True)) == sorted(
        [world.agent.email, world.agent2.email])


@pytest.mark.django_db
def test_a_lead_who_is_also_the_assignee_is_told_once(world):
    running_clock(assigned_ticket(world, assignee=world.agent), warn_in=timedelta(hours=1),
                  due_in=timedelta(minutes=-1))

    scan_sla()

    assert list(DeskNotification.objects.values_list("user__username", flat=True)) == ["agent"]
    assert sla_mail().count() == 1


@pytest.mark.django_db
def test_a_person_without_an_email_address_gets_only_the_desk_notice(world):
    nomail = f.user(Role.AGENT)
    nomail.email = ""
    nomail.save()
    world.desk_team.members.add(nomail)
    running_clock(assigned_ticket(world, assignee=nomail), warn_in=timedelta(hours=1),
                  due_in=timedelta(minutes=-1))

    scan_sla()

    assert DeskNotification.objects.filter(user=nomail).count() == 1
    assert list(sla_mail().values_list("to", flat=True)) == [world.agent.email]


@pytest.mark.django_db
def test_notices_are_written_in_each_recipients_language(world):
    world.agent2.language = "en"
    world.agent2.save()
    ticket = assigned_ticket(world)
    running_clock(ticket, warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))

    scan_sla()

    english = sla_mail().get(to=world.agent2.email)
    finnish = sla_mail().get(to=world.agent.email)
    assert english.subject == f"[{ticket.reference}] SLA breached: resolution target passed"
    assert f"/desk/tickets/{ticket.reference}/" in english.body
    with translation.override("fi"):
        finnish_priority = str(Priority(ticket.priority).label)
    with translation.override("en"):
        english_priority = str(Priority(ticket.priority).label)
    assert finnish_priority != english_priority
    assert finnish_priority in finnish.body and english_priority in english.body


@pytest.mark.django_db
def test_a_breach_raises_priority_one_step_with_a_history_row(world):
    ticket = assigned_ticket(world)
    assert ticket.priority == Priority.P3
    policy = SlaPolicy.objects.create(service=world.critical, resolution_minutes=60,
                                      raise_priority_on_breach=True)
    running_clock(ticket, policy=policy, warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))

    scan_sla()

    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2
    event = TicketEvent.objects.get(ticket=ticket, field="priority")
    assert (event.actor, event.old_value, event.new_value) == (None, "P3", "P2")
    assert ticket.updated_at == event.created_at
    assert "P3" in sla_mail().filter(to=world.agent.email).get().body


@pytest.mark.django_db
def test_a_p1_ticket_is_not_raised_further(world):
    ticket = assigned_ticket(world, stops_work="yes", affected="many")
    assert ticket.priority == Priority.P1
    policy = SlaPolicy.objects.create(service=world.critical, resolution_minutes=60,
                                      raise_priority_on_breach=True)
    running_clock(ticket, policy=policy, warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))

    assert scan_sla().breaches == 1

    ticket.refresh_from_db()
    assert ticket.priority == Priority.P1
    assert not TicketEvent.objects.filter(ticket=ticket, field="priority").exists()


@pytest.mark.django_db
def test_a_policy_that_does_not_raise_leaves_priority_alone(world):
    ticket = assigned_ticket(world)
    policy = SlaPolicy.objects.create(service=world.critical, resolution_minutes=60)
    running_clock(ticket, policy=policy, warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))

    scan_sla()

    ticket.refresh_from_db()
    assert ticket.priority == Priority.P3


@pytest.mark.django_db
def test_many_due_clocks_are_all_fired_across_pages(world):
    clocks = [running_clock(assigned_ticket(world), due_in=timedelta(minutes=-1)) for _ in range(7)]

    assert scan_sla(batch=3) == ScanResult(warnings=7, breaches=7)

    assert SlaClock.objects.filter(pk__in=[c.pk for c in clocks], breached_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_an_alert_already_recorded_stamps_the_clock_and_tells_nobody_again(world):
    clock = running_clock(assigned_ticket(world), warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))
    SlaAlert.objects.create(clock=clock, kind="breach", cycle=1, fired_at=timezone.now(), due_at=clock.due_at)

    assert scan_sla() == ScanResult(warnings=0, breaches=0)

    clock.refresh_from_db()
    assert clock.breached_at is not None
    assert not DeskNotification.objects.exists() and not sla_mail().exists()


@pytest.mark.django_db
def test_a_raised_priority_moves_the_clock_to_that_prioritys_policy(world):
    ticket = assigned_ticket(world)
    normal = SlaPolicy.objects.create(service=world.critical, priority=Priority.P3, resolution_minutes=60,
                                      raise_priority_on_breach=True)
    high = SlaPolicy.objects.create(service=world.critical, priority=Priority.P2, resolution_minutes=30)
    clock = running_clock(ticket, policy=normal, warn_in=timedelta(hours=1), due_in=timedelta(minutes=-1))

    scan_sla()

    clock.refresh_from_db()
    ticket.refresh_from_db()
    assert (clock.policy, clock.target_seconds) == (high, 30 * 60)
    assert clock.breached_at is not None
    assert ticket.sla_due_at == clock.due_at
