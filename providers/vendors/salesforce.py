"""Salesforce Trust (``api.status.salesforce.com/v1/instances/status/preview``).

The preview lists every instance (about 1,500, ~1.5 MB): ``key`` (NA137, POD37...), ``location``
(NA, EMEA, APAC, EU), ``environment``, ``releaseVersion``, ``status``, ``isActive``, ``Products[]``
and the instance's ``Incidents[]`` / ``Maintenances[]``. Each instance is a component whose
``region`` is its location; incidents and maintenances are repeated on every instance they touch
and are deduplicated by ``id``. Instance status: ``OK``, ``MINOR_INCIDENT_CORE|NONCORE``,
``MAJOR_INCIDENT_CORE|NONCORE``, ``MAINTENANCE_CORE|NONCORE``.

Incidents have no title of their own: ``IncidentImpacts[].type`` is a localisation key. With the
optional ``localizations`` body (``/v1/localizations``: ``[{modelKey, modelAttribute, text}]``) the
``serviceIssue`` text becomes the title; without it the key is spelled out.
Maintenance items are read leniently (``name``/``message``, ``plannedStartTime``/``plannedEndTime``,
``MaintenanceEvents[]``): no real maintenance payload has been recorded (unverified shape).
"""

from __future__ import annotations

import re
from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    epoch_seconds,
    load_json,
    notice_sort_key,
    parse_time,
    site_root,
    stated_or_worst,
    strip_html,
    text_or_none,
)
from aggregator.page.vocab import SEVERITY, ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

API_ROOT = "https://api.status.salesforce.com/v1"
INSTANCE_STATUS: dict[str, ComponentStatus] = {
    "OK": ComponentStatus.operational,
    "MAINTENANCE_CORE": ComponentStatus.under_maintenance,
    "MAINTENANCE_NONCORE": ComponentStatus.under_maintenance,
    "MINOR_INCIDENT_NONCORE": ComponentStatus.degraded_performance,
    "MINOR_INCIDENT_CORE": ComponentStatus.partial_outage,
    "MAJOR_INCIDENT_NONCORE": ComponentStatus.major_outage,
    "MAJOR_INCIDENT_CORE": ComponentStatus.major_outage,
}
SEVERITY_IMPACT: dict[str, Impact] = {"minor": Impact.minor, "major": Impact.major}


def _api_root(base_url: str) -> str:
    root = site_root(base_url)
    if "://api." not in root:
        return API_ROOT
    return root if re.search(r"/v\d+$", root) else f"{root}/v1"


