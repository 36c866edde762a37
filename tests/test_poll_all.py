"""`upstream poll --all`: every catalog vendor is followed, then polled."""

from __future__ import annotations

from pathlib import Path

from aggregator.catalog.data import Catalog, Entry, follow_all
from aggregator.core import open_store
from aggregator.http import run
from aggregator.poll.runner import poll_once
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer


def test_follow_all_then_poll(tmp_path: Path) -> None:
    with LoopbackServer() as server, open_store(tmp_path / "up.db") as store:
        server.set_file("/a/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")
        server.set_file("/b/api/v2/summary.json", FIXTURES / "statuspage" / "acme-3-incident-identified.json")
        catalog = Catalog([
            # Rows of the user's own catalog.toml: only those may name a loopback page (netguard).
            Entry("alpha", "Alpha", server.url("/a"), "statuspage", "Cloud & Hosting", user=True),
            Entry("beta", "Beta", server.url("/b"), "statuspage", "AI & ML", user=True),
            Entry("gamma", "Gamma", "https://status.gamma.test", "statusio", "Other"),  # no page id: skipped
        ])
        store.add_provider("beta", name="Beta", url=server.url("/b"), platform="statuspage")
        added, skipped = follow_all(store, catalog)
        assert added == 1 and [pid for pid, _ in skipped] == ["gamma"] and "page id" in skipped[0][1]
        assert [r["id"] for r in store.providers()] == ["alpha", "beta"]
        assert store.get_provider("alpha")["category"] == "Cloud & Hosting"
        report = run(poll_once(store))
        assert (report.polled, report.changed, report.unreachable) == (2, 2, [])
        assert follow_all(store, catalog)[0] == 0  # idempotent
