from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "vuoro.tickets"
    label = "tickets"
