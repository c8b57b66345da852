"""Bulk ticket volume for load tests and large demos: realistic tickets written in batches.

Seeded tickets do not go through ``ticket_create`` on purpose: intake writes one ticket,
its events and reactions per request, which is right for one request and far too slow for 100,000. The
seeder keeps the guarantees later writes rely on: references come from the same yearly
counters as the intake's (``tickets.turns``: a block reserved per batch, so a ticket taken
through intake meanwhile or afterwards gets a number of its own), priorities come from the
configured impact × urgency grid, the organisation is always the requester's, and every ticket
has its "created" history row written in the same transaction as the ticket.

Output is deterministic for a given ``seed`` and ``now``; only tracking ids stay random,
because they are unguessable links.
"""

import json
import random
import time as clock
import uuid
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from vuoro.accounts.models import DESK_ROLES, Organisation, Role, Team, User
from vuoro.catalog.models import Category, FieldKind, FormField, Service
from vuoro.core.sanitize import text_to_html
from vuoro.tickets import priority
from vuoro.tickets.models import (
    ACTIVE_STATUSES,
    Channel,
    EventKind,
    Status,
    Ticket,
    TicketEvent,
)
from vuoro.tickets.services import priority_matrix
from vuoro.tickets.turns import references_reserve

# Starts with "!", so Django treats it as unusable: seeded people cannot sign in.
SEEDED_PASSWORD = "!vuoro-seeded-no-login"
HISTORY_DAYS = 548
DEFAULT_BATCH = 2000
MIN_AGENTS = 6


class SeedError(Exception):
    """The database is not ready for seeding (for example: no services yet)."""


# --- Phrase bank --------------------------------------------------------------------------

@dataclass(frozen=True)
class Topic:
    """Subject templates with {thing} and {symptom} slots, and sentences for the description."""

    subjects: tuple[str, ...]
    things: tuple[str, ...]
    symptoms: tuple[str, ...]
    details: tuple[str, ...]


