"""Exports of a replayed database: JSON Schema, determinism, ndjson round-trip, Atom, hostile text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from defusedxml.ElementTree import fromstring as safe_xml

from aggregator.cli.main import main
from aggregator.history.export import Selection, export_atom, export_html, export_snapshots, safe_url, select
from aggregator.history.export_models import WHATS, ExportedSnapshot, schema_bytes
from aggregator.page.model import Event
from aggregator.store.reader import open_readonly
from tests import boarddb
from tests.conftest import REPO

SCHEMA_DIR = REPO / "aggregator" / "schema"

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _utc_time(value: object) -> bool:
    """Our contract is stricter than RFC 3339: every exported time is UTC, written with Z."""
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not value.endswith("Z"):
        raise ValueError(f"{value!r} is not UTC with Z")
    return True


def validator(what: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{what}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def validate_json_export(data: bytes) -> Any:
    doc = json.loads(data)
    validator("export").validate(doc)
    return doc


def validate_ndjson_export(data: bytes) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in data.decode().splitlines()]
    for line in lines:
        validator("event" if "kind" in line else "snapshot").validate(line)
    return lines


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return boarddb.build(tmp_path_factory.mktemp("board") / "up.db")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------------------------
# JSON Schema
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("what", WHATS)
def test_shipped_schema_is_generated_from_the_models(what: str, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = (SCHEMA_DIR / f"{what}.schema.json").read_bytes()
    assert shipped == schema_bytes(what), f"regenerate: upstream schema --what {what} > {SCHEMA_DIR}/{what}.schema.json"
    code, out, _ = run(capsys, "schema", "--what", what)
    assert code == 0 and out.encode() == shipped


def test_schema_is_strict_enough_to_catch_a_bad_export() -> None:
    good = {"provider": "a", "platform": "statuspage", "status": "operational", "components": [],
            "incidents": [], "maintenances": []}
    validator("snapshot").validate(good)
    for bad in ({**good, "status": "down"}, {**good, "surprise": 1}, {**good, "fetched_at": "2026-11-20T10:00:00+02:00"},
                {k: v for k, v in good.items() if k != "platform"}):
        with pytest.raises(jsonschema.ValidationError):
            validator("snapshot").validate(bad)


@pytest.mark.parametrize("providers, categories", [((), ()), (("acme",), ()), ((), ("security",)),
                                                    (("quiet",), ())])
def test_every_export_validates(db: Path, providers: tuple[str, ...], categories: tuple[str, ...]) -> None:
    conn = open_readonly(db)
    selection = select(conn, providers, categories)
    for history in (False, True):
        doc = validate_json_export(export_snapshots(conn, "json", selection=selection, history=history))
        snaps = doc["snapshots"] if history else doc
        assert snaps, "an empty export proves nothing"
        if history:
            assert {e["provider"] for e in doc["events"]} <= {s["provider"] for s in snaps}
        validate_ndjson_export(export_snapshots(conn, "ndjson", selection=selection, history=history))
    assert {s["provider"] for s in snaps} == set(selection.ids or ("acme", "evil", "quiet"))


def test_cli_export_json_validates_and_filters(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(db), "export", "--format", "json", "--history")
    doc = validate_json_export(out.encode())
    assert [s["provider"] for s in doc["snapshots"]] == ["acme", "evil", "quiet"]
    assert [e["seq"] for e in doc["events"]] == sorted(e["seq"] for e in doc["events"])
    code, out, _ = run(capsys, "--db", str(db), "export", "--category", "Cloud", "--category", "SECURITY")
    assert [s["provider"] for s in json.loads(out)] == ["acme", "evil"]
    code, out, _ = run(capsys, "--db", str(db), "export", "-p", "Acme Cloud", "-f", "ndjson", "--history",
                       "--limit", "2")
    lines = validate_ndjson_export(out.encode())
    assert [line.get("provider") for line in lines] == ["acme"] * 3 and "kind" in lines[-1]


# ------------------------------------------------------------------------------------------------
# Round trip and determinism
# ------------------------------------------------------------------------------------------------

def test_ndjson_round_trips(db: Path) -> None:
    conn = open_readonly(db)
    everything = json.loads(export_snapshots(conn, "json", history=True))
    lines = [json.loads(line) for line in export_snapshots(conn, "ndjson", history=True).splitlines()]
    assert lines == everything["snapshots"] + everything["events"]
    for line in lines:
        model = Event if "kind" in line else ExportedSnapshot
        parsed = model.model_validate(line)
        assert parsed.model_dump(mode="json", exclude_unset=True) == line
    snap = ExportedSnapshot.model_validate(lines[0])
    assert snap.provider == "acme" and snap.components[0].group == "API" and snap.incidents[0].id == "inc0hook0001"


def test_exports_are_deterministic(db: Path, tmp_path: Path) -> None:
    conn = open_readonly(db)
    for fmt in ("json", "ndjson"):
        assert export_snapshots(conn, fmt, history=True) == export_snapshots(open_readonly(db), fmt, history=True)
    assert export_atom(conn) == export_atom(open_readonly(db))
    first = export_html(conn, tmp_path / "a")
    second = export_html(open_readonly(db), tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a
    # index, a page and an Atom feed per provider, a page per category, the feed of all changes
    assert sorted(p.name for p in first) == ["acme.html", "acme.xml", "cloud.html", "evil.html", "evil.xml",
                                             "feed.xml", "index.html", "other.html", "quiet.html", "quiet.xml",
                                             "security.html"]


# ------------------------------------------------------------------------------------------------
# Atom
# ------------------------------------------------------------------------------------------------

def test_atom_is_one_valid_feed_of_every_change(db: Path) -> None:
    conn = open_readonly(db)
    data = export_atom(conn)
    root = safe_xml(data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = root.findall("a:entry", ns)
    n_events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert len(entries) == n_events > 20
    ids = [e.findtext("a:id", namespaces=ns) for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("tag:upstream,2026:event/") for i in ids)
    for entry in entries:  # what RFC 4287 requires of every entry
        assert entry.findtext("a:title", namespaces=ns) and entry.findtext("a:updated", namespaces=ns)
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.id == "tag:upstream,2026:feed" and parsed.feed.updated == "2026-11-26T14:00:00Z"  # the newest change
    assert len(parsed.entries) == n_events
    seq_max = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    assert parsed.entries[0].id.endswith(f"/{seq_max}")  # newest first
    hostile = next(e for e in parsed.entries if boarddb.HOSTILE_TITLE in e.title)
    assert hostile.link == "https://evil.test"  # the incident's javascript: url is never a link
    assert "onerror=alert(2)" in hostile.content[0].value and hostile.content[0].type == "text/plain"
    opened = next(e for e in parsed.entries if "Delayed webhook deliveries" in e.title)
    assert opened.link == "https://stspg.io/acmehook"
    assert "A queue backlog delays deliveries" in opened.content[0].value
    only = feedparser.parse(export_atom(conn, select(conn, ["Evil <Corp>"])))
    assert only.feed.id == "tag:upstream,2026:feed?provider=evil"  # the same feed, however it was named
    assert {e.id.split("/")[1] for e in only.entries} == {"evil"}


def test_control_characters_never_break_the_xml(db: Path) -> None:
    data = export_atom(open_readonly(db))
    ET.fromstring(data)  # would raise on \x01 from the hostile update body
    assert b"\x01" not in data


# ------------------------------------------------------------------------------------------------
# HTML board
# ------------------------------------------------------------------------------------------------

class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> Collect:
    c = Collect()
    c.feed(text)
    return c


def test_hostile_vendor_text_is_escaped_everywhere(db: Path, tmp_path: Path) -> None:
    export_html(open_readonly(db), tmp_path)
    for page in [tmp_path / "index.html", *sorted((tmp_path / "providers").glob("*.html"))]:
        text = page.read_text()
        doc = parse_html(text)
        assert not [t for t, _ in doc.tags if t in ("script", "img", "svg", "iframe", "object", "textarea")], page
        for tag, attrs in doc.tags:
            assert not [a for a in attrs if a.startswith("on")], (page, tag, attrs)
            for key in ("href", "src"):
                if attrs.get(key):
                    assert not attrs[key].lower().startswith(("javascript:", "data:")), (page, attrs)
        assert "\x01" not in text
    evil = (tmp_path / "providers" / "evil.html").read_text()
    shown = "".join(parse_html(evil).text)
    assert boarddb.HOSTILE_TITLE in shown  # shown as text, not run
    # Update bodies are rendered as markdown and sanitised (issue 13): the hostile tags are dropped.
    assert "Users see  and" in shown and "onerror" not in evil and "<svg" not in evil
    assert "<i>Login</i>" in shown and "<b>Everything</b> is down" in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in evil
    assert "script-src" not in evil and "default-src 'none'" in evil  # no script may run at all


def test_board_shows_what_happened(db: Path, tmp_path: Path) -> None:
    export_html(open_readonly(db), tmp_path)
    index = "".join(parse_html((tmp_path / "index.html").read_text()).text)
    for words in ("Cloud", "Security", "Other", "Acme Cloud", "Evil <Corp>", "Quiet Co", "Not polled yet.",
                  "Incident: Delayed webhook deliveries", "as of 2026-11-27 10:00 UTC"):
        assert words in index, words
    assert index.index("Cloud") < index.index("Security") < index.index("Other")
    acme = (tmp_path / "providers" / "acme.html").read_text()
    doc = parse_html(acme)
    shown = " ".join(" ".join(doc.text).split())
    for words in ("Current incidents", "Delayed webhook deliveries", "A queue backlog delays deliveries",
                  "Network switch replacement", "Scheduled 2026-11-29 06:00 UTC to 2026-11-29 08:00 UTC",
                  "Elevated REST API error rates", "This incident has been resolved.",
                  "resolved 2026-11-20 17:15 UTC", "lasted 1h 15m", "affects REST API", "GraphQL API unavailable",
                  "affects REST API, GraphQL API",
                  "Database upgrade", "completed 2026-11-22 10:40 UTC", "REST API", "GraphQL API", "Dashboard",
                  "Webhooks", "Degraded performance", "99.93% uptime", "mean time to resolve", "2h 17m"):
        assert words in shown, words
    bars = [a for t, a in doc.tags if t == "span" and (a.get("class") or "").startswith("s-")
            and "title" in a]
    assert len(bars) == 90 * 4  # four components, one cell a day
    titles = {a["title"] for a in bars}
    assert "2026-10-08: Operational 20h 41m, Major outage 3h 19m" in titles
    assert "2026-08-30: no data" in titles
    links = [a["href"] for t, a in doc.tags if t == "a"]
    assert "https://status.acme.test" in links and "../index.html" in links


def test_html_needs_a_directory_and_cleans_only_its_own_pages(db: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", str(db), "export", "--format", "html")
    assert code == 1 and "give -o DIR" in err
    out = tmp_path / "site"
    code, _, err = run(capsys, "--db", str(db), "export", "--format", "html", "-o", str(out))
    assert code == 0 and "wrote 11 files" in err
    mine = out / "providers" / "notes.html"
    mine.write_text("<p>my own notes</p>")
    code, _, err = run(capsys, "--db", str(db), "export", "--format", "html", "-o", str(out), "-c", "cloud")
    assert code == 0
    assert sorted(p.name for p in (out / "providers").iterdir()) == ["acme.html", "acme.xml", "notes.html"]
    for args in (["export", "-f", "xml"], ["export", "-c", "nope"], ["export", "-p", "ghost"],
                 ["export", "-p", "quiet", "-c", "cloud"], ["schema", "--what", "nope"]):
        code, _, err = run(capsys, "--db", str(db), *args)
        assert code == 1 and err.startswith("upstream: error:") and err.count("\n") == 1, (args, err)


def test_safe_url() -> None:
    assert safe_url("https://status.acme.test/x?y=1") == "https://status.acme.test/x?y=1"
    for bad in ("javascript:alert(1)", " JAVASCRIPT:alert(1)", "data:text/html,x", "//evil.test", "http://",
                "https://a b", None, 3):
        assert safe_url(bad) is None, bad


def test_selection_query_is_stable() -> None:
    assert Selection(("a", "b"), ("b", "a"), ("Cloud",)).query == "category=cloud&provider=a&provider=b"
