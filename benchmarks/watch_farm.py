"""``watch`` sustained against a one-shot ``poll`` of the same pages: CPU per poll, lag, memory.

    .venv/bin/python benchmarks/watch_farm.py [--n 5000] [--interval 60] [--seconds 150] [--shape many]

The farm (benchmarks/farm.py) serves N unchanging pages. They are followed through the library,
polled once (cold, so every page has a next-due time spread by the scheduler's jitter), then:

* ``poll``: one-shot polls of all N (as ``upstream poll`` does), CPU of every process of the
  poller (parent + workers) per poll, median of 3;
* ``watch``: the daemon run for ``--seconds`` with every page due each ``--interval`` seconds;
  CPU of every process per poll, polls per minute, the lag of each poll from its due time to its
  first request (p50, p99, max) and the summed peak RSS of the parent and its workers.

``--profile PATH`` writes a cProfile of the parent during ``watch``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import SHAPES, Farm  # noqa: E402
from benchmarks.poll_farm import follow_all, peak_rss_mb, workers_cpu  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between polls of a page")
    parser.add_argument("--seconds", type=float, default=150.0, help="how long watch runs")
    parser.add_argument("--shape", choices=SHAPES, default="many")
    parser.add_argument("--profile", type=Path)
    args = parser.parse_args()

    from aggregator.adapters import warm_adapters
    from aggregator.core import open_store
    from aggregator.poll.runner import poll_once
    from aggregator.poll.schedule import PollSettings
    from aggregator.poll.watch import watch
    from aggregator.poll.workers import worker_pids

    warm_adapters()
    settings = PollSettings(interval=args.interval, summary_every=10 * args.seconds)
    print(f"watch_farm: N={args.n}, shape {args.shape}, every page due each {args.interval:.0f}s, "
          f"watch for {args.seconds:.0f}s; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="upstream-watch-") as tmp, Farm(args.n, shape=args.shape) as farm:
        db = Path(tmp) / "watch.db"
        follow_all(db, farm)
        with open_store(db) as store:
            asyncio.run(poll_once(store, settings=settings))  # cold: every page stored and scheduled

        def cpu_now() -> float:
            return time.process_time() + workers_cpu()

        per_poll = []
        for _ in range(3):
            with open_store(db) as store:
                c0, w0 = cpu_now(), workers_cpu()
                report = asyncio.run(poll_once(store, settings=settings))
                per_poll.append((cpu_now() - c0) / report.polled)
                poll_workers = (workers_cpu() - w0) / report.polled
        one_shot = statistics.median(per_poll)
        print(f"poll (one-shot, warm): CPU per poll {one_shot * 1e3:.2f} ms "
              f"(3 runs: {', '.join(f'{p * 1e3:.2f}' for p in per_poll)})", flush=True)
        # The one-shot polls rescheduled every page: start watch as their next round falls due.
        lines: list[str] = []

        async def run() -> object:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(args.seconds, stop.set)
            with open_store(db) as store:
                return await watch(store, settings=settings, stop=stop, log=lines.append, handle_signals=False,
                                   deliver=False)

        profiler = cProfile.Profile() if args.profile else None
        c0, t0, w0 = cpu_now(), time.perf_counter(), workers_cpu()
        if profiler:
            profiler.enable()
        stats = asyncio.run(run())
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        cpu, wall, watch_workers = cpu_now() - c0, time.perf_counter() - t0, workers_cpu() - w0
        polled = stats.total_polled  # type: ignore[attr-defined]
        lags = sorted(stats.lags)  # type: ignore[attr-defined]
        rss = peak_rss_mb() + sum(peak_rss_mb(pid) for pid in worker_pids())
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
    sustained = cpu / polled if polled else float("nan")
    print(f"watch: {polled} polls in {wall:.0f}s ({polled / wall * 60:.0f} a minute; due: "
          f"{args.n / args.interval * 60:.0f} a minute); CPU per poll {sustained * 1e3:.2f} ms = "
          f"{sustained / one_shot:.2f}x the one-shot poll's (target <= 1.2x: "
          f"{'met' if sustained <= 1.2 * one_shot else 'MISSED'}); of which the workers "
          f"{watch_workers / polled * 1e3:.2f} ms (one-shot: {poll_workers * 1e3:.2f} ms)")
    print(f"lag from due time to first request: p50 {statistics.median(lags) if lags else float('nan'):.2f}s, "
          f"p99 {p99:.2f}s, max {lags[-1] if lags else float('nan'):.2f}s over {len(lags)} polls "
          f"(target p99 < 2 s: {'met' if p99 < 2 else 'MISSED'})")
    print(f"summed peak RSS (parent + workers): {rss:.0f} MB (target < 300 MB: {'met' if rss < 300 else 'MISSED'})")
    print(f"watch's own summary: {lines[-1] if lines else '-'}")


if __name__ == "__main__":
    main()