TOPICS: dict[str, dict[str, Topic]] = {
    "not-working": {
        "fi": Topic(("{thing} ei toimi", "{thing} {symptom}", "{thing} {symptom} aamusta asti",
                     "Apua: {thing} {symptom}"),
                    ("Outlook", "Sähköposti", "Puhelimen sähköposti", "Selaimen sähköposti", "Kalenteri"),
                    ("kaatuu käynnistyessä", "pyytää salasanaa jatkuvasti", "ei synkronoidu",
                     "ei lähetä viestejä", "on todella hidas", "näyttää virheilmoituksen"),
                    ("Viestit jäävät Lähtevät-kansioon.", "Virheilmoitus: Yhteyttä palvelimeen ei saatu.",
                     "Kokouskutsut eivät näy kalenterissa.")),
        "en": Topic(("{thing} is not working", "{thing} {symptom}", "{thing} {symptom} since this morning",
                     "Help: {thing} {symptom}"),
                    ("Outlook", "Email", "Mail on my phone", "Webmail", "Calendar"),
                    ("crashes on start-up", "keeps asking for my password", "does not sync",
                     "won't send messages", "is very slow", "shows an error"),
                    ("Messages stay in the Outbox.", "The error says: cannot connect to the server.",
                     "Meeting invitations do not show up in the calendar.")),
    },
    "shared-mailbox": {
        "fi": Topic(("Jaettu postilaatikko {thing}: {symptom}", "{thing} – {symptom}",
                     "Pyyntö: {thing}, {symptom}"),
                    ("kirjaamo@", "asiakaspalvelu@", "laskutus@", "rekry@", "tilavaraukset@"),
                    ("käyttöoikeus puuttuu", "uusi jäsen lisättävä", "ei näy Outlookissa",
                     "viestejä katoaa", "lähetysoikeus tarvitaan"),
                    ("Postilaatikkoa käyttää koko tiimi.", "Sijainen tarvitsee pääsyn lomien ajaksi.",
                     "Laatikko näkyi vielä viime viikolla.")),
        "en": Topic(("Shared mailbox {thing}: {symptom}", "{thing} – {symptom}",
                     "Request: {thing}, {symptom}"),
                    ("registry@", "customerservice@", "invoicing@", "recruitment@", "bookings@"),
                    ("access missing", "please add a new member", "not visible in Outlook",
                     "messages go missing", "need send-as rights"),
                    ("The whole team uses this mailbox.", "A stand-in needs access during the holidays.",
                     "The mailbox was still visible last week.")),
    },
    "invoicing": {
        "fi": Topic(("{thing} {symptom}", "Laskutus: {thing} {symptom}", "{thing} {symptom}, eräpäivä lähellä"),
                    ("Myyntilasku", "Ostolasku", "Hyvityslasku", "Laskun liite", "Verkkolasku"),
                    ("ei lähde asiakkaalle", "on jumissa hyväksynnässä", "näyttää väärän ALV-kannan",
                     "puuttuu raportilta", "kirjautuu väärälle kustannuspaikalle"),
                    ("Kuun vaihteen ajot ovat kesken.", "Hyväksyjä on lomalla.",
                     "Asiakas on jo kysynyt laskua kahdesti.")),
        "en": Topic(("{thing} {symptom}", "Invoicing: {thing} {symptom}", "{thing} {symptom}, due date close"),
                    ("Sales invoice", "Purchase invoice", "Credit note", "Invoice attachment", "E-invoice"),
                    ("is not sent to the customer", "is stuck in approval", "shows the wrong VAT rate",
                     "is missing from the report", "is booked to the wrong cost centre"),
                    ("Month-end runs are in progress.", "The approver is on holiday.",
                     "The customer has asked for the invoice twice.")),
    },
    "login": {
        "fi": Topic(("{thing}: {symptom}", "{thing} – {symptom}", "Kirjautuminen: {thing}, {symptom}"),
                    ("ERP", "Taloushallinnon järjestelmä", "Hankintajärjestelmä", "Matkalaskut", "Raportointi"),
                    ("kirjautuminen ei onnistu", "tunnus lukittu", "kertakirjautuminen jää silmukkaan",
                     "istunto katkeaa jatkuvasti", "oikeudet puuttuvat kirjautumisen jälkeen"),
                    ("Kirjautuminen toimi eilen.", "Sama tunnus toimii muissa palveluissa.",
                     "Selain palaa aina kirjautumissivulle.")),
        "en": Topic(("{thing}: {symptom}", "{thing} – {symptom}", "Sign-in: {thing}, {symptom}"),
                    ("ERP", "Finance system", "Purchasing", "Travel expenses", "Reporting"),
                    ("cannot sign in", "account locked", "single sign-on loops",
                     "session keeps dropping", "rights missing after sign-in"),
                    ("Signing in worked yesterday.", "The same account works in other services.",
                     "The browser always returns to the sign-in page.")),
    },
    "new-device": {
        "fi": Topic(("Uusi {thing} {symptom}", "Tilaus: {thing} {symptom}", "Tarvitaan {thing} {symptom}"),
                    ("kannettava", "näyttö", "puhelin", "telakka", "kuulokkeet"),
                    ("uudelle työntekijälle", "vanhan tilalle", "etätyöhön", "kokoushuoneeseen",
                     "kesäharjoittelijalle"),
                    ("Työsuhde alkaa ensi kuun alussa.", "Kustannuspaikka on sama kuin tiimillä.",
                     "Vanha laite palautetaan samalla.")),
        "en": Topic(("New {thing} {symptom}", "Order: {thing} {symptom}", "Need a {thing} {symptom}"),
                    ("laptop", "screen", "phone", "docking station", "headset"),
                    ("for a new employee", "to replace an old one", "for remote work",
                     "for a meeting room", "for a summer trainee"),
                    ("The contract starts at the beginning of next month.",
                     "Same cost centre as the rest of the team.", "The old device will be returned.")),
    },
    "broken": {
        "fi": Topic(("{thing} {symptom}", "{thing} {symptom} – kiire", "Rikki: {thing} {symptom}"),
                    ("Kannettava", "Näyttö", "Tulostin", "Telakka", "Puhelin", "Näppäimistö"),
                    ("ei käynnisty", "lakkasi toimimasta", "on hajonnut", "ylikuumenee",
                     "toimii katkonaisesti", "ei yhdisty"),
                    ("Laitteen tarra: KAU-{n}.", "Laite putosi pöydältä.",
                     "Ongelma alkoi päivitysten jälkeen.")),
        "en": Topic(("{thing} {symptom}", "{thing} {symptom} – urgent", "Broken: {thing} {symptom}"),
                    ("Laptop", "Screen", "Printer", "Docking station", "Phone", "Keyboard"),
                    ("won't turn on", "stopped working", "is broken", "overheats",
                     "works on and off", "won't connect"),
                    ("Asset tag: KAU-{n}.", "The device fell off the desk.",
                     "The problem started after the updates.")),
    },
    "password": {
        "fi": Topic(("Salasanan vaihto: {thing} {symptom}", "{thing} {symptom}", "{thing}: {symptom}"),
                    ("Verkkotunnus", "VPN-tunnus", "Sähköpostin salasana", "ERP-tunnus", "Puhelimen PIN"),
                    ("lukittu", "vanhentunut", "unohtunut", "ei kelpaa", "pitää nollata"),
                    ("Yritin kirjautua liian monta kertaa.", "Vaihdoin salasanan eilen.",
                     "Tunnistautumissovellus ei lähetä koodia.")),
        "en": Topic(("Password reset: {thing} {symptom}", "{thing} {symptom}", "{thing}: {symptom}"),
                    ("Network account", "VPN account", "Email password", "ERP account", "Phone PIN"),
                    ("locked", "expired", "forgotten", "not accepted", "needs a reset"),
                    ("I tried to sign in too many times.", "I changed the password yesterday.",
                     "The authenticator app does not send a code.")),
    },
    "new-rights": {
        "fi": Topic(("Oikeudet: {thing} {symptom}", "Käyttöoikeuspyyntö: {thing}, {symptom}",
                     "Oikeus: {thing} – {symptom}"),
                    ("verkkolevy P:", "Teams-ryhmä", "ERP:n hyväksyntärooli", "intranetin muokkaus",
                     "asianhallinta"),
                    ("uudelle työntekijälle", "tehtävänvaihdon vuoksi", "sijaisuuden ajaksi",
                     "projektia varten", "lukuoikeus riittää"),
                    ("Esihenkilö on hyväksynyt pyynnön.", "Sama oikeus kuin kollegalla.",
                     "Tarve alkaa maanantaina.")),
        "en": Topic(("Access: {thing} {symptom}", "Rights request: {thing}, {symptom}",
                     "Need access to {thing} {symptom}"),
                    ("network drive P:", "Teams group", "ERP approver role", "intranet editing",
                     "case management"),
                    ("for a new employee", "after a change of role", "while covering for a colleague",
                     "for a project", "read access is enough"),
                    ("My manager has approved this.", "Same rights as my colleague.",
                     "Needed from Monday.")),
    },
}
GENERIC_SYMPTOMS = {
    "fi": ("ei toimi", "on hidas", "antaa virheen", "kysymys käytöstä", "tarvitsen apua"),
    "en": ("is not working", "is slow", "gives an error", "question about use", "need help"),
}
OPENINGS = {"fi": ("Hei,", "Moi,", "Hyvä tuki,", "Huomenta,", "Terve,"),
            "en": ("Hi,", "Hello,", "Dear support,", "Good morning,", "Hi there,")}
