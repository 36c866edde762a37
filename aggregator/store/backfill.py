"""What a poll learns besides the page: the platform's past notices and the vendor's own uptime.

Backfill: when a provider is first seen, its platform's history (Statuspage ``incidents.json``
and ``scheduled-maintenances.json``, feeds, listings) is stored as incidents and maintenances
with their own times and all their updates, marked ``backfilled``. They are history, not news:
their events (``incident.opened`` / ``incident.resolved`` at the vendor's times, detail
``backfilled``) go into the log without the subsystems' event hooks, so no notification is ever
queued for them. Re-reading history later (when an open incident leaves the page) updates the
stored rows in place, one per id, and records events only for notices never stored before.

Vendor uptime: per component and day, the outage seconds the vendor's page publishes, kept in
``vendor_uptime`` apart from what upstream observed (the event log).

Called by ``aggregator.store.writer.Store`` inside the poll's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from aggregator.page.diff import Notice
from aggregator.page.model import Maintenance
from aggregator.page.serialize import notice_rows
from aggregator.page.vocab import iso_z as iso

# Upsert of a notice read from history. A new row is marked backfilled; a known one (observed by
# a poll, or backfilled before) keeps its mark and its first/last seen times: history tells what
# the vendor says happened, not when upstream saw it.
_UPSERT_HISTORY_NOTICE = (
    "INSERT INTO incidents (provider, id, kind, title, impact, status, raw_status, is_open, started_at, "
    "updated_at, resolved_at, scheduled_for, scheduled_until, url, component_ids, regions, first_seen_at, "
    "last_seen_at, backfilled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
    "ON CONFLICT (provider, id) DO UPDATE SET title = excluded.title, impact = excluded.impact, "
    "status = CASE WHEN incidents.is_open = 0 AND excluded.is_open = 1 THEN incidents.status "
    "ELSE excluded.status END, raw_status = excluded.raw_status, "
    "is_open = min(incidents.is_open, excluded.is_open), "  # history never reopens a closed notice
    "started_at = coalesce(excluded.started_at, incidents.started_at), "
    "updated_at = coalesce(excluded.updated_at, incidents.updated_at), "
    "resolved_at = coalesce(excluded.resolved_at, incidents.resolved_at), "
    "scheduled_for = coalesce(excluded.scheduled_for, incidents.scheduled_for), "
    "scheduled_until = coalesce(excluded.scheduled_until, incidents.scheduled_until), "
    "url = coalesce(excluded.url, incidents.url), component_ids = excluded.component_ids, "
    "regions = excluded.regions")
_UPSERT_UPDATE = ("INSERT INTO incident_updates (provider, incident_id, id, status, raw_status, body, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET status = excluded.status, "
                  "raw_status = excluded.raw_status, body = excluded.body, created_at = excluded.created_at")
_INSERT_EVENT = ("INSERT INTO events (kind, provider, subject_id, subject_name, old, new, observed_at, occurred_at, "
                 "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def write_backfill(conn: sqlite3.Connection, provider: str, notices: Iterable[Notice], observed_at: datetime,
                   skip: Iterable[str] = ()) -> int:
    """Store ``notices`` read from the provider's history (except the ids in ``skip``: those the
    current page lists, which the poll itself wrote); returns how many were new."""
    now = iso(observed_at)
    skipped = set(skip)
    wanted = [n for n in notices if n.id not in skipped]
    if not wanted:
        return 0
    known = {r[0] for r in conn.execute("SELECT id FROM incidents WHERE provider = ?", [provider])}
    events: list[tuple[str, tuple[Any, ...]]] = []
    new = 0
    for notice in wanted:
        incident, updates = notice_rows(provider, notice, now)
        conn.execute(_UPSERT_HISTORY_NOTICE, incident)
        if updates:
            conn.executemany(_UPSERT_UPDATE, updates)
        if notice.id not in known:
            new += 1
            events.extend(_history_events(provider, notice, now))
    events.sort(key=lambda e: e[0])  # the vendor's own order: oldest first in the log
    conn.executemany(_INSERT_EVENT, [row for _, row in events])
    return new


def _history_events(provider: str, notice: Notice, now: str) -> list[tuple[str, tuple[Any, ...]]]:
    """The log entries of one backfilled notice: its start and, when over, its end, each at the
    vendor's time (``occurred_at``) and observed now. Sorted by the first element."""
    maintenance = isinstance(notice, Maintenance)
    first_update = min(notice.updates, key=lambda u: iso(u.created_at) or "", default=None)
    detail = {"backfilled": True, "impact": notice.impact.value}
    if notice.url:
        detail["url"] = notice.url
    if notice.component_ids:
        detail["component_ids"] = list(notice.component_ids)
    out: list[tuple[str, tuple[Any, ...]]] = []

    def add(kind: str, old: str | None, new: str, when: datetime | None) -> None:
        at = iso(when)
        out.append((at or now, (kind, provider, notice.id, notice.title, old, new, now, at,
                                orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode())))

    if maintenance:
        add("maintenance.scheduled", None, "scheduled", notice.scheduled_for or notice.started_at)
        if not notice.is_open:
            add("maintenance.completed", "scheduled", notice.status.value,
                notice.resolved_at or notice.scheduled_until)
    else:
        opened_as = first_update.status if first_update is not None and first_update.status else "investigating"
        add("incident.opened", None, opened_as, notice.started_at)
        if not notice.is_open:
            add("incident.resolved", opened_as, notice.status.value, notice.resolved_at)
    return out


def write_vendor_uptime(conn: sqlite3.Connection, provider: str, bars: list[dict[str, Any]] | None,
                        read_at: float) -> int:
    """Store the vendor's per-day uptime bars (None: the page draws none) and when they were read;
    a day read again replaces what was stored for it. Returns the number of days written."""
    rows = [(provider, str(bar["id"]), str(bar["name"]), int(bool(bar.get("is_group"))), position, day["date"],
             int(bool(day["has_data"])), int(day.get("partial_outage_seconds") or 0),
             int(day.get("major_outage_seconds") or 0))
            for position, bar in enumerate(bars or []) for day in bar["days"]]
    if rows:
        conn.executemany(
            "INSERT INTO vendor_uptime (provider, component_id, name, is_group, position, day, has_data, "
            "partial_outage_seconds, major_outage_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (provider, component_id, day) DO UPDATE SET name = excluded.name, "
            "is_group = excluded.is_group, position = excluded.position, has_data = excluded.has_data, "
            "partial_outage_seconds = excluded.partial_outage_seconds, "
            "major_outage_seconds = excluded.major_outage_seconds", rows)
    conn.execute("UPDATE providers SET vendor_uptime_at = ? WHERE id = ?", [read_at, provider])
    return len(rows)


def apply_history_extras(conn: sqlite3.Connection, provider: str, *, observed_at: datetime,
                         backfill: list[Notice] | None, current_ids: Iterable[str],
                         vendor_uptime: list[dict[str, Any]] | None, vendor_uptime_read: bool,
                         read_at: float) -> None:
    """What a poll outcome carries besides the page, written in the poll's transaction."""
    if backfill:
        write_backfill(conn, provider, backfill, observed_at, skip=current_ids)
    if vendor_uptime_read:
        write_vendor_uptime(conn, provider, vendor_uptime, read_at)
