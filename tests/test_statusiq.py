"""Site24x7 StatusIQ adapter: the public summary_details JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import LoginRequiredError, NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus
from providers.statusiq import StatusIQAdapter
from tests.conftest import FIXTURES

FIX = FIXTURES / "statusiq"
API = "https://status.acme.example/sp/api/public/summary_details/statuspages/a1B2c3-D4e5"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> StatusIQAdapter:
    return StatusIQAdapter()


@pytest.mark.parametrize("base_url", [API, "https://status.acme.example/?enc_statuspage_id=a1B2c3-D4e5"])
def test_endpoints(adapter: StatusIQAdapter, base_url: str) -> None:
    assert isinstance(get_adapter("statusiq"), StatusIQAdapter)
    (endpoint,) = adapter.endpoints(base_url)
    assert (endpoint.key, endpoint.url, endpoint.accept) == ("summary", API, "application/json; version=2.0")


def test_endpoints_need_the_page_id(adapter: StatusIQAdapter) -> None:
    with pytest.raises(ParseError, match="enc_statuspage_id"):
        adapter.endpoints("https://status.acme.example")


def test_all_operational(adapter: StatusIQAdapter) -> None:
    snap = adapter.parse({adapter.classify(body("summary-operational.json")): body("summary-operational.json")})
    assert snap.platform == "statusiq" and snap.status is ComponentStatus.operational
    assert [(c.id, c.status, c.raw_status) for c in snap.components] == [
        ("Website", ComponentStatus.operational, "1"), ("API", ComponentStatus.operational, "1")]
    assert snap.components[0].updated_at == datetime(2026, 5, 2, 10, tzinfo=UTC)


def test_groups_and_codes(adapter: StatusIQAdapter) -> None:
    snap = adapter.parse({"summary": body("summary-issues.json")})
    assert [(c.id, c.name, c.group, c.status) for c in snap.components] == [
        ("Website", "Website", None, ComponentStatus.operational),  # 2 = informational
        ("EU data centre/API", "API", "EU data centre", ComponentStatus.partial_outage),
        ("EU data centre/Database", "Database", "EU data centre", ComponentStatus.under_maintenance),
        ("US data centre/API", "API", "US data centre", ComponentStatus.major_outage),
        ("US data centre/Search", "Search", "US data centre", ComponentStatus.unknown),
        ("Billing", "Billing", None, ComponentStatus.degraded_performance),
    ]
    assert snap.component("US data centre/Search").raw_status == "9"
    assert snap.status is ComponentStatus.major_outage


def test_html_and_wrong_shape(adapter: StatusIQAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"summary": b"<html><head><title>Acme status</title></head></html>"})
    with pytest.raises(LoginRequiredError):
        adapter.parse({"summary": b"<html><head><title>Sign in - Zoho</title></head></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"summary": b'{"code": 1, "message": "invalid"}'})
