"""Slack status API v2 (``slack-status.com/api/v2.0.0/current`` and ``/history``).

``current``: ``status`` (``ok``, ``active``; ``broken`` in the docs), ``date_created``,
``date_updated`` and ``active_incidents[]``; ``history`` is a bare array of the same items.
An item has ``id`` (int), ``title``, ``type`` (``incident|notice|outage``), ``status``
(``active|resolved|scheduled|completed|canceled``), ``url``, ``services[]`` (names such as
``Apps/Integrations/APIs``; the JSON escapes ``/`` as ``\\/``, which the JSON parser undoes) and
``notes[]{date_created,body}``. Items whose status is scheduled/completed/canceled are
maintenances. Only services named by an item are known, so they are the components.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    epoch_seconds,
    join_url,
    keep_worst,
    load_json,
    parse_time,
    strip_html,
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

PAGE_STATUS: dict[str, ComponentStatus] = {
    "ok": ComponentStatus.operational,
    "broken": ComponentStatus.major_outage,
}
TYPE_IMPACT: dict[str, Impact] = {"incident": Impact.minor, "outage": Impact.critical, "notice": Impact.none}
INCIDENT_STATUS: dict[str, IncidentStatus] = {"active": IncidentStatus.investigating,
                                               "resolved": IncidentStatus.resolved}
MAINTENANCE_STATUS: dict[str, MaintenanceStatus] = {
    "scheduled": MaintenanceStatus.scheduled,
    "active": MaintenanceStatus.in_progress,
    "completed": MaintenanceStatus.completed,
    "canceled": MaintenanceStatus.completed,
    "cancelled": MaintenanceStatus.completed,
    "resolved": MaintenanceStatus.completed,
}


class SlackAdapter(Adapter):
    platform = "slack"
    title = "Slack status"
    reads = frozenset({"components", "incidents", "maintenances", "updates"})
    keys = ("current", "history")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("current", join_url(base_url, "api/v2.0.0/current"))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("history", join_url(base_url, "api/v2.0.0/history"))]

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports it
            return "current"
        return "history" if isinstance(doc, list) else "current"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if "current" not in bodies and "history" in bodies:
            return _snapshot(self.platform, None, self.build_history(bodies, base_url), base_url)
        doc = load_json(self.body(bodies), "slack current status")
        if not isinstance(doc, dict) or "status" not in doc:
            raise ParseError("slack current status: expected an object with a status")
        notices = [parse_item(raw) for raw in as_list(doc.get("active_incidents")) if isinstance(raw, dict)]
        return _snapshot(self.platform, text_or_none(doc.get("status")), notices, base_url)

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        body = bodies.get("history")
        if body is None:
            return list(self.build(bodies, base_url).incidents)
        doc = load_json(body, "slack history")
        if isinstance(doc, dict):  # tolerate a wrapped list
            doc = doc.get("incidents") or doc.get("active_incidents") or []
        if not isinstance(doc, list):
            raise ParseError("slack history: expected a JSON array")
        return [parse_item(raw) for raw in doc if isinstance(raw, dict)]


def _snapshot(platform: str, page_word: str | None, notices: list[Incident | Maintenance],
              base_url: str | None) -> Snapshot:
    incidents = [n for n in notices if isinstance(n, Incident)]
    maintenances = [n for n in notices if isinstance(n, Maintenance)]
    components: dict[str, Component] = {}
    for notice in notices:
        status = _implied(notice)
        for name in notice.component_ids:
            keep_worst(components, Component(id=name, name=name, status=status, raw_status=notice.raw_status,
                                             updated_at=notice.updated_at))
    comps = sorted(components.values(), key=lambda c: c.name.lower())
    word = word_key(page_word)
    implied = worst_status([*(c.status for c in comps), *(_implied(n) for n in notices)])
    if word in PAGE_STATUS:
        overall = worst_status([PAGE_STATUS[word], implied])
    elif word == "active":
        # "active" says something is on; its severity is the items'.
        overall = implied if implied is not ComponentStatus.operational else ComponentStatus.degraded_performance
    else:
        overall = implied if notices else ComponentStatus.unknown
    return Snapshot(platform=platform, name="Slack", url=base_url, status=overall, raw_status=page_word,
                    components=comps, incidents=incidents, maintenances=maintenances)


def _implied(notice: Incident | Maintenance) -> ComponentStatus:
    if not notice.is_open:
        return ComponentStatus.operational
    if isinstance(notice, Maintenance):
        return ComponentStatus.under_maintenance if notice.status is MaintenanceStatus.in_progress \
            else ComponentStatus.operational
    return IMPACT_TO_STATUS[notice.impact]


def parse_item(raw: dict[str, Any]) -> Incident | Maintenance:
    iid = str(next((v for v in (raw.get("id"), raw.get("url"), raw.get("date_created"), raw.get("title"))
                    if v not in (None, "")), "slack-item"))
    kind = word_key(text_or_none(raw.get("type")))
    word = text_or_none(raw.get("status"))
    low = word_key(word)
    maintenance = low in {"scheduled", "completed", "canceled", "cancelled"}
    notes = []
    for n, note in enumerate(as_list(raw.get("notes"))):
        if isinstance(note, dict):
            notes.append((parse_time(note.get("date_created")), strip_html(str(note.get("body") or "")), n))
    notes.sort(key=lambda t: (epoch_seconds(t[0]), t[2]))
    closed_word = low in {"resolved", "completed", "canceled", "cancelled"}
    updates = []
    for position, (when, body, _) in enumerate(notes, start=1):
        last = position == len(notes)
        if maintenance:
            status = MAINTENANCE_STATUS.get(low, MaintenanceStatus.scheduled) if last else MaintenanceStatus.scheduled
        else:
            status = IncidentStatus.resolved if (last and closed_word) else IncidentStatus.investigating
        updates.append(Update(id=f"{iid}#{position}", status=status.value, raw_status=word if last else None,
                              body=body, created_at=when))
    updates.reverse()
    created = parse_time(raw.get("date_created"))
    updated = parse_time(raw.get("date_updated"))
    common: dict[str, Any] = {
        "id": iid,
        "title": " ".join(str(raw.get("title") or "").split()) or iid,
        "raw_status": word,
        "raw_impact": text_or_none(raw.get("type")),
        "started_at": created,
        "updated_at": updated,
        "resolved_at": (updated or (updates[0].created_at if updates else None)) if closed_word else None,
        "url": text_or_none(raw.get("url")),
        "component_ids": [str(s).strip() for s in as_list(raw.get("services")) if str(s).strip()],
        "updates": updates,
    }
    if maintenance:
        return Maintenance(**common, status=MAINTENANCE_STATUS.get(low, MaintenanceStatus.scheduled),
                           impact=Impact.maintenance)
    return Incident(**common, status=INCIDENT_STATUS.get(low, IncidentStatus.investigating),
                    impact=TYPE_IMPACT.get(kind, Impact.minor))
