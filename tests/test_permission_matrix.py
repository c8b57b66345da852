"""The permission matrix: every URL and every API operation, as every role and anonymously.

The "victim" is a ticket of organisation B, on a service the service owner does not own, routed
to the desk team. Agents and admins may see it, and so may its requester. Everyone else —
anonymous visitors, requesters of organisation A (even one allowed to see A's tickets), the
partner agent and the service owner — must not see it, find it by its guessed reference,
download its attachment, reply to it or change it, on any page or endpoint.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests import factories as f
from vuoro.accounts.models import ApiToken
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import Message
from vuoro.tickets.services import message_add

OUTSIDERS = ["anonymous", "requester_a", "colleague_a", "partner", "owner"]
INSIDERS = ["requester_b", "agent", "admin"]
SKIP_PREFIXES = ("admin/", "api/v1/", "static/", "logout/", "healthz")  # healthz: tests/test_health.py


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def html_routes() -> list[str]:
    routes = sorted(set(walk(get_resolver().url_patterns)))
    return [r for r in routes if not r.startswith(SKIP_PREFIXES)]


@pytest.fixture
def victim(world):
    ticket = f.ticket(world.requester_b, world.other, world.cat_other, subject="Secret of organisation B")
    upload = check_uploads([SimpleUploadedFile("b-secret.txt", b"payroll", content_type="text/plain")])
    message_add(actor=world.requester_b, ticket=ticket, body="More secrets", attachments=upload)
    message_add(actor=world.agent, ticket=ticket, body="Internal only remark", internal=True)
    ticket.refresh_from_db()
    return ticket


def fill(route: str, world, victim) -> str:
    attachment = victim.attachments.first()
    values = {
        "reference": victim.reference,
        "pk": str(attachment.pk),
        "attachment_id": str(attachment.pk),
        "token": "forged-token-value",
        "service_slug": world.other.slug,
        "slug": world.other.slug,
        "category_slug": world.cat_other.slug,
    }

    def sub(match):
        name = match.group(1).split(":")[-1]
        return values.get(name, "1")

    return "/" + re.sub(r"<([^>]+)>", sub, route)


def client_for(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(getattr(world, role))
    return client


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_never_see_the_victim_on_any_page(world, victim, role):
    client = client_for(world, role)
    checked = 0
    for route in html_routes():
        url = fill(route, world, victim)
        response = client.get(url)
        assert response.status_code < 500, url
        body = response.content.decode(errors="replace")
        assert victim.subject not in body, f"{role} saw the victim at {url}"
        assert "Internal only remark" not in body, url
        assert "payroll" not in body, url
        if "reference>" in route or "pk>" in route:
            assert response.status_code in (302, 403, 404), f"{role} got {response.status_code} at {url}"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_cannot_write_to_the_victim(world, victim, role):
    client = client_for(world, role)
    before = (victim.status, victim.priority, Message.objects.filter(ticket=victim).count())
    posted = 0
    for route in html_routes():
        if "reference>" not in route:
            continue
        url = fill(route, world, victim)
        response = client.post(url, {"body": "Injected", "status": "closed", "priority": "P1",
                                     "internal": "1"})
        assert response.status_code in (302, 403, 404, 405), f"{role} POST {url} → {response.status_code}"
        posted += 1
    victim.refresh_from_db()
    assert (victim.status, victim.priority, Message.objects.filter(ticket=victim).count()) == before
    assert posted >= 2


def test_insiders_do_see_the_victim(world, victim):
    requester = client_for(world, "requester_b")
    assert requester.get(f"/portal/requests/{victim.reference}/").status_code == 200
    page = requester.get(f"/portal/requests/{victim.reference}/").content.decode()
    assert victim.subject in page and "Internal only remark" not in page
    attachment = victim.attachments.first()
    assert requester.get(f"/attachments/{attachment.pk}/").status_code == 200
    for role in ("agent", "admin"):
        page = client_for(world, role).get(f"/desk/tickets/{victim.reference}/")
        assert page.status_code == 200 and "Internal only remark" in page.content.decode()


@pytest.mark.parametrize("role", ["requester_a", "colleague_a", "requester_b"])
def test_requesters_cannot_use_the_desk_or_the_admin(world, role):
    client = client_for(world, role)
    assert client.get("/desk/").status_code in (302, 403)
    assert client.get("/desk/new/").status_code in (302, 403)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("role", ["agent", "partner", "owner", "requester_a"])
def test_only_admins_reach_the_admin(world, role):
    assert client_for(world, role).get("/admin/").status_code == 302
    assert client_for(world, "admin").get("/admin/").status_code == 200


# --- the API ---------------------------------------------------------------------------------


def api_operations(client: Client) -> list[tuple[str, str]]:
    schema = client.get("/api/v1/openapi.json").json()
    return [(method.upper(), path) for path, item in schema["paths"].items()
            for method in item if method in {"get", "post", "patch", "put", "delete"}]


def api_client(world, role: str) -> tuple[Client, dict[str, str]]:
    if role == "anonymous":
        return Client(), {}
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(getattr(world, role))}"}


def api_url(path: str, world, victim, victim_token: ApiToken) -> str:
    attachment = victim.attachments.first()
    values = {"reference": victim.reference, "attachment_id": str(attachment.pk),
              "token_id": str(victim_token.pk), "slug": world.other.slug}
    return re.sub(r"{([^}]+)}", lambda m: values.get(m.group(1), "1"), path)


def test_api_refuses_anonymous_everywhere_but_the_schema(world, victim):
    client = Client()
    operations = api_operations(client)
    assert len(operations) >= 12
    token = ApiToken.objects.create(user=world.requester_b, name="b", prefix="bbbb", secret_hash="x")
    for method, path in operations:
        response = client.generic(method, api_url(path, world, victim, token), "{}",
                                  content_type="application/json")
        assert response.status_code == 401, f"{method} {path} → {response.status_code}"


@pytest.mark.parametrize("role", [r for r in OUTSIDERS if r != "anonymous"])
def test_api_outsiders_cannot_read_or_change_the_victim(world, victim, role):
    victim_token = ApiToken.objects.create(user=world.requester_b, name="b", prefix="bbbb", secret_hash="x")
    client, auth = api_client(world, role)
    before = (victim.status, victim.priority, Message.objects.filter(ticket=victim).count())
    for method, path in api_operations(client):
        url = api_url(path, world, victim, victim_token)
        payload = '{"body": "Injected", "status": "closed", "priority": "P1", "internal": true}'
        response = client.generic(method, url, payload, content_type="application/json", **auth)
        assert response.status_code < 500, f"{method} {url}"
        body = response.content.decode(errors="replace")
        assert victim.subject not in body and "payroll" not in body, f"{role}: {method} {url}"
        if "{reference}" in path or "{attachment_id}" in path or "{token_id}" in path:
            assert response.status_code in (403, 404, 405, 422), f"{role}: {method} {url} → {response.status_code}"
    victim.refresh_from_db()
    victim_token.refresh_from_db()
    assert (victim.status, victim.priority, Message.objects.filter(ticket=victim).count()) == before
    assert victim_token.revoked_at is None


def test_api_insiders_read_the_victim(world, victim):
    for role in INSIDERS:
        client, auth = api_client(world, role)
        response = client.get(f"/api/v1/tickets/{victim.reference}", **auth)
        assert response.status_code == 200 and response.json()["subject"] == victim.subject
    client, auth = api_client(world, "requester_b")
    messages = client.get(f"/api/v1/tickets/{victim.reference}/messages", **auth).json()
    assert all("Internal only remark" not in m["body"] for m in messages)


# --- the partner console and the access log -------------------------------------------------

PARTNER_PAGES = ["/partner/", "/partner/access-log/", "/partner/access-log/export.csv"]
# Who gets what: the console is for partner agents only; the access log for owners and admins.
PARTNER_EXPECTED = {
    "anonymous": (302, 302), "requester_a": (403, 403), "requester_b": (403, 403),
    "agent": (403, 403), "admin": (403, 200), "owner": (403, 200), "partner": (200, 403),
}


def test_the_walk_covers_the_partner_console():
    routes = html_routes()
    for route in ("partner/", "partner/tickets/<str:reference>/", "partner/tickets/<str:reference>/catch/",
                  "partner/tickets/<str:reference>/dispatch/", "partner/access-log/"):
        assert route in routes


@pytest.mark.parametrize("role", sorted(PARTNER_EXPECTED))
def test_partner_console_and_access_log_by_role(world, role):
    client = client_for(world, role)
    console, log = PARTNER_EXPECTED[role]
    assert client.get("/partner/").status_code == console
    for url in PARTNER_PAGES[1:]:
        assert client.get(url).status_code == log, url


def test_partner_covering_the_service_still_cannot_see_a_daytime_desk_ticket(world, victim):
    """Coverage alone opens nothing: the victim was decided in business hours and stays with the desk."""
    from vuoro.coverage.models import CoverageModel, ServiceCoverage

    ServiceCoverage.objects.create(service=world.other, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    client = client_for(world, "partner")
    for url in (f"/partner/tickets/{victim.reference}/", f"/desk/tickets/{victim.reference}/",
                f"/attachments/{victim.attachments.first().pk}/"):
        assert client.get(url).status_code == 404, url
    for action in ("catch", "triage", "dispatch", "call", "resolve"):
        response = client.post(f"/partner/tickets/{victim.reference}/{action}/",
                               {"reply": "x", "team": world.partner_team.pk})
        assert response.status_code == 404, action
    victim.refresh_from_db()
    assert victim.assignee is None and victim.team == world.desk_team
    client, auth = api_client(world, "partner")
    assert client.get(f"/api/v1/tickets/{victim.reference}", **auth).status_code == 404
    assert victim.reference not in client.get("/api/v1/tickets", **auth).content.decode()