COMMON_DETAILS = {
    "fi": ("Uudelleenkäynnistys ei auttanut.", "Sama ongelma oli viime viikolla.",
           "Kollegoilla on sama ongelma.", "Ongelma alkoi eilen iltapäivällä.",
           "Kokeilin jo toista selainta.", "Voitteko soittaa minulle?", "Olen etätöissä tänään.",
           "Asiakastapaaminen on iltapäivällä, joten asia on kiireellinen.",
           "Tämä ei ole kiireellinen.", "Tavoitatte minut puhelimella koko päivän."),
    "en": ("Restarting did not help.", "I had the same problem last week.",
           "My colleagues have the same problem.", "It started yesterday afternoon.",
           "I already tried another browser.", "Could you call me?", "I am working remotely today.",
           "I have a customer meeting this afternoon, so this is urgent.",
           "This is not urgent.", "You can reach me by phone all day."),
}
CLOSINGS = {"fi": ("Kiitos!", "Kiitos avusta.", "Ystävällisin terveisin", "Kiitos etukäteen,"),
            "en": ("Thanks!", "Thank you for your help.", "Kind regards,", "Thanks in advance,")}
FIRST_NAMES = ("Aino", "Eino", "Helmi", "Onni", "Sofia", "Leo", "Aada", "Väinö", "Emilia", "Elias",
               "Ella", "Oliver", "Linnea", "Eetu", "Kerttu", "Matti", "Liisa", "Juha", "Sanna", "Pekka",
               "Tuula", "Jari", "Anna", "Mikko", "Riikka", "Ville", "Johanna", "Timo", "Kaisa", "Anders")
