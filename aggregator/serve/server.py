"""The ``upstream serve`` process: the aiohttp application (routes from ``api``, the request guard and
answer cache from ``app``) and the poll loop beside it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from aggregator.serve import api
from aggregator.serve.app import MAX_REQUEST_BYTES, STATE, ServeConfig, State, guard


async def start_polling(app: web.Application) -> None:
    """Poll as ``watch`` does, in a thread with an event loop of its own: however busy serving
    gets (hundreds of clients, a slow reader), the poll loop is never queued behind a request."""
    state = app[STATE]
    if not state.config.watch:
        return
    import threading

    from aggregator.core import open_store
    from aggregator.notify.dispatch import deliver_pending
    from aggregator.poll.watch import watch

    state.health.watching = True
    started = threading.Event()
    box: dict[str, Any] = {}

    def outcome(out: Any, events: list[Any], seconds: float | None) -> None:
        state.health.outcome(out.provider, bool(out.error), len(events), seconds)

    async def run() -> None:
        box["loop"] = asyncio.get_running_loop()
        box["stop"] = asyncio.Event()
        started.set()
        store = open_store(state.config.db)
        try:
            await watch(store, settings=state.config.settings, log=state.config.log, stop=box["stop"],
                        handle_signals=False, deliver=deliver_pending, on_outcome=outcome, on_lags=state.health.started)
        finally:
            store.close()

    def main() -> None:
        try:
            asyncio.run(run())
        except Exception as exc:  # noqa: BLE001 - said once; serving goes on with what the database has
            state.config.log(f"polling stopped: {type(exc).__name__}: {exc}")
        finally:
            started.set()

    thread = threading.Thread(target=main, name="upstream serve: watch", daemon=True)
    thread.start()
    await asyncio.to_thread(started.wait, 30)
    state.poll_thread = thread
    state.poll_loop = box.get("loop")
    state.poll_stop = box.get("stop")


async def stop_polling(app: web.Application) -> None:
    state = app[STATE]
    if state.poll_thread is None:
        return
    if state.poll_loop is not None and state.poll_stop is not None:
        with contextlib.suppress(RuntimeError):  # its loop already ended
            state.poll_loop.call_soon_threadsafe(state.poll_stop.set)
    await asyncio.to_thread(state.poll_thread.join, 60)


def make_app(config: ServeConfig) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=MAX_REQUEST_BYTES)
    app[STATE] = State(config)
    api.add_routes(app)
    app.on_startup.append(start_polling)
    app.on_cleanup.append(stop_polling)
    return app


async def serve(config: ServeConfig, ready: Callable[[int], None] | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (or a signal: see ``run``)."""
    app = make_app(config)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1] if site._server else config.port  # type: ignore[union-attr]
    config.log(f"serving http://{config.host}:{port}/ (" + ("polling" if config.watch else "not polling: --no-watch")
               + (", bearer token required" if config.token else "") + ")")
    if ready is not None:
        ready(port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    import signal

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not in the main thread (tests run serve in one of their own): no signal handlers there.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        app[STATE].builders.shutdown(wait=False, cancel_futures=True)
        app[STATE].heavy_builders.shutdown(wait=False, cancel_futures=True)
