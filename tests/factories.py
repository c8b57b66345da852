"""One factory per model; tickets are made through the intake service, as every channel does."""

import itertools
from typing import Any

from vuoro.accounts.models import ApiToken, Organisation, Role, Team, User
from vuoro.catalog.models import Category, FieldKind, FormField, Service
from vuoro.tickets.models import Channel, Ticket
from vuoro.tickets.services import ticket_create

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def organisation(name: str | None = None) -> Organisation:
    n = next(_seq)
    return Organisation.objects.create(name=name or f"Organisation {n}", slug=f"org-{n}")


def user(role: str = Role.REQUESTER, *, organisation: Organisation | None = None,
         username: str | None = None, language: str = "fi", **extra: Any) -> User:
    n = next(_seq)
    u = User(username=username or f"{role}-{n}", email=f"{role}-{n}@example.test", role=role,
             organisation=organisation, language=language, first_name=role.title(), last_name=str(n),
             is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN, **extra)
    u.set_password(PASSWORD)
    u.save()
    return u


def team(name: str | None = None, *, members: list[User] = (), **extra: Any) -> Team:  # type: ignore[assignment]
    t = Team.objects.create(name=name or f"Team {next(_seq)}", **extra)
    t.members.set(members)
    return t


def service(slug: str | None = None, *, critical: bool = False, owner: User | None = None,
            default_team: Team | None = None) -> Service:
    n = next(_seq)
    slug = slug or f"service-{n}"
    return Service.objects.create(slug=slug, name_fi=f"Palvelu {slug}", name_en=f"Service {slug}",
                                  name_sv=f"Tjänst {slug}", critical=critical, owner=owner,
                                  default_team=default_team)


def category(svc: Service, slug: str | None = None, *, with_form: bool = True) -> Category:
    slug = slug or f"category-{next(_seq)}"
    cat = Category.objects.create(service=svc, slug=slug, name_fi=f"Luokka {slug}",
                                  name_en=f"Category {slug}", name_sv=f"Kategori {slug}")
    if with_form:
        FormField.objects.create(category=cat, key="device", kind=FieldKind.CHOICE, required=True,
                                 label_fi="Laite", label_en="Device", label_sv="Enhet", order=1,
                                 choices=[{"value": "laptop", "fi": "Kannettava", "en": "Laptop", "sv": "Bärbar"},
                                          {"value": "phone", "fi": "Puhelin", "en": "Phone", "sv": "Telefon"}])
        FormField.objects.create(category=cat, key="count", kind=FieldKind.NUMBER, required=False,
                                 label_fi="Määrä", label_en="Count", label_sv="Antal", order=2,
                                 min_value=1, max_value=10)
        FormField.objects.create(category=cat, key="needed_by", kind=FieldKind.DATE, required=False,
                                 label_fi="Tarvitaan", label_en="Needed by", label_sv="Behövs", order=3)
        FormField.objects.create(category=cat, key="urgent_ok", kind=FieldKind.YES_NO, required=False,
                                 label_fi="Kiire?", label_en="Urgent?", label_sv="Brådskande?", order=4)
    return cat


def ticket(requester: User, svc: Service, cat: Category | None = None, *, subject: str = "Laptop broken",
           description: str = "It does not start.", stops_work: str = "no", affected: str = "me",
           channel: str = Channel.PORTAL, form_answers: dict[str, Any] | None = None,
           actor: User | None = None) -> Ticket:
    if form_answers is None and cat is not None and cat.fields.filter(key="device").exists():
        form_answers = {"device": "laptop"}
    return ticket_create(actor=actor, requester=requester, service=svc, category=cat, subject=subject,
                         description=description, stops_work=stops_work, affected=affected,
                         channel=channel, form_answers=form_answers or {}).ticket


def api_token(u: User, name: str = "test") -> str:
    from vuoro.accounts.services import api_token_issue

    return api_token_issue(user=u, name=name)[1]


__all__ = ["ApiToken", "PASSWORD", "api_token", "category", "organisation", "service", "team", "ticket", "user"]
