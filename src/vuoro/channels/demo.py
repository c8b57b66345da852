"""Demo mailboxes: the addresses the demo services take email at.

No IMAP host, so nothing is polled in the demo; a mail gateway could post to them with the
inbound secret, which is random and never shown: an admin sets a known one in the admin. The
outage address answers "yes, work stops", so out of hours its mail reaches the partner at
once. Safe to call again.
"""

import secrets

from django.db import transaction

from vuoro.accounts.models import Team
from vuoro.catalog.models import Service
from vuoro.channels.models import Mailbox

# address, name, service slug, team name, does mail here stop work?
DEMO_MAILBOXES = [
    ("tuki@vuoro.example", "Tuki", "workstations", "Lähituki", "no"),
    ("sahkoposti@vuoro.example", "Sähköpostituki", "email", "Lähituki", "no"),
    ("hairio@vuoro.example", "Häiriöilmoitukset", "email", "Lähituki", "yes"),
    ("tunnukset@vuoro.example", "Tunnukset", "access", "Lähituki", "no"),
    ("erp-tuki@vuoro.example", "ERP-tuki", "erp", "Sovellustuki", "no"),
]


@transaction.atomic
def load_channels_demo() -> int:
    """Create the demo mailboxes whose service exists; returns how many were created."""
    created = 0
    for address, name, slug, team_name, stops_work in DEMO_MAILBOXES:
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            continue
        _mailbox, new = Mailbox.objects.get_or_create(address=address, defaults={
            "name": name, "service": service, "team": Team.objects.filter(name=team_name).first(),
            "imap_host": "", "inbound_secret": secrets.token_urlsafe(32), "stops_work": stops_work,
        })
        created += new
    return created
