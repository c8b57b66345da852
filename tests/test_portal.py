"""The requester portal: catalogue, new requests, tracking links, own requests, downloads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests import factories as f
from vuoro.accounts.models import Role, User
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import Attachment, Status, Ticket
from vuoro.tickets.services import message_add, ticket_change
from vuoro.tickets.tracking import tracking_token


@pytest.fixture(autouse=True)
def attachments_in_tmp(settings, tmp_path):
    """Uploaded files land in a throwaway folder, not the development data directory."""
    settings.MEDIA_ROOT = tmp_path / "attachments"


def new_url(category):
    return reverse("portal:new_request", args=[category.service.slug, category.slug])


def request_data(**overrides):
    data = {
        "subject": "Need a laptop",
        "description": "Mine broke.",
        "stops_work": "partly",
        "affected": "me",
        "answer_device": "laptop",
        "answer_count": "2",
        "answer_needed_by": "2030-01-31",
        "answer_urgent_ok": "yes",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def pdf(name="report.pdf", size=None):
    content = b"%PDF-1.4 test" if size is None else b"x" * size
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def ticket_with_attachment(requester, service):
    ticket = f.ticket(requester, service)
    message_add(
        actor=requester,
        ticket=ticket,
        body="See file",
        channel="portal",
        attachments=check_uploads([pdf()]),
    )
    return ticket, Attachment.objects.get(ticket=ticket)


# The catalogue


def test_anonymous_visitor_sees_services_offered_to_everyone_with_categories(client, world):
    restricted = f.service("payroll")
    restricted.organisations.set([world.org_b])
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert "Palvelu email" in response.text and "Luokka new-device" in response.text
    assert "Palvelu payroll" not in response.text


def test_signed_in_requester_sees_services_offered_to_their_organisation(login, world):
    restricted = f.service("payroll")
    restricted.organisations.set([world.org_a])
    assert "Palvelu payroll" in login(world.requester_a).get(reverse("portal:home")).text


# The request form


def test_category_form_shows_labels_in_finnish(login, world):
    response = login(world.requester_a).get(new_url(world.cat_other))
    assert response.status_code == 200
    assert "Laite" in response.text and "Kannettava" in response.text
    assert 'name="answer_device"' in response.text and 'name="stops_work"' in response.text


def test_category_form_shows_labels_in_english(login, world):
    response = login(world.requester_b).get(new_url(world.cat_other))
    assert "Device" in response.text and "Laptop" in response.text
    assert "Laite" not in response.text
    assert "Does this stop your work?" in response.text


def test_submitting_the_form_creates_a_ticket_with_answers_and_priority(login, world):
    client = login(world.requester_a)
    response = client.post(
        new_url(world.cat_other), request_data(stops_work="yes", affected="many")
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:confirmation", args=[tracking_token(ticket)])
    assert ticket.requester == world.requester_a and ticket.channel == "portal"
    assert ticket.form_answers == {
        "device": "laptop",
        "count": "2",
        "needed_by": "2030-01-31",
        "urgent_ok": True,
    }
    assert ticket.priority == "P1"


def test_confirmation_page_shows_reference_status_and_priority_in_plain_words(login, world):
    client = login(world.requester_b)
    response = client.post(
        new_url(world.cat_other), request_data(stops_work="no", affected="me"), follow=True
    )
    ticket = Ticket.objects.get()
    assert ticket.reference in response.text
    assert ticket.get_status_display() in response.text
    assert "schedule it with other planned work" in response.text
    assert reverse("portal:track", args=[tracking_token(ticket)]) in response.text


@pytest.mark.parametrize(
    "overrides, field, message_part",
    [
        ({"answer_device": None}, "answer_device", "required"),
        ({"answer_count": "many"}, "answer_count", "number"),
        ({"answer_device": "tablet"}, "answer_device", "offered options"),
        ({"subject": "x" * 201}, "subject", "200"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_stored(
    login, world, settings, overrides, field, message_part
):
    settings.LANGUAGE_CODE = "en"
    world.requester_a.language = "en"
    world.requester_a.save()
    response = login(world.requester_a).post(new_url(world.cat_other), request_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message_part in " ".join(errors[field])
    assert f'id="id_{field}-errors"' in response.text
    assert Ticket.objects.count() == 0


def test_input_is_kept_when_the_form_is_shown_again(login, world):
    response = login(world.requester_a).post(
        new_url(world.cat_other), request_data(answer_count="99", subject="Keep me")
    )
    assert 'value="Keep me"' in response.text
    assert 'value="99"' in response.text


def test_forbidden_attachment_type_is_refused_and_nothing_stored(login, world):
    data = request_data(
        attachments=SimpleUploadedFile("tool.exe", b"MZ", "application/octet-stream")
    )
    response = login(world.requester_b).post(new_url(world.cat_other), data)
    assert response.status_code == 200
    assert "tool.exe" in " ".join(response.context["form"].errors["attachments"])
    assert "please choose them again" in response.text
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0


def test_oversize_attachment_is_refused_and_nothing_stored(login, world, settings):
    settings.VUORO_ATTACHMENT_MAX_BYTES = 100
    data = request_data(attachments=pdf(size=101))
    response = login(world.requester_a).post(new_url(world.cat_other), data)
    assert "report.pdf" in " ".join(response.context["form"].errors["attachments"])
    assert Ticket.objects.count() == 0 and Attachment.objects.count() == 0


def test_several_attachments_are_stored_with_the_request(login, world):
    data = request_data(
        attachments=[pdf("a.pdf"), SimpleUploadedFile("b.txt", b"hello", "text/plain")]
    )
    login(world.requester_a).post(new_url(world.cat_other), data)
    assert sorted(Ticket.objects.get().attachments.values_list("filename", flat=True)) == [
        "a.pdf",
        "b.txt",
    ]


def test_double_submit_makes_one_request(login, world):
    client = login(world.requester_a)
    data = request_data(submission="0123456789abcdef0123456789abcdef")
    client.post(new_url(world.cat_other), data)
    client.post(new_url(world.cat_other), data)
    assert Ticket.objects.count() == 1


def test_service_without_categories_takes_requests_without_a_form(login, world):
    plain = f.service("printing")
    response = login(world.requester_a).post(
        reverse("portal:new_request", args=[plain.slug]),
        {"subject": "Printer jam", "stops_work": "no", "affected": "team"},
    )
    assert response.status_code == 302
    assert Ticket.objects.get().service == plain


def test_service_not_offered_to_the_organisation_is_not_found(login, world):
    restricted = f.service("payroll")
    restricted.organisations.set([world.org_b])
    response = login(world.requester_a).get(reverse("portal:new_request", args=[restricted.slug]))
    assert response.status_code == 404


# Requests without an account


def anonymous_submit(client, world, email="maija@example.test", **overrides):
    data = request_data(name="Maija Meikäläinen", email=email, **overrides)
    return client.post(new_url(world.cat_other), data)


def test_anonymous_request_creates_a_requester_without_password(client, world):
    world.org_a.email_domain = "org-a.test"
    world.org_a.save()
    response = anonymous_submit(client, world, email="Maija@Org-A.test")
    requester = User.objects.get(email="Maija@Org-A.test")
    assert response.status_code == 302
    assert requester.role == Role.REQUESTER and not requester.has_usable_password()
    assert requester.organisation == world.org_a and requester.first_name == "Maija"
    assert Ticket.objects.get().requester == requester


def test_second_anonymous_request_from_the_same_address_reuses_the_requester(client, world):
    anonymous_submit(client, world, email="maija@example.test")
    anonymous_submit(client, world, email="MAIJA@example.test", subject="Another one")
    assert User.objects.filter(email__iexact="maija@example.test").count() == 1
    assert Ticket.objects.values("requester").distinct().count() == 1


def test_anonymous_visitor_gets_the_form_in_the_language_they_chose(client, world, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    response = client.get(new_url(world.cat_other))
    assert "Enhet" in response.text and "Bärbar" in response.text
    assert 'name="name"' in response.text and 'name="email"' in response.text


def test_anonymous_request_needs_name_and_valid_email(client, world):
    response = client.post(new_url(world.cat_other), request_data(email="not-an-address"))
    errors = response.context["form"].errors
    assert "name" in errors and "email" in errors
    assert Ticket.objects.count() == 0 and not User.objects.filter(email="not-an-address").exists()


def test_anonymous_request_with_a_desk_address_is_refused(client, world):
    response = anonymous_submit(client, world, email=world.agent.email)
    assert "email" in response.context["form"].errors
    assert Ticket.objects.count() == 0


def test_an_anonymous_visitor_gets_no_tracking_link_the_address_does(client, world, settings):
    settings.VUORO_REQUESTER_MAIL = True
    response = anonymous_submit(client, world, stops_work="no", affected="me")
    ticket = Ticket.objects.get()
    token = tracking_token(ticket)
    assert response["Location"] == reverse("portal:sent") and token not in response["Location"]
    page = client.get(response["Location"])
    assert ticket.reference in page.text and token not in page.text
    assert "link to follow this request" in page.text or "linkin" in page.text
    from vuoro.core.events import react_due
    from vuoro.notify.models import OutboundEmail

    react_due()
    mail = OutboundEmail.objects.get(to="maija@example.test")
    assert reverse("portal:track", args=[token]) in mail.body


def test_an_address_that_signs_in_or_is_disabled_is_refused_alike(client, world):
    gone = f.user(Role.REQUESTER, username="gone")
    gone.is_active = False
    gone.save()
    answers = set()
    for person in (world.agent, world.requester_a, gone):  # desk, requester with a password, disabled
        response = anonymous_submit(client, world, email=person.email)
        answers.add(tuple(response.context["form"].errors["email"]))
    assert len(answers) == 1  # one answer: the form does not tell account types apart
    assert Ticket.objects.count() == 0


def test_anonymous_request_with_form_errors_stores_no_requester(client, world):
    anonymous_submit(client, world, answer_device="tablet")
    assert not User.objects.filter(email="maija@example.test").exists()


def test_tracking_link_shows_status_and_takes_a_reply_with_a_file(client, world):
    anonymous_submit(client, world, stops_work="no", affected="me")
    ticket = Ticket.objects.get()
    track_url = reverse("portal:track", args=[tracking_token(ticket)])
    page = client.get(track_url)
    assert page.status_code == 200 and ticket.reference in page.text
    response = client.post(track_url, {"body": "More details", "attachments": pdf("log.pdf")})
    assert response.status_code == 302
    message = ticket.messages.get()
    assert message.author == ticket.requester and "More details" in message.body
    assert message.attachments.get().filename == "log.pdf"


def test_tampered_tracking_token_is_not_found(client, world):
    ticket = f.ticket(world.requester_a, world.other)
    token = tracking_token(ticket)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(reverse("portal:track", args=[forged])).status_code == 404
    assert client.get(reverse("portal:confirmation", args=[forged])).status_code == 404
    assert client.get(reverse("portal:track", args=[str(ticket.tracking_id)])).status_code == 404


def test_tracking_page_hides_internal_notes(client, world):
    ticket = f.ticket(world.requester_a, world.other)
    message_add(actor=world.agent, ticket=ticket, body="Secret internal remark", internal=True)
    message_add(actor=world.agent, ticket=ticket, body="Public answer")
    page = client.get(reverse("portal:track", args=[tracking_token(ticket)]))
    assert "Public answer" in page.text and "Secret internal remark" not in page.text


# Own requests


def test_requester_lists_own_requests_newest_first(login, world):
    older = f.ticket(world.requester_a, world.other, subject="Older one")
    newer = f.ticket(world.requester_a, world.other, subject="Newer one")
    f.ticket(world.requester_b, world.other, subject="Someone else's")
    response = login(world.requester_a).get(reverse("portal:tickets"))
    assert response.status_code == 200
    assert response.text.index(newer.reference) < response.text.index(older.reference)
    assert "Someone else&#x27;s" not in response.text and "Someone else's" not in response.text
    assert "badge status-new" in response.text


def test_request_list_costs_the_same_few_queries_for_many_requests(
    login, world, django_assert_max_num_queries
):
    for i in range(30):
        f.ticket(world.requester_a, world.other, subject=f"Request {i}")
    client = login(world.requester_a)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("portal:tickets"))
    assert response.text.count("badge status-new") == 30


def test_catalogue_loads_services_and_categories_in_few_queries(
    client, world, django_assert_max_num_queries
):
    for i in range(10):
        f.category(f.service(f"extra-{i}"), with_form=False)
    with django_assert_max_num_queries(3):
        response = client.get(reverse("portal:home"))
    assert response.text.count('class="card service"') == 12


def test_request_list_pages_with_a_cursor(login, world, settings):
    settings.VUORO_PAGE_SIZE = 2
    tickets = [f.ticket(world.requester_a, world.other, subject=f"Request {i}") for i in range(3)]
    client = login(world.requester_a)
    first = client.get(reverse("portal:tickets"))
    assert tickets[0].reference not in first.text
    second = client.get(reverse("portal:tickets"), {"after": first.context["page"].next_cursor})
    assert tickets[0].reference in second.text and tickets[2].reference not in second.text


def test_forged_cursor_is_a_bad_request(login, world):
    response = login(world.requester_a).get(reverse("portal:tickets"), {"after": "forged"})
    assert response.status_code == 400


def test_colleague_allowed_to_see_organisation_requests_sees_them(login, world):
    ticket = f.ticket(world.requester_a, world.other, subject="Org wide")
    response = login(world.colleague_a).get(reverse("portal:tickets"), {"scope": "organisation"})
    assert ticket.reference in response.text and 'id="organisation-toggle"' in response.text


def test_requester_without_organisation_permission_sees_only_own_requests(login, world):
    theirs = f.ticket(world.colleague_a, world.other, subject="Colleague's")
    client = login(world.requester_a)
    response = client.get(reverse("portal:tickets"), {"scope": "organisation"})
    assert theirs.reference not in response.text and "organisation-toggle" not in response.text
    assert client.get(reverse("portal:ticket", args=[theirs.reference])).status_code == 404


def test_requester_cannot_open_another_requesters_ticket(login, world):
    theirs = f.ticket(world.requester_b, world.other)
    response = login(world.requester_a).get(reverse("portal:ticket", args=[theirs.reference]))
    assert response.status_code == 404


def test_request_list_needs_sign_in(client, world):
    response = client.get(reverse("portal:tickets"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_desk_users_are_sent_away_from_the_request_list(login, world):
    response = login(world.agent).get(reverse("portal:tickets"))
    assert response.status_code == 302
    assert response["Location"] != reverse("portal:tickets")


# One request


def test_ticket_page_shows_answers_and_public_timeline_but_no_internal_notes(login, world):
    ticket = f.ticket(
        world.requester_a,
        world.other,
        world.cat_other,
        form_answers={"device": "phone", "urgent_ok": False},
    )
    message_add(actor=world.agent, ticket=ticket, body="Secret internal remark", internal=True)
    message_add(actor=world.agent, ticket=ticket, body="We ordered a phone")
    response = login(world.requester_a).get(reverse("portal:ticket", args=[ticket.reference]))
    assert f'<span id="ticket-reference">{ticket.reference}</span>' in response.text
    assert 'id="ticket-status"' in response.text
    assert "Puhelin" in response.text
    assert "We ordered a phone" in response.text and "Secret internal remark" not in response.text
    assert response.text.count('<li class="message') == 1


def test_reply_reopens_a_resolved_ticket(login, world):
    ticket = f.ticket(world.requester_a, world.other)
    ticket_change(actor=world.agent, ticket=ticket, status=Status.RESOLVED)
    response = login(world.requester_a).post(
        reverse("portal:ticket", args=[ticket.reference]), {"body": "Still broken"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_empty_reply_is_refused_with_an_error(login, world):
    ticket = f.ticket(world.requester_a, world.other)
    response = login(world.requester_a).post(
        reverse("portal:ticket", args=[ticket.reference]), {"body": "  "}
    )
    assert response.status_code == 200
    assert "body" in response.context["reply_form"].errors
    assert ticket.messages.count() == 0


def test_reply_with_forbidden_file_is_refused(login, world):
    ticket = f.ticket(world.requester_a, world.other)
    response = login(world.requester_a).post(
        reverse("portal:ticket", args=[ticket.reference]),
        {"body": "Here", "attachments": SimpleUploadedFile("x.exe", b"MZ")},
    )
    assert "attachments" in response.context["reply_form"].errors
    assert ticket.messages.count() == 0 and Attachment.objects.count() == 0


def test_csrf_is_enforced_on_the_request_form(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.requester_a)
    response = client.post(new_url(world.cat_other), request_data())
    assert response.status_code == 403
    assert Ticket.objects.count() == 0


# Attachment download


def test_owner_downloads_attachment_as_a_file(login, world):
    ticket, attachment = ticket_with_attachment(world.requester_a, world.other)
    response = login(world.requester_a).get(reverse("attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert 'attachment; filename="report.pdf"' == response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"


def test_other_requester_cannot_download_attachment(login, world):
    _ticket, attachment = ticket_with_attachment(world.requester_b, world.other)
    response = login(world.requester_a).get(reverse("attachment_download", args=[attachment.pk]))
    assert response.status_code == 404


def test_tracking_token_opens_the_tickets_public_attachment_only(client, world):
    ticket, attachment = ticket_with_attachment(world.requester_a, world.other)
    other, _other_attachment = ticket_with_attachment(world.requester_b, world.other)
    url = reverse("attachment_download", args=[attachment.pk])
    assert client.get(url).status_code == 404
    assert client.get(url, {"t": tracking_token(ticket)}).status_code == 200
    assert client.get(url, {"t": tracking_token(other)}).status_code == 404
    assert client.get(url, {"t": tracking_token(ticket) + "x"}).status_code == 404
