"""Parsing inbound mail: charsets, quoting, loops, threading; never raises on any bytes."""

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vuoro.channels.parse import (
    SYNTHETIC_PREFIX,
    loop_kind,
    parse,
    split_quoted,
    synthetic_message_id,
    thread_hint,
)
from vuoro.core.sanitize import clean_html


def msg(headers: str, body: str = "Hello", charset_body: bytes | None = None) -> bytes:
    head = headers.strip().replace("\n", "\r\n").encode() + b"\r\n\r\n"
    return head + (charset_body if charset_body is not None else body.encode())


def test_rfc2047_subject_and_latin1_body():
    raw = msg("From: =?iso-8859-1?q?J=E4rvinen?= <Matti@Example.test>\nTo: desk@vuoro.test\n"
              "Subject: =?utf-8?b?w4RsYSBrYWF0dWkh?=\nMessage-ID: <m1@example.test>\n"
              "Content-Type: text/plain; charset=iso-8859-1",
              charset_body="Tulostin ei toimi, näyttö pimeä".encode("latin-1"))
    parsed = parse(raw)
    assert parsed.sender == "matti@example.test" and parsed.sender_name == "Järvinen"
    assert parsed.subject == "Äla kaatui!"
    assert parsed.text == "Tulostin ei toimi, näyttö pimeä"
    assert parsed.message_id == "<m1@example.test>"


def test_windows_1252_and_unknown_charset_replace():
    raw = msg("From: a@x.test\nContent-Type: text/plain; charset=windows-1252",
              charset_body="price €5 “quoted”".encode("cp1252"))
    assert parse(raw).text == "price €5 “quoted”"
    odd = parse(msg("From: a@x.test\nContent-Type: text/plain; charset=x-nonsense", charset_body=b"ok \xff"))
    assert odd.text.startswith("ok") and any("charset" in p for p in odd.problems)


def test_missing_message_id_is_stable_synthetic():
    raw = msg("From: a@x.test\nSubject: hi")
    assert parse(raw).message_id == synthetic_message_id(raw)
    assert parse(raw).message_id.startswith("<" + SYNTHETIC_PREFIX)


def test_html_only_body_derives_text_and_keeps_html():
    raw = msg("From: a@x.test\nContent-Type: text/html; charset=utf-8",
              "<p>Hello <b>there</b></p><script>alert(1)</script><p>Line two</p>")
    parsed = parse(raw)
    assert parsed.text == "Hello there\nLine two"
    assert "<script" in parsed.html and "<script" not in clean_html(parsed.html)


def test_split_quoted_markers():
    for marker in ("On Mon, 2 Nov 2026 at 10:00, Desk <desk@x> wrote:",
                   "ma 2.11.2026 klo 10.00 Desk <desk@x> kirjoitti:",
                   "Den 2 nov. 2026 skrev Desk <desk@x>:",
                   "-----Original Message-----"):
        new, quoted = split_quoted(f"New text\n\n{marker}\n> old")
        assert new == "New text" and quoted.startswith(marker.strip())
    new, quoted = split_quoted("Thanks\n\nFrom: Desk <d@x>\nSent: Monday\nSubject: x\n\nold")
    assert new == "Thanks" and quoted.startswith("From:")
    assert split_quoted("Hi\n> quoted\n> more") == ("Hi", "> quoted\n> more")


def test_loop_kinds():
    base = "From: {f}\nSubject: s\n{h}"
    def kind(f="a@x.test", h=""):
        return loop_kind(parse(msg(base.format(f=f, h=h))), our_loop="desk@vuoro.test",
                         our_addresses=("desk@vuoro.test",))
    assert kind() == ""
    assert kind(h="Auto-Submitted: no") == ""
    assert kind(h="Auto-Submitted: auto-replied") == "auto"
    assert kind(h="Precedence: bulk") == "bulk"
    assert kind(h="List-Id: <news.example.test>") == "list"
    assert kind(f="MAILER-DAEMON@x.test") == "system"
    assert kind(h="X-Loop: desk@vuoro.test") == "loop"
    assert kind(f="desk@vuoro.test") == "loop"
    report = msg('From: mailer-daemon@x.test\nContent-Type: multipart/report; report-type=delivery-status; '
                 'boundary="b"', "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n")
    assert loop_kind(parse(report)) == "bounce"


def test_thread_hint_from_our_ids_then_subject():
    parsed = parse(msg("From: a@x.test\nSubject: Re: [VUO-2026-000123] printer\n"
                       "In-Reply-To: <vuoro-outbox-42@vuoro.test>\n"
                       "References: <other@x> <vuoro-outbox-7@vuoro.test>"))
    hint = thread_hint(parsed)
    assert hint.outbound_ids == (42, 7) and hint.reference == "VUO-2026-000123"


def test_attachments_and_inline_images():
    raw = msg('From: a@x.test\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
              "--b\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n"
              "--b\r\nContent-Type: image/png\r\nContent-ID: <img1>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
              "iVBORw0KGgo=\r\n"
              '--b\r\nContent-Type: application/pdf; name="r.pdf"\r\nContent-Disposition: attachment; '
              'filename="=?utf-8?q?R=C3=A4portti.pdf?="\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n')
    parsed = parse(raw)
    assert parsed.text == "See attached"
    assert [(a.filename, a.content_type, a.inline) for a in parsed.attachments] == [
        ("attachment.png", "image/png", True), ("Räportti.pdf", "application/pdf", False)]
    assert parsed.attachments[1].content == b"%PDF-"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_never_raises_on_arbitrary_bytes(raw):
    parsed = parse(raw)
    assert parsed.message_id


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["<script>x</script>", '<img src=x onerror="a()">',
                                                "<SCRIPT src=//e>", '<a href="#" onclick=b>l</a>']))
def test_sanitised_html_has_no_script_or_handlers(text, payload):
    cleaned = clean_html(text + payload + text)
    assert "<script" not in cleaned.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", cleaned, re.IGNORECASE)


def test_a_message_forwarded_as_an_attachment_stays_whole_and_an_invite_is_kept():
    corpus = Path(__file__).parent / "eml"
    nested = parse((corpus / "46-nested-message-rfc822.eml").read_bytes())
    assert nested.text.strip() == "Is this phishing?" and nested.html == ""
    [forwarded] = nested.attachments
    assert (forwarded.filename, forwarded.content_type) == ("Verify your account.eml", "message/rfc822")
    assert b"From: bank@phish.test" in forwarded.content and b"<script>" in forwarded.content
    invite = parse((corpus / "27-calendar-invite.eml").read_bytes())
    assert [(a.filename, a.content_type) for a in invite.attachments] == [("invite.ics", "text/calendar")]
