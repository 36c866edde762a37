"""Instatus public pages: ``/summary.json`` (page state, open incidents and maintenances) and
``/v3/components.json`` (every component, groups included).

Quirks handled (platforms.md §5 and §13):

* ``page.status`` is ``UP|HASISSUES|UNDERMAINTENANCE`` and can stay ``UP`` while an incident is
  open, so the overall state is the worst of the page word, open incidents' impacts, maintenances
  in progress and component states.
* ``activeIncidents`` / ``activeMaintenances`` are omitted when empty; times are ISO 8601 or the
  JavaScript ``Date.toString()`` form; maintenance ``duration`` is minutes, a number or a string.
* ``/v3/components.json`` lists groups as components too, and groups nest more than one level
  (Gcore: CDN > Global services > Advanced Analytics). A component whose id is some other
  component's ``group.id`` is a group and is not emitted. Members carry the name of their
  **nearest** group (the ``group.name`` the platform attaches to them), not the top-level one:
  it is what the platform says about the component, and it stays distinct where top-level names
  would merge unrelated sub-groups.
* Incidents are not attributed to components, and the summary carries no updates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot
from aggregator.page.reading import (
    as_list,
    impacts_of,
    join_url,
    load_json,
    load_object,
    notice_sort_key,
    parse_time,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import (
    IMPACT_TO_STATUS,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    worst_status,
)

COMPONENT_STATUS = {
    "operational": ComponentStatus.operational,
    "undermaintenance": ComponentStatus.under_maintenance,
    "degradedperformance": ComponentStatus.degraded_performance,
    "partialoutage": ComponentStatus.partial_outage,
    "minoroutage": ComponentStatus.partial_outage,
    "majoroutage": ComponentStatus.major_outage,
}
IMPACT = impacts_of(COMPONENT_STATUS)
PAGE_STATUS = {
    "up": ComponentStatus.operational,
    # The page admits a problem; how bad comes from the incidents and components.
    "hasissues": ComponentStatus.degraded_performance,
    "undermaintenance": ComponentStatus.under_maintenance,
}
INCIDENT_STATUS = {s.value: s for s in IncidentStatus}
MAINTENANCE_STATUS = {
    "notstartedyet": MaintenanceStatus.scheduled,
    "inprogress": MaintenanceStatus.in_progress,
    "completed": MaintenanceStatus.completed,
}


def _word(value: Any) -> str:
    return word_key(value).replace("_", "")


class InstatusAdapter(Adapter):
    platform = "instatus"
    title = "Instatus"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})  # updates: the history feed
    keys = ("summary", "components", "history")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [
            Endpoint("summary", join_url(base_url, "summary.json")),
            Endpoint("components", join_url(base_url, "v3/components.json"), required=False),
        ]

    def classify(self, body: bytes, filename: str = "") -> str:
        from providers.history import looks_like_feed

        if looks_like_feed(body):
            return "history"
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports HTML etc. under the main key
            return "summary"
        if isinstance(doc, dict) and "components" in doc and "page" not in doc:
            return "components"
        return "summary"

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # summary.json lists only what is open; the page's history is in its feed (the public
        # incidents API needs a key). Feed entries link to <page>/<id>, as summary.json's urls do.
        from providers.history import feed_endpoint

        return [Endpoint("summary", join_url(base_url, "summary.json")),
                feed_endpoint("history", join_url(base_url, "history.rss"))]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        from providers.history import closed_unless_current, feed_notices, merge_history

        current = self.build_notices({"summary": bodies["summary"]}, base_url) if "summary" in bodies else []
        if "history" not in bodies:
            if not current and "summary" not in bodies:
                raise ParseError(f"instatus: no history body (got {sorted(bodies)})")
            return current
        past = feed_notices(bodies["history"], rename=lambda n: _id_in_link(n.url))
        if "summary" in bodies:
            past = closed_unless_current(past, {n.id for n in current if n.is_open},
                                         lists_upcoming_maintenances=True)
        return merge_history(current, past)

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if set(bodies) == {"history"}:
            from providers.history import refuse_html, snapshot_of_history

            refuse_html(bodies["history"])
            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        if not bodies:
            raise ParseError("instatus: nothing to parse")
        docs = {key: load_object(body, f"instatus {key}") for key, body in bodies.items()}
        summary = docs.get("summary")
        comp_doc = docs.get("components")
        if summary is not None and not any(k in summary for k in ("page", "activeIncidents", "activeMaintenances")):
            raise ParseError("instatus: summary has no page, activeIncidents or activeMaintenances")
        if comp_doc is not None and "components" not in comp_doc:
            raise ParseError("instatus: components document has no components list")
        page = summary.get("page") if summary and isinstance(summary.get("page"), dict) else {}

        components = parse_components(comp_doc.get("components")) if comp_doc else []
        incidents = [parse_incident(raw) for raw in as_list(summary.get("activeIncidents") if summary else None)
                     if isinstance(raw, dict)]
        maintenances = [parse_maintenance(raw) for raw in
                        as_list(summary.get("activeMaintenances") if summary else None) if isinstance(raw, dict)]

        raw_page_status = text_or_none(page.get("status"))
        evidence = [c.status for c in components]
        evidence += [IMPACT_TO_STATUS[i.impact] for i in incidents if i.is_open]
        evidence += [ComponentStatus.under_maintenance for m in maintenances if m.status is MaintenanceStatus.in_progress]
        page_status = PAGE_STATUS.get(_word(raw_page_status))
        if page_status is not None:
            evidence.append(page_status)
        overall = worst_status(evidence) if evidence else ComponentStatus.unknown
        return Snapshot(
            platform=self.platform,
            name=text_or_none(page.get("name")),
            url=text_or_none(page.get("url")) or base_url,
            status=overall,
            raw_status=raw_page_status,
            components=components,
            incidents=sorted(incidents, key=notice_sort_key),
            maintenances=sorted(maintenances, key=notice_sort_key),
        )


def parse_components(raw_components: Any) -> list[Component]:
    raws = [c for c in as_list(raw_components) if isinstance(c, dict) and c.get("id") is not None]
    group_ids = {str(c["group"]["id"]) for c in raws
                 if isinstance(c.get("group"), dict) and c["group"].get("id") is not None}
    out = []
    for c in raws:
        cid = str(c["id"])
        if cid in group_ids:
            continue
        group = c.get("group") if isinstance(c.get("group"), dict) else {}
        raw_status = text_or_none(c.get("status"))
        out.append(Component(
            id=cid,
            name=str(c.get("name") or cid).strip(),
            group=text_or_none(group.get("name")),
            status=COMPONENT_STATUS.get(_word(raw_status), ComponentStatus.unknown),
            raw_status=raw_status,
            description=text_or_none(c.get("description")),
        ))
    return out


def _id_in_link(url: str | None) -> str | None:
    """``https://status.x.com/cl0abc`` -> ``cl0abc``: a notice's page is the page URL plus its id
    (as summary.json gives ``url``), so the feed's link names the id summary.json uses."""
    path = (url or "").split("?")[0].split("#")[0].rstrip("/")
    if "://" not in path or path.count("/") < 3:
        return None
    return path.rsplit("/", 1)[-1] or None


