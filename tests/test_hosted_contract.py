"""What the hosted-platform adapters keep beyond the contract of every adapter (tests/test_adapter_contract.py):
HTML refusals by kind, wrongly typed values, and the corpus facts (incident.io, Instatus, Better Stack,
status.io, Cachet, cState, Statuspal, Sorry, Hund, OpenStatus, StatusIQ, StatusHub)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import AdapterError, LoginRequiredError, NotJSONError, PageInactiveError
from aggregator.page.model import Snapshot
from tests.conftest import FIXTURES

PLATFORMS = ["incidentio", "instatus", "betterstack", "statusio", "cachet", "cstate", "statuspal", "sorry",
             "hund", "openstatus", "statusiq", "statushub"]
READS = {"components", "groups", "incidents", "maintenances", "updates", "regions"}
HTML = b"<!DOCTYPE html>\n<html><head><title>Acme</title></head><body><div id='app'></div></body></html>"


def fixture_files(platform: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / platform).iterdir() if p.is_file())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_html_instead_of_a_document(platform: str) -> None:
    adapter = get_adapter(platform)
    for key in adapter.keys:
        with pytest.raises(NotJSONError):
            adapter.parse({key: HTML})
        with pytest.raises(PageInactiveError):
            adapter.parse({key: b"<html><head><title>Acme - Page Inactive</title></head></html>"})
        with pytest.raises(LoginRequiredError):
            adapter.parse({key: b"<html><head><title>Acme - Login</title></head></html>"})
        with pytest.raises(AdapterError):
            adapter.parse({key: b""})


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_wrong_types_anywhere_are_handled_not_crashes(platform: str) -> None:
    """Every JSON value replaced in turn by a wrongly typed one: a snapshot or a deliberate error.

    ``Adapter.parse`` turns any exception into a ParseError "unexpected document shape"; this test
    checks that the adapter itself copes, so that such an error means something truly new.
    """
    adapter = get_adapter(platform)
    for path in fixture_files(platform):
        if path.suffix != ".json":
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        key = adapter.classify(path.read_bytes(), path.name)
        for where in _paths(doc):
            for value in (None, "zz", [], {}, -1, True, 1.5):
                mutated = copy.deepcopy(doc)
                target = mutated
                for step in where[:-1]:
                    target = target[step]
                target[where[-1]] = value
                try:
                    adapter.parse({key: json.dumps(mutated).encode()})
                except AdapterError as exc:
                    assert "unexpected document shape" not in exc.reason, (path.name, where, value, exc.reason)


# Every real capture of these platforms has its facts asserted in the platform's test file; a new
# capture added to the corpus fails here until someone looks at it and writes its facts down.
CORPUS_FACTS = {
    "incidentio/openai-statuspage-compat-summary-2026-07.json": "test_incidentio.py",
    "incidentio/openai-feed-atom-2026-08-31.atom": "test_incidentio.py",
    "instatus/gcore-summary-2026-09-scheduled-maintenances.json": "test_instatus.py",
    "instatus/gcore-v3-components-2026-09-truncated.json": "test_instatus.py",
    "instatus/instatus-demo-summary-2025-10-two-open-incidents.json": "test_instatus.py",
    "betterstack/betterstack-index-2026-09-trimmed.json": "test_betterstack.py",
    "statusio/docker-status-2020-07-partial-disruption.json": "test_statusio.py",
    "statusio/docker-status-2022-04.json": "test_statusio.py",
    "statusio/gitlab-status-2020-09-maintenance.json": "test_statusio.py",
    "cachet/cachet-demo-components-2026-09.json": "test_cachet.py",
    "cachet/cachet-demo-component-groups-2026-09.json": "test_cachet.py",
    "cachet/cachet-demo-incidents-2026-09.json": "test_cachet.py",
    "cachet/cachet-demo-schedules-2026-09.json": "test_cachet.py",
    "cstate/torproject-index-2025-05-all-ok-edited.json": "test_cstate.py",
}


def test_every_corpus_capture_parses_and_has_its_facts_tested(corpus_dir: Path) -> None:
    here = Path(__file__).parent
    seen = set()
    for platform in ("incidentio", "instatus", "betterstack", "statusio", "cachet", "cstate"):
        adapter = get_adapter(platform)
        for path in sorted((corpus_dir / platform).iterdir()):
            rel = f"{platform}/{path.name}"
            seen.add(rel)
            assert rel in CORPUS_FACTS, f"new capture {rel}: add a test of its facts"
            assert path.name in (here / CORPUS_FACTS[rel]).read_text(encoding="utf-8")
            key = adapter.classify(path.read_bytes(), path.name)
            assert isinstance(adapter.parse({key: path.read_bytes()}), Snapshot)
    assert seen == set(CORPUS_FACTS)
