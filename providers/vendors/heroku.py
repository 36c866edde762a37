"""Heroku status API v4 (``status.heroku.com/api/v4/current-status``).

``status[]{system: Apps|Data|Tools, status: green|yellow|red|blue}`` are the components (blue is
maintenance), ``incidents[]`` the open incidents and ``scheduled[]`` the maintenances. An item
has ``id``, ``title``, ``created_at``, ``updated_at``, ``resolved`` (bool), ``resolved_at``,
``full_url``, ``status_dev`` / ``status_prod`` colours and ``updates[]{id, contents (CRLF text),
update_type, status_dev, status_prod, created_at}``; update types seen: issue, investigating,
scheduled, maintenance, resolved, update. The corpus capture has some incident keys renamed by
hand (``state``, ``duration``): they are read when present, never required.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    epoch_seconds,
    impacts_of,
    join_url,
    load_json,
    load_object,
    notice_sort_key,
    parse_time,
    stated_or_worst,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import (
    IMPACT_RANK,
    SEVERITY,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
)

COLOR_STATUS: dict[str, ComponentStatus] = {
    "green": ComponentStatus.operational,
    "blue": ComponentStatus.under_maintenance,
    "yellow": ComponentStatus.degraded_performance,
    "red": ComponentStatus.major_outage,
}
COLOR_IMPACT = impacts_of(COLOR_STATUS)
# update_type -> incident lifecycle; "update" keeps the state before it.
UPDATE_INCIDENT: dict[str, IncidentStatus] = {
    "investigating": IncidentStatus.investigating,
    "issue": IncidentStatus.identified,
    "identified": IncidentStatus.identified,
    "monitoring": IncidentStatus.monitoring,
    "resolved": IncidentStatus.resolved,
    "fixed": IncidentStatus.resolved,
}
UPDATE_MAINTENANCE: dict[str, MaintenanceStatus] = {
    "scheduled": MaintenanceStatus.scheduled,
    "maintenance": MaintenanceStatus.in_progress,
    "in_progress": MaintenanceStatus.in_progress,
    "monitoring": MaintenanceStatus.verifying,
    "resolved": MaintenanceStatus.completed,
    "completed": MaintenanceStatus.completed,
}


class HerokuAdapter(Adapter):
    platform = "heroku"
    title = "Heroku status"
    reads = frozenset({"components", "incidents", "maintenances", "updates"})
    keys = ("current", "incidents")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("current", join_url(base_url, "api/v4/current-status"))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # Status API v4: /api/v4/incidents lists past incidents and maintenances (newest first)
        # in the shape current-status gives its open ones.
        return [Endpoint("incidents", join_url(base_url, "api/v4/incidents"))]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        notices: list[Incident | Maintenance] = []
        if "current" in bodies:
            snapshot = self.build({"current": bodies["current"]}, base_url)
            notices.extend([*snapshot.incidents, *snapshot.maintenances])
        if "incidents" in bodies:
            rows = load_json(bodies["incidents"], "heroku incidents")
            if isinstance(rows, dict):
                rows = rows.get("incidents")
            if not isinstance(rows, list):
                raise ParseError("heroku incidents: expected a JSON array")
            known = {n.id for n in notices}
            for raw in rows:
                if isinstance(raw, dict) and raw.get("id") is not None and str(raw["id"]) not in known:
                    notices.append(parse_maintenance(raw) if is_maintenance(raw) else parse_incident(raw))
        if not bodies:
            raise ParseError("heroku: nothing to parse")
        return sorted(notices, key=notice_sort_key)

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports it under the main key
            return "current"
        return "incidents" if isinstance(doc, list) else "current"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if set(bodies) <= {"incidents"} and bodies:
            from providers.history import snapshot_of_history

            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        doc = load_object(self.body(bodies), "heroku current-status")
        if not any(k in doc for k in ("status", "incidents", "scheduled")):
            raise ParseError("heroku current-status: no status, incidents or scheduled key")
        components = []
        for position, row in enumerate(as_list(doc.get("status"))):
            if isinstance(row, dict) and row.get("system"):
                color = text_or_none(row.get("status"))
                components.append(Component(
                    id=str(row["system"]), name=str(row["system"]), position=position,
                    status=COLOR_STATUS.get(word_key(color), ComponentStatus.unknown), raw_status=color,
                ))
        incidents = [parse_incident(raw) for raw in as_list(doc.get("incidents")) if isinstance(raw, dict)]
        maintenances = [parse_maintenance(raw) for raw in as_list(doc.get("scheduled")) if isinstance(raw, dict)]
        worst = max(components, key=lambda c: SEVERITY[c.status], default=None)
        return Snapshot(
            platform=self.platform, name="Heroku", url=base_url,
            status=stated_or_worst(None, components),
            raw_status=worst.raw_status if worst else None,
            components=components, incidents=incidents, maintenances=maintenances,
        )


def _worst_color(*colors: Any) -> str | None:
    """The most severe of Heroku's colours (blue, maintenance, ranks above green only)."""
    known = [str(c).lower() for c in colors if str(c or "").lower() in COLOR_IMPACT]
    return max(known, key=lambda c: IMPACT_RANK[COLOR_IMPACT[c]] + (0.5 if c == "blue" else 0), default=None)


