"""StatusHub adapter: the /api/statuses counters."""

from __future__ import annotations

import pytest

from aggregator.adapters import get_adapter
from aggregator.errors import NotJSONError, ParseError
from aggregator.page.vocab import ComponentStatus
from providers.statushub import StatusHubAdapter
from tests.conftest import FIXTURES

FIX = FIXTURES / "statushub"


@pytest.fixture
def adapter() -> StatusHubAdapter:
    return StatusHubAdapter()


def test_registered_and_endpoint(adapter: StatusHubAdapter) -> None:
    assert isinstance(get_adapter("statushub"), StatusHubAdapter)
    assert [(e.key, e.url) for e in adapter.endpoints("https://status.acme.example/")] == [
        ("statuses", "https://status.acme.example/api/statuses")]


@pytest.mark.parametrize(("name", "status", "raw"), [
    ("statuses-all-up.json", ComponentStatus.operational, "count_status_1=12,count_status_2=0,count_status_3=0"),
    ("statuses-one-down.json", ComponentStatus.partial_outage, "count_status_1=10,count_status_2=1,count_status_3=1"),
    ("statuses-flat-affected.json", ComponentStatus.degraded_performance,
     "count_status_1=0,count_status_2=3,count_status_3=0"),
])
def test_counters(adapter: StatusHubAdapter, name: str, status: ComponentStatus, raw: str) -> None:
    raw_body = (FIX / name).read_bytes()
    snap = adapter.parse({adapter.classify(raw_body): raw_body})
    assert (snap.platform, snap.status, snap.raw_status) == ("statushub", status, raw)


def test_everything_down_and_nothing_counted(adapter: StatusHubAdapter) -> None:
    down = adapter.parse({"statuses": b'{"counters": {"count_status_1": 0, "count_status_2": 0, "count_status_3": 4}}'})
    assert down.status is ComponentStatus.major_outage
    empty = adapter.parse({"statuses": b'{"counters": {"count_status_1": 0, "count_status_2": 0, "count_status_3": 0}}'})
    assert empty.status is ComponentStatus.unknown


def test_html_and_wrong_shape(adapter: StatusHubAdapter) -> None:
    with pytest.raises(NotJSONError):
        adapter.parse({"statuses": b"<!DOCTYPE html><html><title>StatusHub</title></html>"})
    with pytest.raises(ParseError):
        adapter.parse({"statuses": b'{"services": []}'})
