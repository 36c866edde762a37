"""The normalised model of a status page: the public, exported contract.

The vocabulary is Atlassian Statuspage's (the lingua franca of status pages). Adapters for other
platforms map into it and keep the platform's own word in ``raw_status`` so nothing is lost.
Every time is a timezone-aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def to_utc(value: datetime) -> datetime:
    """Normalise to UTC; a naive time is taken to be UTC already (adapters localise first)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class Component(_Model):
    id: str
    name: str
    group: str | None = Field(None, description="Name of the component group this belongs to")
    status: ComponentStatus = ComponentStatus.unknown
    raw_status: str | None = Field(None, description="The platform's own status word")
    description: str | None = None
    position: int | None = None
    updated_at: UtcDatetime | None = None
    region: str | None = Field(None, description="Region or location this component covers")
    only_show_if_degraded: bool = False


class Update(_Model):
    id: str
    status: str = Field(description="IncidentStatus or MaintenanceStatus value at this update")
    raw_status: str | None = None
    body: str = ""
    created_at: UtcDatetime | None = None


class _Notice(_Model):
    id: str
    title: str
    impact: Impact = Impact.none
    raw_impact: str | None = None
    raw_status: str | None = None
    started_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    url: str | None = None
    component_ids: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    updates: list[Update] = Field(default_factory=list, description="Newest first")

    @property
    def latest_update(self) -> Update | None:
        return self.updates[0] if self.updates else None


class Incident(_Notice):
    status: IncidentStatus = IncidentStatus.investigating

    @property
    def is_open(self) -> bool:
        return self.status not in INCIDENT_CLOSED


class Maintenance(_Notice):
    impact: Impact = Impact.maintenance
    status: MaintenanceStatus = MaintenanceStatus.scheduled
    scheduled_for: UtcDatetime | None = None
    scheduled_until: UtcDatetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in MAINTENANCE_CLOSED


class Snapshot(_Model):
    """One provider's page at one moment, as an adapter understood it."""

    provider: str | None = Field(None, description="Provider id (set by the engine)")
    name: str | None = None
    url: str | None = None
    platform: str
    category: str | None = None
    page_id: str | None = None
    fetched_at: UtcDatetime | None = None
    status: ComponentStatus = ComponentStatus.unknown
    raw_status: str | None = None
    description: str | None = None
    components: list[Component] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)
    maintenances: list[Maintenance] = Field(default_factory=list)

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)


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


class Event(_Model):
    """One change observed on a provider's page (a row of the append-only ``events`` table)."""

    seq: int | None = Field(None, description="Position in the event log (set by the store)")
    kind: EventKind
    provider: str
    subject_id: str | None = None
    subject_name: str | None = None
    old: str | None = None
    new: str | None = None
    observed_at: UtcDatetime
    occurred_at: UtcDatetime | None = Field(None, description="The source's own time, where it has one")
    detail: dict[str, Any] | None = Field(None, description="Kind-specific extra facts (impact, region, ...)")


class Health(_Model):
    """How fetching a provider has gone lately (not what the vendor reports)."""

    reachable: bool = True
    last_error: str | None = None
    last_polled_at: UtcDatetime | None = None
    last_success_at: UtcDatetime | None = None
