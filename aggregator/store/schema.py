"""The schema: the core tables and their migrations, and what a subsystem that owns tables is.

Each subsystem (core, notify, ...) owns a list of migrations; ``schema_versions`` says which ran.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aggregator.errors import StoreError

if TYPE_CHECKING:  # the fast readers import this module for its versions: no sqlite-utils, no pydantic
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]
EventHook = Callable[["sqlite_utils.Database", list[Any]], None]


def _core_v1(db: sqlite_utils.Database) -> None:
    run_script(db,
        """
        CREATE TABLE providers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            url TEXT NOT NULL,
            platform TEXT NOT NULL,
            category TEXT,
            added_at TEXT NOT NULL,
            page_id TEXT,
            status TEXT,
            raw_status TEXT,
            description TEXT,
            snapshot TEXT,            -- the latest normalised Snapshot as JSON (moved to snapshots in v3)
            snapshot_hash TEXT,
            fetch_state TEXT,         -- JSON {endpoint key: {url, etag, last_modified, hash}}
            reachable INTEGER NOT NULL DEFAULT 1,
            last_error TEXT,
            last_polled_at TEXT,
            last_success_at TEXT,
            last_changed_at TEXT,
            interval REAL,            -- seconds; NULL = the platform's or global default
            next_due_at REAL,         -- unix time; NULL = due now
            failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE components (
            provider TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            group_name TEXT,
            status TEXT NOT NULL,
            raw_status TEXT,
            description TEXT,
            position INTEGER,
            region TEXT,
            only_show_if_degraded INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT,
            PRIMARY KEY (provider, id)
        );
        CREATE TABLE incidents (
            provider TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('incident', 'maintenance')),
            title TEXT NOT NULL,
            impact TEXT NOT NULL,
            status TEXT NOT NULL,
            raw_status TEXT,
            is_open INTEGER NOT NULL,
            started_at TEXT,
            updated_at TEXT,
            resolved_at TEXT,
            scheduled_for TEXT,
            scheduled_until TEXT,
            url TEXT,
            component_ids TEXT,       -- JSON array
            regions TEXT,             -- JSON array
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            PRIMARY KEY (provider, id)
        );
        CREATE INDEX incidents_open ON incidents (is_open, provider);
        CREATE TABLE incident_updates (
            provider TEXT NOT NULL,
            incident_id TEXT NOT NULL,
            id TEXT NOT NULL,
            status TEXT,
            raw_status TEXT,
            body TEXT,
            created_at TEXT,
            PRIMARY KEY (provider, incident_id, id),
            FOREIGN KEY (provider, incident_id) REFERENCES incidents(provider, id) ON DELETE CASCADE
        );
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            provider TEXT NOT NULL,
            subject_id TEXT,
            subject_name TEXT,
            old TEXT,
            new TEXT,
            observed_at TEXT NOT NULL,
            occurred_at TEXT,
            detail TEXT
        );
        CREATE INDEX events_provider_seq ON events (provider, seq);
        CREATE INDEX events_observed ON events (observed_at);
        """
    )


def _core_v2(db: sqlite_utils.Database) -> None:
    # The scheduler asks "who is due" every tick and "when is the next one due" between ticks.
    db.execute("CREATE INDEX IF NOT EXISTS providers_due ON providers (next_due_at)")


def _core_v3(db: sqlite_utils.Database) -> None:
    # The latest snapshot (~6 KB of JSON) moves to a table of its own: every poll updates its
    # provider's row (times, schedule, fetch state), and with the snapshot inline each of those
    # small updates rewrote the whole wide row and its overflow pages. ``snapshot_hash`` (32
    # bytes) stays in ``providers``: the poller reads it with the schedule and compares it before
    # deciding whether the snapshot itself is needed.
    # Atomic (``migrate`` runs each step in one transaction) and re-runnable as well, as it was
    # written when migrations ran outside a transaction.
    db.execute("CREATE TABLE IF NOT EXISTS snapshots (provider TEXT PRIMARY KEY "
               "REFERENCES providers(id) ON DELETE CASCADE, snapshot TEXT NOT NULL)")  # latest Snapshot JSON
    if "snapshot" not in {row[1] for row in db.execute("PRAGMA table_info(providers)")}:
        return
    db.execute("INSERT OR REPLACE INTO snapshots (provider, snapshot) SELECT id, snapshot FROM providers "
               "WHERE snapshot IS NOT NULL")
    if sqlite3.sqlite_version_info >= (3, 35, 0):
        db.execute("ALTER TABLE providers DROP COLUMN snapshot")
    else:
        # No DROP COLUMN before SQLite 3.35 (and rebuilding ``providers`` would cascade-delete
        # through the foreign keys): the column stays, empty and never read or written again.
        db.execute("UPDATE providers SET snapshot = NULL")


# The components view: one row per component of each provider's latest snapshot, in page order.
COMPONENTS_VIEW = """
    CREATE VIEW components AS
    SELECT s.provider AS provider,
           json_extract(c.value, '$.id') AS id,
           json_extract(c.value, '$.name') AS name,
           json_extract(c.value, '$.group') AS group_name,
           json_extract(c.value, '$.status') AS status,
           json_extract(c.value, '$.raw_status') AS raw_status,
           json_extract(c.value, '$.description') AS description,
           json_extract(c.value, '$.position') AS position,
           json_extract(c.value, '$.region') AS region,
           json_extract(c.value, '$.only_show_if_degraded') AS only_show_if_degraded,
           json_extract(c.value, '$.updated_at') AS updated_at,
           c.key AS page_order
    FROM snapshots s, json_each(s.snapshot, '$.components') c
