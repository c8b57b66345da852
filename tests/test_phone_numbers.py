"""Phone numbers normalise to E.164 however they were typed; webhook signatures check out."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from vuoro.accounts.phone_numbers import normalise
from vuoro.telephony.signing import refusal, sign

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_common_finnish_forms_are_one_number():
    forms = ["+358 40 123 4567", "040-123 4567", "00358401234567", "(040) 123.4567", "+358401234567"]
    assert {normalise(f) for f in forms} == {"+358401234567"}


def test_garbage_is_not_a_number():
    assert normalise("") is None
    assert normalise("call me") is None
    assert normalise("+12") is None
    assert normalise("+0401234567") is None


@given(st.text(max_size=30))
def test_result_is_always_e164_or_none(raw):
    result = normalise(raw)
    assert result is None or (result.startswith("+") and result[1:].isdigit() and 8 <= len(result) <= 16)


@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_e164_is_a_fixed_point(number):
    assert normalise(number) == number
    assert normalise(normalise(number)) == number


@given(st.binary(max_size=200), st.integers(min_value=-299, max_value=299))
def test_a_fresh_signed_body_is_accepted(body, skew):
    stamp = str(int(NOW.timestamp()) + skew)
    assert refusal(secret="s3", timestamp=stamp, body=body, signature=sign(secret="s3", timestamp=stamp, body=body),
                   now=NOW) is None


@given(st.binary(max_size=200), st.binary(min_size=1, max_size=5))
def test_a_changed_body_is_refused(body, extra):
    stamp = str(int(NOW.timestamp()))
    signature = sign(secret="s3", timestamp=stamp, body=body)
    assert refusal(secret="s3", timestamp=stamp, body=body + extra, signature=signature, now=NOW) == "signature"


def test_old_wrong_or_missing_is_refused():
    body = b"{}"
    old = str(int(NOW.timestamp()) - 301)
    assert refusal(secret="s3", timestamp=old, body=body, signature=sign(secret="s3", timestamp=old, body=body),
                   now=NOW) == "stale"
    fresh = str(int(NOW.timestamp()))
    assert refusal(secret="s3", timestamp=fresh, body=body, signature=sign(secret="other", timestamp=fresh,
                                                                           body=body), now=NOW) == "signature"
    assert refusal(secret="", timestamp=fresh, body=body, signature=sign(secret="", timestamp=fresh, body=body),
                   now=NOW) == "signature"
    assert refusal(secret="s3", timestamp="x", body=body, signature=sign(secret="s3", timestamp="x", body=body),
                   now=NOW) == "stale"
