"""``upstream watch``: the long-running daemon that polls whatever is due, forever.

Each tick starts the polls of every provider due now (those already in flight are left alone),
writes finished outcomes in batches through the one ``Store``, delivers pending notifications
when the notify subsystem is installed, and sleeps until the next provider is due. It logs one
line per change and a summary line every ``summary_every`` seconds.

SIGINT / SIGTERM: no new polls start, polls in flight are cancelled (they stay due, so the next
run polls them first), what is already in hand is written, and ``watch`` returns 0. A SIGKILL
loses only polls not yet written: every write is one transaction, and each provider's next-due
time is written with its state, so a restart carries on where the last run stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import signal
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aggregator.page.model import Event
from aggregator.poll.provider import client_for
from aggregator.poll.runner import Poller, PollReport
from aggregator.poll.schedule import Clock, PollSettings, wall_clock
from aggregator.poll.workers import OFFLOAD_MIN
from aggregator.store.due import due_rows, longest_own_interval, next_due_after
from aggregator.store.writer import PollOutcome, Store

Log = Callable[[str], None]
Deliver = Callable[..., Awaitable[Any]]
TICK_MAX = 5.0  # seconds between looks at the database, so providers added meanwhile are seen
DELIVERY_EVERY = 30.0  # seconds between looks for notifications queued by other processes
# A daemon writes what finished at least this often: fewer, larger transactions than a one-shot
# poll's 0.25 s (each costs the same whatever its size), and a poll's lag is not affected.
WRITE_EVERY = 0.5
FAR_EVERY = 60.0  # seconds between looks at the longest interval of any provider
DELIVERY_LIMIT = 200  # deliveries per call; more waiting means another call at once


@dataclass
class WatchStats:
    """Counters since the last summary line (and in total)."""

    polled: int = 0
    changed: int = 0
    unreachable: int = 0
    events: int = 0
    lags: list[float] = field(default_factory=list)
    jumped: int = 0  # polls due further ahead than the longest wait (a clock that ran ahead): due now
    total_polled: int = 0
    total_events: int = 0
    cycles: int = 0

    def line(self, in_flight: int, seconds: float) -> str:
        # Lag: from each poll's due time to its first request sent.
        if self.lags:
            ordered = sorted(self.lags)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            lag = f"lag median {statistics.median(ordered):.1f}s p99 {p99:.1f}s max {ordered[-1]:.1f}s"
        else:
            lag = "lag -"
        jumped = (f", {self.jumped} due further ahead than the longest wait (a clock that ran ahead?) "
                  f"polled now" if self.jumped else "")
        return (f"summary: polled {self.polled}, changed {self.changed}, unreachable {self.unreachable}, "
                f"events {self.events}, {lag}, in flight {in_flight}{jumped} (last {seconds:.0f}s)")

    def reset(self) -> None:
        self.polled = self.changed = self.unreachable = self.events = self.jumped = 0
        self.lags = []


def default_describe(provider: str, event: Event) -> str:
    from aggregator.page.wording import describe_event

    return f"{provider}: {describe_event(event.model_dump(mode='json'))}"


async def watch(store: Store, *, settings: PollSettings | None = None, http: Any = None, clock: Clock = wall_clock,
                rng: random.Random | None = None, max_cycles: int | None = None, log: Log = print,
                describe: Callable[[str, Event], str] = default_describe, stop: asyncio.Event | None = None,
                handle_signals: bool = True, deliver: Deliver | None = None, once: bool = False,
                on_outcome: Callable[[PollOutcome, list[Event], float | None], None] | None = None,
                on_lags: Callable[[list[float]], None] | None = None) -> WatchStats:
    """Poll what is due until stopped (a signal, ``stop`` set) or ``max_cycles`` ticks that started
    polls; ``once``: poll what is due now (perhaps nothing), then return. ``on_outcome`` hears of
    every written poll (with its seconds), ``on_lags`` of how late each started poll was."""
    if once:
        max_cycles = 1
    settings = settings or PollSettings()
    stop = stop or asyncio.Event()
    deliver_fn = deliver
    stats = WatchStats()
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)

    def done(outcome: PollOutcome, events: list[Event]) -> None:
        stats.polled += 1
        stats.total_polled += 1
        if outcome.error:
            stats.unreachable += 1
        if events:
            stats.changed += 1
            stats.events += len(events)
            stats.total_events += len(events)
        for ev in events:
            log(describe(outcome.provider, ev))
        if on_outcome is not None:
            on_outcome(outcome, events, poller.poll_seconds.pop(outcome.provider, None))

    own_http = http is None
    client = http or client_for(settings)
    poller = Poller(store, client, settings=settings, clock=clock, rng=rng, on_done=done, batch_seconds=WRITE_EVERY,
                    workers_from=OFFLOAD_MIN if own_http else None)
    last_summary = time.monotonic()
    # Deliver what an earlier run left queued at once; then after new events, when a retry falls
    # due, and every DELIVERY_EVERY seconds for what other processes (upstream poll) queued.
    next_delivery = 0.0 if deliver_fn is not None else math.inf
    delivered_upto = 0  # stats.total_events at the last delivery
    delivering: asyncio.Task[float] | None = None
    far_checked = -math.inf
    far_ahead = math.inf
    looked_at: float | None = None  # clock() at the last tick that read what fell due
    full_look = -math.inf  # time.monotonic() of the last full look
    try:
        while not stop.is_set():
            now = clock()
            if time.monotonic() - far_checked > FAR_EVERY:
                far_checked = time.monotonic()
                far_ahead = settings.longest_wait(longest_own_interval(store.conn))
            if max_cycles is None or stats.cycles < max_cycles:
                full = time.monotonic() - full_look >= TICK_MAX or looked_at is None or now < looked_at
                if full:
                    full_look = time.monotonic()
                due, jumped = due_rows(store.conn, now, poller.is_busy, now + far_ahead,
                                       since=None if full else looked_at)
                looked_at = now
                if due and poller.start(due) or once:
                    stats.cycles += 1
                    stats.jumped += jumped
            elif not poller.pending() and not poller.ready:
                break
            if poller.due_to_flush():
                await poller.flush()
                written, poller.report = poller.report, PollReport()  # a daemon keeps counters, not events
                stats.lags.extend(written.lags)
                if on_lags is not None:
                    on_lags(written.lags)
            # Delivery runs beside polling, never inside this loop: a receiver that hangs holds
            # its own task (until its subscription's circuit breaker pauses it), not the polls.
            if delivering is not None and delivering.done():
                next_delivery = delivering.result()
                delivering = None
            if deliver_fn is not None and delivering is None and (clock() >= next_delivery
                                                                  or stats.total_events > delivered_upto):
                delivered_upto = stats.total_events
                next_delivery = math.inf  # until this delivery says when the next is due
                delivering = asyncio.create_task(_deliver(deliver_fn, store, clock, log), name="upstream-delivery")
            if time.monotonic() - last_summary >= settings.summary_every:
                log(stats.line(poller.pending(), time.monotonic() - last_summary))
                stats.reset()
                last_summary = time.monotonic()
            cycles_done = max_cycles is not None and stats.cycles >= max_cycles
            if cycles_done and not poller.pending() and not poller.ready:
                break
            await _sleep(poller, store, clock, stop, cycles_done, next_delivery, far_ahead)
        if stop.is_set():
            if delivering is not None:
                delivering.cancel()  # a send in flight is recorded as interrupted: pending again
            await poller.cancel()
        else:
            await poller.drain()
        if poller.ready:
            await poller.flush()
        stats.lags.extend(poller.report.lags)
        if delivering is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await delivering
            delivering = None
        if deliver_fn is not None and stats.total_events > delivered_upto and not stop.is_set():
            await _deliver(deliver_fn, store, clock, log)
    finally:
        if delivering is not None and not delivering.done():
            delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await delivering
        try:
            await poller.shutdown()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            if own_http:
                await client.aclose()
    log(stats.line(0, time.monotonic() - last_summary) + f"; total polled {stats.total_polled}, "
        f"events {stats.total_events}")
    return stats


async def _deliver(deliver: Deliver, store: Store, clock: Clock, log: Log) -> float:
    """Send due notifications once; returns when to try next (wall clock)."""
    now = clock()
    try:
        report = await deliver(store, limit=DELIVERY_LIMIT)
    except Exception as exc:  # noqa: BLE001 - a broken sink must not stop polling
        log(f"notification delivery failed: {type(exc).__name__}: {exc}")
        return now + DELIVERY_EVERY
    attempted = getattr(report, "attempted", 0) or 0
    if attempted:
        summary = getattr(report, "summary", None)
        log(f"notifications: {summary() if callable(summary) else f'attempted {attempted}'}")
    if attempted >= DELIVERY_LIMIT:
        return now  # more are waiting
    retry = getattr(report, "next_due", None)
    retry_at = retry.timestamp() if retry is not None else math.inf
    return min(now + DELIVERY_EVERY, retry_at)


async def _sleep(poller: Poller, store: Store, clock: Clock, stop: asyncio.Event, cycles_done: bool,
                 wake_at: float = math.inf, far_ahead: float = math.inf) -> None:
    """Until an outcome arrives, the next provider is due, notifications are due, a signal, or TICK_MAX."""
    if cycles_done:
        timeout = TICK_MAX
    else:
        now = clock()
        nxt = next_due_after(store.conn, now, now + far_ahead)
        timeout = TICK_MAX if nxt is None else min(TICK_MAX, max(0.0, nxt - clock()))
    timeout = max(0.0, min(timeout, wake_at - clock()))
    if timeout <= 0 and not poller.ready:
        await asyncio.sleep(0)
        return
    waiter = asyncio.create_task(poller.wait(timeout))
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, stopper):
            task.cancel()


def run_watch(store: Store, **kwargs: Any) -> WatchStats:
    return asyncio.run(watch(store, **kwargs))


__all__ = ["PollReport", "WatchStats", "run_watch", "watch"]
