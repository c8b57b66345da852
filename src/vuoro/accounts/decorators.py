"""View guards by role, for every app that serves desk staff (desk, notify, telephony)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

View = Callable[..., HttpResponse]


def desk_user_required(view: View) -> View:
    """Sign-in first; then only desk roles. Requesters get a page that says where to go.

    An anonymous request is redirected to sign in with its full path as ``next``; a signed-in
    user without a desk role gets ``desk/forbidden.html`` with status 403; the view runs
    only for desk staff.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.uses_desk:
            return render(request, "desk/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return guarded
