"""Where the server may send requests to: one guard for every URL people type in.

Webhooks, REST hand-offs and notification transports post to URLs entered by admins and by
users (their own contact methods). Unchecked, such a URL can make the server fetch from the
cloud metadata service or another internal address (server-side request forgery). Three
checks, one rule:

1. when the URL is entered (``check_outbound_url``), so the form says what is wrong;
2. right before each send (``outbound_refusal``), for the delivery log;
3. **at every connection** the process opens over HTTP(S) (``install_connection_guard``,
   installed when the project starts): every address the host resolves to is checked, and
   the socket connects only to the addresses just checked. This covers each hop of a
   redirect and leaves no gap for DNS rebinding between the check and the connect. A refused
   connection raises ``OutboundRefused`` (found again in the error chain by ``refused_reason``).

Always denied: link-local (the metadata services), "this network" and the cloud metadata
addresses. In production (``VUORO_PRODUCTION``) loopback and the private networks (RFC 1918,
unique local IPv6, shared address space) are denied too, unless an operator allow-lists them
with ``VUORO_OUTBOUND_ALLOW`` (networks, a comma list); ``VUORO_OUTBOUND_DENY`` adds more.
Outside production loopback and private networks stay allowed: local relays and tests.
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
# Denied in production unless allow-listed: loopback, RFC 1918, unique local IPv6, shared space.
PRIVATE_DENY = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                "fc00::/7", "100.64.0.0/10")
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


def _configured(name: str) -> list[str]:
    """A network list setting: Django's settings first, else the environment."""
    return _entries(getattr(settings, name, None) or os.environ.get(name, ""))


def denied_networks() -> list[Network]:
    """The defaults, the private networks in production, and ``VUORO_OUTBOUND_DENY``."""
    private = PRIVATE_DENY if getattr(settings, "PRODUCTION", False) else ()
    return [ipaddress.ip_network(entry, strict=False)
            for entry in (*DEFAULT_DENY, *private, *_configured("VUORO_OUTBOUND_DENY"))]


def allowed_networks() -> list[Network]:
    """``VUORO_OUTBOUND_ALLOW``: networks an operator lets through despite the private deny."""
    return [ipaddress.ip_network(entry, strict=False) for entry in _configured("VUORO_OUTBOUND_ALLOW")]


def denied(address: Address) -> bool:
    """True when the server may not connect to ``address``. The always-denied defaults win over
    an allow-list entry; the private networks and ``VUORO_OUTBOUND_DENY`` do not."""
    if any(address in ipaddress.ip_network(entry) for entry in DEFAULT_DENY):
        return True
    if any(address in network for network in allowed_networks()):
        return False
    return any(address in network for network in denied_networks())


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
    for address in _addresses(host, port or (443 if parts.scheme.lower() == "https" else 80)):
        if denied(address):
            raise ValidationError(
                _("%(host)s points to %(address)s, a network the server may not send to "
                  "(cloud metadata, link-local, internal networks or VUORO_OUTBOUND_DENY)."),
                code="outbound_denied", params={"host": host, "address": str(address)})


def outbound_refusal(url: str) -> str:
    """Why a send to ``url`` is refused, in English for the delivery log; empty when allowed."""
    try:
        check_outbound_url(url)
    except ValidationError as exc:
        with translation.override("en"):
            return "Refused: " + " ".join(str(message) for message in exc.messages)
    return ""


# --- the connection guard -------------------------------------------------------------------


class OutboundRefused(OSError):
    """A connection the guard would not open: the host resolves into a denied network."""


def refused_reason(error: BaseException | None) -> str:
    """The guard's refusal somewhere in ``error``'s chain (requests and urllib3 wrap it); ''."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OutboundRefused):
            return str(item)
        pending += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return ""


def guarded_connection(address: tuple[str, int], timeout: object = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
                       source_address: tuple[str, int] | None = None,
                       socket_options: Iterable[tuple[int, int, int | bytes]] | None = None) -> socket.socket:
    """``urllib3``'s ``create_connection``, connecting only to addresses the rule allows.

    The host is resolved once; if any of its addresses is denied the connection is refused
    (``OutboundRefused``), otherwise the socket connects to one of exactly those addresses.
    """
    host, port = address
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except UnicodeError as exc:
        raise socket.gaierror(f"bad host name {host!r}") from exc
    for info in infos:
        resolved = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        resolved = getattr(resolved, "ipv4_mapped", None) or resolved
        if denied(resolved):
            raise OutboundRefused(f"Refused: {host} points to {resolved}, a network the server may not send to.")
    last: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = None
        try:
            sock = socket.socket(family, kind, proto)
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)  # type: ignore[arg-type]
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            last = exc
            if sock is not None:
                sock.close()
    raise last or OSError(f"getaddrinfo returned nothing for {host}")


def install_connection_guard() -> None:
    """Make every HTTP(S) connection of this process go through ``guarded_connection``."""
    from urllib3.util import connection

    if getattr(connection.create_connection, "vuoro_guarded", False):
        return
    guarded_connection.vuoro_guarded = True  # type: ignore[attr-defined]
    connection.create_connection = guarded_connection  # type: ignore[assignment]
