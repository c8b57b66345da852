"""What mail about tickets needs to know from the apps above notify, asked without importing them.

Mail flows one way: channels → intake → triage, SLA, coverage → outbox → notify. Notify may
not import the apps it serves, yet a mail needs three answers only they have: whether an
address bounced (channels), which mailbox takes answers about a ticket (channels) and when the
request will be handled (SLA). Each is a slot the app that knows fills in its
``AppConfig.ready``; registering again replaces the answer.

An empty slot answers "nothing known": no address stopped, no mailbox, no sentence. Every
installed app registers, so that is only the state of a project without them.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from vuoro.tickets.models import Ticket


class StoppingBounce(Protocol):
    """The delivery report that stops mail to an address (``channels.models.EmailBounce``)."""

    pk: Any
    status: str
    at: datetime


StoppingBounces = Callable[[Iterable[str], datetime], Mapping[str, StoppingBounce]]
ReplyAddress = Callable[[Ticket], str]
ExpectedHandling = Callable[[Ticket, str, datetime], str]


@dataclass
class _Slots:
    stopping_bounces: StoppingBounces | None = None
    reply_address: ReplyAddress | None = None
    expected_handling: ExpectedHandling | None = None


_slots = _Slots()


def provide(*, stopping_bounces: StoppingBounces | None = None,
            reply_address: ReplyAddress | None = None,
            expected_handling: ExpectedHandling | None = None) -> None:
    """Fill the given slots (the others keep their answer)."""
    if stopping_bounces is not None:
        _slots.stopping_bounces = stopping_bounces
    if reply_address is not None:
        _slots.reply_address = reply_address
    if expected_handling is not None:
        _slots.expected_handling = expected_handling


def stopping_bounces(addresses: Iterable[str], now: datetime) -> Mapping[str, StoppingBounce]:
    """For each address that must not be mailed now, the bounce that stops it, keyed by the
    lower-cased address; an address absent from the answer may be mailed."""
    provider = _slots.stopping_bounces
    return provider(addresses, now) if provider is not None else {}


def stopping_bounce(address: str, now: datetime) -> StoppingBounce | None:
    """The bounce that stops mail to ``address`` now, or None."""
    if not address:
        return None
    return stopping_bounces([address], now).get(address.strip().lower())


def reply_address(ticket: Ticket) -> str:
    """The mailbox that takes answers about ``ticket``; "" when none does."""
    provider = _slots.reply_address
    return provider(ticket) if provider is not None else ""


def expected_handling(ticket: Ticket, language: str, now: datetime) -> str:
    """A sentence in ``language`` saying when the request will be handled; "" when unknown."""
    provider = _slots.expected_handling
    return provider(ticket, language, now) if provider is not None else ""
