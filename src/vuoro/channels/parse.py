"""Inbound email, parsed without Django: headers, bodies, attachments, quoting, loops, threading.

Guarantees: ``parse`` never raises, whatever bytes it is given. Broken MIME yields what could be
read plus a list of problems, so every received message can still be accounted for. A message
is checked against ``bounds.Limits`` before the standard library parses it (``bounds.bound``);
one that breaks a limit is not parsed at all and comes back with its ``refusal``. Every other
function here runs in time linear in its input (no pattern that can backtrack over a whole
body, no list scanned once per element).
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

from vuoro.channels.bounds import Limits, Refusal, bound

SYNTHETIC_PREFIX = "synthetic-sha256-"
REFERENCE_RE = re.compile(r"\bVUO-\d{4}-\d{6}\b", re.IGNORECASE)
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
OUR_ID_RE = re.compile(r"<vuoro-([a-z]+)-(\d+)@[^>]+>", re.IGNORECASE)
QUOTE_MARKERS = (
    re.compile(r"^\s*On .+ wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Alkuperäinen viesti|Ursprungligt meddelande)\s*-{2,}\s*$",
               re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
)
# "Matti kirjoitti 1.2.2026 klo 9.00:", "Den 1 feb. 2026 skrev Sven:" (the line ends with a colon).
WROTE_RE = re.compile(r"(?<=.) (?:kirjoitti|skrev)\b", re.IGNORECASE)
OUTLOOK_HEADER_RE = re.compile(r"^\s*\*?(From|Lähettäjä|Från)\*?:\s*\S", re.IGNORECASE)
OUTLOOK_NEXT_RE = re.compile(r"^\s*\*?(Sent|Date|Lähetetty|Skickat|To|Vastaanottaja|Till)\*?:", re.IGNORECASE)
SYSTEM_SENDERS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
# Display names mailer daemons send delivery reports under (Gmail, Exim, Postfix, Sendmail, Exchange).
DAEMON_NAMES = ("mail delivery subsystem", "mail delivery system", "mail delivery service",
                "mail administrator", "microsoft outlook", "microsoft exchange")
# Subjects of delivery reports without a machine-readable part (qmail, Exim, Exchange, Gmail).
BOUNCE_SUBJECT_RE = re.compile(
    r"^\s*(undeliver(ed|able)|delivery (status notification|failure|has failed|failed|report)"
    r"|mail delivery failed|failure notice|returned mail|delivery to the following recipients? failed"
    r"|non[- ]?remis|unzustellbar|returned to sender|warning: could not send)", re.IGNORECASE)
# Ids threading reads from In-Reply-To and References, newest first.
THREAD_IDS = 50
# A reply's attribution line ("On … wrote:") is short; longer lines are not matched against it.
MARKER_LINE_MAX = 1000


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
    delivery_report: bool = False  # a message/delivery-status part or X-Failed-Recipients
    refusal: Refusal | None = None  # the limit the message breaks; nothing else was read


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


BLOCK_OPEN_RE = re.compile(r"(?i)<(script|style|head)\b")


def drop_blocks(markup: str, names: tuple[str, ...] = ("script", "style", "head")) -> str:
    """The markup without its ``names`` elements and their content; an element never closed
    takes the rest with it. Linear: each opening is followed by one search for its end."""
    kept: list[str] = []
    position = 0
    lowered = markup.lower()
    for match in BLOCK_OPEN_RE.finditer(markup):
        if match.start() < position or match.group(1).lower() not in names:
            continue
        kept.append(markup[position:match.start()])
        end = lowered.find(f"</{match.group(1).lower()}", match.end())
        if end < 0:
            return "".join(kept)
        close = lowered.find(">", end)
        position = len(markup) if close < 0 else close + 1
    kept.append(markup[position:])
    return "".join(kept)


def html_to_text(markup: str) -> str:
    """Readable text from HTML: block ends become line breaks; scripts and styles dropped."""
    text = drop_blocks(markup)
    text = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h\d)\s*>", "\n", text)
    text = re.sub(r"<[^<>]*>", "", text)
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


DELIMITER_RE = re.compile(r"(?m)^--([^\s\-][^\s]{0,199})[ \t]*\r?$")


def _boundary_guessed(part: Message) -> Message | None:
    """A multipart whose boundary is missing or wrong, parsed again with the delimiter its body
    does use (the first ``--x`` line that comes back); None when the body has no such line."""
    body = part.get_payload()
    if not isinstance(body, str):
        return None
    found = DELIMITER_RE.findall(body[:1_000_000])
    guess = next((d for d in found if found.count(d) > 1 or f"--{d}--" in body), "")
    if not guess or '"' in guess:
        return None
    wrapped = f'Content-Type: multipart/mixed; boundary="{guess}"\n\n{body}'
    try:
        again = email.message_from_string(wrapped, policy=policy.default)
    except Exception:  # noqa: BLE001 - the body is then read as text
        return None
    return again if again.is_multipart() else None


def _walk(msg: Message, parsed: ParsedEmail, limits: Limits, guessed: bool = False) -> None:
    inside_reports: set[int] = set()
    for part in msg.walk():
        if id(part) in inside_reports:
            continue
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            # Its recipient blocks may be parsed as sub-messages: read once here, never as text.
            inside_reports.update(id(sub) for sub in part.walk())
            parsed.delivery_report = True
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
        if ctype.startswith("multipart/"):
            # Its boundary is missing or wrong: the parts are read with the delimiter the body
            # uses, or else the body is the sender's text. Never an empty ticket, never an attachment.
            again = None if guessed else _boundary_guessed(part)
            if again is not None:
                parsed.problems.append("boundary guessed")
                _walk(again, parsed, limits, guessed=True)
            elif not parsed.text:
                parsed.text = _decode_part(part, parsed.problems)
            continue
        disposition = (part.get_content_disposition() or "").lower()
        try:
            filename = part.get_filename() or ""
        except Exception:  # noqa: BLE001
            filename = ""
            parsed.problems.append("attachment filename unreadable")
        if ctype == "text/plain" and not filename and disposition != "attachment" and not parsed.text:
            parsed.text = _decode_part(part, parsed.problems)
        elif ctype == "text/plain" and not filename and disposition != "attachment" and guessed:
            # Parts read with a guessed boundary: all their text is the sender's.
            parsed.text = parsed.text.rstrip() + "\n\n" + _decode_part(part, parsed.problems)
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
            total = sum(len(item.content) for item in parsed.attachments)
            if len(parsed.attachments) > limits.attachments:
                parsed.refusal = Refusal("attachments", len(parsed.attachments), limits.attachments)
            elif total > limits.attachment_bytes:
                parsed.refusal = Refusal("attachment_bytes", total, limits.attachment_bytes)
            if parsed.refusal is not None:
                parsed.attachments.clear()  # refused: nothing of it is filed
                return


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


def parse(raw: bytes, limits: Limits | None = None) -> ParsedEmail:
    """Parse raw MIME bytes. Never raises; problems are listed on the result.

    A message breaking ``limits`` (the defaults when None) is not parsed: the result carries
    its ``refusal`` and only what the cheap scan read (Message-ID, sender, subject).
    """
    limits = limits or Limits()
    problems: list[str] = []
    bounded = bound(raw or b"", limits)
    if bounded.refusal is not None:
        _name, address = parseaddr(bounded.sender)
        return ParsedEmail(message_id=bounded.message_id if bounded.message_id.strip("<> ") else
                           synthetic_message_id(raw or b""), sender=address.strip().lower(),
                           subject=bounded.subject, refusal=bounded.refusal,
                           problems=[f"refused: {bounded.refusal.code}"])
    if bounded.thread_ids_dropped:
        problems.append(f"threading ids cut: {bounded.thread_ids_dropped}")
    raw = bounded.raw
    try:
        msg = email.message_from_bytes(raw or b"", policy=policy.default)
    except Exception as exc:  # noqa: BLE001
        return ParsedEmail(message_id=synthetic_message_id(raw or b""),
                           problems=[f"unparseable: {exc.__class__.__name__}"])
    parsed = ParsedEmail(message_id="", problems=problems)
    try:
        _fill(msg, parsed, limits)
    except Exception as exc:  # noqa: BLE001 - keep what was read so far
        problems.append(f"parse stopped: {exc.__class__.__name__}")
    if not parsed.message_id:
        parsed.message_id = synthetic_message_id(raw or b"")
    return parsed


def _fill(msg: Message, parsed: ParsedEmail, limits: Limits) -> None:
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
                 "X-MSMail-Priority", "X-Failed-Recipients"):
        value = _header(msg, name, problems)
        if value:
            parsed.headers[name.lower()] = value
    parsed.content_type = msg.get_content_type()
    report_type = (msg.get_param("report-type") or "") if parsed.content_type == "multipart/report" else ""
    parsed.report_type = str(report_type[-1]) if isinstance(report_type, tuple) else report_type
    _walk(msg, parsed, limits)
    if parsed.refusal is not None:
        parsed.text, parsed.html = "", ""
        return
    if "x-failed-recipients" in parsed.headers:
        parsed.delivery_report = True
        if not parsed.bounces:  # Exim names the failed addresses in this header only
            parsed.bounces = [Bounce(address=address.lower()[:320], status="5.0.0", diagnostic="")
                              for _n, address in getaddresses([parsed.headers["x-failed-recipients"]])
                              if "@" in address][:50]
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted text): everything from the first reply marker on is quoted."""
    lines = text.replace("\r\n", "\n").split("\n")
    # quoted_from[i]: every line from i on is blank or quoted (one pass from the end).
    quoted_from = [True] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        quoted_from[index] = quoted_from[index + 1] and (not line.strip() or line.startswith(">"))
    for index, line in enumerate(lines):
        if line.startswith(">"):
            if quoted_from[index]:
                return "\n".join(lines[:index]).strip(), "\n".join(lines[index:]).strip()
            continue
        # Every marker has a colon or a run of dashes or underscores: other lines are not matched.
        short = len(line) <= MARKER_LINE_MAX and (":" in line or "--" in line or "__" in line)
        marker = short and (any(rx.match(line) for rx in QUOTE_MARKERS)
                            or line.rstrip().endswith(":") and bool(WROTE_RE.search(line)))
        outlook = short and OUTLOOK_HEADER_RE.match(line) and any(
            OUTLOOK_NEXT_RE.match(next_line) for next_line in lines[index + 1:index + 4])
        if marker or outlook:
            return "\n".join(lines[:index]).strip(), "\n".join(lines[index:]).strip()
    kept = [line for line in lines if not line.startswith(">")]
    return "\n".join(kept).strip(), "\n".join(line for line in lines if line.startswith(">")).strip()


