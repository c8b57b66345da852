"""Runbooks as data: an ordered list of steps and the rules that walk them.

A runbook is the service's agreed steps for the partner on duty. It is stored as JSON, one
dict per step::

    {"key": "webmail", "kind": "question",
     "text": {"fi": "Toimiiko selainposti?", "en": "Does webmail work?", "sv": "..."},
     "choices": [{"label": {"fi": "Kyllä", ...}, "target": "guide"},
                 {"label": {"fi": "Ei", ...}, "target": "status"}]}

Kinds and their answers:

- ``instruction``: answer ``done`` → ``next``.
- ``check``: answer ``ok`` → ``next``; ``failed`` → ``on_fail`` (required).
- ``question``: answer is the index of a choice (``"0"``, ``"1"``, …) → that choice's ``target``.
- ``escalate_if``: answer ``yes`` → escalate; ``no`` → ``next``.

A target is another step's key, ``resolve`` or ``escalate``. ``next`` defaults to the following
step, and the last step's to ``resolve``. A valid runbook has no cycle and every step can be
reached from the first, so any run ends in resolve or escalate within ``len(steps)`` answers.

No Django here: the caller passes its ``gettext`` to ``validate`` so problems read in the
user's language.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

RESOLVE = "resolve"
ESCALATE = "escalate"
ENDINGS = frozenset({RESOLVE, ESCALATE})

INSTRUCTION = "instruction"
CHECK = "check"
QUESTION = "question"
ESCALATE_IF = "escalate_if"
KINDS = (INSTRUCTION, CHECK, QUESTION, ESCALATE_IF)

LANGUAGES = ("fi", "en", "sv")

Step = Mapping[str, Any]
Steps = Sequence[Step]


class AnswerError(ValueError):
    """The answer does not fit the step (or the step is not in the runbook)."""


def _same(message: str) -> str:
    return message


def localised(texts: Any, language: str | None) -> str:
    """The text in ``language``, else Finnish (always present in a valid runbook)."""
    if isinstance(texts, str):
        return texts
    if not isinstance(texts, Mapping):
        return ""
    lang = (language or "fi")[:2]
    return str(texts.get(lang) or texts.get("fi") or "")


def step_text(step: Step, language: str | None = None) -> str:
    return localised(step.get("text"), language)


def keys(steps: Steps) -> list[str]:
    return [str(step.get("key", "")) for step in steps]


def step_by_key(steps: Steps, key: str) -> Step:
    for step in steps:
        if step.get("key") == key:
            return step
    raise AnswerError(f"no step {key!r}")


def first_key(steps: Steps) -> str:
    return str(steps[0]["key"])


def default_next(steps: Steps, key: str) -> str:
    """Where ``done``/``ok``/``no`` lead: the explicit ``next``, else the following step."""
    position = keys(steps).index(key)
    explicit = steps[position].get("next")
    if explicit:
        return str(explicit)
    return str(steps[position + 1]["key"]) if position + 1 < len(steps) else RESOLVE


def answers(step: Step) -> list[str]:
    """The answers a step accepts, in the order the runner shows them."""
    kind = step.get("kind")
    if kind == INSTRUCTION:
        return ["done"]
    if kind == CHECK:
        return ["ok", "failed"]
    if kind == ESCALATE_IF:
        return ["yes", "no"]
    if kind == QUESTION:
        return [str(i) for i in range(len(step.get("choices") or []))]
    return []


def targets(steps: Steps, key: str) -> dict[str, str]:
    """Answer → target for the step ``key``."""
    step = step_by_key(steps, key)
    kind = step.get("kind")
    if kind == QUESTION:
        return {str(i): str(c.get("target", "")) for i, c in enumerate(step.get("choices") or [])}
    following = default_next(steps, key)
    if kind == CHECK:
        return {"ok": following, "failed": str(step.get("on_fail", ""))}
    if kind == ESCALATE_IF:
        return {"yes": ESCALATE, "no": following}
    return {"done": following}


def advance(steps: Steps, key: str, answer: str) -> str:
    """The step after answering ``answer`` at ``key``: a key, ``RESOLVE`` or ``ESCALATE``."""
    options = targets(steps, key)
    if answer not in options:
        raise AnswerError(f"{answer!r} is not an answer to step {key!r}")
    return options[answer]


def path(steps: Steps, answers_given: Sequence[str]) -> list[str]:
    """The keys visited when answering ``answers_given`` from the start, ending with the
    ending reached (if the answers get that far)."""
    visited: list[str] = []
    current = first_key(steps)
    for answer in answers_given:
        visited.append(current)
        current = advance(steps, current, answer)
        if current in ENDINGS:
            break
    visited.append(current)
    return visited


def _structure_problems(steps: Steps, _: Callable[[str], str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, Mapping):
            problems.append(_("Step %(n)s is not a step.") % {"n": number})
            continue
        key = step.get("key")
        if not isinstance(key, str) or not key.strip():
            problems.append(_("Step %(n)s has no key.") % {"n": number})
        elif key in ENDINGS:
            problems.append(_("Step %(n)s cannot use the key \"%(key)s\"; it is reserved.") % {
                "n": number, "key": key})
        elif key in seen:
            problems.append(_("The key \"%(key)s\" is used by more than one step.") % {"key": key})
        else:
            seen.add(key)
        name = key if isinstance(key, str) and key else str(number)
        if step.get("kind") not in KINDS:
            problems.append(_("Step \"%(key)s\" has an unknown kind \"%(kind)s\".") % {
                "key": name, "kind": step.get("kind", "")})
        if not localised(step.get("text"), "fi").strip() or isinstance(step.get("text"), str):
            problems.append(_("Step \"%(key)s\" has no Finnish text.") % {"key": name})
        problems += _kind_problems(step, name, _)
    return problems


def _kind_problems(step: Step, name: str, _: Callable[[str], str]) -> list[str]:
    kind = step.get("kind")
    problems: list[str] = []
    if kind == CHECK and not step.get("on_fail"):
        problems.append(_("Check \"%(key)s\" does not say where a failed check leads.") % {"key": name})
    if kind == QUESTION:
        choices = step.get("choices")
        if not isinstance(choices, list) or not choices:
            problems.append(_("Question \"%(key)s\" has no choices.") % {"key": name})
            return problems
        for number, choice in enumerate(choices, start=1):
            if not isinstance(choice, Mapping) or not localised(choice.get("label"), "fi").strip():
                problems.append(_("Choice %(n)s of question \"%(key)s\" has no Finnish label.") % {
                    "n": number, "key": name})
            if not isinstance(choice, Mapping) or not choice.get("target"):
                problems.append(_("Choice %(n)s of question \"%(key)s\" does not say where it leads.") % {
                    "n": number, "key": name})
    return problems


def _edges(steps: Steps) -> dict[str, list[str]]:
    return {key: [t for t in targets(steps, key).values() if t] for key in keys(steps)}


def _find_cycle(edges: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A cycle reachable from ``start`` as a list of keys, or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    trail: list[str] = []
    stack: list[tuple[str, int]] = [(start, 0)]
    while stack:
        node, index = stack.pop()
        if index == 0:
            state[node] = 1
            trail.append(node)
        following = [t for t in edges.get(node, []) if t in edges]
        if index < len(following):
            stack.append((node, index + 1))
            target = following[index]
            if state.get(target) == 1:
                return trail[trail.index(target):] + [target]
            if target not in state:
                stack.append((target, 0))
        else:
            state[node] = 2
            trail.pop()
    return None


def _reachable(edges: Mapping[str, Sequence[str]], start: str) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target in edges and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def validate(steps: Any, gettext: Callable[[str], str] = _same) -> list[str]:
    """Every problem with ``steps`` in plain words; an empty list means the runbook is valid."""
    _ = gettext
    if not isinstance(steps, list) or not steps:
        return [_("The runbook has no steps.")]
    problems = _structure_problems(steps, _)
    if problems:
        return problems
    known = set(keys(steps))
    for key in keys(steps):
        for target in targets(steps, key).values():
            if target not in known and target not in ENDINGS:
                problems.append(_("Step \"%(key)s\" leads to \"%(target)s\", which is not a step.") % {
                    "key": key, "target": target})
    if problems:
        return problems
    edges = _edges(steps)
    start = first_key(steps)
    unreachable = [key for key in keys(steps) if key not in _reachable(edges, start)]
    if unreachable:
        problems.append(_("No answer leads to these steps: %(keys)s.") % {"keys": ", ".join(unreachable)})
    for key in keys(steps):
        cycle = _find_cycle(edges, key)
        if cycle:
            problems.append(_("The steps go round in a circle: %(keys)s.") % {"keys": " → ".join(cycle)})
            break
    return problems
