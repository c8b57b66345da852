"""Writes on pages: open, acknowledge, resolve with the ticket, and the escalation engine.

Every write locks the rows it changes and records a ``PageEvent`` (and, where the ticket's
history should show it, a ``TicketEvent``) in the same transaction. Notifications are outbox
rows written in that transaction too (``notify.services.contact_notify``), keyed per page,
cycle, step and person, so a step that is driven twice writes nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vuoro.accounts.models import User
from vuoro.paging import escalation as esc
from vuoro.paging.engine import cancel_page_messages, escalate_due, pages_overdue, record
from vuoro.paging.models import (
    ACTIVE_PAGE_STATUSES,
    AckVia,
    EscalationPolicy,
    FollowUp,
    Page,
    PageEventKind,
    PageStatus,
    UnknownOutcome,
)
from vuoro.tickets.models import ACTIVE_STATUSES, EventKind, Ticket, TicketEvent
from vuoro.webhooks.events import webhook_event

__all__ = [
    "escalate_due",
    "page_acknowledge",
    "page_open",
    "pages_overdue",
    "pages_resolve_for_ticket",
    "policy_check",
    "policy_snapshot",
    "unknown_outcome_follow_up",
]

DIRECT = "direct"
# A page to one person or one schedule repeats this often, this far apart, until acknowledged.
DIRECT_WAIT_MINUTES = 5
DIRECT_REPEATS = 2


def _pure_policy(policy: EscalationPolicy) -> esc.Policy:
    return esc.Policy(
        name=policy.name,
        repeat_count=policy.repeat_count,
        fallback=policy.fallback_user_id,
        steps=tuple(
            esc.Step(targets=(esc.Target(step.target_kind, step.target_id),),
                     wait_minutes=step.wait_minutes)
            for step in policy.steps.all()
            if step.target_id is not None
        ),
    )


def policies_reachable(found: dict[Any, esc.Policy]) -> dict[Any, esc.Policy]:
    """``found`` plus every stored policy it hands over to, directly or further on."""
    found = dict(found)
    waiting = [t.id for p in found.values() for s in p.steps for t in s.targets if t.kind == "policy"]
    while waiting:
        rows = EscalationPolicy.objects.filter(pk__in=[pk for pk in waiting if pk not in found])
        waiting = []
        for row in rows.prefetch_related("steps"):
            found[row.pk] = pure = _pure_policy(row)
            waiting += [t.id for s in pure.steps for t in s.targets if t.kind == "policy"]
    return found


def policy_check(policies: dict[Any, esc.Policy]) -> None:
    """Raise ValidationError naming every policy without steps and every loop of handovers."""
    def name(key: Any) -> str:
        return policies[key].name if key in policies else str(key)

    errors = [_("The escalation policy %(name)s has no steps.") % {"name": name(key)}
              for key in esc.empty_policies(policies)]
    order = {key: i for i, key in enumerate(policies)}
    for loop in esc.handover_loops(policies):
        start = min(range(len(loop)), key=lambda i: order.get(loop[i], len(order)))
        loop = loop[start:] + loop[:start]  # told from the policy being checked
        shown = " → ".join(name(key) for key in [*loop, loop[0]])
        errors.append(_("The policies hand the page over to each other in a loop: %(loop)s. "
                        "Remove one of the handovers.") % {"loop": shown})
    if errors:
        raise ValidationError(errors)


def policy_snapshot(policy: EscalationPolicy) -> dict[str, Any]:
    """The policy and those it hands over to, frozen for a page; refuses what cannot run."""
    policy = EscalationPolicy.objects.prefetch_related("steps").get(pk=policy.pk)
    policies = policies_reachable({policy.pk: _pure_policy(policy)})
    policy_check(policies)
    key = str(policy.pk)
    return {"root": key, "active": key,
            "policies": {str(pk): esc.policy_to_data(p) for pk, p in policies.items()}}


def _direct_snapshot(kind: str, pk: int, name: str) -> dict[str, Any]:
    pure = esc.Policy(name=name, repeat_count=DIRECT_REPEATS, fallback=None,
                      steps=(esc.Step((esc.Target(kind, pk),), DIRECT_WAIT_MINUTES),))
    return {"root": DIRECT, "active": DIRECT, "policies": {DIRECT: esc.policy_to_data(pure)}}


def _coverage_policy(ticket: Ticket) -> EscalationPolicy | None:
    try:
        coverage = ticket.service.coverage
    except ObjectDoesNotExist:
        return None
    return coverage.escalation_policy  # type: ignore[no-any-return]


def _choose(ticket: Ticket, policy: EscalationPolicy | None, user: User | None,
            schedule: Any) -> tuple[EscalationPolicy | None, dict[str, Any]]:
    if user is not None:
        if not (user.is_active and user.uses_desk):
            raise ValidationError(_("Only active service desk people can be paged."))
        return None, _direct_snapshot("user", user.pk, user.display_name())
    if schedule is not None:
        return None, _direct_snapshot("schedule", schedule.pk, str(schedule))
    policy = policy or _coverage_policy(ticket)
    if policy is None:
        raise ValidationError(_("There is nobody to page: the service has no escalation policy. "
                                "Choose a person, a schedule or a policy."))
    return policy, policy_snapshot(policy)


def page_open(*, ticket: Ticket, opened_by: User | None = None, reason: str = "",
              policy: EscalationPolicy | None = None, user: User | None = None,
              schedule: Any = None, now: dt.datetime | None = None) -> Page:
    """Open a page for the ticket, or return the page already active for it.

    Pages ``user``, else whoever is on call in ``schedule``, else ``policy``, else the
    escalation policy of the ticket's service coverage; raises ValidationError when there is
    nobody to page or the policy cannot run. The policy is snapshotted, so later edits do not
    disturb this page. The first step is due at once; the engine fires it (next pager cycle).

    Locks the ticket row, so two concurrent opens make one page (the partial unique constraint
    "one active page per ticket" backs this up). Runs in the caller's transaction if there is
    one. Writes a PageEvent, an internal TicketEvent (kind page) and the out-of-hours "paged"
    figure in the same transaction.
    """
    from vuoro.coverage.services import Fact, ooh_record

    now = now or timezone.now()
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().only("status").get(pk=ticket.pk)
        active = Page.objects.filter(ticket=ticket, status__in=ACTIVE_PAGE_STATUSES).first()
        if active is not None:
            return active
        if locked.status not in ACTIVE_STATUSES:
            raise ValidationError(_("The ticket is resolved or closed; there is nobody to page for it."))
        chosen, snapshot = _choose(ticket, policy, user, schedule)
        page = Page.objects.create(
            ticket=ticket, status=PageStatus.TRIGGERED, reason=reason[:300], policy=chosen,
            snapshot=snapshot, cycle=0, step_index=0, next_escalation_at=now, opened_at=now,
            opened_by=opened_by,
        )
        target = snapshot["policies"][snapshot["root"]]["name"]
        record(page, PageEventKind.OPENED, now, user=opened_by, detail=f"{target}: {reason}"[:500])
        TicketEvent.objects.create(ticket=ticket, actor=opened_by, kind=EventKind.PAGE, field="page",
                                   new_value=PageStatus.TRIGGERED, internal=True, created_at=now)
        ooh_record(ticket_id=ticket.pk, fact=Fact.PAGED, at=now, user=opened_by)
        webhook_event(event="page.opened", ticket=ticket, page=page, now=now)
    return page


def page_acknowledge(*, page: Page, user: User, via: str, now: dt.datetime | None = None) -> Page:
    """Acknowledge a triggered page: escalation stops and pending notifications are cancelled.

    ``via`` is desk, api or link. Desk and API callers must be able to work on the ticket; a
    link caller is the person the signed link was made for. Locks the page row; a page that
    is already acknowledged or resolved is refused with ValidationError and nothing changes.
    Writes a PageEvent, a TicketEvent and the out-of-hours "acknowledged" figure.
    """
    from vuoro.coverage.services import Fact, ooh_record
    from vuoro.tickets import access

    if via not in AckVia.values:
        raise ValidationError({"via": [_("Unknown way of acknowledging.")]})
    if via != AckVia.LINK and not access.can_work_on(user, page.ticket):
        raise PermissionDenied(_("Only the service desk can acknowledge pages."))
    if not user.is_active:
        raise PermissionDenied(_("The account is not active."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = Page.objects.select_for_update().get(pk=page.pk)
        changed = Page.objects.filter(pk=page.pk, status=PageStatus.TRIGGERED).update(
            status=PageStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=user,
            acknowledged_via=via, next_escalation_at=None,
        )
        if not changed:
            if locked.status == PageStatus.ACKNOWLEDGED:
                raise ValidationError(_("This page was already acknowledged."))
            raise ValidationError(_("This page is no longer active."))
        cancel_page_messages(page.pk, reason="acknowledged")
        record(locked, PageEventKind.ACKNOWLEDGED, now, user=user, detail=via)
        TicketEvent.objects.create(ticket_id=locked.ticket_id, actor=user, kind=EventKind.PAGE,
                                   field="page", old_value=PageStatus.TRIGGERED,
                                   new_value=PageStatus.ACKNOWLEDGED, internal=True, created_at=now)
        ooh_record(ticket_id=locked.ticket_id, fact=Fact.ACKNOWLEDGED, at=now, user=user)
        webhook_event(event="page.acknowledged", ticket=locked.ticket, page=Page.objects.get(pk=locked.pk), now=now)
    locked.refresh_from_db()
    return locked


def pages_resolve_for_ticket(*, ticket: Ticket, by: User | None, now: dt.datetime) -> int:
    """Resolve the ticket's active page (called inside the ticket's resolve transaction).

    The cursor is cleared and pending notifications cancelled; returns the pages resolved.
    """
    with transaction.atomic():
        pages = list(Page.objects.select_for_update().filter(
            ticket_id=ticket.pk, status__in=ACTIVE_PAGE_STATUSES))
        for page in pages:
            Page.objects.filter(pk=page.pk).update(status=PageStatus.RESOLVED, resolved_at=now,
                                                   next_escalation_at=None)
            cancel_page_messages(page.pk, reason="resolved")
            record(page, PageEventKind.RESOLVED, now, user=by)
    return len(pages)


def _page_id_of(key: str) -> int | None:
    """The page a message key belongs to (``page-<id>-…``), or None for other messages."""
    head, _sep, rest = key.partition("-")
    number = rest.partition("-")[0]
    return int(number) if head == "page" and number.isdigit() else None


def unknown_outcome_follow_up(*, message: Any, now: dt.datetime) -> UnknownOutcome | None:
    """Act at once on a page notification whose outcome has just become unknown.

    Call it in the transaction that marks ``message`` unknown (the sender's settle or the
    watchdog). The person's other notifications of the same step (their rules, in rule order)
    are looked at: the first still waiting on another contact method is made due now
    (``next_method``); else, if one on another method was already sent or is being sent, the
    person is being reached (``reached``); else the page's next step is brought forward to now
    (``step_forward``). A page no longer triggered needs nothing (``inactive``). Records an
    ``UnknownOutcome`` and a ``PageEvent`` with the reason; None for messages of no page, and
    nothing new when the message already has its record.
    """
    from vuoro.notify.models import MessageStatus, OutboundMessage

    page_id = _page_id_of(message.key)
    page = Page.objects.filter(pk=page_id).first() if page_id is not None else None
    if page is None or UnknownOutcome.objects.filter(message_id=message.pk).exists():
        return None
    prefix = message.key.rpartition(":")[0] + ":"
    others = [m for m in OutboundMessage.objects.filter(key__startswith=prefix).exclude(pk=message.pk)
              .order_by("id") if (m.kind, m.address) != (message.kind, message.address)]
    waiting = next((m for m in others if m.status == MessageStatus.PENDING), None)
    reached = next((m for m in others if m.status in (MessageStatus.SENT, MessageStatus.SENDING)), None)
    moved_to = None
    if page.status != PageStatus.TRIGGERED:
        follow_up = FollowUp.INACTIVE
    elif waiting is not None and OutboundMessage.objects.filter(
            pk=waiting.pk, status=MessageStatus.PENDING).update(next_attempt_at=now):
        follow_up, moved_to = FollowUp.NEXT_METHOD, waiting
    elif reached is not None:
        follow_up, moved_to = FollowUp.REACHED, reached
    else:
        follow_up = FollowUp.STEP_FORWARD
        Page.objects.filter(pk=page.pk, status=PageStatus.TRIGGERED,
                            next_escalation_at__gt=now).update(next_escalation_at=now)
    reason = (message.last_error or "")[:300]
    outcome = UnknownOutcome.objects.create(page=page, message=message, follow_up=follow_up,
                                            moved_to=moved_to, reason=reason, at=now)
    target = f" -> {moved_to.kind} {moved_to.address}" if moved_to is not None else ""
    record(page, PageEventKind.UNKNOWN_OUTCOME, now, user=message.user,
           detail=f"{message.kind} {message.address}{target} ({follow_up}): {reason}")
    return outcome
