"""A Saturday night for the out-of-hours browser test, arranged with factories and the ORM.

Two services keep office hours (Mon–Fri 8–16, Helsinki): the critical one is covered by the
partner with guided actions, has a runbook, and an escalation policy whose first step pages
whoever is on call in a schedule where one agent is on call around the clock (a webhook
contact method pointing at the loopback fake provider) and whose second step pages a backup
agent. The ordinary service has the same hours and no coverage.
"""

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tests import factories as f
from tests.test_coverage_intake import office_hours
from vuoro.accounts.models import Role, User
from vuoro.calendars.models import Calendar
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.notify.services import contact_method_add
from vuoro.oncall.models import Layer, LayerMember, RotationKind, Schedule
from vuoro.paging.models import EscalationPolicy, EscalationStep, TargetKind
from vuoro.runbooks.models import Runbook, RunbookVersion
from vuoro.runbooks.services import runbook_version_create

HELSINKI = ZoneInfo("Europe/Helsinki")
# The last Saturday of November 2026; the next business day is Monday 30 November.
SATURDAY_NIGHT = dt.datetime(2026, 11, 28, 2, 0, tzinfo=HELSINKI)
MONDAY_OPENING = dt.datetime(2026, 11, 30, 8, 0, tzinfo=HELSINKI)
FIRST_STEP_WAIT = 5  # minutes the on-call agent has before the backup is paged

# The answers the partner gives, in order: the outage is confirmed, webmail does not work
# either (second choice), which the agreed steps escalate.
ESCALATING_ANSWERS = (("confirm", "done"), ("webmail", "1"))
RUNBOOK_STEPS = [
    {"key": "confirm", "kind": "instruction",
     "text": {"fi": "Varmista, ettei posti kulje.", "en": "Confirm that mail does not arrive.",
              "sv": "Bekräfta att posten inte kommer fram."}},
    {"key": "webmail", "kind": "question",
     "text": {"fi": "Toimiiko selainposti?", "en": "Does webmail work?", "sv": "Fungerar webbposten?"},
     "choices": [
         {"label": {"fi": "Kyllä", "en": "Yes", "sv": "Ja"}, "target": "guide"},
         {"label": {"fi": "Ei", "en": "No", "sv": "Nej"}, "target": "escalate"},
     ]},
    {"key": "guide", "kind": "instruction",
     "text": {"fi": "Neuvo käyttämään selainpostia aamuun asti.",
              "en": "Guide the requester to use webmail until the morning.",
              "sv": "Be användaren använda webbposten till morgonen."}},
]

ACK_PATH = re.compile(r"/pages/ack/[^/\s\"'\\]+/")


@dataclass(frozen=True)
class Night:
    calendar: Calendar
    on_call: User
    backup: User
    requester: User
    schedule: Schedule
    policy: EscalationPolicy
    runbook: RunbookVersion


def _on_call_schedule(person: User, team) -> Schedule:  # type: ignore[no-untyped-def]
    """One weekly layer with one member: ``person`` is on call at every moment."""
    schedule = Schedule.objects.create(name="Email on call", timezone="Europe/Helsinki", team=team)
    layer = Layer.objects.create(schedule=schedule, name="Weekly", rotation=RotationKind.WEEKLY,
                                 start_date=dt.date(2026, 11, 2), handoff_time=dt.time(8))
    LayerMember.objects.create(layer=layer, user=person, position=0)
    return schedule


def _policy(schedule: Schedule, backup: User) -> EscalationPolicy:
    policy = EscalationPolicy.objects.create(name="Email at night")
    EscalationStep.objects.create(policy=policy, order=0, wait_minutes=FIRST_STEP_WAIT,
                                  target_kind=TargetKind.SCHEDULE, target_schedule=schedule)
    EscalationStep.objects.create(policy=policy, order=1, wait_minutes=FIRST_STEP_WAIT,
                                  target_kind=TargetKind.USER, target_user=backup)
    return policy


def saturday_night(world, *, webhook_url: str) -> Night:  # type: ignore[no-untyped-def]
    """Arrange the night; ``webhook_url`` is where the on-call agent's pages are posted."""
    calendar = office_hours()
    for service in (world.critical, world.other):
        service.calendar = calendar
        service.save()
    on_call = f.user(Role.AGENT, username="ona", language="en")
    world.desk_team.members.add(on_call)
    contact_method_add(user=on_call, kind="webhook", address=webhook_url, label="Phone app")
    schedule = _on_call_schedule(on_call, world.desk_team)
    policy = _policy(schedule, world.agent2)
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.GUIDED_ACTIONS,
                                   partner_team=world.partner_team, escalation_policy=policy,
                                   notes="Follow the runbook; page the on-call when it says so.")
    runbook = Runbook.objects.create(service=world.critical, name_fi="Posti ei kulje",
                                     name_en="Mail does not arrive", name_sv="Posten kommer inte fram")
    version = runbook_version_create(runbook=runbook, steps=RUNBOOK_STEPS, note="First version", by=None)
    requester = f.user(Role.REQUESTER, organisation=world.org_a, username="nina", language="en")
    return Night(calendar=calendar, on_call=on_call, backup=world.agent2, requester=requester,
                 schedule=schedule, policy=policy, runbook=version)


def ack_path(text: str) -> str:
    """The path of the signed acknowledgement link in a notification's text."""
    match = ACK_PATH.search(text)
    assert match, f"no acknowledgement link in {text!r}"
    return urlsplit(match.group(0)).path


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True,
         "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/130.0 Mobile Safari/537.36")}
