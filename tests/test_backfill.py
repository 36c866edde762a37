"""Backfill on first sight (issue 13): a Statuspage page served on 127.0.0.1 whose incidents.json
holds resolved incidents. The first poll stores them with the vendor's times and all their updates,
marked backfilled, and queues no delivery; a second poll adds nothing; the vanished-incident path
updates them in place; a page whose history cannot be read still follows."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.cli.main import main
from tests.loopback import LoopbackServer

from .conftest import FIXTURES

COURIER = FIXTURES / "statuspage" / "courier"


# The fixture was authored on this day; served, every time and date in it moves by the days since,
# so that it is always as long ago as written (the 90-day figures hold whatever day tests run).
AUTHORED = date(2026, 12, 3)
_WHEN = re.compile(rb'"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)?"')


def moved(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=(datetime.now(UTC).date() - AUTHORED).days)).isoformat()


def shifted(name: str) -> bytes:
    return _WHEN.sub(lambda m: b'"' + moved(m.group(1).decode()).encode() + (m.group(2) or b"") + b'"',
                     (COURIER / name).read_bytes())


def z(vendor_time: str) -> str:
    """A vendor's time as served (moved) and as the store writes it (UTC, Z, no zero milliseconds)."""
    return moved(vendor_time[:10]) + vendor_time[10:].replace(".000Z", "Z")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, (args, err)
    return out


def serve_courier(page: LoopbackServer, *, history: bool = True) -> None:
    page.set("/api/v2/summary.json", shifted("summary.json"))
    if history:
        page.set("/api/v2/incidents.json", shifted("incidents.json"))
        page.set("/api/v2/scheduled-maintenances.json", shifted("scheduled-maintenances.json"))
    page.set("/", shifted("index.html"), content_type="text/html; charset=utf-8")


def counts(db: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("incidents", "incident_updates", "events", "deliveries", "vendor_uptime")}
    finally:
        conn.close()


def follow(capsys: pytest.CaptureFixture[str], db: str, page: LoopbackServer, tmp_path: Path) -> None:
    run(capsys, "--db", db, "add", page.url(), "--platform", "statuspage", "--id", "courier", "--name", "Courier",
        "--category", "Email & Communication")
    # A subscription that wants everything: were backfilled notices news, it would get them.
    run(capsys, "--db", db, "subscribe", f"file:{tmp_path / 'told.ndjson'}", "--kinds",
        "incident,component,maintenance,provider")


