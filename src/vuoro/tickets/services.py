"""Writes on tickets. Every channel (portal, desk, API, later email and phone) calls these.

Each service runs in one transaction, locks the rows it changes and writes the history row in
that same transaction, so a crash leaves either the whole change or none of it.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from vuoro.accounts.models import DESK_ROLES, STAFF_ROLES, AssignmentStrategy, Team, User
from vuoro.catalog.forms import validate_answers
from vuoro.catalog.models import Category, RoutingRule, Service
from vuoro.core import config_cache
from vuoro.core import events as domain_events
from vuoro.core.sanitize import body_to_html
from vuoro.tickets import access, priority, turns
from vuoro.tickets.attachments import CheckedUpload, check_ticket_quota
from vuoro.tickets.models import (
    ACTIVE_STATUSES,
    TRANSITIONS,
    Attachment,
    Channel,
    EventKind,
    Message,
    PriorityMatrixCell,
    Status,
    Ticket,
    TicketEvent,
)
from vuoro.tickets.selectors import attachment_bytes_used

# The domain events the ticket services publish (vuoro.core.events); the apps that react to a
# ticket subscribe to them in their AppConfig.ready, so this module imports none of them.
TICKET_CREATED = "ticket.created"
TICKET_CHANGED = "ticket.changed"  # payload: changed fields, previous status and priority
TICKET_RESOLVED = "ticket.resolved"
MESSAGE_ADDED = "message.added"  # payload: message_id, previous status, first response
ATTACHMENT_DOWNLOADED = "attachment.downloaded"  # inline; payload: attachment_id, ip

SUBJECT_MAX = 200
DESCRIPTION_MAX = 100_000


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    created: bool  # False when an Idempotency-Key matched an earlier request


def _next_reference(now: datetime) -> str:
    """The year's next ticket number (``tickets.turns``: no row held until commit)."""
    year = now.astimezone(timezone.get_default_timezone()).year
    return f"{settings.VUORO_TICKET_PREFIX}-{year}-{turns.reference_number(year):06d}"


def priority_matrix() -> dict[tuple[str, str], str]:
    """The impact × urgency grid as configured (cached per process, see core.config_cache)."""
    return config_cache.cached("tickets.priority_matrix", lambda: {
        (c.impact, c.urgency): c.priority for c in PriorityMatrixCell.objects.all()})


def _routing(service_id: int) -> tuple[list[tuple[int | None, Team]], Team | None]:
    """The service's routing rules, most specific first, and its default team (cached)."""
    def compute() -> tuple[list[tuple[int | None, Team]], Team | None]:
        rules = RoutingRule.objects.filter(service_id=service_id).select_related("team")
        ordered = sorted(rules, key=lambda r: (r.category_id is None, r.order, r.id))
        service = Service.objects.select_related("default_team").get(pk=service_id)
        return [(r.category_id, r.team) for r in ordered], service.default_team

    return config_cache.cached(("tickets.routing", service_id), compute)


def route_team(service: Service, category: Category | None) -> Team | None:
    """The most specific routing rule's team, else the service's default team."""
    rules, default_team = _routing(service.pk)
    category_id = category.pk if category is not None else None
    for rule_category, team in rules:
        if rule_category is None or rule_category == category_id:
            return team
    return default_team


def _members(team_id: int) -> list[User]:
    """The team's active desk members by id (cached; a change of team or role clears it)."""
    return config_cache.cached(("tickets.members", team_id), lambda: list(
        User.objects.filter(teams=team_id, is_active=True, role__in=DESK_ROLES).order_by("id")))


def pick_assignee(team: Team | None) -> User | None:
    """Automatic assignment within a team, without a row held until commit.

    Round robin takes the team's next turn number (``tickets.turns``: a PostgreSQL sequence per
    team, or one short counter update on SQLite, where writers take turns anyway); least open
    counts open tickets through the (assignee, status, created) index. Two concurrent intakes
    may then both find the same person least loaded; turns are never taken twice.
    """
    if team is None or team.assignment_strategy == AssignmentStrategy.MANUAL:
        return None
    members = _members(team.pk)
    if not members:
        return None
    if team.assignment_strategy == AssignmentStrategy.LEAST_OPEN:
        load = dict(
            Ticket.objects.filter(assignee__in=members, status__in=ACTIVE_STATUSES)
            .values_list("assignee_id").annotate(n=Count("id")).order_by()
        )
        return min(members, key=lambda m: (load.get(m.id, 0), m.id))
    return members[turns.team_turn(team.pk) % len(members)]


