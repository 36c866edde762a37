"""One provider's poll: conditional GETs of its endpoints, the body hash, parse only what changed,
history lookups for notices that left the page, and its next-due time.

The same ``poll_provider`` runs in the parent's loop and in every worker process
(``aggregator.poll.workers``); ``aggregator.poll.runner`` decides where each poll runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from aggregator.adapters import adapter_for
from aggregator.errors import AdapterError
from aggregator.http import FetchResult, HttpClient
from aggregator.page.adapter import Adapter, Endpoint
from aggregator.page.serialize import ParsedPage
from aggregator.poll.plan import ParseJob, parse_page
from aggregator.poll.schedule import Clock, PollSettings, Verdict, next_poll, wall_clock
from aggregator.store.writer import PollOutcome


async def _fetch_all(http: HttpClient, endpoints: list[Endpoint], state: dict[str, Any],
                     conditional: bool) -> dict[str, FetchResult]:
    async def one(ep: Endpoint) -> tuple[str, FetchResult]:
        known = state.get(ep.key, {}) if conditional else {}
        same_url = known.get("url") == ep.url
        return ep.key, await http.fetch(ep.url, accept=ep.accept,
                                        etag=known.get("etag") if same_url else None,
                                        last_modified=known.get("last_modified") if same_url else None)

    if len(endpoints) == 1:  # the common case, without gather's tasks
        ep = endpoints[0]
        known = state.get(ep.key, {}) if conditional else {}
        if known.get("url") != ep.url:
            known = {}
        return {ep.key: await http.fetch(ep.url, accept=ep.accept, etag=known.get("etag"),
                                         last_modified=known.get("last_modified"))}
    return dict(await asyncio.gather(*(one(ep) for ep in endpoints)))


def _verdict(ok: bool, results: Iterable[FetchResult], now: float) -> Verdict:
    retry_after = fresh_for = None
    for r in results:
        if not ok and r.status in {429, 503}:
            after = r.retry_after(now)
            if after is not None:
                retry_after = max(retry_after or 0.0, after)
        if ok and (r.ok or r.not_modified):
            fresh = r.fresh_for(now)
            if fresh is not None:
                fresh_for = fresh if fresh_for is None else min(fresh_for, fresh)
    return Verdict(ok=ok, retry_after=retry_after, fresh_for=fresh_for)


async def poll_provider(row: dict[str, Any], http: HttpClient, open_notices: Callable[[], set[str]], *,
                        settings: PollSettings | None = None, clock: Clock = wall_clock,
                        rng: random.Random | None = None) -> PollOutcome:
    """Fetch one provider and, only if its page changed, parse it.

    ``open_notices`` gives the ids of the provider's stored open incidents and maintenances; it is
    called only for a changed page, to look up how notices that left the page ended.
    """
    return (await _poll_timed(row, http, open_notices, settings or PollSettings(), clock, rng))[0]


async def _poll_timed(row: dict[str, Any], http: HttpClient, open_notices: Callable[[], set[str]],
                      settings: PollSettings, clock: Clock, rng: random.Random | None) -> tuple[PollOutcome, float | None]:
    """``poll_provider``, and when its first request was sent (``time.perf_counter``; None: none was)."""
    rng = rng or _JITTER
    outcome, results = await _poll(row, http, open_notices, clock)
    now = clock()
    interval = settings.interval_for(row.get("platform"), row.get("interval"))
    outcome.next_due_at, outcome.failures = next_poll(
        now, interval, row.get("failures") or 0, _verdict(outcome.error is None, results, now), settings, rng)
    sent = [r.sent_at for r in results if r.sent_at is not None]
    return outcome, min(sent) if sent else None


INTERNAL_ERROR = "internal error while polling"
_JITTER = random.Random()  # seeding a generator per poll reads the system's entropy source each time


async def poll_or_internal_error(row: dict[str, Any], http: HttpClient, open_notices: Callable[[], set[str]],
                                 settings: PollSettings, clock: Clock = wall_clock,
                                 rng: random.Random | None = None) -> tuple[PollOutcome, float | None]:
    """``poll_provider`` (and when its first request was sent), where a bug (any exception but
    cancellation) becomes this provider's outcome: an error that leaves its state alone and
    schedules it as a failure."""
    try:
        return await _poll_timed(row, http, open_notices, settings, clock, rng)
    except Exception as exc:  # noqa: BLE001 - a bug in one adapter must not stop the others
        now = clock()
        interval = settings.interval_for(row.get("platform"), row.get("interval"))
        due, failures = next_poll(now, interval, row.get("failures") or 0, Verdict(ok=False), settings,
                                  rng or _JITTER)
        return PollOutcome(row["id"], datetime.fromtimestamp(now, UTC),
                           error=f"{INTERNAL_ERROR} ({type(exc).__name__}: {exc})"[:300],
                           next_due_at=due, failures=failures), None


_ENDPOINTS: dict[tuple[str, str], list[Endpoint]] = {}


def _endpoints(adapter: Adapter, url: str) -> list[Endpoint]:
    """``adapter.endpoints(url)``, remembered: the same providers come back every cycle."""
    key = (adapter.platform, url)
    found = _ENDPOINTS.get(key)
    if found is None:
        found = adapter.endpoints(url)
        if len(_ENDPOINTS) < 100_000:
            _ENDPOINTS[key] = found
    return found


def _at(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


async def _poll(row: dict[str, Any], http: HttpClient, open_notices: Callable[[], set[str]],
                clock: Clock) -> tuple[PollOutcome, list[FetchResult]]:
    provider = row["id"]
    raw_state = row.get("fetch_state")
    state: dict[str, Any] = orjson.loads(raw_state) if raw_state else {}
    try:
        adapter = adapter_for(row["platform"])
        endpoints = _endpoints(adapter, row["url"])
    except (KeyError, AdapterError, ValueError) as exc:
        return PollOutcome(provider, _at(clock), error=getattr(exc, "reason", None) or str(exc).strip("'\"")), []

    results = await _fetch_all(http, endpoints, state, conditional=True)
    if type(adapter).more_endpoints is not Adapter.more_endpoints:
        endpoints = await _follow_pages(adapter, http, row["url"], endpoints, results, state)
    observed_at = _at(clock)

    def done(outcome: PollOutcome) -> tuple[PollOutcome, list[FetchResult]]:
        return outcome, list(results.values())

    failure = _first_failure(endpoints, results)
    if failure:
        return done(PollOutcome(provider, observed_at, error=failure))

    new_state = {ep.key: _endpoint_state(ep, results[ep.key], state.get(ep.key)) for ep in endpoints
                 if results[ep.key].ok or results[ep.key].not_modified}
    unchanged = all(
        results[ep.key].not_modified or state.get(ep.key, {}).get("hash") == results[ep.key].body_hash
        for ep in endpoints if ep.key in new_state)
    if unchanged and state:
        # Nothing to parse or diff; the validators are rewritten only if the server changed them.
        outcome = PollOutcome(provider, observed_at, not_modified=True,
                              fetch_state=new_state if new_state != state else None)
        await _vendor_uptime(adapter, http, row, outcome)
        return done(outcome)

    # Something changed: bodies of endpoints that answered 304 must be fetched again to parse.
    stale = [ep for ep in endpoints if results[ep.key].not_modified]
    if stale:
        results.update(await _fetch_all(http, stale, state, conditional=False))
        failure = _first_failure(stale, results)
        if failure:
            return done(PollOutcome(provider, observed_at, error=failure))
    bodies = {ep.key: results[ep.key].body for ep in endpoints if results[ep.key].ok}
    stored = row.get("snapshot_hash") or "snapshot_hash" not in row
    job = ParseJob(row["platform"], bodies, row["url"], provider, observed_at, first_sight=not row.get("snapshot_hash"))
    page = parse_here(job)
    if isinstance(page, str):
        # The validators are not kept: the next poll fetches and parses the page again.
        return done(PollOutcome(provider, observed_at, error=page))

    history: dict[str, Any] = {}
    backfill: list[Any] | None = None
    # A provider never stored has no open notices: no need to ask the database (a cold start).
    gone = open_notices() - page.notice_ids if stored else set()
    if gone or job.first_sight:
        # First sight: the platform's history is backfilled (stored, never notified). Later, a
        # notice that left the page is looked up there, and what else it lists is updated.
        backfill = await _history_notices(adapter, http, row["url"])
        history = {n.id: n for n in backfill or () if n.id in gone}
    outcome = PollOutcome(provider, observed_at, snapshot=page.snapshot, page=page, fetch_state=new_state,
                          history=history, backfill=backfill)
    await _vendor_uptime(adapter, http, row, outcome)
    return done(outcome)


# At most this many further pages are fetched for one provider (a bound on what one page can ask for).
MAX_FOLLOWED_PAGES = 20


async def _follow_pages(adapter: Adapter, http: HttpClient, url: str, endpoints: list[Endpoint],
                        results: dict[str, FetchResult], state: dict[str, Any]) -> list[Endpoint]:
    """``endpoints`` and the further pages their bodies call for (``Adapter.more_endpoints``),
    fetched into ``results``: one round, so a paginated list costs one more wait, not one per page.

    A body that answered 304 is the one the last poll read, so it calls for the same pages as then:
    those are the followed keys kept in ``state``. Followed pages are required like the first one:
    a snapshot missing a page would report its components removed."""
    bodies = {ep.key: results[ep.key].body for ep in endpoints if results[ep.key].ok}
    try:  # guarded like build: whatever goes wrong is an AdapterError
        more = adapter._guarded(adapter.more_endpoints, bodies, url)
    except AdapterError:
        more = []  # the body itself is unreadable: parsing says so, with its own reason
    wanted = {ep.key: ep for ep in more if ep.key in adapter.keys}
    base_keys = {ep.key for ep in endpoints}
    if any(results[ep.key].not_modified for ep in endpoints):
        for key, known in state.items():
            if key not in base_keys and key not in wanted and key in adapter.keys and known.get("url"):
                wanted[key] = Endpoint(key, known["url"])
    followed = [ep for key, ep in wanted.items() if key not in base_keys][:MAX_FOLLOWED_PAGES]
    if not followed:
        return endpoints
    results.update(await _fetch_all(http, followed, state, conditional=True))
    return [*endpoints, *followed]


def parse_here(job: ParseJob) -> ParsedPage | str:
    """Parse in this process: the page, or the reason it could not be parsed."""
    try:
        return parse_page(job)
    except AdapterError as exc:
        return exc.reason


async def _history_notices(adapter: Adapter, http: HttpClient, url: str) -> list[Any] | None:
    """Every past incident and maintenance the platform's history endpoints list; None where it
    has none or they cannot be fetched or read (best effort: the page still follows normally)."""
    endpoints = adapter.history_endpoints(url)
    if not endpoints:
        return None
    try:
        results = await _fetch_all(http, endpoints, {}, conditional=False)
    except Exception:  # noqa: BLE001 - best effort: the page itself was read and still follows
        return None
    bodies = {ep.key: r.body for ep in endpoints if (r := results[ep.key]).ok}
    if not bodies:
        return None
    try:
        return list(adapter.parse_history(bodies, url))
    except AdapterError:
        return None


# The vendor's own uptime bars are read when a provider is first followed and then once a day.
VENDOR_UPTIME_EVERY = 86_400.0


async def _vendor_uptime(adapter: Adapter, http: HttpClient, row: dict[str, Any], outcome: PollOutcome) -> None:
    """Read the vendor-reported uptime into ``outcome`` when it is due (best effort: a page that
    draws no bars, or cannot be fetched or read, is tried again the next day)."""
    if type(adapter).uptime_endpoints is Adapter.uptime_endpoints:
        return
    last = row.get("vendor_uptime_at")
    if last is not None and outcome.observed_at.timestamp() - last < VENDOR_UPTIME_EVERY:
        return
    endpoints = adapter.uptime_endpoints(row["url"])
    if not endpoints:
        return
    try:
        results = await _fetch_all(http, endpoints, {}, conditional=False)
    except Exception:  # noqa: BLE001 - best effort, as the history: tried again the next day
        results = {}
    bodies = {ep.key: r.body for ep in endpoints if (r := results.get(ep.key)) is not None and r.ok}
    outcome.vendor_uptime_read = True
    if not bodies:
        return
    try:
        outcome.vendor_uptime = adapter.parse_uptime(bodies, row["url"])
    except AdapterError:
        outcome.vendor_uptime = None


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


# ------------------------------------------------------------------------------------------------
# Many providers: concurrent polls, one writer
# ------------------------------------------------------------------------------------------------

_GC_SAVED: list[tuple[int, int, int] | bool] = []  # per relaxed_gc() level: (saved threshold, froze)



@contextlib.contextmanager
def relaxed_gc(threshold: int = 20_000) -> Iterator[None]:
    """Fewer and cheaper passes of the cyclic garbage collector while polling.

    A poll allocates many short-lived objects (requests, responses, tasks, parsed pages) and few
    reference cycles; with CPython's default threshold (700 allocations) the collector ran some
    300 times per 5,000 polls, and each full pass walked every object of the process (modules,
    pydantic schemas, aiohttp): ~20% of a warm cycle's CPU. Objects alive on entry are frozen
    (left out of every pass) and unfrozen on exit, so nothing is kept from collection for good.
    Nested or overlapping uses (two pollers) restore the collector when the last one ends.
    """
    if not _GC_SAVED:
        old = gc.get_threshold()
        if not gc.isenabled() or old[0] == 0:  # the application turned the collector off: leave it
            yield
            return
        froze = gc.get_freeze_count() == 0  # not if the application manages frozen objects itself
        if froze:
            gc.freeze()
        gc.set_threshold(max(old[0], threshold), old[1], old[2])
        _GC_SAVED.extend((old, froze))
    else:
        _GC_SAVED.extend((False, False))  # a level that restores nothing
    try:
        yield
    finally:
        froze = _GC_SAVED.pop()
        saved = _GC_SAVED.pop()
        if not _GC_SAVED:
            if isinstance(saved, tuple):
                gc.set_threshold(*saved)
            if froze:
                gc.unfreeze()


def client_for(settings: PollSettings) -> HttpClient:
    return HttpClient(timeout=settings.timeout, max_connections=settings.concurrency, per_host=settings.per_host)
