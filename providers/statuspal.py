"""Statuspal pages: ``https://statuspal.io/api/v2/status_pages/<subdomain>/summary`` (EU pages on
``statuspal.eu``). Public, no key. Schema from platforms.md §9 and the Statuspal API v2 docs; no
real capture exists in the corpus.

* ``status_page.current_incident_type`` (and each service's): null = operational, ``minor``,
  ``major``, ``scheduled`` (maintenance) -> operational, degraded_performance, major_outage,
  under_maintenance.
* ``services[]`` nest through ``children[]`` (and ``parent_id``): a service with children is a
  group, its children carry its name in ``group`` (the nearest parent, as for Instatus).
* ``incidents[]`` (open), ``maintenances[]`` (in progress), ``upcoming_maintenances[]``,
  ``info_notices[]`` (kept as impact-``none`` incidents, the informational convention).
  Incident ``type`` is the impact (``minor``/``major``). Updates carry a ``type`` word, not a
  status: ``issue``/``investigating`` -> investigating, ``identified``, ``monitoring``,
  ``resolve``/``retroactive`` -> resolved, and ``update``/``escalate``/``de_escalate`` keep the
  previous status; for maintenances ``started``/``essential`` -> in progress, ``monitoring`` ->
  verifying, ``resolve`` -> completed, ``postponed`` -> scheduled.
* Times are ISO 8601 in UTC, often without a zone designator.

The subdomain is needed: ``base_url`` may be ``https://<sub>.statuspal.io``, the API URL, or any
URL containing ``/status_pages/<sub>``. A custom domain alone is not enough.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    by_kind_newest_first,
    epoch_seconds,
    load_json,
    load_object,
    notice_sort_key,
    parse_time,
    stated_or_worst,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

INCIDENT_TYPE_STATUS = {
    "": ComponentStatus.operational,
    "minor": ComponentStatus.degraded_performance,
    "major": ComponentStatus.major_outage,
    "scheduled": ComponentStatus.under_maintenance,
    "maintenance": ComponentStatus.under_maintenance,
}
TYPE_IMPACT = {"minor": Impact.minor, "major": Impact.major, "scheduled": Impact.maintenance}
INCIDENT_UPDATE = {
    "issue": IncidentStatus.investigating,
    "investigating": IncidentStatus.investigating,
    "identified": IncidentStatus.identified,
    "monitoring": IncidentStatus.monitoring,
    "resolve": IncidentStatus.resolved,
    "resolved": IncidentStatus.resolved,
    "retroactive": IncidentStatus.resolved,
}
MAINTENANCE_UPDATE = {
    "scheduled": MaintenanceStatus.scheduled,
    "postponed": MaintenanceStatus.scheduled,
    "started": MaintenanceStatus.in_progress,
    "essential": MaintenanceStatus.in_progress,
    "monitoring": MaintenanceStatus.verifying,
    "resolve": MaintenanceStatus.completed,
    "resolved": MaintenanceStatus.completed,
}
_SUBDOMAIN_PATH_RE = re.compile(r"/status_pages/([^/?#]+)")
_HOST_RE = re.compile(r"^([a-z0-9][a-z0-9-]*)\.statuspal\.(io|eu)$")


def summary_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    host = parts.netloc.lower().split(":")[0]
    path_match = _SUBDOMAIN_PATH_RE.search(base_url)
    if path_match:
        api_host = host if host.startswith("statuspal.") else "statuspal.io"
        return f"https://{api_host}/api/v2/status_pages/{path_match.group(1)}/summary"
    host_match = _HOST_RE.match(host)
    if host_match and host_match.group(1) not in {"www", "api"}:
        return f"https://statuspal.{host_match.group(2)}/api/v2/status_pages/{host_match.group(1)}/summary"
    raise ParseError(
        "statuspal: the page's Statuspal subdomain is needed; give https://<subdomain>.statuspal.io "
        f"or the /api/v2/status_pages/<subdomain>/summary URL instead of {base_url!r}")


class StatuspalAdapter(Adapter):
    platform = "statuspal"
    title = "Statuspal"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("summary", "incidents")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("summary", summary_url(base_url))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The public incidents listing: {incidents[], links{next,prev}, meta{total_count}}, newest
        # first, at most 100 a page; the first page is read. Maintenances are in it with type
        # "scheduled".
        summary = summary_url(base_url)
        return [Endpoint("incidents", summary.removesuffix("/summary") + "/incidents?limit=100")]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        notices: list[Incident | Maintenance] = []
        if "summary" in bodies:
            notices.extend(self.build_notices({"summary": bodies["summary"]}, base_url))
        if "incidents" in bodies:
            doc = load_json(bodies["incidents"], "statuspal incidents")
            rows = doc.get("incidents") if isinstance(doc, dict) else doc
            if not isinstance(rows, list):
                raise ParseError("statuspal incidents: expected an incidents list")
            listed = [parse_notice(raw, "incident") for raw in rows if isinstance(raw, dict) and raw.get("id") is not None]
            known = {n.id for n in notices}
            notices = [*notices, *(n for n in listed if n.id not in known)] if notices else listed
        if not notices and not bodies:
            raise ParseError("statuspal: nothing to parse")
        return sorted(notices, key=notice_sort_key)

    def classify(self, body: bytes, filename: str = "") -> str:
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports HTML etc. under the main key
            return "summary"
        if isinstance(doc, dict) and "incidents" in doc and "status_page" not in doc:
            return "incidents"
        return "summary"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if set(bodies) == {"incidents"}:
            from providers.history import snapshot_of_history

            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        doc = load_object(self.body(bodies), "statuspal summary")
        page = doc.get("status_page")
        if not isinstance(page, dict):
            raise ParseError("statuspal: not a Statuspal summary (no status_page object)")

        components = parse_services(doc.get("services"))
        incidents, maintenances = by_kind_newest_first(
            parse_notice(raw, kind)
            for field, kind in (("incidents", "incident"), ("info_notices", "info"),
                                ("maintenances", "active"), ("upcoming_maintenances", "upcoming"))
            for raw in as_list(doc.get(field)) if isinstance(raw, dict) and raw.get("id") is not None)
        raw_type = text_or_none(page.get("current_incident_type"))
        url = text_or_none(page.get("url"))
        if url and "://" not in url:
            url = f"https://{url}"
        return Snapshot(
            platform=self.platform,
            name=text_or_none(page.get("name")),
            url=url or base_url,
            page_id=text_or_none(page.get("subdomain")),
            status=stated_or_worst(INCIDENT_TYPE_STATUS.get(word_key(raw_type)), components),
            raw_status=raw_type,
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )


def parse_services(raw_services: Any) -> list[Component]:
    """Flatten the service tree; services with children are groups, not components."""
    flat: list[tuple[dict[str, Any], str | None]] = []

    def walk(nodes: Any, parent: dict[str, Any] | None) -> None:
        for node in as_list(nodes):
            if isinstance(node, dict) and node.get("id") is not None:
                flat.append((node, str(parent["id"]) if parent else None))
                walk(node.get("children"), node)

    walk(raw_services, None)
    by_id = {str(node["id"]): node for node, _parent in flat}
    parent_of = {str(node["id"]): parent or text_or_none(node.get("parent_id")) for node, parent in flat}
    group_ids = {p for p in parent_of.values() if p}
    out = []
    seen: set[str] = set()
    for node, _parent in flat:
        sid = str(node["id"])
        if sid in group_ids or sid in seen:
            continue
        seen.add(sid)
        parent = by_id.get(parent_of.get(sid) or "")
        raw_type = text_or_none(node.get("current_incident_type"))
        out.append(Component(
            id=sid,
            name=str(node.get("name") or sid).strip(),
            group=text_or_none(parent.get("name")) if parent else None,
            status=INCIDENT_TYPE_STATUS.get(word_key(raw_type), ComponentStatus.unknown),
            raw_status=raw_type,
            description=text_or_none(node.get("description")),
        ))
    return out


def _service_ids(raw: dict[str, Any]) -> list[str]:
    ids = [str(s) for s in as_list(raw.get("service_ids")) if s is not None and not isinstance(s, bool)]
    ids += [str(s["id"]) for s in as_list(raw.get("services")) if isinstance(s, dict) and s.get("id") is not None]
    return list(dict.fromkeys(ids))


def parse_notice(raw: dict[str, Any], kind: str) -> Incident | Maintenance:
    nid = str(raw["id"])
    is_maintenance = kind in {"active", "upcoming"} or word_key(raw.get("type")) == "scheduled"
    ends = parse_time(raw.get("ends_at"))
    raw_updates = sorted((u for u in as_list(raw.get("updates")) if isinstance(u, dict)), key=_update_time)
    # Walk oldest -> newest: an update word either sets the status or keeps the previous one.
    i_state = IncidentStatus.investigating
    m_state = MaintenanceStatus.in_progress if kind == "active" else MaintenanceStatus.scheduled
    updates: list[Update] = []
    for n, u in enumerate(raw_updates):
        word = word_key(u.get("type"))
        if is_maintenance:
            m_state = MAINTENANCE_UPDATE.get(word, m_state)
            status = m_state.value
        else:
            i_state = INCIDENT_UPDATE.get(word, i_state)
            status = i_state.value
        updates.append(Update(
            id=str(u["id"]) if u.get("id") is not None else f"{nid}/{n}",
            status=status,
            raw_status=text_or_none(u.get("type")),
            body=str(u.get("description") or ""),
            created_at=parse_time(u.get("inserted_at") or u.get("posted_at")),
        ))
    updates.reverse()
    raw_type = text_or_none(raw.get("type"))
    common: dict[str, Any] = {
        "id": nid,
        "title": str(raw.get("title") or "").strip() or nid,
        "raw_status": updates[0].raw_status if updates else None,
        "raw_impact": raw_type,
        "updated_at": parse_time(raw.get("updated_at")),
        "url": text_or_none(raw.get("url")),
        "component_ids": _service_ids(raw),
        "updates": updates,
    }
    starts = parse_time(raw.get("starts_at"))
    if is_maintenance:
        if kind == "active" and m_state is MaintenanceStatus.scheduled:
            m_state = MaintenanceStatus.in_progress  # listed as active: it has started
        return Maintenance(**common, status=m_state, scheduled_for=starts, scheduled_until=ends,
                           started_at=starts if m_state is not MaintenanceStatus.scheduled else None,
                           resolved_at=ends if m_state is MaintenanceStatus.completed else None)
    if ends is not None:
        i_state = IncidentStatus.resolved
    return Incident(**common, status=i_state, started_at=starts or parse_time(raw.get("inserted_at")),
                    impact=Impact.none if kind == "info" else TYPE_IMPACT.get(word_key(raw_type), Impact.none),
                    resolved_at=ends if i_state is IncidentStatus.resolved else None)


def _update_time(update: dict[str, Any]) -> float:
    return epoch_seconds(parse_time(update.get("inserted_at") or update.get("posted_at")))
