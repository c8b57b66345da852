from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "vuoro.calendars"
    label = "calendars"
