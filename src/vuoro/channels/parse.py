"""Inbound email, parsed without Django: headers, bodies, attachments, quoting, loops, threading.

Guarantee: ``parse`` never raises, whatever bytes it is given. Broken MIME yields what could be
read plus a list of problems, so every received message can still be accounted for.
"""

from __future__ import annotations

import email
import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.utils import getaddresses, parseaddr

SYNTHETIC_PREFIX = "synthetic-sha256-"
REFERENCE_RE = re.compile(r"\bVUO-\d{4}-\d{6}\b", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
OUR_ID_RE = re.compile(r"<vuoro-([a-z]+)-(\d+)@[^>]+>", re.IGNORECASE)
QUOTE_MARKERS = (
    re.compile(r"^\s*On .+ wrote:\s*$", re.IGNORECASE),
    re.compile(r"^.+ kirjoitti\b.*:\s*$", re.IGNORECASE),
    re.compile(r"^.+ skrev\b.*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Alkuperäinen viesti|Ursprungligt meddelande)\s*-{2,}\s*$",
               re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
)
OUTLOOK_HEADER_RE = re.compile(r"^\s*\*?(From|Lähettäjä|Från)\*?:\s*\S", re.IGNORECASE)
OUTLOOK_NEXT_RE = re.compile(r"^\s*\*?(Sent|Date|Lähetetty|Skickat|To|Vastaanottaja|Till)\*?:", re.IGNORECASE)
SYSTEM_SENDERS = ("mailer-daemon", "postmaster")


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes
    inline: bool = False


@dataclass(frozen=True)
class Bounce:
    """One recipient a delivery status report says could not be reached."""

    address: str
    status: str
    diagnostic: str


@dataclass
class ParsedEmail:
    message_id: str
    sender: str = ""
    sender_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    report_type: str = ""
    bounces: list[Bounce] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def synthetic_message_id(raw: bytes) -> str:
    """Stable id for a message without one: the same bytes always give the same id."""
    return f"<{SYNTHETIC_PREFIX}{hashlib.sha256(raw).hexdigest()}>"


def _header(msg: Message, name: str, problems: list[str]) -> str:
    try:
        value = msg.get(name)
        return "" if value is None else " ".join(str(value).split())
    except Exception as exc:  # noqa: BLE001 - any malformed header is a problem, not a crash
        problems.append(f"header {name}: {exc.__class__.__name__}")
        return ""


def _decode_part(part: Message, problems: list[str]) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"payload: {exc.__class__.__name__}")
        return ""
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:  # noqa: BLE001
        problems.append("charset unreadable")
    if charset.lower() in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
        charset = "windows-1252"  # a superset in practice: senders mislabel cp1252 as latin-1
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        problems.append(f"unknown charset {charset}")
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Readable text from HTML: block ends become line breaks; scripts and styles dropped."""
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h\d)\s*>", "\n", text)
    text = re.sub(r"(?s)<[^>]*>", "", text)
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _walk(msg: Message, parsed: ParsedEmail) -> None:
    inside_reports: set[int] = set()
    for part in msg.walk():
        if id(part) in inside_reports:
            continue
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            # Its recipient blocks may be parsed as sub-messages: read once here, never as text.
            inside_reports.update(id(sub) for sub in part.walk())
            parsed.bounces.extend(delivery_failures(part))
            continue
        if ctype == "message/rfc822":
            # A message forwarded as an attachment stays whole (an .eml the agent can open),
            # and its parts never stand in for the sender's own text.
            inside_reports.update(id(sub) for sub in part.walk())
            parsed.attachments.append(_forwarded(part, parsed.problems))
            continue
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        try:
            filename = part.get_filename() or ""
        except Exception:  # noqa: BLE001
            filename = ""
            parsed.problems.append("attachment filename unreadable")
        if ctype == "text/plain" and not filename and disposition != "attachment" and not parsed.text:
            parsed.text = _decode_part(part, parsed.problems)
        elif ctype == "text/html" and not filename and disposition != "attachment" and not parsed.html:
            parsed.html = _decode_part(part, parsed.problems)
        elif ctype == "text/rfc822-headers":
            continue
        else:
            try:
                payload = part.get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
            except Exception:  # noqa: BLE001
                content = b""
                parsed.problems.append("attachment unreadable")
            name = filename or _unnamed(ctype)
            parsed.attachments.append(Attachment(
                filename=name, content_type=ctype, content=content,
                inline=disposition == "inline" or bool(part.get("Content-ID"))))


def _unnamed(ctype: str) -> str:
    """A name for a part that has none, with the extension its type implies."""
    if ctype == "text/calendar":
        return "invite.ics"
    return "attachment" + (mimetypes.guess_extension(ctype) or "")


def _forwarded(part: Message, problems: list[str]) -> Attachment:
    inner = part.get_payload()
    inner = inner[0] if isinstance(inner, list) and inner else inner
    try:
        content = inner.as_bytes() if isinstance(inner, Message) else part.as_bytes().split(b"\n\n", 1)[-1]
        subject = str(inner.get("Subject", "") or "") if isinstance(inner, Message) else ""
    except Exception:  # noqa: BLE001 - a broken inner message is kept as its bytes
        content, subject = b"", ""
        problems.append("forwarded message unreadable")
    stem = re.sub(r"[^\w\- ]+", "", subject).strip()[:80] or "forwarded-message"
    return Attachment(filename=f"{stem}.eml", content_type="message/rfc822", content=content,
                      inline=False)


DSN_FIELD_RE = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t].*)*)", re.MULTILINE)


def delivery_failures(part: Message) -> list[Bounce]:
    """Failed recipients of a delivery status part (RFC 3464): one block per recipient."""
    try:
        text = part.as_bytes().decode("utf-8", "replace").replace("\r\n", "\n")
    except Exception:  # noqa: BLE001 - a broken report is simply not read
        return []
    body = text.split("\n\n", 1)[1] if "\n\n" in text else text
    found: list[Bounce] = []
    for block in re.split(r"\n\s*\n", body):
        fields = {name.lower(): " ".join(value.split()) for name, value in DSN_FIELD_RE.findall(block)}
        recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
        address = recipient.partition(";")[2].strip().strip("<>").lower() if ";" in recipient else ""
        if "@" in address and fields.get("action", "").lower() == "failed":
            found.append(Bounce(address=address[:320], status=fields.get("status", "")[:20],
                                diagnostic=fields.get("diagnostic-code", "")[:500]))
    return found


def parse(raw: bytes) -> ParsedEmail:
    """Parse raw MIME bytes. Never raises; problems are listed on the result."""
    problems: list[str] = []
    try:
        msg = email.message_from_bytes(raw or b"", policy=policy.default)
    except Exception as exc:  # noqa: BLE001
        return ParsedEmail(message_id=synthetic_message_id(raw or b""),
                           problems=[f"unparseable: {exc.__class__.__name__}"])
    parsed = ParsedEmail(message_id="", problems=problems)
    try:
        _fill(msg, parsed, raw or b"")
    except Exception as exc:  # noqa: BLE001 - keep what was read so far
        problems.append(f"parse stopped: {exc.__class__.__name__}")
    if not parsed.message_id:
        parsed.message_id = synthetic_message_id(raw or b"")
    return parsed


def _fill(msg: Message, parsed: ParsedEmail, raw: bytes) -> None:
    problems = parsed.problems
    for defect in getattr(msg, "defects", []):
        problems.append(defect.__class__.__name__)
    mid = _header(msg, "Message-ID", problems)[:250]
    parsed.message_id = mid if mid.strip("<> ") else ""
    parsed.sender_name, parsed.sender = parseaddr(_header(msg, "From", problems))
    parsed.sender = parsed.sender.strip().lower()
    parsed.to = [addr.lower() for _n, addr in getaddresses([_header(msg, "To", problems)]) if addr]
    parsed.subject = _header(msg, "Subject", problems)
    parsed.in_reply_to = _header(msg, "In-Reply-To", problems)
    parsed.references = MESSAGE_ID_RE.findall(_header(msg, "References", problems))
    for name in ("Auto-Submitted", "Precedence", "List-Id", "X-Loop", "X-Autoreply",
                 "X-Auto-Response-Suppress", "Return-Path", "Importance", "X-Priority", "Priority",
                 "X-MSMail-Priority"):
        value = _header(msg, name, problems)
        if value:
            parsed.headers[name.lower()] = value
    parsed.content_type = msg.get_content_type()
    report_type = (msg.get_param("report-type") or "") if parsed.content_type == "multipart/report" else ""
    parsed.report_type = str(report_type[-1]) if isinstance(report_type, tuple) else report_type
    _walk(msg, parsed)
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted text): everything from the first reply marker on is quoted."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        marker = any(rx.match(line) for rx in QUOTE_MARKERS)
        outlook = OUTLOOK_HEADER_RE.match(line) and any(
            OUTLOOK_NEXT_RE.match(next_line) for next_line in lines[index + 1:index + 4])
        quoted = line.startswith(">") and all(
            not rest.strip() or rest.startswith(">") for rest in lines[index:])
        if marker or outlook or quoted:
            return "\n".join(lines[:index]).strip(), "\n".join(lines[index:]).strip()
    kept = [line for line in lines if not line.startswith(">")]
    return "\n".join(kept).strip(), "\n".join(line for line in lines if line.startswith(">")).strip()


def loop_kind(parsed: ParsedEmail, *, our_loop: str = "", our_addresses: tuple[str, ...] = ()) -> str:
    """Why a message must not make a ticket: "bounce", "auto", "bulk", "list", "system",
    "loop"; empty when it is a person's mail."""
    headers = parsed.headers
    local = parsed.sender.partition("@")[0]
    if parsed.content_type == "multipart/report" or local in SYSTEM_SENDERS and "deliv" in parsed.subject.lower():
        return "bounce"
    if our_loop and our_loop.lower() in headers.get("x-loop", "").lower():
        return "loop"
    if parsed.sender and parsed.sender in our_addresses:
        return "loop"
    if local in SYSTEM_SENDERS:
        return "system"
    if headers.get("auto-submitted", "no").lower().split(";")[0].strip() != "no" or "x-autoreply" in headers:
        return "auto"
    if headers.get("precedence", "").lower() in ("bulk", "junk", "list", "auto_reply"):
        return "bulk"
    if "list-id" in headers:
        return "list"
    return ""


def marked_urgent(parsed: ParsedEmail) -> bool:
    """The sender's mail client marked the message urgent or of high importance.

    Outlook sends ``Importance: high`` and ``X-Priority: 1``; Thunderbird and Apple Mail
    ``X-Priority: 1`` or ``2``; some gateways ``Priority: urgent`` (RFC 2156).
    """
    headers = parsed.headers
    if headers.get("importance", "").strip().lower() == "high":
        return True
    if headers.get("x-msmail-priority", "").strip().lower() == "high":
        return True
    if headers.get("x-priority", "").strip()[:1] in ("1", "2"):
        return True
    return headers.get("priority", "").strip().lower() == "urgent"


@dataclass(frozen=True)
class ThreadHint:
    outbound_ids: tuple[int, ...]
    reference: str
    message_ids: tuple[str, ...] = ()


def thread_hint(parsed: ParsedEmail) -> ThreadHint:
    """Candidate ticket: our outgoing mail ids named in In-Reply-To/References (newest first),
    then a ticket reference in the subject. The caller still checks the sender may reply."""
    ids = [parsed.in_reply_to, *reversed(parsed.references)]
    outbound: list[int] = []
    for value in ids:
        for prefix, pk in OUR_ID_RE.findall(value or ""):
            if prefix.lower() == "outbox" and int(pk) not in outbound:
                outbound.append(int(pk))
    # Other ids name mail we received: a reply-all to a request threads onto the request.
    others: list[str] = []
    for value in ids:
        for mid in MESSAGE_ID_RE.findall(value or ""):
            if not OUR_ID_RE.fullmatch(mid) and mid not in others:
                others.append(mid)
    match = REFERENCE_RE.search(parsed.subject)
    return ThreadHint(outbound_ids=tuple(outbound), reference=match.group(0).upper() if match else "",
                      message_ids=tuple(others[:20]))
