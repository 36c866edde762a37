"""Hund.io status pages through their public Server-Sent Events stream ``<page>/live/v2/status_page``.

Hund's JSON API needs a key; the page itself is fed by an event stream whose first event,
``init_event``, carries the whole current state as JSON in its ``data:`` lines. This adapter takes
the saved stream (or just that JSON) and reads the ``init_event``.

Known shape (platforms.md §9; no real capture in the corpus, so field names are read leniently):
``state`` (page), optional ``components[]`` (``id``/``_id``, ``name``, ``state``, ``group``) and
``groups[]``, and ``issues[]{id, title, body (HTML), label, components[], standing, scheduled,
created_at, began_at/ended_at, starts_at/ends_at, updates[]{id, body, label, created_at}}``.

* state: 1 operational, 0 degraded, -1 outage (or those words; ``pending`` is unknown,
  ``maintenance`` under maintenance).
* an issue with ``scheduled: true`` is a maintenance: completed once ``ended_at`` is set, in
  progress while ``standing``, scheduled before that. Other issues are incidents: resolved once
  ended or no longer ``standing``, else the status of their label (investigating, identified,
  monitoring; ``assessed`` = identified), else investigating.
* times may be epoch seconds or ISO 8601 (``parse_time`` takes both).
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    by_kind_newest_first,
    classify_html,
    decode_text,
    expect_dict,
    join_url,
    load_json,
    looks_like_html,
    parse_time,
    sort_updates,
    stated_or_worst,
    strip_html,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

STATE = {
    "1": ComponentStatus.operational,
    "0": ComponentStatus.degraded_performance,
    "-1": ComponentStatus.major_outage,
    "operational": ComponentStatus.operational,
    "degraded": ComponentStatus.degraded_performance,
    "outage": ComponentStatus.major_outage,
    "maintenance": ComponentStatus.under_maintenance,
}
LABEL_STATUS = {
    "investigating": IncidentStatus.investigating,
    "assessed": IncidentStatus.identified,
    "identified": IncidentStatus.identified,
    "monitoring": IncidentStatus.monitoring,
    "resolved": IncidentStatus.resolved,
}
MAINTENANCE_LABEL = {
    "scheduled": MaintenanceStatus.scheduled,
    "maintenance": MaintenanceStatus.in_progress,
    "started": MaintenanceStatus.in_progress,
    "in_progress": MaintenanceStatus.in_progress,
    "completed": MaintenanceStatus.completed,
    "resolved": MaintenanceStatus.completed,
}
LABEL_IMPACT = {"degraded": Impact.minor, "outage": Impact.critical, "maintenance": Impact.maintenance}


def init_event(body: bytes) -> Any:
    """The JSON of the stream's ``init_event`` (or the first event with data; or the body itself)."""
    if looks_like_html(body):
        raise classify_html(body)
    text = decode_text(body).lstrip("\ufeff")
    if text.lstrip().startswith(("{", "[")):
        return load_json(body, "hund init_event")
    events: list[tuple[str, str]] = []
    name, data = "message", []
    for line in [*text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), ""]:
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = "message", []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value.strip()
        elif field == "data":
            data.append(value)
    if not events:
        raise ParseError("hund: no event with data in the stream")
    chosen = next((d for n, d in events if n == "init_event"), events[0][1])
    return load_json(chosen.encode("utf-8"), "hund init_event")


def _ident(raw: dict[str, Any]) -> str | None:
    value = raw.get("id", raw.get("_id"))
    return None if value is None else str(value)


def _state(value: Any) -> ComponentStatus:
    return STATE.get(word_key(value), ComponentStatus.unknown)


