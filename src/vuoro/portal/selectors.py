"""Reads for the portal: which services and categories a visitor may ask for."""

from django.db.models import Prefetch, Q, QuerySet

from vuoro.accounts.models import User
from vuoro.catalog.models import Category, Service


def _offered_to(user: User) -> Q:
    """Services with no organisation list are for everyone; others for their organisations."""
    everyone = Q(organisations__isnull=True)
    organisation_id = getattr(user, "organisation_id", None)
    if user.is_authenticated and organisation_id:
        return everyone | Q(organisations=organisation_id)
    return everyone


def services_offered(*, user: User) -> QuerySet[Service]:
    """Active services offered to the visitor, each with its active categories, in order."""
    active_categories = Category.objects.filter(active=True).order_by("order", "name_fi")
    return (
        Service.objects.filter(active=True)
        .filter(pk__in=Service.objects.filter(_offered_to(user)).values("pk"))
        .prefetch_related(Prefetch("categories", queryset=active_categories))
        .order_by("order", "name_fi")
    )


def service_offered(*, user: User, slug: str) -> Service | None:
    return services_offered(user=user).filter(slug=slug).first()


def category_offered(*, service: Service, slug: str) -> Category | None:
    """An active category of the service, with its form fields loaded in form order."""
    return (
        Category.objects.filter(service=service, slug=slug, active=True)
        .prefetch_related("fields")
        .first()
    )
