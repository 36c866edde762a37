"""Poll worker processes: fetching and parsing on every core, writing in one place.

A large poll is CPU-bound, and CPython runs one thread of Python at a time: a single process
fetches, parses and writes on one core while the other idles. ``PollWorkers`` starts worker
processes that each run the same ``poll_provider`` as the in-process poller (conditional GET,
body hash, parse, history lookups, next-due time) for the providers of the hosts assigned to
them, and send back each ``PollOutcome``. The ``Poller`` in the parent applies them, so there is
still exactly one writer. A parsed page travels as a ``ParsedPage``: the snapshot's JSON and the
rows and first-sight events the writer needs, not the model (rebuilding a model from a pickle
costs about as much as parsing the page again).

Each host (host:port) belongs to one worker, so the per-host cap holds across workers; the
overall cap is shared out between them. Workers read the database (open notices of a changed
page) through read-only connections of their own; a provider is never polled again before its
outcome is written, so what they read is current.

A worker exits when its parent goes away (its pipe closes), so a killed ``upstream watch`` leaves
no orphans. If a worker dies, the polls it held are handed back to the parent, which polls them
itself.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import multiprocessing
import pickle
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aggregator.http import host_key
from aggregator.poll.schedule import PollSettings
from aggregator.store.writer import PollOutcome

# Polls at once from which workers are worth it: a daemon starts them at OFFLOAD_MIN (they stay
# up); a one-shot poll at START_MIN, where their start (~0.3 s) is less than what they save.
OFFLOAD_MIN = 64
START_MIN = 500
SEND_EVERY = 0.02  # seconds a finished outcome may wait to travel with others
SEND_BATCH = 32  # outcomes per message at most


def _host_of(url: str) -> str:
    """The host:port the per-host cap counts (``aggregator.http.host_key``), for any URL."""
    try:
        return host_key(url)
    except ValueError:  # a malformed URL: its poll fails in the worker like any other
        return url


class PollWorkers:
    """Worker processes polling for one parent; ``on_outcomes`` gets what they finish.

    Messages are pickled tuples over a pipe per worker: ``("poll", database, rows)``,
    ``("cancel",)`` and ``("stop",)`` to a worker; ``("ready",)``, ``("done", outcomes)`` and
    ``("cancelled",)`` back.
    """

    def __init__(self, settings: PollSettings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        self._held: list[dict[str, dict[str, Any]]] = []  # per worker: polls sent, not yet back
        self._hosts: dict[str, int] = {}
        self._load: list[int] = []  # providers assigned to each worker (to balance new hosts)
        self._cancel_waiters: list[asyncio.Future[None] | None] = []
        self._heard: list[bool] = []  # per worker: has it ever answered?
        self.on_outcomes: Callable[[list[PollOutcome]], None] | None = None
        self.on_lost: Callable[[list[dict[str, Any]]], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._procs:
            return
        context = multiprocessing.get_context("spawn")
        share = max(1, self.settings.concurrency // self.processes)
        worker_settings = replace(self.settings, concurrency=share, poll_processes=0)
        for _ in range(self.processes):
            parent, child = context.Pipe(duplex=True)
            proc = context.Process(target=worker_main, args=(child, worker_settings),
                                   name="upstream-poll-worker", daemon=True)
            proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)
            self._held.append({})
            self._load.append(0)
            self._cancel_waiters.append(None)
            self._heard.append(False)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Listen for the workers' messages on ``loop`` (once per event loop)."""
        if self._loop is loop:
            return
        self.detach()
        self._loop = loop
        for index, conn in enumerate(self._conns):
            loop.add_reader(conn.fileno(), self._receive, index)

    def detach(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            for conn in self._conns:
                with contextlib.suppress(OSError, ValueError):
                    self._loop.remove_reader(conn.fileno())
        self._loop = None

    @property
    def ready(self) -> bool:
        """Every worker has started and answered."""
        return bool(self._heard) and all(self._heard)

    @property
    def alive(self) -> bool:
        return bool(self._procs) and all(p.is_alive() for p in self._procs)

    def close(self) -> None:
        self.detach()
        for conn in self._conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send_bytes(pickle.dumps(("stop",)))
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self._procs, self._conns, self._held, self._load, self._cancel_waiters, self._heard = [], [], [], [], [], []
        self._hosts.clear()

    # --- polling -------------------------------------------------------------------------------
    def submit(self, db_path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
        """Send each row (of a provider in the database at ``db_path``) to the worker that owns its host."""
        per_worker: list[list[dict[str, Any]]] = [[] for _ in self._conns]
        for row in rows:
            host = _host_of(str(row.get("url") or ""))
            index = self._hosts.get(host)
            if index is None:
                index = self._hosts[host] = min(range(len(self._load)), key=self._load.__getitem__)
            self._load[index] += 1
            per_worker[index].append(row)
        for index, batch in enumerate(per_worker):
            if not batch:
                continue
            for row in batch:
                self._held[index][row["id"]] = row
            try:
                self._conns[index].send_bytes(pickle.dumps(("poll", str(db_path), batch),
                                                           protocol=pickle.HIGHEST_PROTOCOL))
            except (OSError, ValueError):
                self._lost(index)

    async def cancel(self, timeout: float = 10.0) -> None:
        """Stop the workers' polls; outcomes they finished first still arrive (through
        ``on_outcomes``); the rest are dropped here and stay due."""
        loop = asyncio.get_running_loop()
        waiters = []
        for index, conn in enumerate(self._conns):
            if not self._held[index]:
                continue
            waiter: asyncio.Future[None] = loop.create_future()
            self._cancel_waiters[index] = waiter
            try:
                conn.send_bytes(pickle.dumps(("cancel",)))
            except (OSError, ValueError):
                self._lost(index)
                continue
            waiters.append(waiter)
        if waiters:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), timeout)
        for held in self._held:
            held.clear()

    def _receive(self, index: int) -> None:
        conn = self._conns[index]
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            self._lost(index)
            return
        self._heard[index] = True
        kind = message[0]
        if kind == "done":
            outcomes: list[PollOutcome] = message[1]
            held = self._held[index]
            for outcome in outcomes:
                held.pop(outcome.provider, None)
                self._load[index] = max(0, self._load[index] - 1)
            if self.on_outcomes is not None:
                self.on_outcomes(outcomes)
        elif kind == "cancelled":
            dropped = self._held[index]
            self._load[index] = max(0, self._load[index] - len(dropped))
            dropped.clear()
            waiter = self._cancel_waiters[index]
            self._cancel_waiters[index] = None
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _lost(self, index: int) -> None:
        """A worker that died: hand its polls back to the parent."""
        if not self._heard[index]:
            # It died before answering anything (a broken installation, no memory): large polls
            # go on in-process for a while rather than start doomed workers every time.
            _START_FAILED_AT.append(time.monotonic())
        if self._loop is not None:
            with contextlib.suppress(OSError, ValueError):
                self._loop.remove_reader(self._conns[index].fileno())
        rows = list(self._held[index].values())
        self._held[index].clear()
        waiter = self._cancel_waiters[index]
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if rows and self.on_lost is not None:
            self.on_lost(rows)


