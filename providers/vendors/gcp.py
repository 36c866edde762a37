"""Google Cloud status dashboard (``incidents.json`` + ``products.json``).

The same format serves Google Workspace (``www.google.com/appsstatus/dashboard``), Firebase
(``status.firebase.google.com``) and Google Play (``status.play.google.com``): point the base URL at
the dashboard and the two files are fetched from there.

``incidents.json`` is the whole history (MB-sized, newest first). An incident is open while it has
no ``end``. Products are renamed over time: ``products.json`` gives ``title`` (the name incidents
use) and ``current_title`` (the name shown now); both are joined on the product ``id``.
Components are the products (operational unless an open incident affects them); affected
locations (``europe-north1``, ``global``) become the incident's regions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    join_url,
    load_json,
    load_object,
    parse_time,
    sort_updates,
    started_sort_key,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, worst_status

# status_impact (also the word on each update) -> component status, per platforms.md sec. 11.
IMPACT_STATUS: dict[str, ComponentStatus] = {
    "SERVICE_INFORMATION": ComponentStatus.degraded_performance,
    "SERVICE_DISRUPTION": ComponentStatus.partial_outage,
    "SERVICE_OUTAGE": ComponentStatus.major_outage,
    "AVAILABLE": ComponentStatus.operational,
}
STATUS_IMPACT: dict[str, Impact] = {
    "SERVICE_INFORMATION": Impact.minor,
    "SERVICE_DISRUPTION": Impact.major,
    "SERVICE_OUTAGE": Impact.critical,
}
SEVERITY_IMPACT: dict[str, Impact] = {"low": Impact.minor, "medium": Impact.major, "high": Impact.critical}
DASHBOARD_NAMES = {
    "status.cloud.google.com": "Google Cloud",
    "www.google.com": "Google Workspace",
    "status.firebase.google.com": "Firebase",
    "status.play.google.com": "Google Play",
}


class GcpAdapter(Adapter):
    platform = "gcp"
    title = "Google Cloud / Workspace / Firebase / Play status dashboard"
    reads = frozenset({"components", "incidents", "updates", "regions"})
    keys = ("incidents", "products")
    # incidents.json is the whole history: a snapshot carries the open incidents and this many of
    # the most recently closed ones (so resolutions are seen); build_history returns them all.
    recent_closed: ClassVar[int] = 25

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [
            Endpoint("incidents", join_url(base_url, "incidents.json")),
            Endpoint("products", join_url(base_url, "products.json"), required=False),
        ]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("incidents", join_url(base_url, "incidents.json"))]

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports the problem under the main key
            return "products" if "product" in filename.lower() else "incidents"
        if isinstance(doc, dict) and "products" in doc:
            return "products"
        return "incidents"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        incidents, products, names = self._read(bodies, base_url)
        open_incidents = [i for i in incidents if i.is_open]
        closed = [i for i in incidents if not i.is_open][: self.recent_closed]
        components = self._components(products, open_incidents, names, have_incidents="incidents" in bodies,
                                      also_named=[*open_incidents, *closed])
        if components:
            overall = worst_status(c.status for c in components)
        elif "incidents" in bodies:
            overall = worst_status(_current_status(i) for i in open_incidents)
        else:
            overall = ComponentStatus.unknown
        return Snapshot(
            platform=self.platform,
            name=_dashboard_name(base_url),
            url=base_url,
            status=overall,
            components=components,
            incidents=[*open_incidents, *closed],
        )

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        incidents, _, _ = self._read(bodies, base_url)
        return list(incidents)

    # ------------------------------------------------------------------------------------------
    def _read(self, bodies: Bodies, base_url: str | None
              ) -> tuple[list[Incident], list[dict[str, Any]], dict[str, str]]:
        """Incidents newest first, products.json rows, and product names as incidents give them."""
        if not bodies:
            raise ParseError("gcp: nothing to parse")
        incidents: list[Incident] = []
        names: dict[str, str] = {}
        if "incidents" in bodies:
            doc = load_json(bodies["incidents"], "gcp incidents.json")
            if isinstance(doc, dict) and isinstance(doc.get("incidents"), list):
                doc = doc["incidents"]
            if not isinstance(doc, list):
                raise ParseError("gcp incidents.json: expected a JSON array of incidents")
            for raw in doc:
                if isinstance(raw, dict) and raw.get("id"):
                    incident, products_named = parse_incident(raw, base_url)
                    incidents.append(incident)
                    for pid, title in products_named:
                        if title:
                            names.setdefault(pid, title)
            incidents.sort(key=started_sort_key)
        products: list[dict[str, Any]] = []
        if "products" in bodies:
            pdoc = load_object(bodies["products"], "gcp products.json")
            products = [p for p in as_list(pdoc.get("products")) if isinstance(p, dict) and p.get("id")]
        if "incidents" not in bodies and "products" not in bodies:
            raise ParseError(f"gcp: no incidents or products body (got {', '.join(bodies)})")
        return incidents, products, names

    def _components(self, products: list[dict[str, Any]], open_incidents: list[Incident],
                    names: dict[str, str], have_incidents: bool,
                    also_named: list[Incident]) -> list[Component]:
        # Without incidents.json nobody knows whether a product is affected.
        baseline = ComponentStatus.operational if have_incidents else ComponentStatus.unknown
        affected: dict[str, list[Incident]] = {}
        for incident in open_incidents:
            for pid in incident.component_ids:
                affected.setdefault(pid, []).append(incident)
        components: dict[str, Component] = {}
        for position, p in enumerate(products):
            pid = str(p["id"])
            title = text_or_none(p.get("title"))
            current = text_or_none(p.get("current_title")) or title or pid
            components[pid] = Component(
                id=pid, name=current, position=position, status=baseline,
                description=f"Formerly {title}" if title and title != current else None,
            )
        for incident in also_named:
            for pid in incident.component_ids:
                if pid not in components:  # a product products.json does not (or no longer) list
                    components[pid] = Component(id=pid, name=names.get(pid, pid), status=baseline)
        for pid, incidents in affected.items():
            status = worst_status(_current_status(i) for i in incidents)
            components[pid] = components[pid].model_copy(update={
                "status": status, "raw_status": incidents[0].raw_status,
                "updated_at": max((i.updated_at for i in incidents if i.updated_at), default=None),
            })
        return sorted(components.values(), key=lambda c: (c.position is None, c.position or 0, c.name.lower()))


def _dashboard_name(base_url: str | None) -> str | None:
    if not base_url:
        return None
    from urllib.parse import urlsplit

    return DASHBOARD_NAMES.get(urlsplit(base_url).netloc.lower())


def _current_status(incident: Incident) -> ComponentStatus:
    """An open incident's effect now: its latest update's word, else its overall impact word."""
    latest = incident.latest_update.raw_status if incident.latest_update else None
    if latest in IMPACT_STATUS:
        return IMPACT_STATUS[latest]
    return IMPACT_STATUS.get(incident.raw_impact or "", ComponentStatus.degraded_performance)


def parse_incident(raw: dict[str, Any], base_url: str | None) -> tuple[Incident, list[tuple[str, str | None]]]:
    """One incident, and the (id, title) of the products it names (titles as of the incident)."""
    iid = str(raw["id"])
    end = parse_time(raw.get("end"))
    closed = end is not None
    raw_impact = text_or_none(raw.get("status_impact"))
    severity = text_or_none(raw.get("severity"))
    impact = STATUS_IMPACT.get(raw_impact or "") or SEVERITY_IMPACT.get(word_key(severity), Impact.none)
    updates = []
    for u in as_list(raw.get("updates")):
        if not isinstance(u, dict):
            continue
        word = text_or_none(u.get("status"))
        when = parse_time(u.get("when")) or parse_time(u.get("created"))
        if word == "AVAILABLE":
            status = IncidentStatus.resolved if closed else IncidentStatus.monitoring
        else:
            status = IncidentStatus.investigating
        updates.append(Update(
            id=f"{iid}@{u.get('when') or u.get('created') or len(updates)}",
            status=status.value, raw_status=word, body=str(u.get("text") or "").strip(), created_at=when,
        ))
    sort_updates(updates)
    if closed:
        status = IncidentStatus.resolved
    elif updates and updates[0].raw_status == "AVAILABLE":
        status = IncidentStatus.monitoring
    else:
        status = IncidentStatus.investigating
    products = [(str(p["id"]), text_or_none(p.get("title"))) for p in as_list(raw.get("affected_products"))
                if isinstance(p, dict) and p.get("id")]
    if not products and raw.get("service_key"):
        products = [(str(raw["service_key"]), text_or_none(raw.get("service_name")))]
    regions: dict[str, None] = {}
    for key in ("currently_affected_locations", "previously_affected_locations"):
        for loc in as_list(raw.get(key)):
            if isinstance(loc, dict) and loc.get("id"):
                regions[str(loc["id"])] = None
    uri = text_or_none(raw.get("uri"))
    latest = raw.get("most_recent_update")
    latest_word = text_or_none(latest.get("status")) if isinstance(latest, dict) else None
    incident = Incident(
        id=iid,
        title=" ".join(str(raw.get("external_desc") or "").split()) or iid,
        status=status,
        raw_status=latest_word or (updates[0].raw_status if updates else None),
        impact=impact,
        raw_impact=raw_impact or severity,
        started_at=parse_time(raw.get("begin")) or parse_time(raw.get("created")),
        updated_at=parse_time(raw.get("modified")),
        resolved_at=end,
        url=join_url(base_url, uri) if base_url and uri else None,
        component_ids=list(dict.fromkeys(pid for pid, _ in products)),
        regions=list(regions),
        updates=updates,
    )
    return incident, products
