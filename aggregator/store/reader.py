"""Read-only queries for the CLI: plain sqlite3 and orjson, so query commands start fast.

Nothing here imports pydantic, sqlite-utils, httpx or a parser. Snapshots come back as the JSON
the store wrote (already in the exported shape), events as dicts in the exported shape.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from aggregator.errors import OutdatedSchemaError, QueryError
from aggregator.page.vocab import iso_z
from aggregator.store.connect import sqlite_uri


def open_readonly(path: str | Path) -> sqlite3.Connection:
    path = Path(path)
    if not path.exists():
        raise QueryError(f"no database at {path}: follow a provider first (upstream add URL)")
    if path.is_file() and path.stat().st_size == 0:
        # An empty file (touched, or created by a crashed first run): set up once, as poll would.
        raise OutdatedSchemaError(f"{path} is empty and needs setting up")
    try:
        conn = sqlite3.connect(sqlite_uri(path, readonly=True), uri=True, timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        # One read transaction for the whole command: every query of it sees the same committed
        # state, never a poll that ``watch`` commits between two of its statements.
        conn.execute("BEGIN")
        conn.execute("SELECT 1 FROM providers LIMIT 1").fetchall()
        conn.execute("SELECT 1 FROM snapshots LIMIT 1").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table: snapshots" in str(exc):
            conn.close()
            raise OutdatedSchemaError(f"{path} was written by an older upstream and needs upgrading") from None
        raise QueryError(f"{path} is not a usable upstream database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise QueryError(f"{path} is not a usable upstream database ({exc})") from None
    newer = newer_schema(conn)
    if newer:
        conn.close()
        raise QueryError(f"{path} was written by a newer upstream ({newer}): upgrade upstream to read it")
    conn.row_factory = sqlite3.Row
    return conn


def newer_schema(conn: sqlite3.Connection) -> str | None:
    """'core schema 7 > 4' when the database's core schema is newer than this upstream knows, else None
    (the writer checks every subsystem when it opens the database)."""
    from aggregator.store.schema import CORE_MIGRATIONS

    try:
        row = conn.execute("SELECT version FROM schema_versions WHERE subsystem = 'core'").fetchone()
    except sqlite3.OperationalError:
        return None  # older than schema_versions itself: the upgrade path handles it
    if row and row[0] > len(CORE_MIGRATIONS):
        return f"core schema {row[0]} > {len(CORE_MIGRATIONS)}"
    return None


def _rows(conn: sqlite3.Connection, sql: str, args: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sql, args).fetchall()]


def provider_ids(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT id FROM providers ORDER BY id")]


def resolve_ids(conn: sqlite3.Connection, wanted: list[str]) -> list[str]:
    """Check that every id is followed; an unknown one is an error naming close matches."""
    known = provider_ids(conn)
    known_set = set(known)
    out = []
    for pid in wanted:
        if pid in known_set:
            out.append(pid)
            continue
        by_name = [r[0] for r in conn.execute("SELECT id FROM providers WHERE lower(name) = lower(?)", [pid])]
        if len(by_name) == 1:
            out.append(by_name[0])
            continue
        close = [k for k in known if pid.lower() in k.lower()][:5]
        hint = f" (did you mean: {', '.join(close)}?)" if close else ""
        raise QueryError(f"not following {pid!r}{hint}")
    return out


def status_rows(conn: sqlite3.Connection, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Providers with their current status, fetch health and open incident counts."""
    sql = ("SELECT p.id, p.name, p.url, p.platform, p.category, p.status, p.raw_status, p.description, "
           "p.reachable, p.last_error, p.last_polled_at, p.last_success_at, p.last_changed_at, s.snapshot, "
           "(SELECT count(*) FROM incidents i WHERE i.provider = p.id AND i.is_open = 1 "
           " AND i.kind = 'incident') AS open_incidents, "
           "(SELECT count(*) FROM incidents i WHERE i.provider = p.id AND i.is_open = 1 "
           " AND i.kind = 'maintenance') AS open_maintenances, "
           "(SELECT count(*) FROM components c WHERE c.provider = p.id AND c.status NOT IN "
           " ('operational', 'unknown')) AS affected_components "
           "FROM providers p LEFT JOIN snapshots s ON s.provider = p.id")
    if ids:
        sql += f" WHERE p.id IN ({','.join('?' * len(ids))})"
        rows = _rows(conn, sql, ids)
        order = {pid: i for i, pid in enumerate(ids)}
        rows.sort(key=lambda r: order[r["id"]])
        return rows
    return _rows(conn, sql + " ORDER BY p.id")


def status_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON array ``upstream status --json`` prints: snapshots plus their fetch health."""
    out = []
    for r in rows:
        snap = orjson.loads(r["snapshot"]) if r["snapshot"] else {
            "provider": r["id"], "name": r["name"], "url": r["url"], "platform": r["platform"],
            "status": "unknown", "components": [], "incidents": [], "maintenances": []}
        snap["provider"] = r["id"]
        snap["name"] = snap.get("name") or r["name"]
        snap["category"] = r["category"]
        snap["reachable"] = bool(r["reachable"]) if r["last_polled_at"] else None
        snap["last_error"] = r["last_error"]
        snap["last_polled_at"] = r["last_polled_at"]
        out.append(snap)
    return out


_RELATIVE = re.compile(r"^(\d+)\s*(s|m|min|h|d|w)$")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2h``, ``3d``, ``1w``, ``2026-11-01``, an ISO time, ``today`` or ``yesterday`` -> aware UTC."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if value == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    if value == "yesterday":
        return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    m = _RELATIVE.match(value)
    if m:
        unit = {"s": "seconds", "m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
        return now - timedelta(**{unit[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise QueryError(f"cannot read time {text!r} (try 2h, 3d, 2026-11-01 or an ISO time)") from None
    if when.tzinfo is None:
        when = when.astimezone()  # a bare date or time means the user's local zone
    return when.astimezone(UTC)


def event_dict(row: dict[str, Any]) -> dict[str, Any]:
    detail = row.get("detail")
    return {"seq": row["seq"], "kind": row["kind"], "provider": row["provider"], "subject_id": row["subject_id"],
            "subject_name": row["subject_name"], "old": row["old"], "new": row["new"],
            "observed_at": row["observed_at"], "occurred_at": row["occurred_at"],
            "detail": orjson.loads(detail) if detail else None}


def history(conn: sqlite3.Connection, provider: str | None, since: datetime | None = None,
            limit: int | None = None) -> list[dict[str, Any]]:
    """Events oldest first (the last ``limit`` of them when a limit is given)."""
    sql = "SELECT * FROM events WHERE 1 = 1"
    args: list[Any] = []
    if provider:
        sql += " AND provider = ?"
        args.append(provider)
    if since:
        sql += " AND observed_at >= ?"
        args.append(iso_z(since))
    if limit:
        rows = _rows(conn, f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT ?) ORDER BY seq", [*args, limit])
    else:
        rows = _rows(conn, sql + " ORDER BY seq", args)
    return [event_dict(r) for r in rows]


def open_notices_of(conn: sqlite3.Connection, provider_ids: list[str]) -> dict[str, list[str]]:
    """Ids of the incidents and maintenances stored as open, for each of ``provider_ids`` that has any."""
    found: dict[str, list[str]] = {}
    if not provider_ids:
        return found
    for provider, notice in conn.execute(
            "SELECT provider, id FROM incidents WHERE is_open = 1 AND provider IN (SELECT value FROM json_each(?))",
            [orjson.dumps(provider_ids).decode()]):
        found.setdefault(provider, []).append(notice)
    return found
