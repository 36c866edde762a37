"""``upstream watch`` (the polling daemon) and ``upstream set-interval`` (a provider's own interval)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer


def _settings(scale: float) -> Any:
    from aggregator.cli import fail
    from aggregator.schedule import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc))
    return settings.scaled(scale) if scale != 1.0 else settings


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

        from aggregator.cli import open_store
        from aggregator.termtext import terminal_safe
        from aggregator.watch import run_watch

        settings = _settings(interval_scale)
        if summary_every is not None:
            settings = replace(settings, summary_every=summary_every)
        store = open_store(ctx)

        def log(line: str) -> None:
            stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
            sys.stdout.write(f"{stamp} {terminal_safe(line)}\n")  # one log line, whatever a vendor wrote
            sys.stdout.flush()

        from aggregator.workers import OFFLOAD_MIN

        count = len(store.poll_rows())
        workers = (f", {settings.poll_processes} worker processes for large polls"
                   if settings.poll_processes and count >= OFFLOAD_MIN else "")
        log(f"watching {count} providers (interval {settings.interval * settings.scale:g}s, "
            f"{settings.concurrency} requests at once, {settings.per_host} per host{workers})")
        try:
            run_watch(store, settings=settings, max_cycles=max_cycles, once=once, log=log)
        finally:
            store.close()

    @app.command("set-interval")
    def set_interval_command(
        ctx: typer.Context,
        provider: Annotated[str, typer.Argument(help="Provider id")],
        seconds: Annotated[str, typer.Argument(help="Seconds between polls, or 'default' for the platform's "
                                                    "or [poll] interval")],
    ) -> None:
        """Set how often one provider is polled."""
        import time

        from aggregator.cli import fail, open_store
        from aggregator.schedule import MIN_INTERVAL

        value: float | None
        if seconds.strip().lower() == "default":
            value = None
        else:
            try:
                value = float(seconds)
            except ValueError:
                fail(f"not a number of seconds: {seconds!r}")
            if not value >= MIN_INTERVAL or value != value or value == float("inf"):
                fail(f"interval must be at least {MIN_INTERVAL:g} seconds, not {seconds}")
        with open_store(ctx) as store:
            if not store.set_interval(provider, value, now=time.time()):
                fail(f"not following {provider!r}")
        typer.echo(f"{provider}: every {value:g}s" if value is not None else f"{provider}: default interval")
