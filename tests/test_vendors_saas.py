"""SaaS dashboards: Slack, Heroku, Salesforce, Apple, Stripe — authored fixtures and the real corpus."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.model import Maintenance
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from providers.vendors.apple import CONSUMER_URL, DEVELOPER_URL, AppleAdapter
from providers.vendors.heroku import HerokuAdapter
from providers.vendors.salesforce import SalesforceAdapter
from providers.vendors.slack import SlackAdapter
from providers.vendors.stripe import StripeAdapter
from tests.conftest import FIXTURES, corpus_file


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def corpus(*parts: str) -> bytes:
    path: Path = corpus_file(*parts)
    if not path.exists():
        pytest.skip(f"corpus file {path.name} is absent")
    return path.read_bytes()


def fixture(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


@pytest.mark.parametrize(("platform", "base", "expected"), [
    ("slack", "https://slack-status.com", [("current", "https://slack-status.com/api/v2.0.0/current")]),
    ("heroku", "https://status.heroku.com/", [("current", "https://status.heroku.com/api/v4/current-status")]),
    ("salesforce", "https://status.salesforce.com", [
        ("instances", "https://api.status.salesforce.com/v1/instances/status/preview"),
        ("localizations", "https://api.status.salesforce.com/v1/localizations")]),
    ("apple", "https://www.apple.com/support/systemstatus/", [("status", CONSUMER_URL)]),
    ("apple", "https://developer.apple.com/system-status/", [("status", DEVELOPER_URL)]),
    ("stripe", "https://status.stripe.com", [("current", "https://status.stripe.com/current")]),
])
def test_endpoints(platform: str, base: str, expected: list[tuple[str, str]]) -> None:
    assert [(e.key, e.url) for e in get_adapter(platform).endpoints(base)] == expected


@pytest.mark.parametrize(("platform", "body"), [
    ("slack", b"<!DOCTYPE html><html><head><title>Slack</title></head></html>"),
    ("heroku", b"<html><title>Heroku | Application Error</title></html>"),
    ("salesforce", b"<!doctype html><html><title>Trust</title></html>"),
    ("apple", b"<html><head><title>Apple</title></head></html>"),
    ("stripe", b"<!DOCTYPE html><html><title>Stripe Status</title></html>"),
])
def test_html_instead_of_json(platform: str, body: bytes) -> None:
    adapter = get_adapter(platform)
    with pytest.raises(NotJSONError):
        adapter.parse({adapter.keys[0]: body})


# ================================================================================================
# Slack
# ================================================================================================

def test_slack_outage_notice_and_unknown_status() -> None:
    snap = SlackAdapter().parse({"current": fixture("slack", "current-outage-and-maintenance.json")})
    assert (snap.status, snap.raw_status) == (ComponentStatus.major_outage, "active")
    outage = next(i for i in snap.incidents if i.id == "1501")
    assert (outage.impact, outage.raw_impact, outage.status) == (Impact.critical, "outage", IncidentStatus.investigating)
    assert outage.url == "https://slack-status.com/2026-09/0a1b2c3d4e5f6a7b"  # \/ unescaped
    assert outage.component_ids == ["Messaging", "Apps/Integrations/APIs"]
    assert [u.created_at for u in outage.updates] == [utc(2026, 9, 2, 14, 5), utc(2026, 9, 2, 13, 10)]
    unknown = next(i for i in snap.incidents if i.id == "1500")
    assert (unknown.status, unknown.raw_status, unknown.updates) == (IncidentStatus.investigating, "monitoring", [])
    [maintenance] = snap.maintenances
    assert (maintenance.id, maintenance.status, maintenance.raw_status) == ("1499", MaintenanceStatus.scheduled, "scheduled")
    assert {c.name: c.status for c in snap.components} == {
        "Messaging": ComponentStatus.major_outage,
        "Apps/Integrations/APIs": ComponentStatus.major_outage,
        "Notifications": ComponentStatus.degraded_performance,
        "Huddles": ComponentStatus.operational,  # only scheduled
    }


def test_slack_ok_and_history() -> None:
    adapter = SlackAdapter()
    ok = adapter.parse({"current": fixture("slack", "current-ok.json")})
    assert (ok.status, ok.raw_status, ok.incidents, ok.components) == (ComponentStatus.operational, "ok", [], [])
    assert adapter.classify(fixture("slack", "history.json")) == "history"
    assert adapter.classify(fixture("slack", "current-ok.json")) == "current"
    history = adapter.parse_history({"history": fixture("slack", "history.json")})
    assert [(type(n).__name__, n.id, n.status.value, n.raw_status) for n in history] == [
        ("Maintenance", "1498", "completed", "completed"),
        ("Maintenance", "1497", "completed", "canceled"),
        ("Incident", "1496", "resolved", "resolved"),
    ]
    assert history[2].resolved_at == utc(2026, 8, 26, 19, 40)
    assert [u.status for u in history[0].updates] == ["completed", "scheduled"]


def test_slack_corpus_active_incidents() -> None:
    snap = SlackAdapter().parse({"current": corpus("slack", "slack-current-2020-07-active-incidents.json")})
    assert (snap.status, snap.raw_status) == (ComponentStatus.degraded_performance, "active")
    assert [(i.id, i.raw_impact, i.status) for i in snap.incidents] == [
        ("878", "incident", IncidentStatus.investigating), ("879", "incident", IncidentStatus.investigating)]
    notifications, api = snap.incidents
    assert notifications.title == "We are investigating an issue with notification settings"
    assert notifications.url == "https://status.slack.com/2020-07/ea58a170d343b2ad"
    assert notifications.started_at == utc(2020, 7, 30, 22, 12, 34)
    assert api.component_ids == ["Apps/Integrations/APIs"]
    assert len(api.updates) == 1 and api.updates[0].body.startswith("We're currently aware of some intermittent latency")
    assert {c.name: c.status for c in snap.components} == {
        "Apps/Integrations/APIs": ComponentStatus.degraded_performance,
        "Notifications": ComponentStatus.degraded_performance,
    }


# ================================================================================================
# Heroku
# ================================================================================================

def test_heroku_red_incident_and_maintenance() -> None:
    snap = HerokuAdapter().parse({"current": fixture("heroku", "current-red-scheduled.json")})
    assert (snap.status, snap.raw_status) == (ComponentStatus.major_outage, "red")
    assert [(c.name, c.status, c.raw_status) for c in snap.components] == [
        ("Apps", ComponentStatus.major_outage, "red"),
        ("Data", ComponentStatus.operational, "green"),
        ("Tools", ComponentStatus.under_maintenance, "blue"),
        ("Metrics", ComponentStatus.unknown, "purple"),
    ]
    [incident] = snap.incidents
    assert (incident.id, incident.impact, incident.raw_impact) == ("2801", Impact.critical, "red")
    # "update" keeps the state of the post before it ("issue" = identified)
    assert [(u.raw_status, u.status) for u in incident.updates] == [
        ("update", "identified"), ("issue", "identified"), ("investigating", "investigating")]
    assert incident.status is IncidentStatus.identified
    assert incident.updates[1].body == "A faulty router deploy is causing errors.\n\nWe are rolling it back."
    [maintenance] = snap.maintenances
    assert (maintenance.id, maintenance.status, maintenance.impact) == ("2799", MaintenanceStatus.scheduled, Impact.maintenance)
    assert "\r" not in maintenance.updates[0].body


def test_heroku_corpus_yellow_incident() -> None:
    snap = HerokuAdapter().parse({"current": corpus("heroku", "heroku-current-status-2019-10-incident.json")})
    assert (snap.status, snap.raw_status) == (ComponentStatus.degraded_performance, "yellow")
    assert [c.name for c in snap.components] == ["Apps", "Data", "Tools"]
    [incident] = snap.incidents
    assert (incident.id, incident.title) == ("1918", "Connection timeouts to applications and Heroku Postgres")
    assert (incident.status, incident.impact, incident.raw_impact) == (IncidentStatus.identified, Impact.minor, "yellow")
    assert incident.url == "https://status.heroku.com/incidents/1918"
    assert [u.id for u in incident.updates] == ["6091", "6090"]
    assert incident.updates[0].body.startswith("Due to connection timeouts there is a disruption")
    assert "\n\nCustomer applications" in incident.updates[0].body
    assert incident.updates[1].created_at == utc(2019, 10, 24, 18, 39, 30, 231000)
    assert snap.maintenances == []


# ================================================================================================
# Salesforce
# ================================================================================================

def test_salesforce_dedup_localized_titles_and_regions() -> None:
    bodies = {"instances": fixture("salesforce", "instances-incident-maintenance.json"),
              "localizations": fixture("salesforce", "localizations.json")}
    adapter = SalesforceAdapter()
    assert adapter.classify(bodies["localizations"], "l.json") == "localizations"
    assert adapter.classify(bodies["instances"], "i.json") == "instances"
    snap = adapter.parse(bodies)
    assert (snap.status, snap.raw_status) == (ComponentStatus.major_outage, "MAJOR_INCIDENT_CORE")
    assert {c.id: (c.region, c.status) for c in snap.components} == {
        "EU5": ("EMEA", ComponentStatus.major_outage),
        "NA2": ("NA", ComponentStatus.degraded_performance),
        "AP7": ("APAC", ComponentStatus.under_maintenance),
        "CS9": ("NA", ComponentStatus.operational),
        "UM1": ("EU", ComponentStatus.unknown),
    }
    assert snap.component("CS9").description == "sandbox, Winter '27 Patch 3.1, inactive"
    login, email = snap.incidents  # 9001 is listed under EU5 and NA2 but is one incident
    assert (login.id, login.title, login.impact) == ("9001", "Service Disruption - Login", Impact.major)
    assert (login.component_ids, login.regions) == (["EU5", "NA2"], ["EMEA", "NA"])
    assert login.is_open and login.started_at == utc(2026, 9, 2, 9, 40)
    assert [u.raw_status for u in login.updates] == ["resolutionInProgress", "investigationInProgress"]
    assert (email.title, email.status, email.resolved_at) == (
        "Email delivery delays", IncidentStatus.resolved, utc(2026, 9, 1, 8, 55))
    [maintenance] = snap.maintenances
    assert (maintenance.scheduled_for, maintenance.scheduled_until, maintenance.regions) == (
        utc(2026, 9, 5, 14, 0), utc(2026, 9, 5, 18, 0), ["APAC"])


def test_salesforce_corpus_preview() -> None:
    body = corpus("salesforce", "salesforce-instances-status-preview-2021.json")
    adapter = SalesforceAdapter()
    snap = adapter.parse({"instances": body})
    assert len(snap.components) == 1528
    assert Counter(c.region for c in snap.components) == {"NA": 1176, "EMEA": 287, "APAC": 57, "EU": 8}
    assert sum("inactive" in (c.description or "") for c in snap.components) == 65
    na137 = snap.component("NA137")
    assert (na137.status, na137.raw_status) == (ComponentStatus.partial_outage, "MINOR_INCIDENT_CORE")
    assert {c.status for c in snap.components if c.id != "NA137"} == {ComponentStatus.operational}
    assert snap.status is ComponentStatus.partial_outage
    [incident] = snap.incidents
    assert (incident.id, incident.impact, incident.raw_impact) == ("5968", Impact.minor, "minor")
    assert incident.title == "Performance degradation asynchronous processing subset"  # no localizations given
    assert (incident.component_ids, incident.regions) == (["NA137"], ["NA"])
    assert incident.started_at == utc(2020, 7, 29, 16, 8)
    assert incident.is_open and snap.maintenances == []
    localized = adapter.parse({"instances": body,
                               "localizations": corpus("salesforce", "salesforce-localizations-2021.json")})
    assert localized.incidents[0].title == "Performance Degradation - Asynchronous Processing"


def test_salesforce_wrong_shape() -> None:
    with pytest.raises(ParseError, match="array"):
        SalesforceAdapter().parse({"instances": b'{"key": "NA1"}'})


# ================================================================================================
# Apple
# ================================================================================================

def test_apple_jsonp_fixture() -> None:
    snap = AppleAdapter().parse({"status": fixture("apple", "system_status_en_US.js")})
    assert snap.status is ComponentStatus.major_outage
    assert snap.description == "Some services are experiencing issues."
    assert {c.id: c.status for c in snap.components} == {
        "app-store": ComponentStatus.operational,
        "icloud-mail": ComponentStatus.major_outage,  # Outage, all users
        "apple-music": ComponentStatus.degraded_performance,  # Performance
        "apple-pay": ComponentStatus.operational,  # maintenance not started yet
        "apple-cash": ComponentStatus.operational,
        "maps-display": ComponentStatus.operational,
    }
    mail = next(i for i in snap.incidents if i.id == "1000000901")
    assert (mail.impact, mail.raw_status, mail.url) == (Impact.critical, "ongoing", "https://support.apple.com/icloud")
    assert mail.started_at == utc(2026, 9, 1, 12, 0)
    glitch = next(i for i in snap.incidents if i.id == "2000000899")
    assert (glitch.impact, glitch.raw_impact, glitch.status) == (Impact.none, "Glitch", IncidentStatus.resolved)
    [maintenance] = snap.maintenances  # listed under two services: one maintenance
    assert (maintenance.status, maintenance.component_ids) == (MaintenanceStatus.scheduled, ["apple-pay", "apple-cash"])
    assert (maintenance.scheduled_for, maintenance.scheduled_until) == (utc(2026, 9, 5, 0, 0), utc(2026, 9, 5, 2, 0))


def test_apple_corpus_consumer_ongoing_outage() -> None:
    snap = AppleAdapter().parse({"status": corpus("apple", "apple-consumer-system-status-2021-04-icloud-mail-ongoing.json")})
    assert len(snap.components) == 63
    assert snap.status is ComponentStatus.partial_outage
    mail = snap.component("icloud-mail")
    assert (mail.name, mail.status, mail.raw_status) == ("iCloud Mail", ComponentStatus.partial_outage, "Outage")
    outage, keychain = snap.incidents
    assert (outage.id, outage.status, outage.impact) == ("1000000310", IncidentStatus.investigating, Impact.major)
    assert outage.started_at == utc(2021, 4, 26, 11, 13)
    assert outage.updated_at == utc(2021, 4, 26, 13, 30)  # datePosted "04/26/2021 06:30 PDT"
    assert (keychain.id, keychain.status, keychain.raw_status) == ("2000000560", IncidentStatus.resolved, "resolved")
    assert (keychain.started_at, keychain.resolved_at) == (utc(2021, 4, 24, 19, 16), utc(2021, 4, 24, 22, 55))
    assert snap.maintenances == []


def test_apple_corpus_developer_wayback() -> None:
    snap = AppleAdapter().parse({"status": corpus("apple", "apple-developer-system-status-2020-11-wayback.json")},
                                "https://developer.apple.com/system-status/")
    assert snap.name == "Apple Developer System Status"
    assert len(snap.components) == 33
    assert (len(snap.incidents), len(snap.maintenances)) == (8, 2)
    # the same messageId is "ongoing" under Videos and "completed" elsewhere: still open
    ongoing = next(m for m in snap.maintenances if m.id == "2000000024")
    assert isinstance(ongoing, Maintenance) and ongoing.status is MaintenanceStatus.in_progress
    assert ongoing.component_ids == ["contact-us", "program-enrollment-and-renewals", "software-downloads", "videos"]
    assert snap.component("videos").status is ComponentStatus.under_maintenance
    assert snap.component("contact-us").status is ComponentStatus.operational
    assert snap.status is ComponentStatus.under_maintenance
    done = next(m for m in snap.maintenances if m.id == "2000000002")
    assert done.status is MaintenanceStatus.completed
    # a redirectUrl with a leading space comes out clean
    sandbox = next(i for i in snap.incidents if i.id == "1000000102")
    assert sandbox.url == "https://developer.apple.com/documentation/storekit/in-app_purchase/testing_in-app_purchases_with_sandbox"
    notary = [i for i in snap.incidents if i.component_ids == ["developer-id-notary-service"]]
    assert len(notary) == 4 and all(i.status is IncidentStatus.resolved for i in notary)
    nov1 = next(i for i in notary if i.id == "2000000030")
    assert (nov1.impact, nov1.started_at, nov1.resolved_at) == (Impact.critical, utc(2020, 11, 1, 7, 1), utc(2020, 11, 1, 9, 0))


def test_apple_corpus_developer_no_issues_minified() -> None:
    snap = AppleAdapter().parse({"status": corpus("apple", "apple-developer-system-status-2021-06-no-issues-minified.json")})
    assert (len(snap.components), snap.status, snap.incidents, snap.maintenances) == (
        38, ComponentStatus.operational, [], [])
    assert snap.components[0].name == "Account"


# ================================================================================================
# Stripe
# ================================================================================================

def test_stripe_degraded_and_up() -> None:
    snap = StripeAdapter().parse({"current": fixture("stripe", "current-degraded.json")})
    assert (snap.status, snap.raw_status, snap.description) == (
        ComponentStatus.degraded_performance, "degraded", "Some Checkout sessions are failing to load.")
    assert [(c.name, c.status, c.raw_status) for c in snap.components] == [
        ("API", ComponentStatus.operational, "up"),
        ("Dashboard", ComponentStatus.degraded_performance, "degraded"),
        ("Checkout", ComponentStatus.major_outage, "down"),
        ("Webhooks", ComponentStatus.unknown, "sideways"),
    ]
    assert snap.components[0].updated_at == utc(2026, 9, 2, 12, 0)
    up = StripeAdapter().parse({"current": fixture("stripe", "current-up.json")})
    assert (up.status, up.incidents) == (ComponentStatus.operational, [])
    with pytest.raises(ParseError, match="no statuses"):
        StripeAdapter().parse({"current": b'{"hello": "world"}'})
    with pytest.raises(ParseError, match="no statuses"):
        StripeAdapter().parse({"current": b'{"statuses": ["up"]}'})
