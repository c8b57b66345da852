"""Sign-in, the landing redirect by role, and the remembered language switch."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

SUPPORTED = {code for code, _ in settings.LANGUAGES}


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def home(request):  # type: ignore[no-untyped-def]
    """Requesters land in the portal, everyone else in the desk."""
    if not request.user.is_authenticated:
        return redirect("portal:home")
    if request.user.uses_desk:
        return redirect("desk:queue")
    return redirect("portal:home")


@require_POST
def set_language(request):  # type: ignore[no-untyped-def]
    """Switch language; remembered on the user (if signed in) and in a cookie."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in SUPPORTED:
        if request.user.is_authenticated and request.user.language != language:
            request.user.language = language
            request.user.save(update_fields=["language"])
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600,
            samesite="Lax", secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
        )
    return response


def api_tokens(request):  # type: ignore[no-untyped-def]
    """Personal API tokens page (list, issue, revoke). Implemented with the API."""
    raise NotImplementedError
