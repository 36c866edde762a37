"""Cachet 2.x (self-hosted): ``/api/v1/components``, ``/components/groups``, ``/incidents``,
``/schedules``.

Every list answers ``{meta, data[]}``; ``meta`` may be ``[]`` (PHP's empty array) and only the
first page is read (``per_page=100`` is asked for). Timestamps are ``YYYY-MM-DD HH:MM:SS``
without a zone and the API does not say which zone the instance uses: they are read as UTC.

* component ``status`` 1 Operational, 2 Performance Issues, 3 Partial Outage, 4 Major Outage
  (0 = unknown); ``status_name`` is the raw word. ``group_id`` 0 means ungrouped; a group that the
  groups listing does not name (hidden, or not fetched) leaves ``group`` empty. Disabled
  components (``enabled: false``) are not shown by Cachet and are skipped.
* incident ``status`` 0 Scheduled, 1 Investigating, 2 Identified, 3 Watching, 4 Fixed. Newer
  versions keep the first status in ``status``/``human_status`` and the current one in
  ``latest_status``/``latest_human_status``: the latest wins. Status 0 is a scheduled maintenance
  (Cachet < 2.4). The incident's own ``message`` is its first post and becomes the oldest update.
* schedules (2.4+): ``status`` 0 Upcoming, 1 In Progress, 2 Complete; ``scheduled_at`` is the
  start and ``completed_at`` the end of the window (ignored when it is before the start).
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    by_kind_newest_first,
    expect_dict,
    int_or_none,
    join_url,
    load_json,
    parse_time,
    sort_updates,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, IncidentStatus, MaintenanceStatus, worst_status

COMPONENT_STATUS = {
    "1": ComponentStatus.operational,
    "2": ComponentStatus.degraded_performance,
    "3": ComponentStatus.partial_outage,
    "4": ComponentStatus.major_outage,
}
INCIDENT_STATUS = {
    "1": IncidentStatus.investigating,
    "2": IncidentStatus.identified,
    "3": IncidentStatus.monitoring,
    "4": IncidentStatus.resolved,
}
SCHEDULE_STATUS = {
    "0": MaintenanceStatus.scheduled,
    "1": MaintenanceStatus.in_progress,
    "2": MaintenanceStatus.completed,
}


def _data(doc: Any, what: str) -> list[dict[str, Any]]:
    doc = expect_dict(doc, f"cachet {what}")
    if "data" not in doc:
        raise ParseError(f"cachet {what}: no 'data' list (not a Cachet API document)")
    return [item for item in as_list(doc.get("data")) if isinstance(item, dict) and item.get("id") is not None]


def _is_hidden(item: dict[str, Any], flag: str) -> bool:
    value = item.get(flag)
    return value is False or value == 0 or value == "0"


class CachetAdapter(Adapter):
    platform = "cachet"
    title = "Cachet"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("components", "groups", "incidents", "schedules")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [
            Endpoint("components", join_url(base_url, "api/v1/components?per_page=100")),
            Endpoint("groups", join_url(base_url, "api/v1/components/groups?per_page=100"), required=False),
            Endpoint("incidents", join_url(base_url, "api/v1/incidents?per_page=100&sort=id&order=desc"),
                     required=False),
            Endpoint("schedules", join_url(base_url, "api/v1/schedules?per_page=100"), required=False),
        ]

    def classify(self, body: bytes, filename: str = "") -> str:
        name = filename.lower()
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports HTML etc. under the main key
            doc = None
        items = [i for i in as_list(doc.get("data")) if isinstance(i, dict)] if isinstance(doc, dict) else []
        if items:
            first = items[0]
            if "enabled_components" in first or "collapsed" in first:
                return "groups"
            if "scheduled_at" in first and "occurred_at" not in first:
                return "schedules"
            if "occurred_at" in first or "updates" in first or "latest_status" in first:
                return "incidents"
            return "components"
        for key in ("groups", "schedules", "incidents"):
            if key in name:
                return key
        return "components"

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The incidents listing is the page's whole history (newest 100); schedules as well.
        return [ep for ep in self.endpoints(base_url) if ep.key in {"incidents", "schedules"}]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        self.check_keys(bodies)
        lists = {key: _data(load_json(body, f"cachet {key}"), key) for key, body in bodies.items()}

        groups = lists.get("groups", [])
        group_names = {str(g["id"]): str(g.get("name") or g["id"]).strip() for g in groups}
        raw_components = lists.get("components")
        if raw_components is None:
            # Without the components list, the groups listing still names its enabled members.
            raw_components = [c for g in groups for c in as_list(g.get("enabled_components")) if isinstance(c, dict)]
        components = [parse_component(c, group_names) for c in raw_components
                      if c.get("id") is not None and not _is_hidden(c, "enabled")]

        incidents, maintenances = by_kind_newest_first([
            *(parse_incident(raw) for raw in lists.get("incidents", []) if not _is_hidden(raw, "visible")),
            *(parse_schedule(raw) for raw in lists.get("schedules", [])),
        ])

        overall = worst_status(c.status for c in components) if components else ComponentStatus.operational
        if components and all(c.status is ComponentStatus.unknown for c in components):
            overall = ComponentStatus.unknown
        return Snapshot(
            platform=self.platform,
            url=base_url,
            status=overall,
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )

    build_history = Adapter.build_notices


def parse_component(c: dict[str, Any], group_names: dict[str, str]) -> Component:
    cid = str(c["id"])
    code = word_key(c.get("status"))
    group_id = word_key(c.get("group_id"))
    return Component(
        id=cid,
        name=str(c.get("name") or cid).strip(),
        group=group_names.get(group_id) if group_id not in ("", "0") else None,
        status=COMPONENT_STATUS.get(code, ComponentStatus.unknown),
        raw_status=text_or_none(c.get("status_name")) or text_or_none(c.get("status")),
        description=text_or_none(c.get("description")),
        position=int_or_none(c.get("order")),
        updated_at=parse_time(c.get("updated_at")),
    )


def parse_incident(raw: dict[str, Any]) -> Incident | Maintenance:
    iid = str(raw["id"])
    first_code = word_key(raw.get("status"))
    code = word_key(raw.get("latest_status")) or first_code
    raw_status = text_or_none(raw.get("latest_human_status")) or text_or_none(raw.get("human_status")) \
        or text_or_none(raw.get("latest_status")) or text_or_none(raw.get("status"))
    component_id = word_key(raw.get("component_id"))
    started = parse_time(raw.get("occurred_at")) or parse_time(raw.get("created_at"))

    updates: list[Update] = []
    for u in as_list(raw.get("updates")):
        if not isinstance(u, dict):
            continue
        u_code = word_key(u.get("status"))
        u_status = INCIDENT_STATUS.get(u_code)
        updates.append(Update(
            id=str(u.get("id") if u.get("id") is not None else f"{iid}/{u.get('created_at')}"),
            status=u_status.value if u_status else (text_or_none(u.get("human_status")) or "unknown"),
            raw_status=text_or_none(u.get("human_status")) or text_or_none(u.get("status")),
            body=str(u.get("message") or ""),
            created_at=parse_time(u.get("created_at")),
        ))
    message = str(raw.get("message") or "")
    if message:
        first_status = INCIDENT_STATUS.get(first_code)
        updates.append(Update(
            id=f"{iid}/message",
            status=first_status.value if first_status else (text_or_none(raw.get("human_status")) or "unknown"),
            raw_status=text_or_none(raw.get("human_status")) or text_or_none(raw.get("status")),
            body=message,
            created_at=started,
        ))
    sort_updates(updates)

    common: dict[str, Any] = {
        "id": iid,
        "title": str(raw.get("name") or "").strip() or iid,
        "raw_status": raw_status,
        "started_at": started,
        "updated_at": parse_time(raw.get("updated_at")),
        "url": text_or_none(raw.get("permalink")),
        "component_ids": [component_id] if component_id not in ("", "0") else [],
    }
    if code == "0":
        scheduled = parse_time(raw.get("scheduled_at")) or started
        return Maintenance(**{**common, "started_at": None}, status=MaintenanceStatus.scheduled,
                           scheduled_for=scheduled, updates=updates)
    status = INCIDENT_STATUS.get(code, IncidentStatus.investigating)
    if raw.get("is_resolved") is True:
        status = IncidentStatus.resolved
    resolved_at = None
    if status is IncidentStatus.resolved:
        fixed = [u.created_at for u in updates if u.status == IncidentStatus.resolved.value and u.created_at]
        resolved_at = max(fixed) if fixed else common["updated_at"]
    return Incident(**common, status=status, resolved_at=resolved_at, updates=updates)


def parse_schedule(raw: dict[str, Any]) -> Maintenance:
    sid = str(raw["id"])
    status = SCHEDULE_STATUS.get(word_key(raw.get("status")), MaintenanceStatus.scheduled)
    start = parse_time(raw.get("scheduled_at"))
    end = parse_time(raw.get("completed_at"))
    if start and end and end < start:
        end = None  # a window cannot end before it starts (seen on the demo instance)
    component_ids = []
    for comp in as_list(raw.get("components")):
        ident = comp.get("component_id", comp.get("id")) if isinstance(comp, dict) else comp
        if ident is not None and not isinstance(ident, bool):
            component_ids.append(str(ident))
    message = str(raw.get("message") or "")
    raw_status = text_or_none(raw.get("human_status")) or text_or_none(raw.get("status"))
    return Maintenance(
        # Schedules and incidents are numbered separately: keep the ids apart.
        id=f"schedule-{sid}",
        title=str(raw.get("name") or "").strip() or sid,
        status=status,
        raw_status=raw_status,
        scheduled_for=start,
        scheduled_until=end,
        started_at=start if status is not MaintenanceStatus.scheduled else None,
        resolved_at=end if status is MaintenanceStatus.completed else None,
        updated_at=parse_time(raw.get("updated_at")),
        component_ids=component_ids,
        updates=[Update(id=f"schedule-{sid}/message", status=status.value, raw_status=raw_status, body=message,
                        created_at=parse_time(raw.get("created_at")))] if message else [],
    )
