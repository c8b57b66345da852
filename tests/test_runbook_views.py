"""The runbook runner on the desk ticket page: start, answer, refusals, the versions page."""

import pytest
from django.utils import translation

from tests import factories as f
from tests.test_runbook_services import runbook_with_version
from vuoro.runbooks.models import RunbookRun


@pytest.fixture
def ticket(world):
    runbook_with_version(world.critical, by=world.owner)
    return f.ticket(world.requester_a, world.critical, world.cat_critical)


def _start(client, ticket, **headers):
    return client.post(f"/runbooks/tickets/{ticket.reference}/start/",
                       {"next": f"/desk/tickets/{ticket.reference}/"}, **headers)


def test_desk_ticket_page_shows_the_panel_and_timeline(world, login, ticket):
    client = login(world.agent)
    page = client.get(f"/desk/tickets/{ticket.reference}/")
    assert page.status_code == 200
    assert f'id="runbook-panel-{ticket.pk}"' in page.text
    assert f"/runbooks/tickets/{ticket.reference}/start/" in page.text
    response = _start(client, ticket)
    assert response.status_code == 302 and response.url == f"/desk/tickets/{ticket.reference}/"
    run = RunbookRun.objects.get()
    with translation.override("en"):
        page = client.get(f"/desk/tickets/{ticket.reference}/", HTTP_ACCEPT_LANGUAGE="en")
    assert f"/runbooks/runs/{run.pk}/answer/" in page.text
    assert 'class="event runbook-event"' in page.text
