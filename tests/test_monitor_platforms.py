"""Uptime Kuma, UptimeRobot, Uptime.com and Gatus: the real captures in place, authored fixtures for
what they lack, the parse CLI over both, and detection over captured responses."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter, load_adapters
from aggregator.catalog.detect import Response, detect_offline
from aggregator.cli.main import main
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.model import Snapshot
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from tests.conftest import FIXTURES, corpus_file

KUMA_PAGE = ("uptimekuma", "isitdown-recorded-instance-status-page-2026-09-pinned-incident-maintenance.json")
KUMA_BEATS = ("uptimekuma", "isitdown-recorded-instance-heartbeat-2026-09-up-then-maintenance-and-down.json")
ROBOT_LIST = ("uptimerobot", "bsky-getMonitorList-2025-04-24-9-down.json")
ROBOT_FEED = ("uptimerobot", "bsky-getEventFeed-2025-04-24-pds-outage.json")
UPTIMECOM = ("uptimecom", "uptimecom-own-statuspage-ajax-2026-09-trimmed.json")
GATUS = ("gatus", "gatus-own-testsuite-endpoints-statuses.json")


def parse_cli(capsys: pytest.CaptureFixture[str], platform: str, *files: Path) -> dict:
    code = main(["parse", platform, *map(str, files), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def counts(snap: Snapshot | dict) -> tuple[int, dict[str, int], int, int]:
    doc = snap.model_dump(mode="json") if isinstance(snap, Snapshot) else snap
    return (len(doc["components"]), dict(Counter(c["status"] for c in doc["components"])),
            len(doc["incidents"]), len(doc["maintenances"]))


def test_the_four_are_registered_and_27_platforms_in_all() -> None:
    adapters = load_adapters()
    assert {"uptimekuma", "uptimerobot", "uptimecom", "gatus"} <= set(adapters)
    assert len(adapters) >= 27
    assert adapters["gatus"].lacks == {"incidents": "Gatus has none", "maintenances": "Gatus has none"}


def test_platforms_command_says_gatus_has_no_incidents(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["platforms", "--json"]) == 0
    rows = {r["platform"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) >= 27
    assert "incidents" not in rows["gatus"]["reads"] and rows["gatus"]["lacks"]["incidents"] == "Gatus has none"
    assert main(["platforms"]) == 0
    out = capsys.readouterr().out
    assert "no incidents (Gatus has none)" in " ".join(out.split())


# ------------------------------------------------------------------------------------------------
# Uptime Kuma
# ------------------------------------------------------------------------------------------------

def test_kuma_capture(capsys: pytest.CaptureFixture[str]) -> None:
    page, beats = corpus_file(*KUMA_PAGE), corpus_file(*KUMA_BEATS)
    snap = get_adapter("uptimekuma").parse({"page": page.read_bytes(), "heartbeat": beats.read_bytes()},
                                           "https://uptime.example.com/status/demo")
    assert counts(snap) == (2, {"under_maintenance": 1, "major_outage": 1}, 1, 1)
    assert counts(parse_cli(capsys, "uptimekuma", page, beats)) == counts(snap)
    assert (snap.name, snap.page_id, snap.description) == ("Demo", "demo", "A recorded status page")
    assert snap.url == "https://uptime.example.com/status/demo"
    polled_at_api = get_adapter("uptimekuma").parse({"page": page.read_bytes()}, "https://up.acme.test/api/status-page/demo")
    assert polled_at_api.url == "https://up.acme.test/status/demo"
    assert {c.status for c in polled_at_api.components} == {ComponentStatus.unknown}  # no heartbeat body: no state
    api, webhooks = snap.components
    assert (api.id, api.group, api.raw_status, webhooks.raw_status) == ("1", "Services", "3", "0")
    assert api.updated_at == datetime(2026, 9, 12, 12, 27, 20, 287000, tzinfo=UTC)  # the newest beat
    assert snap.status is ComponentStatus.partial_outage  # one of two monitors down
    (incident,) = snap.incidents
    assert (incident.id, incident.status, incident.impact, incident.raw_impact) == (
        "1", IncidentStatus.investigating, Impact.minor, "warning")
    assert incident.started_at == datetime(2026, 9, 12, 12, 24, 51, tzinfo=UTC)
    (maintenance,) = snap.maintenances
    assert (maintenance.status, maintenance.raw_status) == (MaintenanceStatus.in_progress, "under-maintenance")
    assert maintenance.scheduled_for == datetime(2026, 9, 12, 11, 26, tzinfo=UTC)
    assert maintenance.scheduled_until == datetime(2026, 9, 12, 13, 26, tzinfo=UTC)


def test_kuma_several_incidents_and_later_heartbeat_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    page, beats = FIXTURES / "uptimekuma/status-page-incidents.json", FIXTURES / "uptimekuma/heartbeat-api-down.json"
    snap = parse_cli(capsys, "uptimekuma", page, beats)
    assert counts(snap) == (4, {"major_outage": 1, "operational": 1, "degraded_performance": 1, "unknown": 1}, 3, 0)
    assert [(c["name"], c["group"], c["raw_status"]) for c in snap["components"]] == [
        ("API", "Core", "0"), ("Web", "Core", "1"), ("CDN", "Edge", "2"), ("DNS", "Edge", None)]
    assert snap["components"][0]["updated_at"] == "2026-10-02T09:05:00Z"  # the trailing empty bucket (0) skipped
    assert [(i["id"], i["impact"], i["started_at"]) for i in snap["incidents"]] == [
        ("7", "major", "2026-10-02T09:05:00Z"), ("5", "minor", "2026-10-02T08:00:00Z"), ("6", "none", "2026-10-01T18:00:00Z")]
    assert snap["incidents"][0]["updates"][0]["body"] == "**Most** API calls fail."
    assert snap["incidents"][1]["updates"] == []  # no content, no update
    assert snap["status"] == "partial_outage"


def test_kuma_endpoints_and_urls() -> None:
    kuma = get_adapter("uptimekuma")
    assert [(e.key, e.url, e.required) for e in kuma.endpoints("https://up.acme.test/status/Acme/")] == [
        ("page", "https://up.acme.test/api/status-page/acme", True),
        ("heartbeat", "https://up.acme.test/api/status-page/heartbeat/acme", True)]
    assert kuma.endpoints("https://acme.test/kuma/api/status-page/ops")[0].url == "https://acme.test/kuma/api/status-page/ops"
    assert kuma.endpoints("https://acme.test/#ops")[1].url == "https://acme.test/api/status-page/heartbeat/ops"
    with pytest.raises(ParseError, match="names no status page"):
        kuma.endpoints("https://acme.test/")
    assert kuma.classify(corpus_file(*KUMA_BEATS).read_bytes()) == "heartbeat"
    with pytest.raises(ParseError):
        kuma.parse({"page": b'{"hello": 1}'})
    with pytest.raises(NotJSONError):
        kuma.parse({"page": b"<!DOCTYPE html><html><title>Uptime Kuma</title></html>"})


def test_kuma_all_up_is_operational() -> None:
    snap = get_adapter("uptimekuma").parse({"page": (FIXTURES / "uptimekuma/status-page-operational.json").read_bytes(),
                                            "heartbeat": (FIXTURES / "uptimekuma/heartbeat-all-up.json").read_bytes()})
    assert snap.status is ComponentStatus.operational and counts(snap) == (4, {"operational": 4}, 0, 0)


# ------------------------------------------------------------------------------------------------
# UptimeRobot
# ------------------------------------------------------------------------------------------------

def test_uptimerobot_capture(capsys: pytest.CaptureFixture[str]) -> None:
    listing, feed = corpus_file(*ROBOT_LIST), corpus_file(*ROBOT_FEED)
    robot = get_adapter("uptimerobot")
    snap = robot.parse({"monitors": listing.read_bytes(), "events": feed.read_bytes()}, "https://status.bsky.app/#zwOvMT8x16")
    assert counts(snap) == (30, {"operational": 25, "major_outage": 4, "unknown": 1}, 2, 0)
    assert counts(parse_cli(capsys, "uptimerobot", listing, feed)) == counts(snap)
    assert snap.status is ComponentStatus.partial_outage and snap.description == "9 monitors down"
    assert snap.url == "https://status.bsky.app"  # the page, not the key the stored URL carries
    assert robot.parse({"monitors": listing.read_bytes()}, "https://stats.uptimerobot.com/api/getMonitorList/Ab12Cd?page=1"
                       ).url == "https://stats.uptimerobot.com/Ab12Cd"
    paused = snap.component("795277183")
    assert (paused.name, paused.raw_status, paused.status) == ("api.events.bsky.app", "black", ComponentStatus.unknown)
    newest, older = snap.incidents
    assert newest.title == "Update on PDS Downtime" and newest.started_at == datetime(2025, 4, 24, 23, 38, tzinfo=UTC)
    assert newest.is_open and newest.raw_status == "ann" and newest.raw_impact == "alert-triangle"
    assert older.updates[0].body == "We are investigating a major outage with Bluesky hosted PDS instances."
    # The capture is page 1 of 2 (30 of 52 monitors): the adapter asks for the other page.
    assert [(e.key, e.url) for e in robot.more_endpoints({"monitors": listing.read_bytes()}, "https://status.bsky.app/#zwOvMT8x16")] == [
        ("monitors_page2", "https://status.bsky.app/api/getMonitorList/zwOvMT8x16?page=2")]


def test_uptimerobot_page_two_of_a_paginated_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page1 = FIXTURES / "uptimerobot/monitor-list-page1-one-down.json"
    page2 = FIXTURES / "uptimerobot/monitor-list-page2-one-down.json"
    snap = parse_cli(capsys, "uptimerobot", page1, page2, FIXTURES / "uptimerobot/event-feed-announcement.json")
    assert counts(snap) == (3, {"operational": 2, "major_outage": 1}, 2, 0)
    assert [(c["id"], c["position"]) for c in snap["components"]] == [("801", 0), ("802", 1), ("803", 2)]
    assert snap["status"] == "partial_outage"
    open_one, ended = snap["incidents"]
    assert (open_one["status"], ended["status"], ended["resolved_at"]) == ("investigating", "resolved", "2026-10-01T10:00:00Z")
    # Page 1 alone: the monitors it has.
    assert counts(parse_cli(capsys, "uptimerobot", page1)) == (2, {"operational": 2}, 0, 0)
    robot = get_adapter("uptimerobot")
    assert robot.classify(page2.read_bytes(), page2.name) == "monitors_page2"
    assert robot.classify(page1.read_bytes(), page1.name) == "monitors"  # "page1" is the first page


def test_uptimerobot_urls() -> None:
    robot = get_adapter("uptimerobot")
    assert [(e.key, e.url, e.required) for e in robot.endpoints("https://stats.uptimerobot.com/Ab12Cd34Ef")] == [
        ("monitors", "https://stats.uptimerobot.com/api/getMonitorList/Ab12Cd34Ef?page=1", True),
        ("events", "https://stats.uptimerobot.com/api/getEventFeed/Ab12Cd34Ef", False)]
    assert robot.endpoints("https://status.acme.test/api/getMonitorList/Xy98?page=1")[0].url == \
        "https://status.acme.test/api/getMonitorList/Xy98?page=1"
    with pytest.raises(ParseError, match="names no status page key"):
        robot.endpoints("https://status.acme.test/")
    with pytest.raises(ParseError, match="no psp"):
        robot.parse({"monitors": b'{"status": "ok"}'})


# ------------------------------------------------------------------------------------------------
# Uptime.com
# ------------------------------------------------------------------------------------------------

def test_uptimecom_capture(capsys: pytest.CaptureFixture[str]) -> None:
    ajax = corpus_file(*UPTIMECOM)
    snap = get_adapter("uptimecom").parse({"ajax": ajax.read_bytes()}, "https://status.uptime.com/statuspage/uptime-status")
    assert counts(snap) == (5, {"operational": 5}, 0, 0)
    assert counts(parse_cli(capsys, "uptimecom", ajax)) == counts(snap)
    # Ordered by sorting_weight; the group's two subcomponents take its place.
    assert [(c.name, c.group) for c in snap.components] == [
        ("API", None), ("Background Processing", None), ("AUTO (SingleLocationChecks)", "Check Servers"),
        ("Austria-Vienna", "Check Servers"), ("Database", None)]
    assert snap.component("44").updated_at == datetime(2026, 9, 10, 14, 5, 4, 544625, tzinfo=UTC)
    assert (snap.name, snap.page_id, snap.status) == ("Uptime.com Status", "uptime-status", ComponentStatus.operational)


def test_uptimecom_incident_and_maintenances() -> None:
    snap = get_adapter("uptimecom").parse({"ajax": (FIXTURES / "uptimecom/ajax-incident.json").read_bytes()})
    assert counts(snap) == (4, {"major_outage": 1, "degraded_performance": 1, "partial_outage": 1,
                                "under_maintenance": 1}, 1, 2)
    statuses = {c.name: (c.status, c.raw_status) for c in snap.components}
    assert statuses["API"] == (ComponentStatus.major_outage, "major-outage")
    assert statuses["US"] == (ComponentStatus.under_maintenance, "under-maintenance")
    assert "Empty group" not in statuses and "Regions" not in statuses
    assert snap.status is ComponentStatus.major_outage
    (incident,) = snap.incidents
    assert (incident.status, incident.impact, incident.component_ids) == (IncidentStatus.identified, Impact.critical, ["1", "31"])
    assert [u.body for u in incident.updates] == ["Bad deploy", "Looking into it"]
    running, upcoming = sorted(snap.maintenances, key=lambda m: m.id)
    assert (running.id, running.status, running.component_ids) == ("502", MaintenanceStatus.in_progress, ["32"])
    assert (upcoming.id, upcoming.status) == ("503", MaintenanceStatus.scheduled)
    assert upcoming.scheduled_for == datetime(2026, 10, 5, 22, tzinfo=UTC)


def test_uptimecom_endpoint() -> None:
    (ep,) = get_adapter("uptimecom").endpoints("https://status.uptime.com/statuspage/uptime-status/")
    assert ep.url == "https://status.uptime.com/statuspage/uptime-status/ajax"
    with pytest.raises(ParseError, match="no data.components"):
        get_adapter("uptimecom").parse({"ajax": b'{"error": null, "data": {}}'})


# ------------------------------------------------------------------------------------------------
# Gatus
# ------------------------------------------------------------------------------------------------

def test_gatus_capture(capsys: pytest.CaptureFixture[str]) -> None:
    body = corpus_file(*GATUS)
    snap = get_adapter("gatus").parse({"statuses": body.read_bytes()})
    assert counts(snap) == (1, {"major_outage": 1}, 0, 0)  # the newest of its two results fails
    assert counts(parse_cli(capsys, "gatus", body)) == counts(snap)
    (endpoint,) = snap.components
    assert (endpoint.id, endpoint.name, endpoint.group, endpoint.raw_status) == ("group_name", "name", "group", "UNHEALTHY")
    assert endpoint.description == "error-1; error-2" and endpoint.updated_at is None  # zero time


def test_gatus_an_endpoint_failing(capsys: pytest.CaptureFixture[str]) -> None:
    snap = parse_cli(capsys, "gatus", FIXTURES / "gatus/statuses-endpoint-failing.json")
    assert counts(snap) == (4, {"major_outage": 1, "operational": 2, "unknown": 1}, 0, 0)
    api = snap["components"][0]
    assert (api["id"], api["status"], api["description"]) == ("core_api", "major_outage", "failed: [STATUS] == 200")
    assert snap["components"][1]["status"] == "operational"  # recovered: only the newest result counts
    assert snap["components"][2]["group"] is None  # Gatus's empty group
    assert snap["status"] == "partial_outage"
    healthy = parse_cli(capsys, "gatus", FIXTURES / "gatus/statuses-all-healthy.json")
    assert healthy["status"] == "operational"
    assert healthy["components"][2]["updated_at"] == "2026-10-02T09:00:07.123456Z"


def test_gatus_endpoint_and_refusals() -> None:
    gatus = get_adapter("gatus")
    (ep,) = gatus.endpoints("https://status.acme.test/")
    assert ep.url == "https://status.acme.test/api/v1/endpoints/statuses?page=1&pageSize=1"
    assert gatus.endpoints(ep.url)[0].url == ep.url
    for bad in (b'{"key": "x"}', b'[{"name": "x"}]'):
        with pytest.raises(ParseError, match="not an endpoint status list"):
            gatus.parse({"statuses": bad})


# ------------------------------------------------------------------------------------------------
# Detection over captured responses
# ------------------------------------------------------------------------------------------------

def _responses(*items: tuple[str, Path, str]) -> dict[str, Response]:
    return {url: Response(url=url, status=200, body=path.read_bytes(), headers={"content-type": ctype})
            for url, path, ctype in items}


@pytest.mark.parametrize(("url", "items", "platform", "reason"), [
    ("https://s.acme.test/status/acme", [("https://s.acme.test/status/acme", "detect/uptimekuma.html", "text/html"),
                                         ("https://s.acme.test/api/status-page/acme", "uptimekuma/status-page-operational.json", "")],
     "uptimekuma", "/api/status-page/acme has config.slug 'acme' and publicGroupList (Uptime Kuma)"),
    ("https://s.acme.test", [("https://s.acme.test", "detect/uptimekuma.html", "text/html"),  # the slug from the HTML
                             ("https://s.acme.test/api/status-page/acme", "uptimekuma/status-page-operational.json", "")],
     "uptimekuma", "(Uptime Kuma)"),
    ("https://s.acme.test", [("https://s.acme.test", "detect/uptimerobot.html", "text/html"),
                             ("https://s.acme.test/api/getMonitorList/Ab12Cd34Ef?page=1",
                              "uptimerobot/monitor-list-page1-all-up.json", "")],
     "uptimerobot", "/api/getMonitorList/Ab12Cd34Ef has psp.monitors (UptimeRobot)"),
    ("https://s.acme.test", [("https://s.acme.test", "detect/uptimerobot-no-key.html", "text/html")],
     "html", "uptimerobot page: no public JSON, read as HTML"),
    ("https://s.acme.test/statuspage/acme", [("https://s.acme.test/statuspage/acme", "detect/uptimecom.html", "text/html"),
                                             ("https://s.acme.test/statuspage/acme/ajax", "uptimecom/ajax-operational.json", "")],
     "uptimecom", "/statuspage/acme/ajax has data.components and data.global_is_operational (Uptime.com)"),
    ("https://s.acme.test", [("https://s.acme.test", "detect/gatus.html", "text/html"),
                             ("https://s.acme.test/api/v1/endpoints/statuses?page=1&pageSize=1", "gatus/statuses-all-healthy.json", "")],
     "gatus", "is a list of endpoint statuses with key and results (Gatus)"),
])
def test_detection(url: str, items: list[tuple[str, str, str]], platform: str, reason: str) -> None:
    found = detect_offline(url, _responses(*[(u, FIXTURES / p, t or "application/json") for u, p, t in items]))
    assert (found.verdict, found.platform) == ("ok", platform), found.reasons
    assert reason in found.reasons[-1]
    if platform != "html":
        assert found.api_url == items[-1][0]
        # What detection found is what the adapter polls.
        assert get_adapter(platform).endpoints(found.api_url)[0].url == found.api_url


def test_detection_by_host_with_the_real_uptime_com_capture() -> None:
    url = "https://status.uptime.com/statuspage/uptime-status"
    found = detect_offline(url, _responses((url, FIXTURES / "detect/spa-shell.html", "text/html"),
                                           (url + "/ajax", corpus_file(*UPTIMECOM), "application/json")))
    assert (found.platform, found.page_id, found.name) == ("uptimecom", "uptime-status", "Uptime.com Status")
    robot = "https://stats.uptimerobot.com/Ab12Cd34Ef"
    found = detect_offline(robot, _responses((robot, FIXTURES / "detect/spa-shell.html", "text/html"),
                                             ("https://stats.uptimerobot.com/api/getMonitorList/Ab12Cd34Ef?page=1",
                                              corpus_file(*ROBOT_LIST), "application/json")))
    assert found.platform == "uptimerobot" and found.base_url == robot


# ------------------------------------------------------------------------------------------------
# The hosted-adapter contract (tests/test_hosted_contract.py), with each page's companion bodies
# ------------------------------------------------------------------------------------------------

FOUR = ["uptimekuma", "uptimerobot", "uptimecom", "gatus"]
COMPANIONS = {"uptimekuma": {"page": "uptimekuma/status-page-incidents.json",
                             "heartbeat": "uptimekuma/heartbeat-api-down.json"},
              "uptimerobot": {"monitors": "uptimerobot/monitor-list-page1-one-down.json"}}
HTML = b"<!DOCTYPE html>\n<html><head><title>Acme</title></head><body><div id='app'></div></body></html>"


def _bodies(platform: str, key: str, body: bytes) -> dict[str, bytes]:
    bodies = {k: (FIXTURES / v).read_bytes() for k, v in COMPANIONS.get(platform, {}).items() if k != key}
    bodies[key] = body
    return bodies


@pytest.mark.parametrize("platform", FOUR)
def test_declarations_and_every_fixture_parses(platform: str) -> None:
    from tests.test_hosted_contract import READS

    adapter = get_adapter(platform)
    assert adapter.platform == platform and adapter.title and adapter.reads <= READS
    assert len(set(adapter.keys)) == len(adapter.keys)
    for path in sorted((FIXTURES / platform).iterdir()):
        key = adapter.classify(path.read_bytes(), path.name)
        snap = adapter.parse(_bodies(platform, key, path.read_bytes()), "https://status.acme.example/status/acme#Ab12Cd")
        for part, present in (("components", snap.components), ("groups", [c for c in snap.components if c.group]),
                              ("incidents", snap.incidents), ("maintenances", snap.maintenances),
                              ("updates", [n for n in [*snap.incidents, *snap.maintenances] if n.updates])):
            assert not present or part in adapter.reads, (path.name, part)
            assert not present or part not in adapter.lacks


@pytest.mark.parametrize("platform", FOUR)
def test_html_instead_of_a_document(platform: str) -> None:
    from aggregator.errors import AdapterError, LoginRequiredError, PageInactiveError

    adapter = get_adapter(platform)
    key = adapter.keys[0]
    with pytest.raises(NotJSONError):
        adapter.parse(_bodies(platform, key, HTML))
    with pytest.raises(PageInactiveError):
        adapter.parse(_bodies(platform, key, b"<html><head><title>Acme - Page Inactive</title></head></html>"))
    with pytest.raises(LoginRequiredError):
        adapter.parse(_bodies(platform, key, b"<html><head><title>Acme - Login</title></head></html>"))
    with pytest.raises(AdapterError):
        adapter.parse(_bodies(platform, key, b""))


@pytest.mark.slow
@pytest.mark.parametrize("platform", FOUR)
def test_wrong_types_anywhere_are_handled_not_crashes(platform: str) -> None:
    """Every JSON value of every fixture replaced in turn by a wrongly typed one: a snapshot or a
    deliberate error, never the catch-all "unexpected document shape"."""
    import copy

    from aggregator.errors import AdapterError
    from tests.test_hosted_contract import _paths

    adapter = get_adapter(platform)
    for path in sorted((FIXTURES / platform).iterdir()):
        doc = json.loads(path.read_text(encoding="utf-8"))
        key = adapter.classify(path.read_bytes(), path.name)
        for where in _paths(doc):
            for value in (None, "zz", [], {}, -1, True, 1.5):
                mutated = copy.deepcopy(doc)
                target = mutated
                for step in where[:-1]:
                    target = target[step]
                target[where[-1]] = value
                try:
                    adapter.parse(_bodies(platform, key, json.dumps(mutated).encode()), "https://s.acme.example/#Ab12Cd")
                except AdapterError as exc:
                    assert "unexpected document shape" not in exc.reason, (path.name, where, value, exc.reason)
