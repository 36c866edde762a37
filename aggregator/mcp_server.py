"""``upstream mcp``: a Model Context Protocol server on stdio (the official ``mcp`` SDK), read-only.

Its tools answer what an assistant is asked about vendors ("is GitHub down, and what does it
affect?") from the same reads as ``upstream serve`` (aggregator.serve.data). Nothing but the
protocol goes to stdout: the SDK owns it; logging goes to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aggregator.errors import QueryError
from aggregator.serve import data

TOOL_NAMES = ("status", "components", "incidents", "maintenances", "history", "catalog_search")


def _brief(snap: dict[str, Any]) -> dict[str, Any]:
    not_fine = [{"name": c.get("name"), "group": c.get("group"), "status": c.get("status")}
                for c in snap.get("components") or [] if c.get("status") not in ("operational", None)]
    return {"provider": snap["provider"], "name": snap.get("name"), "status": snap.get("status"),
            "description": snap.get("description"), "reachable": snap.get("reachable"),
            "last_polled_at": snap.get("last_polled_at"), "affected_components": not_fine,
            "open_incidents": [{"title": i.get("title"), "impact": i.get("impact"), "status": i.get("status")}
                               for i in snap.get("incidents") or []]}


def build_server(db: Path) -> Any:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    server = MCPServer("upstream", instructions="Read-only status of the vendor status pages upstream follows.")
    ro = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)

    def _guard(fn: Any) -> Any:
        try:
            return fn()
        except QueryError as exc:
            return {"error": str(exc)}

    @server.tool(annotations=ro)
    def status(provider: str | None = None) -> dict[str, Any]:
        """Current status of one followed vendor (id or name), or of all: which are down and what it affects."""
        if provider:
            return _guard(lambda: _brief(data.provider(db, _resolve(db, provider))))
        snaps = data.providers(db)
        summary = data.summary(db)
        return {"anything_down": summary["anything_down"], "counts": summary["counts"],
                "not_operational": [_brief(s) for s in snaps if s.get("status") not in ("operational", None)]}

    @server.tool(annotations=ro)
    def components(provider: str) -> dict[str, Any]:
        """Every component of one vendor's page with its status, group and region."""
        return _guard(lambda: {"provider": provider, "components": [
            {k: c.get(k) for k in ("id", "name", "group", "region", "status")}
            for c in data.components(db, _resolve(db, provider))]})

    @server.tool(annotations=ro)
    def incidents(provider: str | None = None, open_only: bool = True, since: str | None = None,
                  limit: int = 20) -> dict[str, Any]:
        """Open incidents (or, with open_only false, recent ones since e.g. 7d), newest first."""
        def run() -> dict[str, Any]:
            pid = _resolve(db, provider) if provider else None
            rows = data.notices(db, kind="incident", provider_id=pid, open_only=open_only,
                                since=since or (None if open_only else "7d"))
            return {"incidents": [_notice(r) for r in rows[:max(1, min(limit, 200))]]}

        return _guard(run)

    @server.tool(annotations=ro)
    def maintenances(provider: str | None = None) -> dict[str, Any]:
        """Upcoming and running scheduled maintenances, soonest first."""
        return _guard(lambda: {"maintenances": [_notice(r) for r in data.upcoming_maintenances(
            db, _resolve(db, provider) if provider else None)]})

    @server.tool(annotations=ro)
    def history(since: str = "24h", provider: str | None = None, limit: int = 100) -> dict[str, Any]:
        """Changes seen since a time (2h, 3d, 2026-11-01 or ISO), oldest first."""
        return _guard(lambda: {"events": data.events_since(db, since, _resolve(db, provider) if provider else None,
                                                           max(1, min(limit, 1000)))})

    @server.tool(annotations=ro)
    def catalog_search(query: str, limit: int = 10) -> dict[str, Any]:
        """Search the catalog of known vendor status pages (followed or not) by name."""
        return {"results": [{k: h[k] for k in ("id", "name", "url", "platform", "category", "score")}
                            for h in data.catalog_search(query, max(1, min(limit, 50)))]}

    return server


def _resolve(db: Path, provider: str) -> str:
    from aggregator.store.reader import resolve_ids

    with data.reader(db) as conn:
        return resolve_ids(conn, [provider])[0]


def _notice(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("provider", "provider_name", "id", "title", "impact", "status", "is_open", "started_at", "resolved_at",
            "scheduled_for", "scheduled_until", "url", "duration_seconds")
    out = {k: row.get(k) for k in keys}
    updates = row.get("updates") or []
    out["latest_update"] = updates[0].get("body") if updates else None
    return out


def run_stdio(db: Path) -> None:
    import logging
    import sys

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    build_server(db).run("stdio")
