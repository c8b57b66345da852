"""Reads on accounts."""

from django.db.models import Q, QuerySet

from vuoro.accounts.models import ApiToken, Organisation, Role, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first, revoked ones included (they show when and why)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def user_find(identifier: int | str) -> User | None:
    """An active user by id or by email address (case-insensitive); None if there is none."""
    qs = User.objects.filter(is_active=True).select_related("organisation")
    if isinstance(identifier, int):
        return qs.filter(pk=identifier).first()
    return qs.filter(email__iexact=identifier.strip()).order_by("id").first()


def organisation_for_email(email: str) -> Organisation | None:
    """The organisation whose email domain matches the address, if one is configured."""
    domain = email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""
    if not domain:
        return None
    return Organisation.objects.filter(email_domain__iexact=domain).order_by("id").first()


def system_actor() -> User | None:
    """Who a machine's writes are recorded as (a hand-off's updates, a repeated call's note): the
    first active admin, as admins are the ones told when those systems fail."""
    return User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True).order_by("pk").first()
