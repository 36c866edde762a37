"""Poll N synthetic providers on a loopback farm, each cycle paired with a fetch floor measured beside it.

    .venv/bin/python benchmarks/poll_farm.py [--n 5000] [--shape many|one|both] [--pairs 5]

The farm (benchmarks/farm.py, its own process) serves N pages, in one of two shapes: ``many``
hosts (250 loopback addresses, a few to hundreds of pages each) or ``one`` host:port holding all
of them. ~85% are Statuspage summaries (mean ~10 KB), ~10% incident.io's compatible API, ~5%
Atom feeds; 60% answer If-None-Match with 304, 20% If-Modified-Since, 20% send no validator; 2%
fail every time.

The pages are followed as a user's library call would follow them (``Store.add_provider``, the
call behind ``upstream add`` once the platform is known; this tree has no ``upstream import``),
once, into a template database that every cold cycle copies.

Every measured poll cycle is paired with a floor cycle run right beside it, the order of the two
alternating from pair to pair: the same URLs fetched by raw aiohttp with the same validators, the
same caps (overall and per host:port) and the garbage collector set as the poller sets it, with
no parse and no store. The headline of a kind (cold: all new, into a fresh copy; warm: nothing
changed) is the median of its pairs' ratios (poll wall / floor wall), with their min and max; a
lucky or unlucky moment moves one pair, not the headline. The first cycle of a run (worker
processes start, adapters import) is paired and reported on its own, outside the medians.
CPU per cycle counts every process of the poller (parent + workers) against the floor's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import SHAPES, Farm  # noqa: E402


@dataclass
class Cycle:
    wall: float
    cpu: float  # every process of the poller (or the floor's one)
    server_cpu: float


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu() -> float:
    from aggregator.poll.workers import worker_pids

    total = 0.0
    for pid in worker_pids():
        with contextlib.suppress(OSError):  # a worker that exited meanwhile
            total += proc_cpu(pid)
    return total


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Floor:
    """Raw aiohttp over the farm's URLs, within the same caps as the poller: the least a poll can cost.

    Its session (and so its connections) lives from one cycle to the next on an event loop of its
    own, as the poll workers' clients do."""

    def __init__(self, urls: list[str], concurrency: int, per_host: int) -> None:
        self.urls = urls
        self.concurrency = concurrency
        self.per_host = per_host
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self._runner = asyncio.Runner()
        self._session: Any = None

    def close(self) -> None:
        if self._session is not None:
            self._runner.run(self._session.close())
        self._runner.close()

    def run(self) -> int:
        return self._runner.run(self._run())

    async def _run(self) -> int:
        import aiohttp

        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.per_host)
            self._session = aiohttp.ClientSession(connector=connector)
        session = self._session
        queue = iter(self.urls)
        fetched = 0

        async def worker() -> None:
            nonlocal fetched
            for url in queue:
                etag, modified = self.validators.get(url, (None, None))
                headers = {}
                if etag:
                    headers["If-None-Match"] = etag
                if modified:
                    headers["If-Modified-Since"] = modified
                try:
                    async with session.get(url, headers=headers) as resp:
                        await resp.read()
                        if resp.status == 200:
                            self.validators[url] = (resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
                except aiohttp.ClientError:
                    pass
                fetched += 1

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return fetched


def measure(farm: Farm, fn: Callable[[], Any]) -> tuple[Cycle, Any]:
    server0 = proc_cpu(farm.pid)
    workers0 = workers_cpu()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0 + workers_cpu() - workers0
    return Cycle(wall, cpu, proc_cpu(farm.pid) - server0), result


def follow_all(db: Path, farm: Farm) -> float:
    """Follow every farm page into a new database through the library; returns the seconds it took."""
    from aggregator.core import open_store

    started = time.perf_counter()
    with open_store(db) as store:
        for pid, platform, url in farm.providers:
            store.add_provider(pid, name=pid, url=url, platform=platform)
    return time.perf_counter() - started


def run_shape(args: argparse.Namespace, shape: str, tmp: Path) -> dict[str, Any]:
    from aggregator.core import open_store
    from aggregator.poll.provider import relaxed_gc
    from aggregator.poll.runner import PollReport, poll_once
    from aggregator.poll.schedule import PollSettings
    from aggregator.poll.workers import close_shared_workers, worker_pids

    settings = PollSettings(concurrency=args.concurrency, per_host=args.per_host)
    if args.processes is not None:
        settings = replace(settings, poll_processes=args.processes)
    results: dict[str, Any] = {"shape": shape}
    with Farm(args.n, shape=shape) as farm:
        sizes = sorted(farm.pages_per_host(), reverse=True)
        sizes = [s for s in sizes if s]
        print(f"\n== N={args.n}, shape {shape}: {len(sizes)} host(s), pages per host {sizes[0]} .. {sizes[-1]}; "
              f"caps {args.concurrency} overall, {args.per_host} per host:port; "
              f"{settings.poll_processes} poll worker processes", flush=True)
        template = tmp / f"{shape}-template.db"
        added = follow_all(template, farm)
        print(f"followed {args.n} pages through Store.add_provider in {added:.1f}s", flush=True)
        floor = Floor(farm.fetch_urls(), args.concurrency, args.per_host)

        def floor_run() -> int:
            with relaxed_gc():  # as the poller sets the collector for itself
                return floor.run()

        def poll(db: Path) -> PollReport:
            with open_store(db) as store:
                return asyncio.run(poll_once(store, settings=settings))

        header = f"{'cycle':<10}{'poll s':>8}{'floor s':>9}{'ratio':>7}{'poll CPU s':>11}{'floor CPU s':>12}" \
                 f"{'CPU ratio':>10}{'server CPU':>11}  outcome"
        print(header, flush=True)
        pairs: dict[str, list[tuple[Cycle, Cycle]]] = {"cold": [], "warm": []}

        def pair(kind: str, index: int, db: Path, *, fresh: bool, record: bool = True) -> None:
            if fresh:
                shutil.copyfile(template, db)
                floor.validators.clear()  # a cold floor is unconditional, as a first poll is
            order = ("floor", "poll") if index % 2 == 0 else ("poll", "floor")
            measured: dict[str, tuple[Cycle, Any]] = {}
            for which in order:
                measured[which] = measure(farm, floor_run if which == "floor" else (lambda: poll(db)))
            (p, report), (f, _) = measured["poll"], measured["floor"]
            assert isinstance(report, PollReport)
            if record:
                pairs[kind].append((p, f))
            name = f"{kind} {index}" if record else "first"
            print(f"{name:<10}{p.wall:>8.2f}{f.wall:>9.2f}{p.wall / f.wall:>7.2f}{p.cpu:>11.2f}{f.cpu:>12.2f}"
                  f"{p.cpu / f.cpu:>10.2f}{p.server_cpu:>11.2f}  polled {report.polled}, changed {report.changed}, "
                  f"unchanged {report.unchanged}, unreachable {len(report.unreachable)}"
                  + (f" (order: {order[0]} first)" if record else " (workers start)"), flush=True)

        close_shared_workers()  # the first cycle starts its workers, as a new process would
        pair("cold", 0, tmp / f"{shape}-first.db", fresh=True, record=False)
        for k in range(1, args.pairs + 1):
            pair("cold", k, tmp / f"{shape}-cold.db", fresh=True)
        for k in range(1, args.pairs + 1):
            pair("warm", k, tmp / f"{shape}-cold.db", fresh=False)
        floor.close()
        worker_rss = [peak_rss_mb(pid) for pid in worker_pids()]
        with open_store(tmp / f"{shape}-cold.db") as store:
            events = store.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        size = (tmp / f"{shape}-cold.db").stat().st_size / 1e6
    targets = {"cold": 3.0, "warm": 1.3}
    print(f"median of paired ratios (poll wall / floor wall beside it), N={args.n}, shape {shape}:")
    for kind, mine in pairs.items():
        ratios = sorted(p.wall / f.wall for p, f in mine)
        cpu = statistics.median(p.cpu for p, _ in mine)
        floor_cpu = statistics.median(f.cpu for _, f in mine)
        med = statistics.median(ratios)
        verdict = "met" if med <= targets[kind] else "MISSED"
        print(f"  {kind:<5} {med:4.2f}x (min {ratios[0]:.2f}, max {ratios[-1]:.2f}, {len(ratios)} pairs; "
              f"target <= {targets[kind]}x: {verdict}); poll {statistics.median(p.wall for p, _ in mine):.2f}s, "
              f"CPU per cycle {cpu:.2f}s vs the floor's {floor_cpu:.2f}s ({cpu / floor_cpu:.1f}x)")
        results[kind] = med
    own = peak_rss_mb()
    total = own + sum(worker_rss)
    print(f"  peak RSS {total:.0f} MB: this process (poller, store, floor) {own:.0f} MB + workers "
          f"{' + '.join(f'{w:.0f}' for w in worker_rss) or '0'} MB (each one's peak, added as if at once); "
          f"database {size:.1f} MB ({size * 1e6 / args.n / 1e3:.1f} KB per provider), {events} events")
    results["rss"] = total
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[5000], help="synthetic providers (default 5000)")
    parser.add_argument("--shape", choices=(*SHAPES, "both"), default="both")
    parser.add_argument("--pairs", type=int, default=5, help="paired cycles of each kind (at least 5 for a median)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--processes", type=int, default=None,
                        help="poll worker processes (default: as upstream chooses; 0: poll in-process)")
    args = parser.parse_args()
    if args.pairs < 5:
        parser.error("--pairs: at least 5, or the median is a lucky pair")

    from aggregator.adapters import warm_adapters

    warm_adapters()  # imports done before any clock starts, as in a running daemon
    print(f"poll_farm: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    shapes = SHAPES if args.shape == "both" else (args.shape,)
    summary = []
    with tempfile.TemporaryDirectory(prefix="upstream-bench-") as tmp:
        for n in args.n:
            for shape in shapes:
                one = argparse.Namespace(**{**vars(args), "n": n})
                summary.append((n, run_shape(one, shape, Path(tmp))))
                for leftover in Path(tmp).iterdir():
                    leftover.unlink()
    print(f"\nsummary (median of paired ratios; load average {os.getloadavg()[0]:.1f} at the end):")
    print(f"{'N':>7} {'shape':<6}{'cold':>7}{'warm':>7}{'RSS MB':>8}")
    for n, r in summary:
        print(f"{n:>7} {r['shape']:<6}{r['cold']:>6.2f}x{r['warm']:>6.2f}x{r['rss']:>8.0f}")
    # The parent's peak RSS covers the whole run so far: run one N per call for its own figure.


if __name__ == "__main__":
    main()
