"""The ``upstream`` command line: a thin face over library functions.

Query commands (status, history, ...) import only sqlite3, orjson, typer and rich so they start
fast; the HTTP and parsing stack is imported inside the commands that fetch or parse.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from aggregator.errors import UserError

try:  # typer >= 0.24 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    import click.exceptions as click_errors  # type: ignore[no-redef]

app = typer.Typer(
    name="upstream",
    help="Follow the status pages of your vendors: what is their status, what happened, since when.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

STATUS_STYLE = {
    "operational": "green",
    "under_maintenance": "blue",
    "degraded_performance": "yellow",
    "partial_outage": "dark_orange",
    "major_outage": "red",
    "unknown": "dim",
}



def fail(message: str, code: int = 1) -> NoReturn:
    # One line, always: the message may quote user input or a page's words with line breaks in.
    message = " ".join(message.splitlines())
    sys.stderr.write(f"upstream: error: {message}\n")
    raise typer.Exit(code)


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("upstream", appauthor=False)) / "upstream.db"


def db_path(ctx: typer.Context) -> Path:
    root = ctx.find_root()
    obj = root.obj or {}
    return Path(obj.get("db") or os.environ.get("UPSTREAM_DB") or default_db_path())


def open_store(ctx: typer.Context) -> Any:
    """The read-write store (imports sqlite-utils and pydantic: only for commands that write)."""
    from aggregator.core import open_store as open_database
    from aggregator.errors import StoreError

    try:
        return open_database(db_path(ctx))
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open database {db_path(ctx)}: {exc.strerror or exc}")


def open_reader(ctx: typer.Context) -> Any:
    from aggregator.errors import OutdatedSchemaError, QueryError
    from aggregator.store.reader import open_readonly

    try:
        return open_readonly(db_path(ctx))
    except OutdatedSchemaError:
        # A database from before an upgrade of upstream: migrate it once (read-write), then read.
        open_store(ctx).close()
    except QueryError as exc:
        fail(str(exc))
    try:
        return open_readonly(db_path(ctx))
    except QueryError as exc:
        fail(str(exc))


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


LONG_TABLE = 200  # rows from which a table is printed as aligned lines rather than by rich's Table


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """Rows of rich-markup cells under bold headers, columns aligned.

    Rich's Table measures every cell of every row twice, ~0.3 ms a row: 5,000 providers took
    2 s. Past ``LONG_TABLE`` rows each line is laid out here instead, at its full length (on a
    terminal cut at its width: a long list is for scanning, not for wrapping)."""
    from rich.text import Text

    out = console()
    if len(rows) < LONG_TABLE:
        from rich.table import Table

        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    lines = [[Text(col, "bold") for col in columns]]
    lines.extend([Text.from_markup(cell) if "[" in cell else Text(cell) for cell in row] for row in rows)
    widths = [max(line[k].cell_len for line in lines) for k in range(len(columns))]
    text = Text()
    for line in lines:
        for k, cell in enumerate(line[:-1]):
            text.append_text(cell)
            text.append(" " * (widths[k] - cell.cell_len + 1))
        text.append_text(line[-1])
        text.append("\n")
    if out.is_terminal:
        out.print(text, end="", no_wrap=True, overflow="crop", crop=True)
    else:
        out.width = max(out.width, sum(widths) + len(widths))
        out.print(text, end="", no_wrap=True, crop=False)


def print_json(data: Any) -> None:
    import orjson

    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def local_time(value: str | None, with_date: bool = True) -> str:
    """A stored UTC ISO time shown in the user's local zone."""
    if not value:
        return "-"
    try:
        when = datetime.fromisoformat(value).astimezone()
    except ValueError:
        return value
    return when.strftime("%Y-%m-%d %H:%M %Z" if with_date else "%H:%M %Z")


def ago(value: str | None, now: datetime | None = None) -> str:
    if not value:
        return "never"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def styled_status(status: str | None) -> str:
    status = status or "unknown"
    return f"[{STATUS_STYLE.get(status, 'white')}]{status.replace('_', ' ')}[/]"


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option("--db", help="Database file (env UPSTREAM_DB; default in your data dir)",
                                            show_default=False)] = None,
) -> None:
    ctx.obj = {"db": str(db) if db else None}


# ------------------------------------------------------------------------------------------------
# add / poll
# ------------------------------------------------------------------------------------------------

