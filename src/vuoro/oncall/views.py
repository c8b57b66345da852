"""The iCalendar feed: a signed token in the URL is the only credential, so calendar apps can poll it.

A revoked or expired address answers 404 like one that never existed.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vuoro.accounts.models import User
from vuoro.oncall.feeds import calendar_for
from vuoro.oncall.models import Schedule
from vuoro.oncall.selectors import feed_shifts, feed_target, schedules_of_person


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    target = feed_target(token, now)
    if target is None:
        raise Http404
    kind, pk = target
    if kind == "schedule":
        schedule = get_object_or_404(Schedule, pk=pk)
        title = _("On call: %(schedule)s") % {"schedule": schedule.name}
        body = calendar_for(title, feed_shifts([schedule], now), now)
    else:
        person = get_object_or_404(User, pk=pk, is_active=True)
        title = _("On call: %(person)s") % {"person": person.display_name()}
        body = calendar_for(title, feed_shifts(schedules_of_person(pk), now, person_id=pk), now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
