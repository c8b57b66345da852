from django.contrib import admin

from vuoro.catalog.models import Category, FormField, RoutingRule, Service


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    fields = ("slug", "name_fi", "name_en", "name_sv", "active", "order")


class FormFieldInline(admin.StackedInline):
    model = FormField
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name_fi", "slug", "critical", "owner", "default_team", "active")
    list_filter = ("critical", "active")
    search_fields = ("name_fi", "name_en", "name_sv", "slug")
    inlines = [CategoryInline]
    filter_horizontal = ("organisations",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name_fi", "service", "slug", "active")
    list_filter = ("service",)
    inlines = [FormFieldInline]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("service", "category", "team", "order")
