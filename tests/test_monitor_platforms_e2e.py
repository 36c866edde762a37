"""End to end through the CLI for Uptime Kuma, UptimeRobot, Uptime.com and Gatus: a page of each
served on 127.0.0.1, added without ``--platform`` (detected), polled, changed and polled again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.cli.main import main
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def events(capsys: pytest.CaptureFixture[str], db: Path, provider: str, since: int = 0) -> list[dict]:
    code, out, err = run(capsys, "--db", str(db), "history", provider, "--json")
    assert code == 0, err
    return [e for e in json.loads(out) if e["seq"] > since]


def kinds(found: list[dict]) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["subject_id"]) for e in found]


def status(capsys: pytest.CaptureFixture[str], db: Path) -> dict:
    code, out, _ = run(capsys, "--db", str(db), "status", "--json")
    (snap,) = json.loads(out)
    return snap


@pytest.fixture
def server() -> LoopbackServer:
    with LoopbackServer() as srv:
        yield srv


def add_detected(capsys: pytest.CaptureFixture[str], db: Path, url: str, pid: str, platform: str,
                 reason: str) -> None:
    """``upstream detect`` names the platform and says why; ``upstream add`` (no --platform) follows it."""
    code, out, err = run(capsys, "--db", str(db), "detect", url, "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found["platform"] == platform and reason in found["reasons"][-1], found
    code, out, err = run(capsys, "--db", str(db), "detect", url)
    assert code == 0 and reason in " ".join(out.split()), out
    code, out, err = run(capsys, "--db", str(db), "add", url, "--id", pid)
    assert (code, out.strip()) == (0, pid), err


def first_poll(capsys: pytest.CaptureFixture[str], db: Path, pid: str) -> int:
    assert run(capsys, "--db", str(db), "poll")[0] == 0
    found = events(capsys, db, pid)
    assert kinds(found) == [("provider.status_changed", pid)]
    return found[-1]["seq"]


@pytest.mark.slow
def test_uptime_kuma_page(tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    kuma = FIXTURES / "uptimekuma"
    server.set_file("/status/acme", FIXTURES / "detect/uptimekuma.html", content_type="text/html")
    server.set_file("/api/status-page/acme", kuma / "status-page-operational.json")
    server.set_file("/api/status-page/heartbeat/acme", kuma / "heartbeat-all-up.json")
    db = tmp_path / "up.db"
    add_detected(capsys, db, server.url("/status/acme"), "kuma", "uptimekuma",
                 "/api/status-page/acme has config.slug 'acme' and publicGroupList (Uptime Kuma)")
    seq = first_poll(capsys, db, "kuma")
    snap = status(capsys, db)
    assert (snap["platform"], snap["status"], len(snap["components"])) == ("uptimekuma", "operational", 4)

    # The API monitor goes down, CDN is pending, DNS has no beats; three incidents are pinned.
    server.set_file("/api/status-page/acme", kuma / "status-page-incidents.json")
    server.set_file("/api/status-page/heartbeat/acme", kuma / "heartbeat-api-down.json")
    run(capsys, "--db", str(db), "poll")
    found = events(capsys, db, "kuma", seq)
    assert kinds(found) == [
        ("provider.status_changed", "kuma"),
        ("component.status_changed", "11"),
        ("component.status_changed", "21"),
        ("component.status_changed", "22"),
        ("incident.opened", "7"),
        ("incident.opened", "5"),
        ("incident.opened", "6"),
    ]
    assert [(e["old"], e["new"]) for e in found[:4]] == [
        ("operational", "partial_outage"), ("operational", "major_outage"),
        ("operational", "degraded_performance"), ("operational", "unknown")]
    seq = found[-1]["seq"]

    # Back up, incidents unpinned: they resolve as no longer listed.
    server.set_file("/api/status-page/acme", kuma / "status-page-operational.json")
    server.set_file("/api/status-page/heartbeat/acme", kuma / "heartbeat-all-up.json")
    run(capsys, "--db", str(db), "poll")
    found = events(capsys, db, "kuma", seq)
    assert sorted(k for k, _ in kinds(found) if k.startswith("incident.")) == ["incident.resolved"] * 3
    assert status(capsys, db)["status"] == "operational"


@pytest.mark.slow
def test_uptimerobot_page_follows_its_second_page(tmp_path: Path, server: LoopbackServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    robot = FIXTURES / "uptimerobot"
    key = "Ab12Cd34Ef"
    server.set_file("/", FIXTURES / "detect/uptimerobot.html", content_type="text/html")
    server.set_file(f"/api/getMonitorList/{key}?page=1", robot / "monitor-list-page1-all-up.json")
    server.set_file(f"/api/getMonitorList/{key}?page=2", robot / "monitor-list-page2-all-up.json")
    server.set_file(f"/api/getEventFeed/{key}", robot / "event-feed-empty.json")
    db = tmp_path / "up.db"
    add_detected(capsys, db, server.url("/"), "robot", "uptimerobot",
                 f"/api/getMonitorList/{key} has psp.monitors (UptimeRobot)")
    seq = first_poll(capsys, db, "robot")
    snap = status(capsys, db)
    assert [c["id"] for c in snap["components"]] == ["801", "802", "803"]  # both pages
    assert server.hit_count(f"/api/getMonitorList/{key}?page=2") == 1

    # Nothing changed: every page answers 304 (the second one asked for from the stored state).
    run(capsys, "--db", str(db), "poll")
    assert events(capsys, db, "robot", seq) == []
    assert server.hit_count(f"/api/getMonitorList/{key}?page=2") == 2
    assert [bool(h.get("if-none-match")) for p, h in server.hits if p.endswith("page=2")] == [False, True]

    # Only page 2 changes (page 1 still answers 304): its monitor goes down; an announcement is posted.
    server.set_file(f"/api/getMonitorList/{key}?page=2", robot / "monitor-list-page2-one-down.json")
    server.set_file(f"/api/getEventFeed/{key}", robot / "event-feed-announcement.json")
    run(capsys, "--db", str(db), "poll")
    found = events(capsys, db, "robot", seq)
    assert kinds(found) == [
        ("provider.status_changed", "robot"),
        ("component.status_changed", "803"),
        ("incident.opened", "ann-1790931600-CDN errors"),
        # An announcement that has ended when first seen: opened and resolved at once.
        ("incident.opened", "ann-1790845200-Planned move"),
        ("incident.resolved", "ann-1790845200-Planned move"),
    ]
    assert found[0]["new"] == "partial_outage" and found[1]["new"] == "major_outage"
    snap = status(capsys, db)
    # Page 1 answered 304: its words (and its counts) are the ones read before.
    assert (len(snap["components"]), snap["description"], snap["status"]) == (3, "All systems operational",
                                                                              "partial_outage")

    # Page 2 stops answering: the poll fails (unreachable) rather than reporting its monitor removed.
    server.set(f"/api/getMonitorList/{key}?page=2", b"oops", status=500, content_type="text/plain")
    server.set_file(f"/api/getMonitorList/{key}?page=1", robot / "monitor-list-page1-one-down.json")
    run(capsys, "--db", str(db), "poll")
    assert not [e for e in events(capsys, db, "robot", found[-1]["seq"]) if e["kind"] == "component.removed"]
    assert status(capsys, db)["reachable"] is False


@pytest.mark.slow
def test_uptime_com_page(tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.set_file("/statuspage/acme", FIXTURES / "detect/uptimecom.html", content_type="text/html")
    server.set_file("/statuspage/acme/ajax", FIXTURES / "uptimecom/ajax-operational.json")
    db = tmp_path / "up.db"
    add_detected(capsys, db, server.url("/statuspage/acme"), "ucom", "uptimecom",
                 "/statuspage/acme/ajax has data.components and data.global_is_operational (Uptime.com)")
    seq = first_poll(capsys, db, "ucom")
    assert [c["name"] for c in status(capsys, db)["components"]] == ["Dashboard", "API", "US", "EU"]

    server.set_file("/statuspage/acme/ajax", FIXTURES / "uptimecom/ajax-incident.json")
    run(capsys, "--db", str(db), "poll")
    found = events(capsys, db, "ucom", seq)
    assert kinds(found) == [
        ("provider.status_changed", "ucom"),
        ("component.status_changed", "2"),
        ("component.status_changed", "1"),
        ("component.status_changed", "32"),
        ("component.status_changed", "31"),
        ("incident.opened", "501"),
        ("maintenance.scheduled", "503"),
        ("maintenance.scheduled", "502"),
        ("maintenance.started", "502"),
    ]


@pytest.mark.slow
def test_gatus_page(tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.set_file("/", FIXTURES / "detect/gatus.html", content_type="text/html")
    server.set_file("/api/v1/endpoints/statuses", FIXTURES / "gatus/statuses-all-healthy.json")
    db = tmp_path / "up.db"
    add_detected(capsys, db, server.url("/"), "health", "gatus",
                 "/api/v1/endpoints/statuses is a list of endpoint statuses with key and results (Gatus)")
    seq = first_poll(capsys, db, "health")
    assert any(p.startswith("/api/v1/endpoints/statuses?page=1&pageSize=1") for p, _ in server.hits)

    server.set_file("/api/v1/endpoints/statuses", FIXTURES / "gatus/statuses-endpoint-failing.json")
    run(capsys, "--db", str(db), "poll")
    found = events(capsys, db, "health", seq)
    assert kinds(found) == [
        ("provider.status_changed", "health"),
        ("component.status_changed", "core_api"),
        ("component.added", "edge_new"),
    ]
    assert (found[0]["new"], found[1]["new"]) == ("partial_outage", "major_outage")
