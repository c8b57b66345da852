"""The pure runbook rules: validation in plain words, and that every valid run ends."""

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vuoro.runbooks import flow


def _t(fi: str) -> dict[str, str]:
    return {"fi": fi, "en": fi, "sv": fi}


def _step(key: str, kind: str, **extra) -> dict:
    return {"key": key, "kind": kind, "text": _t(f"Step {key}"), **extra}


EXAMPLE = [
    _step("ask", "instruction"),
    _step("webmail", "question", choices=[{"label": _t("Kyllä"), "target": "guide"},
                                          {"label": _t("Ei"), "target": "status"}]),
    _step("guide", "instruction", next="resolve"),
    _step("status", "check", on_fail="escalate"),
    _step("many", "escalate_if"),
]


def test_example_is_valid_and_walks_as_agreed():
    assert flow.validate(EXAMPLE) == []
    assert flow.path(EXAMPLE, ["done", "0", "done"]) == ["ask", "webmail", "guide", "resolve"]
    assert flow.path(EXAMPLE, ["done", "1", "failed"]) == ["ask", "webmail", "status", "escalate"]
    assert flow.path(EXAMPLE, ["done", "1", "ok", "yes"])[-1] == "escalate"
    assert flow.path(EXAMPLE, ["done", "1", "ok", "no"])[-1] == "resolve"


def test_advance_refuses_an_answer_the_step_does_not_offer():
    for key, answer in [("ask", "ok"), ("webmail", "2"), ("status", "done"), ("many", "maybe")]:
        try:
            flow.advance(EXAMPLE, key, answer)
        except flow.AnswerError:
            continue
        raise AssertionError(f"{key} accepted {answer}")


def test_validate_names_every_problem():
    assert flow.validate([]) == ["The runbook has no steps."]
    assert flow.validate("nonsense") == ["The runbook has no steps."]
    problems = flow.validate([
        _step("a", "instruction"),
        _step("a", "check"),
        _step("q", "question", choices=[]),
        {"key": "", "kind": "shout", "text": {"en": "no Finnish"}},
        _step("resolve", "instruction"),
    ])
    assert problems == [
        'The key "a" is used by more than one step.',
        'Check "a" does not say where a failed check leads.',
        'Question "q" has no choices.',
        "Step 4 has no key.",
        'Step "4" has an unknown kind "shout".',
        'Step "4" has no Finnish text.',
        'Step 5 cannot use the key "resolve"; it is reserved.',
    ]


def test_validate_finds_unknown_targets_unreachable_steps_and_cycles():
    assert flow.validate([_step("a", "instruction", next="nowhere")]) == [
        'Step "a" leads to "nowhere", which is not a step.']
    assert flow.validate([_step("a", "instruction", next="resolve"), _step("b", "instruction")]) == [
        "No answer leads to these steps: b."]
    assert flow.validate([_step("a", "instruction"), _step("b", "check", on_fail="a")]) == [
        "The steps go round in a circle: a → b → a."]


def test_validate_uses_the_given_translation():
    assert flow.validate([], gettext=lambda s: s.upper()) == ["THE RUNBOOK HAS NO STEPS."]


def test_texts_fall_back_to_finnish():
    step = {"key": "a", "kind": "instruction", "text": {"fi": "Tee näin", "en": "Do this", "sv": ""}}
    assert flow.step_text(step, "en") == "Do this"
    assert flow.step_text(step, "sv") == "Tee näin"


# --- properties -------------------------------------------------------------------------------

KINDS = st.sampled_from(flow.KINDS)


@st.composite
def runbooks(draw, forward_only: bool):
    """Random runbooks; with ``forward_only`` every explicit target points to a later step or an
    ending, otherwise anywhere (so cycles happen)."""
    size = draw(st.integers(min_value=1, max_value=8))
    keys = [f"s{i}" for i in range(size)]
    steps = []
    for i, key in enumerate(keys):
        pool = (keys[i + 1:] if forward_only else keys) + [flow.RESOLVE, flow.ESCALATE]
        target = st.sampled_from(pool)
        kind = draw(KINDS)
        step = _step(key, kind)
        if draw(st.booleans()):
            step["next"] = draw(target)
        if kind == flow.CHECK:
            step["on_fail"] = draw(target)
        if kind == flow.QUESTION:
            step["choices"] = [{"label": _t(f"c{n}"), "target": draw(target)}
                               for n in range(draw(st.integers(min_value=1, max_value=3)))]
        steps.append(step)
    return steps


def has_cycle(steps) -> bool:
    """Oracle: Kahn's algorithm over the explicit graph; a cycle leaves nodes with in-edges."""
    edges = {k: [t for t in flow.targets(steps, k).values() if t not in flow.ENDINGS]
             for k in flow.keys(steps)}
    incoming = {k: 0 for k in edges}
    for targets in edges.values():
        for t in targets:
            incoming[t] += 1
    ready = [k for k, n in incoming.items() if n == 0]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for t in edges[node]:
            incoming[t] -= 1
            if incoming[t] == 0:
                ready.append(t)
    return removed < len(edges)


@settings(max_examples=300)
@given(runbooks(forward_only=True), st.data())
def test_every_valid_runbook_ends_within_its_length(steps, data):
    assume(flow.validate(steps) == [])
    current = flow.first_key(steps)
    for _ in range(len(steps)):
        answer = data.draw(st.sampled_from(flow.answers(flow.step_by_key(steps, current))))
        current = flow.advance(steps, current, answer)
        if current in flow.ENDINGS:
            return
    raise AssertionError("the run did not end within len(steps) answers")


@settings(max_examples=300)
@given(runbooks(forward_only=False))
def test_validate_rejects_every_graph_with_a_cycle(steps):
    problems = flow.validate(steps)
    if has_cycle(steps):
        assert problems, "a runbook with a cycle passed validation"
    else:
        assert not any("circle" in p for p in problems)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.sampled_from(
        ["resolve", "escalate", "s0", "s1", "instruction", "check", "question", "escalate_if"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["key", "kind", "text", "fi", "next", "on_fail", "choices", "label", "target"]),
        inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=300)
@given(JSON)
def test_validate_explains_any_stored_json_without_failing(value):
    problems = flow.validate(value)
    assert all(isinstance(p, str) and p for p in problems)