def loop_kind(parsed: ParsedEmail, *, our_loop: str = "", our_addresses: tuple[str, ...] = ()) -> str:
    """Why a message must not make a ticket: "bounce", "auto", "bulk", "list", "system",
    "loop"; empty when it is a person's mail."""
    headers = parsed.headers
    local = parsed.sender.partition("@")[0]
    if is_delivery_report(parsed):
        return "bounce"
    if parsed.content_type == "multipart/report":
        return "auto"  # a read receipt (disposition-notification) or another machine report
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


def is_delivery_report(parsed: ParsedEmail) -> bool:
    """A delivery status report (bounce) from any mailer daemon.

    Machine-readable ones: multipart/report with report-type=delivery-status (Gmail, Postfix,
    Exchange, Sendmail), a message/delivery-status part, X-Failed-Recipients (Exim, Gmail).
    Plain-text ones (qmail's "failure notice", older Exim): sent by a daemon address
    (MAILER-DAEMON, postmaster) or name ("Mail Delivery Subsystem", "Mail Delivery System",
    "Microsoft Outlook"), or automatically (Auto-Submitted, empty Return-Path), under a
    delivery-failure subject.
    """
    if parsed.delivery_report or parsed.bounces:
        return True
    if parsed.content_type == "multipart/report" and parsed.report_type.lower() in ("", "delivery-status"):
        return True
    local = parsed.sender.partition("@")[0]
    name = " ".join(parsed.sender_name.lower().split())
    headers = parsed.headers
    daemon = local in SYSTEM_SENDERS or name in DAEMON_NAMES or local.startswith("microsoftexchange")
    automatic = (headers.get("auto-submitted", "no").lower().split(";")[0].strip() not in ("", "no")
                 or headers.get("return-path", "").strip() == "<>")
    bounce_subject = bool(BOUNCE_SUBJECT_RE.match(parsed.subject[:300]))
    if daemon and (bounce_subject or "deliv" in parsed.subject.lower()):
        return True
    return (name in DAEMON_NAMES or automatic) and bounce_subject


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
    # Bounded whatever the message holds: the newest THREAD_IDS ids of each header.
    replying_to = MESSAGE_ID_RE.findall(parsed.in_reply_to[-20_000:])[-THREAD_IDS:]
    ids = [*reversed(replying_to), *reversed(parsed.references[-THREAD_IDS:])]
    outbound: dict[int, None] = {}
    others: dict[str, None] = {}  # other ids name mail we received: a reply-all threads onto it
    for mid in ids:
        ours = OUR_ID_RE.fullmatch(mid)
        if ours is None:
            others.setdefault(mid)
        elif ours.group(1).lower() == "outbox":
            outbound.setdefault(int(ours.group(2)))
    match = REFERENCE_RE.search(parsed.subject)
    return ThreadHint(outbound_ids=tuple(outbound), reference=match.group(0).upper() if match else "",
                      message_ids=tuple(others)[:20])
