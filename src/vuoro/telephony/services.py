"""Writes for phone work: a call logged at the desk, a call reported by the telephony system.

Tickets are made only through ``tickets.services.ticket_create`` (channel "phone") and notes
only through ``message_add``.
"""

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.accounts.phone_numbers import normalise
from vuoro.accounts.selectors import system_actor
from vuoro.catalog.models import Service
from vuoro.telephony import signing
from vuoro.telephony.models import Call, Direction, Outcome
from vuoro.telephony.selectors import caller_find
from vuoro.tickets.models import ACTIVE_STATUSES, Channel, EventKind, Ticket, TicketEvent
from vuoro.tickets.selectors import ticket_get
from vuoro.tickets.services import message_add, ticket_create

logger = logging.getLogger(__name__)

MAX_DURATION = 24 * 3600
MISSED_CALL_WINDOW_HOURS = 12.0
# A ticket opened from a reported call carries this idempotency key prefix and the call's id.
CALL_KEY_PREFIX = "call:"


def _setting(name: str) -> str:
    value = getattr(settings, name, None)
    return str(value) if value not in (None, "") else os.environ.get(name, "")


def _missed_call_window() -> dt.timedelta:
    """``VUORO_MISSED_CALL_WINDOW_HOURS`` (default 12); 0 gives every missed call its own ticket.

    A value that is not a number falls back to the default rather than refusing calls.
    """
    text = _setting("VUORO_MISSED_CALL_WINDOW_HOURS").strip()
    try:
        hours = float(text) if text else MISSED_CALL_WINDOW_HOURS
    except ValueError:
        logger.warning("VUORO_MISSED_CALL_WINDOW_HOURS=%r is not a number; using %s", text,
                       MISSED_CALL_WINDOW_HOURS)
        hours = MISSED_CALL_WINDOW_HOURS
    return dt.timedelta(hours=max(hours, 0.0))


def _note(call: Call) -> str:
    minutes, seconds = divmod(call.duration_seconds, 60)
    lines = [_("Phone call from %(number)s (%(outcome)s, %(m)d min %(s)02d s): %(reason)s") % {
        "number": call.number, "outcome": call.get_outcome_display(), "m": minutes, "s": seconds,
        "reason": call.reason}]
    if call.summary:
        lines.append(call.summary)
    if call.voicemail_url:
        lines.append(_("Voicemail: %(url)s") % {"url": call.voicemail_url})
    return "\n\n".join(lines)


def _check_log(*, number: str | None, reason: str, duration_seconds: int, outcome: str,
               create_ticket: bool, service: Service | None, ticket_reference: str) -> None:
    errors: dict[str, list[str]] = {}
    if number is None:
        errors["number"] = [_("Enter a phone number, e.g. +358 40 123 4567.")]
    if not reason.strip():
        errors["reason"] = [_("Say why they called.")]
    if not 0 <= duration_seconds <= MAX_DURATION:
        errors["duration"] = [_("Give the duration in minutes.")]
    if outcome not in Outcome.values:
        errors["outcome"] = [_("Choose the outcome.")]
    if create_ticket and ticket_reference:
        errors["ticket"] = [_("Either create a ticket or add to one, not both.")]
    if create_ticket and service is None:
        errors["service"] = [_("Choose the service for the new ticket.")]
    if errors:
        raise ValidationError(errors)


