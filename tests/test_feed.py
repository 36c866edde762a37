"""Generic RSS/Atom adapter: authored fixtures, the security guards, and the real feeds in the corpus."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotStatusPageError, PageInactiveError, ParseError
from aggregator.page.model import Incident, Maintenance
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.feed import (
    FEED_ACCEPT,
    FeedAdapter,
    incident_code,
    keyword_status,
    parse_stamp,
    read_feed,
)
from providers.statuspage import StatuspageAdapter
from tests.conftest import FIXTURES, corpus_file

FEED = FIXTURES / "feed"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def corpus(*parts: str) -> bytes:
    path: Path = corpus_file(*parts)
    if not path.exists():
        pytest.skip(f"corpus file {path.name} is absent")
    return path.read_bytes()


def parse(body: bytes):
    return FeedAdapter().parse({"feed": body})


def by_id(snapshot, notice_id: str) -> Incident | Maintenance:
    found = [n for n in [*snapshot.incidents, *snapshot.maintenances] if n.id == notice_id]
    assert len(found) == 1, notice_id
    return found[0]


# --- the adapter's contract ---------------------------------------------------------------------

def test_registered_with_feed_endpoint() -> None:
    adapter = get_adapter("feed")
    assert isinstance(adapter, FeedAdapter)
    [endpoint] = adapter.endpoints("https://status.example.com/history.atom")
    assert endpoint.key == "feed"
    assert endpoint.url == "https://status.example.com/history.atom"
    assert endpoint.accept == FEED_ACCEPT
    assert adapter.classify(b"<rss/>", "x.rss") == "feed"


def test_statuspage_adapter_delegates_feeds() -> None:
    body = (FEED / "statuspage-year-boundary.atom").read_bytes()
    snap = StatuspageAdapter().parse({"feed": body}, "https://status.example.com")
    assert snap.platform == "statuspage"
    assert {i.id for i in snap.incidents} == {"ny3v0w8k2lqa", "k4d8s1x9b2pe", "r2b5n8c1v4xz"}


# --- Statuspage markup, year boundaries ---------------------------------------------------------

def test_statuspage_feed_years_across_new_year() -> None:
    snap = parse((FEED / "statuspage-year-boundary.atom").read_bytes())
    assert snap.name == "Example Status - Incident History"
    assert snap.url == "https://status.example.com"
    # published 2021-01-01T00:20Z, first update "Dec 31, 23:41" is 2020's
    open_incident = by_id(snap, "ny3v0w8k2lqa")
    assert isinstance(open_incident, Incident)
    assert open_incident.status is IncidentStatus.identified
    assert open_incident.is_open and open_incident.resolved_at is None
    assert [u.created_at for u in open_incident.updates] == [utc(2021, 1, 1, 0, 20), utc(2020, 12, 31, 23, 41)]
    assert open_incident.started_at == utc(2020, 12, 31, 23, 41)
    assert open_incident.url == "https://status.example.com/incidents/ny3v0w8k2lqa"
    # published Dec 30, the postmortem "Jan 2" is next year's
    postmortem = by_id(snap, "k4d8s1x9b2pe")
    assert postmortem.status is IncidentStatus.postmortem
    assert postmortem.updates[0].created_at == utc(2021, 1, 2, 9, 0)
    assert postmortem.resolved_at == utc(2020, 12, 30, 10, 0)
    assert postmortem.updated_at == utc(2021, 1, 2, 9, 0, 41)
    # "Update" keeps the state before it; ids count from the oldest
    assert [(u.id, u.status, u.raw_status) for u in postmortem.updates] == [
        ("k4d8s1x9b2pe#4", "postmortem", "Postmortem"),
        ("k4d8s1x9b2pe#3", "resolved", "Resolved"),
        ("k4d8s1x9b2pe#2", "investigating", "Update"),
        ("k4d8s1x9b2pe#1", "investigating", "Investigating"),
    ]
    maintenance = by_id(snap, "7mq2c0v5zd1r")
    assert isinstance(maintenance, Maintenance)
    assert maintenance.status is MaintenanceStatus.in_progress
    assert maintenance.impact is Impact.maintenance
    assert maintenance.updates[-1].created_at == utc(2020, 12, 28, 9, 0)
    # open incident of unstated severity outranks the maintenance in progress
    assert snap.status is ComponentStatus.degraded_performance


@pytest.mark.parametrize(("stamp", "reference", "expected"), [
    ("Dec 31, 23:41 UTC", utc(2021, 1, 1, 0, 20), utc(2020, 12, 31, 23, 41)),
    ("Jan  2, 09:00 UTC", utc(2020, 12, 30, 10, 0), utc(2021, 1, 2, 9, 0)),
    ("Jun 15, 12:00 UTC", utc(2020, 6, 16, 0, 0), utc(2020, 6, 15, 12, 0)),
    # pre-2015 Statuspage printed "PST" all year: wall time is Los Angeles time
    ("Oct 28, 14:48 PST", utc(2013, 10, 28, 21, 48), utc(2013, 10, 28, 21, 48)),
    ("Jan 30, 22:00 CET", utc(2021, 1, 22), utc(2021, 1, 30, 21, 0)),
    ("Feb 29, 10:00 UTC", utc(2021, 3, 1), utc(2020, 2, 29, 10, 0)),
    ("no stamp here", utc(2021, 1, 1), None),
])
def test_parse_stamp(stamp: str, reference: datetime, expected: datetime | None) -> None:
    assert parse_stamp(stamp, reference) == expected


def test_parse_stamp_needs_a_reference_without_a_year() -> None:
    assert parse_stamp("Dec 31, 23:41 UTC", None) is None
    assert parse_stamp("Dec 31, 2019 23:41 UTC", None) == utc(2019, 12, 31, 23, 41)


# --- incident.io, keywords ----------------------------------------------------------------------

def test_incidentio_feed_open_incident_and_components() -> None:
    snap = parse((FEED / "incidentio-open.atom").read_bytes())
    assert snap.status is ComponentStatus.partial_outage
    conversations = by_id(snap, "01M2AAAAAAAAAAAAAAAAAAAAAA")
    assert conversations.title == "Elevated errors in conversations"
    assert conversations.status is IncidentStatus.identified
    assert (conversations.impact, conversations.raw_impact) == (Impact.major, "Partial outage")
    assert conversations.component_ids == ["Conversations", "Login"]
    assert conversations.started_at is None  # incident.io feeds only carry <updated>
    [update] = conversations.updates
    assert update.body == "We have identified the cause of elevated errors and are rolling out a fix."
    assert update.created_at == utc(2026, 9, 2, 10, 0)
    uploads = by_id(snap, "01M29BBBBBBBBBBBBBBBBBBBBB")
    assert uploads.status is IncidentStatus.monitoring and uploads.raw_impact is None
    # an unknown status word falls back to keywords but keeps the platform's word
    search = by_id(snap, "01M27DDDDDDDDDDDDDDDDDDDDD")
    assert (search.status, search.raw_status) == (IncidentStatus.resolved, "Fully mitigated")
    # the newest mention of a component is its state; duplicates collapse
    assert {c.name: (c.status, c.raw_status) for c in snap.components} == {
        "Conversations": (ComponentStatus.partial_outage, "Partial outage"),
        "Login": (ComponentStatus.degraded_performance, "Degraded performance"),
        "Search": (ComponentStatus.operational, "Operational"),
    }


def test_keyword_feed() -> None:
    snap = parse((FEED / "keywords.rss").read_bytes())
    statuses = {n.id: (type(n).__name__, n.status.value) for n in [*snap.incidents, *snap.maintenances]}
    assert statuses == {
        "acme-incident-412": ("Incident", "investigating"),
        "acme-maintenance-77": ("Maintenance", "scheduled"),
        "acme-maintenance-76": ("Maintenance", "completed"),
        "https://status.acme.example/notices/411": ("Incident", "resolved"),
        "acme-news-9": ("Incident", "investigating"),
    }
    news = by_id(snap, "acme-news-9")
    assert news.raw_status is None  # no status word at all: does not count towards the page's state
    assert by_id(snap, "acme-maintenance-76").resolved_at == utc(2026, 9, 6, 4, 0)
    assert snap.status is ComponentStatus.degraded_performance


@pytest.mark.parametrize(("title", "text", "expected"), [
    ("Resolved: API errors", "", ("incident", "resolved")),
    ("API errors", "We are investigating. Update: this is now resolved.", ("incident", "resolved")),
    ("Database maintenance", "Work is in progress", ("maintenance", "in_progress")),
    ("Database maintenance", "", ("maintenance", "scheduled")),
    ("Upcoming work", "This is planned for Sunday", ("maintenance", "scheduled")),
    ("Hello", "nothing to see", None),
])
def test_keyword_status(title: str, text: str, expected: tuple[str, str] | None) -> None:
    found = keyword_status(title, text)
    assert (found[0], found[1].value) == expected if found else expected is None


def test_incident_code_from_links() -> None:
    assert incident_code("https://status.digitalocean.com/incidents/w4j2nj1trtsg") == "w4j2nj1trtsg"
    assert incident_code("https://status.openai.com//incidents/01M1C5M4K0WC8PPT0Z175RJA1E") == \
        "01M1C5M4K0WC8PPT0Z175RJA1E"
    assert incident_code("http://status.aws.amazon.com/") is None


# --- hostile and wrong bodies -------------------------------------------------------------------

def test_billion_laughs_refused_fast() -> None:
    body = (FEED / "billion-laughs.xml").read_bytes()
    started = time.perf_counter()
    with pytest.raises(ParseError, match="entities"):
        parse(body)
    with pytest.raises(ParseError, match="entities"):  # the same document in UTF-16
        parse(body.decode("ascii").encode("utf-16"))
    assert time.perf_counter() - started < 10.0  # refused before any expansion: a bound, not a speed target


def test_external_entity_refused() -> None:
    with pytest.raises(ParseError, match="entities"):
        parse((FEED / "external-entity.xml").read_bytes())


def test_feed_in_utf16_parses() -> None:
    text = (FEED / "keywords.rss").read_text("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    snap = parse(text.encode("utf-16"))
    assert len(snap.incidents) == 3 and len(snap.maintenances) == 2


@pytest.mark.parametrize(("body", "error"), [
    (b"", ParseError),
    (b"   \n", ParseError),
    (b'{"page": {"id": "x"}}', NotStatusPageError),
    (b"<!DOCTYPE html><html><head><title>Acme</title></head><body>hi</body></html>", NotStatusPageError),
    (b"just some text", NotStatusPageError),
])
def test_not_a_feed(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse(body)


def test_inactive_statuspage_html_instead_of_feed() -> None:
    with pytest.raises(PageInactiveError):
        parse(corpus("statuspage-html", "page-inactive-2021-01.html"))


def test_empty_atom_feed_is_healthy() -> None:
    body = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title></feed>'
    snap = parse(body)
    assert (snap.status, snap.incidents, snap.maintenances, snap.name) == (ComponentStatus.operational, [], [], "Quiet")


def test_read_feed_keeps_generator() -> None:
    doc = read_feed((FEED / "incidentio-open.atom").read_bytes())
    assert doc.generator == "incident.io" and doc.version == "atom10" and len(doc.entries) == 4


# --- the real feeds -----------------------------------------------------------------------------

def test_corpus_digitalocean_atom() -> None:
    snap = parse(corpus("statuspage", "digitalocean-history-2019-10.atom"))
    assert (len(snap.incidents), len(snap.maintenances)) == (24, 1)
    assert snap.status is ComponentStatus.operational  # everything in it is closed
    first = snap.incidents[0]
    assert (first.id, first.title) == ("w4j2nj1trtsg", "Event Processing Delays & Droplet Creates Issue")
    assert [(u.raw_status, u.created_at) for u in first.updates] == [
        ("Resolved", utc(2019, 10, 30, 23, 5)),
        ("Monitoring", utc(2019, 10, 29, 20, 5)),
        ("Identified", utc(2019, 10, 29, 15, 5)),
    ]
    # seven updates across the month boundary; the entry was edited days later
    block = by_id(snap, "g76kgjxqrzxs")
    assert len(block.updates) == 7
    assert block.started_at == utc(2019, 9, 30, 21, 25)
    assert block.resolved_at == utc(2019, 10, 1, 3, 41)
    assert block.updated_at == utc(2019, 10, 4, 15, 42, 54)
    assert block.updates[1].raw_status == "Update" and block.updates[1].status == "monitoring"
    maintenance = by_id(snap, "g4h15s1jcbmy")
    assert isinstance(maintenance, Maintenance)
    assert [u.raw_status for u in maintenance.updates] == ["Completed", "In progress", "Scheduled"]
    assert maintenance.status is MaintenanceStatus.completed
    assert all(i.status is IncidentStatus.resolved for i in snap.incidents)


def test_corpus_digitalocean_rss_open_maintenance() -> None:
    snap = parse(corpus("statuspage", "digitalocean-history-2020-01.rss"))
    assert (len(snap.incidents), len(snap.maintenances)) == (20, 5)
    storage = by_id(snap, "qz40dp1qcs1d")
    assert isinstance(storage, Maintenance) and storage.status is MaintenanceStatus.in_progress
    assert storage.updates[0].created_at == utc(2020, 1, 8, 0, 0)
    assert snap.status is ComponentStatus.under_maintenance
    email = by_id(snap, "2yyk6j58xcxh")
    assert [u.status for u in email.updates] == ["completed", "verifying", "in_progress", "scheduled"]
    assert email.updates[-1].created_at == utc(2020, 1, 9, 14, 27)
    assert email.url == "https://status.digitalocean.com/incidents/2yyk6j58xcxh"
    assert len(by_id(snap, "b939ctcc4yh2").updates) == 9
    assert by_id(snap, "t9w8x953n4sd").started_at == utc(2019, 12, 26, 21, 32)


def test_corpus_parse_2014_without_var_tags() -> None:
    snap = parse(corpus("statuspage", "parse-history-2014.rss"))
    assert len(snap.incidents) == 17 and snap.maintenances == []
    # "PST" printed in October means Pacific daylight time (pubDate 14:48 -0700)
    cluster = by_id(snap, "gtdv7rgyn76g")
    assert cluster.resolved_at == utc(2013, 10, 28, 21, 48)
    new_year = by_id(snap, "lzf7mjchpy20")
    assert [u.created_at for u in new_year.updates] == [
        utc(2014, 1, 1, 17, 9), utc(2014, 1, 1, 17, 0), utc(2014, 1, 1, 16, 17)]
    postmortem = by_id(snap, "p9hy357zjvb3")
    assert postmortem.status is IncidentStatus.postmortem
    assert postmortem.updates[0].created_at == utc(2013, 12, 26, 18, 22)
    assert postmortem.resolved_at == utc(2013, 12, 24, 19, 21)
    assert by_id(snap, "ctfv4ldyy165").updates[1].status == "investigating"  # "Update" after Investigating


def test_corpus_incidentio_openai_atom() -> None:
    snap = parse(corpus("incidentio", "openai-feed-atom-2026-08-31.atom"))
    assert len(snap.incidents) == 84 and snap.maintenances == []
    assert all(i.status is IncidentStatus.resolved for i in snap.incidents)
    assert snap.status is ComponentStatus.operational
    newest = snap.incidents[0]
    assert newest.id == "01M1C5M4K0WC8PPT0Z175RJA1E"
    assert newest.updated_at == datetime(2026, 8, 31, 20, 28, 40, 757000, tzinfo=UTC)
    assert newest.component_ids == ["ChatGPT Work"]
    assert newest.updates[0].body == "All impacted services have now fully recovered."
    assert snap.incidents[-1].id == "01KT43GBSRNH7HG9YE93GPNG63"
    # titles with trailing spaces come out trimmed
    assert "Elevated Errors for Thinking mode in ChatGPT" in {i.title for i in snap.incidents}
    assert len(snap.components) == 32
    assert all(c.status is ComponentStatus.operational for c in snap.components)
    assert sum(1 for i in snap.incidents if not i.component_ids) == 6


def test_corpus_aws_and_azure_feeds_through_the_generic_adapter() -> None:
    resolved = parse(corpus("aws", "aws-status-all-rss-2021-12-govcloud-resolved-trimmed.rss"))
    assert [(i.title, i.status, i.raw_status) for i in resolved.incidents] == [
        ("Internet Connectivity", IncidentStatus.resolved, "Service is operating normally")] * 2
    assert resolved.incidents[0].started_at == utc(2021, 12, 15, 20, 16, 32)
    for parts in (("aws", "aws-status-all-rss-2023-02-empty.rss"),
                  ("azure", "azure-status-feed-2026-09-empty-healthy.xml")):
        snap = parse(corpus(*parts))
        assert (snap.status, snap.incidents, snap.maintenances) == (ComponentStatus.operational, [], [])
