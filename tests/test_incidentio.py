"""incident.io adapter: Statuspage-compatible API, widget API, Atom feed, and their merge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.incidentio import IncidentIOAdapter
from tests.conftest import FIXTURES, corpus_file

FIX = FIXTURES / "incidentio"
PAGE_ID = "01HZX0Q3K8M2V7R4T6Y9B1C5DE"
INCIDENT_ID = "01HZY7N4P5Q6R7S8T9V0W1X2YZ"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> IncidentIOAdapter:
    return IncidentIOAdapter()


def test_registered_and_endpoints(adapter: IncidentIOAdapter) -> None:
    assert isinstance(get_adapter("incidentio"), IncidentIOAdapter)
    assert [(e.key, e.url, e.required) for e in adapter.endpoints("https://status.acme.example/")] == [
        ("summary", "https://status.acme.example/api/v2/summary.json", True)]
    assert [(e.key, e.url, e.required) for e in adapter.history_endpoints("https://status.acme.example")] == [
        ("incidents", "https://status.acme.example/api/v2/incidents.json", True),
        ("feed", "https://status.acme.example/feed.atom", False)]
    assert adapter.reads <= {"components", "groups", "incidents", "maintenances", "updates", "regions"}


@pytest.mark.parametrize(("name", "key"), [
    ("summary-operational.json", "summary"),
    ("summary-incident.json", "summary"),
    ("incidents.json", "incidents"),
    ("widget-incident.json", "widget"),
    ("widget-empty.json", "widget"),
    ("feed.atom", "feed"),
])
def test_classify(adapter: IncidentIOAdapter, name: str, key: str) -> None:
    assert adapter.classify(body(name), name) == key


def test_summary_all_operational_with_missing_keys(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-operational.json")})
    assert snap.platform == "incidentio"
    assert (snap.name, snap.page_id, snap.url) == ("Acme", PAGE_ID, "https://status.acme.example/")
    assert snap.status is ComponentStatus.operational and snap.raw_status == "none"
    assert [c.name for c in snap.components] == ["API", "Dashboard"]
    assert all(c.group is None for c in snap.components)
    assert snap.incidents == [] and snap.maintenances == []


def test_summary_open_incident_informational_and_maintenance(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-incident.json")})
    assert snap.status is ComponentStatus.degraded_performance and snap.raw_status == "minor"
    webhooks = snap.component("01HZX0R1A2B3C4D5E6F7G8H9JN")
    assert webhooks is not None and webhooks.status is ComponentStatus.unknown and webhooks.raw_status == "throttled"
    assert [i.id for i in snap.incidents] == [INCIDENT_ID, "01HZY8M0N1P2Q3R4S5T6V7W8X9"]
    incident = snap.incidents[0]
    assert incident.status is IncidentStatus.identified and incident.impact is Impact.minor
    assert incident.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)
    assert incident.url == f"https://status.acme.example/incidents/{INCIDENT_ID}"
    assert [u.status for u in incident.updates] == ["identified", "investigating"]
    assert incident.updates[0].body.startswith("We’ve found the cause")
    informational = snap.incidents[1]
    assert informational.impact is Impact.none and informational.raw_impact == "none"
    (maintenance,) = snap.maintenances
    assert maintenance.status is MaintenanceStatus.scheduled
    assert maintenance.scheduled_for == datetime(2026, 5, 10, 2, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 5, 10, 4, tzinfo=UTC)


def test_history_gives_resolution(adapter: IncidentIOAdapter) -> None:
    history = adapter.parse_history({"incidents": body("incidents.json")})
    by_id = {n.id: n for n in history}
    resolved = by_id["01HZP2Q3R4S5T6V7W8X9Y0Z1A2"]
    assert resolved.status is IncidentStatus.resolved and not resolved.is_open
    assert [u.status for u in resolved.updates] == ["resolved", "monitoring", "investigating"]
    assert by_id[INCIDENT_ID].is_open


def test_widget_alone(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"widget": body("widget-incident.json")})
    assert snap.name == "Acme" and snap.url == "https://status.acme.example"
    # Only affected components are known; full_outage is a major outage.
    by_id = {c.id: c for c in snap.components}
    api = by_id["01HZX0R1A2B3C4D5E6F7G8H9JK"]
    assert (api.status, api.raw_status, api.group) == (ComponentStatus.major_outage, "full_outage", "Core platform")
    assert by_id["01HZX0R1A2B3C4D5E6F7G8H9JQ"].group is None
    assert snap.status is ComponentStatus.major_outage
    (incident,) = snap.incidents
    assert incident.impact is Impact.critical and incident.raw_impact == "full_outage"
    assert incident.status is IncidentStatus.identified
    assert incident.component_ids == ["01HZX0R1A2B3C4D5E6F7G8H9JK", "01HZX0R1A2B3C4D5E6F7G8H9JP"]
    assert incident.updates[0].created_at == datetime(2026, 5, 3, 14, 20, tzinfo=UTC)
    by_mid = {m.id: m for m in snap.maintenances}
    running = by_mid["01HZZ3D4E5F6G7H8J9K0M1N2P3"]
    assert running.status is MaintenanceStatus.in_progress and running.raw_status == "maintenance_in_progress"
    assert running.scheduled_until == datetime(2026, 5, 3, 18, tzinfo=UTC)
    upcoming = by_mid["01HZZ1C2D3E4F5G6H7J8K9M0N1"]
    assert upcoming.status is MaintenanceStatus.scheduled
    assert upcoming.scheduled_for == datetime(2026, 5, 10, 2, tzinfo=UTC)


def test_widget_empty_is_operational(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"widget": body("widget-empty.json")})
    assert snap.status is ComponentStatus.operational
    assert snap.components == [] and snap.incidents == [] and snap.maintenances == []


def test_summary_and_widget_merge_groups_and_affected_components(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-incident.json"), "widget": body("widget-incident.json")})
    # Component list and states come from the summary; the widget adds the group names it knows.
    assert len(snap.components) == 3
    api = snap.component("01HZX0R1A2B3C4D5E6F7G8H9JK")
    assert api is not None and api.status is ComponentStatus.degraded_performance and api.group == "Core platform"
    assert snap.component("01HZX0R1A2B3C4D5E6F7G8H9JM").group == "Web"
    incident = next(i for i in snap.incidents if i.id == INCIDENT_ID)
    assert incident.impact is Impact.minor  # the compatible API's own impact wins
    assert len(incident.updates) == 2
    assert incident.component_ids == ["01HZX0R1A2B3C4D5E6F7G8H9JK", "01HZX0R1A2B3C4D5E6F7G8H9JP"]
    assert {m.id for m in snap.maintenances} == {"01HZZ1C2D3E4F5G6H7J8K9M0N1", "01HZZ3D4E5F6G7H8J9K0M1N2P3"}
    assert snap.status is ComponentStatus.degraded_performance  # the page's own indicator


def test_feed_alone(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"feed": body("feed.atom")})
    assert snap.name == "Acme" and snap.url == "https://status.acme.example/"
    assert [i.id for i in snap.incidents] == [INCIDENT_ID, "01HZY8M0N1P2Q3R4S5T6V7W8X9", "01HZP2Q3R4S5T6V7W8X9Y0Z1A2"]
    open_incident = snap.incidents[0]
    assert open_incident.title == "Elevated API error rates"
    assert open_incident.status is IncidentStatus.identified and open_incident.raw_status == "Identified"
    assert open_incident.url == f"https://status.acme.example/incidents/{INCIDENT_ID}"
    assert open_incident.component_ids == ["API", "Login"]
    assert open_incident.updates[0].body == "We’ve found the cause: a bad deploy."
    assert open_incident.resolved_at is None
    resolved = snap.incidents[2]
    assert resolved.status is IncidentStatus.resolved
    assert resolved.resolved_at == datetime(2026, 4, 28, 9, 15, tzinfo=UTC)
    assert snap.incidents[1].component_ids == []
    # Components by name, state from the newest entry naming them; a repeated name keeps the worst.
    by_name = {c.name: c for c in snap.components}
    assert by_name["API"].status is ComponentStatus.major_outage and by_name["API"].raw_status == "Full outage"
    assert by_name["Login"].status is ComponentStatus.degraded_performance
    assert by_name["Dashboard"].status is ComponentStatus.operational
    assert snap.status is ComponentStatus.major_outage


def test_feed_with_summary_maps_names_to_ids(adapter: IncidentIOAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-operational.json"), "feed": body("feed.atom")})
    assert [c.id for c in snap.components] == ["01HZX0R1A2B3C4D5E6F7G8H9JK", "01HZX0R1A2B3C4D5E6F7G8H9JM"]
    by_id = {i.id: i for i in snap.incidents}
    assert by_id[INCIDENT_ID].component_ids == ["01HZX0R1A2B3C4D5E6F7G8H9JK"]  # "Login" is not on the summary
    assert by_id["01HZP2Q3R4S5T6V7W8X9Y0Z1A2"].component_ids == [
        "01HZX0R1A2B3C4D5E6F7G8H9JM", "01HZX0R1A2B3C4D5E6F7G8H9JK"]
    assert snap.status is ComponentStatus.operational  # the summary's indicator


@pytest.mark.parametrize("key", ["summary", "widget", "feed"])
def test_html_instead_of_document(adapter: IncidentIOAdapter, key: str) -> None:
    html = b"<!DOCTYPE html><html><head><title>Acme Status</title></head><body>app</body></html>"
    with pytest.raises(NotJSONError):
        adapter.parse({key: html})


def test_garbage_is_parse_error(adapter: IncidentIOAdapter) -> None:
    with pytest.raises(ParseError):
        adapter.parse({"feed": b"this is not a feed"})
    with pytest.raises(ParseError):
        adapter.parse({"summary": b"[1, 2]"})


# --- real captures -------------------------------------------------------------------------------

def test_corpus_openai_compat_summary(adapter: IncidentIOAdapter) -> None:
    path = corpus_file("incidentio", "openai-statuspage-compat-summary-2026-07.json")
    raw = path.read_bytes()
    assert adapter.classify(raw, path.name) == "summary"
    snap = adapter.parse({"summary": raw})
    assert (snap.name, snap.page_id) == ("OpenAI", "01JMDK9XYNY6RXSED6SDWW50WY")
    assert snap.status is ComponentStatus.operational and snap.description == "All Systems Operational"
    assert len(snap.components) == 25
    assert all(len(c.id) == 26 and c.id.startswith("01") for c in snap.components)
    assert all(c.status is ComponentStatus.operational and c.group is None for c in snap.components)
    assert snap.component("01JMXBRMFE4MAP2BHSJNZ787WX").name == "Images"
    assert snap.incidents == [] and snap.maintenances == []


def test_corpus_openai_feed(adapter: IncidentIOAdapter) -> None:
    path = corpus_file("incidentio", "openai-feed-atom-2026-08-31.atom")
    raw = path.read_bytes()
    assert adapter.classify(raw, path.name) == "feed"
    snap = adapter.parse({"feed": raw})
    assert snap.name == "OpenAI"
    assert len(snap.incidents) == 84 and snap.maintenances == []
    assert all(i.status is IncidentStatus.resolved and i.raw_status == "Resolved" for i in snap.incidents)
    assert len({i.id for i in snap.incidents}) == 84
    newest = snap.incidents[0]
    assert newest.id == "01M1C5M4K0WC8PPT0Z175RJA1E"
    assert newest.title == "ChatGPT Work seeing elevated errors and latency"
    assert newest.updated_at == datetime(2026, 8, 31, 20, 28, 40, 757000, tzinfo=UTC)
    assert newest.component_ids == ["ChatGPT Work"]
    assert newest.updates[0].body == "All impacted services have now fully recovered."
    assert sum(1 for i in snap.incidents if not i.component_ids) == 6
    # Titles with trailing spaces are trimmed; curly quotes survive.
    assert "Elevated Errors for Thinking mode in ChatGPT" in {i.title for i in snap.incidents}
    assert any("’" in i.title for i in snap.incidents)
    # "Login" is listed twice in some entries: one component by name, all listed states Operational.
    assert len(snap.components) == len({c.name for c in snap.components}) == 32
    assert all(c.status is ComponentStatus.operational for c in snap.components)
    assert snap.status is ComponentStatus.operational


def test_corpus_feed_and_summary_together(adapter: IncidentIOAdapter) -> None:
    summary = corpus_file("incidentio", "openai-statuspage-compat-summary-2026-07.json").read_bytes()
    feed = corpus_file("incidentio", "openai-feed-atom-2026-08-31.atom").read_bytes()
    snap = adapter.parse({"summary": summary, "feed": feed})
    assert len(snap.components) == 25 and len(snap.incidents) == 84
    login_ids = [c.id for c in snap.components if c.name == "Login"]
    logout = next(i for i in snap.incidents if i.id == "01M0JXWD740S0Y50DWJZS7SH75")
    assert logout.component_ids == login_ids == ["01JSM5RTJWHRWDTS6Q604VEW3B"]
