"""Demo webhooks and hand-off, set up so that nothing leaves the machine.

The subscription is inactive and points at the discard port of 127.0.0.1; the ERP service
hands its new tickets off by email to an address under the reserved ``.example`` domain.
Secrets are random and shown only in the admin. Safe to call again.
"""

import secrets

from django.db import transaction

from vuoro.catalog.models import Service
from vuoro.webhooks.models import EVENTS, HandOff, HandOffKind, WebhookSubscription

SUBSCRIPTION_NAME = "Esimerkki: tikettitapahtumat"
SUBSCRIPTION_URL = "http://127.0.0.1:9/"
HANDOFF_SERVICE = "erp"
HANDOFF_EMAIL = "tiketit@erp-toimittaja.example"


@transaction.atomic
def load_webhooks_demo() -> None:
    WebhookSubscription.objects.get_or_create(name=SUBSCRIPTION_NAME, defaults={
        "url": SUBSCRIPTION_URL, "secret": secrets.token_urlsafe(32),
        "events": [e for e in EVENTS if e.startswith("ticket.")], "active": False,
    })
    service = Service.objects.filter(slug=HANDOFF_SERVICE).first()
    if service is not None:
        HandOff.objects.get_or_create(service=service, defaults={
            "kind": HandOffKind.EMAIL, "email": HANDOFF_EMAIL, "secret": secrets.token_urlsafe(32),
        })
