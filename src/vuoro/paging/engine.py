"""The escalation engine: drive due pages one step, exactly once.

``escalate_due`` claims due triggered pages through the partial index on
``next_escalation_at`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so engines in many processes
take disjoint pages), then advances the cursor with a compare-and-set on the cursor it read
(which also fences engines on SQLite) and writes the step's notifications and events in the
same transaction. A step therefore fires once or not at all; a page whose step was missed
because no engine ran is simply overdue and fires on the next cycle.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vuoro.accounts.models import Team, User
from vuoro.paging import escalation as esc
from vuoro.paging.links import ack_url
from vuoro.paging.models import Page, PageEvent, PageEventKind, PageStatus

logger = logging.getLogger(__name__)

RETRY_AFTER = dt.timedelta(minutes=1)


def record(page: Page, kind: str, at: dt.datetime, *, user: User | None = None,
           detail: str = "") -> PageEvent:
    return PageEvent.objects.create(page=page, kind=kind, at=at, user=user, detail=detail[:500])


def cancel_page_messages(page_id: int, *, reason: str) -> int:
    """Cancel the page's notifications still waiting (later rules after an acknowledgement)."""
    from vuoro.notify.services import messages_cancel

    return messages_cancel(key_prefix=f"page-{page_id}-", reason=reason)


def pages_due(now: dt.datetime) -> Any:
    return Page.objects.filter(status=PageStatus.TRIGGERED, next_escalation_at__lte=now)


def pages_overdue(now: dt.datetime | None = None, *, grace: dt.timedelta = dt.timedelta(seconds=30)) -> int:
    """Triggered pages due more than ``grace`` ago: a sign that no engine is running."""
    now = now or timezone.now()
    return int(pages_due(now - grace).count())


def escalate_due(*, now: dt.datetime | None = None, batch: int = 100) -> int:
    """Fire the due step of up to ``batch`` pages, one transaction per page; returns steps fired.

    Safe to run in many processes at once and to repeat: a page already advanced by another
    engine no longer matches the cursor read, so its step is not fired again. A page whose step
    fails (a broken snapshot, a bad address) is logged and put back ``RETRY_AFTER`` later, so
    it cannot hold up the pages behind it.
    """
    now = now or timezone.now()
    fired = 0
    for _attempt in range(batch):
        page: Page | None = None
        if not pages_due(now).exists():
            break  # one indexed read and no write lock when nothing is due (most cycles)
        try:
            with transaction.atomic():
                due = pages_due(now).order_by("next_escalation_at", "id")
                if connection.features.has_select_for_update_skip_locked:
                    due = due.select_for_update(skip_locked=True, of=("self",))
                page = due.select_related("ticket__service__owner").first()
                if page is None:
                    break
                if _fire(page, now):
                    fired += 1
        except DatabaseError:
            raise  # the database itself failed; the next cycle starts afresh
        except Exception:  # noqa: BLE001 - one broken page must not stop the others
            logger.exception("Escalating page %s failed; trying again later", getattr(page, "pk", None))
            if page is None:
                raise
            Page.objects.filter(pk=page.pk, next_escalation_at=page.next_escalation_at).update(
                next_escalation_at=now + RETRY_AFTER)
    return fired


def _claim(page: Page, move: esc.Move, **extra: Any) -> bool:
    """Compare-and-set the cursor from what was read to what follows; False if it moved."""
    following = move.next_cursor
    return bool(Page.objects.filter(
        pk=page.pk, status=PageStatus.TRIGGERED, cycle=page.cycle, step_index=page.step_index,
        next_escalation_at=page.next_escalation_at,
    ).update(
        cycle=page.cycle if following is None else following.cycle,
        step_index=page.step_index if following is None else following.step_index,
        next_escalation_at=move.next_at, **extra,
    ))


