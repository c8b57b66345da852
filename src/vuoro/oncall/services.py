"""Writes on on-call schedules: overrides, shift swaps, warnings about gaps, feed addresses."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vuoro.accounts.models import Role, User
from vuoro.notify.models import DeskNotification
from vuoro.notify.services import Notice, notice_recipients, notice_send
from vuoro.oncall.models import FeedKey, Override, Schedule
from vuoro.oncall.schedule import ScheduleError
from vuoro.oncall.selectors import feed_max_age, feed_token, pure_schedule


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


GAP_HORIZON = dt.timedelta(days=7)
GAP_LOOKBACK = dt.timedelta(days=2)
GAP_CHECK_SECONDS = 600
_last_gap_check: dict[str, float] = {}


def _gap_render(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> Callable[[User], Notice]:
    zone = ZoneInfo(schedule.timezone)
    url = f"{settings.BASE_URL}/admin/oncall/schedule/{schedule.pk}/change/"

    def render(user: User) -> Notice:
        text = _("Nobody is on call in %(schedule)s from %(start)s to %(end)s.") % {
            "schedule": schedule.name,
            "start": start.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
            "end": end.astimezone(zone).strftime("%d.%m.%Y %H:%M"),
        }
        body = "\n".join([text, "", _("Add an override or a layer: %(url)s") % {"url": url}, ""])
        return Notice(text=text, subject=f"[{schedule.name}] {text}", body=body)

    return render


def _gaps_ahead(schedule: Schedule, now: dt.datetime,
                horizon: dt.timedelta) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """Gaps not yet over, each with a key that stays put as ``now`` moves on.

    Gaps are read from two days back so one already running keeps its real start, which
    names it; a gap cut by both ends of the range is the schedule standing empty.
    """
    a, b = now - GAP_LOOKBACK, now + horizon
    try:
        gaps = pure_schedule(schedule).gaps(a, b)
    except ScheduleError:
        return []
    found = []
    for start, end in gaps:
        if end <= now:
            continue
        if start > a:
            mark = str(int(start.timestamp()))
        elif end < b:
            mark = f"until-{int(end.timestamp())}"
        else:
            mark = "empty"
        found.append((max(start, now), end, f"oncall-gap-{schedule.pk}-{mark}"))
    return found


def gap_warnings_send(*, now: dt.datetime | None = None, horizon: dt.timedelta = GAP_HORIZON) -> int:
    """Warn about each gap in the next week of every schedule, once per gap.

    The schedule team's lead is told, and every admin (the people who can fix a schedule). The
    notice key names the schedule and the gap's start, so repeated scans write nothing new;
    a gap that moves (an override shortens it) is a new gap and is warned about anew.
    Returns the notices written.
    """
    now = now or timezone.now()
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk"))
    written = 0
    for schedule in Schedule.objects.select_related("team__lead"):
        lead = schedule.team.lead if schedule.team is not None else None
        for start, end, key in _gaps_ahead(schedule, now, horizon):
            if DeskNotification.objects.filter(key__startswith=f"{key}-").exists():
                continue  # warned already; the unique key would refuse a repeat anyway
            with transaction.atomic():
                written += notice_send(users=notice_recipients(lead, *admins), ticket=None, key=key,
                                       render=_gap_render(schedule, start, end), now=now)
    return written


def gap_warnings_scan() -> int:
    """The scheduler's step: ``gap_warnings_send`` at most every ten minutes per process."""
    last = _last_gap_check.get("at")
    if last is not None and time.monotonic() - last < GAP_CHECK_SECONDS:
        return 0
    _last_gap_check["at"] = time.monotonic()
    return gap_warnings_send()


# -- calendar feed addresses -------------------------------------------------------------------


def feed_path(kind: str, pk: int, now: dt.datetime | None = None) -> str:
    """The address of a schedule's (``"schedule"``) or a person's (``"person"``) calendar feed.

    Issues a key when the feed has no working one (never issued, revoked or expired), so the
    same address is shown until it is revoked or reaches ``VUORO_CALENDAR_FEED_DAYS``. Two
    callers issuing at once may each make one; both work until revoked.
    """
    now = now or timezone.now()
    key = (FeedKey.objects.filter(kind=kind, target_id=pk, revoked_at__isnull=True,
                                  created_at__gt=now - feed_max_age())
           .order_by("-created_at").first())
    if key is None:
        key = FeedKey.objects.create(kind=kind, target_id=pk, key=secrets.token_urlsafe(32), created_at=now)
    return reverse("oncall:feed", args=[feed_token(key)])


def feed_revoke(kind: str, pk: int) -> int:
    """Stop every address of one feed at once; the next ``feed_path`` issues a new one.

    Returns how many keys were revoked.
    """
    return FeedKey.objects.filter(kind=kind, target_id=pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