def call_log(*, actor: User, raw_number: str, reason: str, duration_seconds: int, outcome: str,
             summary: str = "", create_ticket: bool = False, service: Service | None = None,
             ticket_reference: str = "", started_at: dt.datetime | None = None,
             stops_work: str = "no", affected: str = "me") -> Call:
    """Record a call taken at the desk; optionally open a ticket for it or note it on one.

    A new ticket is triaged on the caller's answers (``stops_work``, ``affected``) like any
    intake, so a work-stopping call out of hours is handled at once.

    A new ticket's requester is the caller found by number. For a number nobody has, desk
    agents, service owners and admins get the webhook's contact (``_contact_for``: cannot sign
    in, found again by number); partner agents are refused, as the partner keeps no customer
    register. Adding to a ticket needs one the actor can see and writes an internal note. All
    in one transaction: a refused ticket leaves no call and no contact behind.
    """
    number = normalise(raw_number)
    _check_log(number=number, reason=reason, duration_seconds=duration_seconds, outcome=outcome,
               create_ticket=create_ticket, service=service, ticket_reference=ticket_reference.strip())
    assert number is not None
    caller = caller_find(number=number)
    ticket: Ticket | None = None
    if ticket_reference.strip():
        ticket = ticket_get(user=actor, reference=ticket_reference.strip())
        if ticket is None:
            raise ValidationError({"ticket": [_("No ticket %(ref)s that you can see.") % {"ref": ticket_reference}]})
    if create_ticket and caller is None and (actor.is_partner or not actor.uses_desk):
        raise ValidationError({"number": [_("No requester has this number; create the ticket from the New ticket page.")]})
    with transaction.atomic():
        call = Call.objects.create(
            direction=Direction.INBOUND, number=number, caller=caller, started_at=started_at or timezone.now(),
            duration_seconds=duration_seconds, outcome=outcome, reason=reason.strip()[:200],
            summary=summary.strip(), logged_by=actor,
        )
        if create_ticket:
            assert service is not None
            requester = caller or _contact_for(number)
            ticket = ticket_create(actor=actor, requester=requester, service=service, category=None,
                                   subject=call.reason, description=_note(call), stops_work=stops_work,
                                   affected=affected, channel=Channel.PHONE).ticket
        elif ticket is not None:
            message_add(actor=actor, ticket=ticket, body=_note(call), internal=True, channel=Channel.PHONE)
        if ticket is not None:
            call.ticket = ticket
            call.save(update_fields=["ticket"])
            TicketEvent.objects.create(ticket=ticket, actor=actor, kind=EventKind.CALL_LOGGED, internal=True,
                                       new_value=number, created_at=timezone.now())
    return call


