"""``upstream watch`` (the polling daemon) and ``upstream set-interval`` (a provider's own interval)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch_command(
        ctx: typer.Context,
        once: Annotated[bool, typer.Option("--once", help="Poll what is due now, then exit")] = False,
        max_cycles: Annotated[int | None, typer.Option("--max-cycles", min=1,
                                                       help="Exit after N rounds of polls")] = None,
        interval_scale: Annotated[float, typer.Option("--interval-scale", min=0.0001,
                                                      help="Multiply every interval and delay (0.1: ten "
                                                           "times as often; for trying things out)")] = 1.0,
        summary_every: Annotated[float | None, typer.Option("--summary-every", min=0.1,
                                                            help="Seconds between summary lines "
                                                                 "(default: [poll] summary_every, 60)")] = None,
    ) -> None:
        """Poll followed providers as they fall due, forever: one line per change, a periodic summary.

        Intervals, jitter, backoff and concurrency come from config.toml ([poll]; see the README).
        Ctrl-C or SIGTERM stops cleanly: what is in hand is written, the rest stays due.
        """
        from dataclasses import replace

        from aggregator.cli.common import open_store, upstream
        from aggregator.page.termtext import terminal_safe

        up = upstream(ctx)
        settings = up.config.poll
        if interval_scale != 1.0:
            settings = settings.scaled(interval_scale)
        if summary_every is not None:
            settings = replace(settings, summary_every=summary_every)
        store = open_store(ctx)

        def log(line: str) -> None:
            stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
            sys.stdout.write(f"{stamp} {terminal_safe(line)}\n")  # one log line, whatever a vendor wrote
            sys.stdout.flush()

        from aggregator.poll.workers import OFFLOAD_MIN

        count = len(store.poll_rows())
        workers = (f", {settings.poll_processes} worker processes for large polls"
                   if settings.poll_processes and count >= OFFLOAD_MIN else "")
        log(f"watching {count} providers (interval {settings.interval * settings.scale:g}s, "
            f"{settings.concurrency} requests at once, {settings.per_host} per host{workers})")
        try:
            # Through the facade, which hands run_watch the notification delivery (the bare
            # run_watch delivers nothing).
            upstream(ctx).watch(settings=settings, max_cycles=max_cycles, once=once, log=log)
        finally:
            up.close()

    @app.command("set-interval")
    def set_interval_command(
        ctx: typer.Context,
        provider: Annotated[str, typer.Argument(metavar="ID", help="Provider id")],
        interval: Annotated[str, typer.Argument(metavar="INTERVAL",
                                                help="Time between polls, 5s to 1d (30s, 5m, 2h, 1d; a bare "
                                                     "number is seconds), or 'default' for the platform's or "
                                                     "[poll] interval")],
    ) -> None:
        """Set how often one provider is polled (between 5 seconds and 1 day).

        Example: upstream set-interval github 5m
        """
        import time

        from aggregator.cli.common import fail, open_store, upstream
        from aggregator.durations import INTERVAL_MAX, INTERVAL_MIN, format_duration, parse_duration
        from aggregator.errors import UpstreamError

        value: float | None = None
        try:
            if interval.strip().lower() != "default":
                value = parse_duration(interval, what="interval", minimum=INTERVAL_MIN, maximum=INTERVAL_MAX)
            open_store(ctx)
            upstream(ctx).set_interval(provider, value, now=time.time())
        except UpstreamError as exc:
            fail(str(exc))
        typer.echo(f"{provider}: every {format_duration(value)}" if value is not None
                   else f"{provider}: default interval")
