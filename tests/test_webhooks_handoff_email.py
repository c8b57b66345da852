"""An email hand-off: the summary the other system's mailbox gets, and its updates coming back.

An email hand-off never hears the other system's id, so its first signed update names our
ticket with ``vuoro_reference``; that links the two, and later updates need only their id.
"""

import json
import time
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import translation

from tests import factories as f
from vuoro.accounts.models import User
from vuoro.notify.models import OutboundEmail
from vuoro.webhooks.models import ExternalReference, HandOff
from vuoro.webhooks.signing import sign

MAILBOX = "its@customer.test"


@pytest.fixture
def email_handoff(world, settings):
    settings.BASE_URL = "https://desk.vuoro.test"
    return HandOff.objects.create(service=world.other, kind="email", email=MAILBOX, secret="hs")


def _signed_post(client, path, data, secret="hs"):
    body = json.dumps(data).encode()
    stamp = int(time.time())
    return client.post(path, data=body, content_type="application/json",
                       HTTP_X_VUORO_TIMESTAMP=str(stamp), HTTP_X_VUORO_SIGNATURE=sign(secret, stamp, body))


def _update(client, world, data):
    return _signed_post(client, f"/webhooks/handoff/{world.other.slug}/", data)


def _handoff_mail(ticket) -> OutboundEmail:
    return OutboundEmail.objects.get(to=MAILBOX, key__endswith=f":{ticket.pk}")


@time_machine.travel("2026-03-02 08:15:30+00:00", tick=False)
def test_the_mail_is_an_english_plain_text_summary_with_the_way_back(world, email_handoff):
    with translation.override("fi"):  # whoever files the ticket, the machine reads English
        ticket = f.ticket(world.requester_a, world.other, subject="Printer on fire",
                          description="<p>Smoke <b>everywhere</b> &amp; a smell</p><ul><li>Floor 3</li></ul>")
    requester = world.requester_a
    mail = _handoff_mail(ticket)
    assert mail.subject == f"[{ticket.reference}] Printer on fire"
    assert not mail.html_body
    assert mail.body == f"""New ticket {ticket.reference} from Vuoro.

Reference: {ticket.reference}
Subject: Printer on fire
Service: Service workstations
Priority: P5 – planning
Status: New
Requester: {requester.get_full_name()}
Requester email: {requester.email}
Organisation: Organisation A
Created: 2026-03-02T10:15:30+02:00
Desk link: https://desk.vuoro.test/desk/tickets/{ticket.reference}/

Description:
Smoke everywhere & a smell

Floor 3

--
Send updates back to Vuoro as JSON in a POST to:
https://desk.vuoro.test/webhooks/handoff/workstations/
The JSON must include "vuoro_reference": "{ticket.reference}" and "reference": your
own id for this item; "status" and "comment" are optional. Sign each request with the
hand-off's shared secret: X-Vuoro-Timestamp (Unix seconds) and X-Vuoro-Signature
(hex HMAC-SHA256 of "<timestamp>.<body>").
"""


def test_a_requester_without_an_organisation_or_name_still_gives_every_line(world, email_handoff):
    loner = f.user("requester", username="loner")
    User.objects.filter(pk=loner.pk).update(first_name="", last_name="")
    loner.refresh_from_db()
    ticket = f.ticket(loner, world.other, description="")
    body = _handoff_mail(ticket).body
    assert "\nRequester: loner\n" in body and "\nOrganisation: -\n" in body
    assert "\nDescription:\n-\n" in body


def test_the_first_update_names_our_ticket_and_links_it(world, client, email_handoff):
    ticket = f.ticket(world.requester_a, world.other)
    inbound = next(line for line in _handoff_mail(ticket).body.splitlines() if "/webhooks/handoff/" in line)
    response = _signed_post(client, urlsplit(inbound).path, {
        "reference": "ITS-501", "vuoro_reference": ticket.reference, "status": "open", "comment": "On it"})
    assert response.status_code == 200
    assert response.json() == {"reference": ticket.reference, "status": "open"}
    link = ExternalReference.objects.get(ticket=ticket)
    assert (link.system, link.reference, link.external_status) == (f"handoff-{email_handoff.pk}", "ITS-501", "open")
    [(internal, body)] = ticket.messages.values_list("internal", "body")
    assert internal and "On it" in body
    # Linked now: later updates need only their own id.
    assert _update(client, world, {"reference": "ITS-501", "status": "resolved"}).json()["status"] == "resolved"


