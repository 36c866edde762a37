"""Statuspal adapter: the public v2 summary."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.statuspal import StatuspalAdapter
from tests.conftest import FIXTURES

FIX = FIXTURES / "statuspal"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> StatuspalAdapter:
    return StatuspalAdapter()


@pytest.mark.parametrize(("base_url", "url"), [
    ("https://acme.statuspal.io", "https://statuspal.io/api/v2/status_pages/acme/summary"),
    ("https://acme.statuspal.eu/", "https://statuspal.eu/api/v2/status_pages/acme/summary"),
    ("https://statuspal.eu/api/v2/status_pages/acme/summary", "https://statuspal.eu/api/v2/status_pages/acme/summary"),
    ("https://status.acme.example/#/status_pages/acme", "https://statuspal.io/api/v2/status_pages/acme/summary"),
])
def test_endpoints(adapter: StatuspalAdapter, base_url: str, url: str) -> None:
    assert [(e.key, e.url) for e in adapter.endpoints(base_url)] == [("summary", url)]


def test_endpoints_need_the_subdomain(adapter: StatuspalAdapter) -> None:
    assert isinstance(get_adapter("statuspal"), StatuspalAdapter)
    with pytest.raises(ParseError, match="subdomain is needed"):
        adapter.endpoints("https://status.acme.example")


def test_all_operational(adapter: StatuspalAdapter) -> None:
    snap = adapter.parse({adapter.classify(body("summary-operational.json")): body("summary-operational.json")})
    assert (snap.platform, snap.name, snap.url, snap.page_id) == (
        "statuspal", "Acme", "https://status.acme.example", "acme")
    assert snap.status is ComponentStatus.operational and snap.raw_status is None
    assert [(c.id, c.name, c.status) for c in snap.components] == [
        ("101", "Website", ComponentStatus.operational), ("102", "API", ComponentStatus.operational)]
    assert snap.incidents == [] and snap.maintenances == []


def test_incident_maintenances_and_service_tree(adapter: StatuspalAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-incident.json")})
    assert snap.status is ComponentStatus.major_outage and snap.raw_status == "major"
    # Platform and Workers have children: groups. Members carry their nearest parent's name.
    assert [(c.id, c.name, c.group, c.status) for c in snap.components] == [
        ("101", "Website", None, ComponentStatus.operational),
        ("111", "API", "Platform", ComponentStatus.major_outage),
        ("113", "Email worker", "Workers", ComponentStatus.under_maintenance),
        ("120", "Reports", None, ComponentStatus.unknown),
    ]
    assert snap.component("120").raw_status == "severe"

    incident = next(i for i in snap.incidents if i.id == "5001")
    assert incident.impact is Impact.major and incident.raw_impact == "major"
    assert incident.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)  # zoneless = UTC
    # issue -> investigating, update keeps it, monitoring; newest first.
    assert [(u.id, u.status, u.raw_status) for u in incident.updates] == [
        ("9003", "monitoring", "monitoring"), ("9002", "investigating", "update"), ("9001", "investigating", "issue")]
    assert incident.status is IncidentStatus.monitoring and incident.component_ids == ["111"]

    notice = next(i for i in snap.incidents if i.id == "5004")
    assert notice.impact is Impact.none and notice.is_open

    by_id = {m.id: m for m in snap.maintenances}
    running = by_id["5002"]
    assert running.status is MaintenanceStatus.in_progress and running.component_ids == ["113"]
    assert running.scheduled_until == datetime(2026, 5, 3, 16, tzinfo=UTC)
    upcoming = by_id["5003"]
    assert upcoming.status is MaintenanceStatus.scheduled and upcoming.raw_status == "postponed"
    assert upcoming.scheduled_for == datetime(2026, 5, 10, 2, tzinfo=UTC)


def test_html_and_wrong_shape(adapter: StatuspalAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"summary": b"<!DOCTYPE html><html><title>Statuspal</title></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"summary": b'{"error": "not found"}'})
