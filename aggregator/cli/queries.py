"""``upstream status`` and ``upstream history``: the queries a person types most.

They import only sqlite3, orjson, typer and rich, and the fast lane (``aggregator.cli.fast``)
calls them without building the whole command-line app.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from aggregator.cli.common import (
    FormatOption,
    ago,
    console,
    emit_listing,
    fail,
    local_time,
    open_reader,
    pick_format,
    styled_status,
)
from aggregator.page.termtext import terminal_safe
from aggregator.page.wording import describe_event, short_error, vendor_time_note


def status_command(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Provider ids or names (default: all followed)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of snapshots with fetch health")] = False,
    fmt: FormatOption = None,
) -> None:
    """What is the status of my vendors, one line each (ids whole, also in a pipe).

    Example: upstream status --format tsv | cut -f1,2
    """
    from aggregator.errors import QueryError
    from aggregator.store.reader import resolve_ids, status_json, status_rows

    conn = open_reader(ctx)
    try:
        wanted = resolve_ids(conn, ids) if ids else None
    except QueryError as exc:
        fail(str(exc))
    rows = status_rows(conn, wanted)
    fmt = pick_format(fmt, json_out)
    if fmt in ("json", "ndjson"):
        emit_listing(fmt, [], [], status_json(rows))
        return
    if not rows and fmt == "table":
        typer.echo("Not following any provider yet: upstream add URL, or upstream follow NAME")
        return
    from rich.markup import escape

    cells: list[list[str]] = []
    for r in rows:
        note = escape(r["description"] or "")
        if r["last_polled_at"] and not r["reachable"]:
            note = f"[red]unreachable[/]: {escape(short_error(r['last_error']))}"
        elif not r["last_polled_at"]:
            note = "not polled yet: upstream poll"
        counts = []
        if r["open_incidents"]:
            counts.append(f"{r['open_incidents']} open")
        if r["open_maintenances"]:
            counts.append(f"{r['open_maintenances']} maint.")
        cells.append([escape(r["id"]), styled_status(r["status"]) if r["last_success_at"] else styled_status("unknown"),
                      ", ".join(counts) or "-", ago(r["last_changed_at"]), ago(r["last_polled_at"]), note])
    emit_listing(fmt, ["PROVIDER", "STATUS", "INCIDENTS", "CHANGED", "POLLED", "NOTE"], cells, [])
    if ids and len(rows) == 1 and fmt == "table" and sys.stdout.isatty():
        _print_components(conn, rows[0]["id"])


def _print_components(conn: Any, provider: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    comps = conn.execute("SELECT name, group_name, status, region FROM components WHERE provider = ? "
                         "ORDER BY coalesce(group_name, ''), position, name", [provider]).fetchall()
    if comps:
        table = Table(box=None, header_style="bold", pad_edge=False, title=None)
        table.add_column("COMPONENT")
        table.add_column("GROUP")
        table.add_column("STATUS")
        for c in comps:
            label = f"{c['name']} ({c['region']})" if c["region"] and c["region"] != c["name"] else c["name"]
            table.add_row(escape(terminal_safe(label)), escape(terminal_safe(c["group_name"] or "")),
                          styled_status(c["status"]))
        console().print()
        console().print(table)
    notices = conn.execute("SELECT kind, title, impact, status, started_at, scheduled_for, url FROM incidents "
                           "WHERE provider = ? AND is_open = 1 ORDER BY started_at DESC", [provider]).fetchall()
    for n in notices:
        when = local_time(n["scheduled_for"] or n["started_at"])
        console().print(f"\n{n['kind']} {terminal_safe(n['title'] or '')} ({n['impact']}, {n['status']}) since {when}"
                        + (f"\n  {terminal_safe(n['url'])}" if n["url"] else ""), markup=False)


def history_command(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(metavar="ID", help="Provider id or name (also one no longer followed)")],
    since: Annotated[str | None, typer.Option(metavar="WHEN",
                                              help="Only events since WHEN (30s, 5m, 2h, 3d, 2026-11-01, ISO time)")]
        = None,
    limit: Annotated[int | None, typer.Option(metavar="N", min=1, help="Only the last N events (N >= 1)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of events")] = False,
    fmt: FormatOption = None,
) -> None:
    """What happened to a provider, oldest first (a removed provider's history stays readable).

    Example: upstream history aws --since 3d --limit 20
    """
    from aggregator.errors import QueryError
    from aggregator.store.reader import history, parse_since, resolve_ids

    if limit is not None and limit < 1:
        fail(f"--limit must be a positive number, not {limit}")
    fmt = pick_format(fmt, json_out)
    conn = open_reader(ctx)
    try:
        when = parse_since(since) if since else None
    except QueryError as exc:
        fail(str(exc))
    try:
        (pid,) = resolve_ids(conn, [provider])
    except QueryError as exc:
        # Removed providers keep their event log: read it, and say they are no longer followed.
        if conn.execute("SELECT 1 FROM events WHERE provider = ? LIMIT 1", [provider]).fetchone() is None:
            fail(str(exc))
        pid = provider
        sys.stderr.write(f"upstream: note: {pid} is no longer followed; its history up to its removal:\n")
    events = history(conn, pid, when, limit)
    if fmt in ("json", "ndjson"):
        emit_listing(fmt, [], [], events)
        return
    if fmt in ("tsv", "csv"):
        emit_listing(fmt, ["OBSERVED", "PROVIDER", "KIND", "EVENT"],
                     [[ev["observed_at"], ev["provider"], ev["kind"], describe_event(ev)] for ev in events], [])
        return
    if not events:
        typer.echo(f"No events for {pid}" + (f" since {since}" if since else "") + ".")
        return
    out = console()
    for ev in events:
        out.print(f"{local_time(ev['observed_at'])}  {describe_event(ev)}{vendor_time_note(ev, local_time)}",
                  markup=False)
