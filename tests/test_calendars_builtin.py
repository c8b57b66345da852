"""Built-in calendars after migrate, the demo's service hours, and the compiled-calendar cache."""

import datetime as dt
import importlib

from django.apps import apps

from vuoro.calendars.models import Calendar, OpeningHours
from vuoro.calendars.selectors import business_calendar_for
from vuoro.calendars.services import builtin_calendars, calendar_touch
from vuoro.catalog.models import Service
from vuoro.ops.demo import load_demo

MONDAY_EVENING = dt.datetime(2026, 11, 23, 17, 0, tzinfo=dt.UTC)  # 19:00 in Helsinki


def test_migrate_creates_the_around_the_clock_calendar(db):
    calendar = Calendar.objects.get(name="24/7")
    assert calendar.always_open is True
    assert calendar.timezone == "Europe/Helsinki"


def test_migrate_creates_finnish_office_hours(db):
    calendar = Calendar.objects.get(name="Arkisin 8–16")
    assert calendar.holiday_country == "FI"
    assert list(calendar.opening_hours.values_list("weekday", "start", "end")) == [
        (day, dt.time(8), dt.time(16)) for day in range(5)]


def test_running_the_data_migration_again_adds_nothing(db):
    migration = importlib.import_module("vuoro.calendars.migrations.0002_builtin_calendars")
    migration.create_builtin_calendars(apps, None)
    assert Calendar.objects.filter(name__in=["24/7", "Arkisin 8–16"]).count() == 2
    assert OpeningHours.objects.filter(calendar__name="Arkisin 8–16").count() == 5


def test_builtin_calendars_are_found_not_duplicated(db):
    found = builtin_calendars()
    assert found.always_open == Calendar.objects.get(name="24/7")
    assert found.office_hours == Calendar.objects.get(name="Arkisin 8–16")
    assert Calendar.objects.count() == 2


def test_a_deleted_builtin_calendar_is_made_again(db):
    Calendar.objects.filter(name="Arkisin 8–16").delete()
    office = builtin_calendars().office_hours
    assert office.opening_hours.count() == 5
    assert business_calendar_for(office).is_open(dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)) is True


def test_demo_services_keep_office_hours_and_critical_ones_are_covered_at_night(db):
    from vuoro.coverage.models import CoverageModel, ServiceCoverage

    load_demo()
    hours = dict(Service.objects.values_list("slug", "calendar__name"))
    assert hours == {"email": "Arkisin 8–16", "erp": "Arkisin 8–16", "workstations": "Arkisin 8–16",
                     "access": "Arkisin 8–16"}
    covered = dict(ServiceCoverage.objects.values_list("service__slug", "model"))
    assert covered == {"email": CoverageModel.GUIDED_ACTIONS, "erp": CoverageModel.CATCH_DISPATCH}


def test_a_touched_calendar_is_compiled_afresh(db):
    calendar = Calendar.objects.create(name="Desk hours", holiday_country="")
    row = OpeningHours.objects.create(calendar=calendar, weekday=0, start=dt.time(8), end=dt.time(16))
    before = business_calendar_for(calendar)
    assert before.is_open(MONDAY_EVENING) is False
    OpeningHours.objects.filter(pk=row.pk).update(end=dt.time(20))
    assert business_calendar_for(calendar) is before  # untouched: the cached copy stays
    calendar_touch(calendar=calendar)
    assert business_calendar_for(calendar).is_open(MONDAY_EVENING) is True


def test_the_stored_version_changes_when_touched(db):
    calendar = Calendar.objects.create(name="Desk hours")
    stamp = calendar.updated_at
    calendar_touch(calendar=calendar)
    calendar.refresh_from_db()
    assert calendar.updated_at > stamp
