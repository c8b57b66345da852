"""Channel endpoints, role by role: phone pages and the caller look-up (page and API), raw-MIME
inbound mail, the signed telephony and hand-off webhooks, and the channel admin pages.

The victim is ``requester_b`` of organisation B, who has a phone number and two tickets:

* ``scoped`` on the critical service: owned by the service owner, covered by the partner
  team and routed to it, so the partner handles it;
* ``hidden`` on the other service: only agents, admins and the victim may see it.

A call was logged on each. Roles see exactly this much of the victim through the look-up:
agents and admins everything; the service owner the caller and the scoped ticket and call;
the partner the scoped ticket and call but never the caller; a partner outside any covering
team nothing; requesters (of either organisation, the victim included) and anonymous
visitors nothing, not even a page.

(The partner access-log CSV and the desk hand-off card are covered by
tests/test_partner_access_log.py, tests/test_permission_matrix.py and tests/test_handoff_desk.py.)
"""

import json
import time

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories as f
from vuoro.accounts.models import ApiToken, Role, User
from vuoro.channels.models import InboundEmail, Mailbox
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.telephony import signing as phone_signing
from vuoro.telephony.models import Call
from vuoro.telephony.services import call_log
from vuoro.tickets.models import Message, Ticket
from vuoro.webhooks.models import ExternalReference, HandOff, WebhookSubscription
from vuoro.webhooks.signing import sign as handoff_sign

VICTIM_NUMBER = "+358407654321"
VICTIM_EMAIL = "birgitta.victim@org-b.test"
VICTIM_FIRST, VICTIM_LAST = "Birgitta", "Bexellvictim"
HIDDEN_SUBJECT, HIDDEN_REASON = "Payroll of organisation B", "Payroll leak call"
SCOPED_SUBJECT, SCOPED_REASON = "Mail outage at B", "Mail outage call"
PHONE_SECRET = "telephony-perm-secret"
HANDOFF_SECRET = "handoff-perm-secret"
MAILBOX_SECRET = "gateway-perm-secret"

REQUESTERS = ["requester_a", "colleague_a", "requester_b"]
EVERY_ROLE = ["anonymous", *REQUESTERS, "partner", "partner_outside", "owner", "agent", "admin"]

# What each role may learn about the victim through a look-up ("caller": name and organisation).
SEES = {
    "anonymous": set(), "requester_a": set(), "colleague_a": set(), "requester_b": set(),
    "partner": {"scoped"}, "partner_outside": set(),
    "owner": {"caller", "scoped"},
    "agent": {"caller", "scoped", "hidden"}, "admin": {"caller", "scoped", "hidden"},
}
PAGE_STATUS = {"anonymous": 302, "requester_a": 403, "colleague_a": 403, "requester_b": 403}
API_STATUS = {"anonymous": 401, "requester_a": 403, "colleague_a": 403, "requester_b": 403}


