"""Django's makemessages, also extracting ``_lazy(...)``: the alias the desk uses for
``gettext_lazy`` beside ``_`` for ``gettext`` (xgettext knows only the standard names)."""

from django.core.management.commands.makemessages import Command as MakeMessagesCommand


class Command(MakeMessagesCommand):
    xgettext_options = [*MakeMessagesCommand.xgettext_options, "--keyword=_lazy"]
