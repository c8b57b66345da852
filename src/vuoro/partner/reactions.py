"""The partner access log hears of reads made outside the partner's own views: a partner agent
downloading an attachment is logged inline, before the file is served."""

from vuoro.core.events import Event, subscribe
from vuoro.partner.models import AccessView
from vuoro.partner.services import partner_access_log


def _attachment_downloaded(event: Event) -> None:
    partner_access_log(user=event.actor, ticket=event.subject.ticket, view=AccessView.ATTACHMENT,
                       now=event.at, ip=event.payload.get("ip"))


def connect() -> None:
    subscribe("attachment.downloaded", "partner.access_log", _attachment_downloaded, deferred=False)