def _notice_id(raw: dict[str, Any]) -> str:
    # Older summaries have no id; the incident URL ends in it.
    if raw.get("id") is not None:
        return str(raw["id"])
    url = text_or_none(raw.get("url"))
    if url:
        return url.rstrip("/").rsplit("/", 1)[-1]
    return str(raw.get("name") or "unnamed")


def parse_incident(raw: dict[str, Any]) -> Incident:
    raw_status = text_or_none(raw.get("status"))
    raw_impact = text_or_none(raw.get("impact"))
    return Incident(
        id=_notice_id(raw),
        title=str(raw.get("name") or "").strip() or _notice_id(raw),
        status=INCIDENT_STATUS.get(word_key(raw_status), IncidentStatus.investigating),
        raw_status=raw_status,
        impact=IMPACT.get(_word(raw_impact), Impact.none),
        raw_impact=raw_impact,
        started_at=parse_time(raw.get("started")),
        updated_at=parse_time(raw.get("updatedAt")),
        url=text_or_none(raw.get("url")),
    )


def _minutes(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def parse_maintenance(raw: dict[str, Any]) -> Maintenance:
    raw_status = text_or_none(raw.get("status"))
    status = MAINTENANCE_STATUS.get(_word(raw_status), MaintenanceStatus.scheduled)
    start = parse_time(raw.get("start"))
    minutes = _minutes(raw.get("duration"))
    return Maintenance(
        id=_notice_id(raw),
        title=str(raw.get("name") or "").strip() or _notice_id(raw),
        status=status,
        raw_status=raw_status,
        scheduled_for=start,
        scheduled_until=start + timedelta(minutes=minutes) if start and minutes is not None else None,
        started_at=start if status is not MaintenanceStatus.scheduled else None,
        updated_at=parse_time(raw.get("updatedAt")),
        url=text_or_none(raw.get("url")),
    )
