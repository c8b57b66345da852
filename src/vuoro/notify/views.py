"""The contact-methods page: each desk user keeps their own ways to be reached when paged."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from vuoro.accounts.decorators import desk_user_required
from vuoro.notify import agent_mail, selectors, services
from vuoro.notify.forms import (
    ContactMethodForm,
    EmailPreferenceForm,
    NotificationRuleForm,
    add_service_errors,
)


def _submit(form: ContactMethodForm | NotificationRuleForm, write: Callable[[dict], object]) -> bool:
    """Parse, then write through the service; its errors land next to the fields."""
    if not form.is_valid():
        return False
    try:
        write(form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


def _remove(request: HttpRequest, remove: Callable[[int], bool]) -> None:
    """Remove one of the user's own rows by id; anyone else's is "not found"."""
    raw = request.POST.get("id", "")
    if not raw.isdigit() or not remove(int(raw)):
        raise Http404


@desk_user_required
def contacts(request: HttpRequest) -> HttpResponse:
    """List, add and remove the user's own contact methods and notification rules; choose
    whether to get email about one's tickets."""
    user = request.user
    method_form = ContactMethodForm(prefix="method")
    rule_form = NotificationRuleForm(prefix="rule", user=user)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "add_method":
        method_form = ContactMethodForm(request.POST, prefix="method")
        if _submit(method_form, lambda data: services.contact_method_add(user=user, **data)):
            messages.success(request, _("Contact method added."))
            return redirect("notify:contacts")
    elif action == "add_rule":
        rule_form = NotificationRuleForm(request.POST, prefix="rule", user=user)
        if _submit(rule_form, lambda data: services.notification_rule_add(
                user=user, contact_method_id=data["contact_method"].pk,
                delay_minutes=data["delay_minutes"])):
            messages.success(request, _("Rule added."))
            return redirect("notify:contacts")
    elif action == "email_preference":
        preference = EmailPreferenceForm(request.POST)
        preference.is_valid()  # a missing checkbox is a valid "off"
        agent_mail.agent_mail_preference_set(
            user=user, about_my_tickets=bool(preference.cleaned_data.get("about_my_tickets")))
        messages.success(request, _("Email preference saved."))
        return redirect("notify:contacts")
    elif action in ("remove_method", "remove_rule"):
        if action == "remove_method":
            _remove(request, lambda pk: services.contact_method_remove(user=user, contact_method_id=pk))
        else:
            _remove(request, lambda pk: services.notification_rule_remove(user=user, rule_id=pk))
        messages.success(request, _("Removed."))
        return redirect("notify:contacts")
    context = {"methods": selectors.contact_methods_for(user=user),
               "rules": selectors.notification_rules_for(user=user),
               "method_form": method_form, "rule_form": rule_form,
               "preference_form": EmailPreferenceForm(
                   initial={"about_my_tickets": agent_mail.agent_mail_preference(user=user)})}
    return render(request, "notify/contacts.html", context, status=400 if action else 200)
