"""The one way upstream opens a SQLite database: our pragmas, a file only its owner can read."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from aggregator.errors import StoreError


def sqlite_uri(path: str | Path, *, readonly: bool = False) -> str:
    """The ``file:`` URI that names exactly ``path``: '#', '?' and '%' in a name are quoted, not read
    as the URI's fragment, query or escapes (``--db a#b.db`` must open ``a#b.db``, not ``a``)."""
    uri = Path(path).absolute().as_uri()
    return uri + "?mode=ro" if readonly else uri


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with our pragmas; the file is created readable by its owner only."""
    path = Path(path)
    if not readonly:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
    elif not path.exists():
        raise StoreError(f"no database at {path} (follow a provider first: upstream add URL)")
    uri = sqlite_uri(path, readonly=readonly)
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(_cause(exc, path)) from None
    return conn


def _cause(exc: sqlite3.DatabaseError, path: Path) -> str:
    """Locked, read-only or full is said as such; anything else means the file is not a database."""
    from aggregator.store.faults import describe

    said = describe(exc, path)
    return said if "database error:" not in said else f"{path} is not a usable upstream database ({exc})"
