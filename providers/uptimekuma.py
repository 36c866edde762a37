"""Uptime Kuma status pages (self-hosted): two public JSON documents per page, both required.

* ``page``: ``GET /api/status-page/<slug>`` -- ``config`` (slug, title, description),
  ``publicGroupList[]{id, name, weight, monitorList[]{id, name, type, ...}}``, the pinned
  ``incident`` (Kuma 1.x and 2.0: one object or null) or ``incidents[]`` (later versions: every
  pinned, active one), and ``maintenanceList[]`` (only windows under maintenance right now: the
  server filters on ``isUnderMaintenance()``).
* ``heartbeat``: ``GET /api/status-page/heartbeat/<slug>`` -- ``heartbeatList`` keyed by the
  monitor id *as a string*, beats oldest first (``{status, time, msg, ping}``; with a day range
  configured, a bucket with no data is the number ``0``), and ``uptimeList`` (``"<id>_24"``
  in 1.x, the bare id later; fractions 0..1, not percent; not read).

Status mapping (``raw_status`` keeps Kuma's number, as text):

====================  ==========================  =========================================
heartbeat ``status``  component status            source
====================  ==========================  =========================================
``1`` UP              operational                 capture + ``src/util`` constants
``0`` DOWN            major_outage                capture
``2`` PENDING         degraded_performance        source only (a failed check being retried)
``3`` MAINTENANCE     under_maintenance           capture
no beat               unknown                     --
====================  ==========================  =========================================

Monitors are the components (id = monitor id, group = the public group's name); a monitor's state
is its latest beat. The page's overall state is ``monitor_page_status`` (every monitor down: major
outage, some: partial outage), as Kuma's own page says "all systems operational / partially
degraded / degraded service".

Incidents have no lifecycle in Kuma: one is listed while pinned and open (investigating), and
resolves when it leaves the page. ``style`` is the only severity: ``danger`` -> major, ``warning``
-> minor, ``info``/``primary``/``light``/``dark`` -> none (``raw_impact`` keeps the style). Incidents
name no monitors. Maintenances listed are in progress (``status`` ``under-maintenance``; the words
``scheduled``, ``ended``, ``inactive`` are read where a server sends them, documentation only);
their window is ``timeslotList[0]`` read in the maintenance's ``timezone`` (else its
``timezoneOffset``). Kuma writes dates without a zone (``2026-09-12 12:24:51``), in UTC as its
database keeps them; a heartbeat time in later versions is ISO 8601 with ``Z``.

The page URL is ``<root>/status/<slug>`` (``<root>`` may carry a path prefix); the API URL or a
``#<slug>`` fragment are accepted too.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    load_json,
    load_object,
    notice_sort_key,
    parse_time,
    strip_html,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.monitor_pages import monitor_page_status

HEARTBEAT_STATUS = {
    "1": ComponentStatus.operational,
    "0": ComponentStatus.major_outage,
    "2": ComponentStatus.degraded_performance,
    "3": ComponentStatus.under_maintenance,
}
STYLE_IMPACT = {"danger": Impact.major, "warning": Impact.minor}
MAINTENANCE_STATUS = {
    "under_maintenance": MaintenanceStatus.in_progress,
    "scheduled": MaintenanceStatus.scheduled,
    "ended": MaintenanceStatus.completed,
    "inactive": MaintenanceStatus.completed,
}
_SLUG_PATH_RE = re.compile(r"^(.*?)/(?:status|api/status-page(?:/heartbeat)?)/([^/]+)/?$")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def page_parts(url: str) -> tuple[str, str]:
    """(root, slug) of a Kuma page URL; ParseError when the URL names no slug."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    match = _SLUG_PATH_RE.match(path)
    if match:
        prefix, slug = match.group(1), match.group(2)
    elif parts.fragment:
        prefix, slug = path, parts.fragment
    else:
        raise ParseError(f"uptimekuma: {url!r} names no status page (expected <root>/status/<slug>)")
    root = urlunsplit((parts.scheme or "https", parts.netloc, prefix, "", ""))
    return root, slug.lower()


def _page_url(base_url: str | None) -> str | None:
    """The page people see (``<root>/status/<slug>``), also for a page polled at its API URL."""
    if not base_url:
        return None
    try:
        root, slug = page_parts(base_url)
    except ParseError:
        return base_url
    return f"{root}/status/{slug}"


def _kuma_time(value: Any, zone: Any = None) -> Any:
    """Kuma's zoneless ``YYYY-MM-DD HH:MM[:SS[.mmm]]`` (UTC unless ``zone`` says otherwise)."""
    when = parse_time(value, zone if isinstance(zone, str) else None)
    if when is not None and isinstance(zone, timezone):
        when = when.replace(tzinfo=zone)
    return when


