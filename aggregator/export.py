"""Exports of what the store holds, as normalised JSON (deterministic: same database, same bytes)."""

from __future__ import annotations

import sqlite3

import orjson

from aggregator.query import status_json, status_rows

FORMATS = ("json", "ndjson")


class ExportError(Exception):
    pass


def export_snapshots(conn: sqlite3.Connection, fmt: str = "json", ids: list[str] | None = None) -> bytes:
    """Every followed (or the given) provider's snapshot, sorted by id, keys sorted."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    snapshots = status_json(status_rows(conn, ids))
    if fmt == "ndjson":
        return b"".join(orjson.dumps(s, option=orjson.OPT_SORT_KEYS) + b"\n" for s in snapshots)
    return orjson.dumps(snapshots, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
