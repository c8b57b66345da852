from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "vuoro.calendars"
    label = "calendars"

    def ready(self) -> None:
        from vuoro.calendars.models import Calendar, CalendarException, OpeningHours
        from vuoro.core.config_cache import watch

        watch(Calendar, OpeningHours, CalendarException)
