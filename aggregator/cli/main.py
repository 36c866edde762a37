"""The ``upstream`` command line: a thin face over library functions.

Query commands (status, history, ...) import only sqlite3, orjson, typer and rich so they start
fast; the HTTP and parsing stack is imported inside the commands that fetch or parse.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregator.errors import UpstreamError

try:  # typer >= 0.24 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    import click.exceptions as click_errors  # type: ignore[no-redef]

from aggregator.cli import queries
from aggregator.cli.common import console, fail, local_time, open_store, print_json, styled_status, upstream
from aggregator.page.wording import describe_event, short_error

app = typer.Typer(
    name="upstream",
    help="Follow the status pages of your vendors: what is their status, what happened, since when.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

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

@app.command("add")
def add_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(metavar="URL", help="The status page URL (may have a path)")],
    platform: Annotated[str | None, typer.Option(metavar="PLATFORM", help="Platform (default: detect it)")] = None,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="Display name")] = None,
    provider_id: Annotated[str | None, typer.Option("--id", metavar="ID", help="Id to use (default: from the URL)")]
        = None,
    category: Annotated[str | None, typer.Option(metavar="CATEGORY",
                                                 help="Category (see: upstream categories)")] = None,
) -> None:
    """Follow a status page (its platform detected) and print its id.

    Example: upstream add https://www.githubstatus.com --category devtools
    """
    try:
        row = upstream(ctx).add(url, platform=platform, name=name, provider_id=provider_id, category=category)
    except UpstreamError as exc:
        fail(str(exc))
    typer.echo(row["id"])


@app.command("import")
def import_command(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FILE|-", help="OPML, CSV with a url column (and name, id, "
                                                                 "platform, category), a JSON list, or one URL "
                                                                 "a line; - reads stdin")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Detect and report, follow nothing")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="The report as JSON, one entry a page")] = False,
) -> None:
    """Follow many status pages at once: detection runs concurrently under the polling caps.

    Example: upstream import pages.opml --dry-run
    """
    from aggregator.catalog.importing import read_import

    if source == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}")
    up = upstream(ctx)
    try:
        items = read_import(text, source)
        open_store(ctx)
        if sys.stderr.isatty() and not json_out:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console(stderr=True), transient=True) as progress:
                task = progress.add_task("import", total=len(items))
                report = up.import_pages(items, dry_run=dry_run, on_done=lambda _o: progress.advance(task))
        else:
            report = up.import_pages(items, dry_run=dry_run)
    except UpstreamError as exc:
        fail(str(exc))
    finally:
        up.close()
    if json_out:
        print_json(report.to_dict())
        return
    for o in report.outcomes:
        if o.result == "added":
            typer.echo(f"{'would add' if dry_run else 'added'}\t{o.provider}\t{o.platform}\t{o.url}")
        else:
            typer.echo(f"{o.result}\t{o.url}\tline {o.line}: {' '.join(o.reason.split())}")
    sys.stderr.write(report.summary() + "\n")
    if report.count("failed") and not report.count("added"):
        raise typer.Exit(1)


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    ids: Annotated[list[str], typer.Argument(metavar="ID...", help="Provider ids")],
    purge: Annotated[bool, typer.Option("--purge", help="Also delete their event history")] = False,
) -> None:
    """Stop following providers; their history stays readable (upstream history ID) unless --purge.

    Example: upstream remove acme-status --purge
    """
    open_store(ctx)
    try:
        removed = upstream(ctx).remove(ids, purge=purge)
    except UpstreamError as exc:
        fail(str(exc))
    for pid, purged in removed:
        typer.echo(f"removed {pid}" + (f" and deleted {purged} events" if purge else
                                       " (history kept: upstream history " + pid + ")"))


def run_poll(up: Any, ids: list[str] | None, show_progress: bool) -> Any:
    """Poll once with an optional progress bar; returns the PollReport."""
    if not show_progress:
        return up.poll(ids or None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    total = len(up.store.providers(ids or None))
    with Progress(TextColumn("polling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("poll", total=total)
        return up.poll(ids or None, on_done=lambda *_: progress.advance(task))


@app.command("poll")
def poll_command(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(help="Provider ids (default: all followed)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    every: Annotated[bool, typer.Option("--all", help="Follow every vendor of the catalog first, then poll all")] = False,
    deliver: Annotated[bool | None, typer.Option("--deliver/--no-deliver",
                                                 help="Then send the notifications due (default: [poll] deliver "
                                                      "in config.toml, off)", show_default=False)] = None,
) -> None:
    """Poll followed providers once; exits 0 even when some pages were unreachable (they are listed).

    Example: upstream poll --deliver   (for cron: poll, then notify)
    """
    import time

    started = time.monotonic()
    up = upstream(ctx)
    open_store(ctx)
    if every:
        if ids:
            fail("give provider ids or --all, not both")
        added, skipped = up.follow_all()
        sys.stderr.write(f"following {added} more catalog vendors"
                         + (f" ({len(skipped)} skipped: they need a page id or API URL)" if skipped else "")
                         + "\n")
    if deliver is None:
        deliver = up.config.deliver
    delivered = None
    try:
        report = run_poll(up, ids, show_progress=sys.stderr.isatty() and not json_out)
        if deliver:
            delivered = up.deliver()
    except UpstreamError as exc:
        fail(str(exc))
    finally:
        up.close()
    # The summary's time is the command's: opening, migrating, polling and delivering.
    report.seconds = time.monotonic() - started
    if json_out:
        print_json({"polled": report.polled, "changed": report.changed, "unchanged": report.unchanged,
                    "unreachable": [{"provider": p, "error": e} for p, e in report.unreachable],
                    "events": len(report.events), "seconds": round(report.seconds, 3),
                    "delivered": None if delivered is None else {
                        "attempted": delivered.attempted, "delivered": delivered.delivered,
                        "retrying": delivered.retrying, "failed": delivered.failed}})
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
    if delivered is not None:
        out.print(delivered.summary(), markup=False)


app.command("status")(queries.status_command)
app.command("history")(queries.history_command)


# ------------------------------------------------------------------------------------------------
# status / history (in queries.py)
# ------------------------------------------------------------------------------------------------

# ------------------------------------------------------------------------------------------------
# parse (export, schema, uptime and incidents live in cli/export.py)
# ------------------------------------------------------------------------------------------------

@app.command("parse")
def parse_command(
    platform: Annotated[str, typer.Argument(help="Platform name (see: upstream platforms)")],
    files: Annotated[list[Path], typer.Argument(help="Saved responses of that platform's endpoints")],
    url: Annotated[str | None, typer.Option(help="The page URL the files came from")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the normalised snapshot as JSON")] = False,
) -> None:
    """Normalise saved responses offline (no database): how to check an adapter."""
    from aggregator.core import Upstream
    from aggregator.errors import ParseFilesError

    try:
        snapshot = Upstream().parse(platform, files, url)
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


# Metavars by parameter name where a command did not give one: what a person would write.
METAVARS = {"provider": "ID", "ids": "ID", "names": "NAME", "days": "DAYS", "since": "WHEN", "until": "WHEN",
            "limit": "N", "component": "COMPONENT", "url": "URL", "files": "FILE", "ref": "SUBSCRIPTION",
            "delivery_id": "DELIVERY", "sink": "SINK", "output": "PATH", "db": "PATH"}


# An example for each command whose docstring has none (the others carry theirs).
EXAMPLES = {
    "parse": "upstream parse statuspage saved-summary.json --json",
    "follow": "upstream follow aws github \"Google Cloud\"",
    "unfollow": "upstream unfollow github",
    "schema": "upstream schema --what event > event.schema.json",
    "uptime": "upstream uptime github --days 30 --component API",
    "subscribe": "upstream subscribe https://hooks.example.com/x --provider github --min-severity major",
    "deliver": "upstream deliver --json",
    "watch": "upstream watch --summary-every 300",
    "subscriptions list": "upstream subscriptions list --format tsv",
    "subscriptions show": "upstream subscriptions show 1 --json",
    "subscriptions pause": "upstream subscriptions pause 1",
    "subscriptions resume": "upstream subscriptions resume 1",
    "subscriptions remove": "upstream subscriptions remove 1",
    "subscriptions test": "upstream subscriptions test 1",
    "subscriptions schema": "upstream subscriptions schema -o payload.schema.json",
    "deliveries": "upstream deliveries --failed",
    "deliveries retry": "upstream deliveries retry --all-failed",
    "deliveries show": "upstream deliveries show 12 --json",
    "catalog": "upstream catalog verify github",
    "catalog verify": "upstream catalog verify github slack",
    "providers": "upstream providers search stripe",
    "providers search": "upstream providers search \"google cloud\"",
    "subscriptions": "upstream subscriptions list",
}


def _plain_help(command: Any, parent: str | None = None) -> None:
    """Help as a person writes it: ``ID...``, ``DAYS``, ``URL`` instead of ``{provider}`` and
    ``<int range>`` (from the parameter's name where a command gave no metavar), each summary
    whole in the command list (click cuts them at 45 characters), an example in every command."""
    from typer.core import TyperArgument, TyperOption

    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub, "" if parent is None else command.name or "")
    if command.help and not command.short_help:
        command.short_help = " ".join(command.help.strip().split("\n\n")[0].split())
    example = EXAMPLES.get(f"{parent} {command.name}".strip()) if parent is not None else None
    if example and command.help and "Example:" not in command.help:
        command.help = command.help.rstrip() + "\n\nExample: " + example
    for param in command.params:
        word = param.metavar or METAVARS.get(param.name, param.name.upper().removesuffix("_OUT"))
        if isinstance(param, TyperArgument):
            shown = word if word.endswith("...") or param.nargs == 1 else word + "..."
            usage = shown if param.required else f"[{shown}]"
            param._usage_display_name = lambda usage=usage: usage  # type: ignore[method-assign]
            param._rich_display_name = lambda shown=shown: shown  # type: ignore[method-assign]
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
        elif isinstance(param, TyperOption) and not param.is_flag and not param.count:
            param.metavar = word
            param.display_type_rich = lambda ctx, word=word: word  # type: ignore[method-assign]


FEATURE_MODULES: tuple[str, ...] = (
    "aggregator.cli.catalog", "aggregator.cli.export", "aggregator.cli.notify", "aggregator.cli.watch",
    "aggregator.cli.serve",
    "aggregator.cli.show",
)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: click's usage errors and our own become one line and a non-zero exit."""
    from aggregator.cli.fast import try_fast

    fast = try_fast(sys.argv[1:] if argv is None else list(argv))  # status/history without building the app
    if fast is not None:
        return fast
    _register_features()
    try:
        command = typer.main.get_command(app)
        _plain_help(command)
        code = command.main(args=argv, standalone_mode=False, prog_name="upstream")
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
    from aggregator.core import default_db_path

    return default_db_path()


if __name__ == "__main__":
    sys.exit(main())
