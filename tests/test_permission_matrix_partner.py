"""The partner permission matrix: ticket state × scope × the partner's part × aftercare, on every
page, endpoint, attachment and export a partner agent reaches, with row counts.

The rule (``coverage.partner_scope``): open tickets of the services the partner's team covers are
its work when they are its night work (handle-now decision, caught by it, assigned to it, or in its
team). Once resolved or closed, a ticket stays readable, read-only, only if the partner caught it
or is its assignee, and only for ``VUORO_PARTNER_AFTERCARE_DAYS`` after the end; of such a ticket
the partner never sees the internal notes, attachments or history the desk added after the end
(``access.internal_cutoff``). A partner never moves a ticket to another service or category and
assigns only itself or its teammates.

One world holds a ticket for every cell of state × scope × part:

- state: open; resolved by the desk; closed by the desk (after resolving it, or for the daytime
  tickets straight away, so that both ways a ticket ends are in the matrix);
- scope: a night request on the covered service; a daytime request on it (decided in office
  hours and left with the desk); a night request on a service nobody covers, routed to the
  partner's team all the same;
- part: untouched by the partner; caught by it (and, at night, handed to the desk); assigned to
  it by the desk.

Each is read at two moments: in the last hour of the aftercare period, and a minute past it.
Open tickets have no aftercare: they are walked at the first moment, and are list rows at both.
Every ticket carries the requester's public attachment, and an internal note with an internal
attachment that the desk added after the end (on open tickets: while open). No response of any
surface may name a ticket out of sight or show the desk's later internal items of an ended ticket.
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests import factories as f
from tests.test_partner_scope import HELSINKI, SATURDAY_NIGHT, night_ticket, night_world
from tests.test_permission_matrix import api_operations, html_routes
from vuoro.coverage.models import OutOfHoursDecision
from vuoro.partner.models import PartnerAccess
from vuoro.partner.services import partner_catch, partner_dispatch_to_team
from vuoro.telephony.selectors import HISTORY_LIMIT
from vuoro.tickets import access
from vuoro.tickets.attachments import check_uploads
from vuoro.tickets.models import ACTIVE_STATUSES, Status, Ticket
from vuoro.tickets.services import message_add, ticket_change

# --- the expectations --------------------------------------------------------------------------

STATES = ("open", "resolved", "closed")
SCOPES = ("night", "daytime", "uncovered")
PARTS = ("none", "caught", "assigned")
WINDOWS = ("within", "after")
WALKED = {"within": STATES, "after": ("resolved", "closed")}  # the states walked at each moment

# Does the partner see the ticket (while open, ended within the aftercare, ended after it)?
# What it sees while open is its work: it may change it. An ended ticket it only reads.
SEES = {
    ("night", "none"):         (True,  False, False),  # its team's night work, never touched
    ("night", "caught"):       (True,  True,  False),
    ("night", "assigned"):     (True,  True,  False),
    ("daytime", "none"):       (False, False, False),  # coverage alone opens nothing
    ("daytime", "caught"):     (True,  True,  False),
    ("daytime", "assigned"):   (True,  True,  False),  # handed over by the desk
    ("uncovered", "none"):     (False, False, False),  # in its team, but nobody covers it
    ("uncovered", "caught"):   (False, False, False),
    ("uncovered", "assigned"): (False, False, False),
}
WORK, READ, HIDDEN = "work", "read", "hidden"
# How many of the 27 tickets are the partner's work, only readable, out of sight, per moment.
LEVEL_COUNTS = {"within": (5, 8, 14), "after": (5, 0, 22)}

W, A = "web", "api"  # signed in to the web; a bearer token on the API


@dataclass(frozen=True)
class Surface:
    """One request about one ticket, and its status when the ticket is the partner's work, when
    the partner only reads it, and when it is out of the partner's sight."""

    name: str
    via: str
    method: str
    path: str  # {ref}, {public} (the requester's attachment), {later} (the desk's later one)
    work: int
    read: int
    hidden: int
    data: Callable[["Case"], Any] | None = None
    check: Callable[["Case", str, Any], None] | None = None

    def expected(self, level: str) -> int:
        return {WORK: self.work, READ: self.read, HIDDEN: self.hidden}[level]