def _updates(raw: dict[str, Any], iid: str, table: dict[str, Any], start: Any) -> list[Update]:
    rows = [u for u in as_list(raw.get("updates")) if isinstance(u, dict)]
    current = start
    out = []
    for row in sorted(rows, key=lambda u: _ts(u.get("created_at"))):  # oldest first: "update" inherits
        kind = text_or_none(row.get("update_type"))
        current = table.get((kind or "").lower(), current)
        out.append(Update(
            id=str(row.get("id") if row.get("id") is not None else f"{iid}@{row.get('created_at')}"),
            status=current.value,
            raw_status=kind,
            body=str(row.get("contents") or "").replace("\r\n", "\n").strip(),
            created_at=parse_time(row.get("created_at")),
        ))
    out.reverse()
    return out


def _ts(value: Any) -> float:
    return epoch_seconds(parse_time(value))


def _common(raw: dict[str, Any], updates: list[Update]) -> dict[str, Any]:
    iid = str(raw.get("id"))
    # The item's own colours, else those of its newest post (the corpus capture lost the former).
    rows = sorted((u for u in as_list(raw.get("updates")) if isinstance(u, dict)),
                  key=lambda u: _ts(u.get("created_at")), reverse=True)
    color = _worst_color(raw.get("status_prod"), raw.get("status_dev"))
    if color is None and rows:
        color = _worst_color(rows[0].get("status_prod"), rows[0].get("status_dev"))
    return {
        "id": iid,
        "title": " ".join(str(raw.get("title") or "").split()) or iid,
        "raw_status": updates[0].raw_status if updates else text_or_none(raw.get("state")),
        "raw_impact": color,
        "started_at": parse_time(raw.get("created_at")),
        "updated_at": parse_time(raw.get("updated_at")),
        "resolved_at": parse_time(raw.get("resolved_at")),
        "url": text_or_none(raw.get("full_url")),
        "updates": updates,
    }


def is_maintenance(raw: dict[str, Any]) -> bool:
    """A listed item is a maintenance when Heroku says so: ``upcoming``, a blue colour, or posts
    of the maintenance types (the incidents listing mixes both kinds)."""
    if raw.get("upcoming") is True or "blue" in {str(raw.get("status_prod") or "").lower(),
                                                 str(raw.get("status_dev") or "").lower()}:
        return True
    kinds = {str(u.get("update_type") or "").lower() for u in as_list(raw.get("updates")) if isinstance(u, dict)}
    return bool(kinds & {"scheduled", "maintenance"})


def parse_incident(raw: dict[str, Any]) -> Incident:
    iid = str(raw.get("id"))
    updates = _updates(raw, iid, UPDATE_INCIDENT, IncidentStatus.investigating)
    common = _common(raw, updates)
    resolved = raw.get("resolved") is True or common["resolved_at"] is not None
    status = IncidentStatus.resolved if resolved else (
        IncidentStatus(updates[0].status) if updates else IncidentStatus.investigating)
    if not resolved and status is IncidentStatus.resolved:
        status = IncidentStatus.monitoring  # a "resolved" post on an incident Heroku still lists as open
    color = common["raw_impact"]
    return Incident(**common, status=status, impact=COLOR_IMPACT.get(color or "", Impact.none)
                    if color != "blue" else Impact.none)


def parse_maintenance(raw: dict[str, Any]) -> Maintenance:
    iid = str(raw.get("id"))
    updates = _updates(raw, iid, UPDATE_MAINTENANCE, MaintenanceStatus.scheduled)
    common = _common(raw, updates)
    if raw.get("resolved") is True or common["resolved_at"] is not None:
        status = MaintenanceStatus.completed
    elif raw.get("upcoming") is True:
        status = MaintenanceStatus.scheduled
    else:
        status = MaintenanceStatus(updates[0].status) if updates else MaintenanceStatus.scheduled
    return Maintenance(**common, status=status, impact=Impact.maintenance)
