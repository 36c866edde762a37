"""Every real payload in the corpus, through ``classify`` + ``parse``: the adapter contract holds.

The per-file facts live in test_feed / test_html / test_vendors_*; this sweep also covers files
added to the corpus later, checking what must hold for any of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import AdapterError, NotStatusPageError, PageInactiveError
from aggregator.page.model import Incident, Maintenance, Snapshot
from tests.conftest import CORPUS

# corpus directory -> (platform, file patterns)
SWEEP: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws": ("aws", ("*",)),
    "azure": ("azure", ("*",)),
    "gcp": ("gcp", ("*",)),
    "slack": ("slack", ("*",)),
    "heroku": ("heroku", ("*",)),
    "salesforce": ("salesforce", ("*",)),
    "apple": ("apple", ("*",)),
    "statuspage-html": ("html", ("*.html",)),
    "statuspage": ("feed", ("*.atom", "*.rss")),
    "incidentio": ("feed", ("*.atom",)),
}
# Files that are not status pages by design, and the error they must raise.
# Captures that are not a readable page, and must be refused as what they are.
EXPECTED_ERRORS: dict[str, type[AdapterError]] = {
    "page-inactive-2021-01.html": PageInactiveError,
    "unclaimed-subdomain-001xnxqmhdh6-2021-01-atlassian-marketing.html": NotStatusPageError,
}


def files(directory: str, patterns: Iterable[str]) -> list[Path]:
    folder = CORPUS / directory
    if not folder.is_dir():
        pytest.skip(f"corpus directory {directory} is absent")
    found = sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})
    if not found:
        pytest.skip(f"no files in corpus/{directory}")
    return found


def check_notice(notice: Incident | Maintenance) -> None:
    assert notice.id and notice.title
    times = [u.created_at for u in notice.updates if u.created_at is not None]
    assert times == sorted(times, reverse=True), f"{notice.id}: updates not newest first"
    assert len({u.id for u in notice.updates}) == len(notice.updates), f"{notice.id}: duplicate update ids"
    for when in (notice.started_at, notice.updated_at, notice.resolved_at, *times):
        assert when is None or when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
    if not notice.is_open:
        assert notice.resolved_at is not None or not notice.updates, f"{notice.id}: closed without a time"


def check_snapshot(snap: Snapshot, platform: str) -> None:
    assert snap.platform == platform
    ids = [c.id for c in snap.components]
    assert len(ids) == len(set(ids)), "duplicate component ids"
    assert len({i.id for i in snap.incidents}) == len(snap.incidents)
    assert len({m.id for m in snap.maintenances}) == len(snap.maintenances)
    for notice in [*snap.incidents, *snap.maintenances]:
        check_notice(notice)
    known = set(ids)
    if known:  # where an adapter lists components, incidents point at real ones
        for notice in [*snap.incidents, *snap.maintenances]:
            assert set(notice.component_ids) <= known, f"{notice.id}: unknown component ids"


@pytest.mark.parametrize("directory", sorted(SWEEP))
def test_every_corpus_file_parses(directory: str) -> None:
    platform, patterns = SWEEP[directory]
    adapter = get_adapter(platform)
    keyed: list[tuple[Path, str, bytes]] = []
    for path in files(directory, patterns):
        body = path.read_bytes()
        key = adapter.classify(body, path.name)
        assert key in adapter.keys, f"{path.name}: classify gave {key!r}"
        keyed.append((path, key, body))
    primary = adapter.keys[0]
    main_body = next((body for _, key, body in keyed if key == primary), None)
    for path, key, body in keyed:
        # A companion file (gcp products, salesforce localizations) is read with a main one.
        bodies = {key: body} if key == primary or main_body is None else {primary: main_body, key: body}
        expected = EXPECTED_ERRORS.get(path.name)
        if expected is not None:
            with pytest.raises(expected):
                adapter.parse(bodies)
            continue
        try:
            snap = adapter.parse(bodies)
        except AdapterError as exc:  # pragma: no cover - a failure message worth reading
            pytest.fail(f"{path.name}: {type(exc).__name__}: {exc.reason}")
        check_snapshot(snap, platform)
        for notice in adapter.parse_history(bodies):
            check_notice(notice)


def test_corpus_classify_keys() -> None:
    """Each kind of file an adapter reads is keyed to its own endpoint."""
    expected = {
        ("gcp", "gcp-incidents-2022-07.json"): "incidents",
        ("gcp", "gcp-products-2026-agent-platform-renames.json"): "products",
        ("aws", "aws-data-json-2022-07.json"): "legacy",
        ("aws", "aws-health-currentevents-2026-03-mec1-power-trimmed.json"): "currentevents",
        ("aws", "aws-status-all-rss-2021-12-govcloud-resolved-trimmed.rss"): "rss",
        ("aws", "aws-status-all-rss-2023-02-empty.rss"): "rss",
        ("salesforce", "salesforce-instances-status-preview-2021.json"): "instances",
        ("salesforce", "salesforce-localizations-2021.json"): "localizations",
        ("slack", "slack-current-2020-07-active-incidents.json"): "current",
    }
    for (directory, name), key in expected.items():
        path = CORPUS / directory / name
        if not path.exists():
            pytest.skip(f"corpus file {name} is absent")
        assert get_adapter(directory).classify(path.read_bytes(), name) == key, name
