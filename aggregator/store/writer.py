"""The SQLite store: current state tables plus the append-only ``events`` log of every change.

A batch of polls is applied in one transaction: each poll's rows and events are planned by the
pure ``aggregator.page.writeplan`` from the state stored now, and the plans of the batch are
executed together by one set of statements (``Store._execute``), so a crash never leaves half a
snapshot. Unchanged pages, changed pages and first sights are all plans; nothing here decides
what a poll means. WAL mode lets the CLI read while ``upstream watch`` writes. Each
subsystem (core, notify, ...) owns a list of migrations; ``schema_versions`` says which ran.

Read-only query commands use ``aggregator.store.reader`` instead, which needs neither pydantic nor
sqlite-utils and so starts fast.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from aggregator.errors import StoreError
from aggregator.page.diff import vanished_notices
from aggregator.page.model import Event, Incident, Maintenance, Snapshot
from aggregator.page.serialize import snapshot_hash
from aggregator.page.vocab import EventKind
from aggregator.page.vocab import iso_z as iso
from aggregator.page.writeplan import (
    PollOutcome,
    StoredHead,
    StoredPage,
    WritePlan,
    needs_stored_page,
    page_of,
    plan_write,
    reschedule_plan,
)
from aggregator.store.backfill import apply_history_extras
from aggregator.store.connect import connect
from aggregator.store.due import POLL_COLUMNS
from aggregator.store.schema import CORE, Subsystem, migrate


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store:
    """The database behind upstream: ``Store(path)`` opens (and migrates) it."""

    def __init__(self, path: str | Path, subsystems: Sequence[Subsystem] = ()) -> None:
        """Open (and migrate) the database at ``path`` with the core tables and ``subsystems``'
        tables and event hooks; ``aggregator.core.open_store`` passes every installed subsystem."""
        self.path = Path(path)
        self.closed = False
        self.conn = connect(self.path)
        self.db = sqlite_utils.Database(self.conn)
        self.subsystems = (CORE, *subsystems)
        try:
            for subsystem in self.subsystems:
                migrate(self.db, subsystem.name, subsystem.migrations)
        except sqlite3.DatabaseError as exc:
            from aggregator.store.connect import _cause

            raise StoreError(_cause(exc, self.path)) from None
        # Subsystems' hooks run inside the apply transaction (e.g. the notification outbox).
        self.event_hooks = [sub.event_hook for sub in self.subsystems if sub.event_hook]

    def close(self) -> None:
        self.closed = True
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- providers ---------------------------------------------------------------------------
    def add_provider(self, provider_id: str, *, name: str, url: str, platform: str,
                     category: str | None = None, interval: float | None = None) -> None:
        """Follow a provider (idempotent: following again updates name/url/platform, keeps state)."""
        now = iso(utcnow())
        with self.transaction():
            self.conn.execute(
                "INSERT INTO providers (id, name, url, platform, category, added_at, interval) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                "url = excluded.url, platform = excluded.platform, "
                "category = coalesce(excluded.category, providers.category), "
                "interval = coalesce(excluded.interval, providers.interval)",
                [provider_id, name, url, platform, category, now, interval])

    def remove_provider(self, provider_id: str) -> bool:
        """Unfollow: drop the current state; the event log keeps what happened."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM providers WHERE id = ?", [provider_id])
        return cur.rowcount > 0

    def purge_history(self, provider_id: str) -> int:
        """Delete a provider's event log (``upstream remove --purge``); returns how many events."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM events WHERE provider = ?", [provider_id])
        return cur.rowcount

    # A provider's row with its snapshot JSON (the joined column comes last, so it wins over the
    # empty ``providers.snapshot`` left on SQLite < 3.35).
    _PROVIDER_SQL = ("SELECT p.*, s.snapshot AS snapshot FROM providers p "
                     "LEFT JOIN snapshots s ON s.provider = p.id")

    def get_provider(self, provider_id: str) -> dict[str, Any] | None:
        cur = self.conn.execute(self._PROVIDER_SQL + " WHERE p.id = ?", [provider_id])
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def providers(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        cur = self.conn.execute(self._PROVIDER_SQL + " ORDER BY p.id")
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        if ids is not None:
            wanted = list(ids)
            by_id = {r["id"]: r for r in rows}
            missing = [i for i in wanted if i not in by_id]
            if missing:
                raise KeyError(missing[0])
            return [by_id[i] for i in wanted]
        return rows

    def snapshot(self, provider_id: str) -> Snapshot | None:
        row = self.conn.execute("SELECT snapshot FROM snapshots WHERE provider = ?", [provider_id]).fetchone()
        return Snapshot.model_validate_json(row[0]) if row and row[0] else None

    # --- scheduling --------------------------------------------------------------------------

    def poll_rows(self, ids: Iterable[str] | None = None, *, due_at: float | None = None,
                  exclude: Iterable[str] = (), limit: int | None = None) -> list[dict[str, Any]]:
        """What polling needs of each provider (no snapshot): the given ids, else all, else those
        due at ``due_at`` (never polled first, then the most overdue)."""
        cols = ", ".join(POLL_COLUMNS)
        if ids is not None:
            wanted = list(ids)
            cur = self.conn.execute(f"SELECT {cols} FROM providers WHERE id IN (SELECT value FROM json_each(?))",
                                    [orjson.dumps(wanted).decode()])
            by_id = {r[0]: dict(zip(POLL_COLUMNS, r, strict=True)) for r in cur.fetchall()}
            missing = [i for i in wanted if i not in by_id]
            if missing:
                raise KeyError(missing[0])
            return [by_id[i] for i in wanted]
        sql = f"SELECT {cols} FROM providers"
        args: list[Any] = []
        if due_at is not None:
            sql += " WHERE (next_due_at IS NULL OR next_due_at <= ?)"
            args.append(due_at)
            skip = list(exclude)
            if skip:
                sql += " AND id NOT IN (SELECT value FROM json_each(?))"
                args.append(orjson.dumps(skip).decode())
            sql += " ORDER BY coalesce(next_due_at, 0), id"
        else:
            sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [dict(zip(POLL_COLUMNS, r, strict=True)) for r in self.conn.execute(sql, args).fetchall()]

    def open_notice_ids(self, provider_id: str) -> set[str]:
        """Ids of the provider's incidents and maintenances stored as open (no snapshot load)."""
        return {r[0] for r in self.conn.execute("SELECT id FROM incidents WHERE provider = ? AND is_open = 1",
                                                [provider_id])}

    def set_interval(self, provider_id: str, seconds: float | None, now: float | None = None) -> bool:
        """The provider's own poll interval (None: back to the platform's or the default).

        A next poll already planned further out than the new interval is brought forward."""
        with self.transaction():
            cur = self.conn.execute("UPDATE providers SET interval = ? WHERE id = ?", [seconds, provider_id])
            if cur.rowcount and seconds is not None and now is not None:
                self.conn.execute("UPDATE providers SET next_due_at = ? WHERE id = ? AND next_due_at > ?",
                                  [now + seconds, provider_id, now + seconds])
        return cur.rowcount > 0

    def events(self, provider_id: str | None = None, since_seq: int = 0) -> list[Event]:
        sql = "SELECT * FROM events WHERE seq > ?"
        args: list[Any] = [since_seq]
        if provider_id:
            sql += " AND provider = ?"
            args.append(provider_id)
        cur = self.conn.execute(sql + " ORDER BY seq", args)
        cols = [c[0] for c in cur.description]
        return [event_from_row(dict(zip(cols, r, strict=True))) for r in cur.fetchall()]

    # --- applying polls ------------------------------------------------------------------------
    def apply(self, outcome: PollOutcome) -> list[Event]:
        """Apply one provider's poll in its own transaction; returns the events recorded."""
        return self.apply_many([outcome])

    def apply_many(self, outcomes: Sequence[PollOutcome],
                   on_error: Callable[[PollOutcome, Exception], None] | None = None) -> list[Event]:
        """Apply many polls in one transaction: each becomes a ``WritePlan`` (``aggregator.page.writeplan``,
        from the state stored now) and all plans are executed together in one savepoint.

        Without ``on_error`` any failure is raised (and the whole batch rolled back). With it, a
        failed batch is executed again one plan at a time, each in a savepoint of its own: a
        provider that fails is reported, keeps its previous state (only its schedule moves on, so
        a poison page is not retried in a loop) and the others are committed."""
        events: list[Event] = []
        with self.transaction():
            for segment in _distinct_runs(outcomes):
                events.extend(self._apply_segment(segment, on_error))
        return events

    def _apply_segment(self, outcomes: Sequence[PollOutcome],
                       on_error: Callable[[PollOutcome, Exception], None] | None) -> list[Event]:
        planned = self._plan(outcomes, on_error)
        self.conn.execute("SAVEPOINT poll_batch")
        try:
            events = self._execute([plan for _, plan in planned])
            for outcome, _ in planned:
                self._write_extras(outcome)
        except Exception:
            self.conn.execute("ROLLBACK TO poll_batch")
            self.conn.execute("RELEASE poll_batch")
            if on_error is None:
                raise
            return self._execute_one_by_one(planned, on_error)
        self.conn.execute("RELEASE poll_batch")
        return events

    def _write_extras(self, outcome: PollOutcome) -> None:
        """What a poll read beside the page: past notices from the platform's history (stored as
        backfilled, never notified) and the vendor's own uptime bars."""
        if outcome.has_extras:
            page = outcome.page
            apply_history_extras(self.conn, outcome.provider, observed_at=outcome.observed_at,
                                 backfill=outcome.backfill, current_ids=page.notice_ids if page else (),
                                 vendor_uptime=outcome.vendor_uptime,
                                 vendor_uptime_read=outcome.vendor_uptime_read,
                                 read_at=outcome.observed_at.timestamp())

    def _plan(self, outcomes: Sequence[PollOutcome],
              on_error: Callable[[PollOutcome, Exception], None] | None) -> list[tuple[PollOutcome, WritePlan]]:
        """Each outcome's plan, from what is stored now: one query for the small rows of all of
        them, two more for the snapshots and open notices of those whose page changed."""
        ids = orjson.dumps([o.provider for o in outcomes]).decode()
        heads = {pid: StoredHead(stored_hash, bool(reachable), name) for pid, stored_hash, reachable, name in
                 self.conn.execute("SELECT id, snapshot_hash, reachable, name FROM providers "
                                   "WHERE id IN (SELECT value FROM json_each(?))", [ids])}
        pages = []
        changed = []
        for outcome in outcomes:
            head = heads.get(outcome.provider)
            if head is None:
                continue  # unfollowed while the poll ran
            page = page_of(outcome, head)
            pages.append((outcome, head, page))
            if needs_stored_page(page, head):
                changed.append((outcome, head))
        stored = self._stored_pages(changed) if changed else {}
        planned: list[tuple[PollOutcome, WritePlan]] = []
        for outcome, head, page in pages:
            try:
                planned.append((outcome, plan_write(outcome, head, page, stored.get(outcome.provider))))
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(outcome, exc)
                planned.append((outcome, reschedule_plan(outcome)))
        return planned

    def _stored_pages(self, changed: list[tuple[PollOutcome, StoredHead]]) -> dict[str, StoredPage]:
        if not changed:
            return {}
        stored = {o.provider: StoredPage(None, []) for o, _ in changed}
        # No stored hash: nothing was ever stored for this provider (the snapshot and its hash
        # are written together), so there is no snapshot to read.
        with_snapshot = [o.provider for o, head in changed if head.snapshot_hash]
        if with_snapshot:
            for pid, snapshot_json in self.conn.execute(
                    "SELECT provider, snapshot FROM snapshots WHERE provider IN (SELECT value FROM json_each(?))",
                    [orjson.dumps(with_snapshot).decode()]):
                stored[pid].snapshot_json = snapshot_json
        for pid, notice_id, kind in self.conn.execute(
                "SELECT provider, id, kind FROM incidents WHERE is_open = 1 "
                "AND provider IN (SELECT value FROM json_each(?))", [orjson.dumps(list(stored)).decode()]):
            stored[pid].open_notices.append((notice_id, kind))
        return stored

    def _execute_one_by_one(self, planned: list[tuple[PollOutcome, WritePlan]],
                            on_error: Callable[[PollOutcome, Exception], None]) -> list[Event]:
        events: list[Event] = []
        for outcome, plan in planned:
            self.conn.execute("SAVEPOINT provider_poll")
            try:
                events.extend(self._execute([plan]))
                self._write_extras(outcome)
            except Exception as exc:
                self.conn.execute("ROLLBACK TO provider_poll")
                on_error(outcome, exc)
                self._execute([reschedule_plan(outcome)])
            self.conn.execute("RELEASE provider_poll")
        return events

    def _not_replayed(self, events: list[Event]) -> list[Event]:
        """First-sight events without the notices the log already has: a provider removed and
        followed again does not announce again the incidents it recorded before (issue 16)."""
        notices = [ev for ev in events if ev.subject_id is not None and ev.old is None
                   and ev.kind.value in _ANNOUNCING]
        if not notices:
            return events
        providers = sorted({ev.provider for ev in notices})
        known = set(self.conn.execute(
            f"SELECT provider, kind, subject_id FROM events WHERE provider IN ({','.join('?' * len(providers))}) "
            "AND subject_id IS NOT NULL", providers).fetchall())
        if not known:
            return events
        replayed = {id(ev) for ev in notices if (ev.provider, ev.kind.value, ev.subject_id) in known}
        return [ev for ev in events if id(ev) not in replayed]

    def _execute(self, plans: list[WritePlan]) -> list[Event]:
        """The one write path: the statements of ``plans``, each kind of row for all of them at once."""
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for plan in plans:
            by_columns.setdefault(tuple(plan.provider_columns), []).append(
                (*plan.provider_columns.values(), plan.provider))
        for columns, rows in by_columns.items():
            assignments = ", ".join(f"{column} = ?" for column in columns)
            self.conn.executemany(f"UPDATE providers SET {assignments} WHERE id = ?", rows)
        snapshots = [(plan.provider, plan.snapshot_json) for plan in plans if plan.snapshot_json is not None]
        if snapshots:
            self.conn.executemany("INSERT INTO snapshots (provider, snapshot) VALUES (?, ?) "
                                  "ON CONFLICT (provider) DO UPDATE SET snapshot = excluded.snapshot", snapshots)
        notices = [rows for plan in plans for rows in plan.notice_rows]
        if notices:
            self.conn.executemany(_INSERT_INCIDENT, [incident for incident, _ in notices])
            updates = [update for _, rows in notices for update in rows]
            if updates:
                self.conn.executemany(_INSERT_UPDATE, updates)
        closed = [row for plan in plans for row in plan.closed_notices]
        if closed:
            self.conn.executemany("UPDATE incidents SET is_open = 0, status = ?, resolved_at = coalesce("
                                  "resolved_at, ?), last_seen_at = ? WHERE provider = ? AND id = ?", closed)
        events = [ev for plan in plans
                  for ev in (self._not_replayed(plan.events) if _is_first_sight(plan.events) else plan.events)]
        if not events:
            return events
        self.conn.executemany(_INSERT_EVENT, [_event_row(ev) for ev in events])
        # One writer, one transaction: the rows just inserted took the next numbers in order.
        last = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()[0]
        for seq, ev in enumerate(events, start=last - len(events) + 1):
            ev.seq = seq
        for hook in self.event_hooks:
            hook(self.db, events)
        return events


