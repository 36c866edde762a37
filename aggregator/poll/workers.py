"""Poll worker processes: fetching and parsing on every core, writing in one place.

A large poll is CPU-bound, and CPython runs one thread of Python at a time: a single process
fetches, parses and writes on one core while the other idles. ``PollWorkers`` starts worker
processes that each run the same ``PollLoop`` (aggregator.poll.loop) as the in-process poller
(conditional GET, body hash, parse, history lookups, next-due time) on the rows the parent sends,
and send back each ``PollOutcome`` with its lag. This module is only the transport: processes,
pipes, messages, and which worker gets which row. The ``Poller`` in the parent applies them, so there is
still exactly one writer. A parsed page travels as a ``ParsedPage``: the snapshot's JSON and the
rows and first-sight events the writer needs, not the model (rebuilding a model from a pickle
costs about as much as parsing the page again).

The caps are shared out between the workers: the overall cap evenly, and the per-host cap
(host:port) too, so worker ``i`` may have ``per_host // W`` (one more for the first
``per_host % W`` workers) requests in flight to any one host. A host's pages are then spread over
every worker with a share (each row to the one holding fewest), so that one host holding
thousands of pages keeps every core busy, and the requests in flight to it never exceed
``per_host`` overall. Workers read no database: the parent sends each row with the ids of the
provider's open notices (what a changed page is compared with); a provider is never polled again
before its outcome is written, so they are current.

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
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

from aggregator.poll.schedule import PollSettings
from aggregator.store.writer import PollOutcome

# Polls at once from which workers are worth it: a daemon starts them at OFFLOAD_MIN (they stay
# up); a one-shot poll at START_MIN, where their start (~0.3 s) is less than what they save.
OFFLOAD_MIN = 64
START_MIN = 500
SEND_EVERY = 0.02  # seconds a finished outcome may wait to travel with others
SEND_BATCH = 32  # outcomes per message at most


def per_host_shares(per_host: int, processes: int) -> list[int]:
    """Each worker's share of the per-host cap; they add up to ``per_host``."""
    return [per_host // processes + (1 if i < per_host % processes else 0) for i in range(processes)]


class PollWorkers:
    """Worker processes polling for one parent; ``on_outcomes`` gets what they finish.

    Messages are pickled tuples over a pipe per worker: ``("poll", rows)``, ``("cancel",)`` and
    ``("stop",)`` to a worker; ``("ready",)``, ``("done", [(outcome, lag), ...])`` and
    ``("cancelled",)`` back.
    """

    def __init__(self, settings: PollSettings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self._procs: list[Any] = []
        self._conns: list[Connection] = []
        self._held: list[dict[str, dict[str, Any]]] = []  # per worker: polls sent, not yet back
        self._takers: list[int] = []  # the workers with a share of the per-host cap
        self._cancel_waiters: list[asyncio.Future[None] | None] = []
        self._heard: list[bool] = []  # per worker: has it ever answered?
        self.on_outcomes: Callable[[list[tuple[PollOutcome, float | None]]], None] | None = None
        self.on_lost: Callable[[list[dict[str, Any]]], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._procs:
            return
        context = multiprocessing.get_context("spawn")
        share = max(1, self.settings.concurrency // self.processes)
        host_shares = per_host_shares(self.settings.per_host, self.processes)
        self._takers = [i for i, cap in enumerate(host_shares) if cap > 0]
        for index in range(self.processes):
            worker_settings = replace(self.settings, concurrency=share, per_host=max(1, host_shares[index]),
                                      poll_processes=0)
            parent, child = context.Pipe(duplex=True)
            proc = context.Process(target=worker_main, args=(child, worker_settings),
                                   name="upstream-poll-worker", daemon=True)
            proc.start()
            child.close()
            self._procs.append(proc)
            self._conns.append(parent)
            self._held.append({})
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
        self._procs, self._conns, self._held, self._cancel_waiters, self._heard = [], [], [], [], []
        self._takers = []

    # --- polling -------------------------------------------------------------------------------
    def submit(self, rows: Iterable[dict[str, Any]]) -> None:
        """Send each row to the worker (of those with a share of the per-host cap) holding fewest."""
        per_worker: list[list[dict[str, Any]]] = [[] for _ in self._conns]
        held = self._held
        for row in rows:
            index = min(self._takers, key=lambda i: len(held[i]))
            held[index][row["id"]] = row
            per_worker[index].append(row)
        for index, batch in enumerate(per_worker):
            if not batch:
                continue
            try:
                self._conns[index].send_bytes(pickle.dumps(("poll", batch), protocol=pickle.HIGHEST_PROTOCOL))
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
            outcomes: list[tuple[PollOutcome, float | None]] = message[1]
            held = self._held[index]
            for outcome, _lag in outcomes:
                held.pop(outcome.provider, None)
            if self.on_outcomes is not None:
                self.on_outcomes(outcomes)
        elif kind == "cancelled":
            self._held[index].clear()
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
    from aggregator.poll.loop import PollLoop
    from aggregator.poll.provider import client_for, relaxed_gc

    warm_adapters()  # every adapter imported and built before the first page, not during a poll

    # The parent decides when to stop: Ctrl-C in a terminal reaches the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    finished: list[tuple[PollOutcome, float | None]] = []
    send_scheduled = False

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

    def done(outcome: PollOutcome, lag: float | None) -> None:
        nonlocal send_scheduled
        if outcome.page is not None:
            outcome.page.snapshot = None  # the parent writes the JSON; the model stays here
        outcome.snapshot = None
        finished.append((outcome, lag))
        if len(finished) >= SEND_BATCH:
            send_finished()
        elif not send_scheduled:
            send_scheduled = True
            loop.call_later(SEND_EVERY, send_finished)

    async def cancel_all(polls: PollLoop) -> None:
        await polls.cancel()
        send_finished()
        send(("cancelled",))

    with relaxed_gc():
        async with client_for(settings) as http:
            polls = PollLoop(http, settings, open_notices=lambda row: set(row.get("open_notices") or ()),
                             on_outcome=done)

            def receive() -> None:
                try:
                    message = pickle.loads(conn.recv_bytes())
                except (EOFError, OSError):
                    stopped.set()
                    return
                if message[0] == "poll":
                    polls.add(message[1])
                elif message[0] == "cancel":
                    loop.create_task(cancel_all(polls))
                elif message[0] == "stop":
                    stopped.set()

            loop.add_reader(conn.fileno(), receive)
            send(("ready",))
            try:
                await stopped.wait()
            finally:
                loop.remove_reader(conn.fileno())
                await polls.cancel()
                outbox.put(None)
                sending.join(timeout=5)
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
