"""Sorry™ adapter: the public page API (status, components, notices)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.sorry import SorryAdapter
from tests.conftest import FIXTURES

FIX = FIXTURES / "sorry"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> SorryAdapter:
    return SorryAdapter()


def test_registered_and_endpoints(adapter: SorryAdapter) -> None:
    assert isinstance(get_adapter("sorry"), SorryAdapter)
    assert [(e.key, e.url, e.required) for e in adapter.endpoints("https://status.acme.example")] == [
        ("status", "https://status.acme.example/api/v1/status", True),
        ("components", "https://status.acme.example/api/v1/components", False),
        ("notices", "https://status.acme.example/api/v1/notices", False),
    ]


@pytest.mark.parametrize(("name", "key"), [
    ("status-operational.json", "status"), ("components.json", "components"), ("notices.json", "notices")])
def test_classify(adapter: SorryAdapter, name: str, key: str) -> None:
    assert adapter.classify(body(name), name) == key


def test_status_only_operational(adapter: SorryAdapter) -> None:
    snap = adapter.parse({"status": body("status-operational.json")})
    assert (snap.platform, snap.name, snap.url) == ("sorry", "Acme Status", "https://status.acme.example")
    assert snap.status is ComponentStatus.operational and snap.raw_status == "operational"
    assert snap.components == [] and snap.incidents == []


def test_degraded_page_components_and_notices(adapter: SorryAdapter) -> None:
    snap = adapter.parse({"status": body("status-degraded.json"), "components": body("components.json"),
                          "notices": body("notices.json")})
    assert snap.status is ComponentStatus.degraded_performance and snap.raw_status == "degraded"
    assert snap.description == "Some systems are degraded"
    # "Platform" is a parent: a group, not a component.
    assert [(c.id, c.name, c.group, c.status) for c in snap.components] == [
        ("2", "API", "Platform", ComponentStatus.degraded_performance),
        ("3", "Dashboard", "Platform", ComponentStatus.operational),
        ("4", "Email", None, ComponentStatus.under_maintenance),
        ("5", "Webhooks", None, ComponentStatus.unknown),
    ]
    assert snap.component("5").raw_status == "on_fire"

    by_id = {i.id: i for i in snap.incidents}
    api = by_id["198801"]
    assert api.status is IncidentStatus.monitoring and api.raw_status == "recovering"
    assert api.impact is Impact.minor and api.component_ids == ["2"]
    assert api.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)
    assert api.url == "https://status.acme.example/notices/abc123-api-errors"
    false_alarm = by_id["198790"]
    assert false_alarm.status is IncidentStatus.resolved and false_alarm.raw_status == "false_alarm"
    assert false_alarm.resolved_at == datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    general = by_id["198780"]
    assert general.impact is Impact.none and general.status is IncidentStatus.investigating
    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.in_progress and maintenance.raw_status == "underway"
    assert maintenance.scheduled_for == datetime(2026, 5, 3, 12, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 5, 3, 16, tzinfo=UTC)


def test_html_and_wrong_shape(adapter: SorryAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"status": b"<html><head><title>Acme</title></head></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"status": b'{"state": "operational"}'})
    with pytest.raises(ParseError):
        adapter.parse({"status": body("status-operational.json"), "notices": b'{"items": []}'})
