"""A poll through a recorded HTTP interaction (vcrpy): 200, then 304, then a changed page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import vcr

from aggregator.core import open_store
from aggregator.http import run
from aggregator.poll.runner import poll_once
from tests.conftest import FIXTURES

CASSETTE = FIXTURES / "cassettes" / "acme-statuspage-poll.yaml"


def test_poll_replays_recorded_interactions(tmp_path: Path) -> None:
    recorder = vcr.VCR(record_mode="none", match_on=["method", "uri"])
    with open_store(tmp_path / "up.db") as store, recorder.use_cassette(str(CASSETTE)) as cassette:
        store.add_provider("acme", name="Acme", url="https://status.acme.test", platform="statuspage")
        first = run(poll_once(store))
        assert (first.polled, first.changed, first.unreachable) == (1, 1, [])
        second = run(poll_once(store))
        assert (second.unchanged, second.events) == (1, [])
        third = run(poll_once(store))
        assert [e.kind.value for e in third.events] == [
            "provider.status_changed", "component.status_changed", "incident.opened"]
        assert cassette.play_count == 3 and cassette.all_played
        # the second request was conditional, with the ETag of the first answer
        assert cassette.requests[1].headers.get("If-None-Match") == '"v1"'
        row = store.get_provider("acme")
        assert row["status"] == "partial_outage" and row["reachable"] == 1
        assert datetime.fromisoformat(row["last_polled_at"].replace("Z", "+00:00")) <= datetime.now(UTC)
