"""A next-due time written by a clock that ran ahead is due now (issue 15, item 5)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aggregator.core import open_store
from aggregator.poll.runner import poll_once
from aggregator.poll.schedule import PollSettings
from aggregator.poll.watch import watch
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer


def test_a_next_due_time_a_day_ahead_is_polled_now_and_the_summary_says_so(tmp_path: Path) -> None:
    db = tmp_path / "up.db"
    with LoopbackServer() as page:
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")
        with open_store(db) as store:
            store.add_provider("acme", name="Acme", url=page.url(), platform="statuspage")
            store.add_provider("later", name="Later", url=page.url("/later"), platform="statuspage")
            page.set_file("/later/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")
            # One poll by a process whose clock was a day ahead, and one on time.
            asyncio.run(poll_once(store, ["acme"], clock=lambda: time.time() + 86_400))
            asyncio.run(poll_once(store, ["later"]))
            ahead = store.get_provider("acme")["next_due_at"]
            assert ahead > time.time() + 80_000
            hits = page.hit_count("/api/v2/summary.json")
            lines: list[str] = []
            stats = asyncio.run(watch(store, settings=PollSettings(poll_processes=0), once=True, log=lines.append,
                                      handle_signals=False, deliver=False))
            assert page.hit_count("/api/v2/summary.json") == hits + 1  # polled now, not in a day
            assert stats.total_polled == 1  # ... and only it: "later" is due in a minute, as it should be
            assert store.get_provider("acme")["next_due_at"] < time.time() + 120
    assert "1 due further ahead than the longest wait" in lines[-1], lines