def test_first_poll_backfills_history_without_notifying(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    with LoopbackServer() as page:
        serve_courier(page)
        follow(capsys, db, page, tmp_path)
        run(capsys, "--db", db, "poll")
        first = counts(db)
        run(capsys, "--db", db, "poll")
        assert page.hit_count("/api/v2/incidents.json") == 1  # history is read on first sight only
        second = counts(db)

    incidents = json.loads(run(capsys, "--db", db, "incidents", "courier", "--json"))
    assert [i["id"] for i in incidents] == [f"cour0inc000{n}" for n in range(1, 6)]
    source = {i["id"]: i for i in json.loads((COURIER / "incidents.json").read_bytes())["incidents"]}
    for inc in incidents:
        vendor = source[inc["id"]]
        assert inc["backfilled"] is True
        assert inc["started_at"] == z(vendor["started_at"])
        assert inc["resolved_at"] == z(vendor["resolved_at"])
        assert inc["is_open"] is False
        # every update, and the post-mortem as a final update
        expected = len(vendor["incident_updates"]) + (1 if vendor.get("postmortem_body") else 0)
        assert len(inc["updates"]) == expected
    postmortem = incidents[0]["updates"][0]
    assert postmortem["status"] == "postmortem" and "| " in postmortem["body"]

    maintenances = json.loads(run(capsys, "--db", db, "incidents", "courier", "--kind", "maintenance", "--json"))
    assert [(m["id"], m["backfilled"]) for m in maintenances] == [("cour0mnt0001", True)]

    assert first["deliveries"] == 0, "a backfilled notice must never notify anyone"
    assert second == first, "a second poll adds nothing"
    assert first["incidents"] == 6
    assert first["vendor_uptime"] == 6 * 90

    # history: each line says when it happened at the vendor and when upstream saw it
    text = " ".join(run(capsys, "--db", db, "history", "courier").split())  # rich wraps long lines
    assert text.count("incident resolved: Webhook retries delayed") == 1
    assert re.search(rf"incident resolved: Webhook retries delayed \[none\] \(investigating -> resolved\) "
                     rf"\(from history\) \(at vendor {moved('2026-10-09')} \d\d:10 ", text), text
    table = run(capsys, "--db", db, "incidents", "courier")
    assert "Delayed email and SMS delivery" in table


def test_vanished_incident_updates_backfill_without_duplicates(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    summary = json.loads(shifted("summary.json"))
    history = json.loads(shifted("incidents.json"))
    open_one = {**history["incidents"][1], "status": "identified", "resolved_at": None,
                "incident_updates": history["incidents"][1]["incident_updates"][-1:]}
    with LoopbackServer() as page:
        serve_courier(page)
        page.set("/api/v2/summary.json", json.dumps({**summary, "incidents": [open_one]}))
        follow(capsys, db, page, tmp_path)
        run(capsys, "--db", db, "poll")
        opened = json.loads(run(capsys, "--db", db, "incidents", "courier", "--open", "--json"))
        assert [(i["id"], i["backfilled"]) for i in opened] == [("cour0inc0002", False)]  # seen open: news
        page.set("/api/v2/summary.json", shifted("summary.json"))  # it left the page
        before = counts(db)
        run(capsys, "--db", db, "poll")
        assert page.hit_count("/api/v2/incidents.json") == 2
        after = counts(db)
    rows = json.loads(run(capsys, "--db", db, "incidents", "courier", "--json"))
    assert len(rows) == 5 and len({r["id"] for r in rows}) == 5
    ended = next(r for r in rows if r["id"] == "cour0inc0002")
    assert ended["resolved_at"] == history["incidents"][1]["resolved_at"].replace(".000Z", "Z") and not ended["backfilled"]
    assert len(ended["updates"]) == len(history["incidents"][1]["incident_updates"])
    assert after["incidents"] == before["incidents"]
    assert after["events"] == before["events"] + 1  # the observed incident's resolution, nothing backfilled again


def test_a_page_whose_history_cannot_be_read_still_follows(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    with LoopbackServer() as page:
        serve_courier(page, history=False)  # incidents.json answers 404
        follow(capsys, db, page, tmp_path)
        run(capsys, "--db", db, "poll")
    status = json.loads(run(capsys, "--db", db, "status", "courier", "--json"))
    assert status[0]["reachable"] is True and status[0]["status"] == "operational"
    assert run(capsys, "--db", db, "incidents", "courier").strip() == "No incidents."


def test_show_prints_the_vendor_page_in_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    with LoopbackServer() as page:
        serve_courier(page)
        follow(capsys, db, page, tmp_path)
        run(capsys, "--db", db, "poll")
    text = " ".join(run(capsys, "--db", db, "show", "courier").split())
    for words in ("Courier Email & Communication · statuspage", "operational - All Systems Operational",
                  "Email", "operational", "99.96%", "Push", "99.88%",
                  "observed by upstream - (", "reported by the vendor: lowest component 99.88% (vendor-reported, 88 days)",
                  "Delayed email and SMS delivery [major] postmortem from the vendor's history",
                  "lasted 2h 38m", "Post-mortem: delayed email and SMS delivery", "Channel Delayed Longest delay Lost",
                  "upstream subscribe https://example.com/your-webhook --provider courier", "Polled every 1m; next due"):
        assert words in text, words
    assert "<script" not in text and "onerror" not in text and "<b>" not in text
    data = json.loads(run(capsys, "--db", db, "show", "courier", "--json"))
    assert data["uptime"]["observed"]["shown"] == "-" and data["next_due_at"] is not None
    assert [c["name"] for c in data["components"]] == ["API", "Dashboard", "Email", "SMS", "Push"]
    assert main(["--db", db, "show", "nobody"]) == 1
    assert "not following 'nobody'" in capsys.readouterr().err