class UptimeKumaAdapter(Adapter):
    platform = "uptimekuma"
    title = "Uptime Kuma status page"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("page", "heartbeat")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        root, slug = page_parts(base_url)
        return [Endpoint("page", f"{root}/api/status-page/{slug}"),
                Endpoint("heartbeat", f"{root}/api/status-page/heartbeat/{slug}")]

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports it under the main key
            return "page"
        return "heartbeat" if isinstance(doc, dict) and "heartbeatList" in doc else "page"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        self.check_keys(bodies)
        page = load_object(self.body(bodies, "page"), "uptimekuma status page")
        if "publicGroupList" not in page and "config" not in page:
            raise ParseError("uptimekuma: not a status-page document (no config or publicGroupList)")
        beats: dict[str, Any] = {}
        if "heartbeat" in bodies:
            doc = load_object(bodies["heartbeat"], "uptimekuma heartbeat")
            beats = doc.get("heartbeatList") if isinstance(doc.get("heartbeatList"), dict) else {}
        config = page.get("config") if isinstance(page.get("config"), dict) else {}

        components: list[Component] = []
        for group in as_list(page.get("publicGroupList")):
            if not isinstance(group, dict):
                continue
            group_name = text_or_none(group.get("name"))
            for monitor in as_list(group.get("monitorList")):
                if not isinstance(monitor, dict) or monitor.get("id") is None:
                    continue
                mid = str(monitor["id"])
                latest = _latest_beat(beats.get(mid))
                raw = word_key(latest.get("status")) if latest else None
                components.append(Component(
                    id=mid,
                    name=text_or_none(monitor.get("name")) or mid,
                    group=group_name,
                    status=HEARTBEAT_STATUS.get(raw or "", ComponentStatus.unknown),
                    raw_status=raw or None,
                    description=text_or_none(monitor.get("description")),
                    position=len(components),
                    updated_at=_kuma_time(latest.get("time")) if latest else None,
                ))

        raw_incidents = [page["incident"]] if isinstance(page.get("incident"), dict) else []
        raw_incidents += [i for i in as_list(page.get("incidents")) if isinstance(i, dict)]
        page_url = _page_url(base_url)
        incidents = {i.id: i for i in (parse_incident(raw, page_url) for raw in raw_incidents) if i}
        maintenances = [m for m in (parse_maintenance(raw) for raw in as_list(page.get("maintenanceList"))
                                    if isinstance(raw, dict)) if m]
        status = monitor_page_status(c.status for c in components)
        if status is ComponentStatus.operational and any(m.status is MaintenanceStatus.in_progress
                                                         for m in maintenances):
            status = ComponentStatus.under_maintenance
        return Snapshot(
            platform=self.platform,
            name=text_or_none(config.get("title")),
            url=page_url,
            page_id=text_or_none(config.get("slug")),
            status=status,
            description=text_or_none(config.get("description")),
            components=components,
            incidents=sorted(incidents.values(), key=notice_sort_key),
            maintenances=sorted(maintenances, key=notice_sort_key),
        )


def _latest_beat(value: Any) -> dict[str, Any] | None:
    """The newest real beat of a monitor (beats come oldest first; ``0`` is an empty bucket)."""
    for beat in reversed(as_list(value)):
        if isinstance(beat, dict) and beat.get("status") is not None:
            return beat
    return None


def parse_incident(raw: dict[str, Any], base_url: str | None) -> Incident | None:
    if raw.get("id") is None:
        return None
    iid = str(raw["id"])
    style = text_or_none(raw.get("style"))
    started = _kuma_time(raw.get("createdDate"))
    updated = _kuma_time(raw.get("lastUpdatedDate")) or started
    body = strip_html(str(raw.get("content") or ""))
    return Incident(
        id=iid,
        title=text_or_none(raw.get("title")) or iid,
        status=IncidentStatus.investigating,
        impact=STYLE_IMPACT.get(word_key(style), Impact.none),
        raw_impact=style,
        started_at=started,
        updated_at=updated,
        url=base_url,
        updates=[Update(id=f"{iid}@{updated.isoformat() if updated else 'latest'}",
                        status=IncidentStatus.investigating.value, body=body, created_at=updated)] if body else [],
    )


def _zone_of(raw: dict[str, Any]) -> Any:
    """The zone a maintenance's dates are written in: an IANA name, else a ``+HH:MM`` offset."""
    name = text_or_none(raw.get("timezone"))
    if name and (name == "UTC" or "/" in name):
        return name
    offset = _OFFSET_RE.match(text_or_none(raw.get("timezoneOffset")) or "")
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3))))
    return None


def parse_maintenance(raw: dict[str, Any]) -> Maintenance | None:
    if raw.get("id") is None:
        return None
    mid = str(raw["id"])
    raw_status = text_or_none(raw.get("status"))
    status = MAINTENANCE_STATUS.get(word_key(raw_status), MaintenanceStatus.in_progress)
    zone = _zone_of(raw)
    slots = [s for s in as_list(raw.get("timeslotList")) if isinstance(s, dict)]
    start = _kuma_time(slots[0].get("startDate"), zone) if slots else None
    end = _kuma_time(slots[0].get("endDate"), zone) if slots else None
    if start is None:
        dates = as_list(raw.get("dateRange"))
        start = _kuma_time(dates[0], zone) if dates else None
        end = _kuma_time(dates[1], zone) if len(dates) > 1 else end
    body = strip_html(str(raw.get("description") or ""))
    return Maintenance(
        id=mid,
        title=text_or_none(raw.get("title")) or mid,
        status=status,
        raw_status=raw_status,
        scheduled_for=start,
        scheduled_until=end,
        started_at=start if status is not MaintenanceStatus.scheduled else None,
        updates=[Update(id=f"{mid}@latest", status=status.value, raw_status=raw_status, body=body)] if body else [],
    )

