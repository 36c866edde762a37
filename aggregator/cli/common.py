"""What every command shares: the one-line failure, the database it works on, and output helpers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

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
    """A rich console; off a terminal (a pipe, a file, cron mail) it never wraps or crops a line."""
    from aggregator.page.termtext import safe_console_class

    out = safe_console_class()(stderr=stderr, highlight=False, soft_wrap=False)
    if not out.is_terminal:
        out.soft_wrap = True
    return out


def colour_off() -> bool:
    """No colour: ``NO_COLOR`` set, or stdout not a terminal."""
    import os

    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()


# Letters that tell the statuses apart where colour cannot (NO_COLOR, a pipe).
STATUS_LETTER = {
    "operational": "=",
    "under_maintenance": "M",
    "degraded_performance": "d",
    "partial_outage": "p",
    "major_outage": "X",
    "unknown": "?",
}

FORMATS = ("table", "tsv", "csv", "json", "ndjson")
FORMAT_HELP = "table (aligned; tab-separated when piped), tsv, csv, json or ndjson"
FormatOption = Annotated[str | None, typer.Option("--format", metavar="FORMAT", help=FORMAT_HELP,
                                                  show_default=False)]


def pick_format(fmt: str | None, json_out: bool) -> str:
    """The listing format from ``--format`` and ``--json``: one of FORMATS, "table" by default."""
    if fmt is not None and fmt not in FORMATS:
        fail(f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if json_out and fmt not in (None, "json"):
        fail(f"--json and --format {fmt} contradict each other: give one")
    return "json" if json_out else fmt or "table"


def _plain(cell: str) -> str:
    from rich.text import Text

    text = Text.from_markup(cell).plain if "[" in cell else cell
    # One record a line: a page's words may carry tabs or line breaks.
    return " ".join(text.split()) if ("\n" in text or "\t" in text or "\r" in text) else text


def emit_listing(fmt: str, columns: list[str], rows: list[list[str]], records: list[Any],
                 key_columns: tuple[str, ...] = ("ID", "PROVIDER", "URL")) -> None:
    """A listing in ``fmt``: rows of rich-markup cells for table/tsv/csv, ``records`` for json/ndjson.

    Off a terminal a table is tab-separated with its header, one record a line, nothing cut.
    On a terminal, key columns (ids, URLs) are never cut or folded: the other columns fold
    first, and where even that does not fit each record becomes a block of ``NAME: value`` lines."""
    if fmt == "json":
        print_json(records)
        return
    if fmt == "ndjson":
        import orjson

        sys.stdout.write("".join(orjson.dumps(r).decode() + "\n" for r in records))
        return
    if fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_plain(c) for c in row] for row in rows)
        return
    if fmt == "tsv" or not sys.stdout.isatty():
        lines = ["\t".join(columns)]
        lines += ["\t".join(_plain(c).replace("\t", " ") for c in row) for row in rows]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    print_table(columns, rows, key_columns)


LONG_TABLE = 200  # rows from which a table is printed as aligned lines rather than by rich's Table


def print_table(columns: list[str], rows: list[list[str]],
                key_columns: tuple[str, ...] = ("ID", "PROVIDER", "URL")) -> None:
    """Rows of rich-markup cells under bold headers, columns aligned, on a terminal.

    Rich's Table measures every cell of every row twice, ~0.3 ms a row: 5,000 providers took
    2 s. Past ``LONG_TABLE`` rows each line is laid out here instead, at its full length. Key
    columns are never cut: when they alone do not fit the width, records become lists."""
    from rich.text import Text

    from aggregator.page.termtext import terminal_safe

    rows = [[terminal_safe(cell) for cell in row] for row in rows]  # a vendor's newline stays in its cell
    out = console()
    if not out.is_terminal:
        emit_listing("tsv", columns, rows, [])
        return
    keys = [k for k, col in enumerate(columns) if col in key_columns]
    key_width = sum(max([len(columns[k])] + [len(_plain(r[k])) for r in rows]) + 2 for k in keys)
    others = len(columns) - len(keys)
    if key_width + 6 * others > out.width:
        # Too narrow for a table whose ids stay whole: one block a record, each value whole.
        label = max(len(c) for c in columns)
        for n, row in enumerate(rows):
            if n:
                out.print()
            for col, cell in zip(columns, row, strict=True):
                line = Text(f"{col:>{label}}: ", "bold")
                line.append_text(Text.from_markup(cell) if "[" in cell else Text(cell))
                # soft_wrap: the terminal folds a long value itself; no line break is put inside it,
                # so a copied id is whole.
                out.print(line, soft_wrap=True)
        return
    if len(rows) < LONG_TABLE:
        from rich.table import Table

        table = Table(box=None, header_style="bold", pad_edge=False)
        for k, col in enumerate(columns):
            if k in keys:
                table.add_column(col, no_wrap=True, overflow="ignore",
                                 min_width=max([len(col)] + [len(_plain(r[k])) for r in rows]))
            else:
                table.add_column(col, overflow="fold")
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
    # A long list is for scanning: lines are kept whole (the terminal folds them), never cut.
    out.print(text, end="", soft_wrap=True)


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
    """A status in its colour; without colour it is prefixed by its letter (``X major outage``)."""
    status = status or "unknown"
    words = status.replace("_", " ")
    if colour_off():
        return f"{STATUS_LETTER.get(status, '?')} {words}"
    return f"[{STATUS_STYLE.get(status, 'white')}]{words}[/]"


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
