"""status.io adapter: the public status API, components x containers, incidents and maintenance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.statusio import StatusIOAdapter
from tests.conftest import FIXTURES, corpus_file

FIX = FIXTURES / "statusio"
API = "5a1b2c3d4e5f60718293a4b6"
US, EU = "5a1b2c3d4e5f60718293c001", "5a1b2c3d4e5f60718293c002"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> StatusIOAdapter:
    return StatusIOAdapter()


@pytest.mark.parametrize("base_url", [
    "https://api.status.io/1.0/status/533c6539221ae15e3f000031",
    "https://status.docker.com/pages/533c6539221ae15e3f000031",
    "https://status.docker.com/#533C6539221AE15E3F000031",
])
def test_endpoints_from_any_url_with_the_page_id(adapter: StatusIOAdapter, base_url: str) -> None:
    assert [(e.key, e.url) for e in adapter.endpoints(base_url)] == [
        ("status", "https://api.status.io/1.0/status/533c6539221ae15e3f000031")]


def test_endpoints_need_the_page_id(adapter: StatusIOAdapter) -> None:
    assert isinstance(get_adapter("statusio"), StatusIOAdapter)
    with pytest.raises(ParseError, match="page id is needed"):
        adapter.endpoints("https://status.gitlab.com/")


def test_all_operational_and_container_split(adapter: StatusIOAdapter) -> None:
    snap = adapter.parse({"status": body("status-operational.json")},
                         "https://status.acme.example/pages/5a1b2c3d4e5f60718293a4b5")
    assert snap.platform == "statusio" and snap.page_id == "5a1b2c3d4e5f60718293a4b5"
    assert snap.url == "https://status.acme.example/pages/5a1b2c3d4e5f60718293a4b5"
    assert snap.status is ComponentStatus.operational and snap.raw_status == "Operational"
    assert [(c.id, c.name, c.group, c.region) for c in snap.components] == [
        ("5a1b2c3d4e5f60718293a4b5", "Website", None, "AWS us-east-1"),
        (f"{API}/{US}", "AWS us-east-1", "API", "AWS us-east-1"),
        (f"{API}/{EU}", "AWS eu-west-1", "API", "AWS eu-west-1"),
    ]
    assert snap.incidents == [] and snap.maintenances == []


def test_security_event_incident_and_upcoming_maintenance(adapter: StatusIOAdapter) -> None:
    snap = adapter.parse({"status": body("status-incident.json")}, "https://api.status.io/1.0/status/" + "a" * 24)
    assert snap.url is None and snap.page_id == "a" * 24
    assert snap.status is ComponentStatus.major_outage and snap.raw_status == "Security Event"
    eu = snap.component(f"{API}/{EU}")
    assert eu.status is ComponentStatus.major_outage and eu.raw_status == "Security Event"
    assert snap.component(f"{API}/{US}").status is ComponentStatus.operational
    webhooks = snap.component("5a1b2c3d4e5f60718293a4b7")
    assert webhooks.status is ComponentStatus.unknown and webhooks.raw_status == "Unusual"
    assert webhooks.region is None

    (incident,) = snap.incidents
    assert incident.title == "https://acme.example/security-notice"  # raw URL names happen
    assert incident.status is IncidentStatus.identified and incident.raw_status == "200"
    assert incident.impact is Impact.critical and incident.raw_impact == "600"
    assert incident.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)
    assert incident.updated_at == datetime(2026, 5, 3, 14, 20, tzinfo=UTC)
    assert incident.regions == ["AWS eu-west-1"]
    # Only the affected container of the split component, plus the unsplit one.
    assert incident.component_ids == [f"{API}/{EU}", "5a1b2c3d4e5f60718293a4b5"]
    assert [(u.id, u.status) for u in incident.updates] == [
        ("5f0000000000000000000001/1", "identified"), ("5f0000000000000000000001/0", "investigating")]
    assert incident.updates[0].body.startswith("We have identified unauthorised access")

    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.scheduled
    assert maintenance.scheduled_for == datetime(2026, 5, 10, 2, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 5, 10, 4, tzinfo=UTC)
    assert maintenance.regions == ["AWS us-east-1", "AWS eu-west-1"]
    assert maintenance.component_ids == [f"{API}/{US}", f"{API}/{EU}"]


def test_overall_maintenance_while_components_operational(adapter: StatusIOAdapter) -> None:
    snap = adapter.parse({"status": body("status-maintenance-overall.json")})
    assert snap.status is ComponentStatus.under_maintenance and snap.raw_status == "Planned Maintenance"
    assert all(c.status is ComponentStatus.operational for c in snap.components)
    assert snap.incidents == []  # no incidents key at all
    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.in_progress
    assert maintenance.started_at == datetime(2026, 5, 4, 2, tzinfo=UTC)
    # The message posted before the planned start was the announcement.
    assert [u.status for u in maintenance.updates] == ["in_progress", "scheduled"]


def test_html_and_wrong_shape(adapter: StatusIOAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"status": b"<html><head><title>Status</title></head></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"status": b'{"status": {"error": "yes", "code": 404}}'})


# --- real captures -------------------------------------------------------------------------------

def test_corpus_docker_2020_07_partial_disruption(adapter: StatusIOAdapter) -> None:
    raw = corpus_file("statusio", "docker-status-2020-07-partial-disruption.json").read_bytes()
    snap = adapter.parse({adapter.classify(raw): raw}, "https://api.status.io/1.0/status/533c6539221ae15e3f000031")
    assert snap.page_id == "533c6539221ae15e3f000031"
    assert snap.status is ComponentStatus.partial_outage and snap.raw_status == "Partial Service Disruption"
    assert len(snap.components) == 8 and all(c.region == "AWS" for c in snap.components)
    builds = snap.component("5342bc9420974b775d000008")
    assert builds.name == "Docker Hub Automated Builds" and builds.status is ComponentStatus.partial_outage
    assert sum(c.status is ComponentStatus.operational for c in snap.components) == 7
    (incident,) = snap.incidents
    assert (incident.id, incident.title) == ("5f108cc06e9c9104c0553a46", "Docker Hub automated builds issue")
    assert incident.status is IncidentStatus.investigating and incident.impact is Impact.major
    assert len(incident.updates) == 1
    assert incident.updates[0].created_at == datetime(2020, 7, 16, 17, 22, 8, 369000, tzinfo=UTC)
    assert incident.component_ids == ["5342bc9420974b775d000008"] and incident.regions == ["AWS"]
    assert snap.maintenances == []


def test_corpus_gitlab_2020_09_maintenance(adapter: StatusIOAdapter) -> None:
    raw = corpus_file("statusio", "gitlab-status-2020-09-maintenance.json").read_bytes()
    snap = adapter.parse({"status": raw})
    assert snap.status is ComponentStatus.under_maintenance and snap.raw_status == "Planned Maintenance"
    assert len(snap.components) == 15
    dashboards = snap.component("5f4e8819413cdd04b6882c94")
    assert dashboards.name == "dashboards.gitlab.com" and dashboards.status is ComponentStatus.under_maintenance
    assert dashboards.region == "Google Compute Engine"
    assert snap.component("5d02cb79b2e5f00a022b5fb4").region == "Azure"
    (maintenance,) = snap.maintenances
    assert maintenance.title == "Maintenance on dashboards.gitlab.com"
    assert maintenance.status is MaintenanceStatus.in_progress
    assert maintenance.scheduled_for == datetime(2020, 9, 2, 17, 55, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2020, 9, 7, 17, 55, tzinfo=UTC)
    assert len(maintenance.updates) == 2 and maintenance.component_ids == ["5f4e8819413cdd04b6882c94"]
    (incident,) = snap.incidents
    assert incident.title == "500 Error - User Notification Settings"  # trailing space trimmed
    assert incident.status is IncidentStatus.identified and len(incident.updates) == 2
    assert incident.regions == ["Google Compute Engine"]


def test_corpus_docker_2022_04_operational(adapter: StatusIOAdapter) -> None:
    raw = corpus_file("statusio", "docker-status-2022-04.json").read_bytes()
    snap = adapter.parse({"status": raw})
    assert snap.status is ComponentStatus.operational and snap.raw_status == "Operational"
    assert len(snap.components) == 10
    assert all(c.status is ComponentStatus.operational and c.group is None for c in snap.components)
    assert snap.incidents == [] and snap.maintenances == []