class WebhookRefused(Exception):
    """The request is refused and nothing was written; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class WebhookResult:
    call: Call
    created: bool  # False when the external id was seen before


def _parse_event(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused(400, _("The body is not JSON.")) from None
    if not isinstance(data, dict):
        raise WebhookRefused(400, _("The body must be a JSON object."))
    external_id = str(data.get("id") or "").strip()
    number = normalise(str(data.get("from") or ""))
    started_at = parse_datetime(str(data.get("started_at") or ""))
    duration = data.get("duration", 0)
    if (not external_id or len(external_id) > 120 or number is None or data.get("outcome") not in Outcome.values
            or started_at is None or started_at.tzinfo is None
            or not isinstance(duration, int) or not 0 <= duration <= MAX_DURATION):
        raise WebhookRefused(400, _("Expected id, from, started_at (with offset), outcome and duration."))
    return {"external_id": external_id, "number": number, "started_at": started_at, "duration": duration,
            "outcome": data["outcome"], "callee": str(data.get("to") or "")[:120],
            "voicemail_url": _web_address(data.get("voicemail_url"))}


def _web_address(value: Any) -> str:
    text = str(value or "")[:500]
    return text if text.startswith(("https://", "http://")) else ""


def _contact_for(number: str) -> User:
    """A requester record for an unknown caller, so their ticket has someone to answer to.

    Cannot sign in (unusable password); found again by number on the next call.
    """
    contact, created = User.objects.get_or_create(
        username=f"phone{number}", defaults={"role": Role.REQUESTER, "phone": number,
                                             "first_name": number, "language": "fi"})
    if created:
        contact.set_unusable_password()
        contact.save(update_fields=["password"])
    return contact


def _open_ticket(call: Call) -> Ticket | None:
    """The ticket for a missed call or voicemail: the caller's open one from a recent missed
    call, noted, or a new one; ``None`` without a configured service.

    Locks the requester's user row (the known caller's, else their contact's) before looking
    for an open ticket, so two different calls from one number arriving together take turns:
    the second waits for the first to commit and then finds its ticket. The user row is the
    one thing every call from the number shares even before any ticket exists. No other
    service locks user rows, and this lock is taken before the ticket, team and reference
    counter locks of ``message_add`` and ``ticket_create``, so it cannot close a cycle.
    Duplicates of one call never get this far: they wait on the first's ``Call`` insert.
    """
    slug = _setting("VUORO_TELEPHONY_SERVICE")
    service = Service.objects.filter(slug=slug).first() if slug else None
    if service is None:
        return None
    requester = call.caller or _contact_for(call.number)
    User.objects.select_for_update().filter(pk=requester.pk).first()
    earlier = _recent_missed_call_ticket(requester=requester, number=call.number,
                                         since=timezone.now() - _missed_call_window())
    if earlier is not None and _note_repeat(call, earlier):
        return earlier
    subject = (_("Voicemail from %(number)s") if call.outcome == Outcome.VOICEMAIL
               else _("Missed call from %(number)s")) % {"number": call.number}
    return ticket_create(actor=None, requester=requester, service=service, category=None, subject=subject,
                         description=_note(call), stops_work="no", affected="me", channel=Channel.PHONE,
                         idempotency_key=f"{CALL_KEY_PREFIX}{call.external_id}").ticket


def _recent_missed_call_ticket(*, requester: User, number: str, since: dt.datetime) -> Ticket | None:
    """The newest active ticket that a missed call or voicemail from ``number`` opened since
    ``since``. Only the webhook opens tickets with the call key and no actor (so the requester
    is the creator), which the (creator, key) index finds."""
    return (Ticket.objects.filter(created_by=requester, idempotency_key__startswith=CALL_KEY_PREFIX,
                                  requester=requester, channel=Channel.PHONE, status__in=ACTIVE_STATUSES,
                                  created_at__gte=since, calls__number=number)
            .select_related("service__calendar").order_by("-created_at", "-pk").first())


def _note_repeat(call: Call, ticket: Ticket) -> bool:
    """Note another missed call on ``ticket`` as the system actor and log it; ``False`` (nothing
    written) when no admin is there to write the note, so the call opens its own ticket."""
    actor = system_actor()
    if actor is None:
        logger.warning("No active admin to note call %s on %s; it opens its own ticket",
                       call.external_id, ticket.reference)
        return False
    calendar = ticket.service.calendar
    local = timezone.localtime(call.started_at, ZoneInfo(calendar.timezone) if calendar else None)
    lines = [_("Another missed call from %(number)s at %(time)s") % {
        "number": call.number, "time": formats.date_format(local, "SHORT_DATETIME_FORMAT")}]
    if call.voicemail_url:
        lines.append(_("Voicemail: %(url)s") % {"url": call.voicemail_url})
    message_add(actor=actor, ticket=ticket, body="\n\n".join(lines), internal=True, channel=Channel.PHONE)
    TicketEvent.objects.create(ticket=ticket, actor=None, kind=EventKind.CALL_LOGGED, internal=True,
                               new_value=call.number, created_at=timezone.now())
    return True


def webhook_receive(*, body: bytes, timestamp: str, signature: str, now: dt.datetime) -> WebhookResult:
    """Record a call reported by the telephony system; missed calls and voicemails become tickets.

    Refuses (``WebhookRefused``, nothing written) a bad signature (401), a timestamp off by
    more than five minutes (401) and a malformed body (400). The external id is unique, so
    a delivery repeated or replayed within the window records one call and one ticket (or
    one note), even when deliveries race: the call, its ticket or note and the history row
    are written in one transaction that a duplicate's insert waits on and then abandons.
    Missed calls need ``VUORO_TELEPHONY_SERVICE`` (a service's short name) to become
    tickets; without it they are recorded only.

    A number that rings again while the ticket its missed call opened is active and younger
    than ``VUORO_MISSED_CALL_WINDOW_HOURS`` gets no new ticket: the call is linked to that
    ticket, which gets an internal note and a "call logged" history row (see ``_open_ticket``
    for the lock that makes two calls at once find one ticket).
    """
    why = signing.refusal(secret=_setting("VUORO_TELEPHONY_SECRET"), timestamp=timestamp, body=body,
                          signature=signature, now=now)
    if why == "signature":
        raise WebhookRefused(401, _("Bad signature."))
    if why == "stale":
        raise WebhookRefused(401, _("The timestamp is more than five minutes off; refused as a possible replay."))
    event = _parse_event(body)
    earlier = Call.objects.filter(external_id=event["external_id"]).first()
    if earlier is not None:
        return WebhookResult(earlier, False)
    try:
        with transaction.atomic():
            call = Call.objects.create(
                direction=Direction.INBOUND, number=event["number"], caller=caller_find(number=event["number"]),
                callee=event["callee"], started_at=event["started_at"], duration_seconds=event["duration"],
                outcome=event["outcome"], external_id=event["external_id"], voicemail_url=event["voicemail_url"],
            )
            if call.outcome != Outcome.ANSWERED:
                # What is stored reads in the desk's language, whatever the request's.
                with translation.override(settings.LANGUAGE_CODE):
                    call.ticket = _open_ticket(call)
                if call.ticket is not None:
                    call.save(update_fields=["ticket"])
    except IntegrityError:
        return WebhookResult(Call.objects.get(external_id=event["external_id"]), False)
    return WebhookResult(call, True)
