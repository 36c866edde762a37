"""The library facade: what the command line, the server and the MCP server call.

``open_store`` opens a database with every installed subsystem (today: notifications), so any
caller that applies a poll also fills the outbox; the store itself imports no subsystem.
"""

from __future__ import annotations

from pathlib import Path

from aggregator.store.writer import Store


def open_store(path: str | Path) -> Store:
    """The store at ``path`` (created and migrated as needed) with every subsystem's tables and hooks."""
    from aggregator import notify

    return Store(path, subsystems=[notify.SUBSYSTEM])
