"""The limits on one message, checked on raw bytes before the standard library parses it
(channels.bounds, pure and fast), and the linear body rules of channels.parse."""

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from vuoro.channels.bounds import Limits, bound, fingerprint
from vuoro.channels.parse import html_to_text, parse, split_quoted, thread_hint

HEAD = b"From: Someone <someone@outside.test>\r\nMessage-ID: <m@outside.test>\r\nSubject: Hi\r\n"
SMALL = Limits(header_bytes=4096, headers=20, header_field_bytes=1024, encoded_words=10, thread_ids=5,
               depth=4, parts=10, attachments=2, attachment_bytes=1000)


def attachment(n: int, size: int) -> bytes:
    return (b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"f%d.pdf\"\r\n\r\n"
            % n + b"x" * size + b"\r\n")


def test_each_limit_refuses_with_its_code_and_reads_only_what_the_row_needs():
    nested = b"".join(b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i) for i in range(6))
    cases = {
        "headers": HEAD + b"X-A: 1\r\n" * 30 + b"\r\nbody",
        "header_field_bytes": HEAD + b"X-Long: " + b"a" * 2000 + b"\r\n\r\nbody",
        "encoded_words": HEAD + b"X-Words: " + b"=?utf-8?q?a?= " * 11 + b"\r\n\r\nbody",
        "header_bytes": HEAD + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 900) for i in range(6)) + b"\r\nbody",
        "depth": HEAD + nested + b"Content-Type: text/plain\r\n\r\nhi\r\n",
        "parts": HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + b"--b\r\n\r\nx\r\n" * 11,
        "attachments": HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"".join(attachment(n, 10) for n in range(3)) + b"--b--\r\n",
        "attachment_bytes": HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + attachment(1, 600) + attachment(2, 600) + b"--b--\r\n",
    }
    for code, raw in cases.items():
        parsed = parse(raw, SMALL)
        assert parsed.refusal is not None and parsed.refusal.code == code, (code, parsed.refusal)
        assert parsed.refusal.found > parsed.refusal.limit
        assert (parsed.message_id, parsed.sender, parsed.attachments) == ("<m@outside.test>", "someone@outside.test", [])
    assert parse(HEAD + b"\r\nA normal message.", SMALL).refusal is None


def test_threading_ids_are_cut_to_the_root_and_the_newest_not_refused():
    refs = b" ".join(b"<r%d@x>" % n for n in range(1000))
    parsed = parse(HEAD + b"References: " + refs + b"\r\nIn-Reply-To: " + refs + b"\r\n\r\nbody", SMALL)
    assert parsed.refusal is None and parsed.text == "body"
    assert parsed.references == ["<r0@x>", "<r996@x>", "<r997@x>", "<r998@x>", "<r999@x>"]
    assert "<r999@x>" in parsed.in_reply_to and "<r500@x>" not in parsed.in_reply_to
    assert thread_hint(parsed).message_ids[0] == "<r999@x>"


def test_the_measured_hostile_inputs_cost_milliseconds_with_the_default_limits():
    cases = [
        HEAD + b"Subject: " + b" ".join(b"=?utf-8?q?a=C3=A4?=" for _ in range(50_000)) + b"\r\n\r\nx",
        HEAD + b"References: " + b"\r\n ".join(b"<id%d@x.test>" % n for n in range(100_000)) + b"\r\n\r\nx",
        HEAD + b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
                        for n in range(2000)),
        HEAD + b"Content-Type: message/rfc822\r\n\r\n" * 2000,
    ]
    for raw in cases:
        started = time.perf_counter()
        parse(raw)
        assert time.perf_counter() - started < 1.0


def test_body_rules_are_linear_on_hostile_bodies():
    started = time.perf_counter()
    new, quoted = split_quoted(">a\n" * 200_000 + "my answer\n")
    assert new == "my answer" and quoted.count(">a") == 200_000
    assert html_to_text("<" * 1_000_000 + "x").endswith("x")
    assert html_to_text("<script>" * 100_000 + "</p>") == ""
    assert split_quoted("x kirjoitti" * 5000 + ":\nreply")[0].startswith("x kirjoitti")
    assert time.perf_counter() - started < 5.0  # quadratic, these took minutes


def test_fingerprint_ignores_trace_headers_and_line_endings_but_not_content():
    raw = HEAD + b"Date: Mon, 2 Mar 2026 10:00:00 +0200\r\n\r\nBody text\r\n"
    relayed = b"Received: from relay\r\nDelivered-To: desk@x\r\n" + raw.replace(b"\r\n", b"\n")
    assert fingerprint(raw) == fingerprint(relayed)
    assert fingerprint(raw) != fingerprint(raw.replace(b"Body text", b"Other text"))


header_names = st.sampled_from(["Subject", "References", "In-Reply-To", "X-A", "To", "Content-Type", "From"])
header_values = st.lists(st.sampled_from(list("ab <>@=?-\r\n\t;\"") + ["=?utf-8?q?a?=", "boundary=", "<r@x>"]),
                         max_size=120).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(header_names, header_values), max_size=40), st.binary(max_size=2000))
def test_bound_never_raises_and_what_it_passes_is_within_the_limits(fields, body):
    raw = b"".join(f"{name}: {value}\r\n".encode() for name, value in fields) + b"\r\n" + body
    result = bound(raw, SMALL)
    parsed = parse(raw, SMALL)
    assert (parsed.refusal is None) == (result.refusal is None) or parsed.refusal.code.startswith("attachment")
    if result.refusal is None:
        head = result.raw.split(b"\r\n\r\n", 1)[0]
        assert len(head) <= SMALL.header_bytes + 2
        assert len(parsed.references) <= SMALL.thread_ids