class SalesforceAdapter(Adapter):
    platform = "salesforce"
    title = "Salesforce Trust"
    reads = frozenset({"components", "incidents", "maintenances", "updates", "regions"})
    keys = ("instances", "localizations", "incidents", "maintenances")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        root = _api_root(base_url)
        return [
            Endpoint("instances", f"{root}/instances/status/preview"),
            Endpoint("localizations", f"{root}/localizations", required=False),
        ]

    def classify(self, body: bytes, filename: str = "") -> str:
        # Cheap look at the head: the preview is 1.5 MB and classify should not parse it twice.
        head = body[:4096]
        if b'"modelKey"' in head or "locali" in filename.lower():
            return "localizations"
        # The /v1/incidents and /v1/maintenances listings: lists of items, not of instances.
        if re.match(rb'\s*\[\s*\{', head) and not re.search(rb'"key"\s*:', head[:600]):
            if b'"IncidentImpacts"' in head or b'"IncidentEvents"' in head or "incident" in filename.lower():
                return "incidents"
            if b'"MaintenanceEvents"' in head or b'"plannedStartTime"' in head or "mainten" in filename.lower():
                return "maintenances"
        return "instances"

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # /v1/incidents and /v1/maintenances list past items (newest first) in the shape the
        # instances preview nests under each instance; localizations name the incident types.
        root = _api_root(base_url)
        return [
            Endpoint("incidents", f"{root}/incidents"),
            Endpoint("maintenances", f"{root}/maintenances", required=False),
            Endpoint("localizations", f"{root}/localizations", required=False),
        ]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        notices: list[Incident | Maintenance] = []
        location_of: dict[str, str | None] = {}
        if "instances" in bodies:
            snapshot = self.build({k: b for k, b in bodies.items() if k in self.keys}, base_url)
            notices.extend([*snapshot.incidents, *snapshot.maintenances])
            location_of = {c.id: c.region for c in snapshot.components}
        titles = _localized_titles(bodies.get("localizations"))
        known = {n.id for n in notices}
        for key, parse in (("incidents", "incident"), ("maintenances", "maintenance")):
            if key not in bodies:
                continue
            rows = load_json(bodies[key], f"salesforce {key}")
            if not isinstance(rows, list):
                raise ParseError(f"salesforce {key}: expected a JSON array")
            for raw in rows:
                if not isinstance(raw, dict) or raw.get("id") is None or str(raw["id"]) in known:
                    continue
                # Without the instances listing, the item's own instance keys are the components.
                places = {**{str(k): None for k in as_list(raw.get("instanceKeys"))}, **location_of}
                notices.append(parse_incident(raw, places, titles) if parse == "incident"
                               else parse_maintenance(raw, places))
        if not notices and not any(k in bodies for k in ("incidents", "maintenances", "instances")):
            raise ParseError(f"salesforce: no history body (got {sorted(bodies)})")
        return sorted(notices, key=notice_sort_key)

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if "instances" not in bodies and {"incidents", "maintenances"} & set(bodies):
            from providers.history import snapshot_of_history

            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        instances = load_json(self.body(bodies), "salesforce instances")
        if not isinstance(instances, list):
            raise ParseError("salesforce instances: expected a JSON array")
        titles = _localized_titles(bodies.get("localizations"))
        components: list[Component] = []
        location_of: dict[str, str | None] = {}
        incident_raw: dict[str, dict[str, Any]] = {}
        maintenance_raw: dict[str, dict[str, Any]] = {}
        for position, inst in enumerate(instances):
            if not isinstance(inst, dict) or not inst.get("key"):
                continue
            key = str(inst["key"])
            location = text_or_none(inst.get("location"))
            location_of[key] = location
            word = text_or_none(inst.get("status"))
            details = [text_or_none(inst.get("environment")), text_or_none(inst.get("releaseVersion"))]
            if inst.get("isActive") is False:
                details.append("inactive")
            components.append(Component(
                id=key, name=key, region=location, position=position,
                status=INSTANCE_STATUS.get((word or "").upper(), ComponentStatus.unknown), raw_status=word,
                description=", ".join(d for d in details if d) or None,
            ))
            for item in as_list(inst.get("Incidents")):
                if isinstance(item, dict) and item.get("id") is not None:
                    _collect(incident_raw, item, key)
            for item in as_list(inst.get("Maintenances")):
                if isinstance(item, dict) and item.get("id") is not None:
                    _collect(maintenance_raw, item, key)
        incidents = [parse_incident(raw, location_of, titles) for raw in incident_raw.values()]
        maintenances = [parse_maintenance(raw, location_of) for raw in maintenance_raw.values()]
        worst = max(components, key=lambda c: SEVERITY[c.status], default=None)
        return Snapshot(
            platform=self.platform, name="Salesforce", url=base_url,
            status=stated_or_worst(None, components),
            raw_status=worst.raw_status if worst else None,
            components=components, incidents=incidents, maintenances=maintenances,
        )


def _collect(into: dict[str, dict[str, Any]], item: dict[str, Any], instance: str) -> None:
    """Keep one copy per id; remember every instance it was listed under."""
    iid = str(item["id"])
    if iid not in into:
        into[iid] = {**item, "_instances": []}
    into[iid]["_instances"].append(instance)


def _localized_titles(body: bytes | None) -> dict[str, str]:
    if not body:
        return {}
    rows = load_json(body, "salesforce localizations")
    out: dict[str, str] = {}
    for row in as_list(rows):
        if isinstance(row, dict) and row.get("modelAttribute") == "serviceIssue" and row.get("modelKey"):
            text = text_or_none(row.get("text"))
            if text:
                out[str(row["modelKey"])] = text
    return out


