"""As a new user: follow a page, poll it while it changes, then ask what happened.

The recorded acme pages are served on a loopback server with every time moved so that the
incident happened three days ago (whatever day the test runs), so the 90-day figures hold.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from aggregator.cli.main import main
from tests.loopback import LoopbackServer
from tests.test_board_chromium import Dom
from tests.test_export import validate_json_export, validate_ndjson_export

from .conftest import FIXTURES

SP = FIXTURES / "statuspage"
RECORDED_DAY = date(2026, 11, 23)
_TIME = re.compile(rb'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))"')


def shifted(name: str) -> bytes:
    """A fixture with every timestamp moved by whole days, so it happened as long ago as recorded."""
    delta = timedelta(days=(datetime.now(UTC).date() - RECORDED_DAY).days)

    def move(m: re.Match[bytes]) -> bytes:
        when = datetime.fromisoformat(m.group(1).decode().replace("Z", "+00:00")) + delta
        return b'"' + when.isoformat(timespec="milliseconds").encode() + b'"'

    return _TIME.sub(move, (SP / name).read_bytes())


def when(text: str) -> str:
    """A recorded time, moved like the fixtures, as the store writes it."""
    moved = datetime.fromisoformat(text) + timedelta(days=(datetime.now(UTC).date() - RECORDED_DAY).days)
    return moved.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, (args, err)
    return out


def test_poll_a_changing_page_then_uptime_incidents_and_board_match(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    page = LoopbackServer().start()
    try:
        page.set("/api/v2/incidents.json", shifted("acme-incidents.json"))
        page.set("/api/v2/scheduled-maintenances.json", shifted("acme-scheduled-maintenances.json"))
        page.set("/api/v2/summary.json", shifted("acme-1-operational.json"))
        run(capsys, "--db", db, "add", page.url(), "--platform", "statuspage", "--id", "acme", "--name", "Acme",
            "--category", "Cloud")
        run(capsys, "--db", db, "poll")
        for name in ("acme-2-incident-investigating.json", "acme-3-incident-identified.json"):
            page.set("/api/v2/summary.json", shifted(name))
            run(capsys, "--db", db, "poll")
        page.stop()
        assert "unreachable" in run(capsys, "--db", db, "poll")
        page.start()
        for name in ("acme-4-resolved-gone.json", "acme-5-maintenance-scheduled.json",
                     "acme-6-maintenance-in-progress.json", "acme-1-operational.json"):
            page.set("/api/v2/summary.json", shifted(name))
            run(capsys, "--db", db, "poll")
    finally:
        page.stop()

    # Uptime: the REST API was down between the second and the fourth poll, GraphQL never.
    report = json.loads(run(capsys, "--db", db, "uptime", "acme", "--json"))
    comps = {c["name"]: c for c in report["components"]}
    assert list(comps) == ["REST API", "GraphQL API", "Dashboard", "Webhooks"]
    rest, graphql, dash = comps["REST API"], comps["GraphQL API"], comps["Dashboard"]
    assert rest["time_in_status_seconds"]["partial_outage"] > 0 and rest["uptime_percent"] < 100
    assert rest["days"][-1]["status"] == "partial_outage" and rest["days"][-2]["status"] is None
    assert graphql["uptime_percent"] == 100.0 and graphql["days"][-1]["status"] == "operational"
    assert dash["time_in_status_seconds"]["degraded_performance"] > 0
    assert dash["time_in_status_seconds"]["under_maintenance"] > 0  # counted as up, but seen
    for comp in comps.values():
        assert comp["time_in_status_seconds"]["unknown"] > 0  # the poll that could not reach the page
        assert comp["current_status"] == "operational"
    assert len(report["unreachable"]) == 1
    inc = report["incidents"]
    # The incident seen by the polls, and an older one read from incidents.json on first sight.
    assert (inc["count"], inc["by_impact"]["major"], inc["open"], inc["backfilled"], inc["observed"]) == \
        (2, 1, 0, 1, 1)
    assert inc["mttr_seconds"] == (4500.0 + 4800.0) / 2 and inc["mttr_counts"] == "over 2 resolved incidents"
    assert rest["incidents"]["count"] == 1 and graphql["incidents"]["count"] == 0

    text = run(capsys, "--db", db, "uptime", "acme")
    assert "REST API" in text and "Incidents: 2 (1 major, 1 minor); 1 from the vendor's history" in text
    assert "Mean time to resolve: 1h 17m (over 2 resolved incidents)" in text
    assert "Page unreachable 1 time(s)" in text

    # Incidents: the one that happened, with the vendor's own start and end.
    row, older = json.loads(run(capsys, "--db", db, "incidents", "--json"))
    assert (older["id"], older["backfilled"], row["backfilled"]) == ("inc0older001", True, False)
    assert (row["id"], row["impact"], row["status"], row["is_open"]) == ("inc0outage01", "major", "resolved", False)
    assert row["started_at"] == when("2026-11-20T09:00:00-07:00")
    assert row["resolved_at"] == when("2026-11-20T10:15:00-07:00")
    assert [u["status"] for u in row["updates"]] == ["resolved", "identified", "investigating"]
    (maint,) = json.loads(run(capsys, "--db", db, "incidents", "--kind", "maintenance", "--json"))
    assert (maint["id"], maint["status"]) == ("mnt0db000001", "completed")
    assert json.loads(run(capsys, "--db", db, "incidents", "--open", "--json")) == []
    assert "Elevated REST API error rates" in run(capsys, "--db", db, "incidents", "acme", "--since", "30d")

    # The board shows the same story.
    site = tmp_path / "site"
    run(capsys, "--db", db, "export", "--format", "html", "-o", str(site))
    board = Dom((site / "providers" / "acme.html").read_text()).text
    (status,) = json.loads(run(capsys, "--db", db, "status", "--json"))
    as_of = json.loads(run(capsys, "--db", db, "uptime", "acme", "--json", "--until", status["last_polled_at"]))
    rest_then = next(c for c in as_of["components"] if c["id"] == rest["id"])
    for words in ("Acme", "All Systems Operational", "Elevated REST API error rates major resolved",
                  "This incident has been resolved.", "lasted 1h 15m", "Database upgrade", "REST API",
                  # seconds of polling: no percentage, only what the figure covers
                  f"Observed by upstream: - ({rest_then['coverage']['text']})", "No data",
                  "from the vendor's history"):
        assert words in board, words
    assert "Current incidents" not in board
    index = Dom((site / "index.html").read_text()).text
    assert "Cloud" in index and "Acme" in index and "Operational" in index

    # And the data exports agree with the schema and with the log.
    validate_json_export(run(capsys, "--db", db, "export", "--history").encode())
    validate_ndjson_export(run(capsys, "--db", db, "export", "-f", "ndjson", "--history").encode())
    history = json.loads(run(capsys, "--db", db, "history", "acme", "--json"))
    feed = feedparser.parse(run(capsys, "--db", db, "export", "-f", "atom").encode())
    assert not feed.bozo and len(feed.entries) == len(history)
    assert [e.id for e in feed.entries] == [f"tag:upstream,2026:event/acme/{ev['seq']}" for ev in reversed(history)]
