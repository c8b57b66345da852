"""Cheap checks of raw mail before the standard library's parser sees it. Pure; no Django.

The standard library's header parser is quadratic in the length of a header and in its number
of encoded words, and its MIME parser recurses once per nesting level; a few hundred kilobytes
of hostile headers cost gigabytes. ``bound`` looks at the raw bytes only with C-speed scans
(``bytes.find``, compiled regular expressions with bounded repetition) and Python loops whose
length is capped by the limits themselves, so its cost is linear in the size of the message.

Guarantees:

- ``bound`` never raises and never parses a header value with the standard library.
- A message it passes has at most ``Limits.headers`` header fields, at most
  ``Limits.header_bytes`` of header, no header field longer than ``Limits.header_field_bytes``
  or with more than ``Limits.encoded_words`` encoded words, MIME nesting of at most
  ``Limits.depth`` and at most ``Limits.parts`` parts.
- References and In-Reply-To are not refused for length: a long thread is legitimate. They are
  cut to their first id (the thread's root) and the last ``Limits.thread_ids - 1`` ids, the ones
  threading uses, before the other limits are checked.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one received message may cost. The defaults are generous for real mail (see README)."""

    header_bytes: int = 256 * 1024
    headers: int = 500
    header_field_bytes: int = 32 * 1024
    encoded_words: int = 200
    thread_ids: int = 50
    depth: int = 20
    parts: int = 500
    attachments: int = 100
    attachment_bytes: int = 25 * MB


@dataclass(frozen=True)
class Refusal:
    """The first limit a message breaks: which (``code``), what was found, and the limit."""

    code: str  # header_bytes, headers, header_field_bytes, encoded_words, depth, parts,
    #            attachments, attachment_bytes
    found: int
    limit: int
    header: str = ""


@dataclass(frozen=True)
class Bounded:
    """The message to parse (threading headers cut), its refusal if any, and what the cheap scan
    read from its header: enough to account for a refused message without parsing it."""

    raw: bytes
    refusal: Refusal | None
    message_id: str = ""
    sender: str = ""
    subject: str = ""
    thread_ids_dropped: int = 0


_FIELD_RE = re.compile(rb"(?m)^([^ \t\r\n][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")
_ID_RE = re.compile(rb"<[^<>\s]{1,250}>")
_BOUNDARY_RE = re.compile(rb'(?i)\bboundary[ \t]*=[ \t]*(?:"([^"\r\n]{1,200})"|([^\s";]{1,200}))')
_RFC822_RE = re.compile(rb"(?im)^content-type:[ \t]*message/(?:rfc822|global)\b")
_THREADING = (b"references", b"in-reply-to")
_KEPT = {b"message-id": "message_id", b"from": "sender", b"subject": "subject"}


