"""A loopback server that misbehaves on purpose: every way a status page we do not control can fail.

``FaultServer`` is a ``LoopbackServer`` whose routes can be given a named fault::

    with FaultServer() as server:
        server.fault("/api/v2/summary.json", "stall_mid_body", body=good_json)
        server.fault("/feed.xml", "xxe_http")          # an entity pointing back at this server

Each fault in ``FAULTS`` is a small function that configures the route (usually a raw handler
writing to the socket). Nothing large is held in memory: the 100 MB bodies are streamed from one
64 KB block and the gzip bomb is built once per process from 1 MB of zeros (about 1 MB on the
wire, 1 GiB inflated). Handlers that hang (timeouts, stalls) wait on an event that ``stop()``
sets, so a test's teardown never waits for them. The module has no pytest dependency, so the
benchmarks can start the same server.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import resource
import socket
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.loopback import LoopbackServer, Route

MB = 1024 * 1024
HUGE_BODY_BYTES = 100 * MB
BOMB_INFLATED_BYTES = 1024 * MB

LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in - Acme SSO</title></head><body>"
              b"<form method=post action=/login><input name=user><input type=password name=pw></form>"
              b"</body></html>")
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>%d Server Error</title></head><body><h1>%d</h1>"
              b"<p>cloudflare</p></body></html>")
CHALLENGE_PAGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
                  b"<body>Checking your browser before accessing the status page.</body></html>")


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    description: str
    setup: Callable[..., Route]


class FaultServer(LoopbackServer):
    """``LoopbackServer`` plus ``fault(path, name, **options)``; hanging handlers end on ``stop()``."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()

    def fault(self, path: str, name: str, **options: Any) -> Route:
        try:
            fault = FAULTS[name]
        except KeyError:
            raise KeyError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})") from None
        return fault.setup(self, path, **options)

    def hold(self, seconds: float) -> None:
        """Sleep in a handler, but wake at once when the server stops."""
        self.released.wait(seconds)

    def start(self) -> FaultServer:
        self.released.clear()
        super().start()
        assert self._server is not None
        # A client hanging up mid-answer is what most faults end with: not worth a traceback.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        return self

    def stop(self) -> None:
        self.released.set()
        super().stop()

    def __enter__(self) -> FaultServer:
        return self.start()


class RssSampler:
    """Peak resident memory while a block runs: /proc sampled every 5 ms, plus ru_maxrss."""

    def __init__(self) -> None:
        self.baseline = self.peak = self._now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._maxrss_before = self._maxrss()
        self.maxrss_growth = 0

    @staticmethod
    def _maxrss() -> int:
        value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return value if sys.platform == "darwin" else value * 1024

    @staticmethod
    def _now() -> int:
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
        except OSError:
            return 0
        return pages * resource.getpagesize()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._now())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._now())
        # ru_maxrss only grows past its old peak: its growth never overstates this block's.
        self.maxrss_growth = self._maxrss() - self._maxrss_before

    @property
    def growth(self) -> int:
        return max(self.peak - self.baseline, self.maxrss_growth)


# ------------------------------------------------------------------------------------------------
# Raw writers used by the handlers
# ------------------------------------------------------------------------------------------------

