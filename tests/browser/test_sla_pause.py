"""An agent sets a ticket to wait for the requester and its resolution clock pauses; the
requester replies in the portal and the clock runs again, its history showing both moves."""

import pytest

from tests import factories as f
from tests.browser.conftest import sign_in
from vuoro.sla.models import SlaPolicy

pytestmark = pytest.mark.django_db(transaction=True)

RESOLUTION = "#sla-clocks .sla-clock[data-kind=resolution]"


def test_waiting_for_the_requester_pauses_the_clock_and_a_reply_resumes_it(new_page, world):
    SlaPolicy.objects.create(service=world.other, priority="", first_response_minutes=60,
                             resolution_minutes=480)
    ticket = f.ticket(world.requester_a, world.other, world.cat_other, subject="Näyttö vilkkuu")

    desk = new_page("fi-FI")
    sign_in(desk, world.agent.username, f.PASSWORD)
    desk.goto(f"/desk/tickets/{ticket.reference}/")
    assert desk.locator(RESOLUTION).get_attribute("data-state") == "running"
    desk.select_option("#panel-status", "waiting")
    desk.click("#status-form button[type=submit]")
    desk.locator(f"{RESOLUTION}[data-state=paused]").wait_for()
    assert desk.locator("#ticket-status").get_attribute("data-status") == "waiting"

    portal = new_page("fi-FI")
    sign_in(portal, world.requester_a.username, f.PASSWORD)
    portal.goto(f"/portal/requests/{ticket.reference}/")
    assert portal.locator("#service-level").get_attribute("data-state") == "paused"
    portal.fill("#id_body", "Kuvakaappaus liitteenä.")
    portal.click("#send-reply")
    portal.wait_for_load_state("networkidle")
    assert portal.locator("#service-level").get_attribute("data-state") == "running"

    desk.reload()
    clock = desk.locator(RESOLUTION)
    assert clock.get_attribute("data-state") == "running"
    history = clock.locator(".sla-history li")
    assert history.evaluate_all("items => items.map(i => i.dataset.event)") == ["start", "pause", "resume"]
