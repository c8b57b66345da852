"""The out-of-hours triage decision as pure logic: examples and properties."""

from hypothesis import given
from hypothesis import strategies as st

from vuoro.coverage.decide import (
    PRIORITIES,
    STOPS_WORK_ANSWERS,
    Action,
    HandledBy,
    Reason,
    decide,
    is_urgent,
)

facts = st.fixed_dictionaries({
    "service_open": st.booleans(),
    "covered": st.booleans(),
    "critical": st.booleans(),
    "priority": st.sampled_from(PRIORITIES),
    "stops_work": st.sampled_from(STOPS_WORK_ANSWERS),
})


def test_work_stopping_request_on_a_covered_service_out_of_hours_goes_to_the_partner():
    decision = decide(service_open=False, covered=True, critical=True, priority="P3", stops_work="yes")
    assert (decision.action, decision.reason, decision.handled_by) == (
        Action.HANDLE_NOW, Reason.URGENT_COVERED, HandledBy.PARTNER)


def test_urgent_request_on_an_uncovered_critical_service_is_handled_by_the_desk():
    decision = decide(service_open=False, covered=False, critical=True, priority="P2", stops_work="no")
    assert (decision.action, decision.reason, decision.handled_by) == (
        Action.HANDLE_NOW, Reason.URGENT_CRITICAL, HandledBy.DESK)


def test_urgent_request_on_an_uncovered_ordinary_service_waits():
    decision = decide(service_open=False, covered=False, critical=False, priority="P1", stops_work="yes")
    assert (decision.action, decision.reason) == (Action.DEFER, Reason.NOT_COVERED)


def test_partly_stopping_low_priority_request_waits_even_when_covered():
    decision = decide(service_open=False, covered=True, critical=True, priority="P4", stops_work="partly")
    assert (decision.action, decision.reason) == (Action.DEFER, Reason.NOT_URGENT)


@given(facts)
def test_an_open_service_is_always_business_as_usual(kw):
    kw["service_open"] = True
    decision = decide(**kw)
    assert decision.action == Action.NORMAL and decision.handled_by == HandledBy.DESK


@given(facts)
def test_p1_and_p2_are_never_deferred_on_a_covered_or_critical_service(kw):
    kw["priority"] = kw["priority"] if kw["priority"] in ("P1", "P2") else "P1"
    if kw["covered"] or kw["critical"]:
        assert decide(**kw).action != Action.DEFER


@given(facts)
def test_handling_now_requires_coverage_or_criticality_and_urgency(kw):
    decision = decide(**kw)
    if decision.action == Action.HANDLE_NOW:
        assert not kw["service_open"]
        assert kw["covered"] or kw["critical"]
        assert is_urgent(kw["priority"], kw["stops_work"])


@given(facts)
def test_the_partner_handles_only_when_it_covers(kw):
    decision = decide(**kw)
    if decision.handled_by == HandledBy.PARTNER:
        assert kw["covered"] and decision.action == Action.HANDLE_NOW


@given(facts)
def test_out_of_hours_every_request_is_handled_now_or_deferred(kw):
    kw["service_open"] = False
    assert decide(**kw).action in (Action.HANDLE_NOW, Action.DEFER)
