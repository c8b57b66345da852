"""Reads the desk needs besides tickets: whom a desk user may pick as team, assignee or requester.

Partner agents never list people outside their own teams, and never list requesters.
"""

from django.db.models import Q, QuerySet

from vuoro.accounts.models import DESK_ROLES, Role, Team, User
from vuoro.catalog.models import Category, Service

PERSON_FIELDS = ("id", "username", "first_name", "last_name", "email")
REQUESTER_SEARCH_LIMIT = 20


def desk_teams(*, user: User, keep: int | None = None) -> QuerySet[Team]:
    """Teams offered in filters and pickers: a partner's own teams, every team for staff.

    ``keep`` is a ticket's current team, offered too so that saving a form leaves it in place.
    """
    teams = Team.objects.only("id", "name").order_by("name")
    if user.is_partner:
        return teams.filter(Q(members=user) | Q(pk=keep)).distinct()
    return teams


def desk_assignees(*, user: User, keep: int | None = None) -> QuerySet[User]:
    """People a ticket may be assigned to: active desk users (for a partner, their teammates).

    ``keep`` is a ticket's current assignee, offered too so that saving leaves them in place.
    """
    people = User.objects.filter(is_active=True, role__in=DESK_ROLES).only(*PERSON_FIELDS)
    if user.is_partner:
        people = people.filter(Q(pk=user.pk) | Q(teams__members=user) | Q(pk=keep)).distinct()
    return people.order_by("first_name", "last_name", "username")


def requester_search(*, user: User, text: str) -> list[User]:
    """Requesters matching a name or email, for logging a request on someone's behalf.

    Partners get nothing: they may not list users and give an email instead.
    """
    text = (text or "").strip()[:100]
    if user.is_partner or not user.uses_desk or len(text) < 2:
        return []
    people = User.objects.filter(is_active=True, role=Role.REQUESTER).select_related("organisation")
    for word in text.split()[:4]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word)
            | Q(email__icontains=word) | Q(username__icontains=word)
        )
    return list(people.order_by("last_name", "first_name", "id")[:REQUESTER_SEARCH_LIMIT])


def requester_by_email(*, email: str) -> User | None:
    """The one active requester with exactly this email (case-insensitive), else None."""
    email = (email or "").strip()
    if not email:
        return None
    found = list(User.objects.filter(is_active=True, role=Role.REQUESTER, email__iexact=email)[:2])
    return found[0] if len(found) == 1 else None


def requester_by_id(*, user: User, requester_id: int) -> User | None:
    if user.is_partner:
        return None
    return User.objects.filter(is_active=True, role=Role.REQUESTER, pk=requester_id).first()


def intake_services() -> QuerySet[Service]:
    return Service.objects.filter(active=True).order_by("order", "name_fi")


def intake_categories(*, service: Service | None) -> QuerySet[Category]:
    if service is None:
        return Category.objects.none()
    return service.categories.filter(active=True).order_by("order", "name_fi")


def desk_services() -> QuerySet[Service]:
    """Every service, for filtering the queue (closed services still have tickets)."""
    return Service.objects.only("id", "name_fi", "name_en", "name_sv").order_by("order", "name_fi")