def _distinct_runs(outcomes: Sequence[PollOutcome]) -> Iterator[Sequence[PollOutcome]]:
    """``outcomes`` cut where a provider comes again: each run is planned from one read of the
    stored state, which a provider's earlier outcome in the same run would make stale."""
    seen: set[str] = set()
    start = 0
    for index, outcome in enumerate(outcomes):
        if outcome.provider in seen:
            yield outcomes[start:index]
            seen.clear()
            start = index
        seen.add(outcome.provider)
    if start < len(outcomes):
        yield outcomes[start:]


_INSERT_EVENT = ("INSERT INTO events (kind, provider, subject_id, subject_name, old, new, observed_at, occurred_at, "
                 "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_INCIDENT = (
    "INSERT INTO incidents (provider, id, kind, title, impact, status, raw_status, is_open, started_at, "
    "updated_at, resolved_at, scheduled_for, scheduled_until, url, component_ids, regions, first_seen_at, "
    "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (provider, id) DO UPDATE SET kind = excluded.kind, title = excluded.title, "
    "impact = excluded.impact, status = excluded.status, raw_status = excluded.raw_status, "
    "is_open = excluded.is_open, started_at = coalesce(excluded.started_at, incidents.started_at), "
    "updated_at = excluded.updated_at, resolved_at = coalesce(excluded.resolved_at, "
    "CASE WHEN excluded.is_open = 0 THEN coalesce(incidents.resolved_at, excluded.last_seen_at) END), "
    "scheduled_for = excluded.scheduled_for, scheduled_until = excluded.scheduled_until, "
    "url = coalesce(excluded.url, incidents.url), component_ids = excluded.component_ids, "
    "regions = excluded.regions, last_seen_at = excluded.last_seen_at, "
    "backfilled = 0")  # seen by a poll: no longer only history (aggregator.store.backfill)
