"""Receiving one email: deduplicate, drop loops, thread a reply or open a request.

``email_receive`` is the only way inbound mail reaches tickets; it goes through
``tickets.services.ticket_create`` and ``message_add`` like every other channel. Everything it
writes (the InboundEmail row, a contact, the ticket or reply) is in one transaction: a crash
leaves nothing or everything. Every call leaves exactly one InboundEmail row per Message-ID.
"""

import datetime as dt
import hashlib
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.accounts.selectors import organisation_for_email
from vuoro.channels.models import (
    RAW_STORE_LIMIT,
    EmailBounce,
    InboundEmail,
    Mailbox,
    Outcome,
    UnknownSenders,
)
from vuoro.channels.parse import (
    ParsedEmail,
    html_to_text,
    loop_kind,
    marked_urgent,
    parse,
    split_quoted,
    thread_hint,
)
from vuoro.core.sanitize import clean_html, text_to_html
from vuoro.notify.mail_thread import answers_to
from vuoro.notify.models import OutboundEmail
from vuoro.tickets import access
from vuoro.tickets.attachments import CheckedUpload, check_upload
from vuoro.tickets.models import Channel, Status, Ticket
from vuoro.tickets.priority import Affected, StopsWork
from vuoro.tickets.services import DESCRIPTION_MAX, SUBJECT_MAX, message_add, ticket_create

RATE_LIMIT = 20  # messages per sender in RATE_WINDOW, unless VUORO_EMAIL_RATE_LIMIT says otherwise
RATE_WINDOW = dt.timedelta(minutes=10)
# Outbox keys of mail about a ticket (to its requester or to desk staff) start with its id.
# An HTML mail's head (title, styles) is no part of what the sender wrote.
HEAD_RE = re.compile(r"(?is)<head\b.*?</head\s*>")
OUTBOX_KEY_RE = re.compile(r"^(?:requester|agent)-(\d+)-")


def email_receive(*, raw: bytes, mailbox: Mailbox | None, now: dt.datetime | None = None) -> InboundEmail:
    """Receive one raw message; returns its InboundEmail row.

    A Message-ID seen before returns the earlier row with ``outcome`` set to duplicate in memory
    only; nothing is written. The unique constraint decides, so two concurrent deliveries of the
    same message make one row.
    """
    now = now or timezone.now()
    parsed = parse(raw)
    existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
    if existing is not None:
        return _as_duplicate(existing)
    try:
        with transaction.atomic():
            row = InboundEmail.objects.create(
                mailbox=mailbox, message_id=parsed.message_id, received_at=now,
                sender=parsed.sender[:320], subject=parsed.subject[:500], outcome=Outcome.REJECTED,
                size=len(raw), raw=raw if len(raw) <= RAW_STORE_LIMIT else b"",
            )
            _decide(row, parsed, mailbox, now)
            row.save(update_fields=["outcome", "reason", "ticket", "ticket_message"])
    except IntegrityError:
        existing = InboundEmail.objects.filter(message_id=parsed.message_id).first()
        if existing is None:
            raise
        return _as_duplicate(existing)
    return row