def _head(req: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
    req.send_response(status)
    for key, value in headers.items():
        req.send_header(key, value)
    req.end_headers()
    req.wfile.flush()


def _quietly(write: Callable[[], None]) -> Callable[[], None]:
    """The client hanging up on us is the expected end of most faults, not an error."""

    def run() -> None:
        with contextlib.suppress(OSError):  # broken pipe, reset, timeout: all OSErrors
            write()

    return run


def _raw(server: FaultServer, path: str, handler: Callable[[BaseHTTPRequestHandler], None]) -> Route:
    def wrapped(req: BaseHTTPRequestHandler) -> None:
        req.close_connection = True
        _quietly(lambda: handler(req))()

    return server.set(path, b"", handler=wrapped, etag=False)


@functools.cache
def gzip_bomb(inflated: int = BOMB_INFLATED_BYTES) -> bytes:
    """A valid gzip stream of ``inflated`` zero bytes, about 1/1000 of that on the wire.

    Built from one compressed 1 MiB block repeated: after a full flush deflate forgets its
    history, so every flushed block of zeros compresses to the same bytes.
    """
    block = bytes(MB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeat = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH) == repeat
    count = inflated // MB
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = b"\x03\x00" + crc.to_bytes(4, "little") + (inflated & 0xFFFFFFFF).to_bytes(4, "little")
    return header + first + repeat * (count - 1) + trailer


@functools.cache
def double_gzip_bomb() -> bytes:
    """The gzip bomb gzipped again (``Content-Encoding: gzip, gzip``): about 2 KB on the wire."""
    return zlib.compress(gzip_bomb(), 9, wbits=31)


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"page":' + b"[" * depth + b"]" * depth + b"}"


# ------------------------------------------------------------------------------------------------
# The faults
# ------------------------------------------------------------------------------------------------

def _timeout(server: FaultServer, path: str, hold: float = 60.0, **_: Any) -> Route:
    """Accept the connection, read the request, never answer."""
    return _raw(server, path, lambda req: server.hold(hold))


def _stall_mid_body(server: FaultServer, path: str, body: bytes = b"", hold: float = 60.0, **_: Any) -> Route:
    """Headers and half of the body, then silence with the connection open."""
    body = body or b'{"page": {"id": "x"}, "components": []}' * 100

    def handler(req: BaseHTTPRequestHandler) -> None:
        _head(req, 200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        req.wfile.write(body[: len(body) // 2])
        req.wfile.flush()
        server.hold(hold)

    return _raw(server, path, handler)


def _trickle(server: FaultServer, path: str, every: float = 0.3, hold: float = 60.0, **_: Any) -> Route:
    """One byte at a time, each before the read timeout: only an overall deadline ends it."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        _head(req, 200, {"Content-Type": "application/json", "Content-Length": str(100_000)})
        waited = 0.0
        while waited < hold and not server.released.is_set():
            req.wfile.write(b" ")
            req.wfile.flush()
            server.hold(every)
            waited += every

    return _raw(server, path, handler)


def _status(code: int) -> Callable[..., Route]:
    def setup(server: FaultServer, path: str, **_: Any) -> Route:
        return server.set(path, ERROR_PAGE % (code, code), status=code, content_type="text/html", etag=False)

    return setup


def _rate_limited(server: FaultServer, path: str, retry_after: str = "120", **_: Any) -> Route:
    return server.set(path, b'{"error": "rate limited"}', status=429, headers={"Retry-After": retry_after},
                      etag=False)


def _redirect(server: FaultServer, path: str, location: str, status: int = 302) -> Route:
    return server.set(path, b"", status=status, headers={"Location": location}, etag=False)


def _redirect_loop(server: FaultServer, path: str, **_: Any) -> Route:
    """A -> B -> A."""
    _redirect(server, f"{path}.loop", path)
    return _redirect(server, path, f"{path}.loop")


def _redirect_endless(server: FaultServer, path: str, **_: Any) -> Route:
    """A new URL every time: /p -> /p?1 -> /p?2 -> ..."""

    def handler(req: BaseHTTPRequestHandler) -> None:
        _, _, query = req.path.partition("?")
        step = int(query) + 1 if query.isdigit() else 1
        _head(req, 302, {"Location": f"{path}?{step}", "Content-Length": "0"})

    return _raw(server, path, handler)


def _redirect_other_host(server: FaultServer, path: str, location: str = "", **_: Any) -> Route:
    """Off to another host (by default this server under the name ``localhost``), which serves a
    single-sign-on login page: what a status page behind a company's SSO does."""
    login = f"{path}.sso-login"
    server.set(login, LOGIN_PAGE, content_type="text/html", etag=False)
    return _redirect(server, path, location or f"http://localhost:{server.port}{login}")


def _redirect_scheme(server: FaultServer, path: str, location: str = "file:///etc/passwd", **_: Any) -> Route:
    return _redirect(server, path, location)


def _redirect_dead_host(server: FaultServer, path: str, **_: Any) -> Route:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return _redirect(server, path, f"http://127.0.0.1:{port}/api/v2/summary.json")


def _connection_reset(server: FaultServer, path: str, **_: Any) -> Route:
    def handler(req: BaseHTTPRequestHandler) -> None:
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        req.connection.close()

    return _raw(server, path, handler)


def _not_http(server: FaultServer, path: str, **_: Any) -> Route:
    return _raw(server, path, lambda req: req.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff garbage\r\n\r\n"))


def _truncated(server: FaultServer, path: str, body: bytes = b"", **_: Any) -> Route:
    body = body or b'{"page": {"id": "x", "name": "Acme"}, "components": [{"id": "a", "name": "API"}]}'
    return server.set(path, body[: int(len(body) * 0.6)], etag=False)


def _invalid_json(server: FaultServer, path: str, **_: Any) -> Route:
    return server.set(path, b'{"page": {"id": "x", "name": "Acme",, "components": [}\x00\x01 NaN undefined', etag=False)


def _deep_json(server: FaultServer, path: str, **_: Any) -> Route:
    return server.set(path, deep_json(), etag=False)


def _html_login(server: FaultServer, path: str, **_: Any) -> Route:
    return server.set(path, LOGIN_PAGE, content_type="text/html", etag=False)


def _html_as_json(server: FaultServer, path: str, **_: Any) -> Route:
    """A bot challenge page labelled application/json (as some CDNs send)."""
    return server.set(path, CHALLENGE_PAGE, content_type="application/json", etag=False)


def _empty_200(server: FaultServer, path: str, **_: Any) -> Route:
    return server.set(path, b"", etag=False)


def _wrong_content_type(server: FaultServer, path: str, body: bytes = b"", **_: Any) -> Route:
    """A good JSON body labelled text/html (S3-hosted pages): to be read, not refused."""
    return server.set(path, body, content_type="text/html; charset=iso-8859-1", etag=False)


def _invalid_utf8(server: FaultServer, path: str, body: bytes = b"", needle: bytes = b"", **_: Any) -> Route:
    """The body with bytes that are not UTF-8 put inside the string ``needle``."""
    if needle and needle in body:
        body = body.replace(needle, needle[:2] + b"\xff\xc3\x28\xed\xa0\x80" + needle[2:], 1)
    else:
        body = body + b"\xff\xfe\xfd"
    return server.set(path, body, etag=False)


def _utf16(bom: bool) -> Callable[..., Route]:
    def setup(server: FaultServer, path: str, body: bytes = b"", **_: Any) -> Route:
        text = body.decode("utf-8")
        encoded = codecs.BOM_UTF16_LE + text.encode("utf-16-le") if bom else text.encode("utf-16-le")
        return server.set(path, encoded, content_type="application/json; charset=utf-16", etag=False)

    return setup


def _gzip_bomb(server: FaultServer, path: str, **_: Any) -> Route:
    return server.set(path, gzip_bomb(), headers={"Content-Encoding": "gzip"}, etag=False)


def _double_gzip_bomb(server: FaultServer, path: str, **_: Any) -> Route:
    return server.set(path, double_gzip_bomb(), headers={"Content-Encoding": "gzip, gzip"}, etag=False)


_BLOCK = b" " * (64 * 1024)


def _huge(declared: bool) -> Callable[..., Route]:
    """100 MB of whitespace streamed from one 64 KB block; with or without a Content-Length."""

    def setup(server: FaultServer, path: str, size: int = HUGE_BODY_BYTES, **_: Any) -> Route:
        def handler(req: BaseHTTPRequestHandler) -> None:
            headers = {"Content-Type": "application/json"}
            headers.update({"Content-Length": str(size)} if declared else {"Transfer-Encoding": "chunked"})
            _head(req, 200, headers)
            sent = 0
            while sent < size and not server.released.is_set():
                block = _BLOCK[: size - sent]
                req.wfile.write(block if declared else b"%x\r\n%s\r\n" % (len(block), block))
                sent += len(block)
            if not declared:
                req.wfile.write(b"0\r\n\r\n")
            req.wfile.flush()

        return _raw(server, path, handler)

    return setup


# --- XML -----------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">\n' for i in range(1, 10))
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    '<guid>laughs</guid></item></channel></rss>\n'
)


def quadratic_blowup(value_chars: int = 100_000, references: int = 20_000) -> str:
    """One big entity referenced many times: no nesting for a naive depth check to see."""
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"x" * value_chars}">]>'
            f'<rss version="2.0"><channel><title>t</title><item><title>Outage</title><guid>q</guid>'
            f'<description>{"&a;" * references}</description></item></channel></rss>')


def xxe_document(target: str, parameter: bool = False) -> str:
    if parameter:
        return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM "{target}"> %remote;]>'
                '<rss version="2.0"><channel><title>Status</title><item><title>Leak</title><guid>p1</guid>'
                '</item></channel></rss>')
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY secret SYSTEM "{target}">]>'
            '<rss version="2.0"><channel><title>Status</title><item><title>Leak &secret;</title>'
            '<guid>x1</guid></item></channel></rss>')


