"""Apple System Status (consumer and developer), served as JSONP.

``www.apple.com/support/systemstatus/data/system_status_en_US.js`` (developer:
``.../data/developer/system_status_en_US.js``) is ``jsonCallback({...});`` — ``load_json`` strips the
wrapper (saved copies without it read the same). Body: ``drpost``, ``drMessage``,
``services[]{serviceName, redirectUrl, events[]}``; an event has ``messageId``, ``statusType``
(Outage, Issue, Performance, Maintenance), ``eventStatus`` (ongoing, resolved, completed,
upcoming...), ``usersAffected``, ``epochStartDate`` / ``epochEndDate`` (ms or null),
``datePosted`` / ``startDate`` / ``endDate`` (``MM/DD/YYYY HH:MM PDT``), ``affectedServices`` (list
or null) and ``message``. One event is repeated under every service it affects (same
``messageId``): it becomes one incident or maintenance naming all of them. ``redirectUrl`` may
carry leading whitespace.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot
from aggregator.page.reading import (
    as_list,
    latest_update,
    load_object,
    open_impact_status,
    parse_time,
    started_sort_key,
    stated_or_worst,
    strip_html,
    text_or_none,
)
from aggregator.page.vocab import (
    IMPACT_TO_STATUS,
    SEVERITY,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    worst_status,
)

CONSUMER_URL = "https://www.apple.com/support/systemstatus/data/system_status_en_US.js"
DEVELOPER_URL = "https://www.apple.com/support/systemstatus/data/developer/system_status_en_US.js"
OPEN_WORDS = {"ongoing", "upcoming", "scheduled", "in progress", "in_progress"}
CLOSED_WORDS = {"resolved", "completed", "complete", "ended", "cancelled", "canceled"}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or name


def event_impact(status_type: str | None, users: str | None) -> Impact:
    """Outage affecting all users -> critical, some users -> major; Issue/Performance -> minor."""
    kind = (status_type or "").strip().lower()
    if kind == "maintenance":
        return Impact.maintenance
    if kind == "outage":
        return Impact.critical if (users or "").lower().startswith("all") else Impact.major
    if kind in {"issue", "performance"}:
        return Impact.minor
    return Impact.none


class AppleAdapter(Adapter):
    platform = "apple"
    title = "Apple System Status"
    reads = frozenset({"components", "incidents", "maintenances", "updates"})
    keys = ("status",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        url = base_url.strip()
        if urlsplit(url).path.endswith(".js"):
            return [Endpoint("status", url, accept="application/javascript, application/json;q=0.9, */*;q=0.5")]
        target = DEVELOPER_URL if "developer" in url.lower() else CONSUMER_URL
        return [Endpoint("status", target, accept="application/javascript, application/json;q=0.9, */*;q=0.5")]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The status document lists the resolved and completed events of recent days too; Apple
        # publishes no longer history.
        return self.endpoints(base_url)

    build_history = Adapter.build_notices

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "apple system status")
        if not isinstance(doc.get("services"), list):
            raise ParseError("apple system status: no services list")
        components: list[Component] = []
        grouped: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {}  # (service, url, event)
        for position, service in enumerate(doc["services"]):
            if not isinstance(service, dict) or not text_or_none(service.get("serviceName")):
                continue
            name = str(service["serviceName"]).strip()
            redirect = text_or_none(service.get("redirectUrl"))  # strips the stray leading space
            statuses: list[ComponentStatus] = []
            words: list[str] = []
            for event in as_list(service.get("events")):
                if not isinstance(event, dict):
                    continue
                key = str(event.get("messageId") or f"{name}:{event.get('epochStartDate')}")
                grouped.setdefault(key, []).append((name, redirect, event))
                if _is_open(event) and _started(event):
                    impact = event_impact(text_or_none(event.get("statusType")), text_or_none(event.get("usersAffected")))
                    statuses.append(open_impact_status(impact))
                    words.append(str(event.get("statusType") or ""))
            status = worst_status(statuses)
            components.append(Component(
                id=_slug(name), name=name, position=position, status=status,
                raw_status=words[statuses.index(status)] if statuses else None,
            ))
        incidents: list[Incident] = []
        maintenances: list[Maintenance] = []
        known = {c.id for c in components}
        for key, copies in grouped.items():
            notice = parse_event(key, copies, known)
            if isinstance(notice, Maintenance):
                maintenances.append(notice)
            else:
                incidents.append(notice)
        incidents.sort(key=started_sort_key)
        maintenances.sort(key=started_sort_key)
        banner = text_or_none(doc.get("drMessage")) if doc.get("drpost") else None
        return Snapshot(
            platform=self.platform,
            name="Apple Developer System Status" if "developer" in (base_url or "").lower() else "Apple System Status",
            url=base_url,
            status=stated_or_worst(None, components),
            description=strip_html(banner) if banner else None,
            components=components, incidents=incidents, maintenances=maintenances,
        )


def _is_open(event: dict[str, Any]) -> bool:
    word = (text_or_none(event.get("eventStatus")) or "").lower()
    if word in CLOSED_WORDS:
        return False
    if word in OPEN_WORDS:
        return True
    return event.get("epochEndDate") in (None, "", 0)


def _started(event: dict[str, Any]) -> bool:
    """Upcoming events do not change a service's state yet."""
    return (text_or_none(event.get("eventStatus")) or "").lower() not in {"upcoming", "scheduled"}