def test_the_same_first_update_sent_twice_links_once(world, client, email_handoff):
    ticket = f.ticket(world.requester_a, world.other)
    data = {"reference": "ITS-9", "vuoro_reference": ticket.reference, "status": "open"}
    assert _update(client, world, data).status_code == 200
    assert _update(client, world, data).status_code == 200
    assert ExternalReference.objects.filter(ticket=ticket).count() == 1


def test_without_our_reference_an_unlinked_ticket_is_unknown(world, client, email_handoff):
    ticket = f.ticket(world.requester_a, world.other)
    assert _update(client, world, {"reference": "ITS-1", "status": "open"}).status_code == 404
    assert _update(client, world, {"reference": "ITS-1", "vuoro_reference": "VUO-2026-999999"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new" and not ExternalReference.objects.exists()


def test_a_ticket_of_another_service_is_unknown_and_untouched(world, client, email_handoff):
    HandOff.objects.create(service=world.critical, kind="email", email="mail@elsewhere.test", secret="other")
    elsewhere = f.ticket(world.requester_b, world.critical)
    response = _update(client, world, {"reference": "ITS-2", "vuoro_reference": elsewhere.reference,
                                       "status": "resolved", "comment": "Closing yours"})
    assert response.status_code == 404 and response.json() == {"error": "unknown reference"}
    elsewhere.refresh_from_db()
    assert elsewhere.status == "new" and not elsewhere.messages.exists()
    assert not ExternalReference.objects.exists()


def test_a_ticket_linked_to_another_external_id_is_a_conflict(world, client, email_handoff):
    ticket = f.ticket(world.requester_a, world.other)
    assert _update(client, world, {"reference": "ITS-3", "vuoro_reference": ticket.reference}).status_code == 200
    response = _update(client, world, {"reference": "ITS-4", "vuoro_reference": ticket.reference,
                                       "status": "resolved"})
    assert response.status_code == 409
    assert response.json() == {"error": f"{ticket.reference} is already linked to the external reference ITS-3"}
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert list(ExternalReference.objects.values_list("reference", flat=True)) == ["ITS-3"]


def test_an_external_id_already_linked_to_another_ticket_is_a_conflict(world, client, email_handoff):
    first = f.ticket(world.requester_a, world.other)
    second = f.ticket(world.requester_a, world.other)
    assert _update(client, world, {"reference": "ITS-5", "vuoro_reference": first.reference}).status_code == 200
    response = _update(client, world, {"reference": "ITS-5", "vuoro_reference": second.reference,
                                       "status": "resolved"})
    assert response.status_code == 409 and "ITS-5 is already linked" in response.json()["error"]
    second.refresh_from_db()
    assert second.status == "new" and not ExternalReference.objects.filter(ticket=second).exists()


def test_a_refused_update_does_not_link_the_ticket(world, client, email_handoff):
    ticket = f.ticket(world.requester_a, world.other)
    User.objects.filter(role="admin").update(is_active=False)
    User.objects.filter(is_superuser=True).update(is_active=False)
    response = _update(client, world, {"reference": "ITS-6", "vuoro_reference": ticket.reference, "status": "open"})
    assert response.status_code == 503
    assert not ExternalReference.objects.exists()


@pytest.mark.parametrize("reference", [None, "", "  ", True, ["ITS-7"], "X" * 201])
def test_a_reference_that_could_not_be_stored_is_bad_input(world, client, email_handoff, reference):
    ticket = f.ticket(world.requester_a, world.other)
    response = _update(client, world, {"reference": reference, "vuoro_reference": ticket.reference})
    assert response.status_code == 400
    assert not ExternalReference.objects.exists()


def test_a_blank_or_overlong_comment_does_not_fail_the_update(world, client):
    from vuoro.tickets.services import DESCRIPTION_MAX
    from vuoro.webhooks.signing import sign

    handoff = HandOff.objects.create(service=world.other, kind="rest", url="http://127.0.0.1:9/", secret="hs")
    ticket = f.ticket(world.requester_a, world.other)
    ExternalReference.objects.create(ticket=ticket, system=f"handoff-{handoff.pk}", reference="OPS-5")

    def post(data):
        body = json.dumps(data).encode()
        stamp = int(time.time())
        return client.post(f"/webhooks/handoff/{world.other.slug}/", data=body, content_type="application/json",
                           HTTP_X_VUORO_TIMESTAMP=str(stamp), HTTP_X_VUORO_SIGNATURE=sign("hs", stamp, body))

    assert post({"reference": "OPS-5", "status": "open", "comment": "   "}).status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.messages.count() == 0
    assert post({"reference": "OPS-5", "comment": "x" * (DESCRIPTION_MAX + 500)}).status_code == 200
    assert len(ticket.messages.get().body) < DESCRIPTION_MAX + 100
