"""Sorry™ status pages: the public page API ``<page>/api/v1/status``, ``/api/v1/components`` and
``/api/v1/notices`` (documented on status.sorryapp.com/api and docs.sorryapp.com; no real capture
in the corpus).

* page and component ``state``: ``operational``, ``degraded``, ``partially-degraded`` (a parent
  with some degraded descendants), ``under_maintenance``. Sorry has a single "degraded" level, so
  both degraded words map to degraded_performance.
* components nest through ``parent_id``; a component that is some other's parent is a group and
  its children carry its name (the nearest parent, as for Instatus and Statuspal).
* notices: ``type`` ``unplanned`` (incident), ``planned`` (maintenance) or ``general``
  (informational, impact none). Unplanned ``state`` investigating|identified|recovering|resolved|
  false_alarm (recovering = monitoring; false_alarm closes it); planned scheduled|underway|
  complete. ``timeline_state`` past_recent/past_distant also marks a notice closed. An unplanned
  notice degrades its components, the only severity Sorry has: impact minor.
* lists are paginated (``meta.next_page``); only the first page is read. The authenticated
  account API wraps lists in ``response``: accepted too. Notice updates (comments) are not part
  of the documented public payload and are not read.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot
from aggregator.page.reading import (
    as_list,
    by_kind_newest_first,
    int_or_none,
    join_url,
    load_json,
    load_object,
    parse_time,
    stated_or_worst,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

STATE = {
    "operational": ComponentStatus.operational,
    "degraded": ComponentStatus.degraded_performance,
    "partially_degraded": ComponentStatus.degraded_performance,
    "under_maintenance": ComponentStatus.under_maintenance,
}
UNPLANNED_STATE = {
    "investigating": IncidentStatus.investigating,
    "identified": IncidentStatus.identified,
    "recovering": IncidentStatus.monitoring,
    "resolved": IncidentStatus.resolved,
    "false_alarm": IncidentStatus.resolved,
}
PLANNED_STATE = {
    "scheduled": MaintenanceStatus.scheduled,
    "underway": MaintenanceStatus.in_progress,
    "complete": MaintenanceStatus.completed,
}
PAST = {"past_recent", "past_distant"}


def _items(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    raw = doc.get(key) if key in doc else doc.get("response")
    return [item for item in as_list(raw) if isinstance(item, dict) and item.get("id") is not None]


class SorryAdapter(Adapter):
    platform = "sorry"
    title = "Sorry™"
    reads = frozenset({"components", "groups", "incidents", "maintenances"})
    keys = ("status", "components", "notices")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [
            Endpoint("status", join_url(base_url, "api/v1/status")),
            Endpoint("components", join_url(base_url, "api/v1/components"), required=False),
            Endpoint("notices", join_url(base_url, "api/v1/notices"), required=False),
        ]

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports HTML etc. under the main key
            return "status"
        if not isinstance(doc, dict):
            return "status"
        if "notices" in doc:
            return "notices"
        if "components" in doc:
            return "components"
        first = next(iter(as_list(doc.get("response"))), None)
        if isinstance(first, dict):
            return "notices" if "subject" in first or "timeline_state" in first else "components"
        return "status"

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # /notices lists past notices too (timeline_state past_recent and past_distant).
        return [ep for ep in self.endpoints(base_url) if ep.key == "notices"]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        return self.build_notices({k: b for k, b in bodies.items() if k == "notices"}, base_url)

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        self.check_keys(bodies)
        docs = {key: load_object(body, f"sorry {key}") for key, body in bodies.items()}
        status_doc = docs.get("status")
        page = status_doc.get("page") if status_doc else None
        if status_doc is not None and not isinstance(page, dict):
            raise ParseError("sorry: status document has no page object")
        page = page or {}
        for key in ("components", "notices"):
            if key in docs and key not in docs[key] and "response" not in docs[key]:
                raise ParseError(f"sorry: {key} document has no {key} list")

        components = parse_components(_items(docs["components"], "components")) if "components" in docs else []
        incidents, maintenances = by_kind_newest_first(
            parse_notice(raw) for raw in (_items(docs["notices"], "notices") if "notices" in docs else []))
        raw_state = text_or_none(page.get("state"))
        return Snapshot(
            platform=self.platform,
            name=text_or_none(page.get("name")),
            url=text_or_none(page.get("url")) or base_url,
            status=stated_or_worst(STATE.get(word_key(raw_state)), components),
            raw_status=raw_state,
            description=text_or_none(page.get("state_text")),
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )


def parse_components(raws: list[dict[str, Any]]) -> list[Component]:
    names = {str(c["id"]): str(c.get("name") or c["id"]).strip() for c in raws}
    parents = {str(c["parent_id"]) for c in raws if c.get("parent_id") is not None}
    out = []
    for c in raws:
        cid = str(c["id"])
        if cid in parents:
            continue
        raw_state = text_or_none(c.get("state"))
        parent = text_or_none(c.get("parent_id"))
        out.append(Component(
            id=cid,
            name=names[cid],
            group=names.get(parent) if parent else None,
            status=STATE.get(word_key(raw_state), ComponentStatus.unknown),
            raw_status=raw_state,
            description=text_or_none(c.get("description")),
            position=int_or_none(c.get("position")),
            updated_at=parse_time(c.get("updated_at")),
        ))
    return out


def _component_ids(raw: dict[str, Any]) -> list[str]:
    ids = [str(i) for i in as_list(raw.get("component_ids")) if i is not None and not isinstance(i, bool)]
    ids += [str(c["id"]) for c in as_list(raw.get("components")) if isinstance(c, dict) and c.get("id") is not None]
    return list(dict.fromkeys(ids))


def parse_notice(raw: dict[str, Any]) -> Incident | Maintenance:
    nid = str(raw["id"])
    kind = word_key(raw.get("type"))
    raw_state = text_or_none(raw.get("state"))
    state = word_key(raw_state)
    past = word_key(raw.get("timeline_state")) in PAST
    common: dict[str, Any] = {
        "id": nid,
        "title": str(raw.get("subject") or "").strip() or nid,
        "raw_status": raw_state,
        "raw_impact": text_or_none(raw.get("type")),
        "updated_at": parse_time(raw.get("updated_at")),
        "url": text_or_none(raw.get("link")),
        "component_ids": _component_ids(raw),
    }
    began = parse_time(raw.get("began_at"))
    ended = parse_time(raw.get("ended_at"))
    if kind == "planned":
        status = PLANNED_STATE.get(state, MaintenanceStatus.completed if past else MaintenanceStatus.scheduled)
        return Maintenance(**common, status=status, started_at=began,
                           scheduled_for=parse_time(raw.get("begins_at")) or began,
                           scheduled_until=parse_time(raw.get("ends_at")),
                           resolved_at=ended if status is MaintenanceStatus.completed else None)
    status = UNPLANNED_STATE.get(state, IncidentStatus.resolved if past else IncidentStatus.investigating)
    if past:
        status = IncidentStatus.resolved
    return Incident(**common, status=status, started_at=began or parse_time(raw.get("created_at")),
                    impact=Impact.minor if kind == "unplanned" else Impact.none,
                    resolved_at=ended if status is IncidentStatus.resolved else None)
