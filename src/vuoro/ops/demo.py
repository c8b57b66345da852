"""Demo data for ``make run``: organisations, a user for each role, services with forms."""

from django.db import transaction

from vuoro.accounts.models import AssignmentStrategy, Organisation, Role, Team, User
from vuoro.calendars.services import builtin_calendars
from vuoro.catalog.models import Category, FieldKind, FormField, RoutingRule, Service
from vuoro.channels.demo import load_channels_demo
from vuoro.coverage.demo import load_coverage_demo
from vuoro.paging.demo import load_paging_demo
from vuoro.runbooks.demo import load_runbooks_demo
from vuoro.sla.demo import load_sla_demo
from vuoro.telephony.demo import load_telephony_demo
from vuoro.webhooks.demo import load_webhooks_demo

DEMO_PASSWORD = "vuoro-demo"

DEMO_USERS = [
    # username, role, first, last, organisation slug, language, sees organisation's tickets
    ("maija", Role.REQUESTER, "Maija", "Meikäläinen", "kaupunki", "fi", True),
    ("emma", Role.REQUESTER, "Emma", "English", "kaupunki", "en", False),
    ("sven", Role.REQUESTER, "Sven", "Svensson", "skargard", "sv", False),
    ("antti", Role.AGENT, "Antti", "Agentti", None, "fi", False),
    ("aino", Role.AGENT, "Aino", "Asiantuntija", None, "fi", False),
    ("paula", Role.PARTNER, "Paula", "Partneri", None, "fi", False),
    ("olli", Role.SERVICE_OWNER, "Olli", "Omistaja", None, "fi", False),
    ("admin", Role.ADMIN, "Ada", "Ylläpitäjä", None, "fi", False),
]


def _choices(*items: tuple[str, str, str, str]) -> list[dict[str, str]]:
    return [{"value": v, "fi": fi, "en": en, "sv": sv} for v, fi, en, sv in items]


