"""OpenStatus adapter: the public one-word status API."""

from __future__ import annotations

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus
from providers.openstatus import OpenStatusAdapter
from tests.conftest import FIXTURES

FIX = FIXTURES / "openstatus"


@pytest.fixture
def adapter() -> OpenStatusAdapter:
    return OpenStatusAdapter()


@pytest.mark.parametrize("base_url", ["https://acme.openstatus.dev", "https://api.openstatus.dev/public/status/acme"])
def test_endpoints(adapter: OpenStatusAdapter, base_url: str) -> None:
    assert isinstance(get_adapter("openstatus"), OpenStatusAdapter)
    assert [(e.key, e.url) for e in adapter.endpoints(base_url)] == [
        ("status", "https://api.openstatus.dev/public/status/acme")]


def test_endpoints_need_the_slug(adapter: OpenStatusAdapter) -> None:
    with pytest.raises(ParseError, match="slug is needed"):
        adapter.endpoints("https://status.acme.example")


@pytest.mark.parametrize(("name", "status", "raw"), [
    ("status-operational.json", ComponentStatus.operational, "operational"),
    ("status-partial-outage.json", ComponentStatus.partial_outage, "partial_outage"),
    ("status-incident.json", ComponentStatus.degraded_performance, "incident"),
    ("status-unknown-word.json", ComponentStatus.unknown, "on_fire"),
])
def test_status_words(adapter: OpenStatusAdapter, name: str, status: ComponentStatus, raw: str) -> None:
    raw_body = (FIX / name).read_bytes()
    snap = adapter.parse({adapter.classify(raw_body): raw_body}, "https://acme.openstatus.dev")
    assert (snap.platform, snap.status, snap.raw_status) == ("openstatus", status, raw)
    assert snap.page_id == "acme" and snap.url == "https://acme.openstatus.dev"
    assert snap.components == [] and snap.incidents == []


def test_html_and_wrong_shape(adapter: OpenStatusAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"status": b"<!DOCTYPE html><html><title>OpenStatus</title></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"status": b'{"state": "ok"}'})
