"""Instatus adapter: /summary.json and /v3/components.json."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.instatus import InstatusAdapter
from tests.conftest import FIXTURES, corpus_file

FIX = FIXTURES / "instatus"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> InstatusAdapter:
    return InstatusAdapter()


def test_registered_and_endpoints(adapter: InstatusAdapter) -> None:
    assert isinstance(get_adapter("instatus"), InstatusAdapter)
    assert [(e.key, e.url, e.required) for e in adapter.endpoints("https://status.acme.example/")] == [
        ("summary", "https://status.acme.example/summary.json", True),
        ("components", "https://status.acme.example/v3/components.json", False),
    ]


@pytest.mark.parametrize(("name", "key"), [
    ("summary-up.json", "summary"), ("summary-hasissues.json", "summary"), ("components.json", "components")])
def test_classify(adapter: InstatusAdapter, name: str, key: str) -> None:
    assert adapter.classify(body(name), name) == key


def test_all_up_without_optional_keys(adapter: InstatusAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-up.json")})
    assert (snap.platform, snap.name, snap.url) == ("instatus", "Acme", "https://status.acme.example")
    assert snap.status is ComponentStatus.operational and snap.raw_status == "UP"
    assert snap.incidents == [] and snap.maintenances == []


def test_incident_open_while_page_says_up(adapter: InstatusAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-incident-while-up.json")})
    # The page word stays UP, the open major outage decides.
    assert snap.raw_status == "UP" and snap.status is ComponentStatus.major_outage
    (incident,) = snap.incidents
    assert incident.id == "cl4a1b2c3000109l5d6e7f8g9"  # no id key: taken from the URL
    assert incident.status is IncidentStatus.identified and incident.raw_status == "IDENTIFIED"
    assert incident.impact is Impact.critical and incident.raw_impact == "MAJOROUTAGE"
    assert incident.started_at == datetime(2022, 6, 11, 18, 55, 50, tzinfo=UTC)  # JS Date.toString
    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.in_progress
    assert maintenance.scheduled_for == datetime(2022, 6, 11, 15, 30, tzinfo=UTC)  # GMT+0200
    assert maintenance.scheduled_until == datetime(2022, 6, 11, 17, 0, tzinfo=UTC)  # "90" minutes
    assert maintenance.started_at == maintenance.scheduled_for


def test_hasissues_with_unknown_words(adapter: InstatusAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-hasissues.json")})
    assert snap.status is ComponentStatus.degraded_performance and snap.raw_status == "HASISSUES"
    by_id = {i.id: i for i in snap.incidents}
    slow = by_id["cmab12cd3000001l8ef45gh67"]
    assert slow.status is IncidentStatus.monitoring and slow.impact is Impact.minor
    assert slow.updated_at == datetime(2026, 5, 3, 14, tzinfo=UTC)
    odd = by_id["cmab34ef5000002l8gh67ij89"]
    assert odd.status is IncidentStatus.investigating and odd.raw_status == "TRIAGING"
    assert odd.impact is Impact.none and odd.raw_impact == "SEVEREOUTAGE"
    assert [i.id for i in snap.incidents] == ["cmab12cd3000001l8ef45gh67", "cmab34ef5000002l8gh67ij89"]
    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.scheduled and maintenance.started_at is None
    assert maintenance.scheduled_until == datetime(2026, 5, 10, 4, tzinfo=UTC)  # 120 as a number


def test_components_nested_groups_take_nearest_group(adapter: InstatusAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-up.json"), "components": body("components.json")})
    # "Platform" and "APIs" are groups (other components point at them), so not components.
    assert [(c.name, c.group) for c in snap.components] == [
        ("REST API", "APIs"), ("GraphQL API", "APIs"), ("Dashboard", "Platform"),
        ("Email delivery", None), ("SMS", None)]
    by_name = {c.name: c for c in snap.components}
    assert by_name["GraphQL API"].status is ComponentStatus.partial_outage  # MINOROUTAGE
    assert by_name["Email delivery"].status is ComponentStatus.under_maintenance
    assert by_name["SMS"].status is ComponentStatus.unknown and by_name["SMS"].raw_status == "FLAPPING"
    assert by_name["Dashboard"].description == "The web app" and by_name["REST API"].description is None
    # Page says UP, components disagree: the worst wins.
    assert snap.status is ComponentStatus.partial_outage


def test_html_and_wrong_shapes(adapter: InstatusAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"summary": b"<!doctype html><html><title>Acme</title></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"summary": b'{"hello": "world"}'})
    with pytest.raises(ParseError):
        adapter.parse({"summary": body("summary-up.json"), "components": b'{"items": []}'})


# --- real captures -------------------------------------------------------------------------------

def test_corpus_gcore_scheduled_maintenances(adapter: InstatusAdapter) -> None:
    path = corpus_file("instatus", "gcore-summary-2026-09-scheduled-maintenances.json")
    snap = adapter.parse({adapter.classify(path.read_bytes(), path.name): path.read_bytes()})
    assert (snap.name, snap.raw_status, snap.status) == ("Gcore", "UP", ComponentStatus.operational)
    assert snap.incidents == []  # activeIncidents is absent
    assert [m.id for m in snap.maintenances] == ["cmsdeath700px0zppe9l2xz6p", "cmtlnoty400tz1bk3ehvx261c"]
    by_id = {m.id: m for m in snap.maintenances}
    chicago = by_id["cmtlnoty400tz1bk3ehvx261c"]
    assert chicago.status is MaintenanceStatus.scheduled and chicago.raw_status == "NOTSTARTEDYET"
    assert chicago.scheduled_for == datetime(2026, 9, 10, 8, tzinfo=UTC)
    assert chicago.scheduled_until == datetime(2026, 9, 10, 8, 15, tzinfo=UTC)  # duration 15
    glob = by_id["cmsdeath700px0zppe9l2xz6p"]
    assert glob.scheduled_until == datetime(2026, 9, 14, 9, tzinfo=UTC)  # duration 240
    assert glob.updated_at == datetime(2026, 8, 7, 9, 19, 45, 701000, tzinfo=UTC)


def test_corpus_gcore_components(adapter: InstatusAdapter) -> None:
    path = corpus_file("instatus", "gcore-v3-components-2026-09-truncated.json")
    raw = path.read_bytes()
    assert adapter.classify(raw, path.name) == "components"
    snap = adapter.parse({"components": raw})
    # Six entries, three of which are groups (Gcore Systems, CDN, Global services).
    assert [(c.name, c.group) for c in snap.components] == [
        ("API", "Gcore Systems"), ("Advanced Analytics", "Global services"), ("API Documentation", "Gcore Systems")]
    assert all(c.status is ComponentStatus.operational and c.raw_status == "OPERATIONAL" for c in snap.components)
    assert snap.status is ComponentStatus.operational


def test_corpus_demo_two_open_incidents(adapter: InstatusAdapter) -> None:
    path = corpus_file("instatus", "instatus-demo-summary-2025-10-two-open-incidents.json")
    snap = adapter.parse({"summary": path.read_bytes()})
    assert (snap.name, snap.url, snap.raw_status) == ("testing-sms", "https://instatus.instatus.com", "HASISSUES")
    assert snap.status is ComponentStatus.partial_outage  # worst open impact: PARTIALOUTAGE
    assert snap.maintenances == []  # activeMaintenances is absent
    assert [(i.id, i.title, i.impact) for i in snap.incidents] == [
        ("clq3wc2ap1350bronl8974nko", "partial", Impact.major),
        ("clq3wa0jh18301b7ogv9747apy", "degraded", Impact.minor)]
    assert all(i.status is IncidentStatus.investigating for i in snap.incidents)
    assert snap.incidents[0].started_at == datetime(2023, 12, 13, 14, 58, 14, 917000, tzinfo=UTC)