LAST_NAMES = ("Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
              "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen",
              "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Lindqvist", "Nyström")
# (name, genitive): "Lohja Oy" but "Lohjan kaupunki".
PLACES = (("Vaskiluoto", "Vaskiluodon"), ("Kuusamo", "Kuusamon"), ("Lohja", "Lohjan"),
          ("Raahe", "Raahen"), ("Savonlinna", "Savonlinnan"), ("Kemi", "Kemin"),
          ("Forssa", "Forssan"), ("Iisalmi", "Iisalmen"), ("Naantali", "Naantalin"),
          ("Kauhava", "Kauhavan"), ("Pieksämäki", "Pieksämäen"), ("Loviisa", "Loviisan"),
          ("Heinola", "Heinolan"), ("Nurmes", "Nurmeksen"), ("Uusikaupunki", "Uudenkaupungin"))
ORG_KINDS = ("kaupunki", "kunta", "Oy", "Ab", "säätiö", "kuntayhtymä")


def _topic(category: Category | None, service: Service, language: str) -> Topic:
    lang = "en" if language == "en" else "fi"
    if category is not None and category.slug in TOPICS:
        return TOPICS[category.slug][lang]
    name = service.name_en if lang == "en" else service.name_fi
    return Topic(("{thing}: {symptom}", "{thing} {symptom}"), (name or service.slug,),
                 GENERIC_SYMPTOMS[lang], ())


def compose_text(rng: random.Random, topic: Topic, language: str, signer: str) -> tuple[str, str]:
    """A subject and a plain-text description in the requester's language."""
    lang = "en" if language == "en" else "fi"
    subject = rng.choice(topic.subjects).format(thing=rng.choice(topic.things),
                                                symptom=rng.choice(topic.symptoms))
    subject = subject[0].upper() + subject[1:]
    details = list(topic.details) + list(COMMON_DETAILS[lang])
    body = " ".join(d.format(n=rng.randrange(10000, 99999)) for d in rng.sample(details, 2))
    description = (f"{rng.choice(OPENINGS[lang])}\n\n{subject}. {body}\n\n"
                   f"{rng.choice(CLOSINGS[lang])}\n{signer}")
    return subject[:200], description


# --- Time and lifecycle -------------------------------------------------------------------

# Relative weight of each local hour: office hours dominate, a thin tail in the evening.
HOUR_WEIGHTS = (0, 0, 0, 0, 0, 1, 2, 8, 16, 18, 17, 14, 12, 15, 14, 11, 7, 4, 3, 2, 2, 1, 1, 0)
HOUR_CUMULATIVE = list(accumulate(HOUR_WEIGHTS))


def created_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """``count`` aware UTC times over the last ~18 months, weekdays and office hours favoured,
    sorted so that references run in the order tickets arrived."""
    zone = timezone.get_default_timezone()
    today = now.astimezone(zone).date()
    latest = now - timedelta(minutes=5)
    times: list[datetime] = []
    while len(times) < count:
        day = today - timedelta(days=rng.randrange(HISTORY_DAYS))
        if day.weekday() >= 5 and rng.random() > 0.12:
            continue
        hour = bisect(HOUR_CUMULATIVE, rng.random() * HOUR_CUMULATIVE[-1])
        local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=zone)
        at = local.astimezone(UTC)
        if at <= latest:
            times.append(at)
    times.sort()
    return times


