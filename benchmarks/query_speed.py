"""Cold-start time of the query commands on a big database: 5,000 providers, 1,000,000 events.

    .venv/bin/python benchmarks/query_speed.py [--providers 5000] [--events 1000000] [--runs 7] [--db PATH]

Builds the database once (kept with --db for reruns): the providers' current state goes through
the real ``Store.apply_many`` path (synthetic Statuspage pages, benchmarks/farm.py), then a
year of events is bulk-inserted. Then times ``upstream status ID``, ``upstream history ID`` and
their --json forms as a user runs them: a new process each time (interpreter start, imports,
query, printing), wall clock, median and best of several runs, next to the bare interpreter's
start. The target is under 150 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KINDS = (("component.status_changed", 0.55), ("incident.opened", 0.1), ("incident.updated", 0.15),
         ("incident.resolved", 0.1), ("provider.status_changed", 0.05), ("provider.unreachable", 0.025),
         ("provider.recovered", 0.025))


def build(db: Path, providers: int, events: int) -> None:
    import orjson

    from aggregator.adapters import adapter_for
    from aggregator.core import open_store
    from aggregator.store.writer import PollOutcome, iso
    from benchmarks.farm import incidentio_summary, platform_of, statuspage_summary

    started = time.perf_counter()
    adapters = {p: adapter_for(p) for p in ("statuspage", "incidentio")}
    year_ago = datetime.now(UTC) - timedelta(days=365)
    with open_store(db) as store:
        ids = [f"vendor-{i:05d}" for i in range(providers)]
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO providers (id, name, url, platform, added_at) VALUES (?, ?, ?, ?, ?)",
                [(pid, f"Vendor {i}", f"https://status.vendor{i}.example",
                  "incidentio" if platform_of(i) == "incidentio" else "statuspage", iso(year_ago))
                 for i, pid in enumerate(ids)])
        outcomes = []
        for i, pid in enumerate(ids):
            platform = "incidentio" if platform_of(i) == "incidentio" else "statuspage"
            make = incidentio_summary if platform == "incidentio" else statuspage_summary
            body = orjson.dumps(make(i, f"https://status.vendor{i}.example", i % 5))
            outcomes.append(PollOutcome(pid, datetime.now(UTC), snapshot=adapters[platform].parse({"summary": body})))
            if len(outcomes) == 500:
                store.apply_many(outcomes)
                outcomes = []
        store.apply_many(outcomes)
        existing = store.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        print(f"  {providers} providers applied through Store.apply_many in {time.perf_counter() - started:.1f}s")
        rng = random.Random(5)
        kinds = [k for k, _ in KINDS]
        weights = [w for _, w in KINDS]
        span = 365 * 86400
        step = span / max(1, events - existing)
        conn = store.conn
        conn.execute("PRAGMA synchronous = OFF")
        t0 = time.perf_counter()
        batch = []
        with store.transaction():
            for k in range(events - existing):
                pid = ids[rng.randrange(providers)]
                kind = rng.choices(kinds, weights)[0]
                when = iso(year_ago + timedelta(seconds=k * step))
                if kind == "component.status_changed":
                    row = (kind, pid, f"c{rng.randrange(40):04d}", "API", "operational", "degraded_performance",
                           when, when, '{"group":"Core","raw_status":"degraded_performance"}')
                elif kind.startswith("incident"):
                    row = (kind, pid, f"inc{k}", "Elevated error rates on the API", "investigating", "identified",
                           when, when, '{"impact":"minor","latest_update":"We are investigating elevated error '
                                       'rates for some customers.","url":"https://stspg.io/x"}')
                elif kind.startswith("provider.status"):
                    row = (kind, pid, pid, f"Vendor {pid}", "operational", "partial_outage", when, None,
                           '{"description":"Partial System Outage"}')
                else:
                    row = (kind, pid, pid, f"Vendor {pid}", "reachable", "unreachable", when, None,
                           '{"reason":"timed out after 30s"}' if kind.endswith("unreachable") else None)
                batch.append(row)
                if len(batch) == 50_000:
                    conn.executemany("INSERT INTO events (kind, provider, subject_id, subject_name, old, new, "
                                     "observed_at, occurred_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
                    batch = []
            if batch:
                conn.executemany("INSERT INTO events (kind, provider, subject_id, subject_name, old, new, "
                                 "observed_at, occurred_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
        total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        print(f"  {total} events bulk-inserted in {time.perf_counter() - t0:.1f}s; database "
              f"{db.stat().st_size / 1e6:.0f} MB")


def time_command(argv: list[str], runs: int) -> tuple[float, float, int]:
    """(median ms, best ms, output bytes) of ``argv`` run ``runs`` times after one warm-up run."""
    env = {**os.environ, "COLUMNS": "120"}
    subprocess.run(argv, capture_output=True, env=env, check=True)  # page cache warm, as on a used machine
    times = []
    size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, env=env, check=True)
        times.append((time.perf_counter() - t0) * 1000)
        size = len(done.stdout)
    return statistics.median(times), min(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, help="database to build (kept) or reuse if it exists")
    args = parser.parse_args()

    import tempfile

    tmp = None
    if args.db is None:
        tmp = tempfile.mkdtemp(prefix="upstream-query-")
        db = Path(tmp) / "big.db"
    else:
        db = args.db
    try:
        if not db.exists():
            print(f"building {db}: {args.providers} providers, {args.events} events")
            build(db, args.providers, args.events)
        exe = shutil.which("upstream", path=str(Path(sys.executable).parent)) or ""
        cmd = [exe] if exe else [sys.executable, "-m", "aggregator.cli.main"]
        pid = "vendor-00042"
        print(f"cold start, new process per run, median (best) of {args.runs} runs, wall:")
        base_ms, base_best, _ = time_command([sys.executable, "-c", "pass"], args.runs)
        print(f"  {'python -c pass (interpreter alone)':<46}{base_ms:7.0f} ms ({base_best:.0f})")
        for label, extra in ((f"upstream status {pid}", ["status", pid]),
                             (f"upstream status {pid} --json", ["status", pid, "--json"]),
                             (f"upstream history {pid}", ["history", pid]),
                             (f"upstream history {pid} --json", ["history", pid, "--json"]),
                             (f"upstream history {pid} --limit 20", ["history", pid, "--limit", "20"])):
            med, best, size = time_command([*cmd, "--db", str(db), *extra], args.runs)
            verdict = "met" if med < 150 else "MISSED"
            print(f"  {label:<46}{med:7.0f} ms ({best:.0f})  {size:>7} bytes out  target <150 ms: {verdict}")
        check = subprocess.run([sys.executable, "-X", "importtime", *([exe] if exe else ["-m", "aggregator.cli.main"]),
                                "--db", str(db), "status", pid], capture_output=True, text=True)
        heavy = [m for m in ("pydantic", "sqlite_utils", "httpx", "aiohttp", "feedparser", "bs4")
                 if re.search(rf"\|\s+{m}$", check.stderr, re.M)]
        print(f"  heavy modules imported by status: {', '.join(heavy) or 'none'}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
