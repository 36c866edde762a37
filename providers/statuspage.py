"""Atlassian Statuspage (``/api/v2/*.json``): the platform most vendors use.

Also reads the Statuspage-compatible API that other products serve (``statuspage-compatible``
leniency: missing keys, no groups), and hands ``/history.atom`` / ``/history.rss`` to the feed
adapter so that ``upstream parse statuspage`` takes any file a Statuspage page serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Incident, Maintenance, Snapshot, Update
from aggregator.page.parts import PageParts
from aggregator.page.reading import (
    as_list,
    join_url,
    load_json,
    load_object,
    notice_sort_key,
    parse_time,
    sort_updates,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import (
    INDICATOR_TO_STATUS,
    STATUS_BY_WORD,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    component_status,
    worst_status,
)

COMPONENT_STATUSES = {s.value for s in ComponentStatus} - {"unknown"}
INCIDENT_STATUSES = {s.value for s in IncidentStatus}
MAINTENANCE_STATUSES = {s.value for s in MaintenanceStatus}
IMPACTS = {i.value for i in Impact}


def impact_of(raw: Any, default: Impact = Impact.none) -> Impact:
    word = str(raw or "").strip().lower()
    return Impact(word) if word in IMPACTS else default


class StatuspageAdapter(Adapter):
    platform = "statuspage"
    title = "Atlassian Statuspage"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("summary", "components", "incidents", "scheduled_maintenances", "status", "feed")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("summary", join_url(base_url, "api/v2/summary.json"))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        return [
            Endpoint("incidents", join_url(base_url, "api/v2/incidents.json")),
            Endpoint("scheduled_maintenances", join_url(base_url, "api/v2/scheduled-maintenances.json"),
                     required=False),
        ]

    def uptime_endpoints(self, base_url: str) -> list[Endpoint]:
        from providers.statuspage_uptime import uptime_endpoint

        return [uptime_endpoint(base_url)]

    def build_uptime(self, bodies: Bodies, base_url: str | None) -> list[dict[str, Any]] | None:
        from providers.statuspage_uptime import read_uptime

        body = bodies.get("page")
        read = read_uptime(body) if body else None
        if read is None:
            return None
        return [{"id": c.id, "name": c.name, "is_group": c.is_group,
                 "days": [{"date": d.day.isoformat(), "has_data": d.has_data,
                           "partial_outage_seconds": d.partial_outage_seconds,
                           "major_outage_seconds": d.major_outage_seconds} for d in c.days]}
                for c in read.components]

    def classify(self, body: bytes, filename: str = "") -> str:
        head = body[:400].lstrip()
        if head.startswith(b"<?xml") or b"<feed" in head or b"<rss" in head:
            return "feed"
        try:
            doc = load_json(body)
        except ParseError:
            return "summary"
        except Exception:  # noqa: BLE001 - HTML etc.: let build report it under the main key
            return "summary"
        if not isinstance(doc, dict):
            return "summary"
        if "components" in doc and ("status" in doc or "incidents" in doc):
            return "summary"
        for key in ("components", "incidents", "scheduled_maintenances"):
            if key in doc:
                return key
        return "status" if "status" in doc else "summary"

    # ------------------------------------------------------------------------------------------
    def build(self, bodies: Bodies, base_url: str | None) -> PageParts | Snapshot:
        if not bodies:
            raise ParseError("statuspage: nothing to parse")
        if "feed" in bodies and len(bodies) == 1:
            from providers.feed import FeedAdapter  # a page's feed alone

            return FeedAdapter().build({"feed": bodies["feed"]}, base_url)
        docs = {key: load_object(body, f"statuspage {key}") for key, body in bodies.items() if key != "feed"}
        for key, doc in docs.items():
            for field in ("components", "incidents", "scheduled_maintenances"):
                if doc.get(field) is not None and not isinstance(doc[field], list):
                    raise ParseError(f"statuspage {key}: {field!r} is not a list")
        page, status_doc = page_and_status(docs.values())
        tz = text_or_none(page.get("time_zone"))
        page_url = text_or_none(page.get("url")) or base_url
        if not any(k in doc for doc in docs.values() for k in
                   ("page", "components", "incidents", "scheduled_maintenances", "status")):
            raise ParseError("statuspage: not a Statuspage API document (no page, status or components)")

        components: list[dict[str, Any]] = []
        comp_doc = docs.get("summary") or docs.get("components")
        if comp_doc is not None:
            components = component_rows(comp_doc.get("components"), tz)

        incidents: dict[str, Incident] = {}
        maintenances: dict[str, Maintenance] = {}
        for key in ("incidents", "summary"):  # summary last: the current view wins
            doc = docs.get(key)
            if doc is None:
                continue
            for raw in as_list(doc.get("incidents")):
                if isinstance(raw, dict) and raw.get("id") is not None:
                    notice = parse_notice(raw, tz, page_url)
                    if isinstance(notice, Maintenance):
                        maintenances[notice.id] = notice
                    else:
                        incidents[notice.id] = notice
        for key in ("scheduled_maintenances", "summary"):
            doc = docs.get(key)
            if doc is None:
                continue
            for raw in as_list(doc.get("scheduled_maintenances")):
                if isinstance(raw, dict) and raw.get("id") is not None:
                    notice = parse_notice(raw, tz, page_url, maintenance=True)
                    assert isinstance(notice, Maintenance)
                    maintenances[notice.id] = notice

        indicator = text_or_none(status_doc.get("indicator"))
        stated = INDICATOR_TO_STATUS.get(word_key(indicator))
        return PageParts(
            platform=self.platform,
            name=text_or_none(page.get("name")),
            url=page_url,
            page_id=text_or_none(page.get("id")),
            # As ``stated_or_worst``: the page's own word, else the worst of its components.
            status=stated if stated is not None and stated is not ComponentStatus.unknown else (
                worst_status(c["status"] for c in components) if components else ComponentStatus.unknown),
            raw_status=indicator,
            description=text_or_none(status_doc.get("description")),
            components=components,
            incidents=sorted(incidents.values(), key=notice_sort_key),
            maintenances=sorted(maintenances.values(), key=notice_sort_key),
        )

    build_history = Adapter.build_notices


def page_and_status(docs: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``page`` and ``status`` objects of the first documents that carry them ({} where none does)."""
    listed = list(docs)
    page = next((d["page"] for d in listed if isinstance(d.get("page"), dict)), {})
    status = next((d["status"] for d in listed if isinstance(d.get("status"), dict)), {})
    return page, status


