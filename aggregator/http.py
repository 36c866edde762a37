"""One shared HTTP client for every fetch: caps, timeouts, body-size limits, conditional requests.

It speaks httpx (``httpx.Request`` in, ``httpx.Response`` out, any ``httpx.AsyncBaseTransport``
plugs in: ``httpx.MockTransport`` in tests, vcrpy, a proxy transport) but by default runs on
``AiohttpTransport``, a lean httpx transport over aiohttp's connection pool and C parser.
``HttpClient.fetch`` hands requests straight to the transport rather than through
``httpx.AsyncClient.send``, whose per-request machinery (auth flow, cookies, redirect and event
hooks) cost more than the socket work. Measured on loopback at 50 concurrent connections
(benchmarks/http_clients.py, README): httpx's own transport ~430 req/s, httpx on httpx-aiohttp's
transport ~3,700, ``HttpClient.fetch`` close to raw aiohttp.

A fetch never raises: every failure becomes a ``FetchResult`` with ``error`` set, so that a page
that cannot be fetched is recorded as unreachable, never as down.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from aggregator.netguard import CURRENT_HOP, HopPolicy, classify, refusal_in

USER_AGENT = "upstream/0.1 (+https://github.com/upstream-status/upstream; status-page aggregator)"
DEFAULT_TIMEOUT = 15.0
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 64
DEFAULT_PER_HOST = 4
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(slots=True)
class FetchResult:
    url: str
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    final_url: str | None = None
    error: str | None = None
    elapsed: float = 0.0
    sent_at: float | None = None  # time.perf_counter() when the request passed the client's caps
    _hash: str | None = None
    peer: str | None = None  # the address the answer came from (the last hop's)

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
        if self._hash is None:
            self._hash = hashlib.blake2b(self.body, digest_size=16).hexdigest()
        return self._hash

    def retry_after(self, now: float | None = None) -> float | None:
        """Seconds the server asked us to wait (``Retry-After`` as seconds or an HTTP date)."""
        return parse_retry_after(self.headers.get("retry-after"), now)

    def fresh_for(self, now: float | None = None) -> float | None:
        """Seconds the server says this answer stays fresh (``Cache-Control`` / ``Expires``)."""
        return cache_lifetime(self.headers, now)


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return when.timestamp()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, when - (now if now is not None else time.time()))


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.I)
_NO_CACHE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s=])", re.I)


def cache_lifetime(headers: dict[str, str], now: float | None = None) -> float | None:
    """Freshness lifetime from ``Cache-Control: max-age`` (wins) or ``Expires`` minus ``Date``.

    ``no-cache`` / ``no-store`` mean 0; None when the server says nothing usable.
    """
    control = headers.get("cache-control")
    if control:
        if _NO_CACHE.search(control):
            return 0.0
        m = _MAX_AGE.search(control)
        if m:
            return float(m.group(1))
    expires = headers.get("expires")
    if expires:
        when = _http_date(expires)
        if when is None:
            return 0.0  # an invalid Expires (often "0" or "-1") means already expired
        base = _http_date(headers.get("date"))
        if base is None:
            base = now if now is not None else time.time()
        return max(0.0, when - base)
    return None


_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")


def check_url(url: str) -> str:
    """Only absolute http(s) URLs with a host are fetched; anything else is a user error."""
    parts = urlsplit(url.strip())  # which silently drops tabs and line breaks: refuse them first
    if parts.scheme not in {"http", "https"} or not parts.hostname or _CONTROL_OR_SPACE.search(url.strip()):
        raise ValueError(f"not an http(s) URL: {url!r}")
    return url.strip()


_URL_HOSTS: dict[str, str] = {}  # url -> host_key(url), for URLs already checked


@functools.lru_cache(maxsize=65_536)  # the same URLs come back every cycle
def host_key(url: str) -> str:
    """What the per-host cap counts by: host and port (``status.example.com:443``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"


# ------------------------------------------------------------------------------------------------
# aiohttp underneath: one session, proxies from the environment resolved once
# ------------------------------------------------------------------------------------------------

def _env_proxies() -> dict[str, str]:
    import urllib.request

    return {k: v for k, v in urllib.request.getproxies().items() if k in {"http", "https"}}


class _Session:
    """The aiohttp session every request goes through (created on first use, in the running loop).

    aiohttp's own ``trust_env`` looks up ~/.netrc and the proxy variables in a thread for every
    request, which costs more than the request itself; the proxies are read once here instead.
    """

    def __init__(self, max_connections: int, keepalive_expiry: float = 30.0, resolver: Any = None) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.resolver = resolver
        self.proxies = _env_proxies()
        self.session: Any = None

    def get(self) -> Any:
        if self.session is None:
            import aiohttp

            from aggregator.netguard import guarded_connector_class

            # Every resolved address is checked before a connection is made (netguard.py).
            connector = guarded_connector_class()(limit=self.max_connections, limit_per_host=0, ttl_dns_cache=300,
                                                  keepalive_timeout=self.keepalive_expiry, resolver=self.resolver)
            self.session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept"), trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None))
        return self.session

    def proxy_for(self, url: str) -> str | None:
        if not self.proxies:
            return None
        import urllib.request

        parts = urlsplit(url)
        if urllib.request.proxy_bypass(parts.hostname or ""):
            return None
        return self.proxies.get(parts.scheme)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


_URLS: dict[str, Any] = {}  # URL string -> yarl.URL: aiohttp parses and encodes a string at every request


def _parsed_url(url: str) -> Any:
    from yarl import URL

    parsed = URL(url)
    if len(_URLS) < 100_000:  # the same URLs come back every cycle
        _URLS[url] = parsed
    return parsed


def _aiohttp_errors() -> tuple[type[BaseException], ...]:
    import aiohttp

    return (aiohttp.ClientError,)


def _as_httpx_error(exc: BaseException, request: httpx.Request | None = None) -> httpx.HTTPError:
    """aiohttp's exceptions in httpx's words, so one ``_describe`` serves every path."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(f"{exc.os_error or exc}", request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
        return httpx.ReadTimeout(str(exc) or "timed out", request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(str(exc) or "server disconnected", request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError(str(exc) or "incomplete body", request=request)
    if isinstance(exc, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(str(exc), request=request)
    return httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request)


class _AiohttpStream(httpx.AsyncByteStream):
    def __init__(self, response: Any) -> None:
        self._response = response

    async def __aiter__(self) -> Any:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (*_aiohttp_errors(), TimeoutError, OSError) as exc:
            raise _as_httpx_error(exc) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` on aiohttp: ``httpx.AsyncClient(transport=AiohttpTransport())``.

    Bodies are streamed back undecoded and httpx decodes them. Used for ``HttpClient.client``
    (the full httpx API on the same connection pool); ``HttpClient.fetch`` skips the httpx
    objects and talks to the same aiohttp session directly.
    """

    def __init__(self, *, max_connections: int = DEFAULT_MAX_CONNECTIONS, keepalive_expiry: float = 30.0,
                 session: _Session | None = None) -> None:
        self._owns = session is None
        self._session = session or _Session(max_connections, keepalive_expiry)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp

        timeouts = request.extensions.get("timeout") or {}
        url = str(request.url)
        try:
            response = await self._session.get().request(
                request.method, url, headers=list(request.headers.multi_items()),
                data=request.content or None, allow_redirects=False, proxy=self._session.proxy_for(url),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeouts.get("connect"),
                                              sock_read=timeouts.get("read")))
        except (*_aiohttp_errors(), TimeoutError, OSError, ValueError) as exc:
            raise _as_httpx_error(exc, request) from exc
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        return httpx.Response(response.status, headers=response.raw_headers, stream=_AiohttpStream(response),
                              request=request, extensions=extensions)

    async def aclose(self) -> None:
        if self._owns:
            await self._session.close()


