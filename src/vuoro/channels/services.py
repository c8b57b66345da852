"""Receiving one email: deduplicate, drop loops, thread a reply or open a request.

``email_receive`` is the only way inbound mail reaches tickets; it goes through
``tickets.services.ticket_create`` and ``message_add`` like every other channel. Everything it
writes (the InboundEmail row, a contact, the ticket or reply) is in one transaction: a crash
leaves nothing or everything. Every call leaves exactly one InboundEmail row per message (its
Message-ID and content): a message breaking a limit (``email_limits``) is refused on its row
without being parsed, and a different message reusing a Message-ID gets its own, flagged row.
Inside the transaction nothing is scanned in proportion to the message: threading reads at most
``parse.THREAD_IDS`` ids and looks them up by index.
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
from vuoro.channels.bounds import Limits, Refusal, fingerprint
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
    drop_blocks,
    html_to_text,
    loop_kind,
    marked_urgent,
    parse,
    split_quoted,
    thread_hint,
)
from vuoro.core import config_cache
from vuoro.core.sanitize import clean_html, text_to_html
from vuoro.notify.mail_thread import answers_to
from vuoro.notify.models import OutboundEmail
from vuoro.tickets import access
from vuoro.tickets.attachments import CheckedUpload, check_upload, split_by_quota
from vuoro.tickets.models import Channel, Status, Ticket
from vuoro.tickets.priority import Affected, StopsWork
from vuoro.tickets.selectors import attachment_bytes_used
from vuoro.tickets.services import DESCRIPTION_MAX, SUBJECT_MAX, message_add, ticket_create

SEEN_LOOK = 8  # rows under one Message-ID read at once; more are looked up by fingerprint
RATE_LIMIT = 20  # messages per sender in RATE_WINDOW, unless VUORO_EMAIL_RATE_LIMIT says otherwise
RATE_WINDOW = dt.timedelta(minutes=10)
# Outbox keys of mail about a ticket (to its requester or to desk staff) start with its id.
OUTBOX_KEY_RE = re.compile(r"^(?:requester|agent)-(\d+)-")


LIMIT_SETTINGS = {
    "header_bytes": "VUORO_EMAIL_MAX_HEADER_BYTES",
    "headers": "VUORO_EMAIL_MAX_HEADERS",
    "header_field_bytes": "VUORO_EMAIL_MAX_HEADER_FIELD_BYTES",
    "encoded_words": "VUORO_EMAIL_MAX_ENCODED_WORDS",
    "thread_ids": "VUORO_EMAIL_MAX_THREAD_IDS",
    "depth": "VUORO_EMAIL_MAX_DEPTH",
    "parts": "VUORO_EMAIL_MAX_PARTS",
    "attachments": "VUORO_EMAIL_MAX_ATTACHMENTS",
    "attachment_bytes": "VUORO_EMAIL_MAX_ATTACHMENT_BYTES",
}


def email_limits() -> Limits:
    """The limits on one received message: the ``VUORO_EMAIL_MAX_…`` settings, else the defaults."""
    defaults = Limits()
    return Limits(**{name: int(getattr(settings, setting, getattr(defaults, name)))
                     for name, setting in LIMIT_SETTINGS.items()})


def email_receive(*, raw: bytes, mailbox: Mailbox | None, now: dt.datetime | None = None) -> InboundEmail:
    """Receive one raw message; returns its InboundEmail row.

    The same message seen before (its Message-ID and content) returns the earlier row with
    ``outcome`` set to duplicate in memory only; nothing is written. The unique constraint on
    (Message-ID, fingerprint) decides, so two concurrent deliveries of one message make one row.
    A different message under a Message-ID seen before is received as its own, with
    ``message_id_reused`` set and said in its reason. A refused message's row carries the limit
    it broke in memory as ``refusal`` (None otherwise).
    """
    now = now or timezone.now()
    parsed = parse(raw, email_limits())
    content_print = fingerprint(raw)
    existing, reused = _seen(parsed.message_id, content_print)
    if existing is not None:
        return _as_duplicate(existing)
    try:
        with transaction.atomic():
            row = InboundEmail.objects.create(
                mailbox=mailbox, message_id=parsed.message_id, fingerprint=content_print, received_at=now,
                sender=parsed.sender[:320], subject=parsed.subject[:500], outcome=Outcome.REJECTED,
                size=len(raw), raw=raw if len(raw) <= RAW_STORE_LIMIT else b"",
                message_id_reused=reused,
            )
            _decide(row, parsed, mailbox, now)
            row.save(update_fields=["outcome", "reason", "ticket", "ticket_message"])
    except IntegrityError:
        existing = _same_message(parsed.message_id, content_print)
        if existing is None:
            raise
        return _as_duplicate(existing)
    row.refusal = parsed.refusal
    return row


def _seen(message_id: str, content_print: str) -> tuple[InboundEmail | None, bool]:
    """This very message's row if it was received before, and whether its Message-ID was seen
    at all; one query on the unique (Message-ID, fingerprint) index."""
    rows = list(InboundEmail.objects.filter(message_id=message_id).order_by("pk")[:SEEN_LOOK])
    same = [row for row in rows if row.fingerprint in (content_print, "")]
    if same or len(rows) < SEEN_LOOK:
        return (same[0] if same else None), bool(rows)
    return _same_message(message_id, content_print), True


def _same_message(message_id: str, content_print: str) -> InboundEmail | None:
    """The row of this very message, by the unique (Message-ID, fingerprint) index. Rows from
    before fingerprints were kept have none and match any content under their Message-ID."""
    return (InboundEmail.objects.filter(message_id=message_id, fingerprint__in=(content_print, ""))
            .order_by("pk").first())


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
        _decide(locked, parse(raw, email_limits()), locked.mailbox, now)
        locked.save(update_fields=["outcome", "reason", "ticket", "ticket_message"])
    return locked


def _as_duplicate(row: InboundEmail) -> InboundEmail:
    row.outcome = Outcome.DUPLICATE
    row.reason = _("This message was received before.")
    return row


def _decide(row: InboundEmail, parsed: ParsedEmail, mailbox: Mailbox | None, now: dt.datetime) -> None:
    """Fill the row's outcome; writes the ticket or reply in the caller's transaction."""
    _decide_outcome(row, parsed, mailbox, now)
    if row.message_id_reused:
        note = _("Another message with this Message-ID was received before; this one differs from "
                 "it and was received on its own.")
        row.reason = f"{note} {row.reason}".strip()


def refusal_reason(refusal: Refusal) -> str:
    """What an admin reads on the row of a message refused for a limit, naming the setting."""
    values = {"found": refusal.found, "limit": refusal.limit, "header": refusal.header,
              "setting": LIMIT_SETTINGS.get(refusal.code, "")}
    texts = {
        "header_bytes": _("The message's header is too large (%(found)s bytes; the limit is "
                          "%(limit)s, %(setting)s); it was not read."),
        "headers": _("The message has too many header fields (more than %(limit)s, %(setting)s); "
                     "it was not read."),
        "header_field_bytes": _("The header field %(header)s is too long (%(found)s bytes; the "
                                "limit is %(limit)s, %(setting)s); the message was not read."),
        "encoded_words": _("The header field %(header)s has too many encoded words (%(found)s; the "
                           "limit is %(limit)s, %(setting)s); the message was not read."),
        "depth": _("The message's parts are nested too deeply (more than %(limit)s levels, "
                   "%(setting)s); it was not read."),
        "parts": _("The message has too many parts (more than %(limit)s, %(setting)s); it was not read."),
        "attachments": _("The message has too many attachments (more than %(limit)s, %(setting)s); "
                         "it was not filed."),
        "attachment_bytes": _("The message's attachments are too large together (more than "
                              "%(limit)s bytes, %(setting)s); it was not filed."),
    }
    return texts[refusal.code] % values


def _decide_outcome(row: InboundEmail, parsed: ParsedEmail, mailbox: Mailbox | None,
                    now: dt.datetime) -> None:
    if parsed.refusal is not None:
        row.outcome, row.reason = Outcome.REJECTED, refusal_reason(parsed.refusal)
        return
    ours = config_cache.cached("channels.mailbox_addresses", lambda: tuple(
        a.lower() for a in Mailbox.objects.values_list("address", flat=True)))
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
    target = _thread_ticket(parsed)
    allowed = target is not None and access.can_reply(user, target)
    replying = allowed and target is not None and target.status != Status.CLOSED
    uploads, refused = _attachments(parsed, used=attachment_bytes_used(target) if replying else 0)
    if replying and target is not None:
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
        # An HTML mail's head (title, styles) is no part of what the sender wrote.
        cleaned = clean_html(drop_blocks(parsed.html, ("head",))).strip()
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


def _attachments(parsed: ParsedEmail, used: int) -> tuple[list[CheckedUpload], str]:
    """Attachments the ticket rules and the ticket's quota (``used`` bytes so far) allow, and a
    note naming the ones refused; the text is filed either way."""
    checked: list[CheckedUpload] = []
    refused: list[str] = []
    for item in parsed.attachments:
        upload = SimpleUploadedFile(item.filename[:200] or "attachment", item.content, item.content_type)
        try:
            checked.append(check_upload(upload))
        except ValidationError:
            refused.append(item.filename)
    checked, over_quota = split_by_quota(used, checked)
    notes = [_("Attachments not accepted: %(names)s") % {"names": ", ".join(refused)}] if refused else []
    if over_quota:
        notes.append(_("Attachments over the ticket's quota: %(names)s") % {"names": ", ".join(over_quota)})
    return checked, " ".join(notes)
