"""The pure diff: every event kind from constructed snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.page.diff import diff, vanished_notices
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.vocab import ComponentStatus, EventKind, Impact, IncidentStatus, MaintenanceStatus

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def snap(status: str = "operational", components: dict[str, str] | None = None,
         incidents: list[Incident] = (), maintenances: list[Maintenance] = ()) -> Snapshot:
    comps = components if components is not None else {"a": "operational", "b": "operational"}
    return Snapshot(provider="acme", name="Acme", platform="statuspage", status=ComponentStatus(status),
                    components=[Component(id=k, name=k.upper(), status=ComponentStatus(v)) for k, v in comps.items()],
                    incidents=list(incidents), maintenances=list(maintenances))


def incident(status: str = "investigating", updates: int = 1, impact: str = "minor", **kw) -> Incident:
    ups = [Update(id=f"u{i}", status=status, body=f"update {i}", created_at=T0 + timedelta(minutes=i))
           for i in range(updates, 0, -1)]
    return Incident(id="i1", title="Errors", status=IncidentStatus(status), impact=Impact(impact),
                    started_at=T0, updates=ups, url="https://stspg.io/x", **kw)


def maint(status: str) -> Maintenance:
    return Maintenance(id="m1", title="Upgrade", status=MaintenanceStatus(status), scheduled_for=T0,
                       scheduled_until=T0 + timedelta(hours=2))


def kinds(events) -> list[str]:
    return [e.kind.value for e in events]


def test_first_sight_is_one_event_not_one_per_component() -> None:
    events = diff(None, snap(components={f"c{i}": "operational" for i in range(100)}), NOW)
    assert kinds(events) == ["provider.status_changed"]
    assert events[0].detail["first_sight"] is True and len(events[0].detail["components"]) == 100


def test_first_sight_records_open_incidents_and_maintenances() -> None:
    events = diff(None, snap(incidents=[incident()], maintenances=[maint("scheduled")]), NOW)
    assert kinds(events) == ["provider.status_changed", "incident.opened", "maintenance.scheduled"]
    assert all(e.detail["first_sight"] for e in events)


def test_identical_snapshots_give_no_events() -> None:
    assert diff(snap(incidents=[incident()]), snap(incidents=[incident()]), NOW) == []


def test_provider_and_component_changes() -> None:
    events = diff(snap(), snap("major_outage", {"a": "major_outage", "c": "operational"}), NOW)
    assert kinds(events) == ["provider.status_changed", "component.status_changed", "component.added",
                             "component.removed"]
    changed = events[1]
    assert (changed.subject_id, changed.subject_name, changed.old, changed.new) == ("a", "A", "operational",
                                                                                     "major_outage")
    assert (events[3].subject_id, events[3].old, events[3].new) == ("b", "operational", None)


def test_incident_lifecycle() -> None:
    opened = diff(snap(), snap(incidents=[incident()]), NOW)
    assert kinds(opened) == ["incident.opened"]
    assert opened[0].occurred_at == T0 and opened[0].detail["impact"] == "minor"
    updated = diff(snap(incidents=[incident()]), snap(incidents=[incident("identified", updates=2)]), NOW)
    assert kinds(updated) == ["incident.updated"]
    assert (updated[0].old, updated[0].new) == ("investigating", "identified")
    assert updated[0].detail["latest_update"] == "update 2"
    # a new update without a status change is still an update
    assert kinds(diff(snap(incidents=[incident()]), snap(incidents=[incident(updates=2)]), NOW)) == ["incident.updated"]
    resolved = diff(snap(incidents=[incident()]),
                    snap(incidents=[incident("resolved", updates=2, resolved_at=T0 + timedelta(minutes=30))]), NOW)
    assert kinds(resolved) == ["incident.resolved"] and resolved[0].occurred_at == T0 + timedelta(minutes=30)


def test_vanished_incident_resolved_from_history_or_marked_unknown() -> None:
    before, after = snap(incidents=[incident()]), snap()
    assert [n.id for n in vanished_notices(before, after)] == ["i1"]
    ended = incident("resolved", resolved_at=T0 + timedelta(minutes=45))
    (ev,) = diff(before, after, NOW, {"i1": ended})
    assert ev.kind == EventKind.incident_resolved and ev.occurred_at == T0 + timedelta(minutes=45)
    (ev,) = diff(before, after, NOW)
    assert ev.kind == EventKind.incident_resolved and ev.occurred_at is None
    assert ev.detail["reason"] == "no longer listed on the page"


def test_incident_opened_and_resolved_between_polls() -> None:
    events = diff(snap(), snap(incidents=[incident("resolved")]), NOW)
    assert kinds(events) == ["incident.opened", "incident.resolved"]


def test_maintenance_lifecycle() -> None:
    assert kinds(diff(snap(), snap(maintenances=[maint("scheduled")]), NOW)) == ["maintenance.scheduled"]
    assert kinds(diff(snap(maintenances=[maint("scheduled")]), snap(maintenances=[maint("in_progress")]), NOW)) \
        == ["maintenance.started"]
    assert kinds(diff(snap(maintenances=[maint("in_progress")]), snap(maintenances=[maint("verifying")]), NOW)) == []
    assert kinds(diff(snap(maintenances=[maint("verifying")]), snap(maintenances=[maint("completed")]), NOW)) \
        == ["maintenance.completed"]
    # vanished while running: completed
    (ev,) = diff(snap(maintenances=[maint("in_progress")]), snap(), NOW)
    assert ev.kind == EventKind.maintenance_completed
    # seen only once it had already run: all three, in order
    assert kinds(diff(snap(), snap(maintenances=[maint("completed")]), NOW)) == [
        "maintenance.scheduled", "maintenance.started", "maintenance.completed"]


def test_events_carry_provider_and_times() -> None:
    (ev,) = diff(snap(), snap(components={"a": "partial_outage", "b": "operational"}), NOW)
    assert ev.provider == "acme" and ev.observed_at == NOW
