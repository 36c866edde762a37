"""What went wrong with the database, in one line a user can act on: locked (by whom), read-only,
disk full, corrupt. SQLite's own messages ("database or disk is full", "attempt to write a
readonly database") and Python's tracebacks do not say which of these it is, or who holds a lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _CORRUPT, _FULL, _NOTADB = 5, 6, 8, 11, 13, 26


def describe(exc: sqlite3.Error, path: str | Path | None) -> str:
    """One line naming the cause of ``exc`` on the database at ``path``."""
    where = str(path) if path is not None else "database"
    text = str(exc).lower()
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_BUSY, _LOCKED) or "locked" in text:
        holders = lock_holders(path) if path is not None else []
        who = f" (pid {', '.join(str(pid) for pid in holders)})" if holders else ""
        return f"{where}: database is locked by another process{who}; try again when it is done"
    if code == _READONLY or "readonly" in text or "read-only" in text:
        return f"{where}: read-only (the database, its folder or the file system cannot be written)"
    if code == _FULL or "disk is full" in text:
        return f"{where}: disk full"
    if code in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return f"{where} is not a usable upstream database (corrupt: {exc})"
    return f"{where}: database error: {exc}"


def lock_holders(path: str | Path) -> list[int]:
    """Other processes that have the database (or its WAL) open, where /proc tells (Linux)."""
    try:
        target = Path(path).resolve()
    except OSError:
        return []
    names = {str(target), f"{target}-wal", f"{target}-shm"}
    mine = os.getpid()
    found: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == mine:
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in names:
                    found.add(int(entry))
                    break
            except OSError:
                continue
    return sorted(found)
