"""Acknowledging a page three ways: the desk card, the API and the signed link; who may not."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.test_paging_services import T0, ticket_for
from vuoro.accounts.models import Role
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.paging import services
from vuoro.paging.links import ack_token
from vuoro.paging.models import Page, PageStatus

API = "/api/v1"


@pytest.fixture
def page(world):
    with time_machine.travel(T0, tick=False):
        return services.page_open(ticket=ticket_for(world), user=world.agent, opened_by=world.agent2)


def link(page, user):
    return reverse("paging:ack", args=[ack_token(page_id=page.pk, user_id=user.pk, nonce=page.ack_nonce)])


def unchanged(page) -> bool:
    page.refresh_from_db()
    return page.status == PageStatus.TRIGGERED and page.acknowledged_at is None


def api_call(client, method, path, user, data=None):
    extra = {"HTTP_ACCEPT_LANGUAGE": "en", "HTTP_AUTHORIZATION": f"Bearer {f.api_token(user)}"}
    if data is not None:
        return getattr(client, method)(API + path, data=data, content_type="application/json", **extra)
    return getattr(client, method)(API + path, **extra)


# -- the signed link ------------------------------------------------------------------------------


def test_the_link_shows_the_ticket_and_one_button_without_signing_in(client, world, page):
    response = client.get(link(page, world.agent), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    text = response.content.decode()
    assert page.ticket.reference in text and page.ticket.subject in text
    assert text.count('type="submit" class="ack"') == 1
    assert unchanged(page)


def test_posting_the_link_acknowledges_as_the_paged_person(client, world, page):
    response = client.post(link(page, world.agent))
    assert response.status_code == 200
    page.refresh_from_db()
    assert (page.status, page.acknowledged_by, page.acknowledged_via) == ("acknowledged", world.agent, "link")


def test_a_reused_link_is_409_and_changes_nothing(client, world, page):
    client.post(link(page, world.agent))
    page.refresh_from_db()
    acknowledged_at = page.acknowledged_at
    response = client.post(link(page, world.agent2))
    assert response.status_code == 409
    assert b"ack-refused" in response.content
    page.refresh_from_db()
    assert (page.acknowledged_by, page.acknowledged_at) == (world.agent, acknowledged_at)


def test_an_expired_link_is_410_and_changes_nothing(client, world, page, settings):
    settings.VUORO_ACK_LINK_MAX_AGE = 3600
    url = link(page, world.agent)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2), tick=False):
        assert client.get(url).status_code == 410
        response = client.post(url)
    assert response.status_code == 410 and b"ack-refused" in response.content
    assert unchanged(page)


def test_a_link_within_its_age_still_works(client, world, page, settings):
    settings.VUORO_ACK_LINK_MAX_AGE = 3600
    url = link(page, world.agent)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=50), tick=False):
        assert client.post(url).status_code == 200


def test_a_forged_link_is_400_and_changes_nothing(client, world, page):
    url = link(page, world.agent)
    forged = url.replace("/ack/", "/ack/x")
    assert client.post(forged).status_code == 400
    other_nonce = reverse("paging:ack", args=[ack_token(page_id=page.pk, user_id=world.agent.pk, nonce="guess")])
    response = client.post(other_nonce)
    assert response.status_code == 400 and b"ack-refused" in response.content
    assert unchanged(page)


def test_a_link_for_a_resolved_page_is_409(client, world, page):
    services.pages_resolve_for_ticket(ticket=page.ticket, by=world.agent, now=timezone.now())
    assert client.get(link(page, world.agent)).status_code == 409


# -- the desk ----------------------------------------------------------------------------------------


def test_the_desk_ticket_page_shows_the_page_with_an_acknowledge_button(login, world, page):
    response = login(world.agent).get(reverse("desk:ticket", args=[page.ticket.reference]))
    assert response.status_code == 200
    assert b'id="pages-card"' in response.content
    assert reverse("paging:acknowledge", args=[page.pk]).encode() in response.content


def test_the_desk_button_acknowledges(login, world, page):
    response = login(world.agent2).post(reverse("paging:acknowledge", args=[page.pk]))
    assert response.status_code == 302
    assert response.url == reverse("desk:ticket", args=[page.ticket.reference])
    page.refresh_from_db()
    assert (page.status, page.acknowledged_by, page.acknowledged_via) == ("acknowledged", world.agent2, "desk")


def test_the_desk_button_needs_a_post(login, world, page):
    assert login(world.agent).get(reverse("paging:acknowledge", args=[page.pk])).status_code == 405
    assert unchanged(page)


def test_a_requester_cannot_use_the_desk_button(login, world, page):
    response = login(world.requester_a).post(reverse("paging:acknowledge", args=[page.pk]))
    assert response.status_code == 404
    assert unchanged(page)


def test_an_outsider_partner_cannot_use_the_desk_button(login, world, page):
    response = login(world.partner).post(reverse("paging:acknowledge", args=[page.pk]))
    assert response.status_code == 404
    assert unchanged(page)


# -- the API -------------------------------------------------------------------------------------------


def test_api_lists_and_reads_pages(client, world, page):
    listed = api_call(client, "get", "/pages", world.agent)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["items"]] == [page.pk]
    read = api_call(client, "get", f"/pages/{page.pk}", world.agent)
    assert read.status_code == 200
    assert read.json()["ticket"] == page.ticket.reference
    assert [e["kind"] for e in read.json()["events"]] == ["opened"]


def test_api_acknowledges_once_then_409(client, world, page):
    first = api_call(client, "post", f"/pages/{page.pk}/acknowledge", world.agent)
    assert first.status_code == 200 and first.json()["status"] == "acknowledged"
    assert first.json()["acknowledged_via"] == "api"
    second = api_call(client, "post", f"/pages/{page.pk}/acknowledge", world.agent2)
    assert second.status_code == 409
    page.refresh_from_db()
    assert page.acknowledged_by == world.agent


def test_api_opens_a_page_for_a_ticket(client, world):
    ticket = ticket_for(world)
    response = api_call(client, "post", f"/tickets/{ticket.reference}/pages", world.agent,
                        data={"user": world.agent2.pk, "reason": "Mail down"})
    assert response.status_code == 201
    assert response.json()["status"] == "triggered" and response.json()["reason"] == "Mail down"
    again = api_call(client, "post", f"/tickets/{ticket.reference}/pages", world.agent, data={"user": world.agent.pk})
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


def test_api_open_with_nobody_to_page_is_400(client, world):
    ticket = ticket_for(world)
    response = api_call(client, "post", f"/tickets/{ticket.reference}/pages", world.agent, data={})
    assert response.status_code == 400
    assert not Page.objects.exists()


def test_api_refuses_requesters(client, world, page):
    for method, path in (("get", "/pages"), ("get", f"/pages/{page.pk}"),
                         ("post", f"/pages/{page.pk}/acknowledge")):
        assert api_call(client, method, path, world.requester_a).status_code == 403
    response = api_call(client, "post", f"/tickets/{page.ticket.reference}/pages", world.requester_a,
                        data={"user": world.agent.pk})
    assert response.status_code == 403
    assert unchanged(page)


def test_api_partner_sees_only_pages_in_their_scope(client, world, page):
    assert api_call(client, "get", "/pages", world.partner).json()["items"] == []
    assert api_call(client, "get", f"/pages/{page.pk}", world.partner).status_code == 404
    assert api_call(client, "post", f"/pages/{page.pk}/acknowledge", world.partner).status_code == 404
    assert unchanged(page)


def test_api_partner_acknowledges_a_page_of_their_team(client, world):
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    ticket = ticket_for(world)
    ticket.team = world.partner_team
    ticket.save(update_fields=["team"])
    page = services.page_open(ticket=ticket, user=world.partner, now=T0)
    response = api_call(client, "post", f"/pages/{page.pk}/acknowledge", world.partner)
    assert response.status_code == 200


def test_api_outsider_partner_cannot_open_a_page(client, world):
    ticket = ticket_for(world)
    outsider = f.user(Role.PARTNER, username="outsider")
    response = api_call(client, "post", f"/tickets/{ticket.reference}/pages", outsider, data={"user": world.agent.pk})
    assert response.status_code == 404
    assert not Page.objects.exists()


def test_api_list_takes_the_same_queries_for_more_pages(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def open_pages(count: int) -> None:
        for i in range(count):
            services.page_open(ticket=ticket_for(world, subject=f"Down {i}"), user=world.agent, now=T0)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_call(client, "get", "/pages", world.agent).status_code == 200
        return len(captured)

    open_pages(2)
    few = queries()
    open_pages(5)
    assert queries() == few


def test_the_desk_pages_the_service_policy_with_one_button(login, world):
    from tests.test_paging_services import policy_with
    from vuoro.paging.models import TargetKind

    policy = policy_with((TargetKind.USER, world.agent2, 5))
    ServiceCoverage.objects.create(service=world.critical, escalation_policy=policy)
    ticket = ticket_for(world)
    client = login(world.agent)
    page_html = client.get(reverse("desk:ticket", args=[ticket.reference])).content
    assert reverse("paging:open", args=[ticket.reference]).encode() in page_html
    response = client.post(reverse("paging:open", args=[ticket.reference]), {"reason": "Mail down"})
    assert response.status_code == 302
    page = Page.objects.get(ticket=ticket)
    assert (page.policy, page.opened_by, page.reason) == (policy, world.agent, "Mail down")
    assert b'id="page-open"' not in client.get(reverse("desk:ticket", args=[ticket.reference])).content


def test_no_page_button_without_a_policy_and_none_for_outsiders(login, world):
    ticket = ticket_for(world)
    html = login(world.agent).get(reverse("desk:ticket", args=[ticket.reference])).content
    assert b'id="page-open"' not in html
    assert login(world.requester_a).post(reverse("paging:open", args=[ticket.reference])).status_code == 403
    assert login(world.partner).post(reverse("paging:open", args=[ticket.reference])).status_code == 404
    assert not Page.objects.exists()
