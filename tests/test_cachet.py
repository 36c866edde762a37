"""Cachet 2.x adapter: components, groups, incidents, schedules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, IncidentStatus, MaintenanceStatus
from providers.cachet import CachetAdapter
from tests.conftest import FIXTURES

FIX = FIXTURES / "cachet"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> CachetAdapter:
    return CachetAdapter()


@pytest.fixture
def everything() -> dict[str, bytes]:
    return {key: body(f"{key}.json") for key in ("components", "groups", "incidents", "schedules")}


def test_registered_and_endpoints(adapter: CachetAdapter) -> None:
    assert isinstance(get_adapter("cachet"), CachetAdapter)
    endpoints = adapter.endpoints("https://status.acme.example/")
    assert [(e.key, e.required) for e in endpoints] == [
        ("components", True), ("groups", False), ("incidents", False), ("schedules", False)]
    assert endpoints[0].url == "https://status.acme.example/api/v1/components?per_page=100"


@pytest.mark.parametrize("key", ["components", "groups", "incidents", "schedules"])
def test_classify_by_content(adapter: CachetAdapter, key: str) -> None:
    assert adapter.classify(body(f"{key}.json"), "saved.json") == key


def test_classify_empty_list_by_file_name(adapter: CachetAdapter) -> None:
    empty = b'{"meta": [], "data": []}'
    assert adapter.classify(empty, "acme-schedules.json") == "schedules"
    assert adapter.classify(empty, "x.json") == "components"


def test_components_and_groups(adapter: CachetAdapter, everything: dict[str, bytes]) -> None:
    snap = adapter.parse(everything, "https://status.acme.example")
    assert snap.platform == "cachet" and snap.url == "https://status.acme.example"
    # Disabled "Legacy FTP" is not shown by Cachet.
    assert [(c.id, c.name, c.group, c.status) for c in snap.components] == [
        ("1", "API", None, ComponentStatus.operational),
        ("2", "Dashboard", "Infrastructure", ComponentStatus.degraded_performance),
        ("3", "Database", "Infrastructure", ComponentStatus.partial_outage),
        ("4", "Queue", "Infrastructure", ComponentStatus.major_outage),
        ("6", "Status checker", None, ComponentStatus.unknown),  # group 9 is not listed
    ]
    assert snap.component("2").raw_status == "Performance Issues"
    assert snap.component("4").updated_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)  # naive read as UTC
    assert snap.status is ComponentStatus.major_outage


def test_groups_alone_still_name_members(adapter: CachetAdapter) -> None:
    snap = adapter.parse({"groups": body("groups.json")})
    assert [(c.name, c.group) for c in snap.components] == [
        ("Dashboard", "Infrastructure"), ("Database", "Infrastructure"), ("Queue", "Infrastructure")]


def test_incidents_latest_status_hidden_and_scheduled(adapter: CachetAdapter, everything: dict[str, bytes]) -> None:
    snap = adapter.parse(everything)
    assert [i.id for i in snap.incidents] == ["14", "12"]  # 13 is not visible
    queue = snap.incidents[0]
    assert queue.status is IncidentStatus.identified and queue.raw_status == "Identified"
    assert queue.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)  # occurred_at
    assert queue.component_ids == ["4"] and queue.url == "https://status.acme.example/incidents/14"
    assert [(u.id, u.status) for u in queue.updates] == [("31", "identified"), ("14/message", "investigating")]
    assert queue.updates[1].body == "Jobs are not being processed."
    old = snap.incidents[1]
    assert old.status is IncidentStatus.resolved and old.raw_status == "Fixed"
    assert old.resolved_at == datetime(2026, 4, 20, 11, 30, tzinfo=UTC)
    by_id = {m.id: m for m in snap.maintenances}
    upgrade = by_id["11"]  # incident status 0 = scheduled maintenance (Cachet < 2.4)
    assert upgrade.status is MaintenanceStatus.scheduled and upgrade.raw_status == "Scheduled"
    assert upgrade.scheduled_for == datetime(2026, 5, 10, 2, tzinfo=UTC) and upgrade.component_ids == ["3"]


def test_schedules(adapter: CachetAdapter, everything: dict[str, bytes]) -> None:
    by_id = {m.id: m for m in adapter.parse(everything).maintenances}
    network = by_id["schedule-3"]
    assert network.status is MaintenanceStatus.in_progress and network.raw_status == "In Progress"
    assert network.scheduled_for == datetime(2026, 5, 3, 12, tzinfo=UTC)
    assert network.scheduled_until == datetime(2026, 5, 3, 16, tzinfo=UTC)
    assert network.component_ids == ["1"] and network.updates[0].body == "Switch firmware upgrade."
    certs = by_id["schedule-2"]
    assert certs.status is MaintenanceStatus.completed and not certs.is_open
    assert certs.resolved_at == datetime(2026, 4, 15, 2, 40, tzinfo=UTC) and certs.updates == []


def test_html_and_wrong_shape(adapter: CachetAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"components": b"<!DOCTYPE html><html><title>Acme Status</title></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"components": b'{"components": []}'})
    with pytest.raises(ParseError):
        adapter.parse({"status": body("components.json")})


# --- real captures (Cachet's own demo instance) ---------------------------------------------------

def test_corpus_demo_instance(adapter: CachetAdapter, corpus_dir: Path) -> None:
    names = {"components": "cachet-demo-components-2026-09.json",
             "groups": "cachet-demo-component-groups-2026-09.json",
             "incidents": "cachet-demo-incidents-2026-09.json",
             "schedules": "cachet-demo-schedules-2026-09.json"}
    bodies = {key: (corpus_dir / "cachet" / name).read_bytes() for key, name in names.items()}
    assert {key: adapter.classify(raw, "saved.json") for key, raw in bodies.items()} == {k: k for k in names}
    snap = adapter.parse(bodies, "https://demo.cachethq.io")
    assert len(snap.components) == 6
    assert all(c.status is ComponentStatus.operational and c.raw_status == "Operational" for c in snap.components)
    groups = {c.name: c.group for c in snap.components}
    assert groups["Checkmango"] == groups["Laravel Artisan Cheatsheet"] == "Services"
    assert groups["API"] is None and groups["GitHub"] is None  # group_id 0
    assert groups["Documentation"] is None  # group 1 is not in the groups listing
    assert snap.status is ComponentStatus.operational
    monkeys, unresolved = snap.incidents
    assert monkeys.id == "1" and monkeys.status is IncidentStatus.resolved and monkeys.raw_status == "Fixed"
    assert [u.raw_status for u in monkeys.updates] == ["Fixed", "Watching", "Identified", "Investigating"]
    assert monkeys.resolved_at == datetime(2026, 9, 12, 13, 0, 3, tzinfo=UTC)
    assert unresolved.status is IncidentStatus.monitoring and unresolved.is_open  # latest_status 3 Watching
    assert unresolved.url == "https://demo.cachethq.io/incidents/2"
    (schedule,) = snap.maintenances
    assert schedule.id == "schedule-1" and schedule.status is MaintenanceStatus.scheduled
    assert schedule.raw_status == "Upcoming"
    assert schedule.scheduled_for == datetime(2026, 9, 12, 15, 0, 3, tzinfo=UTC)
    assert schedule.scheduled_until is None  # completed_at 13:27:22 is before the start
