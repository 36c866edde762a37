"""Where upstream may connect: checked on the resolved address, at every hop.

* Never: link-local addresses (169.254.0.0/16, fe80::/10: where clouds serve instance
  metadata and credentials), the known metadata addresses outside them (100.100.100.200,
  fd00:ec2::254), unspecified and multicast addresses. A page, a redirect or a catalog row that
  points there is refused before any connection is made.
* Private and loopback (10/8, 172.16/12, 192.168/16, 127/8, ::1, fc00::/7, 100.64/10 ...): only
  for a URL the user gave (``allow_private``: internal status pages, tests on 127.0.0.1), and
  never after a redirect from a public address, so a vendor's page cannot send us into the
  network upstream runs in.

The check runs inside the connector, after DNS resolution (a name that resolves to
169.254.169.254 is refused like the address itself), so it holds for any name and every hop.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

BLOCKED = "blocked"
PRIVATE = "private"
PUBLIC = "public"

_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")

AddressClass = Callable[[str], str]


@functools.lru_cache(maxsize=65536)  # called for every request made: the same few addresses
def classify(address: str) -> str:
    """``blocked``, ``private`` or ``public`` for one IP address (v4-mapped v6 counts as its v4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
        return BLOCKED
    if ip.is_loopback or ip.is_private or ip.is_reserved or ip in _CGNAT or not ip.is_global:
        return PRIVATE
    return PUBLIC


class RefusedAddress(OSError):
    """The connector refused every address a name resolved to."""


@dataclass
class HopPolicy:
    """What the hop being made may connect to; set per fetch, tightened on a redirect."""

    allow_private: bool = True
    address_class: AddressClass = classify
    peer: str | None = None  # the address of the connection the last request of this fetch went over


CURRENT_HOP: ContextVar[HopPolicy | None] = ContextVar("upstream_hop_policy", default=None)


def allowed(address: str, policy: HopPolicy) -> str | None:
    """Why ``address`` is refused under ``policy``, or None."""
    kind = policy.address_class(address)
    if kind == BLOCKED:
        return f"refused to connect to {address}: a link-local or cloud-metadata address"
    if kind == PRIVATE and not policy.allow_private:
        return f"refused to connect to {address}: a private or loopback address reached from a public page"
    return None


def guarded_connector_class() -> type[Any]:
    """aiohttp's TCPConnector with every resolved address checked against the hop's policy."""
    import aiohttp

    class GuardedConnector(aiohttp.TCPConnector):
        async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[Any]:
            hosts = await super()._resolve_host(host, port, traces=traces)
            policy = CURRENT_HOP.get() or HopPolicy()
            kept, reasons = [], []
            for entry in hosts:
                reason = allowed(entry["host"], policy)
                if reason is None:
                    kept.append(entry)
                else:
                    reasons.append(reason)
            if not kept:
                raise RefusedAddress(reasons[0] if reasons else f"{host} resolved to no address")
            return kept

        async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
            # Also a connection taken from the pool (made earlier, maybe under a looser policy):
            # its peer is checked before the request goes out, and noted for the redirect rule.
            connection = await super().connect(req, traces, timeout)
            policy = CURRENT_HOP.get()
            transport = connection.transport
            peer = transport.get_extra_info("peername") if transport is not None else None
            if policy is None or not peer or req.proxy is not None:
                return connection  # through a proxy the peer is the proxy, which the user configured
            policy.peer = str(peer[0])
            reason = allowed(policy.peer, policy)
            if reason:
                connection.close()
                raise RefusedAddress(reason)
            return connection

    return GuardedConnector


def refusal_in(exc: BaseException) -> str | None:
    """The RefusedAddress message somewhere in ``exc``'s chain, if any."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, RefusedAddress):
            return str(seen)
        seen = getattr(seen, "os_error", None) or seen.__cause__ or seen.__context__
    return None
