"""A requester submits a request through a category form, an agent finds it in the queue and
replies, and the requester sees the reply in the portal — in Finnish and in English."""

import pytest

from tests import factories as f
from tests.browser.conftest import sign_in
from vuoro.accounts.models import Role
from vuoro.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "fi": {"locale": "fi-FI", "subject": "Kannettava ei käynnisty", "reply": "Tuomme uuden koneen huomenna."},
    "en": {"locale": "en-GB", "subject": "Laptop does not start", "reply": "We will bring a new laptop tomorrow."},
}


@pytest.mark.parametrize("language", ["fi", "en"])
def test_request_reply_roundtrip(new_page, world, language):
    words = WORDS[language]
    requester = f.user(Role.REQUESTER, organisation=world.org_a, username=f"pia_{language}", language=language)

    portal = new_page(words["locale"])
    sign_in(portal, requester.username, f.PASSWORD)
    assert portal.locator("html").get_attribute("lang") == language
    portal.goto(f"/portal/new/{world.other.slug}/{world.cat_other.slug}/")
    portal.fill("[name=subject]", words["subject"])
    portal.fill("[name=description]", "Näyttö pysyy mustana / the screen stays black.")
    portal.select_option("[name=answer_device]", "laptop")
    portal.check("[name=stops_work][value=yes]")
    portal.check("[name=affected][value=me]")
    portal.click("form.request-form button[type=submit]")
    portal.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get(subject=words["subject"])
    assert ticket.reference in portal.content()
    assert ticket.form_answers["device"] == "laptop" and ticket.priority == "P3"

    desk = new_page("fi-FI")
    sign_in(desk, world.agent.username, f.PASSWORD)
    desk.goto("/desk/")
    desk.fill("[name=q]", ticket.reference)
    desk.press("[name=q]", "Enter")
    row = desk.locator(f"tr.ticket-row[data-reference='{ticket.reference}']")
    row.wait_for()
    row.locator("a").first.click()
    desk.wait_for_load_state("networkidle")
    assert desk.locator("#ticket-reference").inner_text().strip() == ticket.reference
    desk.fill("#reply-body", words["reply"])
    desk.click("#send-reply")
    desk.locator("li.message", has_text=words["reply"]).wait_for()

    portal.goto(f"/portal/requests/{ticket.reference}/")
    assert portal.locator("li.message", has_text=words["reply"]).count() == 1
    assert portal.locator("#ticket-reference").inner_text().strip() == ticket.reference
