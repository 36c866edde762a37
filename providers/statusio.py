"""status.io pages through the public status API ``https://api.status.io/1.0/status/<page_id>``.

The page id is 24 hex digits found in the page's HTML (detection finds it). ``base_url`` may be
the API URL itself or any URL that contains the id (``https://status.gitlab.com/pages/<id>``,
``https://status.docker.com/#<id>``); a bare page URL is not enough and ``endpoints`` says so.

Mapping (platforms.md §7):

* status codes 100 Operational, 200 Planned Maintenance, 300 Degraded Performance, 400 Partial
  Service Disruption, 500 Service Disruption, 600 Security Event -> operational,
  under_maintenance, degraded_performance, partial_outage, major_outage, major_outage;
  ``raw_status`` keeps the word ("Security Event").
* ``status[]`` entries are components and their ``containers[]`` the locations they run in.
  With one container the component is emitted as is, ``region`` = that container's name. With
  several, one Component per container: id ``<component id>/<container id>``, name = container
  name, ``group`` = component name, ``region`` = container name, status = that container's.
* incidents: ``messages[]`` become updates (state 100/200/300 = investigating/identified/
  monitoring; message ``status`` is the code table); ``containers_affected`` names are the regions.
  Messages have no ids: an update's id is ``<incident id>/<n>``, n counting from the oldest.
* ``maintenance.active`` are in progress, ``maintenance.upcoming`` scheduled, with
  ``datetime_planned_start`` / ``datetime_planned_end``.
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
    impacts_of,
    load_object,
    parse_time,
    stated_or_worst,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

API_ROOT = "https://api.status.io/1.0/status/"
PAGE_ID_RE = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{24})(?![0-9a-fA-F])")

CODE_STATUS = {
    "100": ComponentStatus.operational,
    "200": ComponentStatus.under_maintenance,
    "300": ComponentStatus.degraded_performance,
    "400": ComponentStatus.partial_outage,
    "500": ComponentStatus.major_outage,
    "600": ComponentStatus.major_outage,  # security event
}
WORD_CODE = {
    "operational": "100",
    "planned_maintenance": "200",
    "degraded_performance": "300",
    "partial_service_disruption": "400",
    "service_disruption": "500",
    "security_event": "600",
    "security_issue": "600",
}
CODE_IMPACT = impacts_of(CODE_STATUS)
STATE_STATUS = {
    "100": IncidentStatus.investigating,
    "200": IncidentStatus.identified,
    "300": IncidentStatus.monitoring,
}


def page_id_of(url: str | None) -> str | None:
    match = PAGE_ID_RE.search(url or "")
    return match.group(1).lower() if match else None


def _code(code: Any, word: Any) -> str:
    """The status code as text, from ``status_code`` or, failing that, the status word."""
    key = word_key(code)
    if key in CODE_STATUS:
        return key
    return WORD_CODE.get(word_key(word), key)


def _status(code: Any, word: Any) -> tuple[ComponentStatus, str | None]:
    raw = text_or_none(word) or text_or_none(code)
    return CODE_STATUS.get(_code(code, word), ComponentStatus.unknown), raw


class StatusIOAdapter(Adapter):
    platform = "statusio"
    title = "status.io"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates", "regions"})
    keys = ("status", "history")

    def endpoints(self, base_url: str) -> list[Endpoint]:
        page_id = page_id_of(base_url)
        if page_id is None:
            raise ParseError(
                "statusio: the page id is needed (24 hex digits, in the page's HTML as statuspage_id or "
                f"api.status.io/1.0/status/<id>); give a URL containing it instead of {base_url!r}")
        return [Endpoint("status", f"{API_ROOT}{page_id}")]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The public status API lists only open incidents and current maintenances; past ones
        # are in the page's RSS feed, served by status.io for every page id. Entries link to
        # .../<page id>/<incident id>, the API's ``_id``.
        from providers.history import feed_endpoint

        page_id = page_id_of(base_url)
        return [*self.endpoints(base_url), feed_endpoint("history", f"https://status.io/pages/{page_id}/rss")]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        from providers.history import closed_unless_current, feed_notices, merge_history

        current = self.build_notices({"status": bodies["status"]}, base_url) if "status" in bodies else []
        if "history" not in bodies:
            if "status" not in bodies:
                raise ParseError(f"statusio: no history body (got {sorted(bodies)})")
            return current
        page_id = page_id_of(base_url)

        def api_id(notice: Incident | Maintenance) -> str | None:
            ids = [m.lower() for m in PAGE_ID_RE.findall(notice.url or notice.id)]
            return next((i for i in reversed(ids) if i != page_id), None)

        past = feed_notices(bodies["history"], rename=api_id)
        if "status" in bodies:
            past = closed_unless_current(past, {n.id for n in current if n.is_open},
                                         lists_upcoming_maintenances=True)
        return merge_history(current, past)

    def classify(self, body: bytes, filename: str = "") -> str:
        from providers.history import looks_like_feed

        return "history" if looks_like_feed(body) else "status"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if set(bodies) == {"history"}:
            from providers.history import refuse_html, snapshot_of_history

            refuse_html(bodies["history"])
            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        doc = load_object(self.body(bodies), "status.io status")
        result = doc.get("result")
        if not isinstance(result, dict) or not any(k in result for k in ("status_overall", "status")):
            raise ParseError("statusio: not a status.io status document (no result.status_overall or result.status)")

        components, split = parse_components(result.get("status"))
        incidents = [parse_notice(raw, split, None) for raw in as_list(result.get("incidents"))
                     if isinstance(raw, dict)]
        maintenance = result.get("maintenance") if isinstance(result.get("maintenance"), dict) else {}
        maintenances = [parse_notice(raw, split, status)
                        for key, status in (("active", MaintenanceStatus.in_progress),
                                            ("upcoming", MaintenanceStatus.scheduled))
                        for raw in as_list(maintenance.get(key)) if isinstance(raw, dict)]

        overall_doc = result.get("status_overall") if isinstance(result.get("status_overall"), dict) else {}
        overall, raw_overall = _status(overall_doc.get("status_code"), overall_doc.get("status"))
        incidents, maintenances = by_kind_newest_first([*incidents, *maintenances])
        is_api_url = bool(base_url) and urlsplit(base_url or "").netloc.lower() == "api.status.io"
        return Snapshot(
            platform=self.platform,
            url=None if is_api_url else base_url,
            page_id=page_id_of(base_url),
            status=stated_or_worst(overall, components),
            raw_status=raw_overall,
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )


def parse_components(raw_components: Any) -> tuple[list[Component], dict[str, list[str]]]:
    """Components (split per container where there are several) and component id -> emitted ids."""
    out: list[Component] = []
    split: dict[str, list[str]] = {}
    for position, c in enumerate(as_list(raw_components)):
        if not isinstance(c, dict) or c.get("id") is None:
            continue
        cid = str(c["id"])
        name = str(c.get("name") or cid).strip()
        containers = [k for k in as_list(c.get("containers")) if isinstance(k, dict) and k.get("id") is not None]
        if len(containers) > 1:
            split[cid] = []
            for k in containers:
                status, raw = _status(k.get("status_code"), k.get("status"))
                kid = f"{cid}/{k['id']}"
                split[cid].append(kid)
                out.append(Component(
                    id=kid,
                    name=str(k.get("name") or k["id"]).strip(),
                    group=name,
                    status=status,
                    raw_status=raw,
                    position=position,
                    updated_at=parse_time(k.get("updated")),
                    region=text_or_none(k.get("name")),
                ))
            continue
        status, raw = _status(c.get("status_code"), c.get("status"))
        if status is ComponentStatus.unknown and containers:
            status, raw = _status(containers[0].get("status_code"), containers[0].get("status"))
        out.append(Component(
            id=cid,
            name=name,
            status=status,
            raw_status=raw,
            position=position,
            updated_at=parse_time(c.get("updated")),
            region=text_or_none(containers[0].get("name")) if containers else None,
        ))
    return out, split


def parse_notice(raw: dict[str, Any], split: dict[str, list[str]],
                 maintenance: MaintenanceStatus | None) -> Incident | Maintenance:
    notice_id = str(raw.get("_id") or raw.get("id") or raw.get("name") or "unnamed")
    messages = [m for m in as_list(raw.get("messages")) if isinstance(m, dict)]
    # Oldest first, so that an update's ordinal stays put when new messages are added.
    dated = sorted(enumerate(messages), key=_message_order)
    planned_start = parse_time(raw.get("datetime_planned_start"))
    updates: list[Update] = []
    for n, (_i, m) in enumerate(dated):
        when = parse_time(m.get("datetime"))
        state = word_key(m.get("state"))
        if maintenance is None:
            status = STATE_STATUS.get(state, IncidentStatus.investigating).value
        else:
            status = (MaintenanceStatus.scheduled if planned_start and when and when < planned_start
                      else maintenance).value
        updates.append(Update(id=f"{notice_id}/{n}", status=status, raw_status=text_or_none(m.get("state")),
                              body=str(m.get("details") or ""), created_at=when))
    latest = dated[-1][1] if dated else {}
    updates.reverse()

    containers = [k for k in as_list(raw.get("containers_affected")) if isinstance(k, dict)]
    container_ids = {str(k.get("_id") or k.get("id")) for k in containers}
    component_ids: list[str] = []
    for comp in as_list(raw.get("components_affected")):
        if not isinstance(comp, dict) or (comp.get("_id") or comp.get("id")) is None:
            continue
        cid = str(comp.get("_id") or comp.get("id"))
        if cid in split:
            hit = [kid for kid in split[cid] if kid.split("/", 1)[1] in container_ids]
            component_ids += hit or split[cid]
        else:
            component_ids.append(cid)
    common: dict[str, Any] = {
        "id": notice_id,
        "title": str(raw.get("name") or "").strip() or notice_id,
        "raw_status": text_or_none(latest.get("state")),
        "raw_impact": text_or_none(latest.get("status")),
        "updated_at": updates[0].created_at if updates else parse_time(raw.get("datetime_open")),
        "component_ids": list(dict.fromkeys(component_ids)),
        "regions": list(dict.fromkeys(str(k["name"]).strip() for k in containers if k.get("name"))),
        "updates": updates,
    }
    if maintenance is not None:
        return Maintenance(
            **common,
            status=maintenance,
            started_at=planned_start if maintenance is MaintenanceStatus.in_progress else None,
            scheduled_for=planned_start,
            scheduled_until=parse_time(raw.get("datetime_planned_end")),
        )
    return Incident(
        **common,
        status=STATE_STATUS.get(word_key(latest.get("state")), IncidentStatus.investigating),
        impact=CODE_IMPACT.get(_code(latest.get("status"), None), Impact.none),
        started_at=parse_time(raw.get("datetime_open")),
    )


def _message_order(indexed: tuple[int, dict[str, Any]]) -> tuple[float, int]:
    when = parse_time(indexed[1].get("datetime"))
    return (when.timestamp() if when else 0.0, indexed[0])
