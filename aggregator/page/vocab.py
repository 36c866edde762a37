"""The vocabulary of a status page: statuses, impacts, their ladders, event kinds.

Plain enums and tables of the standard library, so that readers which never build a model
(reports, the outbox, the fast query commands) share the one ladder without importing pydantic.
The words are Atlassian Statuspage's, the lingua franca of status pages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def to_utc(value: datetime) -> datetime:
    """Normalise to UTC; a naive time is taken to be UTC already (adapters localise first)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)




def iso_z(value: datetime | None) -> str | None:
    """An aware time as the ISO 8601 UTC string ending in ``Z`` that the database and exports use."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


class ComponentStatus(StrEnum):
    operational = "operational"
    under_maintenance = "under_maintenance"
    degraded_performance = "degraded_performance"
    partial_outage = "partial_outage"
    major_outage = "major_outage"
    unknown = "unknown"


# Severity ladder: unknown sorts below operational so it never masks a real status in "worst of".
SEVERITY: dict[ComponentStatus, int] = {
    ComponentStatus.unknown: -1,
    ComponentStatus.operational: 0,
    ComponentStatus.under_maintenance: 1,
    ComponentStatus.degraded_performance: 2,
    ComponentStatus.partial_outage: 3,
    ComponentStatus.major_outage: 4,
}


def worst_status(statuses: Any) -> ComponentStatus:
    """The most severe of ``statuses``; operational for none, unknown if all are unknown."""
    seen = [ComponentStatus(s) for s in statuses]
    if not seen:
        return ComponentStatus.operational
    return max(seen, key=SEVERITY.__getitem__)


STATUS_BY_WORD = {s.value: s for s in ComponentStatus if s is not ComponentStatus.unknown} | {
    "full_outage": ComponentStatus.major_outage}


def component_status(raw: Any) -> ComponentStatus:
    """A component status from its Statuspage word, any case or padding (unknown for anything else)."""
    status = STATUS_BY_WORD.get(raw) if raw.__class__ is str else None  # the usual exact word, looked up once
    if status is not None:
        return status
    return STATUS_BY_WORD.get(str(raw or "").strip().lower(), ComponentStatus.unknown)


class Impact(StrEnum):
    none = "none"
    minor = "minor"
    major = "major"
    critical = "critical"
    maintenance = "maintenance"


IMPACT_RANK: dict[Impact, int] = {
    Impact.none: 0,
    Impact.maintenance: 0,
    Impact.minor: 1,
    Impact.major: 2,
    Impact.critical: 3,
}


class IncidentStatus(StrEnum):
    investigating = "investigating"
    identified = "identified"
    monitoring = "monitoring"
    resolved = "resolved"
    postmortem = "postmortem"


class MaintenanceStatus(StrEnum):
    scheduled = "scheduled"
    in_progress = "in_progress"
    verifying = "verifying"
    completed = "completed"


INCIDENT_CLOSED = {IncidentStatus.resolved, IncidentStatus.postmortem}
MAINTENANCE_CLOSED = {MaintenanceStatus.completed}

# The page's overall indicator (Statuspage's words) and the component ladder, both ways.
INDICATOR_TO_STATUS: dict[str, ComponentStatus] = {
    "none": ComponentStatus.operational,
    "maintenance": ComponentStatus.under_maintenance,
    "minor": ComponentStatus.degraded_performance,
    "major": ComponentStatus.partial_outage,
    "critical": ComponentStatus.major_outage,
}
IMPACT_TO_STATUS: dict[Impact, ComponentStatus] = {
    Impact.none: ComponentStatus.operational,
    Impact.maintenance: ComponentStatus.under_maintenance,
    Impact.minor: ComponentStatus.degraded_performance,
    Impact.major: ComponentStatus.partial_outage,
    Impact.critical: ComponentStatus.major_outage,
}


class EventKind(StrEnum):
    provider_status_changed = "provider.status_changed"
    component_added = "component.added"
    component_removed = "component.removed"
    component_status_changed = "component.status_changed"
    incident_opened = "incident.opened"
    incident_updated = "incident.updated"
    incident_resolved = "incident.resolved"
    maintenance_scheduled = "maintenance.scheduled"
    maintenance_started = "maintenance.started"
    maintenance_completed = "maintenance.completed"
    provider_unreachable = "provider.unreachable"
    provider_recovered = "provider.recovered"