@transaction.atomic
def load_demo() -> bool:
    """Load the demo once; returns False when it is already there."""
    if User.objects.filter(username="admin").exists():
        return False
    kaupunki = Organisation.objects.create(name="Esimerkkikaupunki", slug="kaupunki", email_domain="kaupunki.example")
    skargard = Organisation.objects.create(name="Skärgårds Ab", slug="skargard", email_domain="skargard.example")
    orgs = {"kaupunki": kaupunki, "skargard": skargard}
    users = {}
    for username, role, first, last, org, lang, sees_org in DEMO_USERS:
        user = User(
            username=username, role=role, first_name=first, last_name=last,
            email=f"{username}@{'vuoro.example' if org is None else orgs[org].email_domain}",
            organisation=orgs.get(org) if org else None, language=lang,
            can_see_organisation_tickets=sees_org,
            is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        users[username] = user
    service_desk = Team.objects.create(name="Lähituki", assignment_strategy=AssignmentStrategy.ROUND_ROBIN, lead=users["antti"])
    service_desk.members.set([users["antti"], users["aino"]])
    apps = Team.objects.create(name="Sovellustuki", assignment_strategy=AssignmentStrategy.LEAST_OPEN, lead=users["aino"])
    apps.members.set([users["aino"]])
    night = Team.objects.create(name="Päivystyskumppani", assignment_strategy=AssignmentStrategy.MANUAL)
    night.members.set([users["paula"]])
    # Every service keeps the desk's office hours. Out of hours the partner covers the critical
    # ones (coverage demo), and their P1/P2 clocks run around the clock (SLA demo).
    hours = builtin_calendars()

    email = Service.objects.create(
        slug="email", name_fi="Sähköposti ja kalenteri", name_en="Email and calendar",
        name_sv="E-post och kalender", critical=True, owner=users["olli"], default_team=service_desk,
        description_fi="Sähköposti, kalenterit ja jaetut postilaatikot.",
        description_en="Email, calendars and shared mailboxes.",
        description_sv="E-post, kalendrar och delade brevlådor.", order=1, calendar=hours.office_hours,
    )
    erp = Service.objects.create(
        slug="erp", name_fi="Toiminnanohjausjärjestelmä", name_en="ERP system",
        name_sv="Affärssystem", critical=True, owner=users["olli"], default_team=apps,
        description_fi="Talous, hankinnat ja laskutus.", description_en="Finance, purchasing and invoicing.",
        description_sv="Ekonomi, inköp och fakturering.", order=2, calendar=hours.office_hours,
    )
    workstations = Service.objects.create(
        slug="workstations", name_fi="Työasemat ja laitteet", name_en="Workstations and devices",
        name_sv="Arbetsstationer och enheter", critical=False, default_team=service_desk,
        description_fi="Tietokoneet, näytöt, tulostimet ja puhelimet.",
        description_en="Computers, screens, printers and phones.",
        description_sv="Datorer, skärmar, skrivare och telefoner.", order=3,
        calendar=hours.office_hours,
    )
    access = Service.objects.create(
        slug="access", name_fi="Käyttöoikeudet", name_en="Access rights", name_sv="Behörigheter",
        critical=False, default_team=service_desk, order=4, calendar=hours.office_hours,
        description_fi="Tunnukset, salasanat ja oikeudet.", description_en="Accounts, passwords and rights.",
        description_sv="Konton, lösenord och rättigheter.",
    )

    cat = Category.objects.create(service=email, slug="not-working", name_fi="Sähköposti ei toimi",
                                  name_en="Email is not working", name_sv="E-posten fungerar inte", order=1)
    FormField.objects.create(category=cat, key="client", kind=FieldKind.CHOICE, required=True, order=1,
                             label_fi="Millä ohjelmalla luet postia?", label_en="Which program do you read mail with?",
                             label_sv="Med vilket program läser du e-post?",
                             choices=_choices(("outlook", "Outlook", "Outlook", "Outlook"),
                                              ("web", "Selain", "Web browser", "Webbläsare"),
                                              ("phone", "Puhelin", "Phone", "Telefon")))
    FormField.objects.create(category=cat, key="error_message", kind=FieldKind.TEXT, order=2,
                             label_fi="Virheilmoitus", label_en="Error message", label_sv="Felmeddelande",
                             help_fi="Kopioi virheilmoituksen teksti, jos sellainen näkyy.",
                             help_en="Copy the text of the error message, if one is shown.",
                             help_sv="Kopiera felmeddelandets text, om ett sådant visas.")
    shared = Category.objects.create(service=email, slug="shared-mailbox", name_fi="Jaettu postilaatikko",
                                     name_en="Shared mailbox", name_sv="Delad brevlåda", order=2)
    FormField.objects.create(category=shared, key="mailbox", kind=FieldKind.TEXT, required=True, order=1,
                             label_fi="Postilaatikon osoite", label_en="Mailbox address", label_sv="Brevlådans adress")
    FormField.objects.create(category=shared, key="members", kind=FieldKind.NUMBER, order=2,
                             label_fi="Käyttäjien määrä", label_en="Number of users", label_sv="Antal användare",
                             min_value=1, max_value=500)

    invoice = Category.objects.create(service=erp, slug="invoicing", name_fi="Laskutus", name_en="Invoicing",
                                      name_sv="Fakturering", order=1)
    FormField.objects.create(category=invoice, key="invoice_number", kind=FieldKind.TEXT, order=1,
                             label_fi="Laskun numero", label_en="Invoice number", label_sv="Fakturanummer")
    FormField.objects.create(category=invoice, key="due_date", kind=FieldKind.DATE, order=2,
                             label_fi="Eräpäivä", label_en="Due date", label_sv="Förfallodag")
    Category.objects.create(service=erp, slug="login", name_fi="Kirjautuminen", name_en="Signing in",
                            name_sv="Inloggning", order=2)

    device = Category.objects.create(service=workstations, slug="new-device", name_fi="Uusi laite",
                                     name_en="New device", name_sv="Ny enhet", order=1)
    FormField.objects.create(category=device, key="device", kind=FieldKind.CHOICE, required=True, order=1,
                             label_fi="Laite", label_en="Device", label_sv="Enhet",
                             choices=_choices(("laptop", "Kannettava", "Laptop", "Bärbar dator"),
                                              ("screen", "Näyttö", "Screen", "Skärm"),
                                              ("phone", "Puhelin", "Phone", "Telefon")))
    FormField.objects.create(category=device, key="needed_by", kind=FieldKind.DATE, required=True, order=2,
                             label_fi="Tarvitaan viimeistään", label_en="Needed by", label_sv="Behövs senast")
    FormField.objects.create(category=device, key="replaces_old", kind=FieldKind.YES_NO, order=3,
                             label_fi="Korvaako vanhan laitteen?", label_en="Does it replace an old device?",
                             label_sv="Ersätter den en gammal enhet?")
    broken = Category.objects.create(service=workstations, slug="broken", name_fi="Laite on rikki",
                                     name_en="Device is broken", name_sv="Enheten är trasig", order=2)
    FormField.objects.create(category=broken, key="asset_tag", kind=FieldKind.TEXT, order=1,
                             label_fi="Laitteen tunnus", label_en="Asset tag", label_sv="Inventarienummer",
                             help_fi="Tarra laitteen pohjassa, esim. KAU-12345.",
                             help_en="The sticker under the device, e.g. KAU-12345.",
                             help_sv="Etiketten under enheten, t.ex. KAU-12345.")

    pw = Category.objects.create(service=access, slug="password", name_fi="Salasanan vaihto",
                                 name_en="Password reset", name_sv="Byte av lösenord", order=1)
    FormField.objects.create(category=pw, key="account", kind=FieldKind.TEXT, required=True, order=1,
                             label_fi="Käyttäjätunnus", label_en="User name", label_sv="Användarnamn")
    Category.objects.create(service=access, slug="new-rights", name_fi="Uudet oikeudet",
                            name_en="New access rights", name_sv="Nya behörigheter", order=2)
    RoutingRule.objects.create(service=erp, category=invoice, team=apps)
    load_sla_demo()
    load_coverage_demo()
    load_paging_demo()
    load_runbooks_demo()
    load_channels_demo()
    load_telephony_demo()
    load_webhooks_demo()
    return True
