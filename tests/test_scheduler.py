"""The scheduler with a fake clock: intervals, jitter, Retry-After, Cache-Control, backoff, caps."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from aggregator.config import load_settings, settings_from
from aggregator.core import open_store
from aggregator.errors import ConfigError
from aggregator.http import HttpClient, cache_lifetime, host_key
from aggregator.poll.runner import poll_once
from aggregator.poll.schedule import PollSettings, Verdict, next_poll
from aggregator.store.writer import Store
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer

NOW = 1_800_000_000.0
OK = Verdict(ok=True)
FAIL = Verdict(ok=False)


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_interval_comes_from_provider_then_platform_then_default() -> None:
    settings = PollSettings(interval=60, platforms={"feed": 300})
    assert settings.interval_for("statuspage") == 60
    assert settings.interval_for("feed") == 300
    assert settings.interval_for("feed", own=30) == 30
    assert settings.scaled(0.1).interval_for("feed") == pytest.approx(30)


def test_jitter_stays_within_bounds_and_spreads() -> None:
    settings = PollSettings(interval=60, jitter=0.1)
    rng = random.Random(7)
    delays = [next_poll(NOW, 60, 0, OK, settings, rng)[0] - NOW for _ in range(2000)]
    assert min(delays) >= 54 and max(delays) <= 66
    assert max(delays) - min(delays) > 10  # really spread, not a constant
    assert len({round(d, 3) for d in delays}) > 1000
    exact = PollSettings(interval=60, jitter=0.0)
    assert next_poll(NOW, 60, 0, OK, exact, rng) == (NOW + 60, 0)


def test_backoff_doubles_up_to_the_cap_and_recovers_at_once() -> None:
    settings = PollSettings(jitter=0.0, max_backoff=600)
    rng = random.Random(1)
    failures = 0
    delays = []
    for _ in range(8):
        due, failures = next_poll(NOW, 60, failures, FAIL, settings, rng)
        delays.append(due - NOW)
    assert delays == [120, 240, 480, 600, 600, 600, 600, 600]
    assert failures == 8
    due, failures = next_poll(NOW, 60, failures, OK, settings, rng)
    assert (due - NOW, failures) == (60, 0)
    # Months of failures do not overflow.
    assert next_poll(NOW, 60, 10_000, FAIL, settings, rng) == (NOW + 600, 10_001)


def test_retry_after_is_a_floor_jitter_never_undercuts() -> None:
    settings = PollSettings(jitter=0.5, max_backoff=3600, max_retry_after=7200)
    rng = random.Random(3)
    for _ in range(200):
        due, failures = next_poll(NOW, 60, 0, Verdict(ok=False, retry_after=1000), settings, rng)
        assert due - NOW >= 1000 and failures == 1
    # A hostile Retry-After is capped.
    due, _ = next_poll(NOW, 60, 0, Verdict(ok=False, retry_after=10**9), PollSettings(jitter=0), rng)
    assert due - NOW == PollSettings().max_retry_after


def test_cache_lifetime_longer_than_the_interval_pushes_the_poll_out_capped() -> None:
    settings = PollSettings(jitter=0.0, max_cache_delay=900)
    rng = random.Random(0)
    assert next_poll(NOW, 60, 0, Verdict(ok=True, fresh_for=300), settings, rng)[0] - NOW == 300
    assert next_poll(NOW, 60, 0, Verdict(ok=True, fresh_for=10), settings, rng)[0] - NOW == 60
    assert next_poll(NOW, 60, 0, Verdict(ok=True, fresh_for=86400), settings, rng)[0] - NOW == 900
    assert cache_lifetime({"cache-control": "public, max-age=300"}) == 300
    assert cache_lifetime({"cache-control": "max-age=0, private, must-revalidate"}) == 0
    assert cache_lifetime({"cache-control": "no-cache", "expires": "Thu, 01 Jan 2099 00:00:00 GMT"}) == 0
    assert cache_lifetime({"expires": "Wed, 21 Oct 2026 07:28:00 GMT",
                           "date": "Wed, 21 Oct 2026 07:18:00 GMT"}) == 600
    assert cache_lifetime({"expires": "0"}) == 0
    assert cache_lifetime({}) is None


def test_config_file_keys_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_CONFIG_DIR", str(tmp_path))
    assert load_settings() == PollSettings()  # no file: defaults
    (tmp_path / "config.toml").write_text(
        "[poll]\ninterval = 120\njitter = 0.2\nconcurrency = 32\nper_host = 2\nmax_backoff = 1800\n"
        "[poll.platforms]\nfeed = 600\n")
    settings = load_settings()
    assert (settings.interval, settings.jitter, settings.concurrency, settings.per_host) == (120, 0.2, 32, 2)
    assert settings.interval_for("feed") == 600 and settings.max_backoff == 1800
    for bad, message in (({"poll": {"intervall": 60}}, "unknown key poll.intervall"),
                         ({"poll": {"interval": 1}}, "at least 5"),
                         ({"poll": {"jitter": 1.5}}, "fraction"),
                         ({"poll": {"platforms": {"feed": "often"}}}, "must be a number")):
        with pytest.raises(ConfigError, match=message):
            settings_from(bad)
    (tmp_path / "config.toml").write_text("[poll\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


# --- through a real poll ------------------------------------------------------------------------

def _store_with(tmp_path: Path, url: str) -> Store:
    store = open_store(tmp_path / "up.db")
    store.add_provider("acme", name="Acme", url=url, platform="statuspage")
    return store


def test_poll_sets_next_due_from_interval_retry_after_backoff_and_recovery(tmp_path: Path) -> None:
    clock = FakeClock()
    settings = PollSettings(interval=60, jitter=0.0, max_backoff=3600)
    with LoopbackServer() as page, _store_with(tmp_path, page.url()) as store:
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")

        def poll() -> dict:
            asyncio.run(poll_once(store, settings=settings, clock=clock))
            return store.get_provider("acme")

        row = poll()
        assert (row["next_due_at"], row["failures"]) == (NOW + 60, 0)
        page.set("/api/v2/summary.json", "<html><title>busy</title></html>", status=503,
                 content_type="text/html", headers={"Retry-After": "900"})
        clock.advance(60)
        row = poll()
        assert (row["next_due_at"], row["failures"]) == (clock.now + 900, 1)  # Retry-After beats 2 x 60
        page.set("/api/v2/summary.json", "oops", status=500, content_type="text/html")
        clock.advance(900)
        row = poll()
        assert (row["next_due_at"], row["failures"]) == (clock.now + 240, 2)  # backoff: 60 x 2^2
        assert row["reachable"] == 0
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json",
                      headers={"Cache-Control": "max-age=120"})
        clock.advance(240)
        row = poll()
        assert (row["next_due_at"], row["failures"], row["reachable"]) == (clock.now + 120, 0, 1)
        # Due selection follows next_due_at with the same clock.
        assert store.poll_rows(due_at=clock.now + 119) == []
        assert [r["id"] for r in store.poll_rows(due_at=clock.now + 120)] == ["acme"]


def test_unchanged_page_is_not_parsed_or_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aggregator import adapters as poll_module

    with LoopbackServer() as page, _store_with(tmp_path, page.url()) as store:
        # No validators: the body comes back whole each time and its hash says it is the same.
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json", etag=False)
        asyncio.run(poll_once(store))
        before = store.get_provider("acme")
        parsed: list[str] = []
        real = poll_module.adapter_for("statuspage").parse
        monkeypatch.setattr(poll_module.adapter_for("statuspage"), "parse",
                            lambda *a, **k: parsed.append("x") or real(*a, **k))
        report = asyncio.run(poll_once(store))
        after = store.get_provider("acme")
        assert parsed == [] and report.unchanged == 1 and report.events == []
        assert after["snapshot"] == before["snapshot"] and after["fetch_state"] == before["fetch_state"]


class _Concurrency:
    """A handler that records how many requests a server is answering at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
        body = b"{}"
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def test_per_host_and_overall_caps() -> None:
    busy, other = _Concurrency(), _Concurrency()
    with LoopbackServer() as a, LoopbackServer() as b:
        a.set("/x", handler=busy)
        b.set("/x", handler=other)
        assert host_key(a.url("/x")) == f"127.0.0.1:{a.port}" != host_key(b.url("/x"))

        async def go(per_host: int, overall: int) -> list[str | None]:
            async with HttpClient(per_host=per_host, max_connections=overall) as http:
                urls = [a.url(f"/x?{i}") for i in range(12)] + [b.url(f"/x?{i}") for i in range(4)]
                results = await asyncio.gather(*(http.fetch(u) for u in urls))
                return [r.error for r in results]

        assert asyncio.run(go(per_host=2, overall=16)) == [None] * 16
        assert busy.peak == 2 and other.peak == 2  # host:port each capped; b was not starved by a
        busy.peak = other.peak = 0
        assert asyncio.run(go(per_host=8, overall=3)) == [None] * 16
        assert busy.peak + other.peak <= 6 and max(busy.peak, other.peak) <= 3


def test_a_provider_is_never_polled_twice_before_its_outcome_is_written(tmp_path: Path) -> None:
    from aggregator.poll.runner import Poller

    with LoopbackServer() as page, _store_with(tmp_path, page.url()) as store:
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")

        async def go() -> tuple[int, int, int, int]:
            async with HttpClient() as http:
                poller = Poller(store, http, batch_size=100, batch_seconds=60)
                rows = store.poll_rows(due_at=time.time())
                first = poller.start(rows)
                while poller.in_flight:
                    await poller.wait(1.0)
                # Finished but not written: the database still says "due", the poller says "busy".
                assert [o.provider for o in poller.ready] == ["acme"] and poller.busy() == ["acme"]
                again = poller.start(store.poll_rows(due_at=time.time()))
                events = await poller.flush()
                later = poller.start(store.poll_rows(due_at=time.time()))
                await poller.close()
                return first, again, len(events), later

        assert asyncio.run(go()) == (1, 0, 1, 0)  # not due again once written: next_due_at moved on
        assert page.hit_count("/api/v2/summary.json") == 1