STATUS_MIX = {
    # age bucket → (statuses, weights): old tickets are almost all done, new ones still moving.
    "old": ((Status.CLOSED, Status.RESOLVED, Status.ON_HOLD, Status.WAITING), (72, 26, 1, 1)),
    "recent": ((Status.CLOSED, Status.RESOLVED, Status.OPEN, Status.WAITING, Status.ON_HOLD, Status.NEW),
               (25, 45, 14, 8, 5, 3)),
    "fresh": ((Status.NEW, Status.OPEN, Status.WAITING, Status.ON_HOLD, Status.RESOLVED),
              (30, 35, 10, 5, 20)),
}


def _hours(rng: random.Random, mean: float) -> timedelta:
    return timedelta(hours=rng.expovariate(1 / mean))


@dataclass(frozen=True)
class Lifecycle:
    status: str
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


def lifecycle(rng: random.Random, created: datetime, now: datetime) -> Lifecycle:
    """A status with timestamps that agree with it: a response before resolving, resolving
    before closing, nothing after ``now``."""
    age = now - created
    bucket = "old" if age > timedelta(days=30) else "recent" if age > timedelta(days=3) else "fresh"
    statuses, weights = STATUS_MIX[bucket]
    status = rng.choices(statuses, weights)[0]
    if status == Status.NEW:
        return Lifecycle(status, created, None, None, None)
    responded = min(created + _hours(rng, 3), now)
    if status in ACTIVE_STATUSES:
        return Lifecycle(status, min(responded + _hours(rng, 30), now), responded, None, None)
    resolved = min(responded + _hours(rng, 28), now)
    closed = resolved + timedelta(days=rng.uniform(2, 14))
    if status == Status.RESOLVED or closed > now:
        return Lifecycle(Status.RESOLVED, resolved, responded, resolved, None)
    return Lifecycle(status, closed, responded, resolved, closed)


# --- The people and catalogue tickets are spread over ------------------------------------

@dataclass
class Cast:
    """Who and what seeded tickets refer to, loaded once."""

    requesters: list[User]
    agents: list[User]
    team_agents: dict[int, list[User]]
    routes: list[tuple[Service, Category | None, list[FormField]]]
    matrix: dict[tuple[str, str], str] = field(default_factory=dict)


def ensure_organisations(rng: random.Random, wanted: int) -> int:
    """Create organisations until there are ``wanted``; returns how many were made."""
    existing = Organisation.objects.count()
    made = []
    n = existing
    while existing + len(made) < wanted:
        n += 1
        place, genitive = rng.choice(PLACES)
        kind = rng.choice(ORG_KINDS)
        name = f"{place} {kind} {n}" if kind in ("Oy", "Ab") else f"{genitive} {kind} {n}"
        made.append(Organisation(name=name, slug=f"seed-org-{n}",
                                 email_domain=f"org{n}.example"))
    Organisation.objects.bulk_create(made, ignore_conflicts=True)
    return len(made)


def _new_person(rng: random.Random, n: int, role: str, organisation: Organisation | None) -> User:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    domain = organisation.email_domain if organisation and organisation.email_domain else "vuoro.example"
    return User(username=f"{'tuki' if role != Role.REQUESTER else 'asiakas'}{n:06d}",
                first_name=first, last_name=last, email=f"{first}.{last}.{n}@{domain}".lower(),
                role=role, organisation=organisation, password=SEEDED_PASSWORD,
                language=rng.choices(("fi", "en", "sv"), (75, 20, 5))[0],
                can_see_organisation_tickets=rng.random() < 0.05)


def ensure_requesters(rng: random.Random, wanted: int) -> int:
    """Create requesters spread over the organisations until there are ``wanted``."""
    existing = User.objects.filter(role=Role.REQUESTER, organisation__isnull=False).count()
    missing = wanted - existing
    if missing <= 0:
        return 0
    organisations = list(Organisation.objects.order_by("id"))
    offset = User.objects.filter(username__startswith="asiakas").count()
    people = [_new_person(rng, offset + i + 1, Role.REQUESTER, rng.choice(organisations))
              for i in range(missing)]
    User.objects.bulk_create(people, batch_size=DEFAULT_BATCH)
    return missing