@pytest.fixture
def chan(world):
    victim = world.requester_b
    victim.first_name, victim.last_name, victim.email = VICTIM_FIRST, VICTIM_LAST, VICTIM_EMAIL
    victim.phone = "040 765 4321"
    victim.save()
    world.partner_outside = f.user(Role.PARTNER, username="partner_outside")
    ServiceCoverage.objects.create(service=world.critical, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    scoped = f.ticket(victim, world.critical, world.cat_critical, subject=SCOPED_SUBJECT)
    Ticket.objects.filter(pk=scoped.pk).update(team=world.partner_team)  # routed to the partner's team
    hidden = f.ticket(victim, world.other, world.cat_other, subject=HIDDEN_SUBJECT)
    call_log(actor=world.agent, raw_number=VICTIM_NUMBER, reason=HIDDEN_REASON, duration_seconds=60,
             outcome="answered", ticket_reference=hidden.reference)
    call_log(actor=world.agent, raw_number=VICTIM_NUMBER, reason=SCOPED_REASON, duration_seconds=60,
             outcome="answered", ticket_reference=scoped.reference)
    scoped.refresh_from_db()
    hidden.refresh_from_db()
    world.scoped, world.hidden = scoped, hidden
    world.markers = {
        "caller": [VICTIM_FIRST, VICTIM_LAST, world.org_b.name],
        "scoped": [scoped.reference, SCOPED_SUBJECT, SCOPED_REASON],
        "hidden": [hidden.reference, HIDDEN_SUBJECT, HIDDEN_REASON],
    }
    return world


def client_for(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(getattr(world, role))
    return client


def bearer(world, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(getattr(world, role))}"}


def written() -> tuple[int, ...]:
    return (Ticket.objects.count(), Call.objects.count(), InboundEmail.objects.count(),
            Message.objects.count(), User.objects.count())


def assert_sees_exactly(world, body: str, role: str) -> None:
    allowed = SEES[role]
    assert VICTIM_EMAIL not in body, f"{role} saw the victim's email"
    for group, texts in world.markers.items():
        if group == "caller" and role == "requester_b":
            continue  # the victim's own name is on her own pages (the signed-in banner)
        for text in texts:
            if group in allowed:
                assert text in body, f"{role} should see {group}: {text!r}"
            else:
                assert text not in body, f"{role} must not see {group}: {text!r}"


# --- the desk phone pages and the caller look-up ---------------------------------------------


@pytest.mark.parametrize("url", ["/phone/log/", "/phone/lookup/"])
@pytest.mark.parametrize("role", EVERY_ROLE)
def test_phone_pages_show_the_victim_only_as_far_as_the_role_may_see(chan, role, url):
    before = written()
    response = client_for(chan, role).get(url, {"number": "040 765 4321"})
    assert response.status_code == PAGE_STATUS.get(role, 200)
    if role == "anonymous":
        assert response["Location"].startswith("/login/")
    assert_sees_exactly(chan, response.content.decode(), role)
    assert written() == before


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_api_caller_lookup_returns_only_what_the_role_may_see(chan, role):
    before = written()
    response = Client().get("/api/v1/calls/lookup", {"number": "040 765 4321"}, **bearer(chan, role))
    assert response.status_code == API_STATUS.get(role, 200)
    body = response.content.decode()
    assert_sees_exactly(chan, body, role)
    if response.status_code == 200:
        data = response.json()
        allowed = SEES[role]
        assert data["number"] == VICTIM_NUMBER
        assert (data["caller"] or {}).get("id") == (chan.requester_b.pk if "caller" in allowed else None)
        expected_refs = {getattr(chan, group).reference for group in ("scoped", "hidden") if group in allowed}
        assert {t["reference"] for t in data["tickets"]} == expected_refs
        assert {c["ticket"] for c in data["calls"]} == expected_refs
    else:
        assert "tickets" not in response.json()
    assert written() == before


LOG_ACTIONS = {
    "log only": {"then": ""},
    "create a ticket": {"then": "create"},
    "add to the hidden ticket": {"then": "add"},
}


def log_form(world, action: str) -> dict[str, str]:
    form = {"number": "040 765 4321", "reason": "Injected call", "duration": "1", "outcome": "answered",
            "summary": "Injected summary", "service": str(world.other.pk), "ticket": ""}
    form.update(LOG_ACTIONS[action])
    if action == "add to the hidden ticket":
        form["ticket"] = world.hidden.reference
    return form


@pytest.mark.parametrize("action", sorted(LOG_ACTIONS))
@pytest.mark.parametrize("role", ["anonymous", *REQUESTERS])
def test_phone_log_post_is_refused_to_anonymous_and_requesters(chan, role, action):
    before = written()
    response = client_for(chan, role).post("/phone/log/", log_form(chan, action))
    assert response.status_code == PAGE_STATUS[role]
    if role == "anonymous":
        assert response["Location"].startswith("/login/")
    assert_sees_exactly(chan, response.content.decode(), role)
    assert written() == before
    assert not Call.objects.filter(reason="Injected call").exists()


@pytest.mark.parametrize("role", ["partner", "partner_outside", "owner"])
def test_phone_log_post_cannot_note_a_call_on_a_ticket_outside_the_role(chan, role):
    before = written()
    response = client_for(chan, role).post("/phone/log/", log_form(chan, "add to the hidden ticket"))
    assert response.status_code == 400
    body = response.content.decode()
    assert HIDDEN_SUBJECT not in body and HIDDEN_REASON not in body and VICTIM_EMAIL not in body
    if "caller" not in SEES[role]:
        assert VICTIM_LAST not in body
    assert written() == before
    assert chan.hidden.messages.count() == 1 and chan.hidden.calls.count() == 1  # the fixture's note only


def test_phone_log_post_by_a_partner_notes_a_call_on_a_ticket_in_scope(chan):
    calls, hidden_notes = Call.objects.count(), chan.hidden.messages.count()
    form = log_form(chan, "add to the hidden ticket") | {"ticket": chan.scoped.reference}
    response = client_for(chan, "partner").post("/phone/log/", form)
    assert response.status_code == 302 and response.url == f"/partner/tickets/{chan.scoped.reference}/"
    assert Call.objects.count() == calls + 1 and chan.scoped.calls.count() == 2
    assert chan.scoped.messages.filter(author=chan.partner, internal=True).count() == 1
    assert chan.hidden.messages.count() == hidden_notes


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_phone_log_post_by_agent_or_admin_notes_a_call_on_any_ticket(chan, role):
    calls, notes = Call.objects.count(), chan.hidden.messages.count()
    response = client_for(chan, role).post("/phone/log/", log_form(chan, "add to the hidden ticket"))
    assert response.status_code == 302 and response.url == f"/desk/tickets/{chan.hidden.reference}/"
    assert Call.objects.count() == calls + 1 and chan.hidden.calls.count() == 2
    assert chan.hidden.messages.count() == notes + 1
    assert chan.hidden.messages.latest("pk").author == getattr(chan, role)


def test_phone_log_post_by_a_partner_creating_a_ticket_does_not_name_the_caller(chan):
    response = client_for(chan, "partner").post("/phone/log/", log_form(chan, "create a ticket"), follow=True)
    assert response.status_code == 200
    created = Ticket.objects.get(subject="Injected call")
    assert created.requester == chan.requester_b and created.service == chan.other
    body = response.content.decode()
    assert VICTIM_LAST not in body and VICTIM_EMAIL not in body
    assert HIDDEN_SUBJECT not in body and HIDDEN_REASON not in body


# --- raw-MIME inbound mail ---------------------------------------------------------------------


@pytest.fixture
def boxes(chan):
    chan.box = Mailbox.objects.create(name="Desk", address="desk@vuoro.test", service=chan.other,
                                      inbound_secret=MAILBOX_SECRET)
    chan.other_box = Mailbox.objects.create(name="Other", address="other@vuoro.test", service=chan.critical,
                                            inbound_secret="other-box-secret")
    return chan


def mime(sender: str = "someone@outside.test", subject: str = "Please help", msgid: str = "<perm-1@x>") -> bytes:
    return (f"From: {sender}\r\nTo: desk@vuoro.test\r\nSubject: {subject}\r\nMessage-ID: {msgid}\r\n\r\n"
            "Injected mail body.").encode()


def post_mail(mailbox_id: int, raw: bytes, auth: str | None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth is not None else {}
    return Client().post(f"/channels/inbound/{mailbox_id}/", data=raw, content_type="message/rfc822", **headers)


def _revoked_token(world) -> str:
    raw = f.api_token(world.agent, name="revoked")
    ApiToken.objects.filter(user=world.agent, name="revoked").update(revoked_at=timezone.now())
    return raw


def _inactive_agent_token(world) -> str:
    raw = f.api_token(world.agent2)
    User.objects.filter(pk=world.agent2.pk).update(is_active=False)
    return raw


BAD_CREDENTIALS = {
    "no header": lambda w: None,
    "empty bearer": lambda w: "Bearer ",
    "wrong secret": lambda w: "Bearer not-the-secret",
    "secret without bearer scheme": lambda w: MAILBOX_SECRET,
    "basic scheme": lambda w: f"Basic {MAILBOX_SECRET}",
    "another mailbox's secret": lambda w: "Bearer other-box-secret",
    "revoked agent token": _revoked_token,
    "token of a deactivated agent": _inactive_agent_token,
}


@pytest.mark.parametrize("credential", sorted(BAD_CREDENTIALS))
def test_inbound_mail_with_bad_credentials_is_401_and_writes_nothing(boxes, credential):
    auth = BAD_CREDENTIALS[credential](boxes)
    before = written()
    response = post_mail(boxes.box.pk, mime(), auth)
    assert response.status_code == 401
    assert response.json() == {"detail": "unauthorised"}
    assert written() == before


@pytest.mark.parametrize("credential", ["mailbox secret", "admin token"])
def test_inbound_mail_to_an_unknown_mailbox_is_401_and_writes_nothing(boxes, credential):
    auth = f"Bearer {MAILBOX_SECRET}" if credential == "mailbox secret" else f"Bearer {f.api_token(boxes.admin)}"
    before = written()
    response = post_mail(boxes.other_box.pk + 1000, mime(), auth)
    assert response.status_code == 401 and response.json() == {"detail": "unauthorised"}
    assert written() == before


@pytest.mark.parametrize("role", [*REQUESTERS, "partner", "owner"])
def test_inbound_mail_with_a_token_of_a_role_that_may_not_post_mail_is_403(boxes, role):
    before = written()
    sender = getattr(boxes, role).email  # even mail "from" the token's own holder
    response = post_mail(boxes.box.pk, mime(sender=sender), bearer(boxes, role)["HTTP_AUTHORIZATION"])
    assert response.status_code == 403
    assert response.json() == {"detail": "forbidden"}
    assert written() == before


def test_inbound_mail_with_an_admin_token_from_an_unknown_sender_is_received(boxes):
    before = InboundEmail.objects.count()
    response = post_mail(boxes.box.pk, mime(), bearer(boxes, "admin")["HTTP_AUTHORIZATION"])
    assert response.status_code == 202 and response.json()["outcome"] == "ticket_created"
    assert InboundEmail.objects.count() == before + 1
    ticket = Ticket.objects.get(reference=response.json()["ticket"])
    assert ticket.requester.email == "someone@outside.test" and ticket.requester.role == Role.REQUESTER


def test_inbound_mail_with_the_mailbox_secret_is_received(boxes):
    response = post_mail(boxes.box.pk, mime(), f"Bearer {MAILBOX_SECRET}")
    assert response.status_code == 202 and response.json()["outcome"] == "ticket_created"
    assert InboundEmail.objects.count() == 1


def test_an_agent_token_cannot_file_a_new_request_as_an_existing_requester(boxes):
    """An agent's personal token must not let its holder write as someone else: mail "From" a
    requester of organisation B, posted with the agent's token, must be refused."""
    before = written()
    response = post_mail(boxes.box.pk, mime(sender=VICTIM_EMAIL, subject="Forged request", msgid="<forged-1@x>"),
                         bearer(boxes, "agent")["HTTP_AUTHORIZATION"])
    assert response.status_code in (401, 403), response.content
    assert not Ticket.objects.filter(requester=boxes.requester_b, subject="Forged request").exists()
    assert written() == before


def test_an_agent_token_cannot_reply_on_a_requesters_ticket_in_their_name(boxes):
    """The same forgery as a reply: it would add a public message authored by the victim."""
    before = written()
    raw = mime(sender=VICTIM_EMAIL, subject=f"Re: [{boxes.hidden.reference}] {HIDDEN_SUBJECT}",
               msgid="<forged-2@x>")
    response = post_mail(boxes.box.pk, raw, bearer(boxes, "agent")["HTTP_AUTHORIZATION"])
    assert response.status_code in (401, 403), response.content
    assert not boxes.hidden.messages.filter(author=boxes.requester_b).exists()
    assert written() == before


# --- signed webhooks: a signed-in session never stands in for the signature -------------------


@pytest.fixture
def phone_hook(chan, settings):
    settings.VUORO_TELEPHONY_SECRET = PHONE_SECRET
    settings.VUORO_TELEPHONY_SERVICE = chan.other.slug
    return chan


def phone_event() -> bytes:
    return json.dumps({"id": "perm-call-1", "from": VICTIM_NUMBER, "to": "+35891234567",
                       "started_at": timezone.now().isoformat(), "duration": 0, "outcome": "missed"}).encode()


def phone_headers(body: bytes, signature: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    good = phone_signing.sign(secret=PHONE_SECRET, timestamp=stamp, body=body)
    value = {"missing": None, "wrong secret": phone_signing.sign(secret="guess", timestamp=stamp, body=body),
             "garbage": "not-a-signature", "good": good}[signature]
    headers = {"HTTP_X_VUORO_TIMESTAMP": stamp}
    if value is not None:
        headers["HTTP_X_VUORO_SIGNATURE"] = value
    return headers


@pytest.mark.parametrize("signature", ["missing", "wrong secret", "garbage"])
@pytest.mark.parametrize("role", EVERY_ROLE)
def test_telephony_webhook_refuses_a_bad_signature_whatever_session(phone_hook, role, signature):
    client = client_for(phone_hook, role)
    body = phone_event()
    before = written()
    response = client.post("/phone/webhook/", body, content_type="application/json",
                           **phone_headers(body, signature))
    assert response.status_code == 401
    text = response.content.decode()
    assert "perm-call-1" not in text and VICTIM_LAST not in text and "ticket" not in response.json()
    assert written() == before
    assert not Call.objects.filter(external_id="perm-call-1").exists()


def test_telephony_webhook_accepts_the_good_signature_without_a_session(phone_hook):
    body = phone_event()
    response = Client().post("/phone/webhook/", body, content_type="application/json",
                             **phone_headers(body, "good"))
    assert response.status_code == 201
    assert Call.objects.get(external_id="perm-call-1").caller == phone_hook.requester_b


@pytest.fixture
def handoff(chan):
    chan.handoff = HandOff.objects.create(service=chan.other, kind="rest", url="http://127.0.0.1:9/",
                                          secret=HANDOFF_SECRET)
    chan.external = ExternalReference.objects.create(ticket=chan.hidden, system=f"handoff-{chan.handoff.pk}",
                                                     reference="OPS-1", external_status="open")
    return chan


def handoff_post(client: Client, slug: str, signature: str):
    body = json.dumps({"reference": "OPS-1", "status": "resolved", "comment": "Injected comment"}).encode()
    stamp = int(time.time())
    value = {"missing": None, "wrong secret": handoff_sign("guess", stamp, body), "garbage": "0" * 64,
             "stale": handoff_sign(HANDOFF_SECRET, stamp - 600, body), "good": handoff_sign(HANDOFF_SECRET, stamp, body)}
    headers = {"HTTP_X_VUORO_TIMESTAMP": str(stamp - 600 if signature == "stale" else stamp)}
    if value[signature] is not None:
        headers["HTTP_X_VUORO_SIGNATURE"] = value[signature]
    return client.post(f"/webhooks/handoff/{slug}/", data=body, content_type="application/json", **headers)


@pytest.mark.parametrize("signature", ["missing", "wrong secret", "garbage", "stale"])
@pytest.mark.parametrize("role", EVERY_ROLE)
def test_handoff_webhook_refuses_a_bad_signature_whatever_session(handoff, role, signature):
    before = (written(), handoff.hidden.status)
    response = handoff_post(client_for(handoff, role), handoff.other.slug, signature)
    assert response.status_code == 401
    text = response.content.decode()
    assert handoff.hidden.reference not in text and HIDDEN_SUBJECT not in text
    handoff.hidden.refresh_from_db()
    handoff.external.refresh_from_db()
    assert (written(), handoff.hidden.status) == before
    assert handoff.external.external_status == "open" and handoff.external.updated_at is None
    assert not Message.objects.filter(body__contains="Injected comment").exists()


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_handoff_webhook_for_a_service_without_a_handoff_is_404(handoff, role):
    before = written()
    response = handoff_post(client_for(handoff, role), handoff.critical.slug, "good")
    assert response.status_code == 404
    assert written() == before and handoff.scoped.status == Ticket.objects.get(pk=handoff.scoped.pk).status


def test_handoff_webhook_accepts_the_good_signature_without_a_session(handoff):
    response = handoff_post(Client(), handoff.other.slug, "good")
    assert response.status_code == 200 and response.json()["reference"] == handoff.hidden.reference
    handoff.external.refresh_from_db()
    assert handoff.external.external_status == "resolved"


# --- the channel and webhook admin pages -------------------------------------------------------


@pytest.fixture
def admin_world(boxes):
    boxes.box.imap_password = "imap-password-perm"
    boxes.box.save()
    boxes.handoff = HandOff.objects.create(service=boxes.other, kind="rest", url="https://its.customer.test/",
                                           secret=HANDOFF_SECRET)
    boxes.subscription = WebhookSubscription.objects.create(name="ops", url="https://ops.customer.test/hook",
                                                            secret="subscription-perm-secret",
                                                            events=["ticket.created"])
    # A desk agent someone marked as staff without giving any admin permission.
    boxes.staff_agent = f.user(Role.AGENT, username="staff_agent")
    User.objects.filter(pk=boxes.staff_agent.pk).update(is_staff=True)
    boxes.staff_agent.refresh_from_db()
    return boxes


SECRETS = [MAILBOX_SECRET, "imap-password-perm", HANDOFF_SECRET, "subscription-perm-secret"]


def admin_urls(world) -> list[str]:
    return [
        "/admin/channels/mailbox/", f"/admin/channels/mailbox/{world.box.pk}/change/",
        "/admin/channels/inboundemail/", "/admin/channels/emailbounce/",
        "/admin/webhooks/webhooksubscription/", f"/admin/webhooks/webhooksubscription/{world.subscription.pk}/change/",
        "/admin/webhooks/webhookdelivery/",
        "/admin/webhooks/handoff/", f"/admin/webhooks/handoff/{world.handoff.pk}/change/",
    ]


@pytest.mark.parametrize("role", [r for r in EVERY_ROLE if r != "admin"])
def test_channel_admin_pages_send_non_staff_to_the_admin_login(admin_world, role):
    client = client_for(admin_world, role)
    for url in admin_urls(admin_world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
        body = response.content.decode()
        assert not any(secret in body for secret in SECRETS), url


def test_channel_admin_pages_are_403_for_staff_without_admin_permissions(admin_world):
    client = client_for(admin_world, "staff_agent")
    for url in admin_urls(admin_world):
        response = client.get(url)
        assert response.status_code == 403, url
        assert not any(secret in response.content.decode() for secret in SECRETS), url


@pytest.mark.parametrize("role", ["agent", "owner", "staff_agent"])
def test_non_admins_cannot_add_a_mailbox_or_a_handoff_through_the_admin(admin_world, role):
    client = client_for(admin_world, role)
    mailboxes, handoffs = Mailbox.objects.count(), HandOff.objects.count()
    mailbox = client.post("/admin/channels/mailbox/add/", {
        "name": "Rogue", "address": "rogue@vuoro.test", "unknown_senders": "create_contact", "active": "on",
        "imap_port": "993", "imap_folder": "INBOX", "inbound_secret": "rogue"})
    handoff = client.post("/admin/webhooks/handoff/add/", {
        "service": admin_world.critical.pk, "kind": "rest", "url": "https://rogue.test/", "secret": "rogue",
        "reference_key": "id", "active": "on"})
    expected = 403 if role == "staff_agent" else 302
    assert (mailbox.status_code, handoff.status_code) == (expected, expected)
    assert (Mailbox.objects.count(), HandOff.objects.count()) == (mailboxes, handoffs)
    assert not Mailbox.objects.filter(address="rogue@vuoro.test").exists()


def test_the_admin_opens_every_channel_admin_page(admin_world):
    client = client_for(admin_world, "admin")
    for url in admin_urls(admin_world):
        assert client.get(url).status_code == 200, url
    assert admin_world.box.address in client.get("/admin/channels/mailbox/").content.decode()


def test_fixture_sanity_every_role_is_what_its_name_says(admin_world):
    w = admin_world
    assert [getattr(w, r).role for r in ("requester_a", "colleague_a", "requester_b")] == [Role.REQUESTER] * 3
    assert (w.partner.role, w.partner_outside.role, w.owner.role) == (Role.PARTNER, Role.PARTNER,
                                                                      Role.SERVICE_OWNER)
    assert w.requester_b.organisation == w.org_b and w.requester_a.organisation == w.org_a
    assert w.requester_b.phone_e164 == VICTIM_NUMBER
    assert not w.partner_outside.teams.exists() and w.partner.teams.filter(pk=w.partner_team.pk).exists()
    assert w.admin.is_staff and w.staff_agent.is_staff and not w.staff_agent.is_superuser
    assert not any(getattr(w, r).is_staff for r in ("agent", "owner", "partner", *REQUESTERS))
