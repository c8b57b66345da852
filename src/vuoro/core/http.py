"""Who is at the other end of a request: the client's address, also behind a reverse proxy.

``client_ip`` trusts ``X-Forwarded-For`` only when the direct peer is one of the proxies named
in ``VUORO_TRUSTED_PROXIES`` (addresses or networks, comma-separated; none by default, so a
client cannot claim another address). Behind trusted proxies it takes the right-most address
that is not itself a trusted proxy: the one the first trusted proxy saw. A header longer than
``FORWARDED_MAX`` characters or holding something that is not an address is not trusted.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

FORWARDED_MAX = 1000
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def trusted_proxies() -> tuple[Network, ...]:
    """The networks of ``VUORO_TRUSTED_PROXIES`` (a string or a list in settings)."""
    spec = getattr(settings, "VUORO_TRUSTED_PROXIES", "")
    return _networks(spec if isinstance(spec, str) else ",".join(spec))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: tuple[Network, ...]) -> bool:
    return any(address in network for network in proxies)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (see the module's rule); None when the request has none."""
    peer = _address(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    proxies = trusted_proxies()
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not proxies or not forwarded or len(forwarded) > FORWARDED_MAX or not _trusted(peer, proxies):
        return str(peer)
    hops = [_address(part) for part in forwarded.split(",")]
    if any(hop is None for hop in hops):
        return str(peer)
    for hop in reversed(hops):
        assert hop is not None
        if not _trusted(hop, proxies):
            return str(hop)
    return str(hops[0])
