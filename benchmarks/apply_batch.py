"""The writer alone: CPU of ``Store.apply_many`` for 5,000 first sights, unchanged and changed pages.

    .venv/bin/python benchmarks/apply_batch.py [--n 5000] [--batch 250] [--runs 3]

Pages are the farm's (benchmarks/farm.py: ~85% Statuspage, ~15% incident.io summaries), parsed
before the clock starts as poll workers parse them (``parse_page``: a ``ParsedPage`` without its
model), and applied in batches of ``--batch`` as the ``Poller`` applies them. Three passes per run,
each on the database the previous one left: every provider seen for the first time; every one
unchanged (a 304); every one changed (the next version of its page: a component flips, an
incident opens). The figure is the CPU time of this process (``time.process_time``) spent in
``apply_many``; the best of ``--runs`` runs, each on a fresh database, is reported.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _pages(n: int, version: int, at: datetime, first_sight: bool) -> list:
    import orjson

    from aggregator.poll.plan import ParseJob, parse_page
    from benchmarks.farm import incidentio_summary, platform_of, statuspage_summary

    pages = []
    for i in range(n):
        platform = "incidentio" if platform_of(i) == "incidentio" else "statuspage"
        make = incidentio_summary if platform == "incidentio" else statuspage_summary
        url = f"https://status.vendor{i}.example"
        body = orjson.dumps(make(i, url, version))
        pages.append(parse_page(ParseJob(platform, {"summary": body}, url, f"vendor-{i:05d}", at, first_sight)))
    return pages


def _apply(store, outcomes: list, batch: int) -> tuple[float, int]:
    cpu = 0.0
    events = 0
    for start in range(0, len(outcomes), batch):
        chunk = outcomes[start:start + batch]
        began = time.process_time()
        events += len(store.apply_many(chunk))
        cpu += time.process_time() - began
    return cpu, events


def run(n: int, batch: int) -> dict[str, tuple[float, int]]:
    from aggregator.core import open_store
    from aggregator.store.writer import PollOutcome, iso
    from benchmarks.farm import platform_of

    t0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    first = _pages(n, 0, t0, True)
    changed = _pages(n, 1, t0 + timedelta(minutes=2), False)
    figures: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "apply.db") as store:
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO providers (id, name, url, platform, added_at) VALUES (?, ?, ?, ?, ?)",
                [(f"vendor-{i:05d}", f"Vendor {i}", f"https://status.vendor{i}.example",
                  "incidentio" if platform_of(i) == "incidentio" else "statuspage", iso(t0)) for i in range(n)])
        state = {"summary": {"url": "u", "etag": '"e"', "last_modified": None, "hash": "h"}}
        figures["first sights"] = _apply(store, [
            PollOutcome(p.provider, t0, page=p, fetch_state=state, next_due_at=1000.0, failures=0)
            for p in first], batch)
        figures["unchanged (304)"] = _apply(store, [
            PollOutcome(f"vendor-{i:05d}", t0 + timedelta(minutes=1), not_modified=True, next_due_at=2000.0,
                        failures=0) for i in range(n)], batch)
        figures["changed"] = _apply(store, [
            PollOutcome(p.provider, t0 + timedelta(minutes=2), page=p, fetch_state=state, next_due_at=3000.0,
                        failures=0) for p in changed], batch)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    best: dict[str, tuple[float, int]] = {}
    for run_no in range(args.runs):
        figures = run(args.n, args.batch)
        print(f"run {run_no + 1}: " + ", ".join(f"{k} {cpu:.3f}s ({events} events)"
                                                for k, (cpu, events) in figures.items()))
        for kind, value in figures.items():
            if kind not in best or value[0] < best[kind][0]:
                best[kind] = value
    print(f"best of {args.runs}, {args.n} providers in batches of {args.batch}, CPU in apply_many:")
    for kind, (cpu, events) in best.items():
        print(f"  {kind:16} {cpu:.3f} s  ({events} events)")


if __name__ == "__main__":
    main()
