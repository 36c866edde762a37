"""The aiohttp application of ``upstream serve``: routes, caching with ETags, limits, the poll loop.

Every answer is computed in a worker thread (SQLite and JSON work never holds up the event loop
that polls) and cached under the database's version token: a GET of unchanged data costs two
small queries and is answered 304 when the client's ETag matches. Polling (``watch``) runs in
the same process unless ``--no-watch``, in a thread and event loop of its own; clients are served
by aiohttp's asynchronous writes, so a slow reader holds only its own connection, never the poller.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from aggregator.errors import QueryError
from aggregator.serve import data
from aggregator.serve.metrics import DaemonHealth

MAX_REQUEST_BYTES = 16 * 1024  # read-only API: no request needs a body
BOARD_MIN_AGE = 2.0  # seconds a rendered board page is served before a newer version is rendered
MIN_AGE = 1.0  # seconds any other answer is served before a newer version of the data is read
VERSION_EVERY = 0.25  # seconds between reads of the database's version
METRICS_MIN_AGE = 5.0  # the same for /metrics (a scrape of 5,000 pages is 100,000 lines)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ServeConfig:
    db: Path
    host: str = "127.0.0.1"
    port: int = 8787
    token: str | None = None
    watch: bool = True
    rate: float = 50.0  # requests a second per client address, with bursts of ``burst``
    burst: int = 200
    log: Callable[[str], None] = print
    settings: Any = None  # PollSettings for the poll loop


@dataclass
class Cached:
    version: str
    etag: str
    body: bytes
    content_type: str
    at: float


@dataclass
class State:
    config: ServeConfig
    health: DaemonHealth = field(default_factory=DaemonHealth)
    cache: dict[str, Cached] = field(default_factory=dict)
    building: dict[str, asyncio.Future[Cached]] = field(default_factory=dict)
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    builders: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4, "upstream serve"))
    heavy_builders: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(2, "upstream serve heavy"))
    version: str | None = None
    version_at: float = 0.0
    version_pending: asyncio.Future[str] | None = None
    poll_thread: Any = None
    poll_loop: asyncio.AbstractEventLoop | None = None
    poll_stop: asyncio.Event | None = None


STATE: web.AppKey[State] = web.AppKey("state", State)


# ------------------------------------------------------------------------------------------------
# Problems (RFC 9457)
# ------------------------------------------------------------------------------------------------

def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, **({"detail": detail} if detail else {}),
            **extra}
    return web.Response(status=status, body=data.dumps(body), content_type="application/problem+json")


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail


# ------------------------------------------------------------------------------------------------
# Cache and ETags
# ------------------------------------------------------------------------------------------------

async def answer(request: web.Request, build: Callable[[], bytes], content_type: str, *,
                 min_age: float = MIN_AGE, cache_key: str | None = None, heavy: bool = False) -> web.Response:
    """``build()`` (run in a thread) under the current database version, cached and ETagged.

    An answer newer than ``min_age`` is served as it is; an older one of a past version is
    served while the one rebuild of it runs (other clients do not queue behind it). ``heavy``
    answers (every provider at once) are built in threads of their own, so that they never hold
    up the small ones (one provider, a badge, a page of events)."""
    state = request.app[STATE]
    key = cache_key or str(request.rel_url)
    version = await current_version(state)
    hit = state.cache.get(key)
    if hit is None:
        hit = await _build_once(state, key, version, build, content_type, heavy)
    elif hit.version != version and time.monotonic() - hit.at >= min_age:
        if key in state.building:
            pass  # being rebuilt: this client gets the last answer now
        else:
            hit = await _build_once(state, key, version, build, content_type, heavy)
    headers = {"ETag": hit.etag, "Cache-Control": "no-cache"}
    if hit.etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=hit.body, headers=headers, content_type=content_type.split(";")[0],
                        charset="utf-8" if "charset" in content_type or content_type.startswith("text/")
                        or content_type.endswith(("json", "xml")) else None)


async def current_version(state: State) -> str:
    """The database's version token, read at most every VERSION_EVERY seconds (one read for all)."""
    now = time.monotonic()
    if state.version is not None and now - state.version_at < VERSION_EVERY:
        return state.version
    if state.version_pending is None:
        state.version_pending = asyncio.ensure_future(asyncio.to_thread(data.version, state.config.db))
    pending = state.version_pending
    try:
        version = await asyncio.shield(pending)
    finally:
        if state.version_pending is pending and pending.done():
            state.version_pending = None
    state.version, state.version_at = version, time.monotonic()
    return version


async def _build_once(state: State, key: str, version: str, build: Callable[[], bytes],
                      content_type: str, heavy: bool = False) -> Cached:
    """One build per key at a time: 200 clients asking for the same page share one rendering."""
    pending = state.building.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future: asyncio.Future[Cached] = asyncio.get_running_loop().create_future()
    state.building[key] = future
    try:
        # Builds have threads of their own: a slow one never holds up the version reads.
        body = await asyncio.get_running_loop().run_in_executor(state.heavy_builders if heavy else state.builders,
                                                                  build)
        entry = Cached(version, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"', body, content_type,
                       time.monotonic())
        state.cache[key] = entry
        future.set_result(entry)
        return entry
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: nobody else may be waiting
        raise
    finally:
        del state.building[key]


# ------------------------------------------------------------------------------------------------
# Middlewares: problems, token, rate limit, read-only
# ------------------------------------------------------------------------------------------------

@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    if request.method not in ("GET", "HEAD"):
        return problem(405, "Method Not Allowed", "this server is read-only: GET only")
    if request.content_length and request.content_length > 0:
        return problem(413, "Content Too Large", "requests carry no body")
    token = state.config.token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            resp = problem(401, "Unauthorized", "send Authorization: Bearer TOKEN")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="upstream"'
            return resp
    if not _allow(state, request.remote or "?"):
        resp = problem(429, "Too Many Requests", f"more than {state.config.rate:g} requests a second")
        resp.headers["Retry-After"] = "1"
        return resp
    try:
        resp = await handler(request)
    except Problem as exc:
        return problem(exc.status, exc.title, exc.detail)
    except data.NotFound as exc:
        return problem(404, "Not Found", str(exc))
    except QueryError as exc:
        return problem(400, "Bad Request", str(exc))
    except web.HTTPException as exc:
        if exc.status >= 400:
            return problem(exc.status, exc.reason, exc.text if exc.text and exc.text != f"{exc.status}: "
                           f"{exc.reason}" else None)
        raise
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    return resp


def _allow(state: State, client: str) -> bool:
    """A token bucket per client address."""
    now = time.monotonic()
    tokens, last = state.buckets.get(client, (float(state.config.burst), now))
    tokens = min(float(state.config.burst), tokens + (now - last) * state.config.rate)
    if tokens < 1.0:
        state.buckets[client] = (tokens, now)
        return False
    state.buckets[client] = (tokens - 1.0, now)
    if len(state.buckets) > 10_000:  # forget idle clients
        state.buckets = {k: v for k, v in state.buckets.items() if now - v[1] < 60}
    return True


# ------------------------------------------------------------------------------------------------
# The poll loop
# ------------------------------------------------------------------------------------------------
