"""Demo runbooks: the agreed first steps for the demo's critical services.

Called by the demo loader after services exist; safe to call again (a runbook that already has
a version is left as it is).
"""

from django.db import transaction

from vuoro.catalog.models import Service
from vuoro.runbooks.models import Runbook
from vuoro.runbooks.services import runbook_version_create


def _t(fi: str, en: str, sv: str) -> dict[str, str]:
    return {"fi": fi, "en": en, "sv": sv}


YES = _t("Kyllä", "Yes", "Ja")
NO = _t("Ei", "No", "Nej")

EMAIL_STEPS = [
    {"key": "others", "kind": "instruction",
     "text": _t("Kysy pyytäjältä, onko muilla samassa toimipisteessä sama ongelma. Kirjaa vastaus muistiinpanoon.",
                "Ask the requester whether others in the same office are affected. Write the answer in the notes.",
                "Fråga beställaren om andra på samma kontor har samma problem. Skriv svaret i anteckningen.")},
    {"key": "webmail", "kind": "question",
     "text": _t("Toimiiko selainposti (outlook.office.com)?", "Does webmail (outlook.office.com) work?",
                "Fungerar webbposten (outlook.office.com)?"),
     "choices": [{"label": YES, "target": "webmail_guide"}, {"label": NO, "target": "status_page"}]},
    {"key": "webmail_guide", "kind": "instruction", "next": "resolve",
     "text": _t("Opasta pyytäjä käyttämään selainpostia aamuun asti ja kerro, että lähituki tarkistaa "
                "Outlookin seuraavana arkipäivänä. Ratkaise sitten pyyntö.",
                "Guide the requester to use webmail until the morning and say the service desk checks "
                "Outlook on the next business day. Then resolve.",
                "Hänvisa beställaren till webbposten till morgonen och berätta att servicedesken kontrollerar "
                "Outlook nästa vardag. Lös sedan ärendet.")},
    {"key": "status_page", "kind": "check", "on_fail": "escalate",
     "text": _t("Näyttääkö palvelun tilasivu (status.vuoro.example) kaiken toimivan? Jos siellä on häiriö, "
                "merkitse tarkistus epäonnistuneeksi.",
                "Does the service status page (status.vuoro.example) show everything working? If it shows "
                "an outage, mark the check failed.",
                "Visar tjänstens statussida (status.vuoro.example) att allt fungerar? Om den visar en "
                "störning, markera kontrollen som misslyckad.")},
    {"key": "stops_work", "kind": "escalate_if",
     "text": _t("Estääkö vika useamman kuin yhden henkilön työn?",
                "Does the fault stop the work of more than one person?",
                "Hindrar felet fler än en persons arbete?")},
]

ERP_STEPS = [
    {"key": "scope", "kind": "question",
     "text": _t("Mitä pyytäjä ei pysty tekemään?", "What can the requester not do?", "Vad kan beställaren inte göra?"),
     "choices": [{"label": _t("Kirjautua sisään", "Sign in", "Logga in"), "target": "password"},
                 {"label": _t("Laskutus tai maksuajo keskeytyy", "Invoicing or a payment run stops",
                              "Fakturering eller betalningskörning avbryts"), "target": "deadline"}]},
    {"key": "password", "kind": "check", "on_fail": "escalate", "next": "resolve",
     "text": _t("Pyydä kirjautumaan ensin työasemalle samalla tunnuksella. Onnistuuko se? Jos onnistuu, "
                "ohjaa salasanan vaihtoon ja ratkaise.",
                "Ask the requester to sign in to their workstation with the same account. Does it work? If "
                "so, guide them to the password reset and resolve.",
                "Be beställaren logga in på arbetsstationen med samma konto. Fungerar det? Om ja, hänvisa "
                "till lösenordsbytet och lös ärendet.")},
    {"key": "deadline", "kind": "escalate_if",
     "text": _t("Erääntyykö maksu tai laskutus ennen seuraavan arkipäivän klo 10?",
                "Is a payment or invoicing due before 10:00 on the next business day?",
                "Förfaller en betalning eller fakturering före kl. 10 nästa vardag?")},
    {"key": "log_for_morning", "kind": "instruction",
     "text": _t("Kirjaa virheilmoitus ja kellonaika muistiinpanoon ja kerro pyytäjälle, että sovellustuki "
                "jatkaa aamulla.",
                "Write the error message and the time in the notes and tell the requester the application "
                "team continues in the morning.",
                "Skriv felmeddelandet och tidpunkten i anteckningen och berätta att applikationsstödet "
                "fortsätter på morgonen.")},
]

DEMO_RUNBOOKS = {
    "email": (_t("Sähköposti ei toimi", "Email is not working", "E-posten fungerar inte"), EMAIL_STEPS),
    "erp": (_t("Toiminnanohjaus ei toimi", "The ERP system is not working", "Affärssystemet fungerar inte"),
            ERP_STEPS),
}


@transaction.atomic
def load_runbooks_demo() -> int:
    """One service-wide runbook for each critical demo service; returns how many were written."""
    written = 0
    for service in Service.objects.filter(slug__in=DEMO_RUNBOOKS):
        names, steps = DEMO_RUNBOOKS[service.slug]
        runbook, _ = Runbook.objects.get_or_create(
            service=service, category=None,
            defaults={"name_fi": names["fi"], "name_en": names["en"], "name_sv": names["sv"]})
        if not runbook.versions.exists():
            runbook_version_create(runbook=runbook, steps=steps, note="Demo", by=None)
            written += 1
    return written