def _time(event: dict[str, Any], epoch_key: str, text_key: str) -> Any:
    return parse_time(event.get(epoch_key)) or parse_time(event.get(text_key))


def parse_event(key: str, copies: list[tuple[str, str | None, dict[str, Any]]],
                known: set[str] | None = None) -> Incident | Maintenance:
    """One event from all the services that list it (their copies may disagree on the status).

    ``affectedServices`` may name services the page does not list: only ``known`` ones are kept.
    """
    first = copies[0][2]
    events = [c[2] for c in copies]
    status_type = text_or_none(first.get("statusType"))
    words = [text_or_none(e.get("eventStatus")) for e in events]
    open_copies = [e for e in events if _is_open(e)]
    raw_status = next((w for e, w in zip(events, words, strict=True) if e in open_copies), None) or words[0]
    starts = [t for t in (_time(e, "epochStartDate", "startDate") for e in events) if t]
    ends = [t for t in (_time(e, "epochEndDate", "endDate") for e in events) if t]
    posted = max((t for t in (parse_time(e.get("datePosted")) for e in events) if t), default=None)
    names = list(dict.fromkeys(name for name, _, _ in copies))
    listed = [str(a).strip() for a in as_list(first.get("affectedServices")) if text_or_none(a)]
    service_ids = [sid for sid in dict.fromkeys(_slug(n) for n in [*names, *listed])
                   if known is None or sid in known]
    users = text_or_none(first.get("usersAffected"))
    impact = max((event_impact(text_or_none(e.get("statusType")), text_or_none(e.get("usersAffected")))
                  for e in events), key=lambda i: SEVERITY[IMPACT_TO_STATUS[i]])
    url = next((redirect for _, redirect, _ in copies if redirect), None)
    message = strip_html(str(first.get("message") or ""))
    body = f"{message}\n\n{users}" if users and users not in message else message
    is_open = bool(open_copies)
    common: dict[str, Any] = {
        "id": key,
        "title": f"{', '.join(names)}: {status_type or 'event'}",
        "raw_status": raw_status,
        "raw_impact": status_type,
        "started_at": min(starts) if starts else None,
        "updated_at": posted,
        "resolved_at": None if is_open else (max(ends) if ends else posted),
        "url": url,
        "component_ids": service_ids,
    }
    if (status_type or "").lower() == "maintenance":
        low = (raw_status or "").lower()
        status = MaintenanceStatus.completed if not is_open else (
            MaintenanceStatus.scheduled if low in {"upcoming", "scheduled"} else MaintenanceStatus.in_progress)
        return Maintenance(**common, status=status, impact=Impact.maintenance,
                           scheduled_for=min(starts) if starts else None, scheduled_until=max(ends) if ends else None,
                           updates=[latest_update(key, status, raw_status, body, posted)])
    status_i = IncidentStatus.investigating if is_open else IncidentStatus.resolved
    return Incident(**common, status=status_i, impact=impact, updates=[latest_update(key, status_i, raw_status, body, posted)])
