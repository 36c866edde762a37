"""``upstream export``, ``schema``, ``uptime`` and ``incidents``: what happened, in figures and files.

Only typer and the standard library at import; report.py (sqlite3 + orjson) and rich inside the
commands, pydantic only for ``schema``, Jinja2 only for the html board.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregator.cli import common as cli

FORMAT_HELP = "json, ndjson, atom, ics (maintenances as iCalendar) or html (html writes a directory: give -o DIR)"


def register(app: typer.Typer) -> None:
    # cli.main() registers feature modules on every call (tests call it many times): add each once,
    # or typer rebuilds a growing list of duplicate commands on every invocation.
    known = {c.callback for c in app.registered_commands}
    for name, command in (("export", export_command), ("schema", schema_command), ("uptime", uptime_command),
                          ("incidents", incidents_command)):
        if command not in known:
            app.command(name)(command)


# ------------------------------------------------------------------------------------------------
# export / schema
# ------------------------------------------------------------------------------------------------

def export_command(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "json",
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="File to write (default: stdout); a directory for html")] = None,
    providers: Annotated[list[str] | None, typer.Option("--provider", "-p",
                                                        help="Only this provider (repeatable)")] = None,
    categories: Annotated[list[str] | None, typer.Option("--category", "-c",
                                                         help="Only providers in this category (repeatable)")] = None,
    history: Annotated[bool, typer.Option("--history", help="json/ndjson: add the event log")] = False,
    include_removed: Annotated[bool, typer.Option("--include-removed",
                                                  help="--history: also the events of providers no longer "
                                                       "followed")] = False,
    limit: Annotated[int | None, typer.Option(metavar="N", help="Only the newest N events (atom, --history)",
                                              min=1)] = None,
    days: Annotated[int | None, typer.Option(metavar="DAYS", help="html: days of history in each bar (default 90)",
                                             min=1, max=3660)] = None,
) -> None:
    """Export followed providers: normalised snapshots (json, ndjson), a feed of every change (atom) or
    a static status board (html). Same database, same bytes.

    Example: upstream export -f json --history --limit 100 -o upstream.json
    """
    from aggregator.errors import ExportError
    from aggregator.history.export import FORMATS, export_bytes, export_html, select

    if fmt == "ics":
        from aggregator.cli.serve import export_ics

        export_ics(ctx, output, providers or ())
        return
    if fmt not in FORMATS:
        cli.fail(f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)}, ics)")
    # A flag that does not apply to the format is refused, never silently ignored.
    if history and fmt not in ("json", "ndjson"):
        cli.fail(f"--history applies to json and ndjson, not {fmt} ({fmt} always has what it shows)")
    if limit is not None and (fmt == "html" or (fmt in ("json", "ndjson") and not history)):
        cli.fail(f"--limit counts events: it applies to atom and to json/ndjson with --history, not {fmt}"
                 + ("" if fmt == "html" else " without --history"))
    if include_removed and not history:
        cli.fail("--include-removed applies to --history")
    if days is not None and fmt != "html":
        cli.fail(f"--days applies to the html board, not {fmt}")
    # --category is checked by select: against the categories of the followed providers.
    conn = cli.open_reader(ctx)
    try:
        selection = select(conn, providers or (), categories or ())
        if fmt == "html":
            if output is None:
                cli.fail("html writes a directory of pages: give -o DIR")
            if output.exists() and not output.is_dir():
                cli.fail(f"{output} is a file; html needs a directory")
            written = export_html(conn, output, selection, days or 90)
            sys.stderr.write(f"wrote {len(written)} files to {output} (open {output / 'index.html'})\n")
            return
        data = export_bytes(conn, fmt, selection, history=history, limit=limit, include_removed=include_removed)
    except ExportError as exc:
        cli.fail(str(exc))
    if output is not None and output.is_dir():
        cli.fail(f"{output} is a directory; give a file name")
    cli.write_output(data, output)


def schema_command(
    what: Annotated[str, typer.Option("--what", help="snapshot, event or export")] = "export",
) -> None:
    """Print the JSON Schema of exported snapshots, events or the whole export (draft 2020-12)."""
    from aggregator.history.export_models import WHATS, schema_bytes

    if what not in WHATS:
        cli.fail(f"unknown schema {what!r} (choose from: {', '.join(WHATS)})")
    sys.stdout.buffer.write(schema_bytes(what))
    sys.stdout.flush()


# ------------------------------------------------------------------------------------------------
# uptime
# ------------------------------------------------------------------------------------------------

BAR_CHAR = "█"
NO_DATA_CHAR = "·"


def uptime_command(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(help="Provider id or name")],
    days: Annotated[int, typer.Option(help="Days of history (the last is today so far)", min=1, max=3660)] = 90,
    component: Annotated[str | None, typer.Option(help="Only this component (id or name)")] = None,
    until: Annotated[str | None, typer.Option(help="End the window at WHEN instead of now (2026-11-01, ISO)")] = None,
    maintenance_down: Annotated[bool, typer.Option("--maintenance-down",
                                                   help="Count maintenance as not up")] = False,
    unknown_down: Annotated[bool, typer.Option("--unknown-down",
                                               help="Count unknown time (page unreachable) as down")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Figures as JSON (UTC days)")] = False,
) -> None:
    """Uptime per component over the last days, a bar of one cell a day, and incident figures.

    Up = operational or under maintenance (unless --maintenance-down). Time when the page could not
    be reached is unknown and left out (unless --unknown-down). Figures come from the event log."""
    from aggregator.errors import QueryError, ReportError
    from aggregator.history.report import Policy, uptime_report
    from aggregator.store.reader import parse_since, resolve_ids

    conn = cli.open_reader(ctx)
    try:
        (pid,) = resolve_ids(conn, [provider])
        now = parse_since(until) if until else datetime.now(UTC)
    except QueryError as exc:
        cli.fail(str(exc))
    policy = Policy(maintenance_up=not maintenance_down, unknown_as_down=unknown_down)
    try:
        report = uptime_report(conn, pid, days=days, now=now, component=component,
                               tz=UTC if json_out else None, policy=policy)
    except ReportError as exc:
        cli.fail(str(exc))
    if json_out:
        cli.print_json(report)
        return
    print_uptime(report)


def _glyph(status: str) -> str:
    """One cell of a bar: a block in the status's colour, or the status's own letter without colour."""
    return cli.STATUS_LETTER.get(status, "?") if cli.colour_off() else BAR_CHAR


def _bar(cells: list[dict[str, Any]]) -> Any:
    from rich.text import Text

    bar = Text()
    for cell in cells:
        status = cell["status"]
        if status is None:
            bar.append(NO_DATA_CHAR, style="grey35")
        else:
            bar.append(_glyph(status), style=cli.STATUS_STYLE.get(status, "white"))
    return bar


def print_uptime(report: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.text import Text

    from aggregator.history.report import human_duration, percent, shown_percent

    out = cli.console()
    window = report["window"]
    out.print(f"[bold]{escape(report['name'])}[/] ({escape(report['provider'])}): last {window['days']} days, "
              f"{cli.local_time(window['start'])} to {cli.local_time(window['end'])}")
    legend = Text("  ")
    for status in ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage",
                   "unknown"):
        legend.append(_glyph(status), style=cli.STATUS_STYLE[status])
        legend.append(f" {status.replace('_', ' ')}  ")
    legend.append(NO_DATA_CHAR, style="grey35")
    legend.append(" no data   (one cell a day, its worst status; the last cell is today)")
    out.print(legend)
    out.print()
    rows: list[tuple[str, dict[str, Any]]] = [("Page status", report["page"])]
    rows += [((f"{c['group']} / " if c["group"] else "") + c["name"] + ("" if c["listed"] else " (removed)"), c)
             for c in report["components"]]
    width = min(36, max(len(label) for label, _ in rows))
    one_line = out.width >= width + window["days"] + 12
    # Too narrow for one row of cells: fold the bar into equal rows rather than let it wrap raggedly.
    lines = -(-window["days"] // max(10, out.width - 2))
    per_line = -(-window["days"] // lines)
    for label, fig in rows:
        name = Text(label[:width].ljust(width), style="bold" if fig is report["page"] else "")
        pct = Text(shown_percent(fig).rjust(8))
        if one_line:
            out.print(Text.assemble(name, "  ", _bar(fig["days"]), " ", pct))
        else:
            out.print(Text.assemble(name, " ", pct))
            for start in range(0, len(fig["days"]), per_line):
                out.print(_bar(fig["days"][start:start + per_line]))
    out.print(Text(f"  observed by upstream: {report['page']['coverage']['text']}"
                   + ("" if report["page"]["coverage"]["enough"] else " (under a day: no percentage yet)"),
                   style="dim"))
    vendor = report.get("vendor_uptime")
    if vendor:
        out.print()
        out.print(Text(f"Reported by the vendor ({vendor['covers']}, read {cli.local_time(vendor['read_at'])}):",
                       style="bold"))
        for c in vendor["components"]:
            out.print(Text.assemble("  ", Text((c["name"] + (" (group)" if c["is_group"] else ""))[:width].ljust(width)),
                                    " ", Text(percent(c["uptime_percent"]).rjust(8)),
                                    Text(f"  {c['covers']}", style="dim")))
    out.print()
    times = report["page"]["time_in_status_seconds"] if not report["components"] or len(report["components"]) != 1 \
        else report["components"][0]["time_in_status_seconds"]
    spent = [f"{s.replace('_', ' ')} {human_duration(v)}" for s, v in times.items() if v]
    out.print("Time in each status" + (" (page)" if len(report["components"]) != 1 else "") + ": "
              + (", ".join(spent) or "-"), markup=False)
    inc = report["incidents"]
    impacts = ", ".join(f"{n} {k}" for k, n in inc["by_impact"].items() if n)
    out.print(f"Incidents: {inc['count']}" + (f" ({impacts})" if impacts else "")
              + (f", {inc['open']} still open" if inc["open"] else "")
              + (f"; {inc['backfilled']} from the vendor's history, {inc['observed']} observed by upstream"
                 if inc["backfilled"] else ""), markup=False)
    out.print(f"Mean time to resolve: {human_duration(inc['mttr_seconds'])} ({inc['mttr_counts']})", markup=False)
    longest = inc["longest_outage"]
    if longest:
        out.print(f"Longest outage: {human_duration(longest['seconds'])}"
                  + (" (ongoing)" if longest["ongoing"] else "")
                  + f", {longest['title']} [{longest['impact']}] from {cli.local_time(longest['started_at'])}"
                  + f" ({inc['longest_counts']})",
                  markup=False)
    if report["unreachable"]:
        total = sum((_parse(u["end"]) - _parse(u["start"])).total_seconds() for u in report["unreachable"])
        out.print(f"Page unreachable {len(report['unreachable'])} time(s), {human_duration(total)} in all "
                  f"(unknown time).", markup=False)
    if report["first_seen_at"] is None:
        out.print("No history yet: the page has not been read successfully (upstream poll, or upstream watch).",
                  markup=False)
    out.print(Text(report["policy"]["note"] + " Times are in your local zone.", style="dim"))


def _short_local(value: str | None) -> str:
    when = _parse(value) if value else None
    return when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


# ------------------------------------------------------------------------------------------------
# incidents
# ------------------------------------------------------------------------------------------------

def incidents_command(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Provider ids or names (default: all followed)")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only incidents still open")] = False,
    since: Annotated[str | None, typer.Option(help="Only incidents active since WHEN (2h, 3d, 2026-11-01)")] = None,
    kind: Annotated[str, typer.Option(metavar="KIND", help="incident, maintenance or all")] = "incident",
    json_out: Annotated[bool, typer.Option("--json", help="JSON array, each with its updates (UTC)")] = False,
    fmt: cli.FormatOption = None,
) -> None:
    """Incidents across providers, newest first, one line each when piped.

    Example: upstream incidents --open --since 3d --format tsv
    """
    fmt = cli.pick_format(fmt, json_out)
    json_out = fmt in ("json", "ndjson")
    from aggregator.errors import QueryError
    from aggregator.history.report import duration, incident_rows
    from aggregator.store.reader import parse_since, resolve_ids

    if kind not in ("incident", "maintenance", "all"):
        cli.fail(f"unknown kind {kind!r} (choose from: incident, maintenance, all)")
    conn = cli.open_reader(ctx)
    try:
        wanted = resolve_ids(conn, ids) if ids else None
        when = parse_since(since) if since else None
    except QueryError as exc:
        cli.fail(str(exc))
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for pid in wanted or [None]:
        rows += incident_rows(conn, pid, since=when, open_only=open_only,
                              kind=None if kind == "all" else kind, with_updates=json_out)
    rows.sort(key=lambda r: (r.get("scheduled_for") if r["kind"] == "maintenance" else None)
              or r["started_at"] or r["first_seen_at"] or "", reverse=True)
    if json_out:
        for r in rows:
            seconds, ongoing = duration(r, now)
            r["duration_seconds"] = round(seconds, 3) if seconds is not None else None
        cli.emit_listing(fmt, [], [], rows)
        return
    if not rows and fmt == "table":
        typer.echo("No incidents" + (" open" if open_only else "") + (f" since {since}" if since else "") + ".")
        return
    if fmt != "table" or not sys.stdout.isatty():
        cells = []
        for r in rows:
            seconds, ongoing = duration(r, now)
            start = r["scheduled_for"] if r["kind"] == "maintenance" and r["scheduled_for"] else \
                r["started_at"] or r["first_seen_at"]
            cells.append([start or "", r["provider"], r["kind"], r["impact"], r["status"],
                          "" if seconds is None else f"{seconds:.0f}", r["title"]])
        from rich.markup import escape

        cli.emit_listing("tsv" if fmt == "table" else fmt,
                         ["STARTED", "PROVIDER", "KIND", "IMPACT", "STATUS", "SECONDS", "TITLE"],
                         [[escape(c) for c in row] for row in cells], [])
        return
    print_incidents(rows, now, show_kind=kind == "all")


def print_incidents(rows: list[dict[str, Any]], now: datetime, show_kind: bool = False) -> None:
    """A table of incidents; on a narrow terminal each title goes on its own line under its figures."""
    from rich.table import Table
    from rich.text import Text

    from aggregator.history.report import duration, human_duration, parse_iso
    from aggregator.page.termtext import terminal_safe

    impact_style = {"critical": "red", "major": "dark_orange", "minor": "yellow", "maintenance": "blue"}
    zone = datetime.now().astimezone().tzname() or "local"
    lines = []
    for r in rows:
        seconds, ongoing = duration(r, now)
        start = r["scheduled_for"] if r["kind"] == "maintenance" and r["scheduled_for"] else \
            r["started_at"] or r["first_seen_at"]
        if r["kind"] == "maintenance" and r["is_open"] and (parse_iso(start) or now) > now:
            length = "upcoming"
        else:
            length = human_duration(seconds) + (" so far" if ongoing else "")
        cells = [Text(_short_local(start)), Text(r["provider"]),
                 Text(r["impact"], style=impact_style.get(r["impact"], "")),
                 Text(r["status"].replace("_", " "), style="bold" if r["is_open"] else ""), Text(length)]
        title = Text(terminal_safe(r["title"] or ""))  # one line, whatever the vendor wrote
        if show_kind and r["kind"] == "maintenance":
            title.append(" (maintenance)", style="dim")
        if r.get("backfilled"):
            title.append(" (from the vendor's history)", style="dim")
        lines.append((cells, title))
    out = cli.console()
    headers = [f"STARTED ({zone})", "PROVIDER", "IMPACT", "STATUS", "DURATION"]
    widths = [max(len(h), *(len(c[i].plain) for c, _ in lines)) for i, h in enumerate(headers)]
    if out.width >= sum(widths) + 2 * len(widths) + 30:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in headers:
            table.add_column(col, no_wrap=True)
        table.add_column("TITLE", overflow="fold", ratio=1)
        for cells, title in lines:
            table.add_row(*cells, title)
        out.print(table)
        return
    out.print(Text("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(), style="bold"))
    for cells, title in lines:
        row = Text()
        for cell, w in zip(cells, widths, strict=True):
            row.append_text(cell)
            row.append(" " * (w - len(cell.plain) + 2))
        row.rstrip()
        out.print(row)
        out.print(Text.assemble("  ", title))