def _shows_subject(case: "Case", level: str, response: Any) -> None:
    if level != HIDDEN:
        assert case.cell.subject in response.content.decode(), case.cell.key


def _redirects_to_console(case: "Case", level: str, response: Any) -> None:
    if level != HIDDEN:
        assert response["Location"] == f"/partner/tickets/{case.reference}/"


def _messages(case: "Case", level: str, response: Any) -> None:
    if level != HIDDEN:
        bodies = " ".join(m["body"] for m in response.json())
        assert f"Screenshot {case.cell.key}" in bodies
        if case.partner_note:
            assert case.partner_note in bodies  # written before the end: still the partner's
        assert (case.desk_note in bodies) == (level == WORK)


def _attachments(case: "Case", level: str, response: Any) -> None:
    if level != HIDDEN:
        names = sorted(a["filename"] for a in response.json())
        assert names == sorted([case.public_name] + ([case.desk_file] if level == WORK else []))


def _other_service(case: "Case") -> dict[str, Any]:
    return {"service": "email" if case.cell.scope == "uncovered" else "workstations"}


def _upload(case: "Case") -> dict[str, Any]:
    return {"files": SimpleUploadedFile("partner-upload.txt", b"partner upload", content_type="text/plain")}


SPARE_CATEGORY = "spare-category"  # a second category of the covered service

# In this order: every read, then the writes (those allowed add messages and a file).
TICKET_SURFACES = [
    #        name                  via method  path                                         work read hidden
    Surface("console ticket",      W, "GET",   "/partner/tickets/{ref}/",                    200, 200, 404,
            check=_shows_subject),
    # The scope is checked before the method: a POST-only action of a ticket out of sight is
    # "not found" (triage and call are posted below).
    *[Surface(f"console {action} (GET)", W, "GET", f"/partner/tickets/{{ref}}/{action}/", 405, 405, 404)
      for action in ("catch", "dispatch", "resolve")],
    Surface("desk ticket",         W, "GET",   "/desk/tickets/{ref}/",                       302, 302, 404,
            check=_redirects_to_console),
    Surface("desk revoke (GET)",   W, "GET",   "/desk/tickets/{ref}/tracking-links/revoke/", 405, 405, 404),
    Surface("page on-call (GET)",  W, "GET",   "/pages/tickets/{ref}/open/",                 405, 403, 404),
    # Refused alike whether the ticket is out of sight or only readable (a missing one is 404).
    Surface("runbook start (GET)", W, "GET",   "/runbooks/tickets/{ref}/start/",             405, 403, 403),
    Surface("portal request",      W, "GET",   "/portal/requests/{ref}/",                    302, 302, 302),
    Surface("file",                W, "GET",   "/attachments/{public}/",                     200, 200, 404),
    Surface("file, desk's later",  W, "GET",   "/attachments/{later}/",                      200, 404, 404),
    Surface("API ticket",          A, "GET",   "/api/v1/tickets/{ref}",                      200, 200, 404),
    Surface("API messages",        A, "GET",   "/api/v1/tickets/{ref}/messages",             200, 200, 404,
            check=_messages),
    Surface("API events",          A, "GET",   "/api/v1/tickets/{ref}/events",               200, 200, 404),
    Surface("API attachments",     A, "GET",   "/api/v1/tickets/{ref}/attachments",          200, 200, 404,
            check=_attachments),
    Surface("API file",            A, "GET",   "/api/v1/attachments/{public}",               200, 200, 404),
    Surface("API file, later",     A, "GET",   "/api/v1/attachments/{later}",                200, 404, 404),
    # Writes that change nothing when allowed, or that are refused field by field (400).
    Surface("API change nothing",  A, "PATCH", "/api/v1/tickets/{ref}",                      200, 403, 404,
            data=lambda c: {}),
    Surface("API change service",  A, "PATCH", "/api/v1/tickets/{ref}",                      400, 403, 404,
            data=_other_service),
    Surface("API change category", A, "PATCH", "/api/v1/tickets/{ref}",                      400, 403, 404,
            data=lambda c: {"category": SPARE_CATEGORY}),
    Surface("API assign the desk", A, "PATCH", "/api/v1/tickets/{ref}",                      400, 403, 404,
            data=lambda c: {"assignee": c.agent_id}),
    # Allowed on its work, but the service has no escalation policy: nobody paged (400).
    Surface("API page on-call",    A, "POST",  "/api/v1/tickets/{ref}/pages",                400, 403, 404,
            data=lambda c: {}),
    Surface("desk change",         W, "POST",  "/desk/tickets/{ref}/change/",                302, 400, 404,
            data=lambda c: {"priority": c.ticket.priority}),
    Surface("console triage",      W, "POST",  "/partner/tickets/{ref}/triage/",             302, 403, 404,
            data=lambda c: {"stops_work": c.ticket.stops_work, "affected": c.ticket.affected}),
    # Writes that add something when allowed.
    Surface("API reply",           A, "POST",  "/api/v1/tickets/{ref}/messages",             201, 403, 404,
            data=lambda c: {"body": "Partner reply", "internal": False}),
    Surface("API upload",          A, "POST",  "/api/v1/tickets/{ref}/attachments",          201, 403, 404,
            data=_upload),
    Surface("desk note",           W, "POST",  "/desk/tickets/{ref}/reply/",                 302, 400, 404,
            data=lambda c: {"body": "Partner note from the desk page", "internal": "1"}),
    Surface("console call",        W, "POST",  "/partner/tickets/{ref}/call/",               302, 403, 404,
            data=lambda c: {"caller": "+358401234567", "minutes": "3", "summary": "Called back",
                            "outcome": "call_back"}),
]
ADDED_BY_WRITES = (3, 1)  # messages (reply, desk note, call note) and files on the partner's work

