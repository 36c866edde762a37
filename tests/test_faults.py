"""Every way a status page can fail, all in one poll cycle next to a healthy page.

Each faulty page is first polled while healthy, so that "the last known state is kept" is checked,
then switched to its fault. After the fault cycle every faulty provider must have recorded one
``provider.unreachable`` event with a reason that says what happened (or, for bodies that are
merely odd, have been read correctly), with its snapshot untouched; the healthy provider on
another server must have its changes recorded in the same cycle; and the cycle must finish in
bounded time and memory.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.core import open_store
from aggregator.http import HttpClient
from aggregator.poll.runner import poll_once
from aggregator.store.writer import Store
from tests.conftest import FIXTURES
from tests.faults import DTD_PATH, FAULTS, LEAK_PATH, FaultServer, RssSampler
from tests.loopback import LoopbackServer

SP = FIXTURES / "statuspage"
GOOD_JSON = (SP / "acme-1-operational.json").read_bytes()
GOOD_FEED = (FIXTURES / "feed" / "keywords.rss").read_bytes()
SUMMARY = "/api/v2/summary.json"
CLIENT_TIMEOUT = 1.0
MAX_BYTES = 8 * 1024 * 1024
CYCLE_SECONDS = 20.0
MEMORY_BOUND = 150 * 1024 * 1024

# fault -> the reason recorded (a regex); ACCEPTED when the body is odd but the same page, READ
# when it is another readable document.
ACCEPTED = "accepted"
READ = "read"
JSON_FAULTS: dict[str, str] = {
    "timeout": r"timed out after [12]s",
    "stall_mid_body": r"timed out after [12]s",
    "trickle": r"timed out after 2s",
    "http_500": r"HTTP 500$",
    "http_502": r"HTTP 502$",
    "http_503": r"HTTP 503$",
    "http_429": r"HTTP 429$",
    "redirect_loop": r"redirect loop",
    "redirect_endless": r"more than 5 redirects",
    "redirect_other_host": r"needs a login \('Sign in - Acme SSO'\)",
    "redirect_file_scheme": r"redirect to a non-http\(s\) URL 'file:/+etc/passwd'",
    "redirect_dead_host": r"connection refused",
    "connection_reset": r"server broke the connection|connection (refused or )?failed|ReadError",
    "not_http": r"server broke the connection|connection failed|ReadError",
    "truncated_json": r"not valid JSON",
    "invalid_json": r"not valid JSON",
    "deep_json": r"not valid JSON|nested too deeply",
    "html_login": r"needs a login",
    "html_as_json": r"HTML page instead of JSON \('Just a moment...'\)",
    "empty_200": r"empty statuspage summary",
    "wrong_content_type": ACCEPTED,
    "invalid_utf8": ACCEPTED,
    "utf16_bom": ACCEPTED,
    "utf16_no_bom": ACCEPTED,
    "gzip_bomb": r"body too large",
    "double_gzip_bomb": r"body too large",
    "huge_declared": r"body too large \(104857600 bytes",
    "huge_chunked": r"body too large \(more than 8388608 bytes\)",
}
FEED_FAULTS: dict[str, str] = {
    "billion_laughs": r"declares XML entities",
    "billion_laughs_utf32": r"declares XML entities",
    "quadratic_blowup": r"declares XML entities",
    "quadratic_blowup_ebcdic": r"declares XML entities",
    "xxe_file": r"declares XML entities",
    "xxe_http": r"declares XML entities",
    "xxe_parameter": r"declares XML entities",
    "external_dtd": READ,  # no entity declared: read without ever fetching the DTD
}


def test_every_fault_is_covered() -> None:
    assert set(JSON_FAULTS) | set(FEED_FAULTS) == set(FAULTS)


@pytest.fixture
def servers() -> Iterator[tuple[FaultServer, LoopbackServer]]:
    faulty, healthy = FaultServer().start(), LoopbackServer().start()
    yield faulty, healthy
    faulty.stop()
    healthy.stop()


def cycle(store: Store) -> object:
    async def go() -> object:
        async with HttpClient(timeout=CLIENT_TIMEOUT, max_bytes=MAX_BYTES) as http:
            return await poll_once(store, http=http)

    return asyncio.run(go())


def state(store: Store, pid: str) -> tuple[str | None, str | None, int, str | None]:
    row = store.get_provider(pid)
    assert row is not None
    return row["snapshot_hash"], row["status"], row["reachable"], row["last_error"]


@pytest.mark.slow
def test_faults_are_recorded_with_reasons_and_nothing_else_suffers(
        tmp_path: Path, servers: tuple[FaultServer, LoopbackServer]) -> None:
    faulty, healthy = servers
    store = open_store(tmp_path / "up.db")
    # The healthy page lives on another server: another host as far as the client's caps go.
    healthy.set(SUMMARY, GOOD_JSON)
    store.add_provider("healthy", name="Healthy", url=healthy.url(), platform="statuspage")
    for name in JSON_FAULTS:
        faulty.set(f"/p/{name}{SUMMARY}", GOOD_JSON)
        store.add_provider(f"json-{name}", name=name, url=faulty.url(f"/p/{name}"), platform="statuspage")
    for name in FEED_FAULTS:
        faulty.set(f"/f/{name}.xml", GOOD_FEED, content_type="application/rss+xml")
        store.add_provider(f"feed-{name}", name=name, url=faulty.url(f"/f/{name}.xml"), platform="feed")

    first = cycle(store)
    assert first.unreachable == [] and first.polled == len(FAULTS) + 1  # type: ignore[attr-defined]
    before = {row["id"]: state(store, row["id"]) for row in store.providers()}
    seq_before = max(e.seq or 0 for e in store.events())

    healthy.set(SUMMARY, (SP / "acme-2-incident-investigating.json").read_bytes())
    healthy.set("/api/v2/incidents.json", (SP / "acme-incidents.json").read_bytes())
    for name in JSON_FAULTS:
        faulty.fault(f"/p/{name}{SUMMARY}", name, body=GOOD_JSON, needle=b'"REST API"', retry_after="7200")
    for name in FEED_FAULTS:
        faulty.fault(f"/f/{name}.xml", name)

    started = time.perf_counter()
    with RssSampler() as memory:
        report = cycle(store)
    seconds = time.perf_counter() - started
    print(f"fault cycle: {len(FAULTS)} faults + 1 healthy page in {seconds:.1f}s, "
          f"memory +{memory.growth / 2**20:.0f} MB")

    assert report.polled == len(FAULTS) + 1  # type: ignore[attr-defined]
    assert seconds < CYCLE_SECONDS, f"fault cycle took {seconds:.1f}s"
    assert memory.growth < MEMORY_BOUND, f"memory grew by {memory.growth / 2**20:.0f} MB"

    new_events = store.events(since_seq=seq_before)
    by_provider: dict[str, list[str]] = {}
    for ev in new_events:
        by_provider.setdefault(ev.provider, []).append(ev.kind.value)

    # The healthy page's changes are all there, in the same cycle.
    assert by_provider.pop("healthy") == ["provider.status_changed", "component.status_changed",
                                          "incident.opened"]

    problems = []
    for prefix, faults in (("json", JSON_FAULTS), ("feed", FEED_FAULTS)):
        for name, expected in faults.items():
            pid = f"{prefix}-{name}"
            snap_hash, status, reachable, error = state(store, pid)
            kinds = by_provider.get(pid, [])
            if expected in (ACCEPTED, READ):
                if not reachable or "provider.unreachable" in kinds:
                    problems.append(f"{pid}: expected the body to be read, got {error!r}")
                if expected == ACCEPTED and kinds:
                    problems.append(f"{pid}: the same page gave events {kinds}")
                if expected == ACCEPTED and name != "invalid_utf8" and snap_hash != before[pid][0]:
                    problems.append(f"{pid}: the same page read differently")
                continue
            if kinds != ["provider.unreachable"]:
                problems.append(f"{pid}: events {kinds}, expected one provider.unreachable")
            if reachable or not error or not re.search(expected, error):
                problems.append(f"{pid}: reason {error!r} does not match {expected!r}")
            if (snap_hash, status) != before[pid][:2]:
                problems.append(f"{pid}: the last known state was not kept")
    assert not problems, "\n".join(problems)

    # Retry-After is honoured: the rate-limited page is left alone for the two hours it asked,
    # while a plain 503 only backs off from its interval.
    asked = store.get_provider("json-http_429")["next_due_at"] - time.time()
    backoff = store.get_provider("json-http_503")["next_due_at"] - time.time()
    assert 7000 < asked <= 7200 and backoff < 1000, (asked, backoff)

    # The reason is in the event too, and is one short line.
    for ev in new_events:
        if ev.kind.value == "provider.unreachable":
            reason = (ev.detail or {}).get("reason", "")
            assert reason and "\n" not in reason and len(reason) <= 300, (ev.provider, reason)

    # Odd-but-readable bodies: the broken bytes become U+FFFD inside the one name they were in.
    snap = store.snapshot("json-invalid_utf8")
    assert snap is not None
    assert [c.name for c in snap.components if "\ufffd" in c.name] and len(snap.components) == 4

    # No hostile document ever made us fetch what it pointed at.
    assert faulty.hit_count(LEAK_PATH) == 0 and faulty.hit_count(DTD_PATH) == 0
    leaked = json.dumps([store.get_provider(f"feed-{n}")["snapshot"] for n in FEED_FAULTS])
    assert "root:" not in leaked

    # A later healthy cycle brings every faulty page back, with one provider.recovered each.
    for name in JSON_FAULTS:
        faulty.set(f"/p/{name}{SUMMARY}", GOOD_JSON)
    for name in FEED_FAULTS:
        faulty.set(f"/f/{name}.xml", GOOD_FEED, content_type="application/rss+xml")
    seq_fault = max(e.seq or 0 for e in store.events())
    assert cycle(store).unreachable == []  # type: ignore[attr-defined]
    recovered = sorted(e.provider for e in store.events(since_seq=seq_fault) if e.kind.value == "provider.recovered")
    failed = sorted(f"{p}-{n}" for p, faults in (("json", JSON_FAULTS), ("feed", FEED_FAULTS))
                    for n, want in faults.items() if want not in (ACCEPTED, READ))
    assert recovered == failed
    store.close()


def test_fault_server_hangs_end_when_it_stops() -> None:
    """A stalled handler must not keep a test's teardown waiting."""
    server = FaultServer().start()
    server.fault("/slow", "timeout", hold=60)

    async def fetch() -> object:
        async with HttpClient(timeout=0.3) as http:
            return await http.fetch(server.url("/slow"))

    result = asyncio.run(fetch())
    assert "timed out" in (result.error or "")  # type: ignore[attr-defined]
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("transport", ["native", "httpx"])
def test_bombs_and_huge_bodies_stop_at_the_cap_on_every_client_path(transport: str) -> None:
    """Both ways HttpClient reads a body (its own aiohttp path, and any httpx transport plugged
    in) stop a bomb at the cap: httpx's decoders alone inflated a stacked gzip bomb to 1 GiB."""
    import gzip

    import httpx

    server = FaultServer().start()
    for name in ("gzip_bomb", "double_gzip_bomb", "huge_chunked"):
        server.fault(f"/{name}", name)
    server.set("/gzipped", gzip.compress(GOOD_JSON), headers={"Content-Encoding": "gzip"})

    async def fetch_all() -> dict[str, object]:
        plugged = httpx.AsyncHTTPTransport() if transport == "httpx" else None
        async with HttpClient(timeout=CLIENT_TIMEOUT, max_bytes=MAX_BYTES, transport=plugged) as http:
            paths = ["/gzip_bomb", "/double_gzip_bomb", "/huge_chunked", "/gzipped"]
            results = await asyncio.gather(*(http.fetch(server.url(p)) for p in paths))
            return dict(zip(paths, results, strict=True))

    try:
        started = time.perf_counter()
        with RssSampler() as memory:
            results = asyncio.run(fetch_all())
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    for path in ("/gzip_bomb", "/double_gzip_bomb", "/huge_chunked"):
        assert "body too large" in (results[path].error or ""), (path, results[path])  # type: ignore[attr-defined]
    assert results["/gzipped"].body == GOOD_JSON  # type: ignore[attr-defined]
    assert seconds < 5 and memory.growth < MEMORY_BOUND, (seconds, memory.growth / 2**20)