def email_receive_again(*, row: InboundEmail, now: dt.datetime | None = None) -> InboundEmail:
    """File a refused message again from its stored copy, once its cause is mended (a contact
    created for an unknown sender, a service given to the mailbox, a rate limit passed).

    Only refused messages are taken; any other row comes back unchanged, so two operators
    pressing at once file it once (the row is locked). ValidationError when the message was
    too large to keep a copy of: the sender must send it again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Only the row is locked: PostgreSQL cannot lock the nullable side of an outer join.
        locked = InboundEmail.objects.select_for_update(of=("self",)) \
            .select_related("mailbox__service", "mailbox__team").get(pk=row.pk)
        if locked.outcome != Outcome.REJECTED:
            return locked
        raw = bytes(locked.raw or b"")
        if not raw:
            raise ValidationError(_("No copy of this message was kept (it was too large); ask the "
                                    "sender to send it again."))
        locked.reason = ""
        _decide(locked, parse(raw), locked.mailbox, now)
        locked.save(update_fields=["outcome", "reason", "ticket", "ticket_message"])
    return locked


def _as_duplicate(row: InboundEmail) -> InboundEmail:
    row.outcome = Outcome.DUPLICATE
    row.reason = _("This message was received before.")
    return row


def _decide(row: InboundEmail, parsed: ParsedEmail, mailbox: Mailbox | None, now: dt.datetime) -> None:
    """Fill the row's outcome; writes the ticket or reply in the caller's transaction."""
    ours = tuple(a.lower() for a in Mailbox.objects.values_list("address", flat=True))
    kind = loop_kind(parsed, our_loop=getattr(settings, "VUORO_X_LOOP", "vuoro"),
                     our_addresses=(*ours, settings.DEFAULT_FROM_EMAIL.lower()))
    if kind:
        row.outcome, row.reason = Outcome.IGNORED_LOOP, _("Automatic mail (%(kind)s).") % {"kind": kind}
        if kind == "bounce" and parsed.bounces:
            row.reason += " " + _("Delivery failed to: %(addresses)s") % {
                "addresses": ", ".join(bounces_record(row, parsed, now))}
        return
    if not parsed.sender or "@" not in parsed.sender:
        row.reason = _("The message has no sender address.")
        return
    recent = InboundEmail.objects.filter(sender=row.sender, received_at__gt=now - RATE_WINDOW,
                                         received_at__lte=now).exclude(pk=row.pk).count()
    if recent >= getattr(settings, "VUORO_EMAIL_RATE_LIMIT", RATE_LIMIT):
        row.reason = _("Too many messages from this address in a short time; the message was not filed.")
        return
    user = _sender_user(parsed, mailbox)
    if user is None:
        row.reason = _("The sender is not known and this mailbox does not accept unknown senders.")
        return
    try:
        _reply_or_create(row, parsed, mailbox, user)
    except (ValidationError, PermissionDenied) as exc:
        row.outcome = Outcome.REJECTED
        row.reason = "; ".join(getattr(exc, "messages", None) or [str(exc)])


def bounces_record(row: InboundEmail, parsed: ParsedEmail, now: dt.datetime) -> list[str]:
    """Store each failed recipient of a delivery report on the contact with that address."""
    users = {bounce.address: User.objects.filter(email__iexact=bounce.address).order_by("pk").first()
             for bounce in parsed.bounces}
    EmailBounce.objects.bulk_create([
        EmailBounce(inbound=row, address=bounce.address, user=users.get(bounce.address),
                    status=bounce.status, permanent=not bounce.status.startswith("4"),
                    diagnostic=bounce.diagnostic, at=now)
        for bounce in parsed.bounces
    ], ignore_conflicts=True)
    return [bounce.address for bounce in parsed.bounces]


def _sender_user(parsed: ParsedEmail, mailbox: Mailbox | None) -> User | None:
    """The active user with the sender's address; a new requester contact if the mailbox allows."""
    user = User.objects.filter(email__iexact=parsed.sender, is_active=True).order_by("pk").first()
    if user is not None:
        return user
    if mailbox is None or mailbox.unknown_senders != UnknownSenders.CREATE_CONTACT:
        return None
    if User.objects.filter(email__iexact=parsed.sender).exists():
        return None  # a deactivated person stays deactivated
    contact = User(username="mail-" + hashlib.sha256(parsed.sender.encode()).hexdigest()[:20],
                   email=parsed.sender, role=Role.REQUESTER,
                   organisation=organisation_for_email(parsed.sender),
                   first_name=(parsed.sender_name or "")[:150])
    contact.set_unusable_password()
    contact.save()
    return contact


def _thread_ticket(parsed: ParsedEmail) -> Ticket | None:
    """The ticket the message answers: our mail it names, mail we received, the subject's reference."""
    hint = thread_hint(parsed)
    keys = OutboundEmail.objects.filter(pk__in=hint.outbound_ids).values_list("pk", "key")
    by_pk = dict(keys)
    for pk in hint.outbound_ids:
        match = OUTBOX_KEY_RE.match(by_pk.get(pk, ""))
        if match:
            ticket = Ticket.objects.filter(pk=int(match.group(1))).first()
            if ticket is not None:
                return ticket
    if hint.message_ids:
        # A reply-all to the request (or to another reply) names the mail we received.
        received = dict(InboundEmail.objects.filter(message_id__in=hint.message_ids, ticket__isnull=False)
                        .values_list("message_id", "ticket_id"))
        for message_id in hint.message_ids:
            if message_id in received:
                return Ticket.objects.filter(pk=received[message_id]).first()
    if hint.reference:
        return Ticket.objects.filter(reference=hint.reference).first()
    return None