# Lists, one request each: every cell is checked for being a row or not.
# name → (via, path, which tickets are rows)
LIST_SURFACES: dict[str, tuple[str, str, Callable[["Case", str], bool]]] = {
    "console queue":       (W, "/partner/", lambda c, lvl: lvl == WORK),
    "API list":            (A, "/api/v1/tickets", lambda c, lvl: lvl == WORK),
    "API list, all":       (A, "/api/v1/tickets?include_closed=true&limit=200", lambda c, lvl: lvl != HIDDEN),
    "API list, ended":     (A, "/api/v1/tickets?status=resolved&status=closed&limit=200",
                            lambda c, lvl: lvl == READ),
    "API list, mine":      (A, "/api/v1/tickets?queue=mine&include_closed=true&limit=200",
                            lambda c, lvl: lvl != HIDDEN and c.ticket.assignee_id == c.partner_id),
    "API search":          (A, "/api/v1/tickets?q=Matrix&include_closed=true&limit=200",
                            lambda c, lvl: lvl != HIDDEN),
    "API search, desk's words": (A, "/api/v1/tickets?q=remark&include_closed=true&limit=200",
                                 lambda c, lvl: False),
    # The caller's history: the newest HISTORY_LIMIT tickets the partner sees.
    "phone log":           (W, "/phone/log/?number={phone}", lambda c, lvl: lvl != HIDDEN),
    "phone look-up":       (W, "/phone/lookup/?number={phone}", lambda c, lvl: lvl != HIDDEN),
    "API phone look-up":   (A, "/api/v1/calls/lookup?number={phone}", lambda c, lvl: lvl != HIDDEN),
}
CAPPED = {"phone log", "phone look-up", "API phone look-up"}

# Checked on the database after the requests, once per cell.
AFTERWARDS = ("tickets_visible_to", "access log rows", "desk bulk change", "nothing else changed")
BULK_PRIORITY = "P5"

