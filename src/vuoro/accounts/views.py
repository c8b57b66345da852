"""Sign-in, the landing redirect by role, the remembered language switch and API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vuoro.accounts.selectors import api_token_list
from vuoro.accounts.services import api_token_issue, api_token_revoke

SUPPORTED = {code for code, _ in settings.LANGUAGES}


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def home(request):  # type: ignore[no-untyped-def]
    """Requesters land in the portal, partner agents in their console, everyone else in the desk."""
    if not request.user.is_authenticated:
        return redirect("portal:home")
    if request.user.is_partner:
        return redirect("partner:queue")
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


TOKEN_NAME_MAX = 100


@login_required
def api_tokens(request):  # type: ignore[no-untyped-def]
    """Personal API tokens: list, issue and revoke.

    A newly issued token is rendered in the response to the POST that made it and never again;
    only its hash is kept, so the page cannot show it later.
    """
    issued = None
    error = ""
    if request.method == "POST" and request.POST.get("action") == "revoke":
        token_id = request.POST.get("token", "")
        if token_id.isdigit() and api_token_revoke(user=request.user, token_id=int(token_id)):
            messages.success(request, _("The token was revoked; it no longer works."))
        return redirect("api_tokens")
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            error = _("Give the token a name, e.g. the system that will use it.")
        elif len(name) > TOKEN_NAME_MAX:
            error = _("The name may be at most %(n)d characters.") % {"n": TOKEN_NAME_MAX}
        else:
            issued = api_token_issue(user=request.user, name=name)[1]
    context = {"tokens": api_token_list(user=request.user), "issued": issued, "error": error,
               "name_max": TOKEN_NAME_MAX}
    response = render(request, "accounts/tokens.html", context, status=400 if error else 200)
    if issued:
        response["Cache-Control"] = "no-store"
    return response
