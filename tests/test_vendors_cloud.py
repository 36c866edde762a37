"""Cloud dashboards: Google Cloud (gcp), AWS and Azure — authored fixtures and the real corpus files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus
from providers.vendors.aws import CURRENT_EVENTS_URL, AwsAdapter, legacy_posts, split_slug
from providers.vendors.gcp import GcpAdapter
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


# ================================================================================================
# Google Cloud
# ================================================================================================

GCP = "https://status.cloud.google.com"


def test_gcp_endpoints_and_classify() -> None:
    adapter = get_adapter("gcp")
    assert isinstance(adapter, GcpAdapter)
    assert [(e.key, e.url, e.required) for e in adapter.endpoints("https://www.google.com/appsstatus/dashboard/")] == [
        ("incidents", "https://www.google.com/appsstatus/dashboard/incidents.json", True),
        ("products", "https://www.google.com/appsstatus/dashboard/products.json", False),
    ]
    assert adapter.classify(fixture("gcp", "incidents-open.json"), "x.json") == "incidents"
    assert adapter.classify(fixture("gcp", "products.json"), "x.json") == "products"


def test_gcp_open_incidents_renamed_products_and_regions() -> None:
    snap = GcpAdapter().parse({"incidents": fixture("gcp", "incidents-open.json"),
                               "products": fixture("gcp", "products.json")}, GCP)
    assert snap.name == "Google Cloud"
    assert snap.status is ComponentStatus.major_outage
    airflow_incident, bigquery_incident, closed = snap.incidents
    assert (airflow_incident.status, airflow_incident.impact, airflow_incident.raw_impact) == (
        IncidentStatus.investigating, Impact.critical, "SERVICE_OUTAGE")
    assert airflow_incident.regions == ["europe-north1", "global"]
    assert airflow_incident.url == f"{GCP}/incidents/AbCdEfGhIjKlMnOpQr01"
    assert airflow_incident.component_ids == ["YxkG5FfcC42cQmvBCk4j", "LegacyWidget00000001"]
    assert [u.raw_status for u in airflow_incident.updates] == ["SERVICE_OUTAGE", "SERVICE_DISRUPTION"]
    # an empty "end" is still open; its latest word AVAILABLE means mitigated, not closed
    assert (bigquery_incident.status, bigquery_incident.raw_status) == (IncidentStatus.monitoring, "AVAILABLE")
    assert (closed.status, closed.resolved_at) == (IncidentStatus.resolved, utc(2026, 8, 30, 12, 0))
    components = {c.id: c for c in snap.components}
    # the renamed product keeps its id, shows its current name and is hit by the open incident
    airflow = components["YxkG5FfcC42cQmvBCk4j"]
    assert (airflow.name, airflow.description, airflow.status) == (
        "Managed Airflow", "Formerly Google Cloud Composer", ComponentStatus.major_outage)
    # a product the incident names that products.json lacks is still a component
    assert (components["LegacyWidget00000001"].name, components["LegacyWidget00000001"].status) == (
        "Cloud Legacy Widget", ComponentStatus.major_outage)
    assert components["9CcrhHUcFevXPSVaSxkf"].status is ComponentStatus.operational  # mitigated
    assert components["UwaYoXQ5bHYHG6EdiPB8"].status is ComponentStatus.operational
    assert len(components) == 5


def test_gcp_without_products_and_products_alone() -> None:
    only_incidents = GcpAdapter().parse({"incidents": fixture("gcp", "incidents-open.json")}, GCP)
    # products named by the listed incidents, under the names the incidents use
    assert {c.name: c.status for c in only_incidents.components} == {
        "Google Cloud Composer": ComponentStatus.major_outage,
        "Cloud Legacy Widget": ComponentStatus.major_outage,
        "Google BigQuery": ComponentStatus.operational,
        "Google Compute Engine": ComponentStatus.operational,
    }
    only_products = GcpAdapter().parse({"products": fixture("gcp", "products.json")}, GCP)
    assert only_products.status is ComponentStatus.unknown
    assert {c.status for c in only_products.components} == {ComponentStatus.unknown}


def test_gcp_rejects_html_and_wrong_shape() -> None:
    with pytest.raises(NotJSONError):
        GcpAdapter().parse({"incidents": b"<!DOCTYPE html><html><title>Error</title></html>"})
    with pytest.raises(ParseError, match="array"):
        GcpAdapter().parse({"incidents": b'{"hello": 1}'})


def test_gcp_corpus_full_history() -> None:
    body = corpus("gcp", "gcp-incidents-2022-07.json")
    products = corpus("gcp", "gcp-products-2026-agent-platform-renames.json")
    adapter = GcpAdapter()
    snap = adapter.parse({"incidents": body, "products": products}, GCP)
    # every incident in the file is closed: operational, 25 most recent kept in the snapshot
    assert snap.status is ComponentStatus.operational
    assert len(snap.incidents) == 25 and not any(i.is_open for i in snap.incidents)
    newest = snap.incidents[0]
    assert (newest.id, newest.title) == ("TaA75H7XA1DQyM2ReK2f", "[Google BigQuery] Lower throughput from the Read API")
    assert (newest.impact, newest.raw_impact, newest.raw_status) == (Impact.minor, "SERVICE_INFORMATION", "AVAILABLE")
    assert (newest.started_at, newest.resolved_at) == (utc(2022, 7, 1, 13, 37, 44), utc(2022, 7, 1, 19, 25, 45))
    assert len(newest.updates) == 5 and newest.updates[0].status == "resolved"
    assert len(newest.regions) == 29 and newest.regions[0] == "asia-east1"
    assert newest.url == f"{GCP}/incidents/TaA75H7XA1DQyM2ReK2f"
    history = adapter.parse_history({"incidents": body}, GCP)
    assert len(history) == 157
    assert sum(len(i.updates) for i in history) == 770
    assert history[-1].id == "WXwFb7tx1XvHyGaxwdYs"  # oldest last (begin 2021-07-07)
    impacts = [i.impact for i in history]
    assert (impacts.count(Impact.major), impacts.count(Impact.critical), impacts.count(Impact.minor)) == (118, 20, 19)
    widest = next(i for i in history if i.id == "8DhiwfKvD987f5tJrj1G")
    assert len(widest.component_ids) == 23
    networking = next(i for i in history if i.id == "iAgVMxJUfE1J9et7j9KB")
    assert (networking.impact, networking.title) == (Impact.critical, "Google Cloud Networking packet loss issue")
    # products.json: 212 products, 17 renamed ones carry their old name
    assert len(snap.components) == 212
    renamed = [c for c in snap.components if c.description]
    assert len(renamed) == 17
    composer = snap.component("YxkG5FfcC42cQmvBCk4j")
    assert (composer.name, composer.description) == ("Managed Airflow", "Formerly Google Cloud Composer")


# ================================================================================================
# AWS
# ================================================================================================

@pytest.mark.parametrize(("slug", "expected"), [
    ("ec2-us-east-1", ("ec2", "us-east-1")),
    ("acm-pca-me-central-1", ("acm-pca", "me-central-1")),
    ("internetconnectivity-us-gov-west-1", ("internetconnectivity", "us-gov-west-1")),
    ("s3-us-standard", ("s3", "us-east-1")),
    ("management-console", ("management-console", None)),
    ("cloudfront", ("cloudfront", None)),
])
def test_aws_split_slug(slug: str, expected: tuple[str, str | None]) -> None:
    assert split_slug(slug) == expected


def test_aws_endpoints_and_classify() -> None:
    adapter = get_adapter("aws")
    assert isinstance(adapter, AwsAdapter)
    assert [(e.key, e.url) for e in adapter.endpoints("https://health.aws.amazon.com/health/status")] == [
        ("currentevents", CURRENT_EVENTS_URL)]
    assert adapter.endpoints("https://status.aws.amazon.com/rss/ec2-us-east-1.rss")[0].key == "rss"
    assert adapter.endpoints("https://status.aws.amazon.com/data.json")[0].key == "legacy"
    assert adapter.classify(fixture("aws", "currentevents-open-utf16be.json")) == "currentevents"
    assert adapter.classify(fixture("aws", "data-json-open-event.json")) == "legacy"
    assert adapter.classify(fixture("aws", "all-open.rss"), "all.rss") == "rss"


def test_aws_current_events_utf16_open_event() -> None:
    snap = AwsAdapter().parse({"currentevents": fixture("aws", "currentevents-open-utf16be.json")})
    assert snap.status is ComponentStatus.partial_outage
    dynamo, ec2 = snap.incidents
    assert dynamo.id.startswith("arn:aws:health:us-east-1::event/DYNAMODB/")
    assert (dynamo.status, dynamo.raw_status, dynamo.impact) == (IncidentStatus.investigating, "2", Impact.major)
    assert dynamo.component_ids == ["dynamodb-us-east-1", "lambda-us-east-1"]
    assert dynamo.regions == ["us-east-1"]
    assert [u.created_at for u in dynamo.updates] == [utc(2026, 1, 1, 0, 30), utc(2026, 1, 1, 0, 0)]
    # status "0" closes an event; its last log entry is the resolution
    assert (ec2.status, ec2.resolved_at) == (IncidentStatus.resolved, utc(2025, 12, 31, 1, 10))
    components = {c.id: (c.name, c.region, c.status, c.raw_status) for c in snap.components}
    assert components == {
        "dynamodb-us-east-1": ("Amazon DynamoDB", "us-east-1", ComponentStatus.partial_outage, "2"),
        "lambda-us-east-1": ("AWS Lambda", "us-east-1", ComponentStatus.degraded_performance, "1"),
        "ec2-eu-west-1": ("Amazon Elastic Compute Cloud", "eu-west-1", ComponentStatus.operational, "0"),
    }


def test_aws_current_events_empty_with_bom() -> None:
    snap = AwsAdapter().parse({"currentevents": fixture("aws", "currentevents-empty-utf16le-bom.json")})
    assert (snap.status, snap.incidents, snap.components) == (ComponentStatus.operational, [], [])


def test_aws_legacy_open_event_across_midnight() -> None:
    snap = AwsAdapter().parse({"legacy": fixture("aws", "data-json-open-event.json")})
    assert snap.status is ComponentStatus.major_outage
    s3, cloudfront = snap.incidents
    assert (s3.id, s3.status, s3.impact, s3.raw_status) == (
        "s3-us-standard_1641018600", IncidentStatus.investigating, Impact.critical, "3")
    # 10:30 PM, 11:45 PM, 12:20 AM PST: the last post is the next day
    assert [u.created_at for u in s3.updates] == [utc(2022, 1, 1, 8, 20), utc(2022, 1, 1, 7, 45), utc(2022, 1, 1, 6, 30)]
    assert s3.regions == ["us-east-1"]
    assert (cloudfront.title, cloudfront.status, cloudfront.regions) == ("Propagation Delays", IncidentStatus.resolved, [])
    assert cloudfront.resolved_at == utc(2021, 12, 30, 16, 15)  # the dated post "Dec 30, 8:15 AM PST"
    assert {c.id: (c.region, c.status) for c in snap.components} == {
        "s3-us-standard": ("us-east-1", ComponentStatus.major_outage),
        "cloudfront": (None, ComponentStatus.operational),
    }


def test_aws_rss_groups_posts_into_events() -> None:
    snap = AwsAdapter().parse({"rss": fixture("aws", "all-open.rss")})
    assert snap.status is ComponentStatus.major_outage
    lambda_event = next(i for i in snap.incidents if i.component_ids == ["lambda-eu-central-1"])
    # two posts of one event: the id is the slug and the epoch of the first post
    assert lambda_event.id == "lambda-eu-central-1_1786207200"
    assert [u.raw_status for u in lambda_event.updates] == ["Service disruption", "Informational message"]
    assert (lambda_event.impact, lambda_event.regions) == (Impact.critical, ["eu-central-1"])
    sqs = next(i for i in snap.incidents if i.component_ids == ["sqs-ap-southeast-2"])
    assert (sqs.impact, sqs.title) == (Impact.major, "Elevated Latency")
    console = next(i for i in snap.incidents if i.component_ids == ["management-console"])
    assert (console.status, console.title) == (IncidentStatus.resolved, "Console sign-in errors")
    assert {c.id: (c.region, c.status) for c in snap.components} == {
        "lambda-eu-central-1": ("eu-central-1", ComponentStatus.major_outage),
        "sqs-ap-southeast-2": ("ap-southeast-2", ComponentStatus.partial_outage),
        "management-console": (None, ComponentStatus.operational),
    }


def test_aws_legacy_posts_helper() -> None:
    posts = legacy_posts('<div><span class="yellowfg">11:50 PM PDT</span>&nbsp;a</div>'
                         '<div><span class="yellowfg">12:05 AM PDT</span>&nbsp;b</div>', utc(2022, 7, 1, 6, 50))
    assert posts == [(utc(2022, 7, 1, 6, 50), "a"), (utc(2022, 7, 1, 7, 5), "b")]


def test_aws_corpus_current_events() -> None:
    snap = AwsAdapter().parse({"currentevents": corpus("aws", "aws-health-currentevents-2026-03-mec1-power-trimmed.json")})
    [event] = snap.incidents
    assert event.title == "Increased Error Rates"
    assert (event.status, event.raw_status, event.impact) == (IncidentStatus.investigating, "3", Impact.critical)
    assert event.started_at == utc(2026, 3, 1, 12, 51, 25)
    assert [u.created_at for u in event.updates] == [
        utc(2026, 3, 1, 14, 9), utc(2026, 3, 1, 13, 19, 12), utc(2026, 3, 1, 12, 51, 25)]
    assert event.updates[-1].body == "We are investigating issues with AWS services in the ME-CENTRAL-1 Region."
    assert event.regions == ["me-central-1"]
    assert set(event.component_ids) == {"cloudwatchsynthetics-me-central-1", "s3rtc-me-central-1",
                                        "acm-pca-me-central-1", "airflow-me-central-1",
                                        "multipleservices-me-central-1"}
    assert {c.region for c in snap.components} == {"me-central-1"}
    assert {c.status for c in snap.components} == {ComponentStatus.major_outage}
    assert snap.component("airflow-me-central-1").name == "Amazon Managed Workflows for Apache Airflow"
    assert snap.status is ComponentStatus.major_outage
    # the live body is UTF-16 (big-endian, no BOM): the same document must read the same
    utf16 = corpus("aws", "aws-health-currentevents-2026-03-mec1-power-trimmed.json").decode("utf-8").encode("utf-16-be")
    assert AwsAdapter().parse({"currentevents": utf16}).incidents[0].id == event.id


def test_aws_corpus_legacy_archive() -> None:
    body = corpus("aws", "aws-data-json-2022-07.json")
    adapter = AwsAdapter()
    snap = adapter.parse({"legacy": body})
    history = adapter.parse_history({"legacy": body})
    assert len(history) == 86 and all(i.status is IncidentStatus.resolved for i in history)
    assert len(snap.incidents) == 25
    assert snap.status is ComponentStatus.operational
    codes = [i.raw_status for i in history]
    assert (codes.count("1"), codes.count("2"), codes.count("3")) == (72, 11, 3)
    first = next(i for i in history if i.id == "internetconnectivity-us-east-2_1624564393")
    assert (first.title, first.regions, first.started_at) == ("Internet Connectivity", ["us-east-2"], utc(2021, 6, 24, 19, 53, 13))
    [post] = first.updates
    assert post.created_at == utc(2021, 6, 24, 19, 53)  # "12:53 PM PDT"
    acm = next(i for i in history if i.id == "certificatemanager-us-east-1_1624993969")
    assert (acm.impact, len(acm.updates)) == (Impact.critical, 10)
    assert acm.updates[-1].created_at == utc(2021, 6, 29, 19, 12)  # "12:12 PM PDT"
    times = [u.created_at for u in acm.updates]
    assert times == sorted(times, reverse=True)  # posts roll over midnight in order
    s3 = next(i for i in history if i.id == "s3-us-standard_1636495106")
    assert s3.regions == ["us-east-1"]
    assert len({c.id for c in snap.components}) == 63
    assert snap.component("ec2-us-east-2").region == "us-east-2"
    assert snap.component("cloudfront").region is None


def test_aws_corpus_rss() -> None:
    snap = AwsAdapter().parse({"rss": corpus("aws", "aws-status-all-rss-2021-12-govcloud-resolved-trimmed.rss")})
    [event] = snap.incidents
    assert event.id == "internetconnectivity-us-gov-west-1_1639584617"
    assert (event.status, event.title, event.regions) == (IncidentStatus.resolved, "Internet Connectivity", ["us-gov-west-1"])
    assert [u.created_at for u in event.updates] == [utc(2021, 12, 15, 20, 16, 32), utc(2021, 12, 15, 16, 10, 17)]
    assert snap.component("internetconnectivity-us-gov-west-1").status is ComponentStatus.operational
    empty = AwsAdapter().parse({"rss": corpus("aws", "aws-status-all-rss-2023-02-empty.rss")})
    assert (empty.status, empty.incidents, empty.components) == (ComponentStatus.operational, [], [])


# ================================================================================================
# Azure
# ================================================================================================

def test_azure_endpoints_and_title_grammar() -> None:
    from providers.vendors.azure import FEED_URL, AzureAdapter, split_title

    adapter = get_adapter("azure")
    assert isinstance(adapter, AzureAdapter)
    assert adapter.endpoints("https://azure.status.microsoft/en-us/status")[0].url == FEED_URL
    assert adapter.endpoints("https://status.azure.com/en-us/status/feed/")[0].url == \
        "https://status.azure.com/en-us/status/feed/"
    assert split_title("Azure Databricks - North Central US - Investigating") == (
        "Azure Databricks", "North Central US", "Investigating")
    assert split_title("Azure Front Door - Multiple Regions - Mitigated")[1] == "Multiple Regions"
    assert split_title("Intermittent Azure Portal sign-in failures") == (None, None, None)


def test_azure_active_events() -> None:
    from providers.vendors.azure import AzureAdapter

    snap = AzureAdapter().parse({"feed": fixture("azure", "feed-active-events.xml")})
    assert snap.name == "Azure Status"
    assert snap.status is ComponentStatus.degraded_performance
    by_id = {i.id: i for i in snap.incidents}
    databricks = by_id["TR4P-9XZ"]
    assert (databricks.status, databricks.raw_status, databricks.regions) == (
        IncidentStatus.investigating, "Investigating", ["North Central US"])
    assert databricks.updates[0].body.startswith("Impact Statement: Starting at 14:10 UTC")
    assert databricks.started_at == utc(2026, 9, 2, 14, 48)
    vms = by_id["ML7Q-2AB"]
    assert (vms.status, vms.raw_status, vms.resolved_at) == (IncidentStatus.resolved, "Mitigated", utc(2026, 9, 2, 11, 40))
    assert by_id["KQ1Z-7TT"].status is IncidentStatus.identified
    # no service/region in the title: the <category> elements tell, keywords give the state
    portal = by_id["PT0P-3CD"]
    assert (portal.status, portal.regions, portal.component_ids) == (
        IncidentStatus.investigating, ["Global"], ["Azure Portal | Global"])
    assert {c.id: (c.name, c.region, c.status) for c in snap.components} == {
        "Azure Databricks | North Central US": ("Azure Databricks", "North Central US", ComponentStatus.degraded_performance),
        "Azure Portal | Global": ("Azure Portal", "Global", ComponentStatus.degraded_performance),
        "Azure Storage | East US 2": ("Azure Storage", "East US 2", ComponentStatus.degraded_performance),
        "Virtual Machines | West Europe": ("Virtual Machines", "West Europe", ComponentStatus.operational),
    }


def test_azure_corpus_empty_channel_is_healthy() -> None:
    from providers.vendors.azure import AzureAdapter

    snap = AzureAdapter().parse({"feed": corpus("azure", "azure-status-feed-2026-09-empty-healthy.xml")})
    assert (snap.status, snap.incidents, snap.components, snap.name) == (
        ComponentStatus.operational, [], [], "Azure Status")
    assert snap.url == "https://azure.status.microsoft/en-us/status/"
