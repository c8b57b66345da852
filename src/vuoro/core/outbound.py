"""Where the server may send requests to: one guard for every URL people type in.

Webhooks, REST hand-offs and notification transports post to URLs entered by admins and by
users (their own contact methods). Unchecked, such a URL can make the server fetch from the
cloud metadata service or another link-local address (server-side request forgery). The
guard is called twice: when the URL is entered, so the form says what is wrong, and again
right before each send, because what a name resolves to can change in between.

Loopback stays allowed by default: on-premise installs deliver to local relays. Operators
add networks (e.g. the RFC 1918 ranges) with ``VUORO_OUTBOUND_DENY``, a comma list, in the
settings or the environment; the defaults below always apply.
"""

import ipaddress
import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Link-local (incl. the 169.254.169.254 metadata service), "this network", Alibaba's metadata
# address and AWS's IPv6 metadata address.
DEFAULT_DENY = ("169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "100.100.100.200/32", "fd00:ec2::254/128")
ALLOWED_SCHEMES = frozenset({"http", "https"})


def _entries(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [str(part).strip() for part in value if str(part).strip()]
    return []


def denied_networks() -> list[Network]:
    """The defaults plus ``VUORO_OUTBOUND_DENY`` (Django setting first, else the environment)."""
    extra = getattr(settings, "VUORO_OUTBOUND_DENY", None) or os.environ.get("VUORO_OUTBOUND_DENY", "")
    return [ipaddress.ip_network(entry, strict=False) for entry in (*DEFAULT_DENY, *_entries(extra))]


def _addresses(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to now; empty when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    found = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        mapped = getattr(address, "ipv4_mapped", None)
        found.append(mapped or address)
    return found


def check_outbound_url(url: str) -> None:
    """Raise ``ValidationError`` unless ``url`` is http(s) to a host outside the denied networks.

    A name that does not resolve passes: the send itself then fails and is retried, and
    refusing it here would block entering a host that only the worker's resolver knows.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise ValidationError(_("Only http:// and https:// addresses can be used."), code="outbound_scheme")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host:
        raise ValidationError(_("The address has no valid host name."), code="outbound_host")
    networks = denied_networks()
    for address in _addresses(host, port or (443 if parts.scheme.lower() == "https" else 80)):
        if any(address in network for network in networks):
            raise ValidationError(
                _("%(host)s points to %(address)s, a network the server may not send to "
                  "(cloud metadata, link-local or VUORO_OUTBOUND_DENY)."),
                code="outbound_denied", params={"host": host, "address": str(address)})


def outbound_refusal(url: str) -> str:
    """Why a send to ``url`` is refused, in English for the delivery log; empty when allowed."""
    try:
        check_outbound_url(url)
    except ValidationError as exc:
        with translation.override("en"):
            return "Refused: " + " ".join(str(message) for message in exc.messages)
    return ""