class HundAdapter(Adapter):
    platform = "hund"
    title = "Hund.io"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("status_page",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("status_page", join_url(base_url, "live/v2/status_page"), accept="text/event-stream")]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The status page event stream's init_event lists recent issues, resolved ones included,
        # with their updates; Hund's JSON API needs a key.
        return self.endpoints(base_url)

    build_history = Adapter.build_notices

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = expect_dict(init_event(self.body(bodies)), "hund init_event")
        if not any(k in doc for k in ("state", "issues", "components")):
            raise ParseError("hund: init_event has no state, issues or components")
        page = doc.get("status_page") if isinstance(doc.get("status_page"), dict) else {}

        group_of: dict[str, str] = {}
        for g in as_list(doc.get("groups")):
            if isinstance(g, dict) and text_or_none(g.get("name")):
                for member in as_list(g.get("components")):
                    mid = _ident(member) if isinstance(member, dict) else (None if member is None else str(member))
                    if mid:
                        group_of[mid] = str(g["name"]).strip()
        components = []
        for c in as_list(doc.get("components")):
            if not isinstance(c, dict) or _ident(c) is None:
                continue
            cid = str(_ident(c))
            group = c.get("group")
            group_name = text_or_none(group.get("name")) if isinstance(group, dict) else text_or_none(group)
            raw_state = text_or_none(c.get("state"))
            components.append(Component(
                id=cid,
                name=str(c.get("name") or cid).strip(),
                group=group_of.get(cid) or group_name,
                status=_state(raw_state),
                raw_status=raw_state,
                description=text_or_none(c.get("description")),
            ))

        incidents, maintenances = by_kind_newest_first(
            parse_issue(raw) for raw in as_list(doc.get("issues")) if isinstance(raw, dict) and _ident(raw) is not None)
        raw_state = text_or_none(doc.get("state"))
        return Snapshot(
            platform=self.platform,
            name=text_or_none(page.get("name")) or text_or_none(doc.get("name")),
            url=base_url,
            status=stated_or_worst(_state(raw_state), components),
            raw_status=raw_state,
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )


def parse_issue(raw: dict[str, Any]) -> Incident | Maintenance:
    iid = str(_ident(raw))
    scheduled = raw.get("scheduled") is True
    standing = raw.get("standing") is True
    label = text_or_none(raw.get("label"))
    began = parse_time(raw.get("began_at")) or parse_time(raw.get("created_at"))
    ended = parse_time(raw.get("ended_at"))
    component_ids = []
    for comp in as_list(raw.get("components")):
        ident = _ident(comp) if isinstance(comp, dict) else (None if comp is None else str(comp))
        if ident:
            component_ids.append(ident)

    updates = []
    for n, u in enumerate(as_list(raw.get("updates"))):
        if not isinstance(u, dict):
            continue
        u_label = text_or_none(u.get("label"))
        u_status = LABEL_STATUS.get(word_key(u_label))
        updates.append(Update(
            id=_ident(u) or f"{iid}/{n}",
            status=(MAINTENANCE_LABEL.get(word_key(u_label), MaintenanceStatus.scheduled).value if scheduled
                    else (u_status or IncidentStatus.investigating).value),
            raw_status=u_label,
            body=strip_html(str(u.get("body") or "")),
            created_at=parse_time(u.get("created_at")),
        ))
    sort_updates(updates)
    body_text = strip_html(str(raw.get("body") or ""))
    if body_text:
        updates.append(Update(id=f"{iid}/body", status="scheduled" if scheduled else "investigating",
                              raw_status=label, body=body_text, created_at=parse_time(raw.get("created_at"))))
    common: dict[str, Any] = {
        "id": iid,
        "title": str(raw.get("title") or "").strip() or iid,
        "raw_status": label,
        "updated_at": updates[0].created_at if updates and updates[0].created_at else parse_time(raw.get("updated_at")),
        "url": text_or_none(raw.get("url")),
        "component_ids": list(dict.fromkeys(component_ids)),
        "updates": updates,
    }
    if scheduled:
        if ended is not None:
            m_status = MaintenanceStatus.completed
        elif standing:
            m_status = MaintenanceStatus.in_progress
        else:
            m_status = MaintenanceStatus.scheduled
        return Maintenance(**common, status=m_status,
                           started_at=began if m_status is not MaintenanceStatus.scheduled else None,
                           scheduled_for=parse_time(raw.get("starts_at")),
                           scheduled_until=parse_time(raw.get("ends_at")),
                           resolved_at=ended)
    if ended is not None or not standing:
        status = IncidentStatus.resolved
    else:
        # The issue's label may be a state word ("outage"); then the newest update's label decides.
        labelled = [LABEL_STATUS[word_key(u.raw_status)] for u in updates if word_key(u.raw_status) in LABEL_STATUS]
        status = LABEL_STATUS.get(word_key(label)) or (labelled[0] if labelled else IncidentStatus.investigating)
    return Incident(**common, status=status, started_at=began,
                    impact=LABEL_IMPACT.get(word_key(label), Impact.none), raw_impact=label,
                    resolved_at=(ended or common["updated_at"]) if status is IncidentStatus.resolved else None)
