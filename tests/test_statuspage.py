"""The Statuspage adapter: authored fixtures for every quirk, and the real corpus through `upstream parse`."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.cli.main import main
from aggregator.errors import LoginRequiredError, NotJSONError, PageInactiveError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from tests.conftest import CORPUS, FIXTURES, corpus_file

SP = FIXTURES / "statuspage"
adapter = get_adapter("statuspage")


def parse(*names: str):
    bodies = {}
    for name in names:
        body = (SP / name).read_bytes()
        bodies[adapter.classify(body, name)] = body
    return adapter.parse(bodies, "https://status.acme.test")


def test_endpoints_keep_the_page_path() -> None:
    (ep,) = adapter.endpoints("https://www.intercomstatus.com/us-hosting/")
    assert ep.url == "https://www.intercomstatus.com/us-hosting/api/v2/summary.json"
    keys = [e.key for e in adapter.history_endpoints("https://status.acme.test")]
    assert keys == ["incidents", "scheduled_maintenances"]


def test_operational_page_groups_are_not_components() -> None:
    snap = parse("acme-1-operational.json")
    assert snap.name == "Acme Cloud" and snap.page_id == "acme0page001"
    assert snap.status == ComponentStatus.operational and snap.raw_status == "none"
    assert [c.id for c in snap.components] == ["cmp0rest0001", "cmp0graphql1", "cmp0dash0001", "cmp0webhook1"]
    assert [c.group for c in snap.components] == ["API", "API", None, None]
    rest = snap.components[0]
    assert rest.description == "Public REST endpoints" and rest.position == 1
    # -07:00 local offset becomes UTC
    assert rest.updated_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert snap.component("cmp0webhook1").only_show_if_degraded is True


def test_open_incident_with_updates_and_affected_components() -> None:
    snap = parse("acme-3-incident-identified.json")
    assert snap.status == ComponentStatus.partial_outage and snap.raw_status == "major"
    (inc,) = snap.incidents
    assert inc.status == IncidentStatus.identified and inc.impact == Impact.major
    assert inc.started_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert inc.url == "https://stspg.io/acme01" and inc.component_ids == ["cmp0rest0001"]
    assert [u.status for u in inc.updates] == ["identified", "investigating"]  # newest first
    assert inc.updates[0].body.startswith("The issue has been identified")


def test_maintenance_indicator_and_window() -> None:
    snap = parse("acme-6-maintenance-in-progress.json")
    assert snap.status == ComponentStatus.under_maintenance and snap.raw_status == "maintenance"
    (m,) = snap.maintenances
    assert m.status == MaintenanceStatus.in_progress and m.impact == Impact.maintenance
    assert (m.scheduled_for, m.scheduled_until) == (datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
                                                    datetime(2026, 11, 22, 11, 0, tzinfo=UTC))
    assert snap.component("cmp0dash0001").status == ComponentStatus.under_maintenance


def test_history_documents_tell_how_incidents_ended() -> None:
    notices = adapter.parse_history({"incidents": (SP / "acme-incidents.json").read_bytes(),
                                     "scheduled_maintenances": (SP / "acme-scheduled-maintenances.json").read_bytes()})
    by_id = {n.id: n for n in notices}
    assert by_id["inc0outage01"].status == IncidentStatus.resolved
    assert by_id["inc0outage01"].resolved_at == datetime(2026, 11, 20, 17, 15, tzinfo=UTC)
    assert by_id["inc0older001"].status == IncidentStatus.postmortem  # -06:00 offset
    assert by_id["inc0older001"].started_at == datetime(2026, 10, 2, 17, 50, tzinfo=UTC)
    assert by_id["mnt0db000001"].status == MaintenanceStatus.completed


def test_missing_keys_unknown_extras_and_unknown_status() -> None:
    snap = parse("acme-7-quirks.json")
    assert snap.status == ComponentStatus.degraded_performance
    search = snap.component("cmp0search01")
    assert search.status == ComponentStatus.unknown and search.raw_status == "brand_new_status"
    assert search.updated_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert snap.incidents == [] and snap.maintenances == []


def test_login_inactive_and_garbage_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(LoginRequiredError, match="login"):
        adapter.parse({"summary": (SP / "login.html").read_bytes()})
    inactive = corpus_file("statuspage-html", "page-inactive-2021-01.html").read_bytes()
    with pytest.raises(PageInactiveError, match="inactive"):
        adapter.parse({"summary": inactive.split(b"\n", 1)[1]})
    with pytest.raises(NotJSONError):
        adapter.parse({"summary": b"<html><head><title>Oops</title></head></html>"})
    for junk in (b"", b"{", b"[1, 2]", b'{"hello": "world"}', b'{"components": "nope"}', b"null"):
        with pytest.raises(ParseError):
            adapter.parse({"summary": junk})


# ------------------------------------------------------------------------------------------------
# Conformance: every real Statuspage payload in ../shared/corpus/statuspage through `upstream parse`.
# ------------------------------------------------------------------------------------------------

# file -> facts: (name, page_id, overall, components, groups, status counts, incidents, maintenances)
FACTS = {
    "box-components.json": ("Box", "208q92hckwws", "operational", 45, 7, {"operational": 45}, 0, 0),
    "box-components-degraded.json": ("Box", "208q92hckwws", "degraded_performance", 45, 7,
                                     {"operational": 44, "degraded_performance": 1}, 0, 0),
    "cisco-urgentnotices-components.json": ("Security:  Urgent Notices", "4n93fglckv8c", "operational", 17, 5,
                                            {"operational": 17}, 0, 0),
    "ciscokinetic-components.json": ("Cisco Kinetic", "tmnm74wfw8kx", "degraded_performance", 12, 2,
                                     {"operational": 11, "degraded_performance": 1}, 0, 0),
    "coinbase-components.json": ("Coinbase", "kr0djjh0jyy9", "partial_outage", 136, 3,
                                 {"operational": 133, "partial_outage": 2, "under_maintenance": 1}, 0, 0),
    "digitalocean-components.json": ("DigitalOcean", "s2k7tnzlhrpw", "operational", 35, 2, {"operational": 35}, 0, 0),
    "github-components-degraded.json": ("GitHub", "kctbh9vrtdwd", "partial_outage", 10, 0,
                                        {"operational": 9, "partial_outage": 1}, 0, 0),
    "github-summary-2022-11-25-packages-incident.json": ("GitHub", "kctbh9vrtdwd", "degraded_performance", 11, 0,
                                                         {"operational": 10, "partial_outage": 1}, 1, 0),
    "github-summary-2026-07-minified.json": ("GitHub", "kctbh9vrtdwd", "operational", 12, 0, {"operational": 12}, 0, 0),
    "github-incidents-2026-07.json": ("GitHub", "kctbh9vrtdwd", "unknown", 0, 0, {}, 50, 0),
    "instructure-summary-incident.json": ("Instructure", "nlxv32btr6v7", "degraded_performance", 21, 3,
                                          {"operational": 13, "degraded_performance": 8}, 1, 0),
    "lastpass-components.json": ("LastPass", "ytnz8gj3wjpg", "degraded_performance", 3, 0,
                                 {"degraded_performance": 3}, 0, 0),
    "newrelic-components.json": ("New Relic", "nwg5xmnm9d17", "operational", 69, 6, {"operational": 69}, 0, 0),
    "reddit-components.json": ("reddit", "2kbc0d48tv3j", "operational", 45, 2, {"operational": 45}, 0, 0),
    "twilio-components.json": ("Twilio", "gpkpyklzq55q", "degraded_performance", 75, 10,
                               {"operational": 74, "degraded_performance": 1}, 0, 0),
    "twilio-summary-2020-incidents-maintenances.json": ("Twilio", "gpkpyklzq55q", "degraded_performance", 65, 8,
                                                        {"operational": 61, "degraded_performance": 4}, 2, 9),
    "claude-scheduled-maintenances-2026-09.json": ("Claude", "tymt9n04zgry", "unknown", 0, 0, {}, 0, 2),
}


def cli_parse(capsys: pytest.CaptureFixture[str], path: Path) -> dict:
    code = main(["parse", "statuspage", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_every_corpus_json_file_has_facts(corpus_dir: Path) -> None:
    files = {p.name for p in (corpus_dir / "statuspage").glob("*.json")}
    assert files == set(FACTS), "a corpus file without facts (or facts for a missing file)"


@pytest.mark.parametrize("name", sorted(FACTS))
def test_corpus_payload(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus_file("statuspage", name)
    snap = cli_parse(capsys, path)
    page_name, page_id, overall, n_components, n_groups, counts, n_incidents, n_maint = FACTS[name]
    assert (snap["name"], snap["page_id"], snap["status"]) == (page_name, page_id, overall)
    assert len(snap["components"]) == n_components
    assert len({c["group"] for c in snap["components"] if c["group"]}) == n_groups
    assert dict(Counter(c["status"] for c in snap["components"])) == counts
    assert all(c["raw_status"] == c["status"] for c in snap["components"])
    assert (len(snap["incidents"]), len(snap["maintenances"])) == (n_incidents, n_maint)
    raw = json.loads(path.read_bytes())
    raw_ids = {c["id"] for c in raw.get("components", []) if not c.get("group")}
    assert {c["id"] for c in snap["components"]} == raw_ids
    for notice in (*snap["incidents"], *snap["maintenances"]):
        for key in ("started_at", "updated_at", "resolved_at", "scheduled_for", "scheduled_until"):
            assert notice.get(key) is None or notice[key].endswith("Z")


def test_corpus_incident_details(capsys: pytest.CaptureFixture[str]) -> None:
    gh = cli_parse(capsys, corpus_file("statuspage", "github-summary-2022-11-25-packages-incident.json"))
    (inc,) = gh["incidents"]
    assert inc["id"] == "ljwdk6qml8z8" and inc["status"] == "investigating" and inc["impact"] == "major"
    assert len(inc["updates"]) == 7 and inc["started_at"] == "2022-11-25T14:39:09.542000Z"
    assert next(c for c in gh["components"] if c["name"] == "Packages")["status"] == "partial_outage"

    history = cli_parse(capsys, corpus_file("statuspage", "github-incidents-2026-07.json"))
    assert all(i["status"] in {"resolved", "postmortem"} for i in history["incidents"])
    assert {i["impact"] for i in history["incidents"]} == {"none", "minor", "major", "critical"}
    assert sum(len(i["updates"]) for i in history["incidents"]) == 287

    twilio = cli_parse(capsys, corpus_file("statuspage", "twilio-summary-2020-incidents-maintenances.json"))
    assert Counter(i["status"] for i in twilio["incidents"]) == {"investigating": 1, "monitoring": 1}
    assert all(m["status"] == "scheduled" and m["scheduled_for"] for m in twilio["maintenances"])

    claude = cli_parse(capsys, corpus_file("statuspage", "claude-scheduled-maintenances-2026-09.json"))
    m = next(x for x in claude["maintenances"] if x["id"] == "x017628t2rl5")
    assert m["status"] == "completed" and len(m["updates"]) == 4
    assert [u["status"] for u in m["updates"]] == ["completed", "verifying", "in_progress", "scheduled"]
    assert (m["scheduled_for"], m["scheduled_until"]) == ("2025-08-29T01:25:00Z", "2025-08-29T02:40:00Z")


def test_corpus_feeds_parse_as_statuspage(capsys: pytest.CaptureFixture[str]) -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    atom = cli_parse(capsys, corpus_file("statuspage", "digitalocean-history-2019-10.atom"))
    assert len(atom["incidents"]) + len(atom["maintenances"]) == 25
    rss = cli_parse(capsys, corpus_file("statuspage", "digitalocean-history-2020-01.rss"))
    assert len(rss["incidents"]) + len(rss["maintenances"]) == 25
    assert {m["status"] for m in rss["maintenances"]} <= {"scheduled", "in_progress", "verifying", "completed"}


def test_an_id_listed_twice_is_kept_once_last_listing_wins() -> None:
    doc = json.loads((SP / "acme-1-operational.json").read_bytes())
    twin = dict(doc["components"][1], status="major_outage")
    doc["components"].append(twin)
    snap = adapter.parse({"summary": json.dumps(doc).encode()})
    rest = [c for c in snap.components if c.id == "cmp0rest0001"]
    assert len(rest) == 1 and rest[0].status == ComponentStatus.major_outage
    assert len(snap.components) == 4
