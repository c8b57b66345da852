"""Configuration read on every request, cached per process and dropped when it changes.

Services, categories and their forms, routing rules, the priority matrix, SLA policies,
coverage and team members change rarely but are read by every intake. ``cached(key, compute)``
keeps ``compute()``'s value per process. Apps name the models their cached values come from
with ``watch``; saving or deleting one of them (or changing a watched many-to-many) clears this
process's cache at once and bumps the ``ConfigVersion`` row in the same transaction. Every
other process compares that row at most every ``VUORO_CONFIG_CHECK_SECONDS`` (default 1 s)
and drops its cache when it moved: a change is seen everywhere within that time.

``cached_briefly(key, compute, seconds)`` is for values that also come from rows that are not
configuration (an API token's user): kept at most ``seconds`` besides, never a ``None``, and at
most ``BRIEF_LIMIT`` of them (the oldest go first), so keys chosen by strangers cannot grow it.

Guarantees and limits: cached values are shared between threads and must not be changed by
their readers. Writes that bypass model signals (``QuerySet.update``, ``bulk_create``) do not
clear the cache; configuration is written through the admin and services, which save rows.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from vuoro.core.models import ConfigVersion

T = TypeVar("T")

_values: dict[Hashable, Any] = {}
_brief: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
BRIEF_LIMIT = 1000
_lock = threading.Lock()
_state: dict[str, Any] = {"version": None, "checked_at": float("-inf")}


def _check_seconds() -> float:
    return float(getattr(settings, "VUORO_CONFIG_CHECK_SECONDS", 1.0))


def clear() -> None:
    """Drop this process's cached configuration (tests call it between tests)."""
    with _lock:
        _drop_all()
        _state["checked_at"] = float("-inf")


def _drop_all() -> None:
    _values.clear()
    _brief.clear()


def _stored_version() -> int:
    return ConfigVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def _fresh() -> None:
    now = time.monotonic()
    if now - _state["checked_at"] < _check_seconds():
        return
    version = _stored_version()
    with _lock:
        if version != _state["version"]:
            _drop_all()
            _state["version"] = version
        _state["checked_at"] = now


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s value for ``key``, from this process's cache while the config is unchanged."""
    _fresh()
    try:
        return _values[key]  # type: ignore[no-any-return]
    except KeyError:
        value = compute()
        _values[key] = value
        return value


def cached_briefly(key: Hashable, compute: Callable[[], T | None], seconds: float) -> T | None:
    """``compute()``'s value for ``key``, kept at most ``seconds`` and until the config changes.

    ``None`` is returned but not kept. At most ``BRIEF_LIMIT`` values are kept per process.
    """
    _fresh()
    now = time.monotonic()
    entry = _brief.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _brief.pop(key, None)
        if value is not None:
            _brief[key] = (now + seconds, value)
            while len(_brief) > BRIEF_LIMIT:
                _brief.popitem(last=False)
    return value


def forget(key: Hashable) -> None:
    """Drop the value ``cached_briefly`` keeps for ``key`` in this process."""
    with _lock:
        _brief.pop(key, None)


def config_changed() -> None:
    """Clear the cache here now and, through the version row, everywhere within a second."""
    _drop_all()
    if not ConfigVersion.objects.filter(pk=1).update(version=F("version") + 1):
        ConfigVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    # A value computed inside the changing transaction may hold what has not committed yet.
    transaction.on_commit(_drop_all)


def _on_change(sender: type[Model], **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    ignored = _ignored_fields.get(sender, frozenset())
    if fields is not None and ignored and set(fields) <= ignored:
        return
    if kwargs.get("raw"):  # fixtures loading
        return
    if kwargs.get("created") and sender in _creation_ignored:
        return
    config_changed()


_ignored_fields: dict[type[Model], frozenset[str]] = {}
_creation_ignored: set[type[Model]] = set()


def watch(*models: type[Model], ignore_fields: Iterable[str] = (), ignore_created: bool = False) -> None:
    """Clear cached configuration when a row of ``models`` is saved or deleted.

    A save naming only ``ignore_fields`` in ``update_fields`` (a user's last sign-in time) is
    not a configuration change. With ``ignore_created``, neither is a new row: no cached value
    can hold a row that did not exist (a contact created by mail intake). Many-to-many
    ``through`` models may be passed too.
    """
    for model in models:
        _ignored_fields[model] = frozenset(ignore_fields)
        if ignore_created:
            _creation_ignored.add(model)
        uid = f"config_cache:{model._meta.label}"
        post_save.connect(_on_change, sender=model, dispatch_uid=uid + ":save", weak=False)
        post_delete.connect(_on_change, sender=model, dispatch_uid=uid + ":delete", weak=False)
        m2m_changed.connect(_on_m2m, sender=model, dispatch_uid=uid + ":m2m", weak=False)


def _on_m2m(sender: type[Model], action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        config_changed()
