"""Who the client is behind a reverse proxy: X-Forwarded-For, believed only from trusted proxies.

Behind nginx every request reaches a replica from nginx's address, so a rate limit keyed on the
peer would put every client in one bucket. ORCHESTRATOR_TRUSTED_PROXIES lists the proxies
(addresses or networks: `127.0.0.1`, `10.0.0.0/8`) whose X-Forwarded-For the server believes.
The client is then the rightmost address in that header that is not itself a trusted proxy:
each proxy appends the address it saw, so everything left of that entry is whatever the client
chose to send, and believing it would let a client pick its own bucket. A request from a peer
that is not trusted keeps the peer's address, whatever headers it carries.
"""

from __future__ import annotations

import ipaddress

from skills.errors import BadInput

MAX_HOP_CHARS = 100  # an unparsable hop from a trusted proxy is used as it is, cut to this


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a peer or an X-Forwarded-For hop ("[::1]:443" and "1.2.3.4:80" too)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return address


class TrustedProxies:
    """The proxies named by ORCHESTRATOR_TRUSTED_PROXIES; an empty list trusts no header."""

    def __init__(self, entries: list[str]):
        self.networks = []
        for entry in entries:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise BadInput(
                    f"ORCHESTRATOR_TRUSTED_PROXIES: {entry!r} is not an address or network "
                    "(give a comma-separated list such as 127.0.0.1,10.0.0.0/8)",
                    field="ORCHESTRATOR_TRUSTED_PROXIES",
                ) from None

    def trusts(self, text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, peer: str, forwarded_for: list[str] | None) -> str:
        """The client's address: the peer, or from a trusted peer the rightmost untrusted hop."""
        if not self.networks or not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return hop[:MAX_HOP_CHARS]  # written by a trusted proxy: as good as anything it says
            if not any(address in network for network in self.networks):
                return str(address)
        return str(_address(hops[0])) if hops else peer  # every hop is a trusted proxy: the first one