"""


def _core_v4(db: sqlite_utils.Database) -> None:
    # ``components`` becomes a view over the snapshots: the table held the same facts as the
    # snapshot JSON beside it, and writing both cost more than half of a first poll's writes
    # (~20 rows and an index entry each per provider). The view has the table's columns, so SQL
    # that read the table reads the view, and it can never disagree with the snapshot.
    # Re-runnable, like v3: a crash between the statements leaves either the table or the view.
    kinds = dict(db.execute("SELECT name, type FROM sqlite_master WHERE name = 'components'").fetchall())
    if kinds.get("components") == "table":
        db.execute("DROP TABLE components")
    if kinds.get("components") != "view":
        db.execute(COMPONENTS_VIEW)


def _core_v5(db: sqlite_utils.Database) -> None:
    # Issue 13: incidents and maintenances read from the platform's history (not seen open by a
    # poll) are marked, and never notified; the vendor's own per-day uptime is kept apart from
    # what upstream observed. Re-runnable, like v3.
    if "backfilled" not in {row[1] for row in db.execute("PRAGMA table_info(incidents)")}:
        db.execute("ALTER TABLE incidents ADD COLUMN backfilled INTEGER NOT NULL DEFAULT 0")
    if "vendor_uptime_at" not in {row[1] for row in db.execute("PRAGMA table_info(providers)")}:
        db.execute("ALTER TABLE providers ADD COLUMN vendor_uptime_at REAL")  # unix time of the last read
    db.execute(
        """CREATE TABLE IF NOT EXISTS vendor_uptime (
            provider TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
            component_id TEXT NOT NULL,
            name TEXT NOT NULL,
            is_group INTEGER NOT NULL DEFAULT 0,
            position INTEGER NOT NULL,  -- the page's data order
            day TEXT NOT NULL,          -- YYYY-MM-DD as the vendor's page dates it
            has_data INTEGER NOT NULL,
            partial_outage_seconds INTEGER NOT NULL DEFAULT 0,
            major_outage_seconds INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (provider, component_id, day)
        )""")


CORE_MIGRATIONS: list[Migration] = [_core_v1, _core_v2, _core_v3, _core_v4, _core_v5]



@dataclass(frozen=True)
class Subsystem:
    """A part of upstream that owns tables: its migrations, and a hook run inside every apply
    transaction that records events (the notification outbox). ``aggregator.core`` names the
    subsystems a store opens with; the store imports none of them."""

    name: str
    migrations: Sequence[Migration]
    event_hook: EventHook | None = None


CORE = Subsystem("core", CORE_MIGRATIONS)


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Run the statements of ``script`` one by one, inside the caller's transaction.

    Not ``executescript``: that commits whatever transaction is open before it starts, so a
    migration written with it is not atomic (a kill between its statements leaves half of it)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        db.execute(statement)


def migrate(db: sqlite_utils.Database, subsystem: str, migrations: Sequence[Migration]) -> int:
    """Run the migrations of ``subsystem`` that have not run yet, each step in a transaction of its
    own together with the version it reaches: a kill at any point leaves the database at the
    version before the step or after it, never between. The version is read under the write lock,
    so processes opening one new database at once run each step once (the others wait for the lock,
    then find it done)."""
    conn = db.conn
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_versions (subsystem TEXT PRIMARY KEY, "
                         "version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM schema_versions WHERE subsystem = ?", [subsystem]).fetchone()
            current = row[0] if row else 0
            if current > len(migrations):
                raise StoreError(f"database schema for {subsystem!r} is version {current}, newer than this "
                                 f"upstream ({len(migrations)}): upgrade upstream")
            if current == len(migrations):
                conn.execute("COMMIT")
                return current
            migrations[current](db)
            if not conn.in_transaction:
                raise StoreError(f"migration {current + 1} of {subsystem!r} committed on its own "
                                 "(use run_script, not executescript)")
            conn.execute("INSERT INTO schema_versions (subsystem, version) VALUES (?, ?) "
                         "ON CONFLICT (subsystem) DO UPDATE SET version = excluded.version",
                         [subsystem, current + 1])
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
