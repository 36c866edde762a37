"""incident.io status pages: three public read paths, each optional, merged when several are given.

* ``summary`` / ``incidents``: the Statuspage-compatible API (``/api/v2/summary.json``,
  ``/api/v2/incidents.json``). ULID ids, no groups, keys missing when empty, impact ``none`` for
  informational incidents, no component list on incidents. Parsed with the Statuspage helpers.
* ``widget``: ``/api/v1/summary`` (only when the page owner enabled it): ongoing incidents and
  maintenances with their affected components, which carry ``group_name`` and ``current_status``
  (``full_outage`` = major outage). It is the only public source of group names and of which
  components an incident affects, so it fills those gaps in the compatible API's data.
* ``feed``: ``/feed.atom`` (or ``.rss``). Each entry is an incident or maintenance at its latest
  update: ``<b>Status: X</b>`` prefix, message, then an optional ``<b>Affected components</b>``
  list of ``Name (Status)`` giving each component's *current* state. Entry ids are
  ``https://host//incidents/<ULID>`` (double slash); the ULID is the incident id of the API.
  The feed names components but gives no ids: alone, a feed yields components keyed by name;
  with a summary, names are matched to the summary's ids.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import feedparser

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance
from aggregator.page.parts import PageParts
from aggregator.page.reading import (
    as_list,
    classify_html,
    join_url,
    keep_worst,
    latest_update,
    load_json,
    load_object,
    looks_like_html,
    notice_sort_key,
    parse_time,
    strip_html,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import (
    INCIDENT_CLOSED,
    INDICATOR_TO_STATUS,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    component_status,
    worst_status,
)
from providers.statuspage import component_rows, page_and_status, parse_notice

# Widget impact words are component statuses; mapped onto the incident impact ladder.
WIDGET_IMPACT = {
    "degraded_performance": Impact.minor,
    "partial_outage": Impact.major,
    "full_outage": Impact.critical,
    "major_outage": Impact.critical,
}
WIDGET_MAINTENANCE_STATUS = {
    "maintenance_scheduled": MaintenanceStatus.scheduled,
    "maintenance_in_progress": MaintenanceStatus.in_progress,
    "maintenance_complete": MaintenanceStatus.completed,
}
# Feed "Status: X" words for maintenances (incident words are IncidentStatus values).
FEED_MAINTENANCE_STATUS = {
    "scheduled": MaintenanceStatus.scheduled,
    "maintenance_scheduled": MaintenanceStatus.scheduled,
    "in_progress": MaintenanceStatus.in_progress,
    "maintenance_in_progress": MaintenanceStatus.in_progress,
    "completed": MaintenanceStatus.completed,
    "complete": MaintenanceStatus.completed,
    "maintenance_complete": MaintenanceStatus.completed,
}
INCIDENT_WORDS = {s.value for s in IncidentStatus}

_FEED_STATUS_RE = re.compile(r"<b>\s*Status:\s*([^<]+?)\s*</b>", re.I)
_FEED_COMPONENTS_RE = re.compile(r"<b>\s*Affected components\s*</b>(.*)$", re.I | re.S)
_FEED_ITEM_RE = re.compile(r"<li>(.*?)</li>", re.I | re.S)
_FEED_ITEM_STATUS_RE = re.compile(r"^(.*)\(([^()]*)\)\s*$", re.S)
_INCIDENT_ID_RE = re.compile(r"/incidents/([0-9A-Za-z]+)/?$")


class IncidentIOAdapter(Adapter):
    platform = "incidentio"
    title = "incident.io status page"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("summary", "incidents", "widget", "feed")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("summary", join_url(base_url, "api/v2/summary.json"))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The compatible incidents.json (updates in full), then the Atom feed for what it lacks;
        # feed entries join on the incident's ULID, so an incident in both is read once.
        from providers.feed import FEED_ACCEPT  # feedparser is imported only where feeds are read

        return [Endpoint("incidents", join_url(base_url, "api/v2/incidents.json")),
                Endpoint("feed", join_url(base_url, "feed.atom"), required=False, accept=FEED_ACCEPT)]

    def classify(self, body: bytes, filename: str = "") -> str:
        head = body[:600].lstrip()
        if head.startswith(b"<?xml") or b"<feed" in head or b"<rss" in head:
            return "feed"
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - HTML etc.: build reports it under the main key
            return "summary"
        if not isinstance(doc, dict):
            return "summary"
        if any(k in doc for k in ("ongoing_incidents", "in_progress_maintenances", "page_title")):
            return "widget"
        if "incidents" in doc and "components" not in doc and "status" not in doc:
            return "incidents"
        return "summary"

    # ------------------------------------------------------------------------------------------
    def build(self, bodies: Bodies, base_url: str | None) -> PageParts:
        self.check_keys(bodies)
        compat = {key: load_object(bodies[key], f"incidentio {key}") for key in ("summary", "incidents") if key in bodies}
        widget = load_object(bodies["widget"], "incidentio widget") if "widget" in bodies else None
        feed = parse_feed(bodies["feed"]) if "feed" in bodies else None

        page, status_doc = page_and_status(compat.values())
        page_url = text_or_none(page.get("url")) or (text_or_none(widget.get("page_url")) if widget else None) \
            or (feed.url if feed else None) or base_url
        name = text_or_none(page.get("name")) or (text_or_none(widget.get("page_title")) if widget else None) \
            or (feed.name if feed else None)

        summary = compat.get("summary")
        # Components as dicts (``PageParts``): a poll worker writes them out without models.
        components = component_rows(summary.get("components"), None) if summary else []
        widget_components = _widget_components(widget) if widget else {}
        if components:
            # The compatible API has no groups; the widget names the group of each affected component.
            for c in components:
                if c["group"] is None and c["id"] in widget_components:
                    c["group"] = widget_components[c["id"]].group
        elif widget_components:
            components = [c.model_dump() for c in widget_components.values()]
        elif feed and not summary:
            components = [c.model_dump() for c in feed.components]

        incidents: dict[str, Incident] = {}
        maintenances: dict[str, Maintenance] = {}

        def keep(notice: Incident | Maintenance) -> None:
            target: dict[str, Any] = maintenances if isinstance(notice, Maintenance) else incidents
            other: dict[str, Any] = incidents if isinstance(notice, Maintenance) else maintenances
            other.pop(notice.id, None)
            target[notice.id] = notice

        # Oldest knowledge first, the richest current view last: feed < widget < incidents < summary.
        if feed:
            names_to_ids = _names_to_ids(components) if summary else None
            for notice in feed.notices:
                if names_to_ids is not None:
                    ids = [cid for n in notice.component_ids for cid in names_to_ids.get(n, [])]
                    notice = notice.model_copy(update={"component_ids": ids})
                keep(notice)
        if widget:
            for notice in _widget_notices(widget):
                keep(notice)
        for key in ("incidents", "summary"):
            doc = compat.get(key)
            if doc is None:
                continue
            for field, is_maintenance in (("incidents", False), ("scheduled_maintenances", True)):
                for raw in as_list(doc.get(field)):
                    if isinstance(raw, dict) and raw.get("id") is not None:
                        notice = parse_notice(raw, None, page_url, maintenance=is_maintenance)
                        previous = incidents.get(notice.id) or maintenances.get(notice.id)
                        if previous is not None and not notice.component_ids:
                            # The compatible API never lists components; keep what the widget/feed said.
                            notice = notice.model_copy(update={"component_ids": previous.component_ids})
                        keep(notice)

        indicator = text_or_none(status_doc.get("indicator"))
        stated = INDICATOR_TO_STATUS.get(word_key(indicator))
        if stated is not None:
            overall = stated
        elif components:
            overall = worst_status([c["status"] for c in components]
                                   + [ComponentStatus.under_maintenance for m in maintenances.values()
                                      if m.status is MaintenanceStatus.in_progress])
        elif any(i.is_open for i in incidents.values()):
            overall = ComponentStatus.unknown  # something is open but nothing says how bad
        elif incidents or maintenances or widget is not None:
            overall = ComponentStatus.operational
        else:
            overall = ComponentStatus.unknown
        return PageParts(
            platform=self.platform,
            name=name,
            url=page_url,
            page_id=text_or_none(page.get("id")),
            status=overall,
            raw_status=indicator,
            description=text_or_none(status_doc.get("description")),
            components=components,
            incidents=sorted(incidents.values(), key=notice_sort_key),
            maintenances=sorted(maintenances.values(), key=notice_sort_key),
        )

    build_history = Adapter.build_notices


# ------------------------------------------------------------------------------------------------
# Widget API
# ------------------------------------------------------------------------------------------------

def _widget_items(widget: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(field, raw) for field in ("ongoing_incidents", "in_progress_maintenances", "scheduled_maintenances")
            for raw in as_list(widget.get(field)) if isinstance(raw, dict) and raw.get("id") is not None]


def _widget_components(widget: dict[str, Any]) -> dict[str, Component]:
    """Affected components of every widget item (the widget lists no others), worst state wins."""
    out: dict[str, Component] = {}
    for _field, item in _widget_items(widget):
        for ac in as_list(item.get("affected_components")):
            if not isinstance(ac, dict) or ac.get("id") is None:
                continue
            raw_status = text_or_none(ac.get("current_status"))
            keep_worst(out, Component(
                id=str(ac["id"]),
                name=str(ac.get("name") or ac["id"]).strip(),
                group=text_or_none(ac.get("group_name")),
                status=component_status(raw_status),
                raw_status=raw_status,
            ))
    return out


def _widget_notices(widget: dict[str, Any]) -> list[Incident | Maintenance]:
    notices: list[Incident | Maintenance] = []
    for field, item in _widget_items(widget):
        raw_status = text_or_none(item.get("status"))
        word = word_key(raw_status)
        updated = parse_time(item.get("last_update_at"))
        message = str(item.get("last_update_message") or "")
        component_ids = list(dict.fromkeys(
            str(ac["id"]) for ac in as_list(item.get("affected_components"))
            if isinstance(ac, dict) and ac.get("id") is not None))
        common: dict[str, Any] = {
            "id": str(item["id"]),
            "title": str(item.get("name") or "").strip() or str(item["id"]),
            "raw_status": raw_status,
            "updated_at": updated,
            "url": text_or_none(item.get("url")),
            "component_ids": component_ids,
        }
        if field == "ongoing_incidents":
            status = IncidentStatus(word) if word in INCIDENT_WORDS else IncidentStatus.investigating
            raw_impact = text_or_none(item.get("current_worst_impact"))
            updates = [latest_update(common["id"], status, raw_status, message, updated)] if message or updated else []
            notices.append(Incident(**common, status=status, impact=WIDGET_IMPACT.get(word_key(raw_impact), Impact.none),
                                    raw_impact=raw_impact, updates=updates))
        else:
            default = (MaintenanceStatus.in_progress if field == "in_progress_maintenances"
                       else MaintenanceStatus.scheduled)
            status = WIDGET_MAINTENANCE_STATUS.get(word, default)
            started = parse_time(item.get("started_at"))
            updates = [latest_update(common["id"], status, raw_status, message, updated)] if message or updated else []
            notices.append(Maintenance(
                **common, status=status, started_at=started,
                scheduled_for=started or parse_time(item.get("starts_at")),
                scheduled_until=parse_time(item.get("scheduled_end_at")) or parse_time(item.get("ends_at")),
                updates=updates,
            ))
    return notices


# ------------------------------------------------------------------------------------------------
# Atom / RSS feed
# ------------------------------------------------------------------------------------------------

class ParsedFeed:
    """What an incident.io feed says: page name and URL, notices, and components keyed by name."""

    def __init__(self, name: str | None, url: str | None, notices: list[Incident | Maintenance],
                 components: list[Component]) -> None:
        self.name = name
        self.url = url
        self.notices = notices
        self.components = components


def parse_feed(body: bytes) -> ParsedFeed:
    if looks_like_html(body):
        raise classify_html(body)
    # No DTD entities, whatever expat's own limits: the same gate as the generic feed adapter.
    from providers.feed import check_feed_safety

    check_feed_safety(body)
    # A stream, never bytes/str: feedparser treats a str as a URL or file name to open.
    parsed = feedparser.parse(io.BytesIO(body))
    if not parsed.entries and not parsed.feed.get("title"):
        problem = parsed.get("bozo_exception")
        raise ParseError(f"incidentio feed: not an Atom/RSS document{f' ({problem})' if problem else ''}"[:200])
    notices: list[Incident | Maintenance] = []
    # Component state by name from the newest entry that lists it (entries may come in any order).
    newest: dict[str, tuple[datetime, Component]] = {}
    for entry in parsed.entries:
        link = text_or_none(entry.get("link")) or text_or_none(entry.get("id")) or ""
        match = _INCIDENT_ID_RE.search(link) or _INCIDENT_ID_RE.search(str(entry.get("id") or ""))
        if not match:
            continue
        notice_id = match.group(1)
        html = _entry_html(entry)
        status_match = _FEED_STATUS_RE.search(html)
        raw_status = status_match.group(1).strip() if status_match else None
        word = word_key(raw_status)
        updated = _entry_time(entry)
        listed = _listed_components(html)
        message_html = _FEED_STATUS_RE.sub("", html, count=1)
        message_html = _FEED_COMPONENTS_RE.sub("", message_html)
        body_text = strip_html(message_html)
        common: dict[str, Any] = {
            "id": notice_id,
            "title": str(entry.get("title") or "").strip() or notice_id,
            "raw_status": raw_status,
            "updated_at": updated,
            "url": re.sub(r"(?<!:)//+", "/", link) if link else None,
            "component_ids": list(dict.fromkeys(name for name, _status in listed)),
        }
        if word in FEED_MAINTENANCE_STATUS and word not in INCIDENT_WORDS:
            m_status = FEED_MAINTENANCE_STATUS[word]
            notices.append(Maintenance(
                **common, status=m_status,
                resolved_at=updated if m_status is MaintenanceStatus.completed else None,
                updates=[latest_update(notice_id, m_status, raw_status, body_text, updated)]))
        else:
            i_status = IncidentStatus(word) if word in INCIDENT_WORDS else IncidentStatus.investigating
            notices.append(Incident(
                **common, status=i_status,
                # The entry's time is its latest update; for a closed incident that is the resolution.
                resolved_at=updated if i_status in INCIDENT_CLOSED else None,
                updates=[latest_update(notice_id, i_status, raw_status, body_text, updated)]))
        when = updated or datetime.min.replace(tzinfo=UTC)
        # The same name can appear twice in one entry (two components in different groups): keep the worst.
        per_entry: dict[str, Component] = {}
        for comp_name, comp_raw in listed:
            keep_worst(per_entry, Component(id=comp_name, name=comp_name, status=component_status(word_key(comp_raw)),
                                            raw_status=comp_raw, updated_at=updated))
        for comp_name, comp in per_entry.items():
            if comp_name not in newest or when > newest[comp_name][0]:
                newest[comp_name] = (when, comp)
    feed_link = text_or_none(parsed.feed.get("link"))
    return ParsedFeed(
        name=_feed_name(text_or_none(parsed.feed.get("title"))),
        url=feed_link,
        notices=notices,
        components=[comp for _when, comp in newest.values()],
    )


def _entry_html(entry: Any) -> str:
    for content in entry.get("content") or []:
        value = content.get("value") if isinstance(content, dict) else None
        if value:
            return str(value)
    return str(entry.get("summary") or entry.get("description") or "")


def _entry_time(entry: Any) -> datetime | None:
    for key in ("updated", "published"):
        when = parse_time(entry.get(key))
        if when is not None:
            return when
    return None


def _listed_components(html: str) -> list[tuple[str, str | None]]:
    match = _FEED_COMPONENTS_RE.search(html)
    if not match:
        return []
    out: list[tuple[str, str | None]] = []
    for item in _FEED_ITEM_RE.findall(match.group(1)):
        text = strip_html(item).strip()
        if not text:
            continue
        status_match = _FEED_ITEM_STATUS_RE.match(text)
        if status_match:
            out.append((status_match.group(1).strip(), status_match.group(2).strip() or None))
        else:
            out.append((text, None))
    return out


def _feed_name(title: str | None) -> str | None:
    """``"OpenAI status"`` -> ``"OpenAI"``: the feed title is the page name plus "status"."""
    if title is None:
        return None
    return re.sub(r"\s+status$", "", title, flags=re.I).strip() or title


def _names_to_ids(components: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in components:
        out.setdefault(c["name"], []).append(c["id"])
    return out