def _record(ticket: Ticket, actor: User | None, kind: str, field: str = "", old: Any = "",
            new: Any = "", internal: bool = False, at=None) -> TicketEvent:  # type: ignore[no-untyped-def]
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        field=field,
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
        internal=internal,
        created_at=at or timezone.now(),
    )


def _shown(value: Any) -> str:
    """How a related row is written in the history: a person by name, not user name."""
    if value is None:
        return ""
    return value.display_name() if isinstance(value, User) else str(value)


def _store_attachments(ticket: Ticket, message: Message | None, actor: User | None,
                       uploads: list[CheckedUpload], internal: bool, now) -> list[Attachment]:  # type: ignore[no-untyped-def]
    """Store checked files; refused (``ValidationError``, nothing stored) past the ticket's quota."""
    if uploads:
        check_ticket_quota(attachment_bytes_used(ticket), uploads)
    stored = []
    for item in uploads:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            uploaded_by=actor,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            internal=internal,
            created_at=now,
        )
        attachment.file.save(item.filename, item.upload, save=False)
        attachment.save()
        _record(ticket, actor, EventKind.ATTACHED, "attachment", "", item.filename, internal, now)
        stored.append(attachment)
    return stored


def _offered_to(service: Service, organisation_id: int) -> bool:
    """A service offered to no organisation in particular is offered to all (cached)."""
    offered = config_cache.cached(("tickets.offered", service.pk), lambda: frozenset(
        service.organisations.values_list("pk", flat=True)))
    return not offered or organisation_id in offered