def slugify(text: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text or "provider"


def default_id(url: str, name: str | None = None) -> str:
    """A readable id for a page: its name, else its host without status./www./the platform's domain."""
    from urllib.parse import urlsplit

    if name:
        return slugify(name)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = re.sub(r"^(status|www|health|trust)\.", "", host)
    host = re.sub(r"\.(statuspage\.io|instatus\.com|betteruptime\.com|betterstack\.com|hund\.io|statuspal\.io|"
                  r"incident\.io|com|io|net|org|co|dev|app|ai|us|cloud)$", "", host)
    host = re.sub(r"\.(com|co|org|net)$", "", host)
    path = parts.path.strip("/")
    return slugify(f"{host}-{path}" if path else host)


def add_provider(store: Any, url: str, *, platform: str | None = None, name: str | None = None,
                 provider_id: str | None = None, category: str | None = None) -> dict[str, Any]:
    """Follow the page at ``url`` (detecting its platform when not given); returns the provider row."""
    from aggregator.adapters import get_adapter, load_adapters, resolve_poll_url
    from aggregator.errors import AdapterError
    from aggregator.http import check_url

    try:
        url = check_url(url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    url = url.rstrip("/")
    detected_name = None
    found = None
    if platform is None:
        from aggregator.catalog.detect import detect_url

        found = detect_url(url)
        if found.verdict not in {"ok", "moved"} or not found.platform:
            why = "; ".join(found.reasons[-2:]) if found.reasons else found.verdict
            raise UserError(f"could not tell what platform serves {url} ({found.verdict}: {why}); "
                            f"give --platform")
        platform = found.platform
        url = found.base_url or url
        detected_name = found.name
    elif platform not in load_adapters():
        raise UserError(f"unknown platform {platform!r} (see: upstream platforms)")
    try:
        url = resolve_poll_url(get_adapter(platform), url, page_id=found.page_id if found else None,
                               api_url=found.api_url if found else None,
                               feed_url=found.feed_url if found else None)
    except AdapterError as exc:
        raise UserError(exc.reason) from None
    name = name or detected_name
    pid = provider_id or default_id(url, name)
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", pid):
        raise UserError(f"bad id {pid!r}: use lowercase letters, digits, '.', '_' and '-'")
    existing = store.get_provider(pid)
    if existing and existing["url"] != url:
        raise UserError(f"id {pid!r} already follows {existing['url']}; choose another with --id")
    store.add_provider(pid, name=name or (existing or {}).get("name") or pid, url=url, platform=platform,
                       category=category)
    return store.get_provider(pid)


@app.command("add")
def add_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The status page URL (may have a path)")],
    platform: Annotated[str | None, typer.Option(help="Platform (default: detect it)")] = None,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    provider_id: Annotated[str | None, typer.Option("--id", help="Id to use (default: from the URL)")] = None,
    category: Annotated[str | None, typer.Option(help="Category")] = None,
) -> None:
    """Follow a status page; prints its id."""
    with open_store(ctx) as store:
        try:
            row = add_provider(store, url, platform=platform, name=name, provider_id=provider_id, category=category)
        except UserError as exc:
            fail(str(exc))
    typer.echo(row["id"])


@app.command("remove")
def remove_command(ctx: typer.Context, ids: Annotated[list[str], typer.Argument(help="Provider ids")]) -> None:
    """Stop following providers (their event history is kept)."""
    with open_store(ctx) as store:
        for pid in ids:
            if not store.remove_provider(pid):
                fail(f"not following {pid!r}")
            typer.echo(f"removed {pid}")


def run_poll(store: Any, ids: list[str] | None, show_progress: bool) -> Any:
    """Poll once with an optional progress bar; returns the PollReport."""
    from aggregator.http import run
    from aggregator.poll.runner import poll_once

    if not show_progress:
        return run(poll_once(store, ids or None))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = len(store.providers(ids or None))
    with Progress(TextColumn("polling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("poll", total=total)
        return run(poll_once(store, ids or None, on_done=lambda *_: progress.advance(task)))


@app.command("poll")
def poll_command(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Provider ids (default: all followed)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    every: Annotated[bool, typer.Option("--all", help="Follow every vendor of the catalog first, then poll all")] = False,
) -> None:
    """Poll followed providers once. Exits 0 even when some pages were unreachable (they are listed)."""
    with open_store(ctx) as store:
        if every:
            if ids:
                fail("give provider ids or --all, not both")
            from aggregator.catalog.data import follow_all

            added, skipped = follow_all(store)
            sys.stderr.write(f"following {added} more catalog vendors"
                             + (f" ({len(skipped)} skipped: they need a page id or API URL)" if skipped else "")
                             + "\n")
        try:
            store.providers(ids or None)
        except KeyError as exc:
            fail(f"not following {exc.args[0]!r}")
        report = run_poll(store, ids, show_progress=sys.stderr.isatty() and not json_out)
    if json_out:
        print_json({"polled": report.polled, "changed": report.changed, "unchanged": report.unchanged,
                    "unreachable": [{"provider": p, "error": e} for p, e in report.unreachable],
                    "events": len(report.events), "seconds": round(report.seconds, 3)})
        return
    out = console()
    for ev in report.events:
        out.print(f"  {ev.provider}: {describe_event(ev.model_dump(mode='json'))}", markup=False)
    from rich.markup import escape

    newly = {ev.provider for ev in report.events if ev.kind.value == "provider.unreachable"}
    for pid, err in report.unreachable:
        if pid not in newly:  # the event line above already gave the reason
            out.print(f"  [red]still unreachable[/] {pid}: {escape(short_error(err))}")
    out.print(report.summary())


def short_error(error: str | None) -> str:
    """A fetch error without the URL it concerns (shown next to the provider already)."""
    if not error:
        return ""
    return re.sub(r"^https?://\S+?: ", "", error)


def describe_event(ev: dict[str, Any]) -> str:
    """One human line for an event."""
    kind, name = ev["kind"], ev.get("subject_name") or ev.get("subject_id") or ""
    old, new = ev.get("old"), ev.get("new")
    detail = ev.get("detail") or {}
    if kind == "provider.unreachable":
        return f"page unreachable: {short_error(detail.get('reason'))}"
    if kind == "provider.recovered":
        return "page reachable again"
    if kind == "provider.status_changed":
        if detail.get("first_sight"):
            return f"first seen: {new} ({len(detail.get('components') or {})} components)"
        return f"status {old} -> {new}" + (f" ({detail['description']})" if detail.get("description") else "")
    if kind == "component.added":
        return f"component added: {name} ({new})"
    if kind == "component.removed":
        return f"component removed: {name}"
    if kind == "component.status_changed":
        return f"{name}: {old} -> {new}"
    what = "incident" if kind.startswith("incident") else "maintenance"
    verb = kind.split(".", 1)[1]
    change = f"{old} -> {new}" if old and old != new else (new or "")
    impact = f" [{detail['impact']}]" if detail.get("impact") and what == "incident" else ""
    return f"{what} {verb}: {name}{impact} ({change})"


# ------------------------------------------------------------------------------------------------
# status / history
# ------------------------------------------------------------------------------------------------

@app.command("status")
def status_command(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Provider ids or names (default: all followed)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of snapshots with fetch health")] = False,
) -> None:
    """What is the status of my vendors."""
    from aggregator.errors import QueryError
    from aggregator.store.reader import resolve_ids, status_json, status_rows

    conn = open_reader(ctx)
    try:
        wanted = resolve_ids(conn, ids) if ids else None
    except QueryError as exc:
        fail(str(exc))
    rows = status_rows(conn, wanted)
    if json_out:
        print_json(status_json(rows))
        return
    if not rows:
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
    print_table(["PROVIDER", "STATUS", "INCIDENTS", "CHANGED", "POLLED", "NOTE"], cells)
    if ids and len(rows) == 1:
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
            table.add_row(escape(label), escape(c["group_name"] or ""), styled_status(c["status"]))
        console().print()
        console().print(table)
    notices = conn.execute("SELECT kind, title, impact, status, started_at, scheduled_for, url FROM incidents "
                           "WHERE provider = ? AND is_open = 1 ORDER BY started_at DESC", [provider]).fetchall()
    for n in notices:
        when = local_time(n["scheduled_for"] or n["started_at"])
        console().print(f"\n{n['kind']} {n['title']} ({n['impact']}, {n['status']}) since {when}"
                        + (f"\n  {n['url']}" if n["url"] else ""), markup=False)


@app.command("history")
def history_command(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(help="Provider id or name")],
    since: Annotated[str | None, typer.Option(help="Only events since WHEN (2h, 3d, 2026-11-01, ISO time)")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the last N events")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="JSON array of events")] = False,
) -> None:
    """What happened to a provider, oldest first."""
    from aggregator.errors import QueryError
    from aggregator.store.reader import history, parse_since, resolve_ids

    conn = open_reader(ctx)
    try:
        (pid,) = resolve_ids(conn, [provider])
        when = parse_since(since) if since else None
    except QueryError as exc:
        fail(str(exc))
    events = history(conn, pid, when, limit)
    if json_out:
        print_json(events)
        return
    if not events:
        typer.echo(f"No events for {pid}" + (f" since {since}" if since else "") + ".")
        return
    out = console()
    for ev in events:
        out.print(f"{local_time(ev['observed_at'])}  {describe_event(ev)}", markup=False)


# ------------------------------------------------------------------------------------------------
# parse (export, schema, uptime and incidents live in cli_export.py)
# ------------------------------------------------------------------------------------------------

def write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(output)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


@app.command("parse")
def parse_command(
    platform: Annotated[str, typer.Argument(help="Platform name (see: upstream platforms)")],
    files: Annotated[list[Path], typer.Argument(help="Saved responses of that platform's endpoints")],
    url: Annotated[str | None, typer.Option(help="The page URL the files came from")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the normalised snapshot as JSON")] = False,
) -> None:
    """Normalise saved responses offline (no database): how to check an adapter."""
    from aggregator.adapters import parse_files
    from aggregator.errors import ParseFilesError

    try:
        snapshot = parse_files(platform, files, url)
    except ParseFilesError as exc:
        fail(str(exc))
    if json_out:
        print_json(snapshot.model_dump(mode="json"))
        return
    print_snapshot(snapshot)


def print_snapshot(snapshot: Any) -> None:
    from rich.table import Table

    out = console()
    from rich.markup import escape

    out.print(f"[bold]{escape(snapshot.name or '?')}[/] ({snapshot.platform}) {styled_status(snapshot.status.value)}"
              + (f" - {escape(snapshot.description)}" if snapshot.description else ""))
    if snapshot.components:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in ("COMPONENT", "GROUP", "STATUS", "RAW"):
            table.add_column(col)
        for c in snapshot.components:
            label = f"{c.name} ({c.region})" if c.region and c.region != c.name else c.name
            table.add_row(escape(label), escape(c.group or ""), styled_status(c.status.value), escape(c.raw_status or ""))
        out.print(table)
    for kind, notices in (("incident", snapshot.incidents), ("maintenance", snapshot.maintenances)):
        for n in notices:
            when = n.scheduled_for if kind == "maintenance" else n.started_at
            out.print(f"{kind} {n.title} ({n.impact.value}, {n.status.value}) "
                      f"{local_time(when.isoformat()) if when else '-'}; {len(n.updates)} updates", markup=False)
    out.print(f"{len(snapshot.components)} components, {len(snapshot.incidents)} incidents, "
              f"{len(snapshot.maintenances)} maintenances")


# ------------------------------------------------------------------------------------------------

_registered: set[str] = set()


def _register_features() -> None:
    """Command groups that live in their own modules add themselves here (once per process)."""
    import importlib

    for name in FEATURE_MODULES:
        if name not in _registered:
            importlib.import_module(name).register(app)
            _registered.add(name)


FEATURE_MODULES: tuple[str, ...] = (
    "aggregator.cli.catalog", "aggregator.cli.export", "aggregator.cli.notify", "aggregator.cli.watch",
)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: click's usage errors and our own become one line and a non-zero exit."""
    from aggregator.cli.fast import try_fast

    fast = try_fast(sys.argv[1:] if argv is None else list(argv))  # status/history without building the app
    if fast is not None:
        return fast
    _register_features()
    try:
        code = app(args=argv, standalone_mode=False, prog_name="upstream")
    except typer.Exit as exc:
        return exc.exit_code
    except click_errors.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else str(exc))
        return 0
    except click_errors.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx else "upstream"
        sys.stderr.write(f"upstream: error: {exc.format_message()} (see: {path} --help)\n")
        return 2
    except typer.Abort:
        sys.stderr.write("upstream: aborted\n")
        return 130
    except click_errors.ClickException as exc:
        sys.stderr.write(f"upstream: error: {exc.format_message()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("upstream: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except sqlite3.Error as exc:
        # Locked, read-only, full or corrupt: one line naming which (not a traceback).
        from aggregator.store.faults import describe

        sys.stderr.write(f"upstream: error: {describe(exc, _db_in(argv))}\n")
        return 1
    return code if isinstance(code, int) else 0


def _db_in(argv: list[str] | None) -> Path:
    """The database a command line names (``--db``, else $UPSTREAM_DB, else the default)."""
    args = sys.argv[1:] if argv is None else list(argv)
    for index, arg in enumerate(args):
        if arg == "--db" and index + 1 < len(args):
            return Path(args[index + 1])
        if arg.startswith("--db="):
            return Path(arg[5:])
    return Path(os.environ.get("UPSTREAM_DB") or default_db_path())


if __name__ == "__main__":
    sys.exit(main())
