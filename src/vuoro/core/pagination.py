"""Keyset ("seek") pagination: pages cost the same at row 10 and row 100,000.

A cursor is the sort key of the last row shown, signed so it cannot be forged into a filter.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet

SALT = "vuoro.keyset"


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    return signing.dumps(plain, salt=SALT, compress=True)


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The sort values in a cursor, or None; raises ValueError on a forged or broken cursor."""
    if not cursor:
        return None
    try:
        values = signing.loads(cursor, salt=SALT)
    except signing.BadSignature:
        raise ValueError("invalid cursor") from None
    if not isinstance(values, list):
        raise ValueError("invalid cursor")
    return values


def _after(ordering: list[str], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``ordering`` (each field "-f" descending or "f")."""
    condition = Q(pk__in=[])
    for i, spec in enumerate(ordering):
        name = spec.lstrip("-")
        lookup = "lt" if spec.startswith("-") else "gt"
        part = Q(**{f"{name}__{lookup}": values[i]})
        for prev_spec, prev_value in zip(ordering[:i], values[:i], strict=True):
            part &= Q(**{prev_spec.lstrip("-"): prev_value})
        condition |= part
    return condition


def keyset_page(qs: QuerySet, ordering: list[str], cursor: str | None, size: int) -> Page:
    """One page of ``qs`` ordered by ``ordering`` (must end in a unique field such as -id)."""
    values = decode_cursor(cursor)
    if values is not None:
        if len(values) != len(ordering):
            raise ValueError("invalid cursor")
        values = [
            dt.datetime.fromisoformat(v) if isinstance(v, str) and _looks_like_datetime(v) else v
            for v in values
        ]
        qs = qs.filter(_after(ordering, values))
    rows = list(qs.order_by(*ordering)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode([_value(last, spec.lstrip("-")) for spec in ordering])
    return Page(rows, next_cursor)


def _value(row: Any, name: str) -> Any:
    return getattr(row, name.replace("__", "_") if name.endswith("__id") else name)


def _looks_like_datetime(value: str) -> bool:
    return len(value) >= 19 and value[4] == "-" and value[10] == "T"
