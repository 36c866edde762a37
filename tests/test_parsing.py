"""``aggregator.page.serialize``: the stored page is exactly what pydantic writes for its Snapshot.

The oracle (``from_model``) makes each stored field from the Snapshot model by pydantic's own
serialiser and the model diff, independently of ``prepare``, which writes the page's component
dicts with orjson and never builds a model per component."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.adapters import get_adapter
from aggregator.page.diff import diff
from aggregator.page.model import Component, Incident, Snapshot
from aggregator.page.parts import PageParts
from aggregator.page.serialize import _content_hash, notice_rows, prepare, snapshot_hash
from aggregator.page.vocab import iso_z
from aggregator.poll.plan import ParseJob, parse_page
from tests.conftest import CORPUS, FIXTURES

T0 = datetime(2026, 11, 20, 16, 0, 0, 123456, tzinfo=UTC)


class from_model:  # noqa: N801 - reads as the function it stands for
    """What the writer must store for ``snap``, made the slow way, from the model."""

    def __init__(self, snap: Snapshot, provider: str, observed_at: datetime, first_sight: bool = True) -> None:
        undated = snap.model_copy(update={"provider": provider, "fetched_at": None}).model_dump_json()
        stored = snap.model_copy(update={"provider": provider, "fetched_at": observed_at})
        self.json = stored.model_dump_json()
        self.content_hash = _content_hash(undated.encode())
        self.status, self.raw_status, self.description, self.page_id = (
            stored.status.value, stored.raw_status, stored.description, stored.page_id)
        notices = (*stored.incidents, *stored.maintenances)
        self.notice_ids = frozenset(n.id for n in notices)
        self.notice_rows = [notice_rows(provider, n, iso_z(observed_at)) for n in notices]
        self.first_sight = diff(None, stored, observed_at) if first_sight else None
        self._model = stored

    def model(self) -> Snapshot:
        return self._model


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
    page = prepare(PageParts.from_snapshot(snap), "acme", T0)
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
    page = prepare(PageParts.from_snapshot(snap), "acme", T0)
    assert page.json == snap.model_copy(update={"provider": "acme", "fetched_at": T0}).model_dump_json()
    assert Snapshot.model_validate_json(page.json).name == sly


def test_a_page_that_is_not_what_it_claims_raises_the_adapters_error() -> None:
    from aggregator.errors import AdapterError

    job = ParseJob("statuspage", {"summary": b"<html><title>Log in</title></html>"}, "https://x.test", "acme",
                   T0, first_sight=True)
    with pytest.raises(AdapterError):
        parse_page(job)
    job = ParseJob("statuspage", {"summary": (FIXTURES / "statuspage" / "acme-1-operational.json").read_bytes()},
                   "https://x.test", "acme", T0, first_sight=False)
    page = parse_page(job)
    assert page.first_sight is None and page.provider == "acme" and page.model().provider == "acme"




def _farm_summaries() -> list[tuple[str, bytes]]:
    import orjson

    from benchmarks.farm import platform_of, statuspage_summary

    pages = []
    for i in range(0, 600, 7):
        if platform_of(i) == "statuspage":
            for version in (0, 1, 4):
                pages.append((f"farm-{i}-v{version}", orjson.dumps(statuspage_summary(i, f"https://s{i}.test", version))))
    return pages


def _summaries() -> list[tuple[str, bytes]]:
    adapter = get_adapter("statuspage")
    found = []
    dirs = [FIXTURES / "statuspage"] + ([CORPUS / "statuspage"] if CORPUS.exists() else [])
    for folder in dirs:
        for path in sorted(folder.glob("*.json")):
            body = path.read_bytes()
            if adapter.classify(body, path.name) == "summary":
                found.append((path.name, body))
    return found + _farm_summaries()


SUMMARIES = _summaries()


@pytest.mark.parametrize(("name", "body"), SUMMARIES, ids=[n for n, _ in SUMMARIES])
def test_a_page_written_from_its_parts_is_the_page_written_from_its_model(name: str, body: bytes) -> None:
    from aggregator.errors import AdapterError

    adapter = get_adapter("statuspage")
    for first in (True, False):
        job = ParseJob("statuspage", {"summary": body}, "https://status.acme.test", "acme", T0, first_sight=first)
        try:
            via_model = from_model(adapter.parse(job.bodies, job.url), "acme", T0, first_sight=first)
        except AdapterError:
            with pytest.raises(AdapterError):
                parse_page(job)
            return
        via_parts = parse_page(job)
        assert via_parts.snapshot is None  # no model was built
        assert via_parts.json == via_model.json
        assert via_parts.content_hash == via_model.content_hash
        assert (via_parts.status, via_parts.raw_status, via_parts.description, via_parts.page_id) == (
            via_model.status, via_model.raw_status, via_model.description, via_model.page_id)
        assert via_parts.notice_ids == via_model.notice_ids and via_parts.notice_rows == via_model.notice_rows
        assert via_parts.first_sight == via_model.first_sight
        assert via_parts.model() == via_model.model()


def test_pages_checked_both_ways_include_big_and_busy_ones() -> None:
    adapter = get_adapter("statuspage")
    snaps = [adapter.parse({"summary": body}) for _, body in SUMMARIES[-60:]]
    assert max(len(s.components) for s in snaps) >= 40
    assert sum(1 for s in snaps if s.incidents or s.maintenances) >= 5
    assert any(c.group for s in snaps for c in s.components)


def test_a_page_listing_a_component_twice_keeps_the_last_listing_both_ways() -> None:
    import orjson

    doc = orjson.loads((FIXTURES / "statuspage" / "acme-1-operational.json").read_bytes())
    first = dict(next(c for c in doc["components"] if not c.get("group")))
    doc["components"].append({**first, "status": "major_outage"})
    body = orjson.dumps(doc)
    adapter = get_adapter("statuspage")
    job = ParseJob("statuspage", {"summary": body}, "https://x.test", "acme", T0, first_sight=True)
    page = parse_page(job)
    assert page.json == from_model(adapter.parse(job.bodies, job.url), "acme", T0).json
    statuses = [c.status.value for c in page.model().components if c.id == first["id"]]
    assert statuses == ["major_outage"]


def _incidentio_pages() -> list[tuple[str, dict[str, bytes]]]:
    import orjson

    from benchmarks.farm import incidentio_summary, platform_of

    fx = FIXTURES / "incidentio"
    read = {p.name: p.read_bytes() for p in fx.iterdir()}
    pages = [
        ("summary-operational", {"summary": read["summary-operational.json"]}),
        ("summary-incident", {"summary": read["summary-incident.json"]}),
        ("summary+widget", {"summary": read["summary-incident.json"], "widget": read["widget-incident.json"]}),
        ("summary+incidents", {"summary": read["summary-incident.json"], "incidents": read["incidents.json"]}),
        ("widget", {"widget": read["widget-incident.json"]}),
        ("widget-empty", {"widget": read["widget-empty.json"]}),
        ("feed", {"feed": read["feed.atom"]}),
        ("summary+feed", {"summary": read["summary-operational.json"], "feed": read["feed.atom"]}),
    ]
    if CORPUS.exists():
        for path in sorted((CORPUS / "incidentio").glob("*summary*.json")):
            pages.append((path.name, {"summary": path.read_bytes()}))
    for i in range(3, 400, 10):
        if platform_of(i) == "incidentio":
            for version in (0, 2):
                pages.append((f"farm-{i}-v{version}",
                              {"summary": orjson.dumps(incidentio_summary(i, f"https://s{i}.test", version))}))
    return pages


INCIDENTIO = _incidentio_pages()


@pytest.mark.parametrize(("name", "bodies"), INCIDENTIO, ids=[n for n, _ in INCIDENTIO])
def test_an_incidentio_page_written_from_its_parts_is_the_page_written_from_its_model(
        name: str, bodies: dict[str, bytes]) -> None:
    adapter = get_adapter("incidentio")
    job = ParseJob("incidentio", bodies, "https://status.acme.test", "acme", T0, first_sight=True)
    via_model = from_model(adapter.parse(bodies, job.url), "acme", T0)
    via_parts = parse_page(job)
    assert via_parts.snapshot is None
    assert via_parts.json == via_model.json and via_parts.content_hash == via_model.content_hash
    assert via_parts.first_sight == via_model.first_sight and via_parts.notice_rows == via_model.notice_rows
    assert via_parts.model() == via_model.model()


def test_incidentio_pages_checked_both_ways_have_components_from_every_source() -> None:
    adapter = get_adapter("incidentio")
    by_name = {name: adapter.parse(bodies) for name, bodies in INCIDENTIO}
    assert by_name["widget"].components and by_name["feed"].components and by_name["summary-incident"].components
    assert any(c.group for c in by_name["summary+widget"].components)
