"""Admin pages for records that are history, not configuration: shown, never edited."""

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """No add, change or delete: the row is written by a service inside its transaction."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