# Pages about no ticket in particular, once per moment: (via, path, status). The access log and
# its export are for service owners and administrators, never for the partner it logs.
GLOBAL_CHECKS = [
    (W, "/desk/", 302),
    (W, "/desk/?q=Matrix&include_closed=on", 302),
    (W, "/partner/access-log/", 403),
    (W, "/partner/access-log/?service={service}", 403),
    (W, "/partner/access-log/export.csv", 403),
    (W, "/partner/access-log/export.csv?service={service}", 403),
    (W, "/desk/notifications/", 200),
    (W, "/portal/requests/", 302),
    (A, "/api/v1/pages", 200),
]

PER_WALKED_CELL = len(TICKET_SURFACES) + len(AFTERWARDS)


# --- the world ---------------------------------------------------------------------------------

AFTERCARE_DAYS = 7
FRIDAY_DAY = dt.datetime(2026, 11, 20, 10, 0, tzinfo=HELSINKI)  # office hours
HANDLED = SATURDAY_NIGHT + dt.timedelta(hours=1)
ENDED = SATURDAY_NIGHT + dt.timedelta(hours=2)
CLOSED = SATURDAY_NIGHT + dt.timedelta(hours=3)  # an hour after resolution: the window is from it
DESK_LATER = SATURDAY_NIGHT + dt.timedelta(hours=4)
MOMENTS = {
    "within": ENDED + dt.timedelta(days=AFTERCARE_DAYS) - dt.timedelta(hours=1),
    "after": ENDED + dt.timedelta(days=AFTERCARE_DAYS, minutes=1),
}
PHONE = "+358 40 765 4321"  # requester A's, who made every ticket


@dataclass(frozen=True)
class Cell:
    state: str
    scope: str
    part: str

    @property
    def key(self) -> str:
        return f"{self.state}-{self.scope}-{self.part}"

    @property
    def subject(self) -> str:
        return f"Matrix {self.state} {self.scope} {self.part}"

    def level(self, window: str) -> str:
        while_open, within, after = SEES[(self.scope, self.part)]
        if self.state == "open":
            return WORK if while_open else HIDDEN
        return READ if (within if window == "within" else after) else HIDDEN


CELLS = [Cell(*values) for values in product(STATES, SCOPES, PARTS)]


@dataclass
class Case:
    """A cell's ticket, and what was written on it."""

    cell: Cell
    ticket: Ticket
    public_id: int
    later_id: int
    agent_id: int
    partner_id: int
    partner_note: str | None

    @property
    def reference(self) -> str:
        return self.ticket.reference

    @property
    def public_name(self) -> str:
        return f"public-{self.cell.key}.txt"

    @property
    def desk_note(self) -> str:
        return f"Desk remark {self.cell.key}"

    @property
    def desk_file(self) -> str:
        return f"desk-later-{self.cell.key}.txt"

    @property
    def desk_bytes(self) -> str:
        return f"desk later bytes {self.cell.key}"

    def path(self, template: str) -> str:
        return template.format(ref=self.reference, public=self.public_id, later=self.later_id)

    def snapshot(self) -> tuple[Any, ...]:
        t = Ticket.objects.get(pk=self.ticket.pk)
        return (t.status, t.priority, t.service_id, t.category_id, t.team_id, t.assignee_id,
                t.messages.count(), t.attachments.count())


