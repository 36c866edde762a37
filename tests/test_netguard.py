"""Where upstream connects (issue 15, item 15): link-local and metadata addresses never; private and
loopback only for URLs the user gave, never after a redirect from a public address. Real HTTP
servers on 127.0.0.1 and 127.0.0.2; names resolved by a resolver given to the client (no real DNS,
no traffic off this machine). 127.0.0.2 plays a public vendor page: the test's address classes
call it public, everything else is classified as upstream classifies it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aggregator.http import HttpClient
from aggregator.netguard import classify


class _Page(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, location: str | None = None) -> None:
        self.location = location
        self.hits: list[str] = []
        super().__init__((host, 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: _Page

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.hits.append(self.path)
        if self.server.location and self.path == "/":
            self.send_response(302)
            self.send_header("location", self.server.location)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = b'{"secret": "instance credentials"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class FixedResolver:
    """An aiohttp resolver that knows only the names it is given (and IP literals)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        self.asked.append(host)
        if host not in self.names:
            raise OSError(f"no such test name {host!r}")
        return [{"hostname": host, "host": self.names[host], "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


def vendor_is_public(address: str) -> str:
    return "public" if address == "127.0.0.2" else classify(address)


@pytest.fixture
def internal() -> Iterator[_Page]:
    page = _Page("127.0.0.1")
    yield page
    page.shutdown()
    page.server_close()


def _fetch(url: str, names: dict[str, str] | None = None, **kwargs: Any) -> Any:
    async def go() -> Any:
        resolver = FixedResolver(names or {})
        async with HttpClient(timeout=2, resolver=resolver, address_class=vendor_is_public) as http:
            # The tests name 169.254.169.254, which must never see a packet from here: stop before
            # any fetch unless the guard is in place (a regression fails here, not on the network).
            assert type(http._session.get().connector).__name__ == "GuardedConnector"
            assert vendor_is_public("169.254.169.254") == "blocked"
            return await http.fetch(url, **{k: v for k, v in kwargs.items() if k == "allow_private"})
    return asyncio.run(go())


def test_address_classes() -> None:
    for address in ("169.254.169.254", "169.254.0.1", "fe80::1", "100.100.100.200", "fd00:ec2::254",
                    "::ffff:169.254.169.254", "0.0.0.0", "224.0.0.1"):
        assert classify(address) == "blocked", address
    for address in ("127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "::1", "fc00::1", "100.64.0.1"):
        assert classify(address) == "private", address
    for address in ("1.1.1.1", "2606:4700::1111", "140.82.112.3"):
        assert classify(address) == "public", address


def test_metadata_addresses_are_refused_before_connecting() -> None:
    # (The connector's check runs before connect(): no packet leaves for 169.254.169.254.)
    result = _fetch("http://169.254.169.254/latest/meta-data/")
    assert result.error == "refused to connect to 169.254.169.254: a link-local or cloud-metadata address"
    # A name that resolves there is refused the same way: the check is after resolution.
    result = _fetch("http://status.vendor.test/", {"status.vendor.test": "169.254.169.254"})
    assert result.error == "refused to connect to 169.254.169.254: a link-local or cloud-metadata address"


def test_a_redirect_to_the_metadata_address_is_refused_even_from_a_user_page(internal: _Page) -> None:
    internal.location = "http://169.254.169.254/latest/meta-data/iam/"
    result = _fetch(f"http://127.0.0.1:{internal.port}/", allow_private=True)
    assert internal.hits == ["/"]
    assert result.body == b"" and result.error is not None
    assert result.error.startswith("refused to connect to 169.254.169.254")


def test_a_public_page_cannot_redirect_into_the_private_network(internal: _Page) -> None:
    vendor = _Page("127.0.0.2", location=f"http://intranet.test:{internal.port}/secret")
    try:
        names = {"status.vendor.test": "127.0.0.2", "intranet.test": "127.0.0.1"}
        result = _fetch(f"http://status.vendor.test:{vendor.port}/", names, allow_private=True)
    finally:
        vendor.shutdown()
        vendor.server_close()
    assert vendor.hits == ["/"]
    assert internal.hits == []  # never connected
    assert result.error == "refused to connect to 127.0.0.1: a private or loopback address reached from a public page"


def test_private_pages_only_when_the_user_gave_them(internal: _Page) -> None:
    # A URL the user added: an internal page, and its internal redirects, work.
    internal.location = f"http://127.0.0.1:{internal.port}/api"
    ok = _fetch(f"http://127.0.0.1:{internal.port}/", allow_private=True)
    assert ok.error is None and ok.status == 200 and b"credentials" in ok.body
    # A URL the catalog names (allow_private=False) may not point into the private network.
    hits = len(internal.hits)
    refused = _fetch(f"http://intranet.test:{internal.port}/", {"intranet.test": "127.0.0.1"}, allow_private=False)
    assert refused.error == ("refused to connect to 127.0.0.1: a private or loopback address reached from a "
                             "public page")
    assert len(internal.hits) == hits


def test_a_webhook_to_the_metadata_address_is_refused() -> None:
    from aggregator.notify.sinks import send, webhook_client
    from aggregator.notify.subscriptions import Filters, Subscription

    target = "http://169.254.169.254/latest/meta-data/"
    sub = Subscription(id=1, name=None, sink="webhook", target=target, display=target, secret="whsec_dGVzdA==",
                       filters=Filters(), flap_window=0.0, max_attempts=None, paused=False,
                       created_at="2026-01-01T00:00:00Z")
    async def go() -> Any:
        client = webhook_client()
        try:
            # As above: no fetch at all unless the guarded connector is the one in use.
            assert type(client._transport._session.get().connector).__name__ == "GuardedConnector"
            return await send(sub, {"id": "evt_1", "type": "incident.created"}, b"{}", http=client)
        finally:
            await client.aclose()

    result = asyncio.run(go())
    assert not result.ok and result.error is not None
    assert "refused to connect to 169.254.169.254" in result.error, result.error


def test_catalog_rows_may_not_name_internal_addresses(tmp_path: Any) -> None:
    from aggregator.catalog.data import Catalog, Entry, follow, follow_all, load_catalog
    from aggregator.core import open_store
    from aggregator.errors import CatalogError

    shipped = [Entry(id="meta", name="Meta", url="http://169.254.169.254", platform="statuspage"),
               Entry(id="lan", name="Lan", url="http://10.0.0.7", platform="statuspage"),
               Entry(id="local", name="Local", url="http://status.localhost", platform="statuspage")]
    mine = Entry(id="intranet", name="Intranet", url="http://10.0.0.8", platform="statuspage", user=True)
    catalog = Catalog([*shipped, mine])
    with open_store(tmp_path / "up.db") as store:
        for entry in shipped:
            with pytest.raises(CatalogError, match=f"cannot follow {entry.id}: the catalog's URL names a"):
                follow(store, [entry.id], catalog)
        assert store.providers() == []
        follow(store, ["intranet"], catalog)  # the user's own catalog.toml may name an internal page
        added, skipped = follow_all(store, catalog)
        assert added == 0 and sorted(pid for pid, _ in skipped) == ["lan", "local", "meta"]
    # The shipped catalog itself names no such address.
    from aggregator.catalog.data import catalog_url_refused

    assert [e.id for e in load_catalog().entries if not e.user and catalog_url_refused(e.url)] == []