# ------------------------------------------------------------------------------------------------
# The worker process
# ------------------------------------------------------------------------------------------------

def worker_main(conn: Connection, settings: PollSettings) -> None:
    """Entry point of a worker process: poll what the parent sends until it says stop or goes away."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(conn, settings))


async def _serve(conn: Connection, settings: PollSettings) -> None:
    import signal

    from aggregator.adapters import warm_adapters
    from aggregator.poll.provider import client_for, poll_or_internal_error, relaxed_gc

    warm_adapters()  # every adapter imported and built before the first page, not during a poll

    # The parent decides when to stop: Ctrl-C in a terminal reaches the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop = asyncio.get_running_loop()
    readers: dict[str, sqlite3.Connection] = {}  # per database: read-only, autocommit
    stopped = asyncio.Event()
    queued: dict[str, tuple[str, dict[str, Any]]] = {}  # provider -> (database, row)
    tasks: dict[str, asyncio.Task[None]] = {}
    finished: list[PollOutcome] = []
    window = max(8, settings.concurrency + settings.concurrency // 4)
    send_scheduled = False

    def open_notices(db_path: str, pid: str) -> set[str]:
        reader = readers.get(db_path)
        if reader is None:
            from aggregator.store.connect import sqlite_uri

            reader = readers[db_path] = sqlite3.connect(sqlite_uri(db_path, readonly=True), uri=True, timeout=30,
                                                        isolation_level=None)
            reader.execute("PRAGMA busy_timeout = 30000")
        return {r[0] for r in reader.execute("SELECT id FROM incidents WHERE provider = ? AND is_open = 1", [pid])}

    # Messages to the parent leave from a thread of their own: a write blocks while the parent is
    # busy, and this loop must go on reading what the parent sends meanwhile (or each would wait
    # for the other once both sides' buffers are full).
    outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def sender() -> None:
        while (blob := outbox.get()) is not None:
            try:
                conn.send_bytes(blob)
            except (OSError, ValueError):
                loop.call_soon_threadsafe(stopped.set)  # the parent is gone
                return

    sending = threading.Thread(target=sender, name="upstream-worker-sender", daemon=True)
    sending.start()

    def send(message: tuple[Any, ...]) -> None:
        outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def send_finished() -> None:
        nonlocal send_scheduled
        send_scheduled = False
        while finished:
            batch = finished[:SEND_BATCH]
            del finished[:SEND_BATCH]
            send(("done", batch))

    def launch() -> None:
        while queued and len(tasks) < window:
            pid, (db_path, row) = next(iter(queued.items()))
            del queued[pid]
            tasks[pid] = loop.create_task(one(db_path, row))

    async def one(db_path: str, row: dict[str, Any]) -> None:
        nonlocal send_scheduled
        pid = row["id"]
        try:
            outcome = await poll_or_internal_error(row, http, lambda: open_notices(db_path, pid), settings)
        finally:
            tasks.pop(pid, None)
        launch()
        if outcome.page is not None:
            outcome.page.snapshot = None  # the parent writes the JSON; the model stays here
        outcome.snapshot = None
        finished.append(outcome)
        if len(finished) >= SEND_BATCH:
            send_finished()
        elif not send_scheduled:
            send_scheduled = True
            loop.call_later(SEND_EVERY, send_finished)

    async def cancel_all() -> None:
        queued.clear()
        running = list(tasks.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        send_finished()
        send(("cancelled",))

    def receive() -> None:
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            stopped.set()
            return
        if message[0] == "poll":
            db_path = message[1]
            for row in message[2]:
                queued[row["id"]] = (db_path, row)
            launch()
        elif message[0] == "cancel":
            loop.create_task(cancel_all())
        elif message[0] == "stop":
            stopped.set()

    with relaxed_gc():
        async with client_for(settings) as http:
            loop.add_reader(conn.fileno(), receive)
            send(("ready",))
            try:
                await stopped.wait()
            finally:
                loop.remove_reader(conn.fileno())
                for task in list(tasks.values()):
                    task.cancel()
                await asyncio.gather(*tasks.values(), return_exceptions=True)
                outbox.put(None)
                sending.join(timeout=5)
    for reader in readers.values():
        reader.close()
    conn.close()


_SHARED: PollWorkers | None = None


def shared_workers(settings: PollSettings) -> PollWorkers | None:
    """This process's workers for ``settings``: started once and kept for every later poll (a
    daemon polls every minute; a worker takes ~0.3 s to start). None where worker processes
    cannot be started."""
    global _SHARED
    if _START_FAILED_AT and time.monotonic() - _START_FAILED_AT[-1] < RETRY_START_AFTER:
        return None
    current = _SHARED
    if current is not None and (current.settings != settings or not current.alive):
        current.close()
        current = _SHARED = None
    if current is None:
        current = PollWorkers(settings, settings.poll_processes)
        try:
            current.start()
        except OSError:
            current.close()
            return None
        if not _ATEXIT:
            atexit.register(close_shared_workers)
            _ATEXIT.append(True)
        _SHARED = current
    return current


_ATEXIT: list[bool] = []
_START_FAILED_AT: list[float] = []  # when a worker last died before it answered
RETRY_START_AFTER = 300.0  # seconds


def current_workers() -> PollWorkers | None:
    """This process's workers, if any were started."""
    return _SHARED


def worker_pids() -> list[int]:
    """Process ids of this process's poll workers (for measurements)."""
    return [p.pid for p in _SHARED._procs if p.pid is not None] if _SHARED is not None else []


def close_shared_workers() -> None:
    global _SHARED
    if _SHARED is not None:
        with contextlib.suppress(Exception):
            _SHARED.close()
        _SHARED = None
