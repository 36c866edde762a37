"""``aggregator.parsing``: a ParsedPage is exactly what the writer would have made of the model."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.diff import diff
from aggregator.model import Component, Incident, Snapshot
from aggregator.parsing import ParseJob, parse_page, prepare, snapshot_hash
from providers.base import get_adapter
from tests.conftest import CORPUS, FIXTURES

T0 = datetime(2026, 11, 20, 16, 0, 0, 123456, tzinfo=UTC)


def _snapshots() -> list[tuple[str, Snapshot]]:
    found = []
    adapter = get_adapter("statuspage")
    dirs = [FIXTURES / "statuspage"] + ([CORPUS / "statuspage"] if CORPUS.exists() else [])
    for folder in dirs:
        for path in sorted(folder.glob("*.json")):
            body = path.read_bytes()
            if adapter.classify(body, path.name) != "summary":
                continue
            try:
                found.append((path.name, adapter.parse({"summary": body})))
            except Exception:  # noqa: BLE001, S112 - pages that are not summaries are other tests' business
                continue
    return found


SNAPSHOTS = _snapshots()


def test_there_are_pages_to_check() -> None:
    assert len(SNAPSHOTS) >= 5


@pytest.mark.parametrize(("name", "snap"), SNAPSHOTS, ids=[n for n, _ in SNAPSHOTS])
def test_a_parsed_page_is_what_the_model_serialises_to(name: str, snap: Snapshot) -> None:
    page = prepare(snap, "acme", T0)
    stored = snap.model_copy(update={"provider": "acme", "fetched_at": T0})
    assert page.json == stored.model_dump_json()
    assert Snapshot.model_validate_json(page.json) == stored
    assert page.content_hash == snapshot_hash(stored) == snapshot_hash(stored.model_copy(
        update={"fetched_at": T0 + timedelta(hours=1)}))  # when it was fetched is not content
    assert page.status == stored.status.value and page.page_id == stored.page_id
    assert page.notice_ids == {n.id for n in (*stored.incidents, *stored.maintenances)}
    assert page.first_sight == diff(None, stored, T0)
    assert len(page.notice_rows) == len(page.notice_ids)
    # What crosses from a worker process: everything but the model, which is rebuilt on demand.
    copy = pickle.loads(pickle.dumps(page))
    copy.snapshot = None
    assert copy.model() == stored


def test_fetched_at_is_filled_in_the_key_not_in_page_text() -> None:
    sly = '"fetched_at":null'
    snap = Snapshot(platform="statuspage", name=sly, description=f"x {sly} y",
                    components=[Component(id=sly, name=sly)],
                    incidents=[Incident(id="i1", title=sly)])
    page = prepare(snap, "acme", T0)
    assert page.json == snap.model_copy(update={"provider": "acme", "fetched_at": T0}).model_dump_json()
    assert Snapshot.model_validate_json(page.json).name == sly


def test_a_page_that_is_not_what_it_claims_raises_the_adapters_error() -> None:
    from providers.base import AdapterError

    job = ParseJob("statuspage", {"summary": b"<html><title>Log in</title></html>"}, "https://x.test", "acme",
                   T0, first_sight=True)
    with pytest.raises(AdapterError):
        parse_page(job)
    job = ParseJob("statuspage", {"summary": (FIXTURES / "statuspage" / "acme-1-operational.json").read_bytes()},
                   "https://x.test", "acme", T0, first_sight=False)
    page = parse_page(job)
    assert page.first_sight is None and page.snapshot is not None and page.provider == "acme"


