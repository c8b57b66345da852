"""Escalation policies with their steps inline; pages are shown with their history, not edited.

Saving a policy checks the steps as they would be saved: a policy without steps, or steps that
hand the page over in a loop (A → B → A), are refused with the loop named, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from vuoro.core.admin_readonly import ReadOnlyAdminMixin
from vuoro.paging import escalation as esc
from vuoro.paging.models import (
    TARGET_FIELDS,
    EscalationPolicy,
    EscalationStep,
    Page,
    PageEvent,
)
from vuoro.paging.services import policies_reachable, policy_check

NEW_POLICY = "new"


class StepFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        rows: list[tuple[int, esc.Step]] = []
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            target = data.get(TARGET_FIELDS[data["target_kind"]])
            if target is None:
                continue  # the step form reports the missing target itself
            rows.append((data.get("order") or 0, esc.Step(
                (esc.Target(data["target_kind"], target.pk),), data.get("wait_minutes") or 0)))
        rows.sort(key=lambda row: row[0])
        key: Any = self.instance.pk or NEW_POLICY
        edited = esc.Policy(steps=tuple(step for _order, step in rows),
                            name=self.instance.name or str(key))
        policy_check(policies_reachable({key: edited}))


class StepInline(admin.TabularInline):
    model = EscalationStep
    formset = StepFormSet
    fk_name = "policy"
    extra = 1
    fields = ("order", "wait_minutes", "target_kind", "target_schedule", "target_user",
              "target_team", "target_policy")
    autocomplete_fields = ("target_user",)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "repeat_count", "fallback_user", "updated_at")
    search_fields = ("name",)
    inlines = [StepInline]
    fields = ("name", "description", "repeat_count", "fallback_user")
    autocomplete_fields = ("fallback_user",)


class PageEventInline(admin.TabularInline):
    model = PageEvent
    extra = 0
    fields = ("at", "kind", "detail", "user")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Page)
class PageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("ticket", "status", "opened_at", "policy", "cycle", "step_index",
                    "next_escalation_at", "acknowledged_by", "acknowledged_at")
    list_filter = ("status",)
    list_select_related = ("ticket", "policy", "acknowledged_by")
    date_hierarchy = "opened_at"
    inlines = [PageEventInline]
    readonly_fields = ("ticket", "status", "reason", "policy", "snapshot", "cycle", "step_index",
                       "next_escalation_at", "opened_at", "opened_by", "acknowledged_at",
                       "acknowledged_by", "acknowledged_via", "resolved_at")
    fields = readonly_fields


