"""Saturday 02:00 in Helsinki: a work-stopping fault on a critical service is told it is handled
now, the partner catches it and follows the runbook to escalation, the engine pages the on-call
agent through a webhook, the agent acknowledges from the link on a phone and escalation stops;
an ordinary request the same night is told the next business day."""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from tests import factories as f
from tests.browser.conftest import sign_in
from tests.browser.night_world import (
    ESCALATING_ANSWERS,
    MONDAY_OPENING,
    PHONE,
    SATURDAY_NIGHT,
    ack_path,
    saturday_night,
)
from tests.fake_provider import FakeProvider
from vuoro.accounts.models import Role
from vuoro.coverage.models import OutOfHoursDecision
from vuoro.notify.models import MessageStatus, OutboundMessage
from vuoro.notify.sender import send_messages
from vuoro.paging.links import read_ack_token
from vuoro.paging.models import Page, PageStatus
from vuoro.paging.services import escalate_due
from vuoro.portal.templatetags.portal import NEXT_STEPS
from vuoro.sla.expected import NEXT_BUSINESS_DAY, ON_DUTY_NOW, format_moment
from vuoro.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider():
    with FakeProvider() as server:
        yield server


@pytest.fixture
def phone(chromium_browser, live_server):
    """A phone-sized context with no session: the acknowledgement link is the credential."""
    context = chromium_browser.new_context(base_url=live_server.url, locale="en-GB",
                                           timezone_id="Europe/Helsinki", **PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def report_fault(portal, service, category, *, subject: str, stops_work: str) -> None:
    portal.goto(f"/portal/new/{service.slug}/{category.slug}/")
    portal.fill("[name=subject]", subject)
    portal.fill("[name=description]", "Nothing arrives since midnight.")
    portal.select_option("[name=answer_device]", "laptop")
    portal.check(f"[name=stops_work][value={stops_work}]")
    portal.check("[name=affected][value=many]")
    portal.click("form.request-form button[type=submit]")
    portal.locator("#expected-handling").wait_for()


def follow_runbook_to_escalation(console, ticket) -> None:
    panel = console.locator(f"#runbook-panel-{ticket.pk}")
    panel.locator("form[action$='/start/'] button[type=submit]").click()
    for step_key, answer in ESCALATING_ANSWERS:
        step = panel.locator(f"form.runbook-step:has(input[name=step_key][value='{step_key}'])")
        step.locator(f"button[name=answer][value='{answer}']").click()
    console.locator(f"#runbook-panel-{ticket.pk} .runbook-ended.runbook-escalated").wait_for()


def test_saturday_night_fault_is_caught_escalated_paged_and_acknowledged(
        new_page, phone, provider, world):
    with time_machine.travel(SATURDAY_NIGHT, tick=True) as clock:
        night = saturday_night(world, webhook_url=provider.url("/hook"))

        # The requester reports a fault that stops work; the service is closed but covered.
        portal = new_page("en-GB")
        sign_in(portal, night.requester.username, f.PASSWORD)
        report_fault(portal, world.critical, world.cat_critical, subject="Mail does not arrive",
                     stops_work="yes")
        ticket = Ticket.objects.get(requester=night.requester)
        assert portal.locator("#ticket-reference").inner_text().strip() == ticket.reference
        assert portal.locator("#expected-handling").inner_text().strip() == ON_DUTY_NOW
        assert ticket.team == world.partner_team

        # The partner catches it from the incoming queue and follows the runbook to escalation.
        console = new_page("en-GB")
        sign_in(console, world.partner.username, f.PASSWORD)
        console.goto("/partner/")
        incoming = console.locator(f"li.incoming.uncaught[data-reference='{ticket.reference}']")
        incoming.locator("a").click()
        console.click("#catch")
        console.locator("#catch").wait_for(state="detached")
        follow_runbook_to_escalation(console, ticket)
        page = Page.objects.get(ticket=ticket)
        assert (page.status, page.policy, page.opened_by) == (
            PageStatus.TRIGGERED, night.policy, world.partner)

        # The engine pages whoever is on call; the provider gets the signed link.
        assert escalate_due() == 1
        send_messages()
        [sent] = OutboundMessage.objects.filter(user=night.on_call)
        assert (sent.kind, sent.status) == ("webhook", MessageStatus.SENT)
        [request] = provider.received("/hook")
        assert request.method == "POST" and ticket.reference in request.json["title"]
        assert request.header("Idempotency-Key") == sent.key
        link = ack_path(request.json["message"])
        claim = read_ack_token(link.removeprefix("/pages/ack/").rstrip("/"))
        assert (claim.page_id, claim.user_id) == (page.pk, night.on_call.pk)

        # The on-call agent acknowledges on a phone, without signing in.
        phone.goto(link)
        assert phone.locator("#ack-reference").inner_text().strip() == ticket.reference
        phone.locator("form button.ack").click()
        phone.locator("#ack-done").wait_for()
        page.refresh_from_db()
        assert (page.status, page.acknowledged_by, page.acknowledged_via, page.next_escalation_at) == (
            PageStatus.ACKNOWLEDGED, night.on_call, "link", None)

        # Time moves on past every step: nobody else is paged.
        clock.shift(dt.timedelta(minutes=30))
        assert escalate_due() == 0
        send_messages()
        assert provider.count() == 1
        assert not OutboundMessage.objects.filter(user=night.backup).exists()

        # The requester reloads the request and sees where it stands.
        portal.goto(f"/portal/requests/{ticket.reference}/")
        ticket.refresh_from_db()
        status = portal.locator("#ticket-status")
        assert f"status-{ticket.status}" in status.get_attribute("class").split()
        with translation.override("en"):
            assert status.inner_text().strip() == str(Status(ticket.status).label)
            assert portal.locator(".next-steps").inner_text().strip() == str(NEXT_STEPS[ticket.status])

        # An ordinary request the same night waits for Monday morning.
        colleague = f.user(Role.REQUESTER, organisation=world.org_a, username="olli", language="fi")
        ordinary = new_page("fi-FI")
        sign_in(ordinary, colleague.username, f.PASSWORD)
        report_fault(ordinary, world.other, world.cat_other, subject="Uusi näyttö", stops_work="no")
        expected = ordinary.locator("#expected-handling time")
        assert dt.datetime.fromisoformat(expected.get_attribute("datetime")) == MONDAY_OPENING
        with translation.override("fi"):
            sentence = translation.gettext(NEXT_BUSINESS_DAY) % {
                "when": format_moment(MONDAY_OPENING, "fi")}
        assert expected.inner_text().strip() == sentence

    # The figures for the monthly review.
    decision = OutOfHoursDecision.objects.get(ticket=ticket)
    assert decision.caught_by == world.partner and decision.partner_actions > 0
    assert SATURDAY_NIGHT <= decision.caught_at <= decision.escalated_at <= decision.paged_at
    assert decision.paged_at <= decision.acknowledged_at == page.acknowledged_at
    assert OutOfHoursDecision.objects.get(ticket__requester=colleague).action == "defer"
