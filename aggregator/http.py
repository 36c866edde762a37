"""One shared HTTP client for every fetch: limits, timeouts, body-size caps, conditional requests.

It keeps the httpx interface but runs on aiohttp's transport (``httpx-aiohttp``), which measured
about 8x the request rate of httpx's own transport on loopback (see benchmarks/http_clients.py).
A fetch never raises: every failure becomes a ``FetchResult`` with ``error`` set, so that a page
that cannot be fetched is recorded as unreachable, never as down.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

USER_AGENT = "upstream/0.1 (+https://github.com/upstream-status/upstream; status-page aggregator)"
DEFAULT_TIMEOUT = 15.0
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 5


@dataclass(slots=True)
class FetchResult:
    url: str
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    final_url: str | None = None
    error: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def body_hash(self) -> str:
        return hashlib.blake2b(self.body, digest_size=16).hexdigest()

    def retry_after(self, now: float | None = None) -> float | None:
        """Seconds the server asked us to wait (``Retry-After`` as seconds or an HTTP date)."""
        return parse_retry_after(self.headers.get("retry-after"), now)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def check_url(url: str) -> str:
    """Only absolute http(s) URLs with a host are fetched; anything else is a user error."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url.strip()


def _transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover - the dependency is declared; fall back rather than fail
        return httpx.AsyncHTTPTransport(limits=limits)
    return AiohttpTransport(limits=limits)


class HttpClient:
    """``async with HttpClient() as http: result = await http.fetch(url, etag=..., last_modified=...)``."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_connections: int = 100, per_host: int = 6, transport: Any = None) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.per_host = per_host
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._client = httpx.AsyncClient(
            transport=transport or _transport(limits),
            timeout=httpx.Timeout(timeout),
            limits=limits,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )
        self._global = asyncio.Semaphore(max_connections)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _host_gate(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = asyncio.Semaphore(self.per_host)
        return gate

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = "application/json") -> FetchResult:
        """GET ``url`` (conditionally), following up to 5 http(s) redirects; never raises."""
        started = time.perf_counter()
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = FetchResult(url=url)
        try:
            check_url(url)
            async with self._global, self._host_gate(url):
                result = await asyncio.wait_for(self._follow(url, headers), timeout=self.timeout * 2)
        except TimeoutError:
            result.error = f"timed out after {self.timeout * 2:.0f}s"
        except ValueError as exc:
            result.error = str(exc)
        result.elapsed = time.perf_counter() - started
        return result

    async def _follow(self, url: str, headers: dict[str, str]) -> FetchResult:
        current = url
        seen = {url}
        for _ in range(MAX_REDIRECTS + 1):
            result = await self._get_once(current, headers)
            if result.error or result.status not in {301, 302, 303, 307, 308}:
                result.url = url
                result.final_url = current
                return result
            location = result.headers.get("location")
            if not location:
                return FetchResult(url=url, status=result.status, error=f"HTTP {result.status} without Location")
            nxt = str(httpx.URL(current).join(location))
            try:
                check_url(nxt)
            except ValueError:
                return FetchResult(url=url, status=result.status, error=f"redirect to a non-http(s) URL {nxt!r}")
            if nxt in seen:
                return FetchResult(url=url, status=result.status, error="redirect loop")
            seen.add(nxt)
            current = nxt
        return FetchResult(url=url, error=f"more than {MAX_REDIRECTS} redirects")

    async def _get_once(self, url: str, headers: dict[str, str]) -> FetchResult:
        result = FetchResult(url=url)
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                result.status = response.status_code
                result.headers = {k.lower(): v for k, v in response.headers.items()}
                if response.status_code in {301, 302, 303, 307, 308, 304}:
                    return result
                declared = result.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    result.error = f"body too large ({int(declared)} bytes > {self.max_bytes})"
                    return result
                result.body = await self._read_capped(response)
        except _BodyTooLarge as exc:
            result.error = str(exc)
        except httpx.HTTPError as exc:
            result.error = _describe(exc, self.timeout)
        except (OSError, zlib.error, EOFError) as exc:
            result.error = f"connection failed ({type(exc).__name__}: {exc})"[:200]
        except Exception as exc:  # noqa: BLE001 - aiohttp raises its own errors through the transport
            result.error = f"fetch failed ({type(exc).__name__}: {exc})"[:200]
        if result.error is None and result.status is not None and result.status >= 400:
            result.error = f"HTTP {result.status}"
        return result

    async def _read_capped(self, response: httpx.Response) -> bytes:
        # Decoded bytes are counted, so a gzip bomb stops at the cap like a plain large body.
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLarge(f"body too large (more than {self.max_bytes} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)


class _BodyTooLarge(Exception):
    pass


def _describe(exc: httpx.HTTPError, timeout: float) -> str:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    # httpx-aiohttp maps a refused connection to ConnectTimeout: trust the underlying error.
    refused = isinstance(cause, OSError) or "Cannot connect" in text or "Connect call failed" in text
    if isinstance(exc, httpx.TimeoutException) and not refused:
        return f"timed out after {timeout:.0f}s"
    if refused or isinstance(exc, httpx.ConnectError):
        return f"connection refused or failed ({text})"[:200]
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"server broke the connection ({text})"[:200]
    if isinstance(exc, httpx.DecodingError):
        return f"undecodable body ({text})"[:200]
    return f"{type(exc).__name__}: {text}"[:200]


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous code (CLI commands and library wrappers)."""
    return asyncio.run(coro)
