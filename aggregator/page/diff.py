"""Pure: (stored snapshot, new snapshot) -> the events that happened in between.

Nothing here reads a clock, a database or the network, so every event kind is tested on
constructed snapshots. Unreachable / recovered are not page content and are decided by the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from aggregator.page.model import Event, Incident, Maintenance, Snapshot
from aggregator.page.vocab import ComponentStatus, EventKind, IncidentStatus, MaintenanceStatus

Notice = Incident | Maintenance


def vanished_notices(previous: Snapshot | None, new: Snapshot) -> list[Notice]:
    """Open incidents and maintenances of ``previous`` that ``new`` no longer lists at all.

    The current view (e.g. Statuspage's summary.json) drops a notice once it is closed, so the
    poller looks these up in the platform's history endpoints to learn how and when they ended.
    """
    if previous is None:
        return []
    listed = {n.id for n in (*new.incidents, *new.maintenances)}
    return [n for n in (*previous.incidents, *previous.maintenances) if n.is_open and n.id not in listed]


def diff(previous: Snapshot | None, new: Snapshot, observed_at: datetime,
         history: Mapping[str, Notice] | None = None) -> list[Event]:
    """The events between two snapshots of one provider, in a stable order.

    ``previous`` None is the first sight of the provider: its state is recorded as one
    ``provider.status_changed`` event carrying the initial component states (so that uptime can
    be computed from the log) plus one event per open incident or maintenance, never one per
    component. ``history`` maps ids of vanished notices to how the platform says they ended.
    """
    provider = new.provider or ""
    event = _event_factory(provider, observed_at)

    if previous is None:
        return first_sight(provider, new.name, new.status, new.description,
                           {c.id: c.status.value for c in new.components}, new.incidents, new.maintenances,
                           observed_at)
    events: list[Event] = []

    if previous.status != new.status:
        events.append(event(EventKind.provider_status_changed, provider, new.name, previous.status.value,
                            new.status.value, description=new.description))

    old_components = {c.id: c for c in previous.components}
    new_components = {c.id: c for c in new.components}
    for cid, comp in new_components.items():
        before = old_components.get(cid)
        if before is None:
            events.append(event(EventKind.component_added, cid, comp.name, None, comp.status.value,
                                comp.updated_at, group=comp.group, region=comp.region))
        elif before.status != comp.status:
            events.append(event(EventKind.component_status_changed, cid, comp.name, before.status.value,
                                comp.status.value, comp.updated_at, group=comp.group, region=comp.region,
                                raw_status=comp.raw_status))
    for cid, comp in old_components.items():
        if cid not in new_components:
            events.append(event(EventKind.component_removed, cid, comp.name, comp.status.value, None,
                                group=comp.group, region=comp.region))

    events.extend(_incident_events(previous, new, event, history or {}))
    events.extend(_maintenance_events(previous, new, event, history or {}))
    return events


def first_sight(provider: str, name: str | None, status: ComponentStatus, description: str | None,
                components: Mapping[str, str], incidents: list[Incident], maintenances: list[Maintenance],
                observed_at: datetime) -> list[Event]:
    """The events of a provider seen for the first time (``diff(None, page)``), from its parts:
    one ``provider.status_changed`` carrying the component states, one per open notice."""
    event = _event_factory(provider, observed_at)
    events = [event(EventKind.provider_status_changed, provider, name, None, status.value, first_sight=True,
                    description=description, components=dict(components))]
    for incident in incidents:
        if incident.is_open:
            events.append(event(EventKind.incident_opened, incident.id, incident.title, None, incident.status.value,
                                incident.started_at, first_sight=True, **_notice_detail(incident)))
    for maint in maintenances:
        if maint.is_open:
            kind = (EventKind.maintenance_scheduled if maint.status == MaintenanceStatus.scheduled
                    else EventKind.maintenance_started)
            events.append(event(kind, maint.id, maint.title, None, maint.status.value,
                                maint.scheduled_for or maint.started_at, first_sight=True, **_notice_detail(maint)))
    return events


def _event_factory(provider: str, observed_at: datetime) -> Callable[..., Event]:
    """``event(kind, subject_id, subject_name, old, new, occurred_at=None, **detail)`` for one
    provider's changes observed at one time (details that are None are left out)."""

    def event(kind: EventKind, subject_id: str | None, subject_name: str | None, old: str | None,
              new_value: str | None, occurred_at: datetime | None = None, **detail: object) -> Event:
        return Event(kind=kind, provider=provider, subject_id=subject_id, subject_name=subject_name, old=old,
                     new=new_value, observed_at=observed_at, occurred_at=occurred_at,
                     detail={k: v for k, v in detail.items() if v is not None} or None)

    return event


def _notice_detail(notice: Notice) -> dict[str, object]:
    latest = notice.latest_update
    return {
        "impact": notice.impact.value,
        "url": notice.url,
        "component_ids": notice.component_ids or None,
        "regions": notice.regions or None,
        "latest_update": latest.body[:2000] if latest else None,
    }


def _new_update_ids(before: Notice, after: Notice) -> list[str]:
    known = {u.id for u in before.updates}
    return [u.id for u in after.updates if u.id not in known]


def _incident_events(previous: Snapshot, new: Snapshot, event, history: Mapping[str, Notice]) -> list[Event]:
    out: list[Event] = []
    old = {i.id: i for i in previous.incidents}
    for inc in new.incidents:
        before = old.get(inc.id)
        if before is None:
            out.append(event(EventKind.incident_opened, inc.id, inc.title, None,
                             IncidentStatus.investigating.value if not inc.is_open else inc.status.value,
                             inc.started_at, **_notice_detail(inc)))
            if not inc.is_open:
                out.append(event(EventKind.incident_resolved, inc.id, inc.title, None, inc.status.value,
                                 inc.resolved_at or inc.updated_at, **_notice_detail(inc)))
            continue
        if before.is_open and not inc.is_open:
            out.append(event(EventKind.incident_resolved, inc.id, inc.title, before.status.value,
                             inc.status.value, inc.resolved_at or _latest_time(inc), **_notice_detail(inc)))
        elif before.status != inc.status or _new_update_ids(before, inc) or before.impact != inc.impact:
            out.append(event(EventKind.incident_updated, inc.id, inc.title, before.status.value,
                             inc.status.value, _latest_time(inc), old_impact=before.impact.value
                             if before.impact != inc.impact else None, **_notice_detail(inc)))
    listed = {i.id for i in new.incidents}
    for inc in previous.incidents:
        if inc.is_open and inc.id not in listed:
            ended = history.get(inc.id)
            resolved_at = ended.resolved_at or _latest_time(ended) if isinstance(ended, Incident) else None
            status = ended.status.value if isinstance(ended, Incident) and not ended.is_open \
                else IncidentStatus.resolved.value
            out.append(event(EventKind.incident_resolved, inc.id, inc.title, inc.status.value, status,
                             resolved_at, reason=None if ended is not None else "no longer listed on the page",
                             **_notice_detail(ended if isinstance(ended, Incident) else inc)))
    return out


def _maintenance_events(previous: Snapshot, new: Snapshot, event, history: Mapping[str, Notice]) -> list[Event]:
    out: list[Event] = []
    old = {m.id: m for m in previous.maintenances}
    running = {MaintenanceStatus.in_progress, MaintenanceStatus.verifying}
    for maint in new.maintenances:
        before = old.get(maint.id)
        if before is None or (before.status == MaintenanceStatus.scheduled and maint.status != before.status):
            old_status = before.status.value if before else None
            if before is None:
                out.append(event(EventKind.maintenance_scheduled, maint.id, maint.title, None,
                                 MaintenanceStatus.scheduled.value, maint.scheduled_for, **_notice_detail(maint)))
            if maint.status in running or maint.status == MaintenanceStatus.completed:
                out.append(event(EventKind.maintenance_started, maint.id, maint.title,
                                 old_status or MaintenanceStatus.scheduled.value,
                                 MaintenanceStatus.in_progress.value,
                                 maint.started_at or maint.scheduled_for, **_notice_detail(maint)))
            if maint.status == MaintenanceStatus.completed:
                out.append(event(EventKind.maintenance_completed, maint.id, maint.title,
                                 MaintenanceStatus.in_progress.value, maint.status.value,
                                 maint.resolved_at or maint.scheduled_until, **_notice_detail(maint)))
            continue
        if before.status in running and maint.status == MaintenanceStatus.completed:
            out.append(event(EventKind.maintenance_completed, maint.id, maint.title, before.status.value,
                             maint.status.value, maint.resolved_at or _latest_time(maint), **_notice_detail(maint)))
    listed = {m.id for m in new.maintenances}
    for maint in previous.maintenances:
        if maint.is_open and maint.id not in listed:
            ended = history.get(maint.id)
            done = ended if isinstance(ended, Maintenance) else None
            if maint.status == MaintenanceStatus.scheduled and (done is None or done.status != MaintenanceStatus.completed):
                # A scheduled window that vanished without running was cancelled or moved: say so.
                out.append(event(EventKind.maintenance_completed, maint.id, maint.title, maint.status.value,
                                 MaintenanceStatus.completed.value, None, reason="no longer listed on the page",
                                 **_notice_detail(maint)))
                continue
            out.append(event(EventKind.maintenance_completed, maint.id, maint.title, maint.status.value,
                             MaintenanceStatus.completed.value,
                             (done.resolved_at or done.scheduled_until) if done else None,
                             reason=None if done else "no longer listed on the page", **_notice_detail(done or maint)))
    return out


def _latest_time(notice: Notice) -> datetime | None:
    latest = notice.latest_update
    if latest and latest.created_at:
        return latest.created_at
    return notice.updated_at
