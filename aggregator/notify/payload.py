"""The event payload every sink receives, as pydantic models; its JSON Schema is shipped.

The envelope follows Standard Webhooks' recommended shape (``type``, ``timestamp``, ``data``) plus
``id``, the delivery's idempotency key (also sent as the ``webhook-id`` header). The outbox builds
payloads as plain dicts for speed; tests validate every payload a sink receives against
``SCHEMA_PATH``, and check that the shipped file equals ``json_schema()``.

Regenerate the shipped file with ``upstream subscriptions schema -o aggregator/schema/notification-event.schema.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "notification-event.schema.json"
SCHEMA_ID = "https://upstream.invalid/schema/notification-event.schema.json"

PayloadType = Literal[
    "provider.status_changed", "component.added", "component.removed", "component.status_changed",
    "incident.opened", "incident.updated", "incident.resolved", "maintenance.scheduled",
    "maintenance.started", "maintenance.completed", "provider.unreachable", "provider.recovered",
    "component.flapped", "provider.flapped", "provider.reachability_flapped",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PayloadEvent(_Strict):
    """The change, as recorded in the event log (the latest one when several were folded)."""

    seq: int | None = Field(description="Position in the event log")
    kind: str = Field(description="Event kind, e.g. incident.opened, component.status_changed")
    provider: str = Field(description="Provider id")
    subject_id: str | None = Field(description="Id of the component, incident or maintenance (provider id for provider events)")
    subject_name: str | None
    old: str | None = Field(description="Status before the change")
    new: str | None = Field(description="Status after the change")
    observed_at: str = Field(description="When upstream saw the change (UTC ISO-8601)")
    occurred_at: str | None = Field(description="When the page says it happened (UTC ISO-8601), where it says")
    detail: dict[str, Any] | None = Field(description="Kind-specific facts: impact, url, latest_update, region, reason, ...")


class PayloadProvider(_Strict):
    """The provider as upstream knows it right after the change."""

    id: str
    name: str
    url: str = Field(description="The status page")
    platform: str
    category: str | None
    status: str | None = Field(description="The page's overall status now (component status vocabulary)")
    description: str | None = Field(description="The page's own words for its status")
    reachable: bool = Field(description="Whether the last fetch of the page worked")
    last_error: str | None = Field(description="Why the page could not be fetched, when it could not")


class PayloadComponent(_Strict):
    id: str
    name: str
    group: str | None
    region: str | None
    status: str | None = Field(description="Status now (None when the component was removed)")


class PayloadUpdate(_Strict):
    status: str | None
    body: str
    created_at: str | None


class PayloadNoticeComponent(_Strict):
    id: str
    name: str | None


class PayloadNotice(_Strict):
    """An incident or a maintenance, as it stands right after the change."""

    id: str
    title: str
    impact: str = Field(description="none, minor, major, critical or maintenance")
    status: str = Field(description="Incident: investigating..postmortem; maintenance: scheduled..completed")
    url: str | None = Field(description="The notice's page, where the platform gives one")
    started_at: str | None
    resolved_at: str | None
    scheduled_for: str | None
    scheduled_until: str | None
    components: list[PayloadNoticeComponent] = Field(description="Affected components")
    regions: list[str]
    latest_update: PayloadUpdate | None


class PayloadFlap(_Strict):
    """Several changes of one subject within the flap window, folded into this one notification."""

    statuses: list[str] = Field(description="The subject's statuses in order, first to last")
    changes: int = Field(description="Number of changes folded (len(statuses) - 1)")
    event_seqs: list[int]
    first_observed_at: str
    last_observed_at: str
    returned: bool = Field(description="True when the subject ended where it started (it flapped)")


class PayloadSubscription(_Strict):
    id: int
    name: str | None


class PayloadData(_Strict):
    event: PayloadEvent
    provider: PayloadProvider
    component: PayloadComponent | None = Field(description="For component and flapped events")
    incident: PayloadNotice | None = Field(description="For incident.* events")
    maintenance: PayloadNotice | None = Field(description="For maintenance.* events")
    flap: PayloadFlap | None
    subscription: PayloadSubscription
    text: str = Field(description="One line for people, e.g. 'Acme Cloud: REST API operational -> partial outage'")
    test: bool = Field(description="True for the sample sent by `upstream subscriptions test`")


class NotificationPayload(_Strict):
    """One notification from upstream, the status-page aggregator."""

    id: str = Field(description="Idempotency key: the same on every retry of this notification (webhook-id)")
    type: PayloadType = Field(description="The event kind, or *.flapped when changes were folded")
    timestamp: str = Field(description="When the (first) change was observed, UTC ISO-8601")
    data: PayloadData


def json_schema() -> dict[str, Any]:
    schema = NotificationPayload.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
