"""``upstream serve`` (board, API, metrics, calendars over HTTP) and ``upstream mcp`` (MCP on stdio)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aggregator.cli import common as cli

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(app: typer.Typer) -> None:
    known = {c.callback for c in app.registered_commands}
    for name, command in (("serve", serve_command), ("mcp", mcp_command)):
        if command not in known:
            app.command(name)(command)


def _token(ctx: typer.Context, given: str | None) -> str | None:
    """--token, else UPSTREAM_TOKEN, else [serve] token in config.toml."""
    if given:
        return given
    if os.environ.get("UPSTREAM_TOKEN"):
        return os.environ["UPSTREAM_TOKEN"]
    return cli.upstream(ctx).config.serve_token


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to bind (the default is this machine only)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port)", min=0, max=65535)] = 8787,
    no_watch: Annotated[bool, typer.Option("--no-watch", help="Do not poll: serve what another watch writes")] = False,
    token: Annotated[str | None, typer.Option(help="Require Authorization: Bearer TOKEN (or UPSTREAM_TOKEN, "
                                                   "or [serve] token in config.toml)")] = None,
    rate: Annotated[float, typer.Option(help="Requests a second per client address", min=0.1)] = 50.0,
    interval_scale: Annotated[float, typer.Option("--interval-scale", min=0.0001,
                                                  help="Multiply every poll interval (as watch)")] = 1.0,
) -> None:
    """Serve the live board, a JSON API (/api/v1/), /metrics, calendars, feeds and badges; poll as watch does."""
    import asyncio

    from aggregator.serve.app import ServeConfig
    from aggregator.serve.server import serve

    db = cli.db_path(ctx)
    if not db.exists():
        cli.fail(f"no database at {db}: follow a provider first (upstream add URL)")
    cli.open_reader(ctx).close()  # migrates an old database once, and fails in one line on a bad one
    secret = _token(ctx, token)
    if host not in LOOPBACK and not secret:
        sys.stderr.write(f"upstream: warning: serving on {host} without a token: anyone who can reach it "
                         "can read it\n")

    def log(line: str) -> None:
        stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        sys.stdout.write(f"{stamp} {line}\n")
        sys.stdout.flush()

    config = ServeConfig(db=db, host=host, port=port, token=secret, watch=not no_watch, rate=rate,
                         burst=max(20, int(rate * 4)), log=log, settings=cli.upstream(ctx).config.poll.scaled(interval_scale))
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        cli.fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")


def mcp_command(ctx: typer.Context) -> None:
    """A Model Context Protocol server on stdio: read-only tools for status, incidents and maintenances."""
    from aggregator.mcp_server import run_stdio

    db = cli.db_path(ctx)
    if not db.exists():
        cli.fail(f"no database at {db}: follow a provider first (upstream add URL)")
    run_stdio(db)


def export_ics(ctx: typer.Context, output: Path | None, providers: Sequence[str]) -> None:
    """``upstream export --format ics``: the bytes ``/calendar.ics`` serves (one provider: its calendar)."""
    from aggregator.serve.calendar import calendar_bytes
    from aggregator.store.reader import QueryError, resolve_ids

    conn = cli.open_reader(ctx)
    try:
        ids: list[Any] = resolve_ids(conn, list(providers)) if providers else [None]
    except QueryError as exc:
        cli.fail(str(exc))
    finally:
        conn.close()
    if len(ids) > 1:
        cli.fail("ics: give at most one --provider (or none, for every provider)")
    if output is not None and output.is_dir():
        cli.fail(f"{output} is a directory; give a file name")
    cli.write_output(calendar_bytes(cli.db_path(ctx), ids[0]), output)
