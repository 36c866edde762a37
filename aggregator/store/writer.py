"""The SQLite store: current state tables plus the append-only ``events`` log of every change.

One provider's poll is applied in one transaction (a savepoint when many are batched), so a crash
never leaves half a snapshot. WAL mode lets the CLI read while ``upstream watch`` writes. Each
subsystem (core, notify, ...) owns a list of migrations; ``schema_versions`` says which ran.

Read-only query commands use ``aggregator.store.reader`` instead, which needs neither pydantic nor
sqlite-utils and so starts fast.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from aggregator.errors import StoreError
from aggregator.page.diff import Notice, diff, vanished_notices
from aggregator.page.model import Event, Incident, Maintenance, Snapshot
from aggregator.page.serialize import NoticeRows, ParsedPage, notice_rows, prepare, snapshot_hash
from aggregator.page.vocab import EventKind
from aggregator.page.vocab import iso_z as iso
from aggregator.store.connect import connect
from aggregator.store.schema import CORE, Subsystem, migrate


def utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------------
# Schema
# ------------------------------------------------------------------------------------------------

@dataclass
class PollOutcome:
    """What one poll of one provider produced, ready to be applied by the single writer."""

    provider: str
    observed_at: datetime
    snapshot: Snapshot | None = None
    error: str | None = None
    not_modified: bool = False
    fetch_state: dict[str, Any] | None = None
    history: dict[str, Notice] = field(default_factory=dict)
    page: ParsedPage | None = None  # the snapshot as parsed for the writer (else built from ``snapshot``)
    next_due_at: float | None = None
    failures: int | None = None


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
            raise StoreError(f"{self.path} is not a usable upstream database ({exc})") from None
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
    POLL_COLUMNS = ("id", "platform", "url", "fetch_state", "interval", "failures", "next_due_at", "reachable",
                    "snapshot_hash")

    def poll_rows(self, ids: Iterable[str] | None = None, *, due_at: float | None = None,
                  exclude: Iterable[str] = (), limit: int | None = None) -> list[dict[str, Any]]:
        """What polling needs of each provider (no snapshot): the given ids, else all, else those
        due at ``due_at`` (never polled first, then the most overdue)."""
        cols = ", ".join(self.POLL_COLUMNS)
        if ids is not None:
            wanted = list(ids)
            cur = self.conn.execute(f"SELECT {cols} FROM providers WHERE id IN (SELECT value FROM json_each(?))",
                                    [orjson.dumps(wanted).decode()])
            by_id = {r[0]: dict(zip(self.POLL_COLUMNS, r, strict=True)) for r in cur.fetchall()}
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
        return [dict(zip(self.POLL_COLUMNS, r, strict=True)) for r in self.conn.execute(sql, args).fetchall()]

    def next_due_at(self, exclude: Iterable[str] = ()) -> float | None:
        """The earliest next-due time among providers (None when nobody is followed)."""
        skip = list(exclude)
        sql = "SELECT min(coalesce(next_due_at, 0)) FROM providers"
        args: list[Any] = []
        if skip:
            sql += " WHERE id NOT IN (SELECT value FROM json_each(?))"
            args.append(orjson.dumps(skip).decode())
        row = self.conn.execute(sql, args).fetchone()
        return row[0] if row else None

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
        with self.transaction():
            return self._apply(outcome)

    def apply_many(self, outcomes: Sequence[PollOutcome],
                   on_error: Callable[[PollOutcome, Exception], None] | None = None) -> list[Event]:
        """Apply many polls in one transaction; each provider in a savepoint of its own, so one
        provider's failure rolls back only that provider, never leaving it half-applied.

        Without ``on_error`` such a failure is raised (and the whole batch rolled back); with it,
        the failure is reported, that provider keeps its previous state (only its schedule moves
        on, so a poison page is not retried in a loop) and the others are committed."""
        events: list[Event] = []
        with self.transaction():
            outcomes = self._apply_unchanged(outcomes)
            outcomes = self._apply_first_sights(outcomes, events)
            for outcome in outcomes:
                self.conn.execute("SAVEPOINT provider_poll")
                try:
                    events.extend(self._apply(outcome))
                except Exception as exc:
                    self.conn.execute("ROLLBACK TO provider_poll")
                    self.conn.execute("RELEASE provider_poll")
                    if on_error is None:
                        raise
                    on_error(outcome, exc)
                    self._reschedule_only(outcome)
                    continue
                self.conn.execute("RELEASE provider_poll")
        return events

    def _apply_unchanged(self, outcomes: Sequence[PollOutcome]) -> Sequence[PollOutcome]:
        """Write the outcomes that change nothing but times and schedule (a 304 or an identical
        body from a reachable provider) in one statement; returns the others, for ``_apply``.

        Each row is one UPDATE, atomic on its own, with exactly what ``_apply`` would write."""
        quiet = [o for o in outcomes if o.not_modified and o.error is None and o.snapshot is None
                 and o.fetch_state is None and o.next_due_at is not None and o.failures is not None]
        if len(quiet) < 2:
            return outcomes
        ids = orjson.dumps([o.provider for o in quiet]).decode()
        reachable = {r[0] for r in self.conn.execute(
            "SELECT id FROM providers WHERE reachable = 1 AND id IN (SELECT value FROM json_each(?))", [ids])}
        fast = [o for o in quiet if o.provider in reachable]
        self.conn.executemany(
            "UPDATE providers SET last_polled_at = ?, next_due_at = ?, failures = ?, reachable = 1, "
            "last_error = NULL, last_success_at = ? WHERE id = ?",
            [(now, o.next_due_at, o.failures, now, o.provider) for o in fast for now in [iso(o.observed_at)]])
        done = {id(o) for o in fast}
        return [o for o in outcomes if id(o) not in done]

    def _apply_first_sights(self, outcomes: Sequence[PollOutcome], events: list[Event]) -> Sequence[PollOutcome]:
        """Write the first sights of a batch (pages parsed where they were fetched, of providers
        never stored and reachable so far) in a few statements for all of them; returns the
        others, for ``_apply``. What each provider gets is what ``_apply`` would write for it.

        All of them are written in one savepoint: if any statement fails, none is, and each goes
        through ``_apply`` (in a savepoint of its own) instead."""
        candidates = [o for o in outcomes if o.error is None and o.page is not None and o.page.first_sight
                      and not o.history and o.next_due_at is not None and o.failures is not None]
        if len(candidates) < 2:
            return outcomes
        ids = orjson.dumps([o.provider for o in candidates]).decode()
        never_stored = {r[0] for r in self.conn.execute(
            "SELECT id FROM providers WHERE snapshot_hash IS NULL AND reachable = 1 "
            "AND id IN (SELECT value FROM json_each(?))", [ids])}
        firsts = [o for o in candidates if o.provider in never_stored]
        if len(firsts) < 2:
            return outcomes
        self.conn.execute("SAVEPOINT first_sights")
        try:
            written = self._write_first_sights(firsts)
        except Exception:  # noqa: BLE001 - each is then applied on its own, and fails on its own
            self.conn.execute("ROLLBACK TO first_sights")
            self.conn.execute("RELEASE first_sights")
            return outcomes
        self.conn.execute("RELEASE first_sights")
        events.extend(written)
        done = {id(o) for o in firsts}
        return [o for o in outcomes if id(o) not in done]

    def _write_first_sights(self, firsts: list[PollOutcome]) -> list[Event]:
        pages = [(o, o.page) for o in firsts if o.page is not None]
        self.conn.executemany("INSERT INTO snapshots (provider, snapshot) VALUES (?, ?)",
                              [(o.provider, page.json) for o, page in pages])
        notices = [rows for _, page in pages for rows in page.notice_rows]
        if notices:
            self.conn.executemany(_INSERT_INCIDENT, [incident for incident, _ in notices])
            updates = [u for _, rows in notices for u in rows]
            if updates:
                self.conn.executemany(_INSERT_UPDATE, updates)
        self.conn.executemany(
            "UPDATE providers SET last_polled_at = ?, fetch_state = coalesce(?, fetch_state), next_due_at = ?, "
            "failures = ?, reachable = 1, "
            "last_error = NULL, last_success_at = ?, snapshot_hash = ?, status = ?, raw_status = ?, "
            "description = ?, page_id = ?, last_changed_at = ? WHERE id = ?",
            [(now, orjson.dumps(o.fetch_state).decode() if o.fetch_state is not None else None, o.next_due_at,
              o.failures, now, page.content_hash, page.status, page.raw_status, page.description, page.page_id, now,
              o.provider) for o, page in pages for now in [iso(o.observed_at)]])
        events = self._not_replayed([ev for _, page in pages for ev in page.first_sight or ()])
        self.conn.executemany(_INSERT_EVENT, [_event_row(ev) for ev in events])
        # One writer, one transaction: the rows just inserted took the next numbers in order.
        last = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()[0]
        for seq, ev in enumerate(events, start=last - len(events) + 1):
            ev.seq = seq
        for hook in self.event_hooks:
            hook(self.db, events)
        return events

    def _not_replayed(self, events: list[Event]) -> list[Event]:
        """First-sight events without the notices the log already has: a provider removed and
        followed again does not announce again the incidents it recorded before (issue 16)."""
        notices = [ev for ev in events if ev.subject_id is not None and ev.old is None
                   and ev.kind.value != "provider.status_changed"]
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

    def _reschedule_only(self, outcome: PollOutcome) -> None:
        sets: dict[str, Any] = {"last_polled_at": iso(outcome.observed_at)}
        if outcome.next_due_at is not None:
            sets["next_due_at"] = outcome.next_due_at
        if outcome.failures is not None:
            sets["failures"] = outcome.failures
        self._update_provider(outcome.provider, sets)

    def _apply(self, outcome: PollOutcome) -> list[Event]:
        # The stored snapshot (large) is read only when the new one differs from it.
        row = self.conn.execute(
            "SELECT snapshot_hash, reachable, name FROM providers WHERE id = ?",
            [outcome.provider]).fetchone()
        if row is None:
            return []  # unfollowed while the poll ran
        stored_hash, reachable, name = row
        now = iso(outcome.observed_at)
        events: list[Event] = []
        sets: dict[str, Any] = {"last_polled_at": now}
        if outcome.fetch_state is not None:
            sets["fetch_state"] = orjson.dumps(outcome.fetch_state).decode()
        if outcome.next_due_at is not None:
            sets["next_due_at"] = outcome.next_due_at
        if outcome.failures is not None:
            sets["failures"] = outcome.failures

        if outcome.error is not None:
            sets["last_error"] = outcome.error
            if reachable:
                events.append(Event(kind=EventKind.provider_unreachable, provider=outcome.provider,
                                    subject_id=outcome.provider, subject_name=name, old="reachable",
                                    new="unreachable", observed_at=outcome.observed_at,
                                    detail={"reason": outcome.error}))
            sets["reachable"] = 0
            self._update_provider(outcome.provider, sets)
            self._append(events)
            return events

        if not reachable:
            events.append(Event(kind=EventKind.provider_recovered, provider=outcome.provider,
                                subject_id=outcome.provider, subject_name=name, old="unreachable",
                                new="reachable", observed_at=outcome.observed_at))
        sets.update(reachable=1, last_error=None, last_success_at=now)

        page = outcome.page
        if page is None and outcome.snapshot is not None:
            page = prepare(outcome.snapshot, outcome.provider, outcome.observed_at, first_sight=not stored_hash)
        if page is not None and page.content_hash != stored_hash:
            # No stored hash: nothing was ever stored for this provider (the snapshot and its hash
            # are written together), so this is the first sight and there is nothing to read.
            stored_row = self.conn.execute("SELECT snapshot FROM snapshots WHERE provider = ?",
                                           [outcome.provider]).fetchone() if stored_hash else None
            if stored_row is None and page.first_sight is not None:
                changes = self._not_replayed(list(page.first_sight))  # computed where the page was parsed
            else:
                previous = Snapshot.model_validate_json(stored_row[0]) if stored_row else None
                changes = diff(previous, page.model(), outcome.observed_at, outcome.history)
            events.extend(changes)
            self._write_notices(outcome.provider, page, now, outcome.history)
            self.conn.execute("INSERT INTO snapshots (provider, snapshot) VALUES (?, ?) "
                              "ON CONFLICT (provider) DO UPDATE SET snapshot = excluded.snapshot",
                              [outcome.provider, page.json])
            sets.update(snapshot_hash=page.content_hash, status=page.status, raw_status=page.raw_status,
                        description=page.description, page_id=page.page_id)
            if changes:
                sets["last_changed_at"] = now
        self._update_provider(outcome.provider, sets)
        self._append(events)
        return events

    def _update_provider(self, provider: str, sets: dict[str, Any]) -> None:
        assignments = ", ".join(f"{k} = ?" for k in sets)
        self.conn.execute(f"UPDATE providers SET {assignments} WHERE id = ?", [*sets.values(), provider])

    def _append(self, events: list[Event]) -> None:
        if not events:
            return
        for ev in events:
            ev.seq = self.conn.execute(_INSERT_EVENT, _event_row(ev)).lastrowid
        for hook in self.event_hooks:
            hook(self.db, events)

    def _write_notices(self, provider: str, page: ParsedPage, now: str | None, history: dict[str, Notice]) -> None:
        for rows in page.notice_rows:
            self._upsert_notice_rows(rows)
        # Open notices that left the current view are closed, with what history says where known.
        open_rows = self.conn.execute("SELECT id, kind FROM incidents WHERE provider = ? AND is_open = 1",
                                      [provider]).fetchall()
        for notice_id, kind in open_rows:
            if notice_id in page.notice_ids:
                continue
            ended = history.get(notice_id)
            if ended is not None and not ended.is_open:
                self._upsert_notice_rows(notice_rows(provider, ended, now))
            else:
                closed = "resolved" if kind == "incident" else "completed"
                self.conn.execute("UPDATE incidents SET is_open = 0, status = ?, resolved_at = coalesce("
                                  "resolved_at, ?), last_seen_at = ? WHERE provider = ? AND id = ?",
                                  [closed, now, now, provider, notice_id])

    def _upsert_notice_rows(self, rows: NoticeRows) -> None:
        incident, updates = rows
        self.conn.execute(_INSERT_INCIDENT, incident)
        if updates:
            self.conn.executemany(_INSERT_UPDATE, updates)


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
    "regions = excluded.regions, last_seen_at = excluded.last_seen_at")
_INSERT_UPDATE = ("INSERT INTO incident_updates (provider, incident_id, id, status, raw_status, body, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET status = excluded.status, "
                  "raw_status = excluded.raw_status, body = excluded.body, created_at = excluded.created_at")


def _event_row(ev: Event) -> tuple[Any, ...]:
    return (ev.kind.value, ev.provider, ev.subject_id, ev.subject_name, ev.old, ev.new, iso(ev.observed_at),
            iso(ev.occurred_at), orjson.dumps(ev.detail, option=orjson.OPT_SORT_KEYS).decode() if ev.detail else None)


def event_from_row(row: dict[str, Any]) -> Event:
    detail = row.get("detail")
    return Event(seq=row["seq"], kind=EventKind(row["kind"]), provider=row["provider"], subject_id=row["subject_id"],
                 subject_name=row["subject_name"], old=row["old"], new=row["new"], observed_at=row["observed_at"],
                 occurred_at=row["occurred_at"], detail=orjson.loads(detail) if detail else None)


__all__ = ["Incident", "Maintenance", "PollOutcome", "Store", "StoreError", "snapshot_hash", "vanished_notices"]