def check_intake(*, requester: User, service: Service, category: Category | None, subject: str,
                 description: str, stops_work: str, affected: str,
                 form_answers: dict[str, Any]) -> dict[str, Any]:
    """Validate a new request; raises ValidationError with one message per field."""
    errors: dict[str, list[str]] = {}
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = [_("Give the request a subject.")]
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = [_("The subject may be at most %(n)d characters.") % {"n": SUBJECT_MAX}]
    if len(description or "") > DESCRIPTION_MAX:
        errors["description"] = [_("The description is too long.")]
    if not service.active:
        errors["service"] = [_("This service does not take new requests.")]
    elif requester.organisation_id and not _offered_to(service, requester.organisation_id):
        errors["service"] = [_("This service is not offered to your organisation.")]
    if category is not None and (category.service_id != service.pk or not category.active):
        errors["category"] = [_("Choose a category of the chosen service.")]
    try:
        priority.urgency_from_answer(stops_work)
    except ValueError:
        errors["stops_work"] = [_("Tell us whether this stops your work.")]
    try:
        priority.impact_from_answer(affected)
    except ValueError:
        errors["affected"] = [_("Tell us how many people are affected.")]
    cleaned: dict[str, Any] = {}
    if category is not None and "category" not in errors:
        try:
            cleaned = validate_answers(category, form_answers or {})
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors[f"form_answers.{key}" if key != "form_answers" else key] = messages
    elif form_answers:
        errors["form_answers"] = [_("Form answers need a category.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def ticket_create(*, actor: User | None, requester: User, service: Service,
                  category: Category | None, subject: str, description: str = "",
                  stops_work: str, affected: str, channel: str,
                  form_answers: dict[str, Any] | None = None,
                  attachments: list[CheckedUpload] | None = None,
                  idempotency_key: str | None = None, team: Team | None = None) -> IntakeResult:
    """The one intake: validate, number, prioritise, route, assign and store a request.

    ``team`` is a channel's own team (a mailbox's); without it the service's routing decides.

    Locks the year's reference counter and, for automatic assignment, the team row.
    Idempotent per (creator, ``idempotency_key``): a repeat returns the first ticket, enforced
    by a unique constraint rather than a look-up, so two concurrent repeats make one ticket.
    """
    creator = actor or requester
    if idempotency_key:
        earlier = Ticket.objects.filter(created_by=creator, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return IntakeResult(earlier, False)
    cleaned = check_intake(
        requester=requester, service=service, category=category, subject=subject,
        description=description, stops_work=stops_work, affected=affected,
        form_answers=form_answers or {},
    )
    urgency = priority.urgency_from_answer(stops_work)
    impact = priority.impact_from_answer(affected)
    try:
        with transaction.atomic():
            now = timezone.now()
            team = team or route_team(service, category)
            assignee = pick_assignee(team)
            ticket_priority = priority.priority_for(impact, urgency, priority_matrix())
            # The reference counter is taken last, so its row lock is held only for the insert.
            ticket = Ticket.objects.create(
                reference=_next_reference(now),
                requester=requester,
                # The requester's organisation row when already loaded (an API token's user):
                # the answer then names it without another query.
                **({"organisation": requester.organisation}
                   if "organisation" in requester._state.fields_cache
                   else {"organisation_id": requester.organisation_id}),
                service=service,
                category=category,
                subject=subject.strip(),
                description=body_to_html(description or ""),
                form_answers=cleaned,
                status=Status.NEW,
                stops_work=stops_work,
                affected=affected,
                impact=impact.value,
                urgency=urgency.value,
                priority=ticket_priority,
                team=team,
                assignee=assignee,
                channel=channel,
                created_by=creator,
                idempotency_key=idempotency_key or None,
                created_at=now,
                updated_at=now,
            )
            events = [TicketEvent(ticket=ticket, actor=creator, kind=EventKind.CREATED, created_at=now)]
            if assignee is not None:
                events.append(TicketEvent(ticket=ticket, kind=EventKind.CHANGED, field="assignee",
                                          new_value=_shown(assignee), internal=True, created_at=now))
            TicketEvent.objects.bulk_create(events)
            _store_attachments(ticket, None, creator, attachments or [], False, now)
            domain_events.publish(TICKET_CREATED, at=now, ticket_id=ticket.pk, subject=ticket,
                           actor=creator, actor_id=creator.pk)
    except IntegrityError:
        if idempotency_key:
            earlier = Ticket.objects.filter(created_by=creator, idempotency_key=idempotency_key).first()
            if earlier is not None:
                return IntakeResult(earlier, False)
        raise
    return IntakeResult(ticket, True)


def message_add(*, actor: User, ticket: Ticket, body: str, internal: bool = False,
                channel: str = Channel.DESK,
                attachments: list[CheckedUpload] | None = None) -> Message:
    """Add a public reply or an internal note.

    A requester's reply reopens a resolved ticket within the reopen window and moves a ticket
    waiting for the requester back to open. The first public reply by desk staff stamps the
    first response. Locks the ticket row.
    """
    if internal and not access.can_work_on(actor, ticket):
        raise PermissionDenied(_("Only the service desk can write internal notes."))
    if not access.can_reply(actor, ticket):
        raise PermissionDenied(_("You cannot reply to this ticket."))
    text = (body or "").strip()
    if not text and not attachments:
        raise ValidationError({"body": [_("Write a message.")]})
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError({"body": [_("The message is too long.")]})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        now = timezone.now()
        if ticket.status == Status.CLOSED and not actor.uses_desk:
            raise ValidationError({"body": [_("This request is closed. Please make a new request.")]})
        previous_status = ticket.status
        message = Message.objects.create(
            ticket=ticket, author=actor, body=body_to_html(text) if text else "",
            internal=internal, channel=channel, created_at=now,
        )
        _record(ticket, actor, EventKind.NOTED if internal else EventKind.REPLIED, internal=internal, at=now)
        _store_attachments(ticket, message, actor, attachments or [], internal, now)
        changed = ["updated_at"]
        is_requester_side = not actor.uses_desk
        if is_requester_side:
            window = timedelta(days=settings.VUORO_REOPEN_WINDOW_DAYS)
            if ticket.status == Status.RESOLVED and ticket.resolved_at and now - ticket.resolved_at <= window:
                _record(ticket, actor, EventKind.REOPENED, "status", ticket.status, Status.OPEN, at=now)
                ticket.status = Status.OPEN
                ticket.resolved_at = None
                changed += ["status", "resolved_at"]
            elif ticket.status == Status.WAITING:
                _record(ticket, actor, EventKind.CHANGED, "status", ticket.status, Status.OPEN, at=now)
                ticket.status = Status.OPEN
                changed.append("status")
        elif not internal and ticket.first_response_at is None:
            ticket.first_response_at = now
            changed.append("first_response_at")
        ticket.updated_at = now
        ticket.save(update_fields=changed)
        domain_events.publish(MESSAGE_ADDED, at=now, ticket_id=ticket.pk, subject=ticket, actor=actor,
                       actor_id=actor.pk, message_id=message.pk, previous_status=previous_status,
                       previous_priority=ticket.priority,
                       first_response="first_response_at" in changed)
    return message


CHANGEABLE = ("status", "priority", "impact", "urgency", "service", "category", "team", "assignee")
RELATIONS = ("service", "category", "team", "assignee")


def _relation_error(field: str, value: Any) -> str | None:
    """Why ``value`` cannot be set as the ticket's ``field``, if it cannot."""
    if field == "assignee" and value is not None and (not value.uses_desk or not value.is_active):
        return _("This person cannot be assigned tickets.")
    if field == "service" and (value is None or not value.active):
        return _("Choose an active service.")
    if field == "category" and value is not None and not value.active:
        return _("Choose an active category.")
    return None


def _keep_category_in_service(ticket: Ticket, actor: User, changes: dict[str, Any],
                              changed: list[str], now) -> str | None:  # type: ignore[no-untyped-def]
    """A new service drops a category of the old one; a category must belong to the service."""
    if ticket.category_id is None or ticket.category.service_id == ticket.service_id:
        return None
    if "category" in changes:
        return _("Choose a category of the ticket's service.")
    _record(ticket, actor, EventKind.CHANGED, "category", _shown(ticket.category), "", False, now)
    ticket.category = None
    changed.append("category")
    return None


def ticket_change(*, actor: User, ticket: Ticket, **changes: Any) -> list[str]:
    """Change status, priority, impact, urgency, service, category, team or assignee; returns
    the fields changed (a new service drops a category that belongs to the old one).

    Refuses a status the workflow does not allow from the current one and an assignee who
    cannot work on tickets. Locks the ticket row; one history row per changed field.
    """
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValidationError({k: [_("This field cannot be changed.")] for k in unknown})
    if not access.can_work_on(actor, ticket):
        raise PermissionDenied(_("You cannot change this ticket."))
    errors: dict[str, list[str]] = {}
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        refused = access.partner_change_refusals(actor, ticket, changes)
        if refused:
            raise ValidationError(refused)
        now = timezone.now()
        previous_status, previous_priority = ticket.status, ticket.priority
        changed: list[str] = []
        history: dict[str, int] = {}  # field → its history row, for the reactions
        for field, value in changes.items():
            old = getattr(ticket, field)
            if field in RELATIONS:
                if getattr(ticket, f"{field}_id") == (value.pk if value is not None else None):
                    continue
                problem = _relation_error(field, value)
                if problem:
                    errors[field] = [problem]
                    continue
                setattr(ticket, field, value)
                internal = field in ("team", "assignee")
                row = _record(ticket, actor, EventKind.CHANGED, field, _shown(old), _shown(value), internal, now)
                history[field] = row.pk
                changed.append(field)
                continue
            if value == old:
                continue
            if field == "status":
                if value not in TRANSITIONS.get(old, frozenset()):
                    errors["status"] = [_("A ticket cannot move from %(old)s to %(new)s.") % {
                        "old": Status(old).label, "new": Status(value).label if value in Status.values else value}]
                    continue
                if value == Status.RESOLVED:
                    ticket.resolved_at = now
                    changed.append("resolved_at")
                elif value == Status.CLOSED:
                    ticket.closed_at = now
                    changed.append("closed_at")
                elif old in (Status.RESOLVED, Status.CLOSED):
                    ticket.resolved_at = None
                    ticket.closed_at = None
                    changed += ["resolved_at", "closed_at"]
            setattr(ticket, field, value)
            kind = EventKind.REOPENED if field == "status" and old in (Status.RESOLVED, Status.CLOSED) else EventKind.CHANGED
            history[field] = _record(ticket, actor, kind, field, old, value, False, now).pk
            changed.append(field)
        category_problem = _keep_category_in_service(ticket, actor, changes, changed, now)
        if category_problem:
            errors["category"] = [category_problem]
        if errors:
            raise ValidationError(errors)
        if ("impact" in changes or "urgency" in changes) and "priority" not in changes:
            new_priority = priority.priority_for(ticket.impact, ticket.urgency, priority_matrix())
            if new_priority != ticket.priority:
                _record(ticket, actor, EventKind.CHANGED, "priority", ticket.priority, new_priority, False, now)
                ticket.priority = new_priority
                changed.append("priority")
        if changed:
            ticket.updated_at = now
            ticket.save(update_fields=sorted(set(changed) | {"updated_at"}))
            domain_events.publish(
                TICKET_CHANGED, at=now, ticket_id=ticket.pk, subject=ticket, actor=actor,
                actor_id=actor.pk, changed=sorted(set(changed)), status=ticket.status,
                previous_status=previous_status, previous_priority=previous_priority,
                service_changed="service" in changed, history=history)
            if ticket.status == Status.RESOLVED and previous_status != Status.RESOLVED:
                domain_events.publish(TICKET_RESOLVED, at=now, ticket_id=ticket.pk, subject=ticket,
                               actor=actor, actor_id=actor.pk)
    return [c for c in changed if c in CHANGEABLE]


def tickets_bulk_change(*, actor: User, tickets: list[Ticket], **changes: Any) -> dict[str, list[str]]:
    """Apply one change to many tickets; each ticket in its own transaction.

    Returns reference → error messages for the tickets that refused the change.
    """
    failures: dict[str, list[str]] = {}
    for ticket in tickets:
        try:
            ticket_change(actor=actor, ticket=ticket, **changes)
        except ValidationError as exc:
            failures[ticket.reference] = exc.messages
        except PermissionDenied as exc:
            failures[ticket.reference] = [str(exc)]
    return failures


def tracking_links_revoke(*, actor: User, ticket: Ticket) -> None:
    """Stop every tracking link sent for ``ticket`` at once (a mail forwarded to the wrong person).

    Only desk staff who may work on the ticket may; a partner may not. The ticket gets a new
    random ``tracking_id``, so the next mail to the requester carries the only working link.
    Written in the ticket's history as an internal event.
    """
    if actor.role not in STAFF_ROLES or not access.can_work_on(actor, ticket):
        raise PermissionDenied(_("You may not revoke this ticket's tracking links."))
    with transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(tracking_id=uuid.uuid4())
        _record(ticket, actor, EventKind.CHANGED, "tracking_link", new="revoked", internal=True)


def attachment_add(*, actor: User, ticket: Ticket, uploads: list[CheckedUpload],
                   internal: bool = False) -> list[Attachment]:
    """Attach already checked files to a ticket without a message.

    Whoever may reply may attach; internal attachments are for those who work on the ticket.
    Locks the ticket row, writes one history row per file and touches ``updated_at``.
    """
    if internal and not access.can_work_on(actor, ticket):
        raise PermissionDenied(_("Only the service desk can add internal attachments."))
    if not access.can_reply(actor, ticket):
        raise PermissionDenied(_("You cannot add attachments to this ticket."))
    if not uploads:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status == Status.CLOSED and not actor.uses_desk:
            raise ValidationError({"files": [_("This request is closed. Please make a new request.")]})
        now = timezone.now()
        stored = _store_attachments(ticket, None, actor, uploads, internal, now)
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
    return stored


def attachment_downloaded(*, user: User, attachment: Attachment, ip: str | None = None,
                          now: datetime | None = None) -> None:
    """Say that ``user`` downloaded ``attachment``; call after the access check passed.

    The apps that audit reads (the partner access log) subscribe inline, so their record is
    written before the file is served; a failing record fails the download.
    """
    domain_events.publish(ATTACHMENT_DOWNLOADED, at=now or timezone.now(),
                          ticket_id=attachment.ticket_id, subject=attachment, actor=user,
                          attachment_id=attachment.pk, ip=ip)