def ensure_agents(rng: random.Random) -> int:
    """Make sure a handful of agents exist and staff every service's default team."""
    existing = User.objects.filter(role=Role.AGENT, is_active=True).count()
    offset = User.objects.filter(username__startswith="tuki").count()
    made = [_new_person(rng, offset + i + 1, Role.AGENT, None) for i in range(MIN_AGENTS - existing)]
    if made:
        User.objects.bulk_create(made)
        made = list(User.objects.filter(username__in=[u.username for u in made]))
        team_ids = Service.objects.exclude(default_team=None).values_list("default_team", flat=True)
        for team in Team.objects.filter(pk__in=set(team_ids)):
            team.members.add(*made)
    return len(made)


def require_services() -> None:
    """Seeded tickets need services to be filed under; say how to get some."""
    if not Service.objects.filter(active=True).exists():
        raise SeedError("There are no services to file tickets under. Run `vuoro demo` first "
                        "(or create services in the admin), then seed.")


def load_cast() -> Cast:
    """Requesters, desk staff per team and every active service/category with its form."""
    require_services()
    services = list(Service.objects.filter(active=True).order_by("id"))
    routes: list[tuple[Service, Category | None, list[FormField]]] = []
    for service in services:
        categories = list(service.categories.filter(active=True).prefetch_related("fields"))
        routes += [(service, c, list(c.fields.all())) for c in categories] or [(service, None, [])]
    requesters = list(User.objects.filter(role=Role.REQUESTER, is_active=True)
                      .exclude(organisation=None).order_by("id").only("id", "organisation", "first_name", "language"))
    agents = list(User.objects.filter(role=Role.AGENT, is_active=True).order_by("id").only("id"))
    team_agents: dict[int, list[User]] = {}
    for team in Team.objects.prefetch_related("members"):
        team_agents[team.pk] = [m for m in team.members.all() if m.role in DESK_ROLES and m.is_active]
    return Cast(requesters, agents, team_agents, routes, priority_matrix())


# --- One ticket ---------------------------------------------------------------------------

STOPS_WORK = (("yes", 15), ("partly", 35), ("no", 50))
AFFECTED = (("me", 70), ("team", 22), ("many", 8))
CHANNELS = ((Channel.PORTAL, 60), (Channel.EMAIL, 22), (Channel.PHONE, 12), (Channel.API, 6))


@cache
def _cumulative(pairs: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[int]]:
    return [p[0] for p in pairs], list(accumulate(p[1] for p in pairs))


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    # With cumulative weights ``choices`` draws exactly what it draws with the plain weights,
    # without rebuilding both lists for every ticket.
    values, cumulative = _cumulative(pairs)
    return rng.choices(values, cum_weights=cumulative)[0]


def form_answers(rng: random.Random, fields: list[FormField], requester: User, created: datetime) -> dict:
    """Answers a requester would give: every required field, about half of the optional ones."""
    answers: dict[str, Any] = {}
    for f in fields:
        if not f.required and rng.random() < 0.5:
            continue
        if f.kind == FieldKind.CHOICE and f.choices:
            answers[f.key] = str(rng.choice(f.choices)["value"])
        elif f.kind == FieldKind.YES_NO:
            answers[f.key] = rng.random() < 0.5
        elif f.kind == FieldKind.DATE:
            answers[f.key] = (created.date() + timedelta(days=rng.randrange(3, 30))).isoformat()
        elif f.kind == FieldKind.NUMBER:
            low, high = int(f.min_value or 1), int(f.max_value or 20)
            answers[f.key] = str(rng.randint(low, min(high, low + 20)))
        else:
            answers[f.key] = f"KAU-{rng.randrange(10000, 99999)}" if "asset" in f.key else (
                f"{requester.first_name.lower()}{rng.randrange(100)}")
    return answers


def _pick_requester(rng: random.Random, requesters: list[User]) -> User:
    # Skewed: a few people file many tickets, most file a handful.
    return requesters[int(len(requesters) * rng.random() ** 2)]


