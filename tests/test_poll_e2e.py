"""End to end through the CLI: a Statuspage page on a loopback server, polled as it changes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from aggregator.cli.main import main
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer

SP = FIXTURES / "statuspage"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def page() -> LoopbackServer:
    server = LoopbackServer().start()
    server.set_file("/api/v2/summary.json", SP / "acme-1-operational.json")
    server.set_file("/api/v2/incidents.json", SP / "acme-incidents.json")
    server.set_file("/api/v2/scheduled-maintenances.json", SP / "acme-scheduled-maintenances.json")
    yield server
    server.stop()


def kinds(capsys: pytest.CaptureFixture[str], db: Path, since_seq: int = 0) -> list[tuple[str, str | None]]:
    code, out, _ = run(capsys, "--db", str(db), "history", "acme", "--json")
    assert code == 0
    # Past incidents read from incidents.json on first sight (backfilled) are tested in test_backfill.
    return [(e["kind"], e["subject_id"]) for e in json.loads(out) if e["seq"] > since_seq
            and not (e["detail"] or {}).get("backfilled")]


def last_seq(capsys: pytest.CaptureFixture[str], db: Path) -> int:
    code, out, _ = run(capsys, "--db", str(db), "history", "acme", "--json")
    events = json.loads(out)
    return events[-1]["seq"] if events else 0


def test_page_changes_give_exactly_the_right_events(tmp_path: Path, page: LoopbackServer,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "up.db"
    code, out, err = run(capsys, "--db", str(db), "add", page.url(), "--platform", "statuspage", "--id", "acme",
                         "--name", "Acme")
    assert (code, out.strip(), err) == (0, "acme", "")

    # First sight: one provider event carrying the initial state, no event per component.
    assert run(capsys, "--db", str(db), "poll")[0] == 0
    assert kinds(capsys, db) == [("provider.status_changed", "acme")]

    # Unchanged page: the server answers 304 and nothing is written.
    seq = last_seq(capsys, db)
    assert run(capsys, "--db", str(db), "poll")[0] == 0
    assert kinds(capsys, db, seq) == []
    assert page.hits[-1][1].get("if-none-match")

    # An incident opens and a component goes down.
    page.set_file("/api/v2/summary.json", SP / "acme-2-incident-investigating.json")
    run(capsys, "--db", str(db), "poll")
    assert kinds(capsys, db, seq) == [
        ("provider.status_changed", "acme"),
        ("component.status_changed", "cmp0rest0001"),
        ("incident.opened", "inc0outage01"),
    ]
    seq = last_seq(capsys, db)

    # The incident is updated and another component degrades.
    page.set_file("/api/v2/summary.json", SP / "acme-3-incident-identified.json")
    run(capsys, "--db", str(db), "poll")
    assert kinds(capsys, db, seq) == [("component.status_changed", "cmp0dash0001"),
                                      ("incident.updated", "inc0outage01")]
    seq = last_seq(capsys, db)

    # It leaves summary.json: the end comes from incidents.json, with the vendor's own time.
    page.set_file("/api/v2/summary.json", SP / "acme-4-resolved-gone.json")
    run(capsys, "--db", str(db), "poll")
    code, out, _ = run(capsys, "--db", str(db), "history", "acme", "--json")
    new = [e for e in json.loads(out) if e["seq"] > seq]
    assert [(e["kind"], e["subject_id"]) for e in new] == [
        ("provider.status_changed", "acme"),
        ("component.status_changed", "cmp0rest0001"),
        ("component.status_changed", "cmp0dash0001"),
        ("incident.resolved", "inc0outage01"),
    ]
    resolved = new[-1]
    assert resolved["occurred_at"] == "2026-11-20T17:15:00Z"  # 10:15 -07:00
    assert resolved["old"] == "identified" and resolved["new"] == "resolved"

    # status --json carries the snapshot and its fetch health.
    code, out, _ = run(capsys, "--db", str(db), "status", "--json")
    (snap,) = json.loads(out)
    assert snap["provider"] == "acme" and snap["status"] == "operational" and snap["reachable"] is True
    assert [c["name"] for c in snap["components"]] == ["REST API", "GraphQL API", "Dashboard", "Webhooks"]
    assert snap["components"][0]["group"] == "API"


def test_unreachable_then_recovered(tmp_path: Path, page: LoopbackServer,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "up.db"
    run(capsys, "--db", str(db), "add", page.url(), "--platform", "statuspage", "--id", "acme")
    run(capsys, "--db", str(db), "poll")
    page.stop()
    code, out, _ = run(capsys, "--db", str(db), "poll")
    assert code == 0 and "unreachable" in out
    run(capsys, "--db", str(db), "poll")  # still down: no second event
    code, out, _ = run(capsys, "--db", str(db), "status", "--json")
    (snap,) = json.loads(out)
    assert snap["reachable"] is False and "connection" in snap["last_error"]
    assert snap["status"] == "operational"  # the last known state is kept, never "down"
    page.start()  # same port
    run(capsys, "--db", str(db), "poll")
    assert [k for k, _ in kinds(capsys, db)] == ["provider.status_changed", "provider.unreachable",
                                                 "provider.recovered"]


def test_html_instead_of_json_is_unreachable_with_reason(tmp_path: Path, page: LoopbackServer,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "up.db"
    page.set_file("/api/v2/summary.json", SP / "login.html", content_type="text/html")
    run(capsys, "--db", str(db), "add", page.url(), "--platform", "statuspage", "--id", "acme")
    code, out, _ = run(capsys, "--db", str(db), "poll")
    assert code == 0
    code, out, _ = run(capsys, "--db", str(db), "status", "--json")
    (snap,) = json.loads(out)
    assert snap["reachable"] is False and "login" in snap["last_error"]
    assert snap["status"] == "unknown"


def test_maintenance_lifecycle(tmp_path: Path, page: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "up.db"
    run(capsys, "--db", str(db), "add", page.url(), "--platform", "statuspage", "--id", "acme")
    run(capsys, "--db", str(db), "poll")
    seq = last_seq(capsys, db)
    page.set_file("/api/v2/summary.json", SP / "acme-5-maintenance-scheduled.json")
    run(capsys, "--db", str(db), "poll")
    page.set_file("/api/v2/summary.json", SP / "acme-6-maintenance-in-progress.json")
    run(capsys, "--db", str(db), "poll")
    page.set_file("/api/v2/summary.json", SP / "acme-1-operational.json")
    run(capsys, "--db", str(db), "poll")
    assert kinds(capsys, db, seq) == [
        ("maintenance.scheduled", "mnt0db000001"),
        ("provider.status_changed", "acme"),
        ("component.status_changed", "cmp0dash0001"),
        ("maintenance.started", "mnt0db000001"),
        ("provider.status_changed", "acme"),
        ("component.status_changed", "cmp0dash0001"),
        ("maintenance.completed", "mnt0db000001"),
    ]


def test_database_file_is_private(tmp_path: Path, page: LoopbackServer, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "deep" / "up.db"
    run(capsys, "--db", str(db), "add", page.url(), "--platform", "statuspage", "--id", "acme")
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_bad_input_is_one_line_and_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "up.db"
    cases = [
        ("--db", str(db), "status"),  # no database yet
        ("--db", str(db), "add", "ftp://example.com", "--platform", "statuspage"),
        ("--db", str(db), "add", "https://x.test", "--platform", "nope"),
        ("--db", str(db), "parse", "statuspage", str(tmp_path / "missing.json")),
        ("--db", str(db), "parse", "nope", str(tmp_path)),
        ("--db", str(db), "history", "ghost"),
        ("--db", str(db), "history", "acme", "--since", "not-a-time"),
        ("--db", str(db), "export", "--format", "xml"),
        ("--db", str(db), "poll", "ghost"),
    ]
    run(capsys, "--db", str(db), "add", "https://status.acme.test", "--platform", "statuspage", "--id", "acme")
    for args in cases[1:]:
        code, out, err = run(capsys, *args)
        assert code != 0, args
        assert err.count("\n") == 1 and err.startswith("upstream: error:"), (args, err)
        assert "Traceback" not in err
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    for command in ("status", "poll"):
        code, _, err = run(capsys, "--db", str(corrupt), command)
        assert code == 1 and "not a usable upstream database" in err and err.count("\n") == 1
    assert corrupt.read_bytes() == b"this is not sqlite" * 100  # nothing already there is lost
    code, _, err = run(capsys, "--db", str(tmp_path / "none.db"), "status")
    assert code == 1 and "no database" in err


def test_add_without_platform_detects_it(tmp_path: Path, page: LoopbackServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "up.db"
    page.set("/", "<html><head><title>Acme Cloud Status</title></head><body>Powered by Atlassian Statuspage"
                  "</body></html>", content_type="text/html")
    code, out, err = run(capsys, "--db", str(db), "add", page.url("/"))
    assert (code, out.strip()) == (0, "acme-cloud"), err  # the id comes from the page's own name
    code, out, _ = run(capsys, "--db", str(db), "poll", "--json")
    assert json.loads(out)["changed"] == 1
    code, out, _ = run(capsys, "--db", str(db), "status", "--json")
    (snap,) = json.loads(out)
    assert snap["platform"] == "statuspage" and snap["name"] == "Acme Cloud" and len(snap["components"]) == 4


def test_add_a_page_that_is_not_a_status_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with LoopbackServer() as server:
        server.set("/", "<html><head><title>Buy our widgets</title></head><body>Hello</body></html>",
                   content_type="text/html")
        code, _, err = run(capsys, "--db", str(tmp_path / "up.db"), "add", server.url("/"))
    assert code == 1 and "not_status_page" in err and err.count("\n") == 1


def test_status_io_page_is_followed_through_its_page_id() -> None:
    from aggregator.adapters import get_adapter, resolve_poll_url

    url = resolve_poll_url(get_adapter("statusio"), "https://status.gitlab.com", page_id="5b36dc6502d06804c08349f7")
    (ep,) = get_adapter("statusio").endpoints(url)
    assert ep.url == "https://api.status.io/1.0/status/5b36dc6502d06804c08349f7"
    feed = resolve_poll_url(get_adapter("feed"), "https://acme.test", feed_url="https://acme.test/feed.atom")
    assert feed == "https://acme.test/feed.atom"


def test_a_host_that_does_not_resolve_is_a_dns_failure() -> None:
    from aggregator.http import HttpClient, run

    async def fetch() -> str | None:
        async with HttpClient(timeout=5) as http:
            return (await http.fetch("http://no-such-host.invalid/api/v2/summary.json")).error

    error = run(fetch())
    assert error is not None and error.startswith("DNS lookup failed"), error
