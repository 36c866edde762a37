"""A fast lane for the query commands a person types most: ``upstream status`` and ``upstream history``.

Building the whole typer app (every command of every feature module) costs more than the
query itself: typer validates parameters through pydantic, which it imports for that. For the
plain forms of ``status`` and ``history`` this module reads the arguments itself and calls the
very same command functions of ``aggregator.cli.main``; anything else (``--help``, an option it does
not know, a bad value) returns None and goes through typer as usual, which gives the usual
messages. Measured by benchmarks/query_speed.py.
"""

from __future__ import annotations

from typing import Any


class _Context:
    """What the command functions use of a typer context: the root's ``obj`` (the --db option)."""

    def __init__(self, db: str | None) -> None:
        self.obj = {"db": db}

    def find_root(self) -> _Context:
        return self


def _parse(argv: list[str]) -> tuple[str | None, str, list[str], dict[str, Any]] | None:
    db: str | None = None
    i = 0
    while i < len(argv) and argv[i].startswith("--db"):
        if argv[i] == "--db" and i + 1 < len(argv):
            db, i = argv[i + 1], i + 2
        elif argv[i].startswith("--db="):
            db, i = argv[i][5:], i + 1
        else:
            return None
    if i >= len(argv) or argv[i] not in {"status", "history"}:
        return None
    command, rest = argv[i], argv[i + 1:]
    args: list[str] = []
    options: dict[str, Any] = {"json_out": False}
    k = 0
    while k < len(rest):
        word = rest[k]
        if word == "--json":
            options["json_out"] = True
        elif command == "history" and word in {"--since", "--limit"} and k + 1 < len(rest):
            value = rest[k + 1]
            if word == "--limit":
                if not value.isdigit() or int(value) < 1:
                    return None
                options["limit"] = int(value)
            else:
                options["since"] = value
            k += 1
        elif word.startswith("-"):
            return None  # --help, -h, options of other forms: typer's business
        else:
            args.append(word)
        k += 1
    if command == "history" and len(args) != 1:
        return None
    return db, command, args, options


def try_fast(argv: list[str]) -> int | None:
    """Run ``argv`` if it is a plain status/history query; None means "use the full CLI"."""
    parsed = _parse(argv)
    if parsed is None:
        return None
    db, command, args, options = parsed
    import typer

    from aggregator.cli import queries as cli

    ctx: Any = _Context(db)
    try:
        if command == "status":
            cli.status_command(ctx, ids=args or None, json_out=options["json_out"])
        else:
            cli.history_command(ctx, provider=args[0], since=options.get("since"), limit=options.get("limit"),
                                json_out=options["json_out"])
    except typer.Exit as exc:
        return exc.exit_code
    except BrokenPipeError:
        return 0
    return 0
