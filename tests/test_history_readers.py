"""Each platform's history, read by its adapter (``history_endpoints`` + ``parse_history``) from a
capture in ../shared/corpus or an authored fixture: how many past incidents and maintenances,
their own times, and every update."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.history.markup import to_html
from aggregator.page.adapter import Adapter
from aggregator.page.model import Incident, Maintenance
from aggregator.page.vocab import IncidentStatus, MaintenanceStatus
from tests.conftest import FIXTURES, corpus_file

Notice = Incident | Maintenance


def history(platform: str, base_url: str, **files: Path) -> list[Notice]:
    adapter = get_adapter(platform)
    return adapter.parse_history({key: path.read_bytes() for key, path in files.items()}, base_url)


def by_id(notices: list[Notice]) -> dict[str, Notice]:
    return {n.id: n for n in notices}


def kinds(notices: list[Notice]) -> Counter[str]:
    return Counter(f"{type(n).__name__}:{n.status.value}" for n in notices)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- which URLs each platform's history is read from -------------------------------------------

HISTORY_URLS = {
    ("statuspage", "https://status.courier.example"): [
        ("incidents", "https://status.courier.example/api/v2/incidents.json", True),
        ("scheduled_maintenances", "https://status.courier.example/api/v2/scheduled-maintenances.json", False)],
    ("incidentio", "https://status.openai.com"): [
        ("incidents", "https://status.openai.com/api/v2/incidents.json", True),
        ("feed", "https://status.openai.com/feed.atom", False)],
    ("instatus", "https://status.acme.example"): [
        ("summary", "https://status.acme.example/summary.json", True),
        ("history", "https://status.acme.example/history.rss", False)],
    ("betterstack", "https://status.betterstack.com"): [
        ("index", "https://status.betterstack.com/index.json", True)],
    ("statusio", "https://status.gitlab.com/#5b36dc6502d06804c08349f7"): [
        ("status", "https://api.status.io/1.0/status/5b36dc6502d06804c08349f7", True),
        ("history", "https://status.io/pages/5b36dc6502d06804c08349f7/rss", False)],
    ("cachet", "https://demo.cachethq.io"): [
        ("incidents", "https://demo.cachethq.io/api/v1/incidents?per_page=100&sort=id&order=desc", False),
        ("schedules", "https://demo.cachethq.io/api/v1/schedules?per_page=100", False)],
    ("cstate", "https://status.torproject.org"): [
        ("index", "https://status.torproject.org/index.json", True),
        ("history", "https://status.torproject.org/index.xml", False)],
    ("hund", "https://status.acme.example"): [
        ("status_page", "https://status.acme.example/live/v2/status_page", True)],
    ("statuspal", "https://acme.statuspal.io"): [
        ("incidents", "https://statuspal.io/api/v2/status_pages/acme/incidents?limit=100", True)],
    ("sorry", "https://status.acme.example"): [
        ("notices", "https://status.acme.example/api/v1/notices", False)],
    ("heroku", "https://status.heroku.com"): [
        ("incidents", "https://status.heroku.com/api/v4/incidents", True)],
    ("slack", "https://slack-status.com"): [
        ("history", "https://slack-status.com/api/v2.0.0/history", True)],
    ("gcp", "https://status.cloud.google.com"): [
        ("incidents", "https://status.cloud.google.com/incidents.json", True)],
    ("aws", "https://health.aws.amazon.com/health/status"): [
        ("history", "https://history-events-us-west-2-prod.s3.amazonaws.com/historyevents.json", False),
        ("currentevents", "https://health.aws.amazon.com/public/currentevents", True)],
    ("aws", "https://status.aws.amazon.com/data.json"): [
        ("legacy", "https://status.aws.amazon.com/data.json", True)],
    ("azure", "https://azure.status.microsoft/en-us/status/feed/"): [
        ("feed", "https://azure.status.microsoft/en-us/status/feed/", True)],
    ("apple", "https://www.apple.com/support/systemstatus/"): [
        ("status", "https://www.apple.com/support/systemstatus/data/system_status_en_US.js", True)],
    ("salesforce", "https://status.salesforce.com"): [
        ("incidents", "https://api.status.salesforce.com/v1/incidents", True),
        ("maintenances", "https://api.status.salesforce.com/v1/maintenances", False),
        ("localizations", "https://api.status.salesforce.com/v1/localizations", False)],
    ("feed", "https://status.example.org/history.atom"): [
        ("feed", "https://status.example.org/history.atom", True)],
}


@pytest.mark.parametrize(("platform", "base_url"), list(HISTORY_URLS))
def test_history_endpoints_name_the_platforms_history(platform: str, base_url: str) -> None:
    endpoints = get_adapter(platform).history_endpoints(base_url)
    assert [(e.key, e.url, e.required) for e in endpoints] == HISTORY_URLS[(platform, base_url)]


# --- Statuspage ---------------------------------------------------------------------------------

COURIER = FIXTURES / "statuspage" / "courier"


def test_courier_summary_has_nothing_open_and_its_history_five_resolved_incidents() -> None:
    adapter = get_adapter("statuspage")
    now = adapter.parse({"summary": (COURIER / "summary.json").read_bytes()}, "https://status.courier.example")
    assert (now.incidents, now.maintenances) == ([], [])
    assert [c.name for c in now.components] == ["API", "Dashboard", "Email", "SMS", "Push"]

    notices = history("statuspage", "https://status.courier.example", incidents=COURIER / "incidents.json",
                      scheduled_maintenances=COURIER / "scheduled-maintenances.json")
    incidents = [n for n in notices if isinstance(n, Incident)]
    maintenances = [n for n in notices if isinstance(n, Maintenance)]
    assert [i.id for i in incidents] == [f"cour0inc000{n}" for n in range(1, 6)]  # newest first
    assert all(not i.is_open for i in incidents)
    assert [i.impact.value for i in incidents] == ["major", "minor", "minor", "critical", "none"]
    assert [len(i.updates) for i in incidents] == [5, 2, 3, 3, 2]  # the first has its post-mortem too
    first = incidents[0]
    assert first.status is IncidentStatus.postmortem
    assert (first.started_at, first.resolved_at) == (at("2026-11-28T14:02:00Z"), at("2026-11-28T16:40:00Z"))
    assert first.component_ids == ["cour0eml0003", "cour0sms0004"]
    assert [u.status for u in first.updates] == ["postmortem", "resolved", "monitoring", "identified", "investigating"]
    (maintenance,) = maintenances
    assert maintenance.status is MaintenanceStatus.completed
    assert (maintenance.scheduled_for, maintenance.scheduled_until) == (at("2026-11-15T02:00:00Z"),
                                                                       at("2026-11-15T04:00:00Z"))
    assert [u.status for u in maintenance.updates] == ["completed", "in_progress", "scheduled"]


def test_a_post_mortem_is_the_incidents_last_update_and_renders_safely() -> None:
    notices = history("statuspage", "https://status.courier.example", incidents=COURIER / "incidents.json")
    incident = by_id(notices)["cour0inc0001"]
    postmortem = incident.updates[0]
    assert postmortem.id == "cour0inc0001:postmortem"
    assert (postmortem.status, postmortem.raw_status) == ("postmortem", "postmortem")
    assert postmortem.created_at == at("2026-12-01T09:00:00Z")  # postmortem_published_at
    assert postmortem.body.startswith("# Post-mortem: delayed email and SMS delivery")
    # Survives into the model's JSON (what the store and exports write) unchanged.
    assert Incident.model_validate_json(incident.model_dump_json()).updates[0].body == postmortem.body
    rendered = to_html(postmortem.body)
    assert "<table>" in rendered and "<h2>Root cause</h2>" in rendered and "<b>Questions?</b>" in rendered
    assert "<script" not in rendered and "onerror" not in rendered and "javascript:" not in rendered
    # Incidents without one have no such update.
    assert all(not u.id.endswith(":postmortem") for n in notices if n.id != "cour0inc0001" for u in n.updates)


def test_statuspage_incidents_json_of_github() -> None:
    notices = history("statuspage", "https://www.githubstatus.com",
                      incidents=corpus_file("statuspage", "github-incidents-2026-07.json"))
    assert len(notices) == 50  # the endpoint's cap
    assert kinds(notices) == {"Incident:resolved": 50}
    assert sum(len(n.updates) for n in notices) == 287
    assert all(n.started_at and n.resolved_at and n.started_at <= n.resolved_at for n in notices)
    assert all(n.updates[0].status == "resolved" for n in notices)
    # Three were posted after the fact: their started_at is the posting time, created_at the
    # incident's own time (the page shows the latter).
    retroactive = by_id(notices)["594m87r8sw13"]
    assert (retroactive.started_at, retroactive.resolved_at) == (at("2026-07-24T11:00:00Z"), at("2026-07-24T11:00:00Z"))


def test_statuspage_scheduled_maintenances_of_claude() -> None:
    notices = history("statuspage", "https://status.claude.com",
                      scheduled_maintenances=corpus_file("statuspage", "claude-scheduled-maintenances-2026-09.json"))
    assert kinds(notices) == {"Maintenance:completed": 2}
    assert sum(len(n.updates) for n in notices) == 8


# --- incident.io --------------------------------------------------------------------------------

def test_incidentio_feed_of_openai() -> None:
    notices = history("incidentio", "https://status.openai.com",
                      feed=corpus_file("incidentio", "openai-feed-atom-2026-08-31.atom"))
    assert len(notices) == 84
    assert kinds(notices) == {"Incident:resolved": 84}
    assert all(len(n.id) == 26 for n in notices)  # the ULID, as the compatible API names it


def test_incidentio_compatible_api_and_feed_join_on_the_incident() -> None:
    notices = history("incidentio", "https://status.acme.example", incidents=FIXTURES / "incidentio" / "incidents.json",
                      feed=FIXTURES / "incidentio" / "feed.atom")
    assert len({n.id for n in notices}) == len(notices) == 3
    assert sum(len(n.updates) for n in notices) == 6


# --- Instatus, status.io, cState: feeds joined to the current view's ids -------------------------

def test_instatus_history_feed_joined_to_summary() -> None:
    notices = history("instatus", "https://status.acme.example", summary=FIXTURES / "instatus" / "summary-hasissues.json",
                      history=FIXTURES / "instatus" / "history.rss")
    found = by_id(notices)
    assert len(notices) == 6
    # Listed in both: the summary's state, the feed's post.
    slow = found["cmab12cd3000001l8ef45gh67"]
    assert slow.status is IncidentStatus.monitoring and len(slow.updates) == 1
    assert found["cl9past0002"].status is IncidentStatus.resolved
    assert found["cl9past0002"].resolved_at == at("2026-04-20T14:00:00Z")
    # Its only entry reads "Investigating", but summary.json does not list it: it is over.
    assert found["cl9past0003"].status is IncidentStatus.resolved
    assert found["cl9past0003"].started_at == at("2026-04-02T08:30:00Z")
    assert isinstance(found["cl9mnt00004"], Maintenance) and found["cl9mnt00004"].status is MaintenanceStatus.completed


def test_statusio_history_feed_joined_to_the_api() -> None:
    notices = history("statusio", "https://status.acme.example/#5b36dc6502d06804c08349f7",
                      status=FIXTURES / "statusio" / "status-incident.json", history=FIXTURES / "statusio" / "history.rss")
    found = by_id(notices)
    assert sorted(found) == ["5f0000000000000000000001", "5f0000000000000000000002", "5f1e2d3c4b5a697887766554",
                             "5f1e2d3c4b5a697887766556"]
    assert found["5f0000000000000000000001"].status is IncidentStatus.identified  # the API's word wins
    assert len(found["5f0000000000000000000001"].updates) == 2
    past = found["5f1e2d3c4b5a697887766554"]
    assert (past.status, past.started_at) == (IncidentStatus.resolved, at("2026-04-20T15:45:00Z"))
    # "Scheduled maintenance completed." reads as scheduled, but the API lists every upcoming one.
    assert found["5f1e2d3c4b5a697887766556"].status is MaintenanceStatus.completed
    assert found["5f0000000000000000000002"].status is MaintenanceStatus.scheduled


def test_cstate_history_feed_joined_to_index() -> None:
    notices = history("cstate", "https://status.acme.example", index=FIXTURES / "cstate" / "index-issues.json",
                      history=FIXTURES / "cstate" / "index.xml")
    found = by_id(notices)
    assert sorted(found) == ["2026-03-28-db.md", "2026-04-10-newsletter.md", "2026-05-02-limits.md",
                             "2026-05-03-login.md"]  # the about page is not an issue
    assert found["2026-05-03-login.md"].is_open and found["2026-05-03-login.md"].component_ids == ["Website", "API"]
    db = found["2026-03-28-db.md"]
    assert db.status is IncidentStatus.resolved and db.started_at == at("2026-03-28T21:40:00Z")
    assert "failed over" in db.updates[0].body


# --- platforms whose JSON holds past notices -----------------------------------------------------

def test_betterstack_index_reports() -> None:
    notices = history("betterstack", "https://status.betterstack.com",
                      index=corpus_file("betterstack", "betterstack-index-2026-09-trimmed.json"))
    assert kinds(notices) == {"Incident:resolved": 2, "Maintenance:completed": 1}
    assert sum(len(n.updates) for n in notices) == 4
    assert all(n.started_at is not None for n in notices)


def test_cachet_incidents_and_schedules_of_the_demo() -> None:
    notices = history("cachet", "https://demo.cachethq.io",
                      incidents=corpus_file("cachet", "cachet-demo-incidents-2026-09.json"),
                      schedules=corpus_file("cachet", "cachet-demo-schedules-2026-09.json"))
    assert kinds(notices) == {"Incident:resolved": 1, "Incident:monitoring": 1, "Maintenance:scheduled": 1}
    assert sum(len(n.updates) for n in notices) == 7


def test_hund_init_event_lists_resolved_issues() -> None:
    notices = history("hund", "https://status.acme.example", status_page=FIXTURES / "hund" / "stream-issues.txt")
    assert kinds(notices) == {"Incident:identified": 1, "Incident:resolved": 1, "Maintenance:in_progress": 1}


def test_statuspal_incidents_listing() -> None:
    notices = history("statuspal", "https://acme.statuspal.io", incidents=FIXTURES / "statuspal" / "incidents.json")
    found = by_id(notices)
    assert [n.id for n in notices] == ["6003", "6002", "6001"]
    assert found["6003"].status is IncidentStatus.resolved
    assert [u.status for u in found["6003"].updates] == ["resolved", "monitoring", "investigating"]
    assert found["6003"].resolved_at == at("2026-04-20T11:15:00Z")
    maintenance = found["6002"]
    assert isinstance(maintenance, Maintenance) and maintenance.status is MaintenanceStatus.completed
    assert (maintenance.scheduled_for, maintenance.scheduled_until) == (at("2026-04-12T02:00:00Z"),
                                                                       at("2026-04-12T03:00:00Z"))


def test_statuspal_summary_and_listing_do_not_duplicate() -> None:
    notices = history("statuspal", "https://acme.statuspal.io", summary=FIXTURES / "statuspal" / "summary-incident.json",
                      incidents=FIXTURES / "statuspal" / "incidents.json")
    assert len({n.id for n in notices}) == len(notices)
    assert {"5001", "6001", "6002", "6003"} <= {n.id for n in notices}


def test_sorry_notices_include_past_ones() -> None:
    notices = history("sorry", "https://status.acme.example", notices=FIXTURES / "sorry" / "notices.json")
    assert len(notices) == 4
    assert Counter(type(n).__name__ for n in notices) == {"Incident": 3, "Maintenance": 1}
    assert sum(not n.is_open for n in notices) == 1  # the false alarm


def test_heroku_incidents_listing() -> None:
    notices = history("heroku", "https://status.heroku.com", incidents=FIXTURES / "heroku" / "incidents.json")
    found = by_id(notices)
    assert kinds(notices) == {"Incident:resolved": 2, "Maintenance:completed": 1}
    deploys = found["2901"]
    assert (deploys.started_at, deploys.resolved_at) == (at("2026-04-21T16:00:00Z"), at("2026-04-21T17:30:00Z"))
    assert [u.raw_status for u in deploys.updates] == ["resolved", "update", "issue"]
    assert deploys.updates[1].body == "Engineers are\nrolling out a fix."
    assert isinstance(found["2900"], Maintenance)


def test_slack_history() -> None:
    notices = history("slack", "https://slack-status.com", history=FIXTURES / "slack" / "history.json")
    assert kinds(notices) == {"Maintenance:completed": 2, "Incident:resolved": 1}
    assert sum(len(n.updates) for n in notices) == 5


def test_gcp_incidents_json_is_the_whole_history() -> None:
    notices = history("gcp", "https://status.cloud.google.com", incidents=corpus_file("gcp", "gcp-incidents-2022-07.json"))
    assert len(notices) == 157 and kinds(notices) == {"Incident:resolved": 157}
    assert sum(len(n.updates) for n in notices) == 770
    assert all(n.started_at and n.resolved_at for n in notices)


def test_aws_legacy_archive() -> None:
    notices = history("aws", "https://status.aws.amazon.com/data.json", legacy=corpus_file("aws", "aws-data-json-2022-07.json"))
    assert len(notices) == 86 and kinds(notices) == {"Incident:resolved": 86}
    assert sum(len(n.updates) for n in notices) == 352


def test_aws_history_events_are_over() -> None:
    notices = history("aws", "https://health.aws.amazon.com/health/status", history=FIXTURES / "aws" / "historyevents.json")
    assert kinds(notices) == {"Incident:resolved": 3}
    found = {n.id.rsplit("_", 1)[-1]: n for n in notices}
    # Resolved by its last post (status 0) ...
    assert found["AAA111"].resolved_at == datetime.fromtimestamp(1774007200, UTC)
    # ... by the history alone (its last post still says 1: the archive's status is the peak) ...
    assert found["BBB222"].resolved_at == datetime.fromtimestamp(1771003600, UTC)
    assert found["BBB222"].updates[0].status == "resolved"
    # ... or at its end_time; the slug key fills in the service.
    assert found["CCC333"].resolved_at == datetime.fromtimestamp(1769005400, UTC)
    assert found["CCC333"].regions == ["eu-west-1"]


def test_aws_history_keeps_an_event_still_open_in_current_events() -> None:
    adapter = get_adapter("aws")
    current = (FIXTURES / "aws" / "currentevents-open-utf16be.json").read_bytes()
    alone = adapter.parse_history({"currentevents": current}, None)
    open_ids = {n.id for n in alone if n.is_open}
    assert open_ids
    both = adapter.parse_history({"currentevents": current,
                                  "history": (FIXTURES / "aws" / "historyevents.json").read_bytes()}, None)
    assert {n.id for n in both if n.is_open} == open_ids
    assert len(both) == len(alone) + 3


def test_azure_feed() -> None:
    notices = history("azure", "https://azure.status.microsoft/en-us/status/feed/",
                      feed=FIXTURES / "azure" / "feed-active-events.xml")
    assert kinds(notices) == {"Incident:investigating": 2, "Incident:resolved": 1, "Incident:identified": 1}


def test_apple_developer_status_keeps_resolved_events() -> None:
    notices = history("apple", "https://developer.apple.com/system-status/",
                      status=corpus_file("apple", "apple-developer-system-status-2020-11-wayback.json"))
    assert kinds(notices) == {"Incident:resolved": 8, "Maintenance:in_progress": 1, "Maintenance:completed": 1}
    assert all(n.started_at is not None for n in notices)


def test_salesforce_incidents_and_maintenances() -> None:
    notices = history("salesforce", "https://status.salesforce.com", incidents=FIXTURES / "salesforce" / "incidents.json",
                      maintenances=FIXTURES / "salesforce" / "maintenances.json",
                      localizations=FIXTURES / "salesforce" / "localizations.json")
    found = by_id(notices)
    assert kinds(notices) == {"Incident:resolved": 2, "Maintenance:completed": 1}
    slow = found["15001"]
    assert (slow.started_at, slow.resolved_at) == (at("2026-04-21T08:55:00Z"), at("2026-04-21T12:00:00Z"))
    assert slow.component_ids == ["NA137", "NA138"] and len(slow.updates) == 2
    assert slow.updates[0].body == "The issue is resolved."
    assert found["3301"].scheduled_for == at("2026-04-04T03:00:00Z")


@pytest.mark.parametrize(("name", "entries", "updates"), [
    ("digitalocean-history-2020-01.rss", 25, 85),
    ("digitalocean-history-2019-10.atom", 25, None),
    ("parse-history-2014.rss", None, None),
])
def test_any_feed_is_its_own_history(name: str, entries: int | None, updates: int | None) -> None:
    notices = history("feed", "https://status.example.org/history.rss", feed=corpus_file("statuspage", name))
    assert notices and len({n.id for n in notices}) == len(notices)
    if entries is not None:
        assert len(notices) == entries
    if updates is not None:
        assert sum(len(n.updates) for n in notices) == updates
    assert all(n.started_at is not None or n.updated_at is not None for n in notices)


def test_every_platform_of_the_issue_reads_history() -> None:
    platforms = ["statuspage", "incidentio", "instatus", "betterstack", "statusio", "cachet", "cstate", "hund",
                 "statuspal", "sorry", "heroku", "slack", "gcp", "aws", "azure", "apple", "salesforce", "feed"]
    for platform in platforms:
        adapter = get_adapter(platform)
        assert type(adapter).build_history is not Adapter.build_history, platform
        assert type(adapter).history_endpoints is not Adapter.history_endpoints, platform


@pytest.mark.parametrize(("platform", "path", "key", "incidents", "maintenances"), [
    ("instatus", "instatus/history.rss", "history", 3, 1),
    ("statusio", "statusio/history.rss", "history", 2, 1),
    ("cstate", "cstate/index.xml", "history", 4, 0),
    ("statuspal", "statuspal/incidents.json", "incidents", 2, 1),
    ("heroku", "heroku/incidents.json", "incidents", 2, 1),
    ("salesforce", "salesforce/incidents.json", "incidents", 2, 0),
    ("salesforce", "salesforce/maintenances.json", "maintenances", 0, 1),
    ("aws", "aws/historyevents.json", "history", 3, 0),
])
def test_a_saved_history_document_parses_on_its_own(platform: str, path: str, key: str, incidents: int,
                                                      maintenances: int) -> None:
    """``upstream parse <platform> <file>`` of a history document: classified, and its notices."""
    adapter = get_adapter(platform)
    body = (FIXTURES / path).read_bytes()
    assert adapter.classify(body, Path(path).name) == key
    snapshot = adapter.parse({key: body}, "https://status.acme.example/#5b36dc6502d06804c08349f7")
    assert (len(snapshot.incidents), len(snapshot.maintenances)) == (incidents, maintenances)
