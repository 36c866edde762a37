"""Every database read of ``upstream serve`` and ``upstream mcp``: the one place they touch the store.

Each function opens its own read-only connection (one read transaction, so one answer sees one
committed state), calls the library's readers (query, report, export) and closes it. Nothing
here writes: the connections are opened ``mode=ro``. A later restructure re-points this module
to the engine's facade; callers see only plain dicts and lists in the exported shapes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from aggregator.errors import QueryError
from aggregator.store.reader import event_dict, open_readonly, parse_since, status_json, status_rows

T = TypeVar("T")
STATUSES = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage", "unknown")
NOT_FINE = {"degraded_performance", "partial_outage", "major_outage"}
IMPACTS = ("none", "minor", "major", "critical", "maintenance")


class NotFound(QueryError):
    """An id the database does not hold."""


@contextmanager
def reader(db: Path) -> Iterator[sqlite3.Connection]:
    conn = open_readonly(db)
    try:
        yield conn
    finally:
        conn.close()


def read(db: Path, fn: Callable[[sqlite3.Connection], T]) -> T:
    with reader(db) as conn:
        return fn(conn)


def version(db: Path) -> str:
    """A token that changes whenever anything a reader can see changes (ETags and caches key on it):
    the newest event, the newest poll and the number of providers and notices."""
    with reader(db) as conn:
        seq = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        polled, count = conn.execute("SELECT max(last_polled_at), count(*) FROM providers").fetchone()
        notices = conn.execute("SELECT count(*), max(last_seen_at) FROM incidents").fetchone()
    return f"{seq}-{count}-{polled}-{notices[0]}-{notices[1]}"


# ------------------------------------------------------------------------------------------------
# Providers, snapshots, components
# ------------------------------------------------------------------------------------------------

def providers(db: Path, *, category: str | None = None, status: str | None = None,
              platform: str | None = None) -> list[dict[str, Any]]:
    """Exported snapshots (``status --json`` shape), filtered; case-insensitive category/platform."""
    with reader(db) as conn:
        snaps = status_json(status_rows(conn))
    out = []
    for s in snaps:
        if category is not None and (s.get("category") or "").lower() != category.lower():
            continue
        if platform is not None and (s.get("platform") or "").lower() != platform.lower():
            continue
        if status is not None and s.get("status") != status:
            continue
        out.append(s)
    return out


def provider(db: Path, provider_id: str) -> dict[str, Any]:
    with reader(db) as conn:
        rows = status_rows(conn, [provider_id]) if _known(conn, provider_id) else []
        if not rows:
            raise NotFound(f"not following {provider_id!r}")
        return status_json(rows)[0]


def _known(conn: sqlite3.Connection, provider_id: str) -> bool:
    return conn.execute("SELECT 1 FROM providers WHERE id = ?", [provider_id]).fetchone() is not None


def components(db: Path, provider_id: str) -> list[dict[str, Any]]:
    return list(provider(db, provider_id).get("components") or [])


def provider_ids(db: Path) -> list[str]:
    with reader(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM providers ORDER BY id")]


# ------------------------------------------------------------------------------------------------
# Incidents, maintenances, events
# ------------------------------------------------------------------------------------------------

def notices(db: Path, *, kind: str | None = "incident", provider_id: str | None = None, open_only: bool = False,
            since: str | None = None, impact: str | None = None, with_updates: bool = True) -> list[dict[str, Any]]:
    """Incidents and/or maintenances as ``upstream incidents --json`` prints them, newest first."""
    from aggregator.history.report import duration, incident_rows

    when = parse_since(since) if since else None
    with reader(db) as conn:
        if provider_id is not None and not _known(conn, provider_id):
            raise NotFound(f"not following {provider_id!r}")
        rows = incident_rows(conn, provider_id, since=when, open_only=open_only, kind=kind,
                             with_updates=with_updates)
    now = datetime.now(UTC)
    out = []
    for r in rows:
        if impact is not None and r["impact"] != impact:
            continue
        seconds, _ = duration(r, now)
        r["duration_seconds"] = round(seconds, 3) if seconds is not None else None
        out.append(r)
    return out


def upcoming_maintenances(db: Path, provider_id: str | None = None) -> list[dict[str, Any]]:
    """Open maintenances (scheduled or running), soonest first."""
    rows = notices(db, kind="maintenance", provider_id=provider_id, open_only=True)
    rows.sort(key=lambda r: (r["scheduled_for"] or r["started_at"] or "", r["provider"], r["id"]))
    return rows


def events_after(db: Path, after_seq: int, limit: int, provider_id: str | None = None) -> list[dict[str, Any]]:
    """Events with seq > ``after_seq``, oldest first: a client follows the log by passing the last
    seq it saw. Sequence numbers only grow (AUTOINCREMENT), so paging this way has no gap or repeat."""
    sql = "SELECT * FROM events WHERE seq > ?"
    args: list[Any] = [after_seq]
    if provider_id is not None:
        sql += " AND provider = ?"
        args.append(provider_id)
    sql += " ORDER BY seq LIMIT ?"
    args.append(limit)
    with reader(db) as conn:
        return [event_dict(dict(r)) for r in conn.execute(sql, args).fetchall()]


def events_since(db: Path, since: str, provider_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    from aggregator.store.reader import history

    with reader(db) as conn:
        if provider_id is not None and not _known(conn, provider_id):
            raise NotFound(f"not following {provider_id!r}")
        return history(conn, provider_id, parse_since(since), limit)


def maintenance_history(db: Path, provider_id: str | None = None) -> dict[tuple[str, str], list[str]]:
    """(provider, maintenance id) -> the kinds of the events told about it, oldest first."""
    sql = "SELECT provider, subject_id, kind FROM events WHERE kind LIKE 'maintenance.%'"
    args: list[Any] = []
    if provider_id is not None:
        sql += " AND provider = ?"
        args.append(provider_id)
    out: dict[tuple[str, str], list[str]] = {}
    with reader(db) as conn:
        for pid, sid, kind in conn.execute(sql + " ORDER BY seq", args):
            out.setdefault((pid, sid), []).append(kind)
    return out


# ------------------------------------------------------------------------------------------------
# Summary, catalog, feeds, board, metrics
# ------------------------------------------------------------------------------------------------

def summary(db: Path) -> dict[str, Any]:
    """"Is anything I follow down?": counts and the providers that are not fine or not reachable."""
    snaps = providers(db)
    counts = dict.fromkeys(STATUSES, 0)
    down, unreachable = [], []
    for s in snaps:
        counts[s.get("status") or "unknown"] = counts.get(s.get("status") or "unknown", 0) + 1
        if s.get("status") in NOT_FINE:
            down.append({"provider": s["provider"], "name": s.get("name"), "status": s["status"],
                         "open_incidents": [i.get("title") for i in s.get("incidents") or []]})
        if s.get("reachable") is False:
            unreachable.append({"provider": s["provider"], "last_error": s.get("last_error")})
    return {"anything_down": bool(down), "providers": len(snaps), "counts": counts, "down": down,
            "unreachable": unreachable}


def catalog_search(query: str, limit: int = 10) -> list[dict[str, Any]]:
    from aggregator.catalog.data import search

    return [{**hit.entry.to_dict(), "score": round(hit.score, 2), "matched": hit.matched}
            for hit in search(query, limit)]


def atom(db: Path, provider_id: str | None = None, category: str | None = None, limit: int = 200) -> bytes:
    """The Atom feed of changes (maintenance events included) of one provider, one category or all."""
    from aggregator.errors import ExportError
    from aggregator.history.export import export_atom, select

    with reader(db) as conn:
        try:
            selection = select(conn, [provider_id] if provider_id else (), [category] if category else ())
        except (ExportError, QueryError) as exc:
            raise NotFound(str(exc)) from None
        return export_atom(conn, selection, limit)


def board(db: Path, provider_id: str | None = None, category: str | None = None) -> dict[str, Any]:
    """The board's template context, of everyone, one provider or one category."""
    from aggregator.errors import ExportError
    from aggregator.history.export import board_context, select

    with reader(db) as conn:
        try:
            selection = select(conn, [provider_id] if provider_id else (), [category] if category else ())
        except (ExportError, QueryError) as exc:
            raise NotFound(str(exc)) from None
        return board_context(conn, selection)


