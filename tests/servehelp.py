"""``upstream serve`` on 127.0.0.1 in a thread of its own, for tests: start, talk HTTP, stop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aggregator.serve.app import ServeConfig
from aggregator.serve.server import serve


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Running:
    port: int
    config: ServeConfig
    loop: asyncio.AbstractEventLoop

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET",
            body: bytes | None = None) -> Reply:
        req = urllib.request.Request(self.url(path), headers=headers or {}, method=method, data=body)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


@contextlib.contextmanager
def running(config: ServeConfig) -> Iterator[Running]:
    ready = threading.Event()
    box: dict[str, Any] = {}

    def main() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        stop = asyncio.Event()
        box["stop"] = stop

        def started(port: int) -> None:
            box["port"] = port
            ready.set()

        try:
            loop.run_until_complete(serve(config, ready=started, stop=stop))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            box["error"] = exc
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="upstream serve", daemon=True)
    thread.start()
    assert ready.wait(30), "serve did not start"
    if "error" in box:
        raise box["error"]
    try:
        yield Running(box["port"], config, box["loop"])
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(30)
        assert not thread.is_alive(), "serve did not stop"
