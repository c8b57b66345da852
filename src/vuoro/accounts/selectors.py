"""Reads on accounts."""

from django.db.models import QuerySet

from vuoro.accounts.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, revoked ones included (they show when and why)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def user_find(identifier: int | str) -> User | None:
    """An active user by id or by email address (case-insensitive); None if there is none."""
    qs = User.objects.filter(is_active=True).select_related("organisation")
    if isinstance(identifier, int):
        return qs.filter(pk=identifier).first()
    return qs.filter(email__iexact=identifier.strip()).order_by("id").first()
