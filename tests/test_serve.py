"""``upstream serve`` against a real server on 127.0.0.1: every endpoint, ETags, paging, problems, token."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from aggregator.serve.app import ServeConfig
from tests import boarddb
from tests.conftest import REPO
from tests.servehelp import Running, running

SCHEMAS = REPO / "aggregator" / "schema"


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


@pytest.fixture(scope="module")
def board_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return boarddb.build(tmp_path_factory.mktemp("serve") / "up.db")


@pytest.fixture(scope="module")
def server(board_db: Path) -> Iterator[Running]:
    with running(ServeConfig(db=board_db, port=0, watch=False, log=lambda line: None)) as srv:
        yield srv


def test_providers_are_the_exported_snapshots_filtered(server: Running) -> None:
    validator = jsonschema.Draft202012Validator(schema("snapshot"))
    reply = server.get("/api/v1/providers")
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    snaps = reply.json()
    assert [s["provider"] for s in snaps] == ["acme", "evil", "quiet"]
    for snap in snaps:
        validator.validate(snap)
    assert [s["provider"] for s in server.get("/api/v1/providers?category=cloud").json()] == ["acme"]
    assert [s["provider"] for s in server.get("/api/v1/providers?status=major_outage").json()] == ["evil"]
    assert len(server.get("/api/v1/providers?platform=statuspage").json()) == 3
    assert server.get("/api/v1/providers?platform=cachet").json() == []
    one = server.get("/api/v1/providers/acme").json()
    validator.validate(one)
    assert one["status"] == "degraded_performance" and one["incidents"][0]["id"] == "inc0hook0001"
    comps = server.get("/api/v1/providers/acme/components").json()
    assert [c["name"] for c in comps] == ["REST API", "GraphQL API", "Dashboard", "Webhooks"]


def test_incidents_maintenances_summary_catalog(server: Running) -> None:
    open_ = server.get("/api/v1/incidents?open=true&provider=acme").json()
    assert [i["id"] for i in open_] == ["inc0hook0001"] and open_[0]["updates"]
    every = server.get("/api/v1/incidents?provider=acme&since=2026-09-01").json()
    assert {"inc0gql00001", "inc0hook0001"} <= {i["id"] for i in every}
    critical = server.get("/api/v1/incidents?impact=critical&since=2026-09-01").json()
    assert {i["id"] for i in critical} == {"inc0gql00001", "inc0evil0001"}
    assert all(i["impact"] == "critical" for i in critical)
    upcoming = server.get("/api/v1/maintenances").json()
    assert upcoming and all(m["kind"] == "maintenance" and m["is_open"] for m in upcoming)
    summary = server.get("/api/v1/summary").json()
    assert summary["anything_down"] is True
    assert {d["provider"] for d in summary["down"]} == {"acme", "evil"}
    hits = server.get("/api/v1/catalog?q=github").json()
    assert hits and hits[0]["id"].startswith("github")


def test_openapi_and_problems(server: Running) -> None:
    doc = server.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.1") and "/api/v1/events" in doc["paths"]
    assert doc["components"]["schemas"]["Snapshot"]["title"] == "Snapshot"
    for path, status in (("/api/v1/providers/nope", 404), ("/api/v1/events?after_seq=x", 400),
                         ("/api/v1/events?limit=0", 400), ("/api/v1/incidents?since=whenever", 400),
                         ("/api/v1/providers?status=sad", 400), ("/api/v1/catalog", 400), ("/nothing", 404),
                         ("/badge/nope.svg", 404), ("/providers/nope.html", 404)):
        reply = server.get(path)
        assert reply.status == status, path
        assert reply.headers["content-type"].startswith("application/problem+json"), path
        body = reply.json()
        assert body["status"] == status and body["title"] and body["type"] == "about:blank", path
    post = server.get("/api/v1/providers", method="POST", body=b"{}")
    assert post.status == 405 and post.json()["status"] == 405
    big = server.get("/api/v1/providers", method="GET", body=b"x" * 100_000)
    assert big.status == 413


def test_every_get_has_an_etag_and_answers_304(server: Running) -> None:
    paths = ["/", "/index.html", "/providers/acme.html", "/categories/cloud.html", "/feed.xml",
             "/providers/acme/feed.xml", "/categories/Cloud/feed.xml", "/calendar.ics", "/providers/acme/calendar.ics",
             "/badge/acme.svg", "/badge/acme/Webhooks.svg", "/api/v1/providers", "/api/v1/providers/acme",
             "/api/v1/providers/acme/components", "/api/v1/incidents", "/api/v1/maintenances", "/api/v1/events",
             "/api/v1/catalog?q=slack", "/api/v1/summary", "/api/v1/openapi.json", "/static/live.js"]
    for path in paths:
        first = server.get(path)
        assert first.status == 200, path
        etag = first.headers["etag"]
        assert etag.startswith('"'), path
        again = server.get(path, {"If-None-Match": etag})
        assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag, path
        assert server.get(path, {"If-None-Match": '"other"'}).status == 200, path


def test_board_pages_are_the_export_templates_live_and_escaped(server: Running) -> None:
    index = server.get("/").body.decode()
    assert "Status board" in index and 'href="categories/cloud.html"' in index
    assert 'src="static/live.js"' in index and '<noscript><meta http-equiv="refresh"' in index
    evil = server.get("/providers/evil.html").body.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Login outage" in evil and "<script>alert" not in evil
    cloud = server.get("/categories/cloud.html").body.decode()
    assert "Acme Cloud" in cloud and "Evil" not in cloud
    other = server.get("/categories/other.html").body.decode()
    assert "Quiet Co" in other and "Acme Cloud" not in other


def test_feeds_include_maintenances_and_badges_are_svg(server: Running) -> None:
    import defusedxml.ElementTree as ET

    feed = ET.fromstring(server.get("/providers/acme/feed.xml").body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    terms = {c.get("term") for c in feed.findall("a:entry/a:category", ns)}
    assert "maintenance.scheduled" in terms and terms <= {"acme"} | {t for t in terms if "." in t}
    cloud = ET.fromstring(server.get("/categories/cloud/feed.xml").body)
    assert {c.get("term") for c in cloud.findall("a:entry/a:category[@scheme='tag:upstream,2026:provider']", ns)} \
        == {"acme"}
    svg = server.get("/badge/evil.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    doc = ET.fromstring(svg.body)
    assert doc.tag.endswith("svg") and "major outage" in svg.body.decode()
    assert "Evil &lt;Corp&gt;" in svg.body.decode()  # the vendor's name escaped
    comp = server.get("/badge/acme/Webhooks.svg").body.decode()
    assert "Webhooks" in comp and "degraded" in comp


def test_token_is_required_when_set(board_db: Path) -> None:
    with running(ServeConfig(db=board_db, port=0, watch=False, token="s3cret", log=lambda line: None)) as srv:
        for path in ("/api/v1/summary", "/metrics", "/", "/calendar.ics"):
            denied = srv.get(path)
            assert denied.status == 401 and denied.json()["status"] == 401, path
            assert denied.headers["www-authenticate"].startswith("Bearer")
            assert srv.get(path, {"Authorization": "Bearer wrong"}).status == 401
            assert srv.get(path, {"Authorization": "Bearer s3cret"}).status == 200


def test_rate_limit_answers_429(board_db: Path) -> None:
    with running(ServeConfig(db=board_db, port=0, watch=False, rate=1, burst=5, log=lambda line: None)) as srv:
        codes = [srv.get("/healthz").status for _ in range(12)]
        assert codes[:5] == [200] * 5 and 429 in codes


@pytest.mark.slow
def test_cursor_paging_over_10000_events_has_no_gap_or_repeat(tmp_path: Path) -> None:
    db = boarddb.build(tmp_path / "up.db")
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO events (kind, provider, subject_id, subject_name, old, new, observed_at) "
                     "VALUES ('component.status_changed', 'acme', 'c', 'C', 'operational', ?, ?)",
                     [("major_outage" if n % 2 else "operational", f"2026-11-27T10:{n % 60:02d}:00Z")
                      for n in range(10_000)])
    conn.commit()
    expected = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    conn.close()
    assert len(expected) > 10_000
    validator = jsonschema.Draft202012Validator(schema("event"))
    with running(ServeConfig(db=db, port=0, watch=False, rate=10_000, burst=10_000, log=lambda line: None)) as srv:
        seen: list[int] = []
        after = 0
        while True:
            page = srv.get(f"/api/v1/events?after_seq={after}&limit=997").json()
            for ev in page["events"][:3]:
                validator.validate(ev)
            seen += [e["seq"] for e in page["events"]]
            after = page["next_after_seq"]
            if not page["more"]:
                break
        assert seen == expected  # every event once, in order
        assert srv.get(f"/api/v1/events?after_seq={after}").json()["events"] == []


def test_ics_export_is_what_serve_serves(board_db: Path, server: Running,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from aggregator.cli.main import main

    out = board_db.parent / "m.ics"
    assert main(["--db", str(board_db), "export", "--format", "ics", "-o", str(out)]) == 0
    assert out.read_bytes() == server.get("/calendar.ics").body
    assert main(["--db", str(board_db), "export", "--format", "ics", "-p", "acme", "-o", str(out)]) == 0
    assert out.read_bytes() == server.get("/providers/acme/calendar.ics").body
    assert main(["--db", str(board_db), "export", "--format", "ics", "-p", "nobody"]) == 1
    assert "not following" in capsys.readouterr().err
    time.sleep(0)
