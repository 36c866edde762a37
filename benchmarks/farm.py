"""A loopback HTTP server farm of N synthetic status pages, for the benchmarks.

Each provider ``i`` lives under ``/p/<i>/`` on one of the farm's hosts. Two shapes, as in the
world: ``many`` spreads the pages over 250 loopback addresses (127.0.0.2-127.0.0.251, one port),
a few to hundreds of pages each (host ``h`` of ``H`` holds a share that falls off with ``h``, as
vendors' pages do across hosting platforms); ``one`` puts every page on one host:port (a vendor
hosting thousands of pages, a test farm behind one server). The per-host cap of a poller counts
host:port, so the two shapes test both sides of it.
Most are Atlassian Statuspage summaries of realistic size and shape (tens of components,
groups, now and then an open incident with updates or a scheduled maintenance); some are
incident.io's Statuspage-compatible API and some are Atom feeds.

Validators vary as on the real web: 60% of pages send an ETag (304 on If-None-Match), 20% a
Last-Modified (304 on If-Modified-Since), 20% neither (the client sees an identical body).
A fixed share fails every time (503 with Retry-After, or 500 with an HTML body). Each call of
``set_round(r)`` makes a share of the pages change (a component status flips, an incident
opens or is updated or resolved).

The server runs in its own process (uvloop where installed) so that it does not share the
benchmark's event loop; ``Farm`` starts it, waits for it and stops it. It is a minimal HTTP/1.1
keep-alive server on asyncio protocols with whole answers built once per page version: it
shares the machine's cores with the poller being measured, and should take as little of them as
a server can (0.1 s of CPU per 5,000 answers; aiohttp's server took 0.3 s).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import random
import socket
import time
import urllib.request
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import orjson

STATUSES = ("operational", "degraded_performance", "partial_outage", "operational", "major_outage")
WORDS = ("API", "Dashboard", "Webhooks", "Search", "Billing", "Auth", "Storage", "CDN", "Email", "SMS",
         "Realtime", "Jobs", "Database", "Analytics", "Mobile", "Docs", "Login", "Uploads", "Exports", "Chat")
REGIONS = ("US East", "US West", "EU", "APAC", "Canada", "Brazil", "Japan", "Australia")


def platform_of(i: int) -> str:
    """About 85% statuspage, 10% incident.io, 5% feeds."""
    if i % 20 == 7:
        return "feed"
    if i % 10 == 3:
        return "incidentio"
    return "statuspage"


def validator_of(i: int) -> str:
    return ("etag", "etag", "etag", "etag", "etag", "etag", "lastmod", "lastmod", "none", "none")[(i // 3) % 10]


def failure_of(i: int, fail_share: float) -> str | None:
    """Whether page ``i`` fails every time, and how."""
    h = int.from_bytes(hashlib.blake2b(f"fail{i}".encode(), digest_size=4).digest(), "big") / 2**32
    if h < fail_share / 2:
        return "503"
    if h < fail_share:
        return "500"
    return None


def changes_in_round(i: int, rnd: int, share: float) -> bool:
    if rnd <= 0:
        return False
    h = int.from_bytes(hashlib.blake2b(f"chg{i}:{rnd}".encode(), digest_size=4).digest(), "big") / 2**32
    return h < share


def _id(rng: random.Random, n: int = 12) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def _ts(day: int, sec: int = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(1_760_000_000 + day * 86400 + sec))


@dataclass
class PageShape:
    """The stable parts of one synthetic page (ids, names, groups), drawn once from its seed."""

    page_id: str
    name: str
    tz: str
    groups: list[tuple[str, str, list[int]]]  # (id, name, member indexes)
    components: list[tuple[str, str, str | None, str | None]]  # (id, name, group id, description)


def shape_of(i: int) -> PageShape:
    rng = random.Random(i * 7919 + 1)
    # Sizes of real Statuspage pages: most have 5-40 components, a few well over 100.
    count = min(160, max(3, int(rng.lognormvariate(2.9, 0.7))))
    groups: list[tuple[str, str, list[int]]] = []
    components = []
    group_count = rng.choice((0, 0, 1, 2, 3, 4, 6)) if count > 6 else 0
    group_ids = [_id(rng) for _ in range(group_count)]
    members: dict[str, list[int]] = {g: [] for g in group_ids}
    for k in range(count):
        gid = rng.choice(group_ids) if group_ids and rng.random() < 0.8 else None
        name = f"{rng.choice(WORDS)} {rng.choice(REGIONS)}" if gid else f"{rng.choice(WORDS)} {k}"
        desc = f"Requests for {name.lower()} and associated operations" if rng.random() < 0.5 else None
        components.append((_id(rng), name, gid, desc))
        if gid:
            members[gid].append(k)
    for g in group_ids:
        groups.append((g, f"{rng.choice(WORDS)} services", members[g]))
    tz = rng.choice(("Etc/UTC", "America/Los_Angeles", "America/New_York", "Europe/Berlin"))
    return PageShape(_id(rng), f"Vendor {i}", tz, groups, components)


def statuspage_summary(i: int, base_url: str, version: int) -> dict[str, Any]:
    """A Statuspage /api/v2/summary.json of page ``i`` at its ``version`` (0 = initial)."""
    shape = shape_of(i)
    rng = random.Random(i * 31 + version)
    statuses = ["operational"] * len(shape.components)
    if version:
        statuses[version % len(statuses)] = STATUSES[version % len(STATUSES)]
    comps: list[dict[str, Any]] = []
    pos = 1
    for k, (cid, name, gid, desc) in enumerate(shape.components):
        comps.append({"id": cid, "name": name, "status": statuses[k], "created_at": _ts(-900 + k),
                      "updated_at": _ts(version, k), "position": pos, "description": desc, "showcase": False,
                      "start_date": None, "group_id": gid, "page_id": shape.page_id, "group": False,
                      "only_show_if_degraded": False})
        pos += 1
    for gid, gname, member_idx in shape.groups:
        worst = "operational"
        comps.append({"id": gid, "name": gname, "status": worst, "created_at": _ts(-900), "updated_at": _ts(version),
                      "position": pos, "description": None, "showcase": False, "start_date": None,
                      "group_id": None, "page_id": shape.page_id, "group": True, "only_show_if_degraded": False,
                      "components": [shape.components[m][0] for m in member_idx]})
        pos += 1
    incidents = []
    # An incident is open in versions 1, 2 (updated) of every 3; it resolves (vanishes) at 3.
    phase = version % 3
    if version and phase in (1, 2):
        started = (version - phase)
        inc_id = f"inc{i:05d}v{started:04d}"
        updates = []
        for u in range(phase):
            updates.append({"id": f"{inc_id}u{u}", "status": ("investigating", "identified")[u],
                            "body": "We are investigating elevated error rates for some customers. " * (1 + u),
                            "incident_id": inc_id, "created_at": _ts(started, 60 * u),
                            "updated_at": _ts(started, 60 * u), "display_at": _ts(started, 60 * u),
                            "affected_components": [{"code": shape.components[version % len(statuses)][0],
                                                     "name": shape.components[version % len(statuses)][1],
                                                     "old_status": "operational",
                                                     "new_status": statuses[version % len(statuses)]}],
                            "deliver_notifications": True, "custom_tweet": None, "tweet_id": None})
        updates.reverse()
        incidents.append({"id": inc_id, "name": f"Elevated errors on {shape.components[0][1]}",
                          "status": ("investigating", "identified")[phase - 1], "created_at": _ts(started),
                          "updated_at": _ts(started, 60 * phase), "monitoring_at": None, "resolved_at": None,
                          "impact": "minor", "shortlink": f"https://stspg.io/{inc_id}", "started_at": _ts(started),
                          "page_id": shape.page_id, "incident_updates": updates,
                          "components": [{"id": shape.components[version % len(statuses)][0],
                                          "name": shape.components[version % len(statuses)][1]}]})
    maintenances = []
    if rng.random() < 0.1 or i % 11 == 0:
        mid = f"mnt{i:05d}"
        maintenances.append({"id": mid, "name": "Scheduled database maintenance", "status": "scheduled",
                             "created_at": _ts(-3), "updated_at": _ts(-3), "monitoring_at": None,
                             "resolved_at": None, "impact": "maintenance", "shortlink": f"https://stspg.io/{mid}",
                             "started_at": _ts(-3), "page_id": shape.page_id,
                             "incident_updates": [{"id": f"{mid}u0", "status": "scheduled",
                                                   "body": "We will be performing scheduled maintenance.",
                                                   "created_at": _ts(-3), "display_at": _ts(-3)}],
                             "scheduled_for": _ts(30), "scheduled_until": _ts(30, 7200), "components": []})
    worst = max(statuses, key=STATUSES.index) if any(s != "operational" for s in statuses) else "operational"
    indicator = {"operational": "none", "degraded_performance": "minor", "partial_outage": "major",
                 "major_outage": "critical"}[worst]
    return {
        "page": {"id": shape.page_id, "name": shape.name, "url": base_url, "time_zone": shape.tz,
                 "updated_at": _ts(version)},
        "components": comps,
        "incidents": incidents,
        "scheduled_maintenances": maintenances,
        "status": {"indicator": indicator,
                   "description": "All Systems Operational" if indicator == "none" else "Partial System Outage"},
    }


def incidentio_summary(i: int, base_url: str, version: int) -> dict[str, Any]:
    """incident.io's Statuspage-compatible summary: ULID-like ids, no groups, no incident components."""
    doc = statuspage_summary(i, base_url, version)
    doc["components"] = [{k: v for k, v in c.items() if k in {"id", "name", "status", "position", "page_id",
                                                              "created_at", "updated_at", "description"}}
                         for c in doc["components"] if not c["group"]]
    for inc in doc["incidents"]:
        inc.pop("components", None)
        inc.pop("shortlink", None)
    doc.pop("scheduled_maintenances")
    return doc