def _at(moment: dt.datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def _file(name: str, content: str) -> list[Any]:
    return check_uploads([SimpleUploadedFile(name, content.encode(), content_type="text/plain")])


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def build(world) -> list[Case]:  # type: ignore[no-untyped-def]
    """One ticket per cell, made and handled the way the requester, desk and partner do it."""
    night_world(world)
    f.category(world.critical, SPARE_CATEGORY)
    world.requester_a.phone = PHONE
    world.requester_a.save()
    cases = []
    for n, cell in enumerate(CELLS):
        made = (FRIDAY_DAY if cell.scope == "daytime" else SATURDAY_NIGHT) + dt.timedelta(minutes=n)
        service, category = ((world.other, world.cat_other) if cell.scope == "uncovered"
                             else (world.critical, world.cat_critical))
        ticket = night_ticket(world, service, category, at=made, subject=cell.subject)
        with _at(made):
            message_add(actor=world.requester_a, ticket=ticket, body=f"Screenshot {cell.key}",
                        attachments=_file(f"public-{cell.key}.txt", f"public bytes {cell.key}"))
        if cell.scope == "uncovered":
            Ticket.objects.filter(pk=ticket.pk).update(team=world.partner_team)
        partner_note = None
        with _at(HANDLED):
            if cell.part == "caught" and cell.scope == "night":
                partner_catch(user=world.partner, ticket=_fresh(ticket))
            elif cell.part == "caught":  # recorded on the decision, as a console catch is
                assert OutOfHoursDecision.objects.filter(ticket=ticket).update(
                    caught_by=world.partner, caught_at=HANDLED) == 1
            elif cell.part == "assigned":
                ticket_change(actor=world.agent, ticket=_fresh(ticket), assignee=world.partner)
            if cell.part != "none" and cell.scope != "uncovered":
                partner_note = f"Partner note {cell.key}"
                message_add(actor=world.partner, ticket=_fresh(ticket), body=partner_note, internal=True)
            if cell.part == "caught" and cell.scope == "night":
                partner_dispatch_to_team(user=world.partner, ticket=_fresh(ticket), team=world.desk_team)
        if cell.state != "open":
            straight = cell.state == "closed" and cell.scope == "daytime"
            with _at(ENDED):
                ticket_change(actor=world.agent, ticket=_fresh(ticket),
                              status=Status.CLOSED if straight else Status.RESOLVED)
            if cell.state == "closed" and not straight:
                with _at(CLOSED):
                    ticket_change(actor=world.agent, ticket=_fresh(ticket), status=Status.CLOSED)
        with _at(DESK_LATER):
            message_add(actor=world.agent, ticket=_fresh(ticket), body=f"Desk remark {cell.key}",
                        internal=True,
                        attachments=_file(f"desk-later-{cell.key}.txt", f"desk later bytes {cell.key}"))
        ticket = _fresh(ticket)
        cases.append(Case(cell, ticket, ticket.attachments.get(internal=False).pk,
                          ticket.attachments.get(internal=True).pk, world.agent.pk, world.partner.pk,
                          partner_note))
    return cases


@pytest.fixture
def matrix(world, settings):
    settings.VUORO_PARTNER_AFTERCARE_DAYS = AFTERCARE_DAYS
    # As in production, mail and webhooks are the worker's: a request is answered without them.
    settings.VUORO_REACT_INLINE = False
    cases = build(world)
    for case in cases:
        t = case.ticket
        assert {"open": t.status in ACTIVE_STATUSES, "resolved": t.status == Status.RESOLVED,
                "closed": t.status == Status.CLOSED}[case.cell.state], case.cell.key
        assert (t.assignee_id == world.partner.pk) == (case.cell.part == "assigned"), case.cell.key
    return world, cases


# --- the walk ----------------------------------------------------------------------------------


class Walk:
    """The partner's requests at one moment: each response checked for its status and for leaks,
    and every (cell × surface) check counted."""

    def __init__(self, world, cases: list[Case], window: str) -> None:  # type: ignore[no-untyped-def]
        self.world, self.cases = world, cases
        self.walked = [case for case in cases if case.cell.state in WALKED[window]]
        self.level = {case.cell: case.cell.level(window) for case in cases}
        self.before = {case.cell: case.snapshot() for case in cases}
        self.web = Client()
        self.web.force_login(world.partner)
        self.api = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {f.api_token(world.partner)}"}
        self.checks: dict[str, int] = {}
        self.global_checks = 0

    def counted(self, surface: str) -> None:
        self.checks[surface] = self.checks.get(surface, 0) + 1

    def send(self, via: str, method: str, path: str, data: Any = None) -> tuple[Any, str]:
        if via == W:
            response = self.web.get(path) if method == "GET" else self.web.post(path, data or {})
        elif method == "GET":
            response = self.api.get(path, **self.auth)
        elif data and "files" in data:
            response = self.api.post(path, data, **self.auth)
        else:
            response = self.api.generic(method, path, json.dumps(data or {}), content_type="application/json",
                                        **self.auth)
        # A streamed body (a file, an export) read to its end closes the response, as a server would.
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")
        assert response.status_code < 500, f"{method} {path} → {response.status_code}"
        self.no_leak(f"{method} {path}", body)
        return response, body

    def no_leak(self, where: str, body: str) -> None:
        for case in self.cases:
            level = self.level[case.cell]
            if level == HIDDEN:
                assert case.cell.subject not in body, f"{where} shows {case.cell.key}, out of sight"
                assert case.reference not in body, f"{where} names {case.cell.key}, out of sight"
            if level != WORK:
                for marker in (case.desk_note, case.desk_file, case.desk_bytes):
                    assert marker not in body, f"{where} shows the desk's later {marker!r}"

    def lists(self) -> None:
        newest_first = sorted(self.cases, key=lambda c: c.ticket.created_at, reverse=True)
        for name, (via, template, is_row) in LIST_SURFACES.items():
            response, body = self.send(via, "GET", template.format(phone=quote(PHONE)))
            assert response.status_code == 200, name
            rows = [c for c in newest_first if is_row(c, self.level[c.cell])]
            if name in CAPPED:
                rows = rows[:HISTORY_LIMIT]
            if via == A:
                items = response.json()
                items = items["tickets"] if "tickets" in items else items["items"]
                assert sorted(i["reference"] for i in items) == sorted(c.reference for c in rows), name
            for case in self.cases:
                assert (case.cell.subject in body) == (case in rows), f"{name}: {case.cell.key}"
                self.counted(name)

    def ticket(self, case: Case) -> None:
        level = self.level[case.cell]
        for surface in TICKET_SURFACES:
            path = case.path(surface.path)
            response, _ = self.send(surface.via, surface.method, path, surface.data(case) if surface.data else None)
            assert response.status_code == surface.expected(level), (
                f"{case.cell.key} ({level}): {surface.name}, {surface.method} {path} → {response.status_code}")
            if surface.check:
                surface.check(case, level, response)
            self.counted(surface.name)

    def pages_about_no_ticket(self) -> None:
        for via, template, status in GLOBAL_CHECKS:
            response, body = self.send(via, "GET", template.format(service=self.world.critical.pk))
            assert response.status_code == status, template
            assert "partner-access-log.csv" not in response.get("Content-Disposition", "")
            self.global_checks += 1

    def bulk(self) -> None:
        """Every walked reference in one bulk change from the desk queue; each ticket decides alone."""
        response, _ = self.send(W, "POST", "/desk/bulk/", {
            "ticket": [c.reference for c in self.walked], "action": "priority", "priority": BULK_PRIORITY})
        assert response.status_code == 302

    def afterwards(self) -> None:
        seen = set(access.tickets_visible_to(self.world.partner).values_list("pk", flat=True))
        logged = set(PartnerAccess.objects.filter(user=self.world.partner).values_list("ticket_id", flat=True))
        for case in self.walked:
            level, before, now = self.level[case.cell], self.before[case.cell], case.snapshot()
            assert (case.ticket.pk in seen) == (level != HIDDEN), case.cell.key
            self.counted("tickets_visible_to")
            assert (case.ticket.pk in logged) == (level != HIDDEN), case.cell.key  # logged once shown
            self.counted("access log rows")
            assert now[1] == (BULK_PRIORITY if level == WORK else before[1]), case.cell.key
            self.counted("desk bulk change")
            if level == WORK:
                added = (before[6] + ADDED_BY_WRITES[0], before[7] + ADDED_BY_WRITES[1])
                assert now[0] in ACTIVE_STATUSES and now[2:6] == before[2:6] and now[6:] == added
            else:
                assert now[:1] + now[2:] == before[:1] + before[2:], case.cell.key
            self.counted("nothing else changed")


@pytest.mark.parametrize("window", WINDOWS)
def test_partner_permission_matrix(matrix, window):
    world, cases = matrix
    assert tuple([c.cell.level(window) for c in cases].count(x) for x in (WORK, READ, HIDDEN)) == (
        LEVEL_COUNTS[window])
    with _at(MOMENTS[window]):
        walk = Walk(world, cases, window)
        walk.lists()
        for case in walk.walked:
            walk.ticket(case)
        walk.pages_about_no_ticket()
        walk.bulk()
        walk.afterwards()
    walked = len(walk.walked)
    assert walked == {"within": 27, "after": 18}[window]
    assert walk.checks == {**dict.fromkeys([s.name for s in TICKET_SURFACES] + list(AFTERWARDS), walked),
                           **dict.fromkeys(LIST_SURFACES, len(CELLS))}
    assert sum(walk.checks.values()) == walked * PER_WALKED_CELL + len(CELLS) * len(LIST_SURFACES)
    assert walk.global_checks == len(GLOBAL_CHECKS)


# --- the matrix cannot shrink ------------------------------------------------------------------


def test_the_matrix_has_every_cell_and_surface():
    assert (len(STATES), len(SCOPES), len(PARTS), len(WINDOWS)) == (3, 3, 3, 2)
    assert len(CELLS) == len(set(CELLS)) == 27 and set(SEES) == set(product(SCOPES, PARTS))
    assert (len(TICKET_SURFACES), len(LIST_SURFACES), len(AFTERWARDS)) == (28, 10, 4)
    assert len({s.name for s in TICKET_SURFACES}) == len(TICKET_SURFACES)
    walked = [(cell, window) for window in WINDOWS for cell in CELLS if cell.state in WALKED[window]]
    assert len(walked) == 27 + 18 and PER_WALKED_CELL == 32
    # Walked (cell × moment) × surface, every ticket × list × moment, and the pages about no
    # ticket once per moment.
    total = (len(walked) * PER_WALKED_CELL + len(WINDOWS) * len(CELLS) * len(LIST_SURFACES)
             + len(WINDOWS) * len(GLOBAL_CHECKS))
    assert total == 1440 + 540 + 18 == 1998


# Routes a partner reaches that are about no existing ticket: new requests, and the telephony
# provider's signed webhook. The bulk change is checked per cell (``Walk.bulk``).
NOT_ABOUT_A_TICKET = {"/desk/new/", "/desk/new/category/", "/desk/new/requesters/", "/phone/webhook/",
                      "/desk/bulk/"}


def test_every_ticket_page_and_endpoint_is_in_the_matrix(client):
    """A new page or endpoint about tickets or attachments must join the matrix."""
    walked = {(s.via, s.path) for s in TICKET_SURFACES}
    walked |= {(via, path.split("?")[0]) for via, path, _ in LIST_SURFACES.values()}
    walked |= {(via, path.split("?")[0]) for via, path, _ in GLOBAL_CHECKS}
    for route in html_routes():
        path = "/" + route.replace("<str:reference>", "{ref}").replace("<int:pk>", "{public}")
        if ("{" in path or route.startswith(("desk/", "partner/", "phone/"))) and path not in NOT_ABOUT_A_TICKET:
            assert (W, path) in walked, route
    for method, path in api_operations(client):
        if "{reference}" in path or "{attachment_id}" in path or (method, path) == ("GET", "/api/v1/tickets"):
            concrete = path.replace("{reference}", "{ref}").replace("{attachment_id}", "{public}")
            assert (A, concrete) in walked, f"{method} {path}"
