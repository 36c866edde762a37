"""What is due: the queries the watch daemon runs at every tick, on the ``providers_due`` index.

A tick must cost little whatever the number of providers: these read only the providers that fell
due since the last tick (a range of the index on ``next_due_at``; a full look now and then finds
the rest) and the next due time by the same index, and leave out the providers already busy in
Python, instead of a scan and sort of every row with every busy id as JSON at every tick.

A next-due time further ahead than ``far`` (now + the longest wait the scheduler can ever set)
cannot have been set by this clock: it was written by a process whose clock ran ahead, and it is
treated as due now, or that provider would not be polled until the wrong time came round.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

# What a poll needs of a provider's row (``Store.poll_rows`` reads the same columns).
POLL_COLUMNS = ("id", "platform", "url", "fetch_state", "interval", "failures", "next_due_at", "reachable",
                "snapshot_hash", "vendor_uptime_at")
_COLS = ", ".join(POLL_COLUMNS)


def _rows(conn: sqlite3.Connection, sql: str, args: list[Any], busy: Callable[[str], bool]) -> Iterator[dict[str, Any]]:
    for r in conn.execute(sql, args):
        if not busy(r[0]):
            yield dict(zip(POLL_COLUMNS, r, strict=True))


def due_rows(conn: sqlite3.Connection, now: float, busy: Callable[[str], bool], far: float, *,
             since: float | None = None) -> tuple[list[dict[str, Any]], int]:
    """The providers due at ``now`` and not ``busy`` (never polled first, then the most overdue), and
    how many of them were due further ahead than ``far`` (so due now).

    ``since``: only those that fell due after it (a tick right after another), not every provider
    due and still busy again; a full look (``since`` None) also finds providers never polled."""
    rows: list[dict[str, Any]] = []
    if since is None:
        rows.extend(_rows(conn, f"SELECT {_COLS} FROM providers WHERE next_due_at IS NULL ORDER BY id", [], busy))
        rows.extend(_rows(conn, f"SELECT {_COLS} FROM providers WHERE next_due_at <= ? ORDER BY next_due_at",
                          [now], busy))
    else:
        rows.extend(_rows(conn, f"SELECT {_COLS} FROM providers WHERE next_due_at > ? AND next_due_at <= ? "
                                "ORDER BY next_due_at", [since, now], busy))
    ahead = list(_rows(conn, f"SELECT {_COLS} FROM providers WHERE next_due_at > ? ORDER BY next_due_at",
                       [far], busy))
    return rows + ahead, len(ahead)


def next_due_after(conn: sqlite3.Connection, now: float, far: float) -> float | None:
    """The earliest next-due time after ``now`` (None: none), ``now`` itself if one is beyond ``far``.

    Called right after a tick started everything due: what is due at ``now`` is busy already."""
    # Two single-aggregate queries: SQLite answers each from one end of the index.
    first = conn.execute("SELECT min(next_due_at) FROM providers WHERE next_due_at > ?", [now]).fetchone()
    if not first or first[0] is None:
        return None
    last = conn.execute("SELECT max(next_due_at) FROM providers").fetchone()
    return now if last[0] > far else first[0]


def longest_own_interval(conn: sqlite3.Connection) -> float:
    """The longest interval a provider has of its own (``upstream set-interval``), 0 if none."""
    found = conn.execute("SELECT max(interval) FROM providers").fetchone()
    return float(found[0] or 0.0) if found else 0.0
