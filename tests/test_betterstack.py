"""Better Stack adapter: the JSON:API /index.json document."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.betterstack import BetterStackAdapter
from tests.conftest import FIXTURES, corpus_file

FIX = FIXTURES / "betterstack"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> BetterStackAdapter:
    return BetterStackAdapter()


def test_registered_endpoints_classify(adapter: BetterStackAdapter) -> None:
    assert isinstance(get_adapter("betterstack"), BetterStackAdapter)
    assert [(e.key, e.url) for e in adapter.endpoints("https://status.acme.example")] == [
        ("index", "https://status.acme.example/index.json")]
    assert adapter.classify(body("index-incident.json"), "index.json") == "index"


def test_all_operational(adapter: BetterStackAdapter) -> None:
    snap = adapter.parse({"index": body("index-operational.json")})
    assert (snap.platform, snap.name, snap.page_id) == ("betterstack", "Acme", "200001")
    assert snap.url == "https://acme.betteruptime.com"  # no custom domain: the hosted subdomain
    assert snap.status is ComponentStatus.operational and snap.raw_status == "operational"
    assert [(c.id, c.name, c.group, c.position) for c in snap.components] == [
        ("40001", "acme.example", "Website", 0), ("40002", "REST API", "API", 0),
        ("40003", "Webhook delivery", "API", 1)]
    webhook = snap.component("40003")
    assert webhook.status is ComponentStatus.unknown and webhook.raw_status == "not_monitored"
    assert snap.component("40002").description == "api.acme.example"
    assert snap.incidents == [] and snap.maintenances == []


def test_open_report_maintenance_and_dangling_references(adapter: BetterStackAdapter) -> None:
    snap = adapter.parse({"index": body("index-incident.json")})
    assert snap.url == "https://status.acme.example"
    assert snap.status is ComponentStatus.major_outage and snap.raw_status == "downtime"
    assert snap.description == "Webhook deliveries are delayed."
    # Resource 40004 and report 6999 are referenced but not included: skipped.
    assert [c.id for c in snap.components] == ["40001", "40002", "40003"]
    assert snap.component("40002").status is ComponentStatus.major_outage
    assert snap.component("40001").status is ComponentStatus.under_maintenance
    # A not_monitored resource takes the state the open report gives it.
    webhook = snap.component("40003")
    assert webhook.status is ComponentStatus.degraded_performance and webhook.raw_status == "not_monitored"

    assert [i.id for i in snap.incidents] == ["7001", "7003"]
    outage, slow = snap.incidents
    assert outage.status is IncidentStatus.investigating and outage.raw_status == "downtime"
    assert outage.impact is Impact.critical
    assert outage.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)  # +02:00 offset normalised
    assert outage.component_ids == ["40002", "40003"]
    # Update 8000 is referenced but absent; the two included ones, newest first.
    assert [u.id for u in outage.updates] == ["8002", "8001"]
    assert outage.updates[0].created_at == datetime(2026, 5, 3, 14, 20, tzinfo=UTC)
    assert outage.updates[1].body.startswith("The REST API is down.")
    assert outage.resolved_at is None and outage.is_open

    assert slow.status is IncidentStatus.resolved and slow.impact is Impact.minor
    assert slow.resolved_at == datetime(2026, 4, 20, 11, 30, tzinfo=UTC)  # newest update's published_at
    assert [u.status for u in slow.updates] == ["resolved", "investigating"]

    (maintenance,) = snap.maintenances
    assert maintenance.id == "7002" and maintenance.status is MaintenanceStatus.in_progress
    assert maintenance.scheduled_for == datetime(2026, 5, 3, 14, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 5, 3, 16, tzinfo=UTC)
    assert maintenance.component_ids == ["40001"]


def test_not_a_status_page(adapter: BetterStackAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"index": b"<!DOCTYPE html><html><head><title>Better Stack</title></head></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"index": b'{"data": {"id": "1", "type": "monitor"}}'})
    with pytest.raises(ParseError):
        adapter.parse({"summary": body("index-operational.json")})


# --- real capture --------------------------------------------------------------------------------

def test_corpus_betterstack_trimmed(adapter: BetterStackAdapter) -> None:
    path = corpus_file("betterstack", "betterstack-index-2026-09-trimmed.json")
    snap = adapter.parse({"index": path.read_bytes()})
    assert (snap.name, snap.page_id, snap.url) == ("Better Stack", "133002", "https://status.betterstack.com")
    assert snap.status is ComponentStatus.operational and snap.raw_status == "operational"
    # 3 sections and 4 resources referenced, 2 and 3 included; section names are trimmed.
    assert [(c.id, c.name, c.group) for c in snap.components] == [
        ("4018902", "Better Stack", "Better Stack"), ("4188755", "Uptime", "Uptime"),
        ("4188756", "Uptime backend processing health", "Uptime")]
    assert snap.component("4188756").raw_status == "not_monitored"
    assert snap.component("4188756").status is ComponentStatus.unknown
    # 6 reports referenced, 3 included: 2 manual (both resolved), 1 maintenance.
    assert [i.id for i in snap.incidents] == ["1050825", "1049150"]
    europe = snap.incidents[0]
    assert europe.title == "Delayed data processing in the Europe region"
    assert europe.status is IncidentStatus.resolved and europe.raw_status == "resolved"
    assert europe.started_at == datetime(2026, 9, 4, 13, 50, tzinfo=UTC)
    assert europe.resolved_at == datetime(2026, 9, 6, 19, 13, tzinfo=UTC)  # ends_at is null
    assert len(europe.updates) == 4 and europe.updates[0].status == "resolved"
    assert europe.impact is Impact.minor  # updates said "degraded"
    assert europe.component_ids == ["4188758"]  # resource not included, reference kept
    assert "[hello@betterstack.com](mailto:hello@betterstack.com)" in europe.updates[0].body
    earlier = snap.incidents[1]
    assert earlier.updates == [] and earlier.resolved_at is None and not earlier.is_open
    (maintenance,) = snap.maintenances
    assert maintenance.id == "1035022" and maintenance.status is MaintenanceStatus.completed
    assert maintenance.title == "Migrating some Telemetry sources to new infrastructure"
    assert maintenance.scheduled_until == datetime(2026, 9, 3, 17, tzinfo=UTC)
    assert maintenance.resolved_at == datetime(2026, 9, 3, 17, tzinfo=UTC)
