"""The contract every registered adapter keeps, parametrised over the entry-point registry.

This is the checklist of docs/adapters.md: an adapter declares itself (platform, title, reads,
keys), names the endpoints it GETs, parses its fixtures into a valid Snapshot (alone or with its
companion bodies), raises nothing but ``AdapterError`` on garbage, and its pages round-trip
through ``aggregator.page.serialize`` (the stored JSON reads back as the same Snapshot).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter, load_adapters
from aggregator.errors import AdapterError
from aggregator.page.adapter import Endpoint
from aggregator.page.model import Snapshot
from aggregator.page.parts import PageParts
from aggregator.page.serialize import prepare
from tests.conftest import FIXTURES

PLATFORMS = sorted(load_adapters())
READS = {"components", "groups", "incidents", "maintenances", "updates", "regions"}
BASE = "https://status.acme.example"
# Pages named by a platform's own host, or needing a page id, for ``endpoints``.
BASE_URLS = {"aws": "https://health.aws.amazon.com/health/status", "gcp": "https://status.cloud.google.com",
             "azure": "https://azure.status.microsoft/en-us/status", "apple": "https://www.apple.com/support/systemstatus",
             "slack": "https://slack-status.com", "heroku": "https://status.heroku.com",
             "salesforce": "https://status.salesforce.com", "stripe": "https://status.stripe.com",
             "statusio": "https://status.example.io/pages/5a1b2c3d4e5f6a7b8c9d0e1f",
             "openstatus": "https://acme.openstatus.dev", "uptimerobot": "https://stats.uptimerobot.com/AbCdEf1234",
             "uptimecom": "https://status.acme.example/statuspage/acme", "uptimekuma": "https://status.acme.example/status/acme",
             "statusiq": "https://status.acme.example/sp/?enc_statuspage_id=abc123",
             "statuspal": "https://acme.statuspal.io", "feed": "https://status.acme.example/history.atom"}
GARBAGE = [b"", b"\x00\xff\xfe garbage", b"{}", b"[]", b"null", b'"text"', b"{\"components\": 5}",
           b"<html><head><title>Acme - Login</title></head></html>", b"<?xml version='1.0'?><rss><channel>",
           b"[" * 5000]
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_registry_lists_every_shipped_platform() -> None:
    assert len(PLATFORMS) >= 27
    assert {"statuspage", "incidentio", "feed", "html", "uptimekuma", "uptimerobot", "uptimecom", "gatus"} <= set(PLATFORMS)


def fixtures_of(platform: str) -> list[Path]:
    folder = FIXTURES / platform
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_declarations_and_endpoints(platform: str) -> None:
    adapter = get_adapter(platform)
    assert adapter.platform == platform and adapter.title
    assert adapter.reads <= READS
    assert adapter.keys and len(set(adapter.keys)) == len(adapter.keys)
    try:
        endpoints = adapter.endpoints(BASE_URLS.get(platform, BASE))
    except AdapterError as exc:  # needs a page id the base URL does not carry: say so in one line
        pytest.fail(f"{platform}: no endpoints for {BASE_URLS.get(platform, BASE)}: {exc.reason}")
    assert endpoints and all(isinstance(ep, Endpoint) and ep.url.startswith("http") for ep in endpoints)
    assert {ep.key for ep in endpoints} <= set(adapter.keys)


def _parse_with_companions(platform: str, path: Path, files: list[Path]) -> Snapshot:
    """The fixture alone, else with the first fixture of each other key (a page's other endpoints)."""
    adapter = get_adapter(platform)
    body = path.read_bytes()
    key = adapter.classify(body, path.name)
    assert key in adapter.keys, f"{path.name}: classify gave {key!r}"
    try:
        return adapter.parse({key: body}, BASE_URLS.get(platform, BASE))
    except AdapterError:
        companions: dict[str, bytes] = {}
        for other in files:
            other_key = adapter.classify(other.read_bytes(), other.name)
            if other_key != key and other_key not in companions:
                companions[other_key] = other.read_bytes()
        return adapter.parse({**companions, key: body}, BASE_URLS.get(platform, BASE))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fixtures_parse_and_round_trip_through_serialize(platform: str) -> None:
    files = fixtures_of(platform)
    assert files, f"no authored fixtures for {platform} (fixtures/{platform}/)"
    adapter = get_adapter(platform)
    parsed = 0
    for path in files:
        try:
            snap = _parse_with_companions(platform, path, files)
        except AdapterError as exc:  # an error fixture (login page, inactive page, ...): a reason, no crash
            assert exc.reason.strip()
            continue
        parsed += 1
        assert snap.platform == platform
        if snap.incidents:
            assert "incidents" in adapter.reads, path.name
        if snap.maintenances:
            assert "maintenances" in adapter.reads, path.name
        if any(c.group for c in snap.components):
            assert "groups" in adapter.reads, path.name
        stored = prepare(PageParts.from_snapshot(snap), "acme", T0)
        again = Snapshot.model_validate_json(stored.json)
        assert again == snap.model_copy(update={"provider": "acme", "fetched_at": T0}), path.name
    assert parsed, f"no fixture of {platform} parses"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_garbage_raises_only_adapter_errors(platform: str) -> None:
    adapter = get_adapter(platform)
    for key in adapter.keys:
        for body in GARBAGE:
            try:
                snap = adapter.parse({key: body}, BASE_URLS.get(platform, BASE))
            except AdapterError as exc:
                assert exc.reason.strip() and "\n" not in exc.reason
            else:
                assert isinstance(snap, Snapshot)
        with pytest.raises(AdapterError):
            adapter.parse({}, BASE)
        with pytest.raises(AdapterError):
            adapter.parse({"no-such-key": b"{}"}, BASE)