def split_head(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """(header section, the blank line, body). A message without a blank line is all header."""
    if raw.startswith((b"\r\n", b"\n")):
        sep = b"\r\n" if raw.startswith(b"\r\n") else b"\n"
        return b"", sep, raw[len(sep):]
    ends = [(i, sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    if not ends:
        return raw, b"", b""
    index, sep = min(ends)
    return raw[:index + len(sep) // 2], sep[len(sep) // 2:], raw[index + len(sep):]


def _cut_ids(field: bytes, name_end: int, keep: int, eol: bytes) -> tuple[bytes, int]:
    ids = _ID_RE.findall(field, name_end)
    if len(ids) <= keep:
        return field, 0
    kept = [ids[0], *ids[len(ids) - keep + 1:]] if keep > 1 else ids[-1:]
    return field[:name_end] + b" " + (eol + b" ").join(kept), len(ids) - len(kept)


def _text(value: bytes, limit: int) -> str:
    return " ".join(value[:limit].decode("utf-8", "replace").split())


def bound(raw: bytes, limits: Limits) -> Bounded:
    """Cut the threading headers, then check every limit; see the module's guarantees."""
    head, sep, body = split_head(raw or b"")
    eol = b"\r\n" if b"\r\n" in head[:2000] else b"\n"
    fields: list[bytes] = []
    seen: dict[str, str] = {}
    dropped = 0
    refusal: Refusal | None = None
    for match in _FIELD_RE.finditer(head):
        if len(fields) >= limits.headers:
            refusal = Refusal("headers", len(fields) + 1, limits.headers)
            break
        field = match.group(1)
        colon = field.find(b":", 0, 200)
        name = field[:colon].strip().lower() if colon > 0 else b""
        if name in _THREADING:
            field, cut = _cut_ids(field, colon + 1, max(1, limits.thread_ids), eol)
            dropped += cut
        if name in _KEPT and _KEPT[name] not in seen:
            seen[_KEPT[name]] = _text(field[colon + 1:], 1000)
        words = field.count(b"=?")
        if refusal is None and words > limits.encoded_words:
            refusal = Refusal("encoded_words", words, limits.encoded_words, _text(name, 80))
        if refusal is None and len(field) > limits.header_field_bytes:
            refusal = Refusal("header_field_bytes", len(field), limits.header_field_bytes,
                              _text(name, 80))
        fields.append(field)
    new_head = eol.join(fields) + eol if fields else b""
    if refusal is None and len(new_head) > limits.header_bytes:
        refusal = Refusal("header_bytes", len(new_head), limits.header_bytes)
    bounded = new_head + sep + body if dropped else raw or b""
    if refusal is None:
        refusal = mime_shape_refusal(bounded, limits)
    return Bounded(raw=bounded, refusal=refusal, message_id=seen.get("message_id", "")[:250],
                   sender=seen.get("sender", ""), subject=seen.get("subject", "")[:500],
                   thread_ids_dropped=dropped)


def mime_shape_refusal(raw: bytes, limits: Limits) -> Refusal | None:
    """Too deep or too many parts, read from boundary lines alone.

    Only the delimiter lines of boundaries the message declares are visited (at most
    ``limits.parts`` of them before refusing), and a forwarded message (message/rfc822) counts
    as one level until the next delimiter of the part around it.
    """
    declared: set[bytes] = set()
    too_many = False  # more boundaries than parts: refused once the depth is known
    for match in _BOUNDARY_RE.finditer(raw):
        declared.add(match.group(1) or match.group(2))
        if len(declared) > limits.parts:
            too_many = True
            break
    if declared:
        alternatives = b"|".join(re.escape(b) for b in sorted(declared, key=len, reverse=True))
        pattern = re.compile(rb"(?im)^(?:--(" + alternatives + rb")(--)?[ \t]*\r?$"
                             rb"|content-type:[ \t]*message/(?:rfc822|global)\b)")
    else:
        pattern = _RFC822_RE
    stack: list[bytes] = []  # boundaries, and b"" for a forwarded message
    parts = 0
    for match in pattern.finditer(raw):
        boundary = match.group(1) if declared else None
        if not boundary:
            stack.append(b"")
        else:
            parts += 1
            if parts > limits.parts:
                return Refusal("parts", parts, limits.parts)
            if boundary in stack:
                while stack[-1] != boundary:
                    stack.pop()
                if match.group(2):
                    stack.pop()
            elif not match.group(2):
                stack.append(boundary)
        if len(stack) > limits.depth:
            return Refusal("depth", len(stack), limits.depth)
    return Refusal("parts", len(declared), limits.parts) if too_many else None


def fingerprint(raw: bytes) -> str:
    """What makes two messages the same message: sender, subject, date and body.

    Trace headers (Received, Delivered-To, Return-Path, signatures) differ between two
    deliveries of one message and are left out; line endings are made alike.
    """
    head, _sep, body = split_head(raw or b"")
    digest = hashlib.sha256()
    for match in _FIELD_RE.finditer(head):
        field = match.group(1)
        name = field[:field.find(b":", 0, 200)].strip().lower()
        if name in (b"from", b"subject", b"date", b"message-id", b"content-type"):
            digest.update(b" ".join(field.split()).lower() + b"\n")
    digest.update(b"\n")
    digest.update(body.replace(b"\r\n", b"\n").rstrip(b"\n"))
    return digest.hexdigest()
