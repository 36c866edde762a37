"""``upstream serve`` while it polls: /metrics as Prometheus reads it, calendars across a reschedule."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aggregator.core import open_store
from aggregator.page.model import Maintenance, Snapshot, Update
from aggregator.page.vocab import MaintenanceStatus
from aggregator.poll.schedule import PollSettings
from aggregator.serve.app import ServeConfig
from aggregator.store.writer import PollOutcome
from tests.conftest import FIXTURES, REPO
from tests.loopback import LoopbackServer
from tests.servehelp import Running, running

SP = FIXTURES / "statuspage"
FAST = PollSettings(interval=0.5, jitter=0.0, max_backoff=1.0, timeout=2.0, poll_processes=0, concurrency=8)


def families(srv: Running) -> dict[str, list]:
    reply = srv.get("/metrics")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(reply.body.decode())}


def wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def page_up(srv: Running) -> dict[str, float]:
    return {s.labels["provider"]: s.value for s in families(srv)["upstream_page_up"]}


@pytest.mark.slow
def test_metrics_parse_and_page_up_goes_to_zero_when_the_page_stops(tmp_path: Path) -> None:
    db = tmp_path / "up.db"
    with LoopbackServer() as one, LoopbackServer() as two:
        for page in (one, two):
            # No keep-alive: a stopped server must not go on answering on a pooled connection.
            page.set_file("/api/v2/summary.json", SP / "acme-2-incident-investigating.json",
                          headers={"Connection": "close"})
        with open_store(db) as store:
            store.add_provider("one", name="One", url=one.url(), platform="statuspage", category="Cloud")
            store.add_provider("two", name="Two", url=two.url(), platform="statuspage", category="Cloud")
        with running(ServeConfig(db=db, port=0, settings=FAST, log=lambda line: None)) as srv:
            wait_for(lambda: page_up(srv) == {"one": 1.0, "two": 1.0})
            got = families(srv)
            comp = got["upstream_component_status"]
            assert {tuple(sorted(s.labels)) for s in comp} == {("component", "group", "provider", "region", "status")}
            current = {(s.labels["provider"], s.labels["component"]): s.labels["status"] for s in comp if s.value == 1}
            assert len(current) == 8 and ("one", "REST API") in current
            assert all(sum(1 for s in comp if s.value == 1 and (s.labels["provider"], s.labels["component"]) == k) == 1
                       for k in current)  # a state set: one status at 1 per component
            prov = {s.labels["provider"]: s.labels["status"] for s in got["upstream_provider_status"] if s.value == 1}
            assert set(prov) == {"one", "two"}
            incidents = got["upstream_incidents_open"]
            assert {s.labels["provider"] for s in incidents} == {"one", "two"}
            assert {tuple(sorted(s.labels)) for s in incidents} == {("impact", "provider")}
            assert all(s.value > 1e9 for s in got["upstream_page_last_success_timestamp_seconds"])
            assert {s.labels["provider"] for s in got["upstream_fetch_duration_seconds"]} == {"one", "two"}
            assert got["upstream_polls"][0].value >= 2 and got["upstream_watching"][0].value == 1
            for name in ("upstream_poll_lag_seconds", "upstream_deliveries_pending", "upstream_deliveries_failed",
                         "upstream_maintenance_next_start_timestamp_seconds"):
                assert name in got, name
            text = srv.get("/metrics").body.decode()
            title = srv.get("/api/v1/providers/one").json()["incidents"][0]["title"]
            assert title and title not in text  # no incident title in any label
            # Every name the shipped Grafana dashboard and alert rules use is one /metrics exposes.
            exposed = set(got) | {s.name for samples in got.values() for s in samples}
            for doc in ("grafana-dashboard.json", "alert-rules.yml"):
                used = set(re.findall(r"upstream_[a-z_]+", (REPO / "docs" / doc).read_text())) - {"upstream_"}
                assert used and used <= exposed, (doc, used - exposed)
            two.stop()
            wait_for(lambda: page_up(srv) == {"one": 1.0, "two": 0.0})
            snap = srv.get("/api/v1/providers/two").json()
            assert snap["reachable"] is False and snap["status"] != "major_outage"


def maintenance(start: datetime, updated: datetime, body: str) -> Maintenance:
    return Maintenance(id="mnt1", title="Database upgrade", status=MaintenanceStatus.scheduled,
                       scheduled_for=start, scheduled_until=start + timedelta(hours=2), updated_at=updated,
                       updates=[Update(id=f"u{int(updated.timestamp())}", status="scheduled", body=body,
                                       created_at=updated)])


def test_rescheduled_maintenance_keeps_its_uid_and_bumps_sequence(tmp_path: Path) -> None:
    from aggregator.serve.calendar import calendar_bytes

    db = tmp_path / "up.db"
    base = Snapshot.model_validate(json.loads(json.dumps({"platform": "statuspage", "name": "Acme",
                                                          "url": "https://status.acme.test",
                                                          "status": "operational"})))
    now = datetime.now(UTC).replace(microsecond=0)
    first_start = now + timedelta(days=3)
    with open_store(db) as store:
        store.add_provider("acme", name="Acme", url="https://status.acme.test", platform="statuspage")
        store.apply(PollOutcome("acme", now - timedelta(hours=2), snapshot=base.model_copy(update={
            "maintenances": [maintenance(first_start, now - timedelta(hours=3), "Planned.")]})))

    def event() -> icalendar.Event:
        cal = icalendar.Calendar.from_ical(calendar_bytes(db))
        (ev,) = cal.walk("VEVENT")
        return ev

    before = event()
    assert str(before["UID"]) == "acme/mnt1@upstream" and before["STATUS"] == "CONFIRMED"
    assert before.decoded("DTSTART") == first_start
    with open_store(db) as store:
        store.apply(PollOutcome("acme", now - timedelta(hours=1), snapshot=base.model_copy(update={
            "maintenances": [maintenance(first_start + timedelta(days=1), now - timedelta(hours=1), "Moved a day.")]})))
    moved = event()
    assert str(moved["UID"]) == str(before["UID"])
    assert int(moved["SEQUENCE"]) > int(before["SEQUENCE"])
    assert moved.decoded("DTSTART") == first_start + timedelta(days=1) and "Moved a day." in str(moved["DESCRIPTION"])
    assert calendar_bytes(db) == calendar_bytes(db)  # no clock read: the same answer every time
    with open_store(db) as store:  # the vendor drops it before it starts: cancelled
        store.apply(PollOutcome("acme", now, snapshot=base))
    gone = event()
    assert str(gone["UID"]) == str(before["UID"]) and gone["STATUS"] == "CANCELLED"
    assert int(gone["SEQUENCE"]) > int(moved["SEQUENCE"])
