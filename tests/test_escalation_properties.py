"""The pure escalation arithmetic and handover validation, checked by properties."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vuoro.paging import escalation as esc

START = dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.UTC)

targets = st.builds(esc.Target, kind=st.sampled_from(["schedule", "user", "team"]),
                    id=st.integers(1, 50))
steps = st.builds(esc.Step, targets=st.tuples(targets), wait_minutes=st.integers(0, 120))
policies = st.builds(esc.Policy, steps=st.lists(steps, min_size=1, max_size=6).map(tuple),
                     repeat_count=st.integers(0, esc.MAX_REPEAT),
                     fallback=st.none() | st.integers(1, 50))


@given(policies)
def test_every_step_fires_k_plus_one_times_then_the_fallback_once(policy):
    moves = esc.run_unacknowledged(policy, START)
    fired, last = moves[:-1], moves[-1]
    assert len(fired) == policy.total_steps() == (policy.repeat_count + 1) * len(policy.steps)
    assert not any(m.exhausted for m in fired)
    assert last.exhausted and last.fallback == policy.fallback and last.next_at is None
    assert [m.targets for m in fired] == [s.targets for s in policy.steps] * (policy.repeat_count + 1)


@given(policies)
def test_times_never_go_back_and_each_wait_is_the_step_before(policy):
    moves = esc.run_unacknowledged(policy, START)
    times = [START] + [m.next_at for m in moves[:-1]]
    assert times == sorted(times)
    for i, move in enumerate(moves[:-1]):
        step = policy.steps[move.cursor.step_index]
        assert times[i + 1] - times[i] == dt.timedelta(minutes=step.wait_minutes)


@given(policies)
def test_the_fallback_comes_after_all_the_waits(policy):
    moves = esc.run_unacknowledged(policy, START)
    total = sum(s.wait_minutes for s in policy.steps) * (policy.repeat_count + 1)
    assert moves[-2].next_at == START + dt.timedelta(minutes=total)


@given(policies)
def test_a_new_pass_is_marked_repeated(policy):
    moves = esc.run_unacknowledged(policy, START)
    repeated = [m.cursor.cycle for m in moves if m.repeated]
    assert repeated == list(range(1, policy.repeat_count + 1))


@given(policies, st.integers(0, 60))
def test_driving_at_any_later_instant_fires_the_same_step(policy, late_minutes):
    """An overdue page fires the step it was at; lateness moves the following times only."""
    late = START + dt.timedelta(minutes=late_minutes)
    on_time, overdue = esc.next_move(policy, esc.Cursor(), START), esc.next_move(policy, esc.Cursor(), late)
    assert on_time.targets == overdue.targets and on_time.next_cursor == overdue.next_cursor
    assert overdue.next_at - on_time.next_at == late - START


def test_a_policy_without_steps_has_no_move():
    with pytest.raises(esc.PolicyError):
        esc.next_move(esc.Policy(steps=()), esc.Cursor(), START)


def test_a_cursor_outside_the_policy_is_refused():
    policy = esc.Policy(steps=(esc.Step((esc.Target("user", 1),), 5),), repeat_count=1)
    for cursor in (esc.Cursor(2, 0), esc.Cursor(0, 1), esc.Cursor(1, 2)):
        with pytest.raises(esc.PolicyError):
            esc.next_move(policy, cursor, START)


# -- loops of handovers -----------------------------------------------------------------------


graphs = st.dictionaries(st.integers(0, 9), st.lists(st.integers(0, 9), max_size=4), max_size=10)


def reaches(graph, a, b) -> bool:
    seen, todo = set(), list(graph.get(a, []))
    while todo:
        node = todo.pop()
        if node == b:
            return True
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, [])
    return False


@settings(max_examples=300)
@given(graphs)
def test_every_reported_loop_is_a_real_loop(graph):
    for loop in esc.find_cycles(graph):
        assert len(set(loop)) == len(loop)
        for a, b in zip(loop, loop[1:] + loop[:1], strict=True):
            assert b in graph.get(a, [])


@settings(max_examples=300)
@given(graphs)
def test_every_node_on_a_loop_is_in_a_reported_one(graph):
    """Each node that can come back to itself shares a strongly connected part with a loop."""
    loops = esc.find_cycles(graph)
    for node in graph:
        if reaches(graph, node, node):
            assert any(node in loop or (reaches(graph, node, loop[0]) and reaches(graph, loop[0], node))
                       for loop in loops)


@settings(max_examples=300)
@given(graphs)
def test_loops_are_found_exactly_when_there_are_some(graph):
    has_loop = any(reaches(graph, node, node) for node in graph)
    assert bool(esc.find_cycles(graph)) == has_loop


def test_two_separate_loops_are_both_named():
    graph = {"A": ["B"], "B": ["A"], "C": ["D"], "D": ["C"], "E": ["A"]}
    loops = {frozenset(loop) for loop in esc.find_cycles(graph)}
    assert loops == {frozenset("AB"), frozenset("CD")}


def test_a_long_chain_does_not_overflow():
    graph = {i: [i + 1] for i in range(5000)}
    assert esc.find_cycles(graph) == []
    graph[5000] = [0]
    assert len(esc.find_cycles(graph)[0]) == 5001


def test_handover_loops_and_empty_policies_are_found_among_policies():
    def hand(to: int) -> esc.Step:
        return esc.Step((esc.Target("policy", to),), 5)

    policies = {1: esc.Policy(steps=(hand(2),), name="A"), 2: esc.Policy(steps=(hand(1),), name="B"),
                3: esc.Policy(steps=(), name="C")}
    assert esc.empty_policies(policies) == [3]
    assert [set(loop) for loop in esc.handover_loops(policies)] == [{1, 2}]


@given(policies)
def test_a_snapshot_round_trips(policy):
    assert esc.policy_from_data(esc.policy_to_data(policy)) == policy
