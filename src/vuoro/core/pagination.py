"""Keyset ("seek") pagination: pages cost the same at row 10 and row 100,000.

A cursor is the sort key of the last row shown, signed so it cannot be forged into a filter.
A nullable sort field (a ticket's SLA due time) sorts its NULLs last in either direction, so rows
without a value come after every row with one on SQLite and PostgreSQL alike.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import F, Model, Q, QuerySet
from django.db.models.expressions import OrderBy

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


def _nullable(model: type[Model], name: str) -> bool:
    """Whether the sort field ``name`` (possibly across relations) may hold NULL."""
    *path, last = name.split("__")
    for part in path:
        model = model._meta.get_field(part).related_model
    field = model._meta.pk if last == "pk" else model._meta.get_field(last)
    return bool(field.null)


def _equal(name: str, value: Any) -> Q:
    return Q(**{f"{name}__isnull": True}) if value is None else Q(**{name: value})


def _beyond(spec: str, value: Any, nullable: bool) -> Q | None:
    """Rows strictly past ``value`` in one field; nothing sorts past a NULL (NULLs are last)."""
    if value is None:
        return None
    name = spec.lstrip("-")
    lookup = "lt" if spec.startswith("-") else "gt"
    condition = Q(**{f"{name}__{lookup}": value})
    return condition | Q(**{f"{name}__isnull": True}) if nullable else condition


def _from(spec: str, value: Any, nullable: bool) -> Q:
    """Rows at ``value`` or past it in one field: one range, where an index scan can start."""
    name = spec.lstrip("-")
    if value is None:
        return Q(**{f"{name}__isnull": True})
    lookup = "lte" if spec.startswith("-") else "gte"
    condition = Q(**{f"{name}__{lookup}": value})
    return condition | Q(**{f"{name}__isnull": True}) if nullable else condition


def _after(ordering: list[str], values: list[Any], nullable: list[bool]) -> Q:
    """Rows strictly after ``values`` in ``ordering`` (each field "-f" descending or "f").

    The first field's bound is stated once more on its own. It selects nothing the OR of the
    per-field conditions does not, but the OR alone is no range to an index: PostgreSQL then
    walks the sort index from the first row and filters, so the page in the middle of a
    million tickets read half a million rows. With the bound it starts at the cursor.
    """
    condition = Q(pk__in=[])
    equal = Q()
    for spec, value, null in zip(ordering, values, nullable, strict=True):
        beyond = _beyond(spec, value, null)
        if beyond is not None:
            condition |= equal & beyond
        equal &= _equal(spec.lstrip("-"), value)
    return _from(ordering[0], values[0], nullable[0]) & condition


def _order_by(spec: str, nullable: bool) -> str | OrderBy:
    if not nullable:
        return spec
    field = F(spec.lstrip("-"))
    return field.desc(nulls_last=True) if spec.startswith("-") else field.asc(nulls_last=True)


def keyset_page(qs: QuerySet, ordering: list[str], cursor: str | None, size: int) -> Page:
    """One page of ``qs`` ordered by ``ordering`` (must end in a unique field such as -id)."""
    values = decode_cursor(cursor)
    nullable = [_nullable(qs.model, spec.lstrip("-")) for spec in ordering]
    if values is not None:
        if len(values) != len(ordering):
            raise ValueError("invalid cursor")
        values = [
            dt.datetime.fromisoformat(v) if isinstance(v, str) and _looks_like_datetime(v) else v
            for v in values
        ]
        qs = qs.filter(_after(ordering, values, nullable))
    rows = list(qs.order_by(*map(_order_by, ordering, nullable))[: size + 1])
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
