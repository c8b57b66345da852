"""The impact × urgency grid and the plain-words intake answers (pure, property-tested)."""

from hypothesis import given
from hypothesis import strategies as st

from vuoro.tickets import priority as p

levels = st.sampled_from(list(p.Level))
order = [p.Level.LOW, p.Level.MEDIUM, p.Level.HIGH]


def rank(level: p.Level) -> int:
    return order.index(level)


def test_corners_of_the_default_grid():
    assert p.priority_for("high", "high") == "P1"
    assert p.priority_for("low", "low") == "P5"
    assert p.priority_for("medium", "medium") == "P3"


@given(levels, levels, levels, levels)
def test_more_impact_or_urgency_never_lowers_priority(i1, u1, i2, u2):
    if rank(i1) <= rank(i2) and rank(u1) <= rank(u2):
        assert p.PRIORITIES.index(p.priority_for(i1, u1)) >= p.PRIORITIES.index(p.priority_for(i2, u2))


@given(levels, levels)
def test_grid_is_symmetric_in_impact_and_urgency(i, u):
    assert p.priority_for(i, u) == p.priority_for(u, i)


def test_work_stopping_answer_maps_to_high_urgency_and_many_people_to_high_impact():
    assert p.urgency_from_answer("yes") == p.Level.HIGH
    assert p.urgency_from_answer("partly") == p.Level.MEDIUM
    assert p.urgency_from_answer("no") == p.Level.LOW
    assert p.impact_from_answer("many") == p.Level.HIGH
    assert p.impact_from_answer("me") == p.Level.LOW


def test_configured_cell_overrides_default():
    assert p.priority_for("low", "high", {("low", "high"): "P2"}) == "P2"
    assert p.priority_for("high", "low", {("low", "high"): "P2"}) == "P3"


def test_validate_matrix_rejects_inversions_and_unknown_values():
    assert p.validate_matrix({}) == []
    assert p.validate_matrix({("high", "high"): "P5"})
    assert p.validate_matrix({("huge", "high"): "P1"}) == ["unknown level in (huge, high)"]
    assert p.validate_matrix({("high", "high"): "P9"}) == ["unknown priority 'P9'"]