def _reply_or_create(row: InboundEmail, parsed: ParsedEmail, mailbox: Mailbox | None, user: User) -> None:
    text, quoted = split_quoted(parsed.text)
    uploads, refused = _attachments(parsed)
    target = _thread_ticket(parsed)
    allowed = target is not None and access.can_reply(user, target)
    if allowed and target is not None and target.status != Status.CLOSED:
        message = message_add(actor=user, ticket=target, body=folded_reply(text, quoted),
                              channel=Channel.EMAIL, attachments=uploads)
        row.outcome, row.ticket, row.ticket_message = Outcome.REPLY_ADDED, target, message
        row.reason = refused
        return
    if mailbox is None or mailbox.service is None:
        row.reason = _("The mailbox has no service for new requests.")
        return
    subject = (parsed.subject or _("(no subject)")).strip()[:SUBJECT_MAX]
    note = _("Follows up the closed request %(reference)s.") % {"reference": target.reference} if allowed and target is not None else ""
    description = request_body(parsed, note=note)
    with answers_to(mailbox.address):
        result = ticket_create(actor=user, requester=user, service=mailbox.service, category=None,
                               subject=subject, description=description[:DESCRIPTION_MAX],
                               stops_work=_stops_work(parsed, mailbox, user), affected=Affected.ME.value,
                               channel=Channel.EMAIL, attachments=uploads, team=mailbox.team)
    row.outcome, row.ticket = Outcome.TICKET_CREATED, result.ticket
    notes = [refused] if refused else []
    if allowed:
        notes.insert(0, _("The referenced ticket is closed; a new request was made."))
    elif target is not None:
        notes.insert(0, _("The sender may not reply to the referenced ticket; a new request was made."))
    row.reason = " ".join(notes)


def _stops_work(parsed: ParsedEmail, mailbox: Mailbox, sender: User) -> str:
    """The triage answer for mail: the mailbox's, raised to "yes" for urgent mail if it trusts
    that and the sender is a known customer (an organisation's, or with an account): a stranger
    marking mail urgent must not wake anyone at night."""
    known = sender.organisation_id is not None or sender.has_usable_password()
    if mailbox.trust_importance and known and marked_urgent(parsed):
        return StopsWork.YES.value
    return mailbox.stops_work or StopsWork.NO.value


def request_body(parsed: ParsedEmail, *, note: str = "") -> str:
    """A new request's description: all the sender wrote (a forwarded message is the request
    itself), as sanitised HTML when the mail has HTML, so tables, lists and links survive;
    the text version when there is none or the HTML is too long to store."""
    lead = text_to_html(note) if note else ""
    if parsed.html.strip():
        cleaned = clean_html(HEAD_RE.sub("", parsed.html)).strip()
        if cleaned and not cleaned.startswith("<"):
            # Mail clients wrap text in <div>s, which are dropped: the intake must still see HTML.
            cleaned = f"<p>{cleaned}</p>"
        if cleaned and len(lead) + len(cleaned) <= DESCRIPTION_MAX and html_to_text(cleaned):
            return lead + cleaned
    text = parsed.text.strip()
    return f"{note}\n\n{text}" if note else text


def folded_reply(text: str, quoted: str) -> str:
    """The reply as HTML, the quoted history below it folded away (shown on request)."""
    if not quoted:
        return text[:DESCRIPTION_MAX]
    summary = _("Quoted text")  # outside the f-string, where xgettext finds it
    folded = (f"<details><summary>{escape(summary)}</summary>"
              f"<blockquote>{text_to_html(quoted)}</blockquote></details>")
    reply = text_to_html(text)
    if len(reply) + len(folded) > DESCRIPTION_MAX:
        return text[:DESCRIPTION_MAX]  # a history that does not fit is left out, the reply kept
    return reply + folded


def _attachments(parsed: ParsedEmail) -> tuple[list[CheckedUpload], str]:
    """Attachments the ticket rules allow, and a note naming the ones refused."""
    checked: list[CheckedUpload] = []
    refused: list[str] = []
    for item in parsed.attachments:
        upload = SimpleUploadedFile(item.filename[:200] or "attachment", item.content, item.content_type)
        try:
            checked.append(check_upload(upload))
        except ValidationError:
            refused.append(item.filename)
    note = _("Attachments not accepted: %(names)s") % {"names": ", ".join(refused)} if refused else ""
    return checked, note