def _pick_assignee(rng: random.Random, cast: Cast, team_id: int | None, status: str) -> User | None:
    if status == Status.NEW and rng.random() < 0.7:
        return None
    staff = cast.team_agents.get(team_id or 0) or cast.agents
    return rng.choice(staff) if staff else None


def draft_ticket(rng: random.Random, cast: Cast, created: datetime, now: datetime) -> dict[str, Any]:
    """One ticket's column values (``Ticket`` attribute names), without ``id`` and ``reference``;
    the batch numbers it. A plain dict: building a million model instances costs more than the
    phrases do, and the PostgreSQL path copies the values straight into the table."""
    requester = _pick_requester(rng, cast.requesters)
    service, category, fields = rng.choice(cast.routes)
    stops_work, affected = _weighted(rng, STOPS_WORK), _weighted(rng, AFFECTED)
    urgency = priority.urgency_from_answer(stops_work)
    impact = priority.impact_from_answer(affected)
    subject, text = compose_text(rng, _topic(category, service, requester.language), requester.language,
                                 requester.first_name)
    life = lifecycle(rng, created, now)
    channel = _weighted(rng, CHANNELS)
    team_id = service.default_team_id
    assignee = _pick_assignee(rng, cast, team_id, life.status)
    creator_id = assignee.pk if channel == Channel.PHONE and assignee else requester.pk
    return {
        "requester_id": requester.pk, "organisation_id": requester.organisation_id,
        "service_id": service.pk, "category_id": category.pk if category else None,
        "subject": subject, "description": text_to_html(text),
        "form_answers": form_answers(rng, fields, requester, created),
        "status": str(life.status), "stops_work": stops_work, "affected": affected,
        "impact": impact.value, "urgency": urgency.value,
        "priority": str(priority.priority_for(impact, urgency, cast.matrix)),
        "team_id": team_id, "assignee_id": assignee.pk if assignee else None,
        "channel": str(channel), "created_by_id": creator_id, "idempotency_key": None,
        "tracking_id": uuid.uuid4(), "created_at": created,
        "updated_at": life.updated_at, "first_response_at": life.first_response_at,
        "resolved_at": life.resolved_at, "closed_at": life.closed_at, "sla_due_at": None,
    }


def history(ticket: dict[str, Any]) -> list[dict[str, Any]]:
    """The "created" row and, for a ticket that moved on, its last status change
    (``TicketEvent`` column values; ``ticket["id"]`` must be set)."""
    def event(**values: Any) -> dict[str, Any]:
        return {"ticket_id": ticket["id"], "field": "", "old_value": "", "new_value": "",
                "internal": False, **values}

    events = [event(actor_id=ticket["created_by_id"], kind=str(EventKind.CREATED),
                    created_at=ticket["created_at"])]
    if ticket["status"] != Status.NEW:
        at = ticket["closed_at"] or ticket["resolved_at"] or ticket["first_response_at"] or ticket["created_at"]
        events.append(event(actor_id=ticket["assignee_id"], kind=str(EventKind.CHANGED), field="status",
                            old_value=str(Status.NEW), new_value=ticket["status"], created_at=at))
    return events


# --- Batches ------------------------------------------------------------------------------

def local_year(at: datetime) -> int:
    return at.astimezone(timezone.get_default_timezone()).year


def reserve_references(per_year: Counter[int]) -> dict[int, list[int]]:
    """``per_year[year]`` ticket numbers for each year, ascending, from the same counters the
    intake takes its numbers from (``tickets.turns``): on PostgreSQL the year's sequence, on
    SQLite the year's counter row advanced once. A ticket taken through intake meanwhile or
    afterwards gets a number of its own. Call inside a transaction."""
    return {year: references_reserve(year, per_year[year]) for year in sorted(per_year)}


