"""The normalised model of a status page: the public, exported contract.

The vocabulary is Atlassian Statuspage's (the lingua franca of status pages). Adapters for other
platforms map into it and keep the platform's own word in ``raw_status`` so nothing is lost.
Every time is a timezone-aware UTC datetime.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aggregator.page.vocab import (
    INCIDENT_CLOSED,
    MAINTENANCE_CLOSED,
    ComponentStatus,
    EventKind,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    to_utc,
)

UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


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
