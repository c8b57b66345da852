"""Demo mailboxes: the addresses the demo services take email at.

No IMAP host, so nothing is polled in the demo; a mail gateway could post to them with the
inbound secret, which is random and shown only in the admin. Safe to call again.
"""

import secrets

from django.db import transaction

from vuoro.accounts.models import Team
from vuoro.catalog.models import Service
from vuoro.channels.models import Mailbox

# address, name, service slug, team name
DEMO_MAILBOXES = [
    ("tuki@vuoro.example", "Tuki", "workstations", "Lähituki"),
    ("sahkoposti@vuoro.example", "Sähköpostituki", "email", "Lähituki"),
    ("tunnukset@vuoro.example", "Tunnukset", "access", "Lähituki"),
    ("erp-tuki@vuoro.example", "ERP-tuki", "erp", "Sovellustuki"),
]


@transaction.atomic
def load_channels_demo() -> int:
    """Create the demo mailboxes whose service exists; returns how many were created."""
    created = 0
    for address, name, slug, team_name in DEMO_MAILBOXES:
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            continue
        _mailbox, new = Mailbox.objects.get_or_create(address=address, defaults={
            "name": name, "service": service, "team": Team.objects.filter(name=team_name).first(),
            "imap_host": "", "inbound_secret": secrets.token_urlsafe(32),
        })
        created += new
    return created