def category_names(db: Path) -> dict[str, str]:
    """Category page file -> category name (as the board files them)."""
    from aggregator.history.export import category_file

    with reader(db) as conn:
        names = {r[0] or "" for r in conn.execute("SELECT DISTINCT category FROM providers")}
    return {category_file(n or "Other"): n for n in names}


def provider_files(db: Path) -> dict[str, str]:
    """Provider page file -> provider id."""
    from aggregator.history.export import page_name

    return {page_name(pid): pid for pid in provider_ids(db)}


def metric_rows(db: Path) -> dict[str, Any]:
    """What /metrics exposes, read in one transaction."""
    with reader(db) as conn:
        provs = [dict(r) for r in conn.execute(
            "SELECT id, status, reachable, last_polled_at, last_success_at FROM providers ORDER BY id")]
        comps = [dict(r) for r in conn.execute(
            "SELECT provider, id, name, group_name, region, status FROM components ORDER BY provider, page_order")]
        incidents = conn.execute("SELECT provider, impact, count(*) FROM incidents WHERE is_open = 1 AND "
                                 "kind = 'incident' GROUP BY provider, impact").fetchall()
        next_maint = conn.execute(
            "SELECT provider, min(coalesce(scheduled_for, started_at)) FROM incidents WHERE is_open = 1 AND "
            "kind = 'maintenance' AND status = 'scheduled' GROUP BY provider").fetchall()
        deliveries: dict[str, int] = {}
        with suppress(sqlite3.OperationalError):  # no notify tables: nothing is queued
            deliveries = dict(conn.execute("SELECT state, count(*) FROM deliveries WHERE state IN "
                                           "('pending', 'sending', 'failed') GROUP BY state").fetchall())
        events = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    return {"providers": provs, "components": comps, "incidents": [tuple(r) for r in incidents],
            "next_maintenance": [tuple(r) for r in next_maint], "deliveries": deliveries, "events": events}


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
