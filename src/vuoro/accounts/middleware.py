"""The user's language is remembered on the user row and used on every request."""

from django.conf import settings
from django.utils import translation

SUPPORTED = {code for code, _ in settings.LANGUAGES}


class RememberLanguageMiddleware:
    """After authentication: activate the user's stored language unless ?lang= changes it."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request):  # type: ignore[no-untyped-def]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in SUPPORTED:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