def write_batch(tickets: list[dict[str, Any]]) -> int:
    """Number, insert and record one batch in one transaction; returns the events written.

    PostgreSQL takes the rows by ``COPY`` (ids drawn from the table's sequence first, so the
    history rows can name their tickets); other databases by ``bulk_create``. Either way the
    batch commits whole or not at all.
    """
    prefix = settings.VUORO_TICKET_PREFIX
    with transaction.atomic():
        years = [local_year(t["created_at"]) for t in tickets]
        numbers = {year: iter(block) for year, block in reserve_references(Counter(years)).items()}
        for ticket, year in zip(tickets, years, strict=True):
            ticket["reference"] = f"{prefix}-{year}-{next(numbers[year]):06d}"
        if connection.vendor == "postgresql":
            return _copy_batch(tickets)
        saved = Ticket.objects.bulk_create([Ticket(**t) for t in tickets])
        for ticket, row in zip(saved, tickets, strict=True):
            row["id"] = ticket.pk
        events = [e for t in tickets for e in history(t)]
        TicketEvent.objects.bulk_create([TicketEvent(**e) for e in events])
    return len(events)


def _copy_batch(tickets: list[dict[str, Any]]) -> int:
    """PostgreSQL: tickets and their history through ``COPY … FROM STDIN`` (psycopg's copy
    support), an order of magnitude less work per row than parameterised inserts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [Ticket._meta.db_table, len(tickets)])
        ids = sorted(row[0] for row in cursor.fetchall())
        for ticket, pk in zip(tickets, ids, strict=True):
            ticket["id"] = pk
            ticket["form_answers"] = json.dumps(ticket["form_answers"])
        events = [e for t in tickets for e in history(t)]
        _copy_rows(cursor.cursor, Ticket._meta.db_table, tickets)
        _copy_rows(cursor.cursor, TicketEvent._meta.db_table, events)
    return len(events)


def _copy_rows(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    from psycopg import sql

    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _chunks(items: list[datetime], size: int) -> Iterator[list[datetime]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _drafted_ahead(rng: random.Random, cast: Cast, times: list[datetime], now: datetime,
                   batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """The batches of drafted tickets, each drafted in a second thread while the one before is
    written: the database digests a batch (indexes, full-text document, foreign keys) while
    Python composes the next, instead of each waiting for the other. One thread drafts every
    batch in order from the one ``rng``, so the tickets stay the same for a seed; drafting reads
    only the loaded ``cast``, never the database."""
    def draft(chunk: list[datetime]) -> list[dict[str, Any]]:
        return [draft_ticket(rng, cast, at, now) for at in chunk]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-draft") as drafting:
        pending: Future[list[dict[str, Any]]] | None = None
        for chunk in _chunks(times, batch_size):
            following = drafting.submit(draft, chunk)
            if pending is not None:
                yield pending.result()
            pending = following
        if pending is not None:
            yield pending.result()


def refresh_statistics() -> None:
    """Tell the query planner about the new volume now rather than at the next autovacuum:
    right after a bulk load PostgreSQL still plans for an almost empty table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE tickets_ticket, tickets_ticketevent, accounts_user")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")


@dataclass(frozen=True)
class SeedReport:
    tickets: int
    events: int
    organisations_created: int
    requesters_created: int
    agents_created: int
    seconds: float


def seed_tickets(*, count: int, organisations: int = 10, seed: int = 1, now: datetime | None = None,
                 batch_size: int = DEFAULT_BATCH,
                 on_batch: Callable[[int], None] | None = None) -> SeedReport:
    """Add ``count`` tickets with requesters, assignees and history, in batches.

    Each batch is one transaction: its references are reserved under the counter row lock,
    then tickets and their events are inserted together. A failure loses at most the batch
    in progress; earlier batches stay and their numbers stay used.
    """
    started = clock.monotonic()
    # Separate streams: the tickets come out the same whether or not people had to be made.
    rng = random.Random(seed)
    people_rng = random.Random(f"people-{seed}")
    now = now or timezone.now()
    require_services()
    with transaction.atomic():
        orgs_made = ensure_organisations(people_rng, organisations)
        people_made = ensure_requesters(people_rng, max(20, min(5000, count // 25)))
        agents_made = ensure_agents(people_rng)
    cast = load_cast()
    events = 0
    for batch in _drafted_ahead(rng, cast, created_times(rng, count, now), now, batch_size):
        events += write_batch(batch)
        if on_batch:
            on_batch(len(batch))
    refresh_statistics()
    return SeedReport(count, events, orgs_made, people_made, agents_made, clock.monotonic() - started)

