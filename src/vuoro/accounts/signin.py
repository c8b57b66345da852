"""Sign-in throttling's view of who is signing in (django-axes, configured in settings).

Attempts are counted per account and per address. The account is the username as typed,
trimmed and lower-cased, so "Admin", " admin" and "admin" are one account to the counter;
it is cut to 150 characters (the longest username) so an attacker cannot grow the table's keys.
"""

from typing import Any

from django.http import HttpRequest

USERNAME_MAX = 150


def attempted_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in attempt names, normalised; None when it names none."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username")
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower()[:USERNAME_MAX]


def locked_out(request: HttpRequest, original_response: Any = None, credentials: dict[str, Any] | None = None) -> Any:
    """The answer to a sign-in while it is paused: 429, saying why and for how long."""
    from django.conf import settings
    from django.shortcuts import render

    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "accounts/locked_out.html",
                  {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}, status=429)
