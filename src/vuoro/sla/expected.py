""""When will my request be handled?" in the requester's language and the service's time zone.

The rule follows the out-of-hours model: while the service is open (its calendar; around the
clock when it has none) the request is handled now; otherwise from the next opening, and the
requester is told that instant.

Sentences are gettext messages so the catalogues can word them, but dates, weekdays and the
untranslated fallback come from small tables here, so the answer is right in Finnish, Swedish
and English whatever the catalogues hold and whatever language the current request uses.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, override

from vuoro.calendars.businesstime import BusinessCalendar
from vuoro.calendars.selectors import business_calendar_for
from vuoro.core.i18n import language_of
from vuoro.coverage.decide import Action
from vuoro.sla.selectors import first_response_due
from vuoro.tickets.models import Ticket

WEEKDAYS = {
    "fi": ("ma", "ti", "ke", "to", "pe", "la", "su"),
    "sv": ("mån", "tis", "ons", "tors", "fre", "lör", "sön"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# English source, translated by the catalogues.
NOW = gettext_noop("Your request is being handled now.")
NOW_WITH_TARGET = gettext_noop(
    "Your request is being handled now. You will get a first response by %(when)s.")
NEXT_BUSINESS_DAY = gettext_noop(
    "Your request will be handled from %(when)s, the next business day.")
LATER = gettext_noop("Your request will be handled from %(when)s.")
WHEN_OPEN = gettext_noop("Your request will be handled when the service opens.")
ON_DUTY_NOW = gettext_noop(
    "The service is closed now, but your request stops work, so support on duty is handling it now.")

def format_moment(at: dt.datetime, language: str) -> str:
    """A weekday, date and time as people write them: "ma 23.11. klo 8.00", "Mon 23 Nov at 08:00"."""
    weekday = WEEKDAYS[language][at.weekday()]
    if language == "fi":
        return f"{weekday} {at.day}.{at.month}. klo {at.hour}.{at.minute:02d}"
    if language == "sv":
        return f"{weekday} {at.day}.{at.month}. kl. {at.hour}.{at.minute:02d}"
    return f"{weekday} {at.day} {MONTHS_EN[at.month - 1]} at {at.hour:02d}:{at.minute:02d}"


def _sentence(source: str, language: str, **values: str) -> str:
    with override(language):
        text = gettext(source)
    return text % values if values else text


def next_business_day(calendar: BusinessCalendar, day: dt.date) -> dt.date:
    """The first weekday after ``day`` that is not a public holiday of the calendar."""
    following = day + dt.timedelta(days=1)
    holidays: dict[int, frozenset[dt.date]] = {}
    for _ in range(31):
        year = holidays.setdefault(following.year, frozenset(calendar.holidays(following.year)))
        if following.weekday() < 5 and following not in year:
            return following
        following += dt.timedelta(days=1)
    return following


def _handled_now_out_of_hours(ticket: Ticket) -> bool:
    """Intake judged the request urgent and someone on duty (partner or on-call) takes it now."""
    try:
        decision = ticket.out_of_hours_decision
    except ObjectDoesNotExist:
        return False
    return decision.action == Action.HANDLE_NOW.value


def expected_handling(ticket: Ticket, language: str | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """``{"at", "text", "open_now"}``: when handling starts and a sentence saying so."""
    language = language_of(language)
    now = now or timezone.now()
    service_calendar = ticket.service.calendar
    calendar = business_calendar_for(service_calendar)
    zone = ZoneInfo(service_calendar.timezone if service_calendar else settings.TIME_ZONE)
    if calendar.is_open(now):
        due = first_response_due(ticket=ticket)
        text = (_sentence(NOW_WITH_TARGET, language, when=format_moment(due.astimezone(zone), language))
                if due else _sentence(NOW, language))
        return {"at": now, "text": text, "open_now": True}
    if _handled_now_out_of_hours(ticket):
        return {"at": now, "text": _sentence(ON_DUTY_NOW, language), "open_now": True}
    opening = calendar.next_opening(now)
    if opening is None:
        return {"at": None, "text": _sentence(WHEN_OPEN, language), "open_now": False}
    local = opening.astimezone(zone)
    today = now.astimezone(zone).date()
    source = NEXT_BUSINESS_DAY if local.date() == next_business_day(calendar, today) else LATER
    return {"at": opening, "text": _sentence(source, language, when=format_moment(local, language)),
            "open_now": False}


def expected_handling_text(ticket: Ticket, language: str, now: dt.datetime) -> str:
    """Only the sentence of ``expected_handling``: what the requester's acknowledgement says."""
    return str(expected_handling(ticket, language, now)["text"])
