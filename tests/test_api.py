"""The REST API: intake, validation, idempotency, scoping, changes, messages, tokens, paging."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from vuoro.accounts import services as accounts_services
from vuoro.accounts.models import ApiToken
from vuoro.tickets.models import Message, Status, Ticket

API = "/api/v1"


@pytest.fixture
def api(client):
    """Call the API as ``user`` (or without a token), in English."""

    def call(method, path, user=None, *, data=None, token=None, headers=None, raw=None,
             files=None, **kwargs):
        extra = {"HTTP_ACCEPT_LANGUAGE": "en"}
        if user is not None:
            token = f.api_token(user)
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        body = raw if raw is not None else (json.dumps(data) if data is not None else None)
        if body is not None:
            kwargs.setdefault("content_type", "application/json")
            kwargs["data"] = body
        if files is not None:
            kwargs["data"] = files
        return getattr(client, method)(API + path, **kwargs, **extra)

    return call


def new_request(**overrides):
    body = {"service": "workstations", "category": "new-device", "subject": "New laptop",
            "description": "For the new hire.", "stops_work": "no", "affected": "me",
            "form_answers": {"device": "laptop", "count": 2}}
    body.update(overrides)
    return body


# Intake


def test_requester_creates_a_ticket_through_the_api(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(stops_work="yes", affected="many"))
    assert response.status_code == 201
    body = response.json()
    assert body["reference"].startswith("VUO-")
    assert body["priority"] == "P1"
    assert body["channel"] == "api"
    assert body["service"] == {"slug": "workstations", "name": "Service workstations"}
    assert body["category"]["slug"] == "new-device"
    assert body["requester"]["id"] == world.requester_a.pk
    assert body["form_answers"] == {"device": "laptop", "count": "2"}
    assert Ticket.objects.get(reference=body["reference"]).requester == world.requester_a


def test_missing_subject_is_named_in_the_errors(world, api):
    body = new_request()
    del body["subject"]
    response = api("post", "/tickets", world.requester_a, data=body)
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject": ["This field is required."]}
    assert Ticket.objects.count() == 0


def test_subject_of_201_characters_is_refused(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(subject="x" * 201))
    assert response.status_code == 422
    assert response.json()["errors"]["subject"] == ["At most 200 characters."]
    assert Ticket.objects.count() == 0


def test_subject_that_is_a_number_is_refused(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(subject=42))
    assert response.status_code == 422
    assert "subject" in response.json()["errors"]


def test_unknown_service_is_refused_with_a_message(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(service="no-such"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"service": ["There is no service with this short name."]}


def test_unknown_category_is_refused_with_a_message(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(category="no-such"))
    assert response.status_code == 400
    assert "category" in response.json()["errors"]
    assert Ticket.objects.count() == 0


def test_missing_required_form_answer_is_refused(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(form_answers={"count": 1}))
    assert response.status_code == 400
    assert response.json()["errors"] == {"form_answers.device": ["This field is required."]}


def test_choice_outside_the_offered_options_is_refused(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(form_answers={"device": "toaster"}))
    assert response.status_code == 400
    assert response.json()["errors"]["form_answers.device"] == ["Choose one of the offered options."]


def test_malformed_json_body_gets_a_clear_400(world, api):
    response = api("post", "/tickets", world.requester_a, raw='{"subject": "half')
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is not valid JSON."
    assert Ticket.objects.count() == 0


def test_text_with_nul_characters_is_refused(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(subject="bad\x00byte"))
    assert response.status_code == 422
    assert "subject" in response.json()["errors"]


def test_repeated_idempotency_key_returns_the_first_ticket(world, api):
    token = f.api_token(world.requester_a)
    headers = {"Idempotency-Key": "order-42"}
    first = api("post", "/tickets", token=token, data=new_request(), headers=headers)
    again = api("post", "/tickets", token=token, data=new_request(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert Ticket.objects.count() == 1


def test_requester_cannot_create_on_behalf_of_someone_else(world, api):
    response = api("post", "/tickets", world.requester_a, data=new_request(requester=world.colleague_a.email))
    assert response.status_code == 403
    assert Ticket.objects.count() == 0


def test_agent_creates_on_behalf_of_a_requester_by_email(world, api):
    response = api("post", "/tickets", world.agent, data=new_request(requester=world.requester_b.email))
    assert response.status_code == 201
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert (ticket.requester, ticket.created_by, ticket.organisation) == (world.requester_b, world.agent, world.org_b)


# Who sees what


def references(response):
    assert response.status_code == 200
    return {item["reference"] for item in response.json()["items"]}


def test_requester_sees_own_tickets_but_not_another_organisations(world, api):
    mine = f.ticket(world.requester_a, world.other, world.cat_other)
    theirs = f.ticket(world.requester_b, world.other, world.cat_other)
    seen = references(api("get", "/tickets", world.requester_a))
    assert mine.reference in seen and theirs.reference not in seen


def test_colleague_with_organisation_view_sees_the_organisations_tickets(world, api):
    ours = f.ticket(world.requester_a, world.other, world.cat_other)
    theirs = f.ticket(world.requester_b, world.other, world.cat_other)
    assert references(api("get", "/tickets", world.colleague_a)) == {ours.reference}
    assert theirs.reference in references(api("get", "/tickets", world.agent))


def test_partner_sees_only_tickets_of_their_team_without_emails(world, api):
    # Partners see only services whose out-of-hours coverage names their team.
    from vuoro.coverage.models import CoverageModel, ServiceCoverage

    ServiceCoverage.objects.create(service=world.other, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=world.partner_team)
    routed = f.ticket(world.requester_a, world.other, world.cat_other)
    f.ticket(world.requester_a, world.other, world.cat_other)
    Ticket.objects.filter(pk=routed.pk).update(team=world.partner_team)
    response = api("get", "/tickets", world.partner)
    assert references(response) == {routed.reference}
    assert response.json()["items"][0]["requester"]["email"] is None
    assert response.json()["items"][0]["organisation"] is None


def test_service_owner_sees_tickets_of_the_owned_service_only(world, api):
    owned = f.ticket(world.requester_a, world.critical, world.cat_critical)
    f.ticket(world.requester_a, world.other, world.cat_other)
    assert references(api("get", "/tickets", world.owner)) == {owned.reference}


def test_another_organisations_ticket_is_simply_not_found(world, api):
    theirs = f.ticket(world.requester_b, world.other, world.cat_other)
    guessed = api("get", f"/tickets/{theirs.reference}", world.requester_a)
    missing = api("get", "/tickets/VUO-2000-999999", world.requester_a)
    assert guessed.status_code == missing.status_code == 404
    assert guessed.json() == missing.json() == {"detail": "Not found."}


# Changes


def test_requester_cannot_change_a_ticket(world, api):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = api("patch", f"/tickets/{ticket.reference}", world.requester_a, data={"status": "closed"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_agent_changes_status_and_assignee(world, api):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = api("patch", f"/tickets/{ticket.reference}", world.agent,
                   data={"status": "open", "assignee": world.agent2.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["assignee"]["id"] == world.agent2.pk


def test_invalid_transition_is_refused_and_nothing_changes(world, api):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    api("patch", f"/tickets/{ticket.reference}", world.agent, data={"status": "resolved"})
    response = api("patch", f"/tickets/{ticket.reference}", world.agent,
                   data={"status": "waiting", "priority": "P1"})
    assert response.status_code == 400
    assert response.json()["errors"]["status"] == ["A ticket cannot move from Resolved to Waiting for requester."]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.RESOLVED, "P5")


# Messages and history


def test_requester_cannot_write_an_internal_note(world, api):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = api("post", f"/tickets/{ticket.reference}/messages", world.requester_a,
                   data={"body": "psst", "internal": True})
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_requester_never_sees_internal_notes(world, api):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    api("post", f"/tickets/{ticket.reference}/messages", world.agent, data={"body": "Note to self", "internal": True})
    api("post", f"/tickets/{ticket.reference}/messages", world.agent, data={"body": "On it!"})
    as_requester = api("get", f"/tickets/{ticket.reference}/messages", world.requester_a).json()
    as_agent = api("get", f"/tickets/{ticket.reference}/messages", world.agent).json()
    assert [m["body"] for m in as_requester] == ["<p>On it!</p>"]
    assert len(as_agent) == 2


def test_history_hides_desk_only_changes_from_the_requester(world, api):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    api("patch", f"/tickets/{ticket.reference}", world.agent, data={"assignee": world.agent.pk, "status": "open"})
    seen = api("get", f"/tickets/{ticket.reference}/events", world.requester_a).json()
    desk = api("get", f"/tickets/{ticket.reference}/events", world.agent).json()
    assert {e["field"] for e in seen} == {"", "status"}
    assert "assignee" in {e["field"] for e in desk}


# Attachments


def upload(api, user, ticket, name, content, content_type="text/plain"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = SimpleUploadedFile(name, content, content_type=content_type)
    return api("post", f"/tickets/{ticket.reference}/attachments", user, files={"files": [files]})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachment_upload_and_download(world, api, media):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = upload(api, world.requester_a, ticket, "log.txt", b"line one\n")
    assert response.status_code == 201
    [item] = response.json()
    download = api("get", f"/attachments/{item['id']}", world.requester_a)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"line one\n"
    assert ticket.events.filter(kind="attached", new_value="log.txt").exists()


def test_forbidden_file_type_is_refused(world, api, media):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = upload(api, world.requester_a, ticket, "setup.exe", b"MZ...")
    assert response.status_code == 400
    assert response.json()["errors"]["attachments"] == ["setup.exe: this file type is not allowed."]
    assert not ticket.attachments.exists()


def test_oversize_file_is_refused(world, api, media, settings):
    settings.VUORO_ATTACHMENT_MAX_BYTES = 10
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    response = upload(api, world.requester_a, ticket, "big.txt", b"x" * 11)
    assert response.status_code == 400
    assert "too large" in response.json()["errors"]["attachments"][0]
    assert not ticket.attachments.exists()


def test_another_organisation_cannot_download_an_attachment(world, api, media):
    ticket = f.ticket(world.requester_a, world.other, world.cat_other)
    [item] = upload(api, world.requester_a, ticket, "log.txt", b"secret").json()
    response = api("get", f"/attachments/{item['id']}", world.requester_b)
    assert response.status_code == 404


# Tokens


def test_request_without_a_token_is_unauthorised(world, api):
    response = api("get", "/tickets")
    assert response.status_code == 401
    assert response.json() == {"detail": "A valid API token is required."}


def test_revoked_token_is_unauthorised(world, api):
    token = f.api_token(world.agent)
    assert api("get", "/tickets", token=token).status_code == 200
    ApiToken.objects.filter(user=world.agent).update(revoked_at="2026-01-01T00:00:00Z")
    assert api("get", "/tickets", token=token).status_code == 401


def test_token_issued_over_the_api_works_once_shown_and_can_be_revoked(world, api):
    issued = api("post", "/tokens", world.agent, data={"name": "CI"})
    assert issued.status_code == 201
    plain = issued.json()["token"]
    listed = api("get", "/tokens", token=plain).json()
    assert "token" not in listed[0] and {t["name"] for t in listed} == {"test", "CI"}
    assert api("delete", f"/tokens/{issued.json()['id']}", token=plain).status_code == 204
    assert api("get", "/tokens", token=plain).status_code == 401


def test_openapi_document_is_public_and_describes_ticket_create(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    create = response.json()["paths"]["/api/v1/tickets"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/TicketCreateIn")
    assert {"201", "200", "400", "422"} <= set(create["responses"])


# Paging and cost


def test_keyset_pages_are_disjoint_and_complete(world, api):
    made = {f.ticket(world.requester_a, world.other, world.cat_other).reference for _ in range(7)}
    token = f.api_token(world.agent)
    first = api("get", "/tickets?limit=3", token=token).json()
    second = api("get", f"/tickets?limit=3&after={first['next_cursor']}", token=token).json()
    third = api("get", f"/tickets?limit=3&after={second['next_cursor']}", token=token).json()
    pages = [{t["reference"] for t in p["items"]} for p in (first, second, third)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert pages[0] | pages[1] | pages[2] == made
    assert third["next_cursor"] is None


def test_broken_cursor_is_a_400(world, api):
    response = api("get", "/tickets?after=not-a-cursor", world.agent)
    assert response.status_code == 400
    assert "after" in response.json()["errors"]


def count_list_queries(api, token):
    with CaptureQueriesContext(connection) as queries:
        response = api("get", "/tickets?limit=200", token=token)
    assert response.status_code == 200
    return len(response.json()["items"]), len(queries)


def test_ticket_list_costs_the_same_queries_for_5_and_30_tickets(world, api, settings, monkeypatch):
    # The token and the configuration version are read again after a second; making 25 tickets
    # on a loaded machine can take longer, so both are held for the test: it counts per-row queries.
    settings.VUORO_CONFIG_CHECK_SECONDS = 3600
    monkeypatch.setattr(accounts_services, "TOKEN_CACHE_SECONDS", 3600.0)
    token = f.api_token(world.agent)
    for _ in range(5):
        f.ticket(world.requester_a, world.critical, world.cat_critical)
    api("get", "/tickets", token=token)  # the first call stamps the token's last use
    api("get", "/tickets", token=token)  # the second reads the token anew; later ones keep it
    five = count_list_queries(api, token)
    for _ in range(25):
        f.ticket(world.requester_b, world.other, world.cat_other)
    thirty = count_list_queries(api, token)
    assert (five[0], thirty[0]) == (5, 30)
    assert five[1] == thirty[1]


# Catalog


def test_categories_come_with_their_form_in_the_request_language(world, api):
    response = api("get", "/services/workstations/categories", world.requester_a)
    assert response.status_code == 200
    [category] = response.json()
    device = category["fields"][0]
    assert (device["key"], device["label"], device["required"]) == ("device", "Device", True)
    assert device["choices"] == [{"value": "laptop", "label": "Laptop"}, {"value": "phone", "label": "Phone"}]
