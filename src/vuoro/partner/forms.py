"""The console's forms: parse and validate input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from vuoro.partner.services import CALL_OUTCOMES, CALLER_MAX, SUMMARY_MAX
from vuoro.tickets.priority import Affected, StopsWork

STOPS_WORK = [(StopsWork.YES.value, _("Yes, work stops")), (StopsWork.PARTLY.value, _("Partly")),
              (StopsWork.NO.value, _("No, work goes on"))]
AFFECTED = [(Affected.ME.value, _("One person")), (Affected.TEAM.value, _("A team")),
            (Affected.MANY.value, _("Many people"))]


class TriageForm(forms.Form):
    stops_work = forms.ChoiceField(label=_("Does it stop work?"), choices=STOPS_WORK,
                                   widget=forms.RadioSelect)
    affected = forms.ChoiceField(label=_("How many are affected?"), choices=AFFECTED,
                                 widget=forms.RadioSelect)


class DispatchForm(forms.Form):
    """Exactly one target: a team, an on-call schedule, or a desk person named by email."""

    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)  # type: ignore[arg-type]
    schedule = forms.ModelChoiceField(label=_("On-call schedule"), queryset=None,  # type: ignore[arg-type]
                                      required=False)
    person_email = forms.EmailField(label=_("Desk person's email"), required=False)
    reason = forms.CharField(label=_("Why"), max_length=500, required=False)

    def __init__(self, *args, teams, schedules, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["schedule"].queryset = schedules

    def clean(self):  # type: ignore[no-untyped-def]
        data = super().clean()
        chosen = [k for k in ("team", "schedule", "person_email") if data.get(k)]
        if len(chosen) != 1:
            raise forms.ValidationError(_("Choose one: a team, an on-call schedule or a desk person."))
        return data


class CallForm(forms.Form):
    caller = forms.CharField(label=_("Caller's number"), max_length=CALLER_MAX)
    minutes = forms.IntegerField(label=_("Length (minutes)"), min_value=0, max_value=600)
    summary = forms.CharField(label=_("Summary"), max_length=SUMMARY_MAX, widget=forms.Textarea)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CALL_OUTCOMES, widget=forms.RadioSelect)


class ResolveForm(forms.Form):
    reply = forms.CharField(label=_("Reply to the requester"), widget=forms.Textarea)


class AccessLogFilterForm(forms.Form):
    service = forms.IntegerField(required=False, min_value=1)
    day_from = forms.DateField(label=_("From"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    after = forms.CharField(required=False, max_length=1000)