def atom_feed(i: int, base_url: str, version: int) -> bytes:
    shape = shape_of(i)
    entries = []
    for k in range(8):
        n = version - k
        status = "Investigating" if k == 0 and version and version % 3 else "Resolved"
        entries.append(
            f"<entry><title type=\"html\"><![CDATA[Incident {n} on {shape.components[0][1]}]]></title>"
            f"<id>{base_url}/incidents/{i:05d}-{n}</id><link href=\"{base_url}/incidents/{i:05d}-{n}\"/>"
            f"<updated>{_ts(n)}</updated><summary type=\"html\"><![CDATA[<b>Status: {status}</b><br/><br/>"
            f"We have identified the cause and are applying a fix.<br/><br/><b>Affected components</b>"
            f"<ul><li>{shape.components[0][1]} (Degraded performance)</li></ul>]]></summary></entry>")
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
            f"<id>{base_url}/</id><title>{shape.name} status</title><updated>{_ts(version)}</updated>"
            f"<link rel=\"alternate\" href=\"{base_url}/\"/>{''.join(entries)}</feed>").encode()


# ------------------------------------------------------------------------------------------------
# The server process
# ------------------------------------------------------------------------------------------------

def _serve(hosts: list[tuple[str, int]], n: int, fail_share: float, change_share: float, ready: Any) -> None:
    import asyncio

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    versions = [0] * n
    cache: dict[tuple[int, str], tuple[bytes, str, str, str]] = {}
    failures = [failure_of(i, fail_share) for i in range(n)]
    stats = {"requests": 0, "not_modified": 0, "connections": 0}

    def base_of(i: int) -> str:
        address, port = hosts[host_of(i, len(hosts))]
        return f"http://{address}:{port}/p/{i}"

    def render(i: int, tail: str) -> tuple[bytes, str, str, str] | None:
        key = (i, tail)
        hit = cache.get(key)
        if hit is not None:
            return hit
        platform, version, base = platform_of(i), versions[i], base_of(i)
        if platform == "feed" and tail == "feed.atom":
            body, ctype = atom_feed(i, base, version), "application/atom+xml"
        elif platform == "statuspage" and tail == "api/v2/summary.json":
            body, ctype = orjson.dumps(statuspage_summary(i, base, version)), "application/json"
        elif platform == "incidentio" and tail == "api/v2/summary.json":
            body, ctype = orjson.dumps(incidentio_summary(i, base, version)), "application/json"
        elif platform in {"statuspage", "incidentio"} and tail == "api/v2/incidents.json":
            resolved = statuspage_summary(i, base, version - version % 3 + 2 if version % 3 == 0 and version
                                          else version)
            for inc in resolved["incidents"]:
                inc["status"], inc["resolved_at"] = "resolved", _ts(version, 3600)
            body, ctype = orjson.dumps({"page": resolved["page"], "incidents": resolved["incidents"]}), \
                "application/json"
        elif platform == "statuspage" and tail == "api/v2/scheduled-maintenances.json":
            doc = statuspage_summary(i, base, version)
            body, ctype = orjson.dumps({"page": doc["page"],
                                        "scheduled_maintenances": doc["scheduled_maintenances"]}), "application/json"
        else:
            return None
        etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
        modified = formatdate(1_760_000_000 + version * 60, usegmt=True)
        cache[key] = (body, ctype, etag, modified)
        return cache[key]

    def response(status: int, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"HTTP/1.1 {status} {REASONS[status]}"]
        if status != 304:
            lines.append(f"Content-Length: {len(body)}")
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    html = {"Content-Type": "text/html"}
    not_found = response(404, html, b"<html><title>Not found</title></html>")
    unavailable = response(503, {**html, "Retry-After": "120"}, b"<html><title>Service Unavailable</title></html>")
    broken = response(500, html, b"<html><title>Internal Server Error</title></html>")
    # Whole responses, built once per page version: (200 answer, 304 answer, validator header, value).
    answers: dict[tuple[int, str], tuple[bytes, bytes, str | None, str | None]] = {}

    def page(target: str, headers: dict[str, str]) -> bytes:
        stats["requests"] += 1
        _, _, rest = target.partition("/p/")
        idx, _, tail = rest.partition("/")
        try:
            i = int(idx)
        except ValueError:
            return not_found
        if not 0 <= i < n:
            return not_found
        failure = failures[i]
        if failure == "503":
            return unavailable
        if failure == "500":
            return broken
        key = (i, tail)
        answer = answers.get(key)
        if answer is None:
            found = render(i, tail)
            if found is None:
                return not_found
            body, ctype, etag, modified = found
            base = {"Content-Type": ctype, "Cache-Control": "max-age=0, private, must-revalidate"}
            validator = validator_of(i)
            if validator == "etag":
                base["ETag"] = etag
                answer = (response(200, base, body), response(304, base), "if-none-match", etag)
            elif validator == "lastmod":
                base["Last-Modified"] = modified
                answer = (response(200, base, body), response(304, base), "if-modified-since", modified)
            else:
                answer = (response(200, base, body), b"", None, None)
            answers[key] = answer
        full, not_modified, asked_by, value = answer
        if asked_by is not None and headers.get(asked_by) == value:
            stats["not_modified"] += 1
            return not_modified
        return full

    def control(target: str) -> bytes:
        query = target.partition("?")[2]
        rnd = int(dict(p.partition("=")[::2] for p in query.split("&") if p).get("round", "0"))
        changed = 0
        for i in range(n if rnd > 0 else 0):  # round <= 0: only report the counters
            if changes_in_round(i, rnd, change_share):
                versions[i] += 1
                changed += 1
                for key in [k for k in cache if k[0] == i]:
                    del cache[key]
                for key in [k for k in answers if k[0] == i]:
                    del answers[key]
                prerender(i)
        return response(200, {"Content-Type": "application/json"},
                        orjson.dumps({"round": rnd, "changed": changed, **stats}))

    def prerender(i: int) -> None:
        # Bodies are rendered before anyone asks, so that no client pays for the server's work.
        tail = "feed.atom" if platform_of(i) == "feed" else "api/v2/summary.json"
        render(i, tail)

    class Connection(asyncio.Protocol):
        """HTTP/1.1 GETs with keep-alive, as lean as a server can be: the farm shares the machine's
        two cores with the poller it measures, and real vendors' servers use none of them."""

        def connection_made(self, transport: Any) -> None:
            stats["connections"] += 1
            self.transport = transport
            self.pending = b""

        def data_received(self, data: bytes) -> None:
            self.pending += data
            while (end := self.pending.find(b"\r\n\r\n")) >= 0:
                head, self.pending = self.pending[:end].decode("latin-1"), self.pending[end + 4:]
                request_line, *lines = head.split("\r\n")
                method, target, _ = (request_line.split(" ", 2) + ["", ""])[:3]
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if method != "GET":
                    self.transport.write(response(405, html, b"GET only"))
                elif target.startswith("/_control"):
                    self.transport.write(control(target))
                else:
                    self.transport.write(page(target, headers))
                if headers.get("connection", "").lower() == "close":
                    self.transport.close()
                    return

    async def main() -> None:
        for i in range(n):
            prerender(i)
        loop = asyncio.get_running_loop()
        for address, port in hosts:
            await loop.create_server(Connection, address, port, backlog=2048, reuse_address=True)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


