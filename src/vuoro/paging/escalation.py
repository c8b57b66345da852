"""Escalation timing and policy validation, as plain data and arithmetic (no Django).

A policy is a list of steps, each with targets and a wait; the whole list runs ``repeat_count``
more times after the first pass, and then the fallback person is paged once. A page's position
in its policy is a cursor ``(cycle, step_index)``: the step to fire when the page is next due.
``step_index == len(steps)`` in the last cycle means "exhausted": only the fallback is left.

A target of kind ``policy`` hands the page over to another policy; validation refuses policies
whose handovers form a loop, naming the loop, so a handover always ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

TARGET_KINDS = ("schedule", "user", "team", "policy")
MAX_REPEAT = 9

K = TypeVar("K", bound=Hashable)


class PolicyError(ValueError):
    """A policy that cannot run: no steps, or handovers that loop."""


@dataclass(frozen=True)
class Target:
    kind: str  # one of TARGET_KINDS
    id: int


@dataclass(frozen=True)
class Step:
    targets: tuple[Target, ...]
    wait_minutes: int


@dataclass(frozen=True)
class Policy:
    steps: tuple[Step, ...]
    repeat_count: int = 0
    fallback: int | None = None  # a user id
    name: str = ""

    def total_steps(self) -> int:
        """Steps fired before the fallback when nobody acknowledges: (K + 1) · len(steps)."""
        return (self.repeat_count + 1) * len(self.steps)


@dataclass(frozen=True)
class Cursor:
    cycle: int = 0
    step_index: int = 0


@dataclass(frozen=True)
class Move:
    """What happens when a page is due at ``cursor``.

    ``exhausted``: every step has fired K + 1 times; page the fallback once, nothing follows
    (``next_cursor`` and ``next_at`` are None). Otherwise notify ``targets`` (a ``policy``
    target among them hands over), and come back at ``next_at`` with ``next_cursor``.
    ``repeated`` is true when this step starts a new pass over the steps.
    """

    cursor: Cursor
    targets: tuple[Target, ...]
    next_cursor: Cursor | None
    next_at: dt.datetime | None
    exhausted: bool = False
    repeated: bool = False
    fallback: int | None = None

    @property
    def handover(self) -> int | None:
        """The policy this step hands the page over to, if any (the first one named)."""
        return next((t.id for t in self.targets if t.kind == "policy"), None)


def next_move(policy: Policy, cursor: Cursor, now: dt.datetime) -> Move:
    """The move due at ``now`` for a page at ``cursor``; raises PolicyError on a bad cursor."""
    count = len(policy.steps)
    if count == 0:
        raise PolicyError("A policy needs at least one step.")
    if cursor.cycle < 0 or cursor.step_index < 0 or cursor.cycle > policy.repeat_count:
        raise PolicyError(f"Cursor {cursor} is outside the policy.")
    if cursor.step_index >= count:
        if cursor.cycle != policy.repeat_count or cursor.step_index != count:
            raise PolicyError(f"Cursor {cursor} is outside the policy.")
        return Move(cursor=cursor, targets=(), next_cursor=None, next_at=None, exhausted=True,
                    fallback=policy.fallback)
    step = policy.steps[cursor.step_index]
    if cursor.step_index + 1 < count:
        following = Cursor(cursor.cycle, cursor.step_index + 1)
    elif cursor.cycle < policy.repeat_count:
        following = Cursor(cursor.cycle + 1, 0)
    else:
        following = Cursor(cursor.cycle, count)  # exhausted after the last wait
    return Move(
        cursor=cursor,
        targets=step.targets,
        next_cursor=following,
        next_at=now + dt.timedelta(minutes=step.wait_minutes),
        repeated=cursor.step_index == 0 and cursor.cycle > 0,
    )


def run_unacknowledged(policy: Policy, start: dt.datetime) -> list[Move]:
    """Every move of a page nobody acknowledges, each fired exactly when it falls due."""
    moves: list[Move] = []
    cursor: Cursor | None = Cursor()
    at: dt.datetime | None = start
    while cursor is not None and at is not None:
        move = next_move(policy, cursor, at)
        moves.append(move)
        cursor, at = move.next_cursor, move.next_at
    return moves


# -- validation -------------------------------------------------------------------------------


def find_cycles(graph: Mapping[K, Iterable[K]]) -> list[list[K]]:
    """One loop per strongly connected part of ``graph`` that has one, as its nodes in order.

    A loop ``[a, b]`` means a → b → a; a self-loop is ``[a]``. Nodes named only as targets
    count as nodes with no edges. Tarjan's algorithm, iterative so deep graphs do not overflow.
    """
    edges: dict[K, list[K]] = {node: list(targets) for node, targets in graph.items()}
    for targets in list(edges.values()):
        for target in targets:
            edges.setdefault(target, [])
    index: dict[K, int] = {}
    low: dict[K, int] = {}
    on_stack: set[K] = set()
    stack: list[K] = []
    components: list[list[K]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[K, int]] = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, position = work[-1]
            if position < len(edges[node]):
                work[-1] = (node, position + 1)
                target = edges[node][position]
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[K] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return [loop for component in components if (loop := _loop_in(component, edges))]


def _loop_in(component: list[K], edges: Mapping[K, list[K]]) -> list[K]:
    """A simple loop through the component's first node, or [] if the component has none."""
    members = set(component)
    start = component[0]
    if len(component) == 1:
        return [start] if start in edges[start] else []
    # Breadth-first search from start back to start inside the component.
    came_from: dict[K, K] = {}
    frontier = [start]
    while frontier:
        following: list[K] = []
        for node in frontier:
            for target in edges[node]:
                if target not in members:
                    continue
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return list(reversed(path))
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    return []  # unreachable for a strongly connected component of two or more nodes


def empty_policies(policies: Mapping[K, Policy]) -> list[K]:
    return [key for key, policy in policies.items() if not policy.steps]


def handover_loops(policies: Mapping[K, Policy]) -> list[list[K]]:
    """Every loop of handovers among the policies, as policy keys in order (see find_cycles)."""
    return find_cycles(handover_graph(policies))


def handover_graph(policies: Mapping[K, Policy]) -> dict[K, list[Any]]:
    return {
        key: [t.id for step in policy.steps for t in step.targets if t.kind == "policy"]
        for key, policy in policies.items()
    }


# -- snapshots --------------------------------------------------------------------------------


def policy_to_data(policy: Policy) -> dict[str, Any]:
    """A JSON-ready copy of a policy, for the page's snapshot."""
    return {
        "name": policy.name,
        "repeat_count": policy.repeat_count,
        "fallback": policy.fallback,
        "steps": [
            {"wait_minutes": s.wait_minutes, "targets": [[t.kind, t.id] for t in s.targets]}
            for s in policy.steps
        ],
    }


def policy_from_data(data: Mapping[str, Any]) -> Policy:
    return Policy(
        name=str(data.get("name", "")),
        repeat_count=int(data.get("repeat_count", 0)),
        fallback=data.get("fallback"),
        steps=tuple(
            Step(
                wait_minutes=int(s["wait_minutes"]),
                targets=tuple(Target(str(kind), int(pk)) for kind, pk in s["targets"]),
            )
            for s in data.get("steps", [])
        ),
    )
