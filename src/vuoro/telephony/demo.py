"""Demo phone work: numbers on the demo requesters and calls logged at the desk.

The calls go through ``call_log`` like an agent's, so the caller look-up page shows each
requester with their call history. Safe to call again: calls are logged only once.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from vuoro.accounts.models import User
from vuoro.accounts.phone_numbers import normalise
from vuoro.telephony.models import Call, Outcome
from vuoro.telephony.services import call_log

# username, phone as typed (Finnish mobile numbers, 555 as in fiction)
DEMO_PHONES = [
    ("maija", "+358 40 555 0101"),
    ("emma", "+358 50 555 0202"),
    ("sven", "+358 45 555 0303"),
]
UNKNOWN_CALLER = "+358 44 555 0909"
AGENT = "antti"

# number, days ago, minutes, outcome, reason, summary
DEMO_CALLS = [
    ("+358 40 555 0101", 9, 6, Outcome.ANSWERED, "Näyttö ei herää lepotilasta",
     "Ohjeistettu irrottamaan telakka; auttoi."),
    ("+358 40 555 0101", 2, 3, Outcome.ANSWERED, "Salasana vanhenee huomenna",
     "Neuvottu vaihtamaan salasana portaalissa."),
    ("+358 50 555 0202", 1, 0, Outcome.MISSED, "Vastaamaton puhelu", ""),
    ("+358 45 555 0303", 4, 0, Outcome.VOICEMAIL, "Röstmeddelande om skrivaren", ""),
    (UNKNOWN_CALLER, 0, 0, Outcome.MISSED, "Tuntematon soittaja", ""),
]


@transaction.atomic
def load_telephony_demo() -> int:
    """Phones for the demo requesters, then the demo calls; returns how many calls were logged."""
    for username, phone in DEMO_PHONES:
        user = User.objects.filter(username=username, phone="").first()
        if user is not None:
            user.phone = phone
            user.save(update_fields=["phone"])
    agent = User.objects.filter(username=AGENT).first()
    numbers = {normalise(number) for number, *_rest in DEMO_CALLS}
    if agent is None or Call.objects.filter(number__in=numbers).exists():
        return 0
    now = timezone.now().replace(second=0, microsecond=0)
    for number, days_ago, minutes, outcome, reason, summary in DEMO_CALLS:
        call_log(actor=agent, raw_number=number, reason=reason, duration_seconds=minutes * 60,
                 outcome=outcome, summary=summary, started_at=now - dt.timedelta(days=days_ago, hours=2))
    return len(DEMO_CALLS)