def _fire(page: Page, now: dt.datetime) -> bool:
    snapshot = page.snapshot
    policy = esc.policy_from_data(snapshot["policies"][snapshot["active"]])
    try:
        move = esc.next_move(policy, esc.Cursor(page.cycle, page.step_index), now)
    except esc.PolicyError:
        logger.exception("Page %s has a cursor outside its policy; stopping it", page.pk)
        Page.objects.filter(pk=page.pk).update(next_escalation_at=None)
        return False
    handover = move.handover
    if handover is not None and str(handover) in snapshot["policies"]:
        # The next policy starts at its first step, due at once.
        move = esc.Move(cursor=move.cursor, targets=move.targets, next_cursor=esc.Cursor(),
                        next_at=now, repeated=move.repeated)
        if not _claim(page, move, snapshot={**snapshot, "active": str(handover)}):
            return False
        name = snapshot["policies"][str(handover)]["name"]
        record(page, PageEventKind.HANDED_OVER, now, detail=name)
    elif not _claim(page, move):
        return False
    # After a handover the cursor starts again at (0, 0); the policy's key keeps the keys apart.
    within = "" if snapshot["active"] == snapshot.get("root") else f"p{snapshot['active']}-"
    step_key = f"page-{page.pk}-{within}c{page.cycle}-s{page.step_index}"
    if move.exhausted:
        record(page, PageEventKind.EXHAUSTED, now, detail=policy.name)
        _page_fallback(page, policy, step_key, now)
        _tell_owner(page, "exhausted", now)
        return True
    if move.repeated:
        record(page, PageEventKind.REPEATED, now, detail=str(page.cycle))
    people = people_for(move.targets, now)
    for person in people:
        _notify(page, person, f"{step_key}-u{person.pk}", now)
    if people:
        record(page, PageEventKind.NOTIFIED, now,
               detail=", ".join(p.display_name() for p in people))
    elif handover is None:
        record(page, PageEventKind.NOBODY_ON_CALL, now, detail=_step_label(move.targets))
        _page_fallback(page, policy, step_key, now)
        _tell_owner(page, f"{within}c{page.cycle}-s{page.step_index}-nobody", now)
    return True


def _step_label(targets: tuple[esc.Target, ...]) -> str:
    return ", ".join(f"{t.kind} {t.id}" for t in targets)


def people_for(targets: tuple[esc.Target, ...], now: dt.datetime) -> list[User]:
    """Who a step's targets mean at ``now``: on call, a person, a team's members.

    Only active people in desk roles: the notification names the ticket and its subject.
    """
    from vuoro.oncall import selectors as oncall
    from vuoro.oncall.models import Schedule
    from vuoro.oncall.schedule import ScheduleError

    people: dict[int, User] = {}
    for target in targets:
        found: list[User] = []
        if target.kind == "schedule":
            schedule = Schedule.objects.filter(pk=target.id).first()
            try:
                person = oncall.who_is_on_call(schedule, now) if schedule is not None else None
            except ScheduleError:
                logger.exception("Schedule %s cannot say who is on call", target.id)
                person = None
            found = [person] if person is not None else []
        elif target.kind == "user":
            found = list(User.objects.filter(pk=target.id))
        elif target.kind == "team":
            team = Team.objects.filter(pk=target.id).first()
            found = list(team.members.order_by("id")) if team is not None else []
        for person in found:
            if person.is_active and person.uses_desk:  # a page shows the ticket: desk roles only
                people.setdefault(person.pk, person)
    return list(people.values())


def _page_fallback(page: Page, policy: esc.Policy, step_key: str, now: dt.datetime) -> None:
    found = people_for((esc.Target("user", policy.fallback),), now) if policy.fallback else []
    if not found:
        return
    fallback = found[0]
    _notify(page, fallback, f"{step_key}-u{fallback.pk}", now)
    record(page, PageEventKind.FALLBACK, now, user=fallback, detail=fallback.display_name())


def _notify(page: Page, person: User, key: str, now: dt.datetime) -> int:
    """Write the person's page notification to the outbox (idempotent by key)."""
    from vuoro.notify.services import contact_notify

    ticket = page.ticket
    link = ack_url(page_id=page.pk, user_id=person.pk, nonce=page.ack_nonce)
    with translation.override(person.language or None):
        title = _("Page: %(reference)s %(subject)s") % {"reference": ticket.reference,
                                                         "subject": ticket.subject}
        body = _("You are paged for %(reference)s: %(subject)s\nService: %(service)s\n"
                 "Reason: %(reason)s\n\nAcknowledge: %(link)s") % {
            "reference": ticket.reference, "subject": ticket.subject,
            "service": ticket.service, "reason": page.reason or "-", "link": link}
    return contact_notify(user=person, key=key, title=title, body=body, now=now)


def _tell_owner(page: Page, cause: str, now: dt.datetime) -> None:
    """The service owner hears when nobody could be reached or the steps ran out."""
    from vuoro.notify.services import Notice, notice_recipients, notice_send

    ticket = page.ticket
    owner = ticket.service.owner
    if owner is None:
        return

    def render(user: User) -> Notice:
        values = {"reference": ticket.reference, "subject": ticket.subject}
        if cause == "exhausted":
            text = _("Nobody acknowledged the page for %(reference)s %(subject)s.") % values
        else:
            text = _("Nobody was on call for the page on %(reference)s %(subject)s.") % values
        return Notice(text=text, subject=text,
                      body=text + "\n\n" + f"{_base_url()}/desk/tickets/{ticket.reference}/")

    notice_send(users=notice_recipients(owner), ticket=ticket, key=f"paging-owner-{page.pk}-{cause}",
                render=render, now=now)


def _base_url() -> str:
    from django.conf import settings

    return str(settings.BASE_URL)
