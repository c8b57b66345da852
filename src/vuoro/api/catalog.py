"""Catalog endpoints: the services a caller may request, their categories and request forms."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema

from vuoro.accounts.models import User
from vuoro.api import presenters
from vuoro.api.schemas import CategoryOut, ErrorOut, ServiceOut, Slug
from vuoro.catalog.models import Category, FormField, Service
from vuoro.core import config_cache

router = Router(tags=["catalog"])

ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def services_offered_to(user: User) -> QuerySet[Service]:
    """Active services open to the user's organisation (a service offered to none is for all)."""
    qs = Service.objects.filter(active=True)
    if user.organisation_id:
        offered = Q(organisations__isnull=True) | Q(organisations=user.organisation_id)
        qs = qs.filter(pk__in=Service.objects.filter(offered).values("pk"))
    return qs.order_by("order", "name_fi", "id")


def service_for_intake(slug: str) -> Service:
    """The service named by ``slug``; whether it takes this request is the intake's to say."""
    service = config_cache.cached(("api.service", slug), lambda: Service.objects.select_related(
        "calendar", "default_team").filter(slug=slug).first())
    if service is None:
        raise ValidationError({"service": [_("There is no service with this short name.")]})
    return service


def category_for_intake(service: Service, slug: str | None) -> Category | None:
    """The service's category named by ``slug``, with its form fields loaded once."""
    if not slug:
        return None
    category = config_cache.cached(("api.category", service.pk, slug), lambda: (
        Category.objects.filter(service=service, slug=slug).prefetch_related("fields").first()))
    if category is None:
        raise ValidationError({"category": [_("The service has no category with this short name.")]})
    return category


def _offered_service(user: User, slug: str) -> Service:
    service = services_offered_to(user).filter(slug=slug).first()
    if service is None:
        raise Http404
    return service


@router.get("/services", response={200: list[ServiceOut], **ERRORS}, summary="List services")
def list_services(request: HttpRequest) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    return [presenters.service(s) for s in services_offered_to(user)]


@router.get("/services/{slug}", response={200: ServiceOut, **ERRORS}, summary="Read a service")
def get_service(request: HttpRequest, slug: Path[Slug]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    return presenters.service(_offered_service(user, slug))


@router.get("/services/{slug}/categories", response={200: list[CategoryOut], **ERRORS},
            summary="List a service's categories and their forms")
def list_categories(request: HttpRequest, slug: Path[Slug]) -> Any:
    """Labels, help texts and choices come in the request language (Accept-Language)."""
    user: User = request.auth  # type: ignore[attr-defined]
    service = _offered_service(user, slug)
    categories = (service.categories.filter(active=True).order_by("order", "name_fi", "id")
                  .prefetch_related(Prefetch("fields", queryset=FormField.objects.order_by("order", "id"))))
    return [presenters.category(c) for c in categories]
