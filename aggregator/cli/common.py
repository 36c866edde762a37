"""What every command shares: the one-line failure, the database it works on, and output helpers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer

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
    from aggregator.page.termtext import terminal_safe

    message = terminal_safe(" ".join(message.splitlines()))
    sys.stderr.write(f"upstream: error: {message}\n")
    raise typer.Exit(code)


def db_path(ctx: typer.Context) -> Path:
    from aggregator.core import default_db_path

    root = ctx.find_root()
    obj = root.obj or {}
    return Path(obj["db"]) if obj.get("db") else default_db_path()


def upstream(ctx: typer.Context) -> Any:
    """The command's ``Upstream`` (one per command), its config.toml already read: a bad file is
    the same one-line error for every command."""
    from aggregator.core import Upstream
    from aggregator.errors import ConfigError

    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if obj.get("upstream") is None:
        up = Upstream(db_path(ctx))
        try:
            up.config  # noqa: B018 - read now, so that it fails here and not halfway
        except ConfigError as exc:
            fail(str(exc))
        obj["upstream"] = up
        root.obj = obj
    return obj["upstream"]


def open_store(ctx: typer.Context) -> Any:
    """The read-write store (imports sqlite-utils and pydantic: only for commands that write)."""
    from aggregator.errors import StoreError

    up = upstream(ctx)
    try:
        return up.store
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open database {db_path(ctx)}: {exc.strerror or exc}")


def open_reader(ctx: typer.Context) -> Any:
    from aggregator.errors import OutdatedSchemaError, QueryError

    up = upstream(ctx)
    try:
        return up.reader()
    except OutdatedSchemaError:
        # A database from before an upgrade of upstream: migrate it once (read-write), then read.
        open_store(ctx)
        up.close()
    except QueryError as exc:
        fail(str(exc))
    try:
        return up.reader()
    except QueryError as exc:
        fail(str(exc))


def console(stderr: bool = False) -> Any:
    from aggregator.page.termtext import safe_console_class

    return safe_console_class()(stderr=stderr, highlight=False, soft_wrap=False)


LONG_TABLE = 200  # rows from which a table is printed as aligned lines rather than by rich's Table


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    """Rows of rich-markup cells under bold headers, columns aligned.

    Rich's Table measures every cell of every row twice, ~0.3 ms a row: 5,000 providers took
    2 s. Past ``LONG_TABLE`` rows each line is laid out here instead, at its full length (on a
    terminal cut at its width: a long list is for scanning, not for wrapping)."""
    from rich.text import Text

    from aggregator.page.termtext import terminal_safe

    rows = [[terminal_safe(cell) for cell in row] for row in rows]  # a vendor's newline stays in its cell
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


def write_output(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from aggregator.safe_output import write_user_file

    try:
        write_user_file(data, output)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
