"""Polling: fetch what is due (conditionally), parse only what changed, hand outcomes to the writer.

Fetch and parse of many providers run concurrently on one event loop, within the HTTP client's
caps (overall and per host:port); a large poll runs them in worker processes instead (one event
loop each, see ``aggregator.poll.workers``), so that every core fetches and parses. The single writer
(the caller's ``Store``, in this process) applies finished outcomes in batches: one transaction
per batch, one savepoint per provider (the first sights of a batch: one for all of them), so no
provider is ever half-applied. Each outcome carries the provider's next-due time from ``aggregator.poll.schedule``
(interval, Retry-After, Cache-Control, backoff, jitter), written in the same savepoint, so a
restart picks up exactly where the last run left off.

An unchanged page costs one conditional GET and one small UPDATE: a 304, or a body whose hash
equals the last one, is never parsed, diffed or stored again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aggregator.http import HttpClient
from aggregator.page.model import Event
from aggregator.page.vocab import EventKind
from aggregator.poll.loop import PollLoop
from aggregator.poll.provider import INTERNAL_ERROR, client_for, relaxed_gc
from aggregator.poll.schedule import Clock, PollSettings, wall_clock
from aggregator.poll.workers import OFFLOAD_MIN, START_MIN, PollWorkers, current_workers, shared_workers
from aggregator.store.reader import open_notices_of
from aggregator.store.writer import PollOutcome, Store


@dataclass(repr=False)
class PollReport:
    polled: int = 0
    changed: int = 0
    unchanged: int = 0
    unreachable: list[tuple[str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    seconds: float = 0.0
    lags: list[float] = field(default_factory=list)  # seconds each poll started after it was due
    internal_errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"polled {self.polled}, changed {self.changed}, unchanged {self.unchanged}, "
                f"unreachable {len(self.unreachable)}, events {len(self.events)} in {self.seconds:.2f}s")

    def __repr__(self) -> str:
        # Short: Python 3.11's asyncio.run formats the repr of its main task, and so of the report it
        # returns (every event of a poll: 0.1 s at 5,000 providers), when it restores SIGINT.
        return f"PollReport({self.summary()})"


class Poller:
    """Starts polls, collects their outcomes and applies them in batches through one ``Store``.

    ``start(rows)`` may be called again while polls run (the watch daemon does, each tick);
    a provider already busy is not started twice. ``flush()`` is the only writer: outcomes are
    applied in the writer thread, on a connection of its own, one batch at a time. Polls run in
    this process's ``PollLoop`` (aggregator.poll.loop) or, from ``workers_from`` polls at once, in
    the worker processes' (``remote`` then holds the rows a worker has), whose outcomes come back
    here to be written.
    """

    def __init__(self, store: Store, http: HttpClient, *, settings: PollSettings | None = None,
                 clock: Clock = wall_clock, rng: random.Random | None = None,
                 on_done: Callable[[PollOutcome, list[Event]], None] | None = None,
                 batch_size: int = 250, batch_seconds: float = 0.25, workers_from: int | None = OFFLOAD_MIN) -> None:
        self.store = store
        self.http = http
        self.settings = settings or PollSettings()
        self.clock = clock
        self.rng = rng or random.Random()
        self.on_done = on_done
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.queued: dict[str, dict[str, Any]] = {}  # accepted, not yet handed to a loop
        self.remote: dict[str, dict[str, Any]] = {}  # handed to a worker process, not yet back
        self.local = PollLoop(http, self.settings, open_notices=lambda row: self.store.open_notice_ids(row["id"]),
                              on_outcome=self._finished, clock=clock, rng=self.rng, held_back=self._writer_behind)
        self.window = self.local.window
        self.ready: list[PollOutcome] = []
        self._ready_ids: set[str] = set()
        self.report = PollReport()
        # Seconds from each poll's start to its outcome (fetch and parse; with worker processes
        # also its wait in a worker's queue), until the caller takes them (``upstream serve``).
        self.poll_seconds: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._oldest_ready = 0.0
        self._wake = asyncio.Event()
        self.writing: set[str] = set()
        self._write_store: Store | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._gc = contextlib.ExitStack()  # relaxed_gc() from the first start() until close()
        self._gc_relaxed = False
        # Worker processes (aggregator.poll.workers) once ``workers_from`` polls run at once (None:
        # never). They make their own HTTP clients and read the wall clock, so not for a caller's
        # own clock (or client: see poll_once).
        self.workers_from = workers_from if clock is wall_clock else None
        self.workers: PollWorkers | None = None
        self._workers_lost = False  # a worker died: this poller polls in its own process from then on

    @property
    def in_flight(self) -> int:
        """Polls started and not finished: in this process's loop (queued there or running) or a worker's."""
        return len(self.local) + len(self.remote)

    def pending(self) -> int:
        """Polls accepted and not finished."""
        return len(self.queued) + self.in_flight

    def start(self, rows: Iterable[dict[str, Any]]) -> int:
        """Queue the polls of ``rows`` (not those already busy: see ``busy``); returns how many."""
        if not self._gc_relaxed:
            self._gc.enter_context(relaxed_gc())
            self._gc_relaxed = True
        accepted = 0
        busy = self.busy_set()
        for row in rows:
            pid = row["id"]
            if pid in busy:
                continue
            busy.add(pid)
            self.queued[pid] = row
            self._started[pid] = time.monotonic()
            accepted += 1
        self._use_workers()
        self._launch()
        return accepted

    def _use_workers(self) -> None:
        """Hand polls to worker processes once there are enough of them at once to be worth it
        (see aggregator.poll.workers): they fetch and parse on every core while this process writes."""
        if self.workers is not None or self.workers_from is None or self.settings.poll_processes <= 0:
            return
        running = current_workers()
        # Workers already up (a daemon, or an earlier poll of this process) are worth using sooner
        # than new ones are worth starting.
        least = OFFLOAD_MIN if running is not None and running.alive else self.workers_from
        if self.pending() < least:
            return
        workers = shared_workers(self.settings)
        if workers is None:
            return
        workers.on_outcomes = self._remote_done
        workers.on_lost = self._remote_lost
        workers.attach(asyncio.get_running_loop())
        self.workers = workers

    def _writer_behind(self) -> bool:
        # Backpressure: while the writer is behind, finished outcomes (whole snapshots) would
        # pile up in memory; no new poll starts until it has caught up.
        return len(self.ready) >= 2 * self.batch_size

    def _launch(self) -> None:
        if self.queued:
            if self.workers is not None and not self._workers_lost:
                self._launch_remote()
            else:
                rows = list(self.queued.values())
                self.queued.clear()
                self.local.add(rows)
                return
        self.local.launch()

    def _launch_remote(self) -> None:
        # Each worker runs the same PollLoop with its own window; they are sent enough to stay
        # busy, and no more while the writer is behind (backpressure, as in-process).
        assert self.workers is not None
        room = self.window * 4 - len(self.remote)
        if room <= 0 or self._writer_behind():
            return
        rows = []
        while self.queued and len(rows) < room:
            pid = next(iter(self.queued))
            row = self.queued.pop(pid)
            self.remote[pid] = row
            rows.append(row)
        # The workers read no database: the open notices of each provider travel with its row (a
        # provider is never polled again before its outcome is written, so they stay current).
        notices = open_notices_of(self.store.conn, [r["id"] for r in rows if r.get("snapshot_hash")])
        self.workers.submit([{**row, "open_notices": notices.get(row["id"], ())} for row in rows])

    def _remote_done(self, outcomes: list[tuple[PollOutcome, float | None]]) -> None:
        for outcome, lag in outcomes:
            if self.remote.pop(outcome.provider, None) is None:
                continue  # cancelled here meanwhile: it stays due
            self._finished(outcome, lag)
        self._launch()

    def _remote_lost(self, rows: list[dict[str, Any]]) -> None:
        """A worker died: poll what it held in this process, and use no workers from now on."""
        self._workers_lost = True
        for row in rows:
            if self.remote.pop(row["id"], None) is not None:
                row.pop("open_notices", None)
                self.queued[row["id"]] = row
        self._launch()

    def _finished(self, outcome: PollOutcome, lag: float | None) -> None:
        if lag is not None:
            self.report.lags.append(lag)
        if outcome.error and outcome.error.startswith(INTERNAL_ERROR):
            self.report.internal_errors.append((outcome.provider, outcome.error))
        started = self._started.pop(outcome.provider, None)
        if started is not None:
            self.poll_seconds[outcome.provider] = time.monotonic() - started
        first = not self.ready
        if first:
            self._oldest_ready = time.monotonic()
        self.ready.append(outcome)
        self._ready_ids.add(outcome.provider)
        # Wake the writer's loop only when it has something new to decide: the first outcome of
        # a batch (to start the batch clock), a full batch, or the last poll done.
        if first or len(self.ready) >= self.batch_size or not self.pending():
            self._wake.set()

    def due_to_flush(self) -> bool:
        return bool(self.ready) and (len(self.ready) >= self.batch_size or not self.pending()
                                     or time.monotonic() - self._oldest_ready >= self.batch_seconds)

    def _writer(self) -> Store:
        # Writes go through a connection of their own in a thread of their own: SQLite's work
        # (most of a cold poll's cost) releases the GIL, so it overlaps fetching and parsing.
        if self._write_store is None:
            self._write_store = Store(self.store.path, self.store.subsystems[1:])
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upstream-writer")
        return self._write_store

    async def flush(self) -> list[Event]:
        """Apply every finished outcome (one transaction, in the writer thread); returns the events.

        Calls are sequential (callers await each), so there is only ever one writer."""
        if not self.ready:
            return []
        batch, self.ready = self.ready, []
        errors: list[tuple[str, str]] = []

        def failed(outcome: PollOutcome, exc: Exception) -> None:
            errors.append((outcome.provider, f"{type(exc).__name__}: {exc}"[:300]))

        writer = self._writer()
        self.writing.update(o.provider for o in batch)
        self._ready_ids.difference_update(o.provider for o in batch)
        try:
            events = await asyncio.get_running_loop().run_in_executor(self._executor, writer.apply_many, batch,
                                                                      failed)
        finally:
            self.writing.difference_update(o.provider for o in batch)
        self._launch()
        self.report.internal_errors.extend(errors)
        by_provider: dict[str, list[Event]] = {}
        for ev in events:
            by_provider.setdefault(ev.provider, []).append(ev)
        for outcome in batch:
            mine = by_provider.get(outcome.provider, [])
            _count(self.report, outcome, mine)
            if self.on_done:
                self.on_done(outcome, mine)
        self.report.events.extend(events)
        return events

    def busy(self) -> list[str]:
        """Providers queued, polled, finished but not yet written, or being written: not to be
        started again until their outcome (and so their next-due time) is in the database."""
        return [*self.local.queued, *self.local.tasks, *self.remote, *self.queued, *(o.provider for o in self.ready),
                *self.writing]

    def busy_set(self) -> set[str]:
        return set(self.busy())

    def is_busy(self, pid: str) -> bool:
        """``pid in busy()``, without building the list."""
        return (pid in self.local.queued or pid in self.local.tasks or pid in self.remote or pid in self.queued
                or pid in self.writing or pid in self._ready_ids)

    async def shutdown(self) -> None:
        """Stop what is still running (it stays due), write what is in hand, release everything."""
        try:
            if self.pending():
                await self.cancel()
        finally:
            await self.close()

    async def close(self) -> None:
        if self.workers is not None:
            # The workers stay up for the next poll of this process; only this loop lets go of them.
            self.workers.on_outcomes = self.workers.on_lost = None
            self.workers.detach()
            self.workers = None
        self._gc.close()
        self._gc_relaxed = False
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._write_store is not None:
            self._write_store.close()
            self._write_store = None

    async def wait(self, timeout: float | None) -> None:
        """Sleep until an outcome arrives (or ``timeout`` seconds pass)."""
        self._wake.clear()
        if self.ready and self.pending():
            # Something is waiting to be written: wake in time to honour batch_seconds.
            left = self.batch_seconds - (time.monotonic() - self._oldest_ready)
            timeout = max(0.0, left) if timeout is None else max(0.0, min(timeout, left))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()

    async def drain(self) -> None:
        """Wait for every poll in flight, writing outcomes in batches as they arrive."""
        while self.pending() or self.ready:
            if self.due_to_flush():
                await self.flush()
                continue
            await self.wait(None if not self.ready else self.batch_seconds)

    async def cancel(self) -> None:
        """Stop the polls in flight (they stay due) and write what is already in hand."""
        self.queued.clear()
        if self.workers is not None:
            # What the workers finished before they stopped still arrives and is written.
            await self.workers.cancel()
        self.remote.clear()
        await self.local.cancel()
        await self.flush()




async def poll_once(store: Store, ids: Iterable[str] | None = None, *, http: HttpClient | None = None,
                    on_done: Callable[[PollOutcome, list[Event]], None] | None = None,
                    settings: PollSettings | None = None, clock: Clock = wall_clock,
                    rng: random.Random | None = None, batch_size: int = 250,
                    batch_seconds: float = 0.25, workers_from: int | None = START_MIN) -> PollReport:
    """Poll the given (default: all followed) providers once, due or not, applying results as they
    arrive; each provider's next-due time is set as a scheduled poll would set it.

    From ``workers_from`` providers on (None: never) the polls run in worker processes; fewer
    are polled faster here than new workers start (workers already running are used from
    ``OFFLOAD_MIN`` on)."""
    started = time.perf_counter()
    settings = settings or PollSettings()
    rows = store.poll_rows(list(ids) if ids is not None else None)
    own_http = http is None
    client = http or client_for(settings)
    poller = Poller(store, client, settings=settings, clock=clock, rng=rng, on_done=on_done,
                    batch_size=batch_size, batch_seconds=batch_seconds,
                    workers_from=workers_from if own_http else None)
    try:
        poller.start(rows)
        await poller.drain()
    finally:
        try:
            await poller.shutdown()
        finally:
            if own_http:
                await client.aclose()
    poller.report.seconds = time.perf_counter() - started
    return poller.report


def _count(report: PollReport, outcome: PollOutcome, events: list[Event]) -> None:
    report.polled += 1
    if outcome.error:
        report.unreachable.append((outcome.provider, outcome.error))
    elif outcome.not_modified or not [e for e in events if e.kind != EventKind.provider_recovered]:
        report.unchanged += 1
    else:
        report.changed += 1
