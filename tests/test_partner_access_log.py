"""Every partner view of a ticket is logged; service owners read it for their services, admins all."""

import csv
import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from tests.test_partner_scope import SATURDAY_NIGHT, night_ticket, night_world
from vuoro.accounts.models import Role
from vuoro.catalog.models import Service
from vuoro.coverage.models import CoverageModel, ServiceCoverage
from vuoro.partner.models import PartnerAccess
from vuoro.partner.services import partner_access_log
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.services import message_add

LOG = reverse("partner:access_log")
CSV = reverse("partner:access_log_csv")


@pytest.fixture
def night(world):
    return night_world(world)


@pytest.fixture
def two_services(night):
    """The partner covers the owner's critical service and a service someone else owns."""
    other_owner = f.user(Role.SERVICE_OWNER, username="other_owner")
    Service.objects.filter(pk=night.other.pk).update(owner=other_owner)
    ServiceCoverage.objects.create(service=night.other, model=CoverageModel.CATCH_DISPATCH,
                                   partner_team=night.partner_team)
    owned = night_ticket(night, subject="Owned")
    foreign = night_ticket(night, night.other, night.cat_other, subject="Foreign")
    night.other_owner = other_owner
    return owned, foreign


def test_api_reads_and_attachment_downloads_by_a_partner_are_logged(night, client):
    ticket = night_ticket(night)
    upload = check_uploads([SimpleUploadedFile("log.txt", b"relay log", content_type="text/plain")])
    message_add(actor=night.requester_a, ticket=ticket, body="Log attached", attachments=upload)
    attachment = ticket.attachments.get()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.partner)}"}
    for path in ("", "/messages", "/events"):
        assert client.get(f"/api/v1/tickets/{ticket.reference}{path}", **auth).status_code == 200
    assert client.get(f"/api/v1/attachments/{attachment.pk}", **auth).status_code == 200
    client.force_login(night.partner)
    assert client.get(reverse("attachment_download", args=[attachment.pk])).status_code == 200
    views = sorted(PartnerAccess.objects.filter(user=night.partner, ticket=ticket).values_list("view", flat=True))
    assert views == ["api_events", "api_messages", "api_ticket", "attachment", "attachment"]


def test_reads_by_desk_staff_are_not_logged(night, client):
    ticket = night_ticket(night)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.agent)}"}
    assert client.get(f"/api/v1/tickets/{ticket.reference}", **auth).status_code == 200
    assert partner_access_log(user=night.agent, ticket=ticket, view="api_ticket") is None
    assert not PartnerAccess.objects.exists()


def test_a_refused_read_is_not_logged(night, client):
    hidden = night_ticket(night, night.other, night.cat_other, subject="Not covered")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(night.partner)}"}
    assert client.get(f"/api/v1/tickets/{hidden.reference}", **auth).status_code == 404
    assert not PartnerAccess.objects.exists()


def test_the_owner_reads_only_their_services_log(night, two_services, client):
    owned, foreign = two_services
    for ticket in (owned, foreign):
        partner_access_log(user=night.partner, ticket=ticket, view="console_ticket")
    client.force_login(night.owner)
    page = client.get(LOG).content.decode()
    assert owned.reference in page and foreign.reference not in page
    text = client.get(CSV).content.decode()
    assert owned.reference in text and foreign.reference not in text
    foreign_filter = client.get(LOG, {"service": night.other.pk}).content.decode()
    assert foreign.reference not in foreign_filter


def test_the_admin_reads_every_service_and_filters_by_service(night, two_services, client):
    owned, foreign = two_services
    for ticket in (owned, foreign):
        partner_access_log(user=night.partner, ticket=ticket, view="console_ticket")
    client.force_login(night.admin)
    page = client.get(LOG).content.decode()
    assert owned.reference in page and foreign.reference in page
    only_other = client.get(LOG, {"service": night.other.pk}).content.decode()
    assert foreign.reference in only_other and owned.reference not in only_other


def test_the_log_filters_by_date(night, client):
    ticket = night_ticket(night)
    partner_access_log(user=night.partner, ticket=ticket, view="console_ticket",
                       now=dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC))
    partner_access_log(user=night.partner, ticket=ticket, view="api_ticket",
                       now=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))
    client.force_login(night.owner)
    rows = client.get(CSV, {"day_from": "2026-11-10"}).content.decode().strip().splitlines()
    assert len(rows) == 2 and "api_ticket" in rows[1]
    rows = client.get(CSV, {"day_to": "2026-11-10"}).content.decode().strip().splitlines()
    assert len(rows) == 2 and "console_ticket" in rows[1]
    assert client.get(LOG, {"day_from": "yesterday"}).status_code == 400


def test_the_log_pages_by_keyset_in_a_fixed_number_of_queries(night, client, settings):
    ticket = night_ticket(night)
    start = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    PartnerAccess.objects.bulk_create([
        PartnerAccess(user=night.partner, ticket=ticket, view="api_ticket", at=start + dt.timedelta(minutes=n))
        for n in range(130)])
    client.force_login(night.admin)
    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(LOG)
    body = first.content.decode()
    assert body.count('class="access-row"') == 100
    next_link = body.split('class="next-page" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(LOG + next_link).content.decode()
    assert second.count('class="access-row"') == 30 and 'class="next-page"' not in second
    assert len(first_queries) <= 8


@pytest.mark.parametrize("role", ["agent", "agent2", "partner", "requester_a"])
def test_agents_partners_and_requesters_cannot_read_the_log(night, client, role):
    ticket = night_ticket(night)
    partner_access_log(user=night.partner, ticket=ticket, view="console_ticket")
    client.force_login(getattr(night, role))
    for target in (LOG, CSV):
        response = client.get(target)
        assert response.status_code == 403 and ticket.reference not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(CSV)["Location"].startswith(reverse("login"))


def test_the_log_is_append_only(night):
    ticket = night_ticket(night)
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        row = partner_access_log(user=night.partner, ticket=ticket, view="console_ticket")
    assert row.at == SATURDAY_NIGHT
    row.view = "api_ticket"
    with pytest.raises(ValueError):
        row.save()


def test_the_export_never_hands_a_spreadsheet_a_formula(night, client):
    """A service or a partner named like a formula is written as text (an apostrophe first)."""
    formula = '=HYPERLINK("http://evil.example","x")'
    Service.objects.filter(pk=night.critical.pk).update(name_fi=formula, name_en=formula, name_sv=formula)
    night.partner.first_name, night.partner.last_name = "@SUM(1+1)", "-2"
    night.partner.save()
    partner_access_log(user=night.partner, ticket=night_ticket(night), view="console_ticket")
    client.force_login(night.owner)
    rows = list(csv.reader(client.get(CSV).content.decode().splitlines()))
    service, partner = rows[1][3], rows[1][1]
    assert service == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert partner.startswith("'@SUM(1+1)")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
