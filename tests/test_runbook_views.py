"""The runbook runner on the desk ticket page: start, answer, refusals, the versions page."""

import json

import pytest
from django.utils import translation

from tests import factories as f
from tests.test_runbook_services import runbook_with_version
from vuoro.runbooks.models import Runbook, RunbookRun, RunbookVersion
from vuoro.runbooks.services import runbook_version_create


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


def test_panel_shows_the_current_step_and_finished_steps_in_the_users_language(world, login, ticket):
    world.agent.language = "en"
    world.agent.save()
    client = login(world.agent)
    client.post(f"/runbooks/tickets/{ticket.reference}/start/", HTTP_HX_REQUEST="true")
    run = RunbookRun.objects.get()
    panel = client.post(f"/runbooks/runs/{run.pk}/answer/",
                        {"step_key": "ask", "answer": "done", "notes": "Whole floor"}, HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and panel["HX-Trigger"] == "runbookChanged"
    assert "Kysy muista (en)" in panel.text and "Whole floor" in panel.text
    assert "Toimiiko selainposti? (en)" in panel.text
    assert 'name="step_key" value="webmail"' in panel.text
    assert f'hx-post="/runbooks/runs/{run.pk}/answer/"' in panel.text
    assert "Kyllä (en)" in panel.text and "Ei (en)" in panel.text
    assert f'href="/runbooks/services/{world.critical.slug}/"' in panel.text
    assert 'id="ticket-activity" hx-swap-oob="true"' in panel.text  # the desk timeline follows
    assert "runbook step: Kysy muista (en) → Done (Whole floor)" in panel.text
    page = client.get(f"/desk/tickets/{ticket.reference}/")
    assert "started the runbook Email is not working v1" in page.text
    assert "runbook step: Kysy muista (en) → Done (Whole floor)" in page.text


def test_panel_is_hidden_from_those_who_cannot_work_on_the_ticket(world, ticket):
    from django.template import Context, Template

    html = Template("{% load runbooks %}{% runbook_panel ticket user %}")
    assert "runbook-panel" not in html.render(Context({"ticket": ticket, "user": world.requester_a}))
    assert "runbook-panel" in html.render(Context({"ticket": ticket, "user": world.agent}))


def test_abandon_then_start_again_lists_the_earlier_run(world, login, ticket):
    world.agent.language = "en"
    world.agent.save()
    client = login(world.agent)
    client.post(f"/runbooks/tickets/{ticket.reference}/start/")
    first = RunbookRun.objects.get()
    assert client.post(f"/runbooks/runs/{first.pk}/abandon/", HTTP_HX_REQUEST="true").status_code == 200
    panel = client.post(f"/runbooks/tickets/{ticket.reference}/start/", HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and "Earlier runs" in panel.text and "Abandoned" in panel.text
    assert list(RunbookRun.objects.order_by("id").values_list("status", flat=True)) == ["abandoned", "running"]


def test_get_on_start_is_not_allowed(world, login, ticket):
    assert login(world.agent).get(f"/runbooks/tickets/{ticket.reference}/start/").status_code == 405
    assert not RunbookRun.objects.exists()


@pytest.mark.parametrize(("role", "service", "status"), [
    ("agent", "critical", 200), ("admin", "critical", 200), ("owner", "critical", 200),
    ("owner", "other", 403), ("partner", "critical", 403), ("requester_a", "critical", 403),
])
def test_versions_page_for_owners_and_agents(world, login, role, service, status):
    version = runbook_with_version(world.critical, by=world.owner)
    runbook_version_create(runbook=version.runbook, steps=version.steps[:1], note="Shorter for the night",
                           by=world.agent)
    response = login(getattr(world, role)).get(f"/runbooks/services/{getattr(world, service).slug}/")
    assert response.status_code == status
    if status == 200 and service == "critical":
        assert "Shorter for the night" in response.text and "v2" in response.text and "v1" in response.text


def _admin_post(client, url, steps, **extra):
    data = {"service": extra.pop("service"), "category": "", "name_fi": "Kirja", "name_en": "", "name_sv": "",
            "active": "on", "steps": json.dumps(steps), "note": "edit",
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
            "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000", **extra}
    return client.post(url, data)


def test_admin_edit_creates_a_new_version_and_keeps_the_old(world, login):
    client = login(world.admin)
    steps = [{"key": "a", "kind": "instruction", "text": {"fi": "Tee A"}}]
    response = _admin_post(client, "/admin/runbooks/runbook/add/", steps, service=world.critical.pk)
    assert response.status_code == 302, response.content.decode()[:3000]
    runbook = Runbook.objects.get()
    url = f"/admin/runbooks/runbook/{runbook.pk}/change/"
    assert "Tee A" in client.get(url).text
    changed = steps + [{"key": "b", "kind": "escalate_if", "text": {"fi": "Kiire?"}}]
    assert _admin_post(client, url, changed, service=world.critical.pk).status_code == 302
    assert _admin_post(client, url, changed, service=world.critical.pk).status_code == 302  # no change
    versions = list(runbook.versions.order_by("number").values_list("number", "steps"))
    assert versions == [(1, steps), (2, changed)]


def test_admin_refuses_invalid_steps_and_lists_the_problems(world, login):
    world.admin.language = "en"
    world.admin.save()
    client = login(world.admin)
    steps = [{"key": "a", "kind": "check", "text": {"fi": "A"}, "next": "a"}]
    response = _admin_post(client, "/admin/runbooks/runbook/add/", steps, service=world.critical.pk)
    assert response.status_code == 200
    assert "does not say where a failed check leads" in response.text
    assert not Runbook.objects.exists() and not RunbookVersion.objects.exists()


def test_demo_has_a_valid_runbook_for_each_critical_service(db):
    from vuoro.ops.demo import load_demo
    from vuoro.runbooks import flow
    from vuoro.runbooks.demo import load_runbooks_demo

    assert load_demo()
    versions = RunbookVersion.objects.select_related("runbook__service")
    assert {v.runbook.service.slug for v in versions} == {"email", "erp"}
    assert all(flow.validate(v.steps) == [] for v in versions)
    email = versions.get(runbook__service__slug="email").steps
    assert [s["kind"] for s in email] == ["instruction", "question", "instruction", "check", "escalate_if"]
    assert load_runbooks_demo() == 0 and RunbookVersion.objects.count() == 2
