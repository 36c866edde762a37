"""cState adapter: the Hugo-generated index.json."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.reading import parse_time
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus
from providers.cstate import CStateAdapter
from tests.conftest import FIXTURES, corpus_file

FIX = FIXTURES / "cstate"


def body(name: str) -> bytes:
    return (FIX / name).read_bytes()


@pytest.fixture
def adapter() -> CStateAdapter:
    return CStateAdapter()


def test_registered_endpoints_classify(adapter: CStateAdapter) -> None:
    assert isinstance(get_adapter("cstate"), CStateAdapter)
    assert [(e.key, e.url) for e in adapter.endpoints("https://status.acme.example/")] == [
        ("index", "https://status.acme.example/index.json")]
    assert adapter.classify(body("index-ok.json")) == "index"


def test_go_time_with_numeric_zone_name() -> None:
    # Go prints a fixed zone without a name as "+0200 +0200".
    assert parse_time("2026-05-03 15:05:00 +0200 +0200") == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)


def test_all_ok(adapter: CStateAdapter) -> None:
    snap = adapter.parse({"index": body("index-ok.json")})
    assert (snap.platform, snap.name, snap.url) == ("cstate", "Acme status", "https://status.acme.example/")
    assert snap.description is None  # "<no value>"
    assert snap.status is ComponentStatus.operational and snap.raw_status == "ok"
    assert [(c.id, c.group, c.description) for c in snap.components] == [
        ("Website", "Core", "acme.example"), ("API", "Core", None)]
    assert snap.incidents == []


def test_issues_merged_across_systems(adapter: CStateAdapter) -> None:
    snap = adapter.parse({"index": body("index-issues.json")})
    assert snap.status is ComponentStatus.major_outage and snap.raw_status == "down"
    assert [(c.name, c.status) for c in snap.components] == [
        ("Website", ComponentStatus.partial_outage), ("API", ComponentStatus.major_outage),
        ("Newsletter", ComponentStatus.unknown)]
    assert snap.component("Newsletter").raw_status == "degraded"
    # The login issue is listed under two systems: one incident. The pinned announcement is not one.
    assert [i.id for i in snap.incidents] == ["2026-05-03-login.md", "2026-05-02-limits.md"]
    login, limits = snap.incidents
    assert login.title == "Login and checkout failing" and login.is_open
    assert login.impact is Impact.critical and login.raw_impact == "down"
    assert login.started_at == datetime(2026, 5, 3, 13, 5, tzinfo=UTC)
    assert login.updated_at == datetime(2026, 5, 3, 14, 20, tzinfo=UTC)
    assert login.resolved_at is None
    assert login.component_ids == ["Website", "API"]
    assert login.url == "https://status.acme.example/issues/2026-05-03-login/"
    assert limits.impact is Impact.none and limits.status is IncidentStatus.investigating


def test_broken_documents(adapter: CStateAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"index": b"<!DOCTYPE html>\n<html><head><title>Status</title></head></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"index": b'{"title": "a "quoted" title"}'})  # Hugo does not escape
    with pytest.raises(ParseError):
        adapter.parse({"index": b'{"data": []}'})


def test_corpus_torproject(adapter: CStateAdapter) -> None:
    raw = corpus_file("cstate", "torproject-index-2025-05-all-ok-edited.json").read_bytes()
    snap = adapter.parse({adapter.classify(raw): raw})
    assert (snap.name, snap.url) == ("Tor Project status", "https://status.torproject.org/")
    # The (edited) document says "disrupted" while every system is ok: the page's word is kept.
    assert snap.raw_status == "disrupted" and snap.status is ComponentStatus.partial_outage
    assert len(snap.components) == 15
    assert all(c.status is ComponentStatus.operational and c.raw_status == "ok" for c in snap.components)
    groups = {c.group for c in snap.components}
    assert groups == {"Tor Network", "Tor Project websites", "Internal systems", "Deprecated"}
    assert snap.component("v2 Onion Services").group == "Deprecated"
    assert snap.component("DNS").description == "Domain name resolution for the Tor Project infrastructure."
    assert snap.incidents == []
