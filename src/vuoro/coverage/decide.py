"""The intake triage decision out of hours: handle now, or log and wait for the next opening.

Pure: no Django. The inputs are facts the caller looked up at intake time.
"""

from dataclasses import dataclass
from enum import StrEnum

URGENT_PRIORITIES = frozenset({"P1", "P2"})
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
STOPS_WORK_ANSWERS = ("yes", "partly", "no")


class Action(StrEnum):
    NORMAL = "normal"  # the service is open: business as usual
    HANDLE_NOW = "handle_now"  # out of hours, urgent, covered or critical
    DEFER = "defer"  # out of hours, logged; waits for the next opening


class HandledBy(StrEnum):
    DESK = "desk"
    PARTNER = "partner"


class Reason(StrEnum):
    SERVICE_OPEN = "service_open"
    URGENT_COVERED = "urgent_covered"
    URGENT_CRITICAL = "urgent_critical"
    NOT_URGENT = "not_urgent"
    NOT_COVERED = "not_covered"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: Reason
    handled_by: HandledBy


def is_urgent(priority: str, stops_work: str) -> bool:
    """Work stops, or the priority is P1 or P2."""
    return stops_work == "yes" or priority in URGENT_PRIORITIES


def decide(*, service_open: bool, covered: bool, critical: bool, priority: str,
           stops_work: str) -> Decision:
    """What to do with a request arriving now.

    ``covered``: the service has an out-of-hours model and its partner covers this moment.
    A critical service is handled at once out of hours even without a partner: by the desk's
    own on-call.
    """
    if service_open:
        return Decision(Action.NORMAL, Reason.SERVICE_OPEN, HandledBy.DESK)
    if not is_urgent(priority, stops_work):
        return Decision(Action.DEFER, Reason.NOT_URGENT, HandledBy.DESK)
    if covered:
        return Decision(Action.HANDLE_NOW, Reason.URGENT_COVERED, HandledBy.PARTNER)
    if critical:
        return Decision(Action.HANDLE_NOW, Reason.URGENT_CRITICAL, HandledBy.DESK)
    return Decision(Action.DEFER, Reason.NOT_COVERED, HandledBy.DESK)
