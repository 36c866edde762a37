"""Uptime.com public status pages through the JSON beside the page: ``<page>/ajax``.

The page is ``https://<host>/statuspage/<slug>`` (``status.uptime.com/statuspage/uptime-status``)
or a custom domain; the document is ``{error, fields, data}`` and ``data`` holds ``name``,
``slug``, ``global_is_operational``, ``has_components_under_maintenance_state``,
``has_components_under_critical_state``, ``components[]`` and ``active_incidents[]``,
``upcoming_maintenance[]``.

* ``components[]{id, is_group, name, description, status, status_display, group (the parent's
  id or null), sorting_weight, last_updated_at, subcomponents[]}``: a group (``is_group``) carries
  a status derived from its ``subcomponents``, which are the components (group = the group's
  name); a group with no subcomponents is not a component. Order is ``sorting_weight`` (the
  document is not in order), groups' members after their group's weight.
* ``status`` words: ``operational`` is in the capture; ``degraded-performance``,
  ``partial-outage``, ``major-outage`` and ``under-maintenance`` (in any spelling: hyphen,
  underscore, space) are documentation only; ``raw_status`` keeps the word, an unknown word is
  unknown.
* The overall state: the worst component; where ``global_is_operational`` is false but every
  component reads operational, degraded performance (something is wrong, nothing says how bad);
  ``has_components_under_critical_state`` raises it to a major outage and
  ``has_components_under_maintenance_state`` to at least under maintenance.
* Incidents and maintenances (documentation only: the capture has none; field names as a public
  client of the same endpoint reads them): ``active_incidents[]{id, name, incident_type
  (INCIDENT | SCHEDULED_MAINTENANCE), starts_at, ends_at, latest_update_incident_state,
  affected_components[]{id, name, status}, updates[]{id, updated_at, incident_state,
  description}}``; ``upcoming_maintenance[]`` the same shape. An incident's state is
  ``latest_update_incident_state``, else its newest update's (investigating, identified,
  monitoring, resolved; unknown words: investigating); its impact is the worst state of its
  affected components. A maintenance in ``active_incidents`` is in progress (completed once its
  state says resolved/completed), one in ``upcoming_maintenance`` scheduled.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    STATUS_TO_IMPACT,
    as_list,
    int_or_none,
    join_url,
    load_object,
    notice_sort_key,
    parse_time,
    sort_updates,
    stated_or_worst,
    strip_html,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import SEVERITY, ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

STATUS = {
    "operational": ComponentStatus.operational,
    "degraded_performance": ComponentStatus.degraded_performance,
    "partial_outage": ComponentStatus.partial_outage,
    "major_outage": ComponentStatus.major_outage,
    "under_maintenance": ComponentStatus.under_maintenance,
    "maintenance": ComponentStatus.under_maintenance,
}
INCIDENT_STATE = {
    "investigating": IncidentStatus.investigating,
    "identified": IncidentStatus.identified,
    "monitoring": IncidentStatus.monitoring,
    "resolved": IncidentStatus.resolved,
}
MAINTENANCE_DONE = {"resolved", "completed", "complete"}
MAINTENANCE_TYPE = "scheduled_maintenance"


class UptimeComAdapter(Adapter):
    platform = "uptimecom"
    title = "Uptime.com status page"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("ajax",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        root = base_url.rstrip("/")
        if root.endswith("/ajax"):
            root = root[: -len("/ajax")]
        return [Endpoint("ajax", join_url(root, "ajax"))]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "uptimecom ajax")
        data = doc.get("data")
        if not isinstance(data, dict) or "components" not in data:
            raise ParseError("uptimecom: not a status-page document (no data.components)")

        rows: list[tuple[tuple[int, int], Component]] = []
        for top in as_list(data.get("components")):
            if not isinstance(top, dict) or top.get("id") is None:
                continue
            weight = int_or_none(top.get("sorting_weight")) or 0
            children = [c for c in as_list(top.get("subcomponents")) if isinstance(c, dict) and c.get("id") is not None]
            if top.get("is_group") is True or children:
                group = text_or_none(top.get("name"))
                for child in children:
                    rows.append(((weight, int_or_none(child.get("sorting_weight")) or 0), _component(child, group)))
                continue
            rows.append(((weight, -1), _component(top, None)))
        rows.sort(key=lambda row: row[0])
        components = [c.model_copy(update={"position": i}) for i, (_, c) in enumerate(rows)]

        page_url = base_url
        incidents: list[Incident] = []
        maintenances: list[Maintenance] = []
        for field, upcoming in (("active_incidents", False), ("upcoming_maintenance", True)):
            for raw in as_list(data.get(field)):
                if not isinstance(raw, dict) or raw.get("id") is None:
                    continue
                if upcoming or word_key(raw.get("incident_type")) == MAINTENANCE_TYPE:
                    maintenances.append(parse_maintenance(raw, upcoming, page_url))
                else:
                    incidents.append(parse_incident(raw, page_url))

        overall = stated_or_worst(None, components)
        if data.get("global_is_operational") is False and overall in {ComponentStatus.operational,
                                                                      ComponentStatus.unknown}:
            overall = ComponentStatus.degraded_performance
        if data.get("has_components_under_critical_state") is True:
            overall = ComponentStatus.major_outage
        if data.get("has_components_under_maintenance_state") is True and \
                SEVERITY[overall] < SEVERITY[ComponentStatus.under_maintenance]:
            overall = ComponentStatus.under_maintenance
        return Snapshot(
            platform=self.platform,
            name=text_or_none(data.get("name")),
            url=page_url,
            page_id=text_or_none(data.get("slug")),
            status=overall,
            components=components,
            incidents=sorted(incidents, key=notice_sort_key),
            maintenances=sorted(maintenances, key=notice_sort_key),
        )


def _component(raw: dict[str, Any], group: str | None) -> Component:
    word = text_or_none(raw.get("status"))
    return Component(
        id=str(raw["id"]),
        name=text_or_none(raw.get("name")) or str(raw["id"]),
        group=group,
        status=STATUS.get(word_key(word), ComponentStatus.unknown),
        raw_status=word,
        description=text_or_none(raw.get("description")),
        updated_at=parse_time(raw.get("last_updated_at")),
    )


def _updates(raw: dict[str, Any], nid: str, maintenance: bool) -> list[Update]:
    updates = []
    for n, item in enumerate(as_list(raw.get("updates"))):
        if not isinstance(item, dict):
            continue
        state = text_or_none(item.get("incident_state"))
        if maintenance:
            status = (MaintenanceStatus.completed if word_key(state) in MAINTENANCE_DONE
                      else MaintenanceStatus.in_progress).value
        else:
            status = INCIDENT_STATE.get(word_key(state), IncidentStatus.investigating).value
        updates.append(Update(id=str(item.get("id") if item.get("id") is not None else f"{nid}/{n}"),
                              status=status, raw_status=state,
                              body=strip_html(str(item.get("description") or item.get("message") or "")),
                              created_at=parse_time(item.get("updated_at") or item.get("created_at"))))
    sort_updates(updates)
    return updates


def _state(raw: dict[str, Any], updates: list[Update]) -> str | None:
    return text_or_none(raw.get("latest_update_incident_state")) or (updates[0].raw_status if updates else None)


def _affected(raw: dict[str, Any]) -> tuple[list[str], Impact]:
    ids, worst = [], ComponentStatus.operational
    for ac in as_list(raw.get("affected_components")):
        if isinstance(ac, dict) and ac.get("id") is not None:
            ids.append(str(ac["id"]))
            status = STATUS.get(word_key(ac.get("status")), ComponentStatus.unknown)
            if SEVERITY[status] > SEVERITY[worst]:
                worst = status
    return list(dict.fromkeys(ids)), STATUS_TO_IMPACT.get(worst, Impact.none)


def parse_incident(raw: dict[str, Any], page_url: str | None) -> Incident:
    nid = str(raw["id"])
    updates = _updates(raw, nid, maintenance=False)
    state = _state(raw, updates)
    status = INCIDENT_STATE.get(word_key(state), IncidentStatus.investigating)
    ids, impact = _affected(raw)
    ended = parse_time(raw.get("ends_at"))
    return Incident(
        id=nid,
        title=text_or_none(raw.get("name")) or nid,
        status=status,
        raw_status=state,
        impact=impact,
        started_at=parse_time(raw.get("starts_at")),
        updated_at=updates[0].created_at if updates else None,
        resolved_at=ended if status is IncidentStatus.resolved else None,
        url=page_url,
        component_ids=ids,
        updates=updates,
    )


def parse_maintenance(raw: dict[str, Any], upcoming: bool, page_url: str | None) -> Maintenance:
    nid = str(raw["id"])
    updates = _updates(raw, nid, maintenance=True)
    state = _state(raw, updates)
    if upcoming:
        status = MaintenanceStatus.scheduled
    else:
        status = MaintenanceStatus.completed if word_key(state) in MAINTENANCE_DONE else MaintenanceStatus.in_progress
    ids, _ = _affected(raw)
    start, end = parse_time(raw.get("starts_at")), parse_time(raw.get("ends_at"))
    return Maintenance(
        id=nid,
        title=text_or_none(raw.get("name")) or nid,
        status=status,
        raw_status=state,
        scheduled_for=start,
        scheduled_until=end,
        started_at=start if status is not MaintenanceStatus.scheduled else None,
        resolved_at=end if status is MaintenanceStatus.completed else None,
        updated_at=updates[0].created_at if updates else None,
        url=page_url,
        component_ids=ids,
        updates=updates,
    )
