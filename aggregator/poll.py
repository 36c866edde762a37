"""Polling: fetch each provider's endpoints (conditionally), parse, and hand the outcome to the store.

The fetch + parse of many providers runs concurrently on one event loop; the single writer (the
caller's ``Store``) applies outcomes in batches, each provider in a savepoint of its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aggregator.diff import vanished_notices
from aggregator.http import FetchResult, HttpClient
from aggregator.model import Event, EventKind, Snapshot
from aggregator.store import PollOutcome, Store
from providers.base import Adapter, AdapterError, Endpoint, get_adapter


@dataclass
class PollReport:
    polled: int = 0
    changed: int = 0
    unchanged: int = 0
    unreachable: list[tuple[str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"polled {self.polled}, changed {self.changed}, unchanged {self.unchanged}, "
                f"unreachable {len(self.unreachable)}, events {len(self.events)} in {self.seconds:.2f}s")


_ADAPTERS: dict[str, Adapter] = {}


def adapter_for(platform: str) -> Adapter:
    adapter = _ADAPTERS.get(platform)
    if adapter is None:
        adapter = _ADAPTERS[platform] = get_adapter(platform)
    return adapter


async def _fetch_all(http: HttpClient, endpoints: list[Endpoint], state: dict[str, Any],
                     conditional: bool) -> dict[str, FetchResult]:
    async def one(ep: Endpoint) -> tuple[str, FetchResult]:
        known = state.get(ep.key, {}) if conditional else {}
        same_url = known.get("url") == ep.url
        return ep.key, await http.fetch(ep.url, accept=ep.accept,
                                        etag=known.get("etag") if same_url else None,
                                        last_modified=known.get("last_modified") if same_url else None)

    return dict(await asyncio.gather(*(one(ep) for ep in endpoints)))


async def poll_provider(row: dict[str, Any], http: HttpClient, previous: Callable[[], Snapshot | None],
                        now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> PollOutcome:
    """Fetch and parse one provider. ``previous`` loads its stored snapshot only when needed."""
    import orjson

    provider = row["id"]
    state: dict[str, Any] = orjson.loads(row["fetch_state"]) if row.get("fetch_state") else {}
    try:
        adapter = adapter_for(row["platform"])
        endpoints = adapter.endpoints(row["url"])
    except (KeyError, AdapterError, ValueError) as exc:
        return PollOutcome(provider, now(), error=getattr(exc, "reason", None) or str(exc).strip("'\""))

    results = await _fetch_all(http, endpoints, state, conditional=True)
    observed_at = now()
    failure = _first_failure(endpoints, results)
    if failure:
        return PollOutcome(provider, observed_at, error=failure, fetch_state=state)

    new_state = {key: _endpoint_state(ep, results[ep.key], state.get(ep.key)) for ep in endpoints
                 for key in [ep.key] if results[ep.key].ok or results[ep.key].not_modified}
    unchanged = all(
        results[ep.key].not_modified or (results[ep.key].ok and state.get(ep.key, {}).get("hash")
                                         == results[ep.key].body_hash)
        for ep in endpoints if ep.key in new_state)
    if unchanged and state:
        return PollOutcome(provider, observed_at, not_modified=True, fetch_state=new_state)

    # Something changed: bodies of endpoints that answered 304 must be fetched again to parse.
    stale = [ep for ep in endpoints if results[ep.key].not_modified]
    if stale:
        results.update(await _fetch_all(http, stale, state, conditional=False))
        failure = _first_failure(stale, results)
        if failure:
            return PollOutcome(provider, observed_at, error=failure, fetch_state=state)
    bodies = {ep.key: results[ep.key].body for ep in endpoints if results[ep.key].ok}
    try:
        snapshot = adapter.parse(bodies, row["url"])
    except AdapterError as exc:
        return PollOutcome(provider, observed_at, error=exc.reason, fetch_state=state)

    history = {}
    gone = vanished_notices(previous(), snapshot)
    if gone:
        history = await _history(adapter, http, row["url"], {n.id for n in gone})
    return PollOutcome(provider, observed_at, snapshot=snapshot, fetch_state=new_state, history=history)


async def _history(adapter: Adapter, http: HttpClient, url: str, wanted: set[str]) -> dict[str, Any]:
    """How vanished incidents ended, from the platform's history endpoints (best effort)."""
    endpoints = adapter.history_endpoints(url)
    if not endpoints:
        return {}
    results = await _fetch_all(http, endpoints, {}, conditional=False)
    bodies = {ep.key: r.body for ep in endpoints if (r := results[ep.key]).ok}
    if not bodies:
        return {}
    try:
        notices = adapter.parse_history(bodies, url)
    except AdapterError:
        return {}
    return {n.id: n for n in notices if n.id in wanted}


def _first_failure(endpoints: list[Endpoint], results: dict[str, FetchResult]) -> str | None:
    for ep in endpoints:
        r = results[ep.key]
        if ep.required and not (r.ok or r.not_modified):
            return f"{ep.url}: {r.error or f'HTTP {r.status}'}"
    return None


def _endpoint_state(ep: Endpoint, result: FetchResult, known: dict[str, Any] | None) -> dict[str, Any]:
    if result.not_modified and known:
        return {**known, "etag": result.etag or known.get("etag"),
                "last_modified": result.last_modified or known.get("last_modified")}
    return {"url": ep.url, "etag": result.etag, "last_modified": result.last_modified, "hash": result.body_hash}


async def poll_once(store: Store, ids: Iterable[str] | None = None, *, http: HttpClient | None = None,
                    on_done: Callable[[PollOutcome, list[Event]], None] | None = None,
                    batch_size: int = 50, batch_seconds: float = 0.5) -> PollReport:
    """Poll the given (default: all followed) providers once, applying results as they arrive."""
    started = time.perf_counter()
    rows = store.providers(ids)
    report = PollReport()
    own_http = http is None
    client = http or HttpClient()
    pending: list[PollOutcome] = []
    last_flush = time.perf_counter()

    def flush() -> None:
        nonlocal last_flush
        if not pending:
            return
        events = store.apply_many(pending)
        by_provider: dict[str, list[Event]] = {}
        for ev in events:
            by_provider.setdefault(ev.provider, []).append(ev)
        for outcome in pending:
            mine = by_provider.get(outcome.provider, [])
            _count(report, outcome, mine)
            if on_done:
                on_done(outcome, mine)
        report.events.extend(events)
        pending.clear()
        last_flush = time.perf_counter()

    try:
        tasks = [asyncio.create_task(poll_provider(row, client, lambda pid=row["id"]: store.snapshot(pid)))
                 for row in rows]
        for task in asyncio.as_completed(tasks):
            pending.append(await task)
            if len(pending) >= batch_size or time.perf_counter() - last_flush > batch_seconds:
                flush()
        flush()
    finally:
        if own_http:
            await client.aclose()
    report.seconds = time.perf_counter() - started
    return report


def _count(report: PollReport, outcome: PollOutcome, events: list[Event]) -> None:
    report.polled += 1
    if outcome.error:
        report.unreachable.append((outcome.provider, outcome.error))
    elif outcome.not_modified or not [e for e in events if e.kind != EventKind.provider_recovered]:
        report.unchanged += 1
    else:
        report.changed += 1
