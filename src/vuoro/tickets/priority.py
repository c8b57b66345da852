"""Impact × urgency → priority (ITIL), and the plain-words intake questions behind them.

Pure: no Django imports, so the grid can be property-tested and reused by every channel.
"""

from collections.abc import Mapping
from enum import StrEnum


class Level(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class StopsWork(StrEnum):
    """Answer to "does this stop your work?"."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class Affected(StrEnum):
    """Answer to "how many people are affected?"."""

    ME = "me"
    TEAM = "team"
    MANY = "many"


PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

# (impact, urgency) → priority. High/High is P1, Low/Low is P5.
DEFAULT_MATRIX: dict[tuple[Level, Level], str] = {
    (Level.HIGH, Level.HIGH): "P1",
    (Level.HIGH, Level.MEDIUM): "P2",
    (Level.HIGH, Level.LOW): "P3",
    (Level.MEDIUM, Level.HIGH): "P2",
    (Level.MEDIUM, Level.MEDIUM): "P3",
    (Level.MEDIUM, Level.LOW): "P4",
    (Level.LOW, Level.HIGH): "P3",
    (Level.LOW, Level.MEDIUM): "P4",
    (Level.LOW, Level.LOW): "P5",
}

URGENCY_FOR_STOPS_WORK = {
    StopsWork.YES: Level.HIGH,
    StopsWork.PARTLY: Level.MEDIUM,
    StopsWork.NO: Level.LOW,
}
IMPACT_FOR_AFFECTED = {Affected.MANY: Level.HIGH, Affected.TEAM: Level.MEDIUM, Affected.ME: Level.LOW}


def urgency_from_answer(stops_work: str) -> Level:
    return URGENCY_FOR_STOPS_WORK[StopsWork(stops_work)]


def impact_from_answer(affected: str) -> Level:
    return IMPACT_FOR_AFFECTED[Affected(affected)]


def priority_for(
    impact: str, urgency: str, matrix: Mapping[tuple[str, str], str] | None = None
) -> str:
    """Priority of an impact/urgency pair; ``matrix`` overrides cells of the default grid."""
    key = (Level(impact), Level(urgency))
    if matrix and (key[0].value, key[1].value) in matrix:
        return matrix[(key[0].value, key[1].value)]
    return DEFAULT_MATRIX[key]


def validate_matrix(matrix: Mapping[tuple[str, str], str]) -> list[str]:
    """Problems with a configured grid: unknown levels or priorities, or a cell that ranks a
    less severe pair above a more severe one (more impact or urgency must never lower priority)."""
    problems: list[str] = []
    full = dict(DEFAULT_MATRIX)
    for (impact, urgency), priority in matrix.items():
        try:
            key = (Level(impact), Level(urgency))
        except ValueError:
            problems.append(f"unknown level in ({impact}, {urgency})")
            continue
        if priority not in PRIORITIES:
            problems.append(f"unknown priority {priority!r}")
            continue
        full[key] = priority
    order = [Level.LOW, Level.MEDIUM, Level.HIGH]
    for i_idx, impact in enumerate(order):
        for u_idx, urgency in enumerate(order):
            here = PRIORITIES.index(full[(impact, urgency)])
            if i_idx + 1 < len(order) and PRIORITIES.index(full[(order[i_idx + 1], urgency)]) > here:
                problems.append(f"higher impact than {impact} lowers priority at urgency {urgency}")
            if u_idx + 1 < len(order) and PRIORITIES.index(full[(impact, order[u_idx + 1])]) > here:
                problems.append(f"higher urgency than {urgency} lowers priority at impact {impact}")
    return problems
