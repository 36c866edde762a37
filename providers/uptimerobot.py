"""UptimeRobot public status pages ("PSP"), through the JSON the page itself reads.

* ``monitors``: ``GET <host>/api/getMonitorList/<page key>`` (``?page=N`` for page N). The host is
  ``stats.uptimerobot.com`` or the page's custom domain (``status.bsky.app``). ``status`` is the
  string ``"ok"``; ``psp{perPage, totalMonitors, monitors[], timezone}``;
  ``monitors[]{monitorId, name, type, statusClass, url, createdAt, dailyRatios[90] newest first,
  90dRatio, 30dRatio}``; ``days[]``; ``statistics{uptime, latest_downtime, counts{up, down,
  paused}, count_result}``. The list is paginated: ``perPage`` monitors a page, so
  ``ceil(totalMonitors / perPage)`` pages; the others are fetched as ``monitors_page2`` ...
  (``more_endpoints``: the engine asks for them once it has read the first page). A page that
  lists fewer monitors than ``totalMonitors`` with no further page read is still parsed: the
  monitors it has are the components.
* ``events``: ``GET <host>/api/getEventFeed/<page key>`` (optional): ``status`` is the boolean
  ``true`` here; ``results[]{eventType, icon, title, content, ts (epoch s), date, time, timeGMT,
  endDate, endDateGMT}``, ``meta{count, total}``.

Status mapping (``raw_status`` keeps ``statusClass``):

================  ====================  ==============================================
``statusClass``   component status      source
================  ====================  ==============================================
``success``       operational           capture (up)
``danger``        major_outage          capture (down)
``black``         unknown               capture (paused: every day 0.000 / black)
``warning``       degraded_performance  documentation only (UptimeRobot's "seems down")
anything else     unknown               --
================  ====================  ==============================================

The page's overall state is ``monitor_page_status`` over the monitors read (some down: partial
outage, all down: major outage); ``statistics.count_result`` ("9 monitors down") is its
description. There are no groups in this document.

Announcements (``eventType`` ``ann``, the only type in the capture) are incidents: no severity
(``raw_impact`` keeps the ``icon``), open while listed without an ``endDate``, resolved at
``endDate`` when one is given (documentation only: the capture has none), and resolved as "no
longer listed" when they leave the feed. The feed is read without ``from_date``: what it lists
then is the server's default window.

The page key is found in the page URL (``stats.uptimerobot.com/<key>``), in the API URL, or in a
``#<key>`` fragment (custom domains: detection reads the key from the page's HTML).
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Snapshot
from aggregator.page.reading import (
    as_list,
    int_or_none,
    latest_update,
    load_json,
    load_object,
    notice_sort_key,
    parse_time,
    strip_html,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, IncidentStatus
from providers.monitor_pages import monitor_page_status

STATUS_CLASS = {
    "success": ComponentStatus.operational,
    "danger": ComponentStatus.major_outage,
    "black": ComponentStatus.unknown,
    "warning": ComponentStatus.degraded_performance,
}
# Pages fetched beyond the first at most (the engine caps what it follows, too).
MAX_PAGES = 20
PAGE_KEYS = tuple(f"monitors_page{n}" for n in range(2, MAX_PAGES + 1))
_API_PATH_RE = re.compile(r"/api/(?:getMonitorList|getEventFeed)/([^/?#]+)")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{3,64}$")
_PAGE_IN_NAME_RE = re.compile(r"page[-_=]?(\d+)", re.I)


def page_key_and_host(url: str) -> tuple[str, str]:
    """(page key, scheme://host) of a page or API URL; ParseError when it names no key."""
    parts = urlsplit(url.strip())
    host = urlunsplit((parts.scheme or "https", parts.netloc, "", "", ""))
    match = _API_PATH_RE.search(parts.path)
    key = match.group(1) if match else parts.fragment or None
    if key is None and (parts.hostname or "").lower() == "stats.uptimerobot.com":
        key = parts.path.strip("/").split("/")[-1] or None
    if not key or not _KEY_RE.match(key):
        raise ParseError(f"uptimerobot: {url!r} names no status page key (expected "
                         "stats.uptimerobot.com/<key>, .../api/getMonitorList/<key> or <page>#<key>)")
    return key, host


class UptimeRobotAdapter(Adapter):
    platform = "uptimerobot"
    title = "UptimeRobot status page"
    reads = frozenset({"components", "incidents", "updates"})
    keys = ("monitors", "events", *PAGE_KEYS)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        key, host = page_key_and_host(base_url)
        return [Endpoint("monitors", f"{host}/api/getMonitorList/{key}?page=1"),
                Endpoint("events", f"{host}/api/getEventFeed/{key}", required=False)]

    def more_endpoints(self, bodies: Bodies, base_url: str) -> list[Endpoint]:
        if "monitors" not in bodies:
            return []
        psp = load_object(bodies["monitors"], "uptimerobot monitor list").get("psp")
        if not isinstance(psp, dict):
            return []
        per_page, total = int_or_none(psp.get("perPage")), int_or_none(psp.get("totalMonitors"))
        if not per_page or not total or per_page <= 0:
            return []
        key, host = page_key_and_host(base_url)
        pages = min(math.ceil(total / per_page), MAX_PAGES)
        return [Endpoint(f"monitors_page{n}", f"{host}/api/getMonitorList/{key}?page={n}")
                for n in range(2, pages + 1)]

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports it under the main key
            return "monitors"
        if isinstance(doc, dict) and "results" in doc and "psp" not in doc:
            return "events"
        # Nothing in a page of the list says which page it is: a file name such as
        # ``...-page2.json`` does.
        match = _PAGE_IN_NAME_RE.search(filename)
        if match and 2 <= int(match.group(1)) <= MAX_PAGES:
            return f"monitors_page{int(match.group(1))}"
        return "monitors"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        self.check_keys(bodies)
        first = load_object(self.body(bodies, "monitors"), "uptimerobot monitor list")
        if not isinstance(first.get("psp"), dict):
            raise ParseError("uptimerobot: not a monitor list (no psp)")
        documents = [first]
        for key in PAGE_KEYS:
            if key in bodies:
                doc = load_object(bodies[key], f"uptimerobot {key}")
                if not isinstance(doc.get("psp"), dict):
                    raise ParseError(f"uptimerobot: {key} is not a monitor list (no psp)")
                documents.append(doc)

        components: dict[str, Component] = {}
        for doc in documents:
            for monitor in as_list(doc["psp"].get("monitors")):
                if not isinstance(monitor, dict) or monitor.get("monitorId") is None:
                    continue
                mid = str(monitor["monitorId"])
                raw = text_or_none(monitor.get("statusClass"))
                components[mid] = Component(
                    id=mid,
                    name=text_or_none(monitor.get("name")) or mid,
                    status=STATUS_CLASS.get(word_key(raw), ComponentStatus.unknown),
                    raw_status=raw,
                    position=len(components),
                )

        incidents: list[Incident] = []
        if "events" in bodies:
            feed = load_object(bodies["events"], "uptimerobot event feed")
            incidents = [i for i in (parse_announcement(raw, _page_url(base_url)) for raw in as_list(feed.get("results"))
                                     if isinstance(raw, dict)) if i]
        statistics = first.get("statistics") if isinstance(first.get("statistics"), dict) else {}
        page_url = _page_url(base_url)
        return Snapshot(
            platform=self.platform,
            url=page_url,
            status=monitor_page_status(c.status for c in components.values()),
            description=text_or_none(statistics.get("count_result")),
            components=list(components.values()),
            incidents=sorted(incidents, key=notice_sort_key),
        )


def _page_url(base_url: str | None) -> str | None:
    """The page people see: ``stats.uptimerobot.com/<key>``, or a custom domain's root (the key is
    in the stored URL only because the page's own URL does not carry it)."""
    if not base_url:
        return None
    try:
        key, host = page_key_and_host(base_url)
    except ParseError:
        return base_url
    return f"{host}/{key}" if host.endswith("://stats.uptimerobot.com") else host


def parse_announcement(raw: dict[str, Any], base_url: str | None) -> Incident | None:
    title = text_or_none(raw.get("title"))
    started = parse_time(raw.get("ts"))
    if title is None and started is None:
        return None
    event_type = text_or_none(raw.get("eventType")) or "ann"
    # Announcements carry no id: their type, time and title name them.
    aid = f"{event_type}-{int(started.timestamp()) if started else 0}-{title or ''}"[:200]
    ended = parse_time(raw.get("endDateGMT")) or parse_time(raw.get("endDate"))
    status = IncidentStatus.resolved if ended else IncidentStatus.investigating
    body = strip_html(str(raw.get("content") or ""))
    return Incident(
        id=aid,
        title=title or aid,
        status=status,
        raw_status=event_type,
        raw_impact=text_or_none(raw.get("icon")),
        started_at=started,
        updated_at=started,
        resolved_at=ended,
        url=base_url,
        updates=[latest_update(aid, status, event_type, body, started)] if body else [],
    )