_INSERT_UPDATE = ("INSERT INTO incident_updates (provider, incident_id, id, status, raw_status, body, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET status = excluded.status, "
                  "raw_status = excluded.raw_status, body = excluded.body, created_at = excluded.created_at")


# Events that announce a notice: never twice for one (provider, notice) in the log.
_ANNOUNCING = frozenset({"incident.opened", "maintenance.scheduled", "maintenance.started"})


def _is_first_sight(events: list[Event]) -> bool:
    return any(ev.kind is EventKind.provider_status_changed and ev.detail and ev.detail.get("first_sight")
               for ev in events)


def _event_row(ev: Event) -> tuple[Any, ...]:
    return (ev.kind.value, ev.provider, ev.subject_id, ev.subject_name, ev.old, ev.new, iso(ev.observed_at),
            iso(ev.occurred_at), orjson.dumps(ev.detail, option=orjson.OPT_SORT_KEYS).decode() if ev.detail else None)


def event_from_row(row: dict[str, Any]) -> Event:
    detail = row.get("detail")
    return Event(seq=row["seq"], kind=EventKind(row["kind"]), provider=row["provider"], subject_id=row["subject_id"],
                 subject_name=row["subject_name"], old=row["old"], new=row["new"], observed_at=row["observed_at"],
                 occurred_at=row["occurred_at"], detail=orjson.loads(detail) if detail else None)


__all__ = ["Incident", "Maintenance", "PollOutcome", "Store", "StoreError", "snapshot_hash", "vanished_notices"]
