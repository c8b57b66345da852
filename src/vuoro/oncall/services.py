"""Writes on on-call schedules: overrides and shift swaps."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vuoro.accounts.models import User
from vuoro.oncall.models import Override, Schedule
from vuoro.oncall.selectors import pure_schedule


def override_create(
    *,
    schedule: Schedule,
    user: User,
    start: dt.datetime,
    end: dt.datetime,
    reason: str = "",
    created_by: User | None = None,
) -> Override:
    """Put ``user`` on call over [start, end). Locks the schedule row; later overrides win."""
    if end <= start:
        raise ValidationError({"end": _("An override must end after it starts.")})
    with transaction.atomic():
        Schedule.objects.select_for_update().get(pk=schedule.pk)
        override = Override.objects.create(
            schedule=schedule, user=user, start=start, end=end, reason=reason, created_by=created_by
        )
        Schedule.objects.filter(pk=schedule.pk).update(updated_at=override.created_at)
    return override


def shift_swap(
    *,
    schedule: Schedule,
    first: tuple[dt.datetime, dt.datetime],
    second: tuple[dt.datetime, dt.datetime],
    created_by: User | None = None,
) -> tuple[Override, Override]:
    """Swap two shifts: whoever has ``first`` takes ``second`` and the other way round.

    One transaction with the schedule row locked, so the two overrides exist together or not at
    all and both are read from the same state of the schedule.
    """
    with transaction.atomic():
        Schedule.objects.select_for_update().get(pk=schedule.pk)
        current = pure_schedule(schedule)
        first_person, second_person = current.on_call(first[0]), current.on_call(second[0])
        if first_person is None or second_person is None:
            raise ValidationError(_("Nobody is on call in one of the shifts to swap."))
        users = {u.pk: u for u in User.objects.filter(pk__in={first_person, second_person})}
        reason = _("Shift swap")
        return (
            override_create(
                schedule=schedule,
                user=users[second_person],
                start=first[0],
                end=first[1],
                reason=reason,
                created_by=created_by,
            ),
            override_create(
                schedule=schedule,
                user=users[first_person],
                start=second[0],
                end=second[1],
                reason=reason,
                created_by=created_by,
            ),
        )
