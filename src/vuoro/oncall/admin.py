"""Editing on-call schedules: layers and overrides inline, members on the layer page.

The schedule page shows who is on call now, the next seven days of shifts, any gaps in them,
and the iCalendar feed addresses. An address stops working when an admin revokes it under
"calendar feed addresses" (one schedule's or one person's) or when it expires; the schedule page
then shows a new one.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vuoro.accounts.models import User
from vuoro.oncall.models import FeedKey, Layer, LayerMember, Override, Schedule
from vuoro.oncall.schedule import ScheduleError
from vuoro.oncall.selectors import people_by_id, pure_schedule
from vuoro.oncall.services import feed_path, feed_revoke

WEEK = dt.timedelta(days=7)


def _local(at: dt.datetime, zone: ZoneInfo) -> str:
    return date_format(at.astimezone(zone), "D j.n. H:i")


class LayerInline(admin.StackedInline):
    model = Layer
    extra = 0
    show_change_link = True
    fields = (
        ("name", "order"),
        ("rotation", "length"),
        ("start_date", "handoff_time"),
        ("window_start", "window_end", "window_weekdays", "full_day_weekdays"),
    )


class OverrideInline(admin.TabularInline):
    model = Override
    extra = 0
    fields = ("user", "start", "end", "reason")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(end__gt=timezone.now() - WEEK)


class LayerMemberInline(admin.TabularInline):
    model = LayerMember
    extra = 0
    fields = ("position", "user")


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "team", "on_call_now")
    inlines = [LayerInline, OverrideInline]
    readonly_fields = ("on_call_now", "next_week", "feed")
    fields = ("name", "timezone", "team", "on_call_now", "next_week", "feed")

    def save_formset(self, request, form, formset, change):  # type: ignore[no-untyped-def]
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, Override) and instance.created_by_id is None:
                instance.created_by = request.user
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()

    @admin.display(description=gettext_lazy("on call now"))
    def on_call_now(self, obj: Schedule) -> str:
        if not obj.pk:
            return "–"
        try:
            person = pure_schedule(obj).on_call(timezone.now())
        except ScheduleError as exc:
            return str(exc)
        if person is None:
            return _("Nobody")
        return people_by_id({person})[person].display_name()

    @admin.display(description=gettext_lazy("next 7 days"))
    def next_week(self, obj: Schedule) -> SafeString | str:
        if not obj.pk:
            return "–"
        try:
            current = pure_schedule(obj)
        except ScheduleError as exc:
            return str(exc)
        zone = ZoneInfo(obj.timezone)
        now = timezone.now()
        shifts = current.shifts(now, now + WEEK)
        gaps = current.gaps(now, now + WEEK)
        people = people_by_id({s.person for s in shifts})
        rows = format_html_join(
            "",
            "<li>{} – {}: {} <small>({})</small></li>",
            (
                (
                    _local(s.start, zone),
                    _local(s.end, zone),
                    people[s.person].display_name() if s.person in people else s.person,
                    _("override") if s.layer == "override" else s.layer,
                )
                for s in shifts
            ),
        )
        warning = format_html_join(
            "",
            '<li class="errornote">{}</li>',
            (
                (
                    _("Nobody on call %(start)s – %(end)s")
                    % {"start": _local(a, zone), "end": _local(b, zone)},
                )
                for a, b in gaps
            ),
        )
        empty = format_html_join(
            "",
            '<li class="errornote">{}</li>',
            (
                (_("Layer %(layer)s has nobody in it.") % {"layer": layer.name},)
                for layer in obj.layers.filter(members__isnull=True)
            ),
        )
        return format_html("<ul>{}{}{}</ul>", rows, warning, empty)

    @admin.display(description=gettext_lazy("calendar feed"))
    def feed(self, obj: Schedule) -> SafeString | str:
        if not obj.pk:
            return "–"
        url = settings.BASE_URL + feed_path("schedule", obj.pk)
        people = User.objects.filter(oncall_layers__layer__schedule=obj).distinct().order_by("pk")
        personal = format_html_join(
            "",
            '<li>{}: <a href="{}">{}</a></li>',
            (
                (person.display_name(), link, link)
                for person in people
                for link in [settings.BASE_URL + feed_path("person", person.pk)]
            ),
        )
        return format_html('<a href="{0}">{0}</a><ul>{1}</ul>', url, personal)


@admin.register(Layer)
class LayerAdmin(admin.ModelAdmin):
    list_display = ("name", "schedule", "order", "rotation", "start_date", "handoff_time")
    list_filter = ("schedule",)
    inlines = [LayerMemberInline]


@admin.register(FeedKey)
class FeedKeyAdmin(admin.ModelAdmin):
    """Issued feed addresses; revoking one stops it at once (a calendar shared too widely)."""

    list_display = ("kind", "target", "created_at", "revoked_at")
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    readonly_fields = ("kind", "target_id", "created_at", "revoked_at")
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.display(description=gettext_lazy("schedule or person"))
    def target(self, obj: FeedKey) -> str:
        model = Schedule if obj.kind == "schedule" else User
        found = model.objects.filter(pk=obj.target_id).first()
        if found is None:
            return str(obj.target_id)
        return found.display_name() if isinstance(found, User) else str(found)

    @admin.action(description=gettext_lazy("Revoke the selected feed addresses"))
    def revoke(self, request, queryset):  # type: ignore[no-untyped-def]
        revoked = sum(feed_revoke(kind, pk) for kind, pk in
                      set(queryset.filter(revoked_at__isnull=True).values_list("kind", "target_id")))
        self.message_user(request, _("%(count)d feed addresses revoked; each feed gets a new one.")
                          % {"count": revoked})
