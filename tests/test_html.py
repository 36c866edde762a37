"""HTML fallback adapter: real Statuspage captures (fenced), authored status.io / incident.io pages."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import LoginRequiredError, NotStatusPageError, PageInactiveError, ParseError
from aggregator.page.model import Incident, Maintenance
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.html import HTML_ACCEPT, HtmlAdapter, strip_fences
from tests.conftest import FIXTURES, corpus_file

HTML = FIXTURES / "html"
BASE = "https://status.example.com"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def corpus(name: str) -> bytes:
    path: Path = corpus_file("statuspage-html", name)
    if not path.exists():
        pytest.skip(f"corpus file {name} is absent")
    return path.read_bytes()


def parse(body: bytes, base_url: str | None = BASE):
    return HtmlAdapter().parse({"page": body}, base_url)


def test_registered() -> None:
    adapter = get_adapter("html")
    assert isinstance(adapter, HtmlAdapter)
    [endpoint] = adapter.endpoints(BASE)
    assert (endpoint.key, endpoint.url, endpoint.accept) == ("page", BASE, HTML_ACCEPT)
    assert adapter.classify(b"<html></html>", "index.html") == "page"


@pytest.mark.parametrize(("text", "expected"), [
    ("```\n<html></html>\n```\n", "<html></html>"),
    ("```<!DOCTYPE html>\n<html></html>\n```", "<!DOCTYPE html>\n<html></html>"),
    ("```html\r\n<p>x</p>\r\n```", "<p>x</p>"),
    ("<p>no fence</p>", "<p>no fence</p>"),
])
def test_strip_fences(text: str, expected: str) -> None:
    assert strip_fences(text) == expected


# --- authored pages -----------------------------------------------------------------------------

def test_statuspage_authored_major_outage() -> None:
    snap = parse((HTML / "statuspage-major-outage.html").read_bytes())
    assert (snap.status, snap.raw_status, snap.description) == (
        ComponentStatus.major_outage, "critical", "Major System Outage")
    assert snap.page_id == "a1b2c3d4e5f6"
    assert [(c.id, c.name, c.group, c.status, c.raw_status) for c in snap.components] == [
        ("apiapiapi001", "API", None, ComponentStatus.major_outage, "major_outage"),
        ("dashweb00001", "Web", "Dashboard", ComponentStatus.degraded_performance, "degraded_performance"),
        # no data-component-status: the colour class tells, the shown word is kept
        ("dashmobile01", "Mobile", "Dashboard", ComponentStatus.under_maintenance, "Under Maintenance"),
        ("dashreports1", "Reports", "Dashboard", ComponentStatus.unknown, "some_new_status"),
    ]
    assert snap.components[0].description == "The public REST API at api.acme.example & its SDKs"
    [incident] = snap.incidents
    assert (incident.id, incident.title, incident.impact, incident.status) == (
        "q8w7e6r5t4y3", "API unavailable", Impact.critical, IncidentStatus.identified)
    assert incident.url == f"{BASE}/incidents/q8w7e6r5t4y3"
    # issued 2021-01-01T00:15Z: "Dec 31" is 2020's
    assert [u.created_at for u in incident.updates] == [utc(2021, 1, 1, 0, 10), utc(2020, 12, 31, 23, 55)]
    assert incident.updates[1].body == "All API requests are failing."
    upgrade, patching = snap.maintenances
    assert (upgrade.id, upgrade.status, upgrade.raw_impact) == ("m1n2b3v4c5x6", MaintenanceStatus.in_progress, "maintenance")
    assert (patching.id, patching.status) == ("s9d8f7g6h5j4", MaintenanceStatus.scheduled)
    assert (patching.scheduled_for, patching.scheduled_until) == (utc(2021, 1, 3, 22, 0), utc(2021, 1, 3, 23, 30))
    assert patching.updates[0].body == "Minor security patches for the primary database."
    assert patching.updates[0].created_at == utc(2020, 12, 30, 8, 15)


def test_statusio_authored() -> None:
    snap = parse((HTML / "statusio-degraded.html").read_bytes())
    assert (snap.status, snap.raw_status, snap.name) == (
        ComponentStatus.degraded_performance, "Degraded Performance", "Widget Co Status")
    assert {c.name: (c.status, c.raw_status) for c in snap.components} == {
        "Website": (ComponentStatus.operational, "Operational"),
        "API": (ComponentStatus.degraded_performance, "Degraded Performance"),
        "Webhooks": (ComponentStatus.partial_outage, "Partial Service Disruption"),
        "Billing": (ComponentStatus.under_maintenance, "Planned Maintenance"),
        "Search": (ComponentStatus.unknown, "Reticulating Splines"),
    }


def test_incidentio_authored_banner() -> None:
    snap = parse((HTML / "incidentio-partial-outage.html").read_bytes())
    assert (snap.status, snap.raw_status) == (ComponentStatus.partial_outage, "partial-outage")
    assert snap.description is not None and snap.description.startswith("We're experiencing a partial outage")


@pytest.mark.parametrize(("name", "error"), [
    ("statuspage-login.html", LoginRequiredError),
    ("not-a-status-page.html", NotStatusPageError),
])
def test_refused_pages(name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse((HTML / name).read_bytes())


@pytest.mark.parametrize(("body", "error"), [
    (b"", ParseError),
    (b'{"status": "ok"}', NotStatusPageError),
    (b"```\n```", NotStatusPageError),  # a fence around nothing
    (b'<?xml version="1.0"?>\n<!-- feed -->\n<rss version="2.0"><channel/></rss>', NotStatusPageError),
])
def test_not_html(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse(body)


def test_xhtml_with_xml_declaration_is_read() -> None:
    page = (HTML / "statusio-degraded.html").read_bytes().replace(
        b"<!DOCTYPE html>", b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>', 1)
    assert parse(page).status is ComponentStatus.degraded_performance


# --- real captures (fenced) ---------------------------------------------------------------------

def test_corpus_page_inactive() -> None:
    with pytest.raises(PageInactiveError, match="GFI Software Status - Page Inactive"):
        parse(corpus("page-inactive-2021-01.html"))


def test_corpus_python_infra_unresolved_incident() -> None:
    snap = parse(corpus("python-infra-status-2021-01-unresolved-incident.html"), "https://status.python.org")
    assert (snap.name, snap.page_id) == ("Python Infrastructure Status", "2p66nmmycsj3")
    # no banner while an incident is open: the worst component / incident impact decides
    assert (snap.status, snap.raw_status) == (ComponentStatus.partial_outage, None)
    assert len(snap.components) == 98
    assert Counter(c.group for c in snap.components) == {
        "Content Delivery Network": 75, "PyPI": 5, "PyPI Hosting Platforms": 5, None: 4,
        "mail.python.org": 3, "python.org": 2, "docs.python.org": 2, "PyPy": 2}
    degraded = [(c.id, c.name, c.group) for c in snap.components if c.status is not ComponentStatus.operational]
    assert degraded == [("yjlyv2k3zz3p", "pypi.org - Backends", "PyPI")]
    assert snap.component("z5zzdnvb32j5").description == "Availability of python.org's backend servers."
    [incident] = snap.incidents
    assert isinstance(incident, Incident)
    assert (incident.id, incident.title, incident.impact) == ("grk0k7sz6zkp", "PyPI XMLRPC Search Disabled", Impact.major)
    assert incident.url == "https://status.python.org/incidents/grk0k7sz6zkp"
    assert len(incident.updates) == 9
    assert [u.raw_status for u in incident.updates].count("Update") == 6
    assert (incident.status, incident.raw_status) == (IncidentStatus.monitoring, "Update")
    # issued 2021-01-22: "Jan 12" is 2021, "Dec 14" is 2020
    assert incident.updates[0].created_at == utc(2021, 1, 12, 16, 4)
    assert incident.started_at == utc(2020, 12, 14, 9, 41)
    assert incident.updates[-1].body.startswith("PyPI's search backends are experiencing an outage")
    assert snap.maintenances == []


def test_corpus_scalepoint_maintenances() -> None:
    snap = parse(corpus("scalepoint-status-2021-01-maintenances.html"))
    assert (snap.status, snap.raw_status, snap.description) == (
        ComponentStatus.operational, "none", "All Systems Operational")
    assert snap.page_id == "9dqdt8lbjm0b"
    assert len(snap.components) == 23
    assert sorted({c.group for c in snap.components if c.group}) == [
        "ClaimShop - Settlement", "ClaimShop - Shop", "EasyClaims - Health", "EasyClaims - Motor",
        "EasyClaims - Property", "Statistics"]
    assert [c.name for c in snap.components if c.group is None] == [
        "Communication Designer", "Scalepoint ID", "Test Environments"]
    assert [m.id for m in snap.maintenances] == ["jw2747vymzyz", "1zg6xvn7s0v6", "2srd6qhpystg", "mxkww38nmtlb"]
    assert all(isinstance(m, Maintenance) and m.status is MaintenanceStatus.scheduled for m in snap.maintenances)
    first = snap.maintenances[0]
    assert first.title == "Scheduled Maintenance - ClaimShop Settlement Tool"
    # "Jan 30, 22:00 - Jan 31, 06:00 CET"
    assert (first.scheduled_for, first.scheduled_until) == (utc(2021, 1, 30, 21, 0), utc(2021, 1, 31, 5, 0))
    assert first.updates[0].created_at == utc(2021, 1, 19, 14, 49)  # "Posted on Jan 19, 15:49 CET"
    assert first.updates[0].body.startswith("Dear customer")
    assert snap.maintenances[-1].scheduled_for == utc(2021, 2, 20, 21, 0)


def test_corpus_zoom_all_operational() -> None:
    snap = parse(corpus("zoom-status-2021-01.html"))
    assert (snap.name, snap.page_id, snap.status) == ("Zoom Status", "14qjgk812kgk", ComponentStatus.operational)
    assert len(snap.components) == 18
    assert Counter(c.group for c in snap.components) == {
        None: 6, "Zoom Website": 4, "Zoom Developer Platform": 4, "Conference Room Connector": 3, "Integrations": 1}
    assert snap.component("3z7b6jks10hm").name == "Zoom Meetings"
    assert (snap.incidents, snap.maintenances) == ([], [])