# ------------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------------

class HttpClient:
    """``async with HttpClient() as http: result = await http.fetch(url, etag=..., last_modified=...)``.

    At most ``max_connections`` requests are in flight overall and ``per_host`` per host:port;
    a request waiting for its host holds no global slot, so one crowded host never starves others.
    ``transport`` (any httpx transport: ``httpx.MockTransport``, a proxy transport) replaces the
    native aiohttp path; ``client`` is a full ``httpx.AsyncClient`` on the same connections.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, per_host: int = DEFAULT_PER_HOST,
                 transport: httpx.AsyncBaseTransport | None = None, user_agent: str = USER_AGENT,
                 allow_private: bool = True, resolver: Any = None,
                 address_class: Callable[[str], str] | None = None) -> None:
        self.timeout = timeout
        # URLs the user added or configured may be internal pages; a client for catalog rows
        # passes False. Link-local and metadata addresses are refused either way.
        self.allow_private = allow_private
        self.address_class = address_class or classify
        self.max_bytes = max_bytes
        self.max_connections = max_connections
        self.per_host = per_host
        self.transport = transport
        self._session = _Session(max_connections, resolver=resolver)
        self._base_headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"}
        self._extensions = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
        self._aio_timeout: Any = None
        self._global = asyncio.Semaphore(max_connections)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._in_flight: dict[str, int] = {}
        self._httpx: httpx.AsyncClient | None = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._httpx is not None:
            await self._httpx.aclose()
            self._httpx = None
        if self.transport is not None:
            await self.transport.aclose()
        await self._session.close()

    @property
    def client(self) -> httpx.AsyncClient:
        """A full ``httpx.AsyncClient`` on the same connection pool, for callers that want its API."""
        if self._httpx is None:
            self._httpx = httpx.AsyncClient(
                transport=self.transport or AiohttpTransport(session=self._session),
                timeout=httpx.Timeout(self.timeout), headers=self._base_headers, follow_redirects=False)
        return self._httpx

    def in_flight(self, host: str) -> int:
        """Requests now running against ``host`` (a ``host_key``)."""
        return self._in_flight.get(host, 0)

    def _host_gate(self, host: str) -> asyncio.Semaphore:
        gate = self._hosts.get(host)
        if gate is None:
            gate = self._hosts[host] = asyncio.Semaphore(self.per_host)
        return gate

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
                    accept: str = "application/json", allow_private: bool | None = None) -> FetchResult:
        """GET ``url`` (conditionally), following up to 5 http(s) redirects; never raises."""
        started = time.perf_counter()
        hop = CURRENT_HOP.set(HopPolicy(self.allow_private if allow_private is None else allow_private,
                                        self.address_class))
        headers = {**self._base_headers, "Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = FetchResult(url=url)
        deadline = self.timeout * 2
        sent_at: float | None = None
        try:
            host = _URL_HOSTS.get(url)
            if host is None:
                check_url(url)
                host = host_key(url)
                if len(_URL_HOSTS) < 100_000:  # the same URLs come back every cycle
                    _URL_HOSTS[url] = host
            # The host's gate first: a request queued behind a busy host holds no global slot.
            async with self._host_gate(host), self._global:
                self._in_flight[host] = self._in_flight.get(host, 0) + 1
                sent_at = time.perf_counter()
                try:
                    if self.transport is None:  # aiohttp's own total timeout bounds every hop
                        result = await self._get_native(url, headers)
                        if result.error is None and result.status is not None and result.status >= 300:
                            result = await self._follow(url, headers, result)
                        else:
                            result.final_url = url
                    else:
                        async with asyncio.timeout(deadline):
                            result = await self._follow(url, headers)
                finally:
                    self._in_flight[host] -= 1
        except TimeoutError:
            result = FetchResult(url=url, error=f"timed out after {deadline:.0f}s")
        except ValueError as exc:
            result.error = str(exc)
        finally:
            CURRENT_HOP.reset(hop)
        result.elapsed = time.perf_counter() - started
        result.sent_at = sent_at
        return result

    async def _follow(self, url: str, headers: dict[str, str], first: FetchResult | None = None) -> FetchResult:
        current = url
        seen = {url}
        get_once = self._get_native if self.transport is None else self._get_httpx
        for _ in range(MAX_REDIRECTS + 1):
            result, first = first or await get_once(current, headers), None
            if result.error is None and result.status is not None and result.status >= 400:
                result.error = f"HTTP {result.status}"
            if result.error or result.status not in REDIRECTS:
                result.url = url
                result.final_url = current
                return result
            location = result.headers.get("location")
            policy = CURRENT_HOP.get()
            if policy is not None and result.peer is not None and policy.address_class(result.peer) == "public":
                # A public page may send us on to public pages only.
                policy.allow_private = False
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

    def _too_large(self, headers: dict[str, str]) -> str | None:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return f"body too large ({int(declared)} bytes > {self.max_bytes})"
        return None

    async def _get_native(self, url: str, headers: dict[str, str]) -> FetchResult:
        """One GET on the aiohttp session directly: the hot path of every poll."""
        result = FetchResult(url=url)
        if self._aio_timeout is None:
            import aiohttp

            # One timer per request (a per-read timer costs a re-arm for every chunk received).
            self._aio_timeout = aiohttp.ClientTimeout(total=self.timeout * 2, sock_connect=self.timeout)
        try:
            target = _URLS.get(url)
            if target is None:
                target = _parsed_url(url)
            async with self._session.get().get(target, headers=headers, allow_redirects=False,
                                               timeout=self._aio_timeout,
                                               proxy=self._session.proxy_for(url)) as response:
                hop = CURRENT_HOP.get()
                result.peer = hop.peer if hop is not None else None
                result.status = response.status
                result.headers = {k.lower(): v for k, v in response.headers.items()}
                if response.status in REDIRECTS or response.status == 304:
                    return result
                result.error = self._too_large(result.headers)
                if result.error:
                    return result
                raw = await self._read_raw(response)
            result.body = decode_body(raw, result.headers.get("content-encoding"), self.max_bytes)
        except _BodyTooLarge as exc:
            result.error = str(exc)
        except (*_aiohttp_errors(), TimeoutError, OSError, ValueError) as exc:
            if refusal_in(exc):
                result.error = refusal_in(exc)
            elif isinstance(exc, TimeoutError) and not isinstance(exc, _aiohttp_errors()):
                result.error = f"timed out after {self.timeout * 2:.0f}s"  # the overall deadline
            else:
                result.error = _describe(_as_httpx_error(exc), self.timeout)
        except zlib.error as exc:
            result.error = f"undecodable body ({exc})"[:200]
        return result

    async def _read_raw(self, response: Any) -> bytes:
        if response.content_length is not None:  # declared and within the cap (checked before)
            return await response.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLarge(f"body too large (more than {self.max_bytes} bytes)")
            chunks.append(chunk)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _get_httpx(self, url: str, headers: dict[str, str]) -> FetchResult:
        """One GET through an httpx transport (tests, proxies, anything httpx plugs into)."""
        result = FetchResult(url=url)
        response: httpx.Response | None = None
        assert self.transport is not None
        try:
            request = httpx.Request("GET", url, headers=headers, extensions=self._extensions)
            response = await self.transport.handle_async_request(request)
            result.status = response.status_code
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            if response.status_code in REDIRECTS or response.status_code == 304:
                return result
            result.error = self._too_large(result.headers)
            if result.error:
                return result
            result.body = await self._read_decoded(response)
        except _BodyTooLarge as exc:
            result.error = str(exc)
        except httpx.HTTPError as exc:
            result.error = _describe(exc, self.timeout)
        except zlib.error as exc:
            result.error = f"undecodable body ({exc})"[:200]
        except (OSError, EOFError) as exc:
            result.error = f"connection failed ({type(exc).__name__}: {exc})"[:200]
        except Exception as exc:  # noqa: BLE001 - a transport may raise its own errors
            result.error = f"fetch failed ({type(exc).__name__}: {exc})"[:200]
        finally:
            if response is not None:
                await response.aclose()
        return result

    async def _read_decoded(self, response: httpx.Response) -> bytes:
        # Raw bytes, capped, then decoded with a cap (``decode_body``): httpx's own decoders inflate
        # a whole chunk at once, so "Content-Encoding: gzip, gzip" reached gigabytes before a check.
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLarge(f"body too large (more than {self.max_bytes} bytes)")
            chunks.append(chunk)
        raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return decode_body(raw, response.headers.get("content-encoding"), self.max_bytes)


def decode_body(raw: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """Undo ``Content-Encoding`` (gzip, deflate, identity), stopping at ``max_bytes`` decoded.

    Raises ``_BodyTooLarge`` past the cap (a gzip bomb stops there) and ``zlib.error`` on a
    corrupt body; an encoding we did not ask for is an undecodable body.
    """
    if not encoding:
        return raw
    body = raw
    for coding in reversed([c.strip().lower() for c in encoding.split(",") if c.strip()]):
        if coding in {"identity", ""}:
            continue
        if coding in {"gzip", "x-gzip"}:
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            # Servers send zlib-wrapped or raw deflate under the same name: the first byte tells.
            decoder = zlib.decompressobj(zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS)
        else:
            raise zlib.error(f"content-encoding {coding!r} not supported")
        out = decoder.decompress(body, max_bytes + 1)
        if len(out) > max_bytes or decoder.unconsumed_tail:
            raise _BodyTooLarge(f"body too large (more than {max_bytes} bytes)")
        body = out
    return body


class _BodyTooLarge(Exception):
    pass


# What getaddrinfo says when a host name does not resolve (glibc, musl, macOS wordings).
_DNS_FAILURE = re.compile(r"Name or service not known|nodename nor servname provided, or not known|"
                          r"Temporary failure in name resolution|No address associated with hostname|"
                          r"Name does not resolve")


def _describe(exc: httpx.HTTPError, timeout: float) -> str:
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__
    refused = isinstance(cause, OSError) and not isinstance(cause, TimeoutError) or "Cannot connect" in text \
        or "Connect call failed" in text
    if isinstance(exc, httpx.TimeoutException) and not refused:
        return f"timed out after {timeout:.0f}s"
    dns = _DNS_FAILURE.search(text)
    if dns:
        return f"DNS lookup failed ({dns.group(0)})"
    if refused or isinstance(exc, httpx.ConnectError):
        return f"connection refused or failed ({text})"[:200]
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"server broke the connection ({text})"[:200]
    if isinstance(exc, httpx.DecodingError):
        return f"undecodable body ({text})"[:200]
    return f"{type(exc).__name__}: {text}"[:200]


def install_fast_loop() -> bool:
    """Use uvloop for the event loop where it is installed (about 1.5-2x the request rate)."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def run(coro: Any) -> Any:
    """Run a coroutine from synchronous code (CLI commands and library wrappers)."""
    return asyncio.run(coro)