def component_rows(raw_components: Any, tz: str | None) -> list[dict[str, Any]]:
    """Statuspage components as the page's component dicts (groups become the ``group`` of their
    members, not components): every Component field in the model's order, each value as
    validation leaves it (so that the dicts serialise to the models' JSON)."""
    raws = [c for c in as_list(raw_components) if isinstance(c, dict) and c.get("id") is not None]
    group_names: dict[str, str] = {}
    # A group also lists its children; use that where a child lacks group_id.
    child_group: dict[str, str] = {}
    for c in raws:
        if c.get("group") is True:
            group_id = str(c["id"])
            group_names[group_id] = str(c.get("name") or c["id"])
            for child in as_list(c.get("components")):
                child_group[str(child)] = group_id
    # The loop runs for every component of every page polled, so it is written for speed: plain
    # dicts (pydantic's core validates a list of dicts faster than one constructor call per
    # item, and a poll worker writes them out without models), the usual types tested first,
    # each distinct update time parsed once per page (real pages repeat them across components).
    rows: list[dict[str, Any]] = []
    append = rows.append
    times: dict[Any, Any] = {}
    by_word = STATUS_BY_WORD
    for c in raws:
        get = c.get
        if get("group") is True:
            continue
        cid = c["id"]
        if cid.__class__ is not str:
            cid = str(cid)
        group_id = get("group_id")
        group_id = (group_id.strip() if group_id.__class__ is str else text_or_none(group_id)) or child_group.get(cid)
        raw_status = get("status")
        raw_status = (raw_status.strip() or None) if raw_status.__class__ is str else text_or_none(raw_status)
        description = get("description")
        if description is not None:
            description = (description.strip() or None) if description.__class__ is str else text_or_none(description)
        name = get("name")
        updated = get("updated_at")
        updated_at = times.get(updated) if updated.__class__ is str else None
        if updated_at is None:
            updated_at = parse_time(updated, tz)
            if updated.__class__ is str:
                times[updated] = updated_at
        position = get("position")
        append({
            "id": cid,
            "name": (name if name.__class__ is str and name else str(name or cid)).strip(),
            "group": group_names.get(group_id) if group_id else None,
            "status": by_word.get(raw_status) or component_status(raw_status),
            "raw_status": raw_status,
            "description": description,
            "position": position if position.__class__ is int else None,  # not bool, not a string
            "updated_at": updated_at,
            "region": None,
            "only_show_if_degraded": get("only_show_if_degraded") is True,
        })
    return rows




