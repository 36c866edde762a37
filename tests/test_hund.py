"""Hund.io adapter: the init_event of the public status_page event stream."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.reading import word_key
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.hund import HundAdapter, init_event
from tests.conftest import FIXTURES

FIX = FIXTURES / "hund"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> HundAdapter:
    return HundAdapter()


def test_registered_and_endpoint(adapter: HundAdapter) -> None:
    assert isinstance(get_adapter("hund"), HundAdapter)
    (endpoint,) = adapter.endpoints("https://acme.hund.io/")
    assert (endpoint.key, endpoint.url, endpoint.accept) == (
        "status_page", "https://acme.hund.io/live/v2/status_page", "text/event-stream")
    assert adapter.classify(body("stream-issues.txt")) == "status_page"


def test_word_key_keeps_negative_codes() -> None:
    assert word_key(-1) == word_key("-1") == "-1"
    assert word_key("partially-degraded") == "partially_degraded"


def test_init_event_joins_data_lines_and_ignores_later_events() -> None:
    doc = init_event(body("stream-issues.txt"))
    assert doc["state"] == -1 and len(doc["issues"]) == 3  # not the later state_event's 0
    assert init_event(b'{"state": 1}') == {"state": 1}  # the bare JSON is accepted too
    assert init_event(b"event: other\ndata: {\"state\": 0}\n\n") == {"state": 0}


def test_operational_stream(adapter: HundAdapter) -> None:
    snap = adapter.parse({"status_page": body("stream-operational.txt")}, "https://acme.hund.io")
    assert (snap.platform, snap.name, snap.url) == ("hund", "Acme", "https://acme.hund.io")
    assert snap.status is ComponentStatus.operational and snap.raw_status == "1"
    assert [(c.name, c.group, c.status) for c in snap.components] == [
        ("API", "Platform", ComponentStatus.operational), ("Dashboard", "Platform", ComponentStatus.operational)]
    assert snap.incidents == [] and snap.maintenances == []


def test_outage_stream(adapter: HundAdapter) -> None:
    snap = adapter.parse({"status_page": body("stream-issues.txt")})
    assert snap.status is ComponentStatus.major_outage and snap.raw_status == "-1"
    assert [(c.id, c.group, c.status) for c in snap.components] == [
        ("c1", "Platform", ComponentStatus.major_outage),
        ("c2", "Platform", ComponentStatus.degraded_performance),
        ("c3", None, ComponentStatus.unknown),
    ]
    assert snap.component("c3").raw_status == "pending"

    api, logins = snap.incidents
    assert api.id == "i1" and api.is_open
    assert api.status is IncidentStatus.identified  # newest update label "assessed"
    assert api.impact is Impact.critical and api.raw_impact == "outage"
    assert api.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)  # epoch seconds
    assert api.updated_at == datetime(2026, 5, 3, 14, 20, tzinfo=UTC)
    assert [u.id for u in api.updates] == ["u2", "u1", "i1/body"]
    assert api.updates[2].body == "The API returns 503."  # HTML stripped
    assert api.component_ids == ["c1"]
    assert logins.status is IncidentStatus.resolved
    assert logins.resolved_at == datetime(2026, 4, 27, 10, tzinfo=UTC)

    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.in_progress and maintenance.component_ids == ["c2"]
    assert maintenance.scheduled_for == datetime(2026, 5, 3, 12, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 5, 3, 16, tzinfo=UTC)


def test_broken_streams(adapter: HundAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"status_page": b"<!DOCTYPE html><html><title>Hund</title></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"status_page": b": keep-alive\n\n"})
    with pytest.raises(ParseError):
        adapter.parse({"status_page": b"event: init_event\ndata: {not json\n\n"})
    with pytest.raises(ParseError):
        adapter.parse({"status_page": b'event: init_event\ndata: {"hello": 1}\n\n'})