def external_dtd_document(target: str) -> str:
    """No entity declared in the document, but a DTD to fetch from elsewhere."""
    return (f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{target}">'
            '<rss version="2.0"><channel><title>Status</title><item><title>Leak &secret;</title>'
            '<guid>d1</guid></item></channel></rss>')


def xml_in(text: str, encoding: str) -> bytes:
    """``text`` re-declared and encoded in ``encoding`` (UTF-32 without a BOM, EBCDIC, ...)."""
    declared = {"utf-32-le": "UTF-32LE", "utf-32-be": "UTF-32BE", "cp037": "cp037", "utf-16-le": "UTF-16LE"}
    text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{declared.get(encoding, encoding)}"?>')
    return text.encode(encoding)


def _xml(make: Callable[[FaultServer], bytes]) -> Callable[..., Route]:
    def setup(server: FaultServer, path: str, **_: Any) -> Route:
        return server.set(path, make(server), content_type="application/rss+xml", etag=False)

    return setup


# The paths a hostile feed points back at: a test asserts they were never requested.
LEAK_PATH = "/leak/secret.txt"
DTD_PATH = "/leak/evil.dtd"

FAULTS: dict[str, Fault] = {f.name: f for f in [
    Fault("timeout", "connection accepted, request read, no answer ever", _timeout),
    Fault("stall_mid_body", "headers and half the body, then silence", _stall_mid_body),
    Fault("trickle", "one byte every 0.3 s, never finishing", _trickle),
    Fault("http_500", "500 with an HTML error page", _status(500)),
    Fault("http_502", "502 with an HTML error page", _status(502)),
    Fault("http_503", "503 with an HTML error page", _status(503)),
    Fault("http_429", "429 with Retry-After: 120", _rate_limited),
    Fault("redirect_loop", "redirects A -> B -> A", _redirect_loop),
    Fault("redirect_endless", "redirects to a new URL every time", _redirect_endless),
    Fault("redirect_other_host", "redirects to another host serving an SSO login page", _redirect_other_host),
    Fault("redirect_file_scheme", "redirects to file:///etc/passwd", _redirect_scheme),
    Fault("redirect_dead_host", "redirects to a host where nothing listens", _redirect_dead_host),
    Fault("connection_reset", "TCP reset as soon as the request is read", _connection_reset),
    Fault("not_http", "answers with something that is not HTTP", _not_http),
    Fault("truncated_json", "the first 60% of a good JSON body", _truncated),
    Fault("invalid_json", "syntax errors, NUL bytes, NaN", _invalid_json),
    Fault("deep_json", "JSON nested 100,000 levels deep", _deep_json),
    Fault("html_login", "200 with an HTML login page", _html_login),
    Fault("html_as_json", "a bot challenge page labelled application/json", _html_as_json),
    Fault("empty_200", "200 with an empty body", _empty_200),
    Fault("wrong_content_type", "good JSON labelled text/html", _wrong_content_type),
    Fault("invalid_utf8", "good JSON with bytes that are not UTF-8 inside a string", _invalid_utf8),
    Fault("utf16_bom", "good JSON in UTF-16 with a BOM", _utf16(bom=True)),
    Fault("utf16_no_bom", "good JSON in UTF-16 without a BOM", _utf16(bom=False)),
    Fault("gzip_bomb", "1 MB of gzip that inflates to 1 GiB", _gzip_bomb),
    Fault("double_gzip_bomb", "2 KB of gzip, gzip that inflates to 1 GiB", _double_gzip_bomb),
    Fault("huge_declared", "a 100 MB body with its Content-Length", _huge(declared=True)),
    Fault("huge_chunked", "a 100 MB chunked body, no Content-Length", _huge(declared=False)),
    Fault("billion_laughs", "XML entities nested 10 deep (10^9 'lol')", _xml(lambda s: BILLION_LAUGHS.encode())),
    Fault("billion_laughs_utf32", "the same in UTF-32 without a BOM",
          _xml(lambda s: xml_in(BILLION_LAUGHS, "utf-32-le"))),
    Fault("quadratic_blowup", "one 100 KB entity referenced 20,000 times",
          _xml(lambda s: quadratic_blowup().encode())),
    Fault("quadratic_blowup_ebcdic", "the same in EBCDIC (cp037)", _xml(lambda s: xml_in(quadratic_blowup(), "cp037"))),
    Fault("xxe_file", "an external entity naming file:///etc/passwd",
          _xml(lambda s: xxe_document("file:///etc/passwd").encode())),
    Fault("xxe_http", "an external entity naming a URL on this server",
          _xml(lambda s: xxe_document(s.url(LEAK_PATH)).encode())),
    Fault("xxe_parameter", "an external parameter entity naming a URL on this server",
          _xml(lambda s: xxe_document(s.url(DTD_PATH), parameter=True).encode())),
    Fault("external_dtd", "a DOCTYPE whose DTD lives on this server",
          _xml(lambda s: external_dtd_document(s.url(DTD_PATH)).encode())),
]}
