"""A real HTTP server on 127.0.0.1 for tests: routes set per path, ETag/304 honoured, hits recorded.

It can be stopped and started again on the same port, to show a page going away and coming back.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True
    delay: float = 0.0
    # A custom handler takes over the whole response (fault injection).
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass
class Posted:
    """One POST received: what a webhook receiver sees."""

    path: str
    headers: dict[str, str]
    body: bytes


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.posts: list[Posted] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- routes ---------------------------------------------------------------------------------
    def set(self, path: str, body: bytes | str = b"", **kwargs: Any) -> Route:
        route = Route(body=body.encode() if isinstance(body, str) else body, **kwargs)
        self.routes[path] = route
        return route

    def set_file(self, path: str, file: str | Path, **kwargs: Any) -> Route:
        return self.set(path, Path(file).read_bytes(), **kwargs)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hit_count(self, path: str) -> int:
        return sum(1 for p, _ in self.hits if p == path)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> LoopbackServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path = self.path.split("?", 1)[0]
                server.hits.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(path) or server.routes.get(self.path)
                if route is None:
                    self._send(404, b"<html><head><title>Not found</title></head><body>nope</body></html>",
                               "text/html", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.handler is not None:
                    route.handler(self)
                    return
                headers = dict(route.headers)
                if route.etag and route.status == 200:
                    tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                    headers["ETag"] = tag
                    if self.headers.get("If-None-Match") == tag:
                        self._send(304, b"", None, headers)
                        return
                self._send(route.status, route.body, route.content_type, headers)

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                # A handler sees the request body as self.body; a route without one answers its status.
                path = self.path.split("?", 1)[0]
                self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.hits.append((self.path, headers))
                server.posts.append(Posted(self.path, headers, self.body))
                route = server.routes.get(path) or server.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.handler is not None:
                    route.handler(self)
                    return
                self._send(route.status, route.body, route.content_type, dict(route.headers))

            def _send(self, status: int, body: bytes, ctype: str | None, headers: dict[str, str]) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