REASONS = {200: "OK", 304: "Not Modified", 404: "Not Found", 405: "Method Not Allowed",
           500: "Internal Server Error", 503: "Service Unavailable"}


def host_of(i: int, hosts: int) -> int:
    """Which of ``hosts`` hosts page ``i`` lives on: host 0 holds the most, the last ones a few."""
    if hosts == 1:
        return 0
    u = int.from_bytes(hashlib.blake2b(f"host{i}".encode(), digest_size=4).digest(), "big") / 2**32
    return min(hosts - 1, int(hosts * u * u))


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


SHAPES = ("many", "one")


class Farm:
    """``with Farm(n, shape="many") as farm: farm.providers -> [(id, platform, url)]; farm.set_round(1)``."""

    def __init__(self, n: int, *, shape: str = "many", fail_share: float = 0.02, change_share: float = 0.1) -> None:
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}")
        self.n = n
        self.shape = shape
        port = free_port()
        addresses = [f"127.0.0.{k}" for k in range(2, 252)] if shape == "many" else ["127.0.0.1"]
        self.hosts = [(address, port) for address in addresses]
        self.fail_share = fail_share
        self.change_share = change_share
        self._proc: mp.Process | None = None

    def url(self, i: int) -> str:
        address, port = self.hosts[host_of(i, len(self.hosts))]
        base = f"http://{address}:{port}/p/{i}"
        return f"{base}/feed.atom" if platform_of(i) == "feed" else base

    def pages_per_host(self) -> list[int]:
        counts = [0] * len(self.hosts)
        for i in range(self.n):
            counts[host_of(i, len(self.hosts))] += 1
        return counts

    @property
    def providers(self) -> list[tuple[str, str, str]]:
        return [(f"vendor-{i:05d}", platform_of(i), self.url(i)) for i in range(self.n)]

    def fetch_urls(self) -> list[str]:
        """The URL each provider's current state is read from (what a poll GETs)."""
        return [self.url(i) if platform_of(i) == "feed" else f"{self.url(i)}/api/v2/summary.json"
                for i in range(self.n)]

    def start(self) -> Farm:
        ctx = mp.get_context("spawn")
        ready = ctx.Event()
        self._proc = ctx.Process(target=_serve, args=(self.hosts, self.n, self.fail_share, self.change_share, ready),
                                 daemon=True)
        self._proc.start()
        if not ready.wait(120):
            raise RuntimeError("farm did not start")
        return self

    @property
    def pid(self) -> int:
        assert self._proc is not None and self._proc.pid is not None
        return self._proc.pid

    def set_round(self, rnd: int) -> dict[str, Any]:
        address, port = self.hosts[0]
        with urllib.request.urlopen(f"http://{address}:{port}/_control?round={rnd}", timeout=60) as resp:
            return orjson.loads(resp.read())

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(10)
            self._proc = None

    def __enter__(self) -> Farm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
