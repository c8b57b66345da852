"""Email to desk staff about their tickets: a new ticket, an assignment, a requester's message.

Like ``requester_mail``, each function runs inside the transaction of the ticket service that
caused it and only writes outbox rows; the outbox sender delivers them. Keys are unique per
cause and recipient (``agent-<ticket>-<cause>-<user>``), so a repeat writes nothing, and the
``agent-<ticket>-`` prefix lets ``channels.services`` thread an emailed answer back to the ticket.

Who is told:

- a new ticket: its assignee alone when intake assigned it (the team's strategy already chose
  who works on it, so telling everyone would only be noise), otherwise the team's staff;
- an assignment: the new assignee;
- a public message from the requester's side: the assignee, or the team's staff when unassigned.

Staff are active agents, service owners and administrators with an email address who have not
switched this mail off (``EmailPreference``), and whose address has not bounced permanently since
they last wrote to us (``providers.stopping_bounces``; each skip is logged). The
person who caused the change is never told.
Each mail is in the recipient's language, text with an HTML alternative, carries ``X-Loop`` and
``Auto-Submitted: auto-generated`` (a notice, not an answer to a message) and threads in the
recipient's mail client to their first mail about the ticket. Off when
``settings.VUORO_AGENT_MAIL`` is false.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vuoro.accounts.models import STAFF_ROLES, User
from vuoro.core.i18n import language_of
from vuoro.notify import providers
from vuoro.notify.mail_thread import reply_to_headers
from vuoro.notify.models import EmailPreference, OutboundEmail
from vuoro.notify.requester_mail import plain_text
from vuoro.notify.transports import message_id_for
from vuoro.tickets.models import Message, Ticket, TicketEvent

logger = logging.getLogger(__name__)

# Subject words, English source translated at rendering time.
TITLES = {
    "new": gettext_noop("New ticket"),
    "assigned": gettext_noop("Assigned to you"),
    "message": gettext_noop("New message"),
}


def enabled() -> bool:
    return bool(getattr(settings, "VUORO_AGENT_MAIL", True))


def _prefix(ticket: Ticket) -> str:
    return f"agent-{ticket.pk}-"


def _reachable(people: QuerySet[User]) -> QuerySet[User]:
    """Active, with an address, and not switched off."""
    return (people.filter(is_active=True).exclude(email="")
            .exclude(email_preference__about_my_tickets=False).order_by("pk"))


def _told(ticket: Ticket, *, team_too: bool) -> QuerySet[User]:
    """The assignee; or, with ``team_too`` and nobody assigned, the staff of the ticket's team."""
    if ticket.assignee_id is not None:
        return _reachable(User.objects.filter(pk=ticket.assignee_id))
    if not team_too or ticket.team_id is None:
        return User.objects.none()
    return _reachable(User.objects.filter(teams=ticket.team_id, role__in=STAFF_ROLES))


def _thread_headers(ticket: Ticket, address: str) -> dict[str, str]:
    """Loop guard, and threading to this recipient's first mail about the ticket."""
    headers = {"X-Loop": getattr(settings, "VUORO_X_LOOP", "vuoro"), "Auto-Submitted": "auto-generated",
               **reply_to_headers(ticket)}
    first = (OutboundEmail.objects.filter(key__startswith=_prefix(ticket), to=address)
             .order_by("pk").values_list("pk", flat=True).first())
    if first is not None:
        headers["In-Reply-To"] = headers["References"] = message_id_for("outbox", first)
    return headers


def _render(ticket: Ticket, recipient: User, cause: str, message: Message | None,
            key: str, now: datetime) -> OutboundEmail:
    """One outbox row for ``recipient``, in their language."""
    body = message.body if message is not None else ticket.description
    values = {
        "cause": cause, "ticket": ticket, "recipient": recipient,
        "author": message.author.display_name() if message and message.author else "",
        "requester": ticket.requester.display_name(),
        "text": plain_text(body), "html": body,
        "link": settings.BASE_URL + reverse("desk:ticket", args=[ticket.reference]),
        "preferences": settings.BASE_URL + reverse("notify:contacts"),
    }
    with translation.override(language_of(recipient.language)):
        text = render_to_string("notify/email/agent.txt", values)
        html = render_to_string("notify/email/agent.html", values)
        subject = f"[{ticket.reference}] {_(TITLES[cause])}: {ticket.subject}"
    return OutboundEmail(key=key, to=recipient.email, subject=subject[:300], body=text,
                         html_body=html, headers=_thread_headers(ticket, recipient.email),
                         next_attempt_at=now, created_at=now)


def _write(*, ticket: Ticket, cause: str, tag: str, people: QuerySet[User], actor: User | None,
           now: datetime, message: Message | None = None) -> int:
    """Queue one mail per person (the actor left out); returns how many rows were written."""
    if not enabled():
        return 0
    if actor is not None:
        people = people.exclude(pk=actor.pk)
    people_list = list(people)
    keys = {person.pk: f"{_prefix(ticket)}{tag}-{person.pk}" for person in people_list}
    done = set(OutboundEmail.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    due = [person for person in people_list if keys[person.pk] not in done]
    bounced = providers.stopping_bounces([person.email for person in due], now) if due else {}
    rows = []
    for person in due:
        bounce = bounced.get(person.email.strip().lower())
        if bounce is not None:
            logger.info("Agent mail %s for %s not queued: the address bounced (email bounce %s, %s, %s).",
                        keys[person.pk], ticket.reference, bounce.pk, bounce.status, bounce.at.isoformat())
            continue
        rows.append(_render(ticket, person, cause, message, keys[person.pk], now))
    return len(OutboundEmail.objects.bulk_create(rows, ignore_conflicts=True)) if rows else 0


def agent_mail_new_ticket(*, ticket: Ticket, actor: User | None, now: datetime) -> int:
    """A ticket was created: its assignee, else its team's staff; not the person who made it."""
    return _write(ticket=ticket, cause="new", tag="new", people=_told(ticket, team_too=True),
                  actor=actor, now=now)


def agent_mail_assigned(*, ticket: Ticket, actor: User, now: datetime,
                        history_id: int | None = None) -> int:
    """The ticket was assigned to someone other than the person who assigned it; one per change
    (``history_id``: the change's history row; the latest assignee row when not given)."""
    event = history_id or (TicketEvent.objects.filter(ticket=ticket, field="assignee")
                           .order_by("-pk").values_list("pk", flat=True).first())
    return _write(ticket=ticket, cause="assigned", tag=f"assigned-{event}",
                  people=_told(ticket, team_too=False), actor=actor, now=now)


def agent_mail_message(*, ticket: Ticket, message: Message, now: datetime) -> int:
    """A public message from the requester's side; desk replies and internal notes get nothing."""
    author = message.author
    if message.internal or author is None or author.uses_desk:
        return 0
    return _write(ticket=ticket, cause="message", tag=f"message-{message.pk}",
                  people=_told(ticket, team_too=True), actor=author, now=now, message=message)


def agent_mail_preference(*, user: User) -> bool:
    """Whether ``user`` gets email about their tickets (on unless switched off)."""
    return not EmailPreference.objects.filter(user=user, about_my_tickets=False).exists()


def agent_mail_preference_set(*, user: User, about_my_tickets: bool) -> None:
    """Store the user's choice; idempotent (one row per user, by a unique constraint)."""
    EmailPreference.objects.update_or_create(user=user, defaults={"about_my_tickets": about_my_tickets})