def _spell(key: str) -> str:
    """``performanceDegradationAsynchronousProcessingSubset`` -> ``Performance degradation asynchronous processing subset``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").split()
    text = " ".join(w.lower() for w in words)
    return text[:1].upper() + text[1:]


def _instances(raw: dict[str, Any], known: dict[str, str | None]) -> list[str]:
    """The instances an item touches that this payload lists (a ``?products=`` filter drops some)."""
    listed = [str(k) for k in as_list(raw.get("instanceKeys"))]
    return [k for k in dict.fromkeys([*listed, *raw.get("_instances", [])]) if k in known]


def _regions(instances: list[str], location_of: dict[str, str | None]) -> list[str]:
    return sorted({loc for k in instances if (loc := location_of.get(k))})


def parse_incident(raw: dict[str, Any], location_of: dict[str, str | None], titles: dict[str, str]) -> Incident:
    iid = str(raw["id"])
    impacts = [i for i in as_list(raw.get("IncidentImpacts")) if isinstance(i, dict)]
    types = [str(i["type"]) for i in impacts if i.get("type")]
    title = next((titles[t] for t in types if t in titles), None) or (_spell(types[0]) if types else None)
    open_impacts = [i for i in impacts if not i.get("endTime")]
    closed = bool(impacts) and not open_impacts
    severities = [str(i.get("severity") or "").lower() for i in (open_impacts or impacts)]
    severity = "major" if "major" in severities else ("minor" if "minor" in severities else None)
    events = []
    for n, event in enumerate(as_list(raw.get("IncidentEvents"))):
        if isinstance(event, dict):
            when = parse_time(event.get("createdAt"))
            events.append((when, n, event))
    events.sort(key=lambda t: (epoch_seconds(t[0]), t[1]))
    updates = [Update(
        id=str(event.get("id") if event.get("id") is not None else f"{iid}#{n}"),
        status=IncidentStatus.investigating.value, raw_status=text_or_none(event.get("type")),
        body=strip_html(str(event.get("message") or "")), created_at=when,
    ) for when, n, event in events]
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    if not updates:
        text = "\n\n".join(str(message[k]) for k in ("pathToResolution", "actionPlan", "rootCause") if message.get(k))
        if text or raw.get("additionalInformation"):
            updates = [Update(id=f"{iid}@{raw.get('updatedAt')}", status=IncidentStatus.investigating.value,
                              body=strip_html(text or str(raw.get("additionalInformation"))),
                              created_at=parse_time(raw.get("updatedAt")))]
    updates.reverse()
    if closed and updates:
        updates[0] = updates[0].model_copy(update={"status": IncidentStatus.resolved.value})
    instances = _instances(raw, location_of)
    starts = [t for t in (parse_time(i.get("startTime")) for i in impacts) if t]
    ends = [t for t in (parse_time(i.get("endTime")) for i in impacts) if t]
    return Incident(
        id=iid,
        title=title or f"Incident {raw.get('externalId') or iid}",
        status=IncidentStatus.resolved if closed else IncidentStatus.investigating,
        impact=SEVERITY_IMPACT.get(severity or "", Impact.none),
        raw_impact=severity,
        started_at=min(starts) if starts else parse_time(raw.get("createdAt")),
        updated_at=parse_time(raw.get("updatedAt")),
        resolved_at=max(ends) if closed and ends else None,
        url=f"https://status.salesforce.com/incidents/{iid}",
        component_ids=instances,
        regions=_regions(instances, location_of),
        updates=updates,
    )


def parse_maintenance(raw: dict[str, Any], location_of: dict[str, str | None]) -> Maintenance:
    iid = str(raw["id"])
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    title = text_or_none(raw.get("name")) or text_or_none(message.get("name")) or f"Maintenance {iid}"
    start = parse_time(raw.get("plannedStartTime")) or parse_time(raw.get("startTime"))
    end = parse_time(raw.get("plannedEndTime")) or parse_time(raw.get("endTime"))
    events = sorted((e for e in as_list(raw.get("MaintenanceEvents")) if isinstance(e, dict)),
                    key=lambda e: epoch_seconds(parse_time(e.get("createdAt"))))
    updates = [Update(
        id=str(e.get("id") if e.get("id") is not None else f"{iid}#{n}"),
        status=MaintenanceStatus.scheduled.value, raw_status=text_or_none(e.get("type")),
        body=strip_html(str(e.get("message") or "")), created_at=parse_time(e.get("createdAt")),
    ) for n, e in enumerate(events, start=1)]
    updates.reverse()
    word = (text_or_none(raw.get("status")) or text_or_none(message.get("eventStatus")) or "").lower()
    status = {"completed": MaintenanceStatus.completed, "complete": MaintenanceStatus.completed,
              "in_progress": MaintenanceStatus.in_progress, "inprogress": MaintenanceStatus.in_progress,
              "confirmed": MaintenanceStatus.scheduled, "scheduled": MaintenanceStatus.scheduled}.get(
        word, MaintenanceStatus.scheduled)
    instances = _instances(raw, location_of)
    return Maintenance(
        id=iid, title=title, status=status, raw_status=word or None,
        raw_impact="core" if raw.get("isCore") else ("noncore" if raw.get("isCore") is False else None),
        scheduled_for=start, scheduled_until=end, started_at=start,
        updated_at=parse_time(raw.get("updatedAt")),
        url=f"https://status.salesforce.com/maintenances/{iid}",
        component_ids=instances, regions=_regions(instances, location_of), updates=updates,
    )
