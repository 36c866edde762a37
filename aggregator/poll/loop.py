"""The one poll loop: polls of many providers running at once on one event loop, within a window.

``PollLoop`` is what runs polls in a process. The parent's ``Poller`` (aggregator.poll.runner)
runs one when it polls in its own process, and every worker process (aggregator.poll.workers)
runs one on the rows the parent sends it; the window, the backpressure and the lag measurement
are therefore the same wherever a poll runs. The loop neither reads nor writes the database: the
open notices of a provider come from ``open_notices`` (a query in the parent, ids the parent sent
with the row in a worker), and each finished outcome goes to ``on_outcome``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

from aggregator.http import HttpClient
from aggregator.poll.provider import poll_or_internal_error
from aggregator.poll.schedule import Clock, PollSettings, wall_clock
from aggregator.store.writer import PollOutcome

Row = dict[str, Any]
OnOutcome = Callable[[PollOutcome, "float | None"], None]


def window_for(max_connections: int) -> int:
    """Polls run at once by a loop whose HTTP client allows ``max_connections`` requests at once.

    A little more than the client's cap, so that a poll finishing hands its place to one ready
    to send; thousands of tasks parked on the client's semaphores would only add work, and
    responses would wait behind the start of every last one of them."""
    return max(8, max_connections + max_connections // 4)


class PollLoop:
    """Runs the polls of queued rows, at most ``window`` at once, and hands each outcome on.

    ``on_outcome(outcome, lag)`` gets every finished poll with its lag: the seconds from the
    provider's due time (``next_due_at`` of its row, None for one never scheduled) to the moment its
    first request was sent (past the HTTP client's caps), on this loop's ``clock``.
    ``held_back()`` returning True stops new polls from starting (the writer is behind).
    """

    def __init__(self, http: HttpClient, settings: PollSettings, *, open_notices: Callable[[Row], set[str]],
                 on_outcome: OnOutcome, clock: Clock = wall_clock, rng: random.Random | None = None,
                 held_back: Callable[[], bool] | None = None) -> None:
        self.http = http
        self.settings = settings
        self.open_notices = open_notices
        self.on_outcome = on_outcome
        self.clock = clock
        self.rng = rng
        self.held_back = held_back
        self.window = window_for(http.max_connections)
        self.queued: dict[str, Row] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        """Polls queued or running."""
        return len(self.queued) + len(self.tasks)

    def add(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.queued[row["id"]] = row
        self.launch()

    def launch(self) -> None:
        """Start queued polls while the window has room (and nothing holds them back)."""
        if not self.queued:
            return
        loop = asyncio.get_running_loop()
        while self.queued and len(self.tasks) < self.window and not (self.held_back and self.held_back()):
            pid = next(iter(self.queued))
            row = self.queued.pop(pid)
            self.tasks[pid] = loop.create_task(self._one(row), name=f"poll {pid}")

    async def _one(self, row: Row) -> None:
        pid = row["id"]
        due = row.get("next_due_at")
        now = self.clock()
        launched = time.perf_counter()
        try:
            outcome, sent = await poll_or_internal_error(row, self.http, lambda: self.open_notices(row),
                                                         self.settings, self.clock, self.rng)
        finally:
            self.tasks.pop(pid, None)
        self.launch()
        lag = None
        if due is not None:
            # Waiting for a place in the window is counted by ``now``; waiting for the client's
            # caps by the time from launch to the first request sent.
            lag = max(0.0, now - due) + (max(0.0, sent - launched) if sent is not None else 0.0)
        self.on_outcome(outcome, lag)

    def drop_queued(self) -> list[Row]:
        """Forget the polls not started yet; returns their rows."""
        rows = list(self.queued.values())
        self.queued.clear()
        return rows

    async def cancel(self) -> None:
        """Stop every poll (queued or running); what finished before still went to ``on_outcome``."""
        self.queued.clear()
        running = list(self.tasks.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        self.tasks.clear()
