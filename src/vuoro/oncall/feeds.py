"""iCalendar feeds of on-call shifts, for a schedule or for one person."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import icalendar
from django.utils.translation import gettext as _

from vuoro.accounts.models import User
from vuoro.oncall import schedule as pure
from vuoro.oncall.models import Schedule
from vuoro.oncall.selectors import people_by_id


def shift_uid(schedule: Schedule, shift: pure.Shift) -> str:
    """Stable for a shift: same schedule, layer, person and start give the same UID."""
    key = f"{schedule.pk}|{shift.layer}|{shift.person}|{shift.start.isoformat()}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@vuoro.oncall"


def calendar_for(title: str, shifts: list[tuple[Schedule, pure.Shift]], now: dt.datetime) -> bytes:
    """VCALENDAR bytes; event times carry the schedule's TZID with VTIMEZONE definitions."""
    people = people_by_id({shift.person for _schedule, shift in shifts})
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Vuoro//On-call schedules//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for schedule, shift in shifts:
        zone = ZoneInfo(schedule.timezone)
        person = people.get(shift.person)
        name = person.display_name() if isinstance(person, User) else str(shift.person)
        event = icalendar.Event()
        event.add("uid", shift_uid(schedule, shift))
        event.add("dtstamp", now.astimezone(dt.UTC))
        event.add("dtstart", shift.start.astimezone(zone))
        event.add("dtend", shift.end.astimezone(zone))
        summary = _("On call: %(person)s (%(schedule)s)") % {
            "person": name,
            "schedule": schedule.name,
        }
        event.add("summary", summary)
        if shift.layer == pure.OVERRIDE:
            event.add("description", _("Override"))
        else:
            event.add("description", _("Layer: %(layer)s") % {"layer": shift.layer})
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
