"""An agent logs a call in the browser: the caller's history appears while the number is typed
(htmx), the triage answers go with the new ticket, and the desk ticket page opens."""

import pytest

from tests import factories as f
from tests.browser.conftest import sign_in
from vuoro.accounts.models import Role
from vuoro.telephony.models import Call
from vuoro.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_logs_a_call_that_opens_a_triaged_ticket(new_page, world):
    world.requester_a.first_name, world.requester_a.last_name = "Pirjo", "Puhelias"
    world.requester_a.phone = "040 123 4567"
    world.requester_a.save()
    earlier = f.ticket(world.requester_a, world.other, subject="Printer jams again")
    agent = f.user(Role.AGENT, username="puhelinagentti", language="fi")
    world.desk_team.members.add(agent)

    page = new_page("fi-FI")
    sign_in(page, agent.username, f.PASSWORD)
    page.goto("/phone/log/")
    page.fill("#call-number", "+358 40 123 4567")
    page.wait_for_selector("#caller-lookup .caller")
    history = page.inner_text("#caller-lookup")
    assert "Pirjo Puhelias" in history and earlier.reference in history
    page.fill("#call-reason", "Sähköposti ei toimi kenelläkään")
    page.fill("#call-duration", "3")
    page.check("[name=then][value=create]")
    page.select_option("[name=service]", str(world.critical.pk))
    page.check("[name=stops_work][value=yes]")
    page.check("[name=affected][value=many]")
    page.click("#call-log-form button[type=submit]")
    page.wait_for_load_state("networkidle")

    ticket = Ticket.objects.get(subject="Sähköposti ei toimi kenelläkään")
    assert page.url.endswith(f"/desk/tickets/{ticket.reference}/")
    assert ticket.reference in page.content() and "Puhelin" in page.inner_text("main")
    assert (ticket.channel, ticket.requester, ticket.stops_work, ticket.affected) == (
        "phone", world.requester_a, "yes", "many")
    call = Call.objects.get(ticket=ticket)
    assert (call.duration_seconds, call.logged_by, call.caller) == (180, agent, world.requester_a)


def test_an_unknown_number_is_told_and_the_call_still_files_a_ticket(new_page, world):
    page = new_page("fi-FI")
    sign_in(page, world.agent.username, f.PASSWORD)
    page.goto("/phone/log/")
    page.fill("#call-number", "050 999 8888")
    page.wait_for_selector("#caller-lookup p:not(.muted)")
    assert "Kenelläkään pyytäjällä ei ole tätä numeroa" in page.inner_text("#caller-lookup")
    page.fill("#call-reason", "Tulostin ei tulosta")
    page.check("[name=then][value=create]")
    page.select_option("[name=service]", str(world.other.pk))
    page.click("#call-log-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get(subject="Tulostin ei tulosta")
    assert page.url.endswith(f"/desk/tickets/{ticket.reference}/")
    assert ticket.requester.phone_e164 == "+358509998888" and not ticket.requester.has_usable_password()
