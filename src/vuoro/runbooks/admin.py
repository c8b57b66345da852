"""Runbooks are edited in the admin: saving changed steps writes a new version; old versions
and runs are shown, never edited."""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vuoro.core.admin_readonly import ReadOnlyAdminMixin
from vuoro.runbooks import flow
from vuoro.runbooks.models import Runbook, RunbookRun, RunbookStepResult, RunbookVersion
from vuoro.runbooks.services import runbook_version_create

STEPS_HELP = _(
    'A JSON list of steps, e.g. [{"key": "ask", "kind": "instruction", "text": {"fi": "…", "en": "…", '
    '"sv": "…"}}]. Kinds: instruction (done → next), check (ok → next, failed → "on_fail"), question '
    '("choices": [{"label": {"fi": "…"}, "target": "…"}]), escalate_if (yes → escalate, no → next). '
    'A target is a step key, "resolve" or "escalate"; "next" defaults to the following step. '
    "Saving changed steps creates a new version; running runs keep theirs."
)


class RunbookForm(forms.ModelForm):
    steps = forms.JSONField(label=_("steps"), help_text=STEPS_HELP,
                            widget=forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField"}))
    note = forms.CharField(label=_("what changed"), max_length=300, required=False)

    class Meta:
        model = Runbook
        fields = ("service", "category", "name_fi", "name_en", "name_sv", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        latest = self.instance.latest_version() if self.instance.pk else None
        if latest is not None:
            self.fields["steps"].initial = latest.steps
            self.fields["steps"].required = True

    def clean_steps(self) -> Any:
        steps = self.cleaned_data.get("steps")
        problems = flow.validate(steps, gettext)
        if problems:
            raise forms.ValidationError(problems)
        return steps

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        category = cleaned.get("category")
        if category is not None and category.service_id != getattr(cleaned.get("service"), "pk", None):
            self.add_error("category", _("The category belongs to another service."))
        return cleaned


class VersionInline(admin.TabularInline):
    model = RunbookVersion
    fields = ("number", "created_at", "created_by", "note", "steps_shown")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)

    @admin.display(description=_("steps"))
    def steps_shown(self, obj: RunbookVersion) -> str:
        return json.dumps(obj.steps, ensure_ascii=False)[:500]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    form = RunbookForm
    list_display = ("name_fi", "service", "category", "active", "latest")
    list_filter = ("active", "service")
    list_select_related = ("service", "category")
    inlines = [VersionInline]

    @admin.display(description=_("version"))
    def latest(self, obj: Runbook) -> str:
        version = obj.latest_version()
        return f"v{version.number}" if version else "—"

    def save_model(self, request: HttpRequest, obj: Runbook, form: RunbookForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        latest = obj.latest_version()
        steps = form.cleaned_data["steps"]
        if latest is None or latest.steps != steps:
            runbook_version_create(runbook=obj, steps=steps, note=form.cleaned_data.get("note", ""),
                                   by=request.user)


class ResultInline(admin.TabularInline):
    model = RunbookStepResult
    fields = ("at", "by", "step_key", "step_text", "answer", "answer_text", "notes")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RunbookRun)
class RunbookRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "version", "status", "current_step", "started_by", "started_at", "ended_at")
    list_filter = ("status",)
    list_select_related = ("ticket", "version__runbook", "started_by")
    date_hierarchy = "started_at"
    inlines = [ResultInline]