def parse_updates(raw_updates: Any, tz: str | None, allowed: set[str]) -> list[Update]:
    updates = []
    for u in as_list(raw_updates):
        if not isinstance(u, dict):
            continue
        raw_status = text_or_none(u.get("status"))
        word = (raw_status or "").lower()
        updates.append(Update(
            id=str(u.get("id") or f"{u.get('display_at') or u.get('created_at')}"),
            status=word if word in allowed else (raw_status or "unknown"),
            raw_status=raw_status,
            body=str(u.get("body") or ""),
            created_at=parse_time(u.get("display_at") or u.get("created_at"), tz),
        ))
    sort_updates(updates)
    return updates


def parse_notice(raw: dict[str, Any], tz: str | None, page_url: str | None,
                 maintenance: bool = False) -> Incident | Maintenance:
    """One Statuspage incident or scheduled maintenance."""
    raw_status = text_or_none(raw.get("status"))
    word = (raw_status or "").lower()
    is_maintenance = maintenance or "scheduled_for" in raw or word in (MAINTENANCE_STATUSES - INCIDENT_STATUSES)
    component_ids = [str(c["id"]) for c in as_list(raw.get("components"))
                     if isinstance(c, dict) and c.get("id") is not None]
    updates_raw = as_list(raw.get("incident_updates"))
    if not component_ids:
        seen: dict[str, None] = {}
        for u in updates_raw:
            if isinstance(u, dict):
                for ac in as_list(u.get("affected_components")):
                    if isinstance(ac, dict) and ac.get("code"):
                        seen[str(ac["code"])] = None
        component_ids = list(seen)
    shortlink = text_or_none(raw.get("shortlink"))
    url = shortlink or (f"{page_url.rstrip('/')}/incidents/{raw['id']}" if page_url else None)
    created = parse_time(raw.get("created_at"), tz)
    started = parse_time(raw.get("started_at"), tz) or created
    resolved = parse_time(raw.get("resolved_at"), tz)
    if started and resolved and created and started > resolved >= created:
        # A retroactive incident (posted after the fact, one "resolved" update): started_at is
        # when it was posted, created_at the time its author gave it, which the page shows.
        started = created
    common: dict[str, Any] = {
        "id": str(raw["id"]),
        "title": str(raw.get("name") or "").strip() or str(raw["id"]),
        "raw_status": raw_status,
        "raw_impact": text_or_none(raw.get("impact")),
        "started_at": started,
        "updated_at": parse_time(raw.get("updated_at"), tz),
        "resolved_at": resolved,
        "url": url,
        "component_ids": component_ids,
    }
    if is_maintenance:
        status = MaintenanceStatus(word) if word in MAINTENANCE_STATUSES else (
            MaintenanceStatus.completed if word in {"resolved", "postmortem"} else MaintenanceStatus.scheduled)
        return Maintenance(
            **common,
            impact=impact_of(raw.get("impact"), Impact.maintenance),
            status=status,
            scheduled_for=parse_time(raw.get("scheduled_for"), tz),
            scheduled_until=parse_time(raw.get("scheduled_until"), tz),
            updates=parse_updates(updates_raw, tz, MAINTENANCE_STATUSES),
        )
    status = IncidentStatus(word) if word in INCIDENT_STATUSES else IncidentStatus.investigating
    updates = parse_updates(updates_raw, tz, INCIDENT_STATUSES)
    postmortem = postmortem_update(raw, tz)
    if postmortem is not None:
        updates.insert(0, postmortem)
        sort_updates(updates)
    return Incident(
        **common,
        impact=impact_of(raw.get("impact")),
        status=status,
        updates=updates,
    )


def postmortem_update(raw: dict[str, Any], tz: str | None) -> Update | None:
    """An incident's published post-mortem (``postmortem_body``, markdown) as its last update.

    Statuspage shows the post-mortem below the updates, dated when it was published; as an
    ``Update`` with status ``postmortem`` it is stored, exported and rendered like any other
    update without a field of its own in the model. Its id is the incident's with ``:postmortem``
    so that a re-read (an edited post-mortem) replaces it rather than adding another."""
    body = raw.get("postmortem_body")
    if not isinstance(body, str) or not body.strip():
        return None
    when = (parse_time(raw.get("postmortem_published_at"), tz)
            or parse_time(raw.get("postmortem_body_last_updated_at"), tz)
            or parse_time(raw.get("updated_at"), tz))
    return Update(id=f"{raw['id']}:postmortem", status=IncidentStatus.postmortem.value, raw_status="postmortem",
                  body=body, created_at=when)
