"""Poll N synthetic providers on a loopback server farm: cold, warm and changing cycles vs the fetch floor.

    .venv/bin/python benchmarks/poll_farm.py [--n 5000] [--changing 2] [--concurrency 64]

The farm (benchmarks/farm.py, its own process) serves N pages over 20 ports of 127.0.0.1:
~85% Statuspage summaries (mean ~10 KB, up to 160 components, groups, incidents with updates,
maintenances), ~10% incident.io's compatible API, ~5% Atom feeds; 60% answer If-None-Match with
304, 20% If-Modified-Since, 20% send no validator (identical body, recognised by its hash); 2%
fail every time (503 with Retry-After, or 500); each changing round changes 10% of the pages.

Every cycle polls all N providers with ``aggregator.poll.runner.poll_once`` into a fresh SQLite
database (cold: all new) and then the same one (warm: nothing changed; changing: 10% changed),
and is compared with the floor measured in the same run just before it: the same URLs fetched
by raw aiohttp with the same validators and the same concurrency, with no parse and no store.
The per-host cap is keyed by host:port, so 20 ports x 4 per host allow 80 requests at once:
the overall cap (64) is the one that binds, as it would across 5,000 distinct vendors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import Farm  # noqa: E402


@dataclass
class Cycle:
    name: str
    wall: float
    cpu: float
    requests: int
    server_cpu: float
    workers_cpu: float = 0.0
    detail: str = ""


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Floor:
    """Raw aiohttp over the farm's URLs: the least any poll of them can cost."""

    def __init__(self, urls: list[str], concurrency: int) -> None:
        self.urls = urls
        self.concurrency = concurrency
        self.validators: dict[str, tuple[str | None, str | None]] = {}

    async def run(self) -> int:
        import aiohttp

        queue = iter(self.urls)
        fetched = 0
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.concurrency)) as session:

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


class ClientFloor(Floor):
    """upstream's own fetch (``HttpClient.fetch``: caps, redirects, size limits) with no parse, no store."""

    def __init__(self, urls: list[str], settings: object) -> None:
        super().__init__(urls, 0)
        self.settings = settings

    async def run(self) -> int:
        from aggregator.poll.provider import client_for

        async with client_for(self.settings) as http:  # type: ignore[arg-type]

            async def one(url: str) -> None:
                etag, modified = self.validators.get(url, (None, None))
                result = await http.fetch(url, etag=etag, last_modified=modified)
                if result.ok:
                    self.validators[url] = (result.etag, result.last_modified)

            await asyncio.gather(*(one(url) for url in self.urls))
        return len(self.urls)


def follow_all(store: object, farm: Farm) -> None:
    from aggregator.store.writer import iso, utcnow

    now = iso(utcnow())
    with store.transaction():  # type: ignore[attr-defined]
        store.conn.executemany(  # type: ignore[attr-defined]
            "INSERT INTO providers (id, name, url, platform, added_at) VALUES (?, ?, ?, ?, ?)",
            [(pid, pid, url, platform, now) for pid, platform, url in farm.providers])


def workers_cpu() -> float:
    """CPU seconds used so far by the poller's worker processes (aggregator.poll.workers)."""
    from aggregator.poll.workers import worker_pids

    total = 0.0
    for pid in worker_pids():
        with contextlib.suppress(OSError):  # a worker that exited meanwhile
            total += proc_cpu(pid)
    return total


def peak_rss_of_workers() -> list[float]:
    """Each poll worker's peak resident set (VmHWM) in MB."""
    from aggregator.poll.workers import worker_pids

    peaks = []
    for pid in worker_pids():
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return peaks


def measure(name: str, farm: Farm, fn: object, *, requests: int | None = None) -> tuple[Cycle, object]:
    server0 = proc_cpu(farm._proc.pid)  # type: ignore[union-attr]
    workers0 = workers_cpu()
    stats0 = farm.set_round(-1)["requests"]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = fn()  # type: ignore[operator]
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    stats1 = farm.set_round(-1)["requests"]
    server = proc_cpu(farm._proc.pid) - server0  # type: ignore[union-attr]
    workers = workers_cpu() - workers0
    return Cycle(name, wall, cpu, requests if requests is not None else stats1 - stats0 - 1, server,
                 workers), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="synthetic providers (default 5000)")
    parser.add_argument("--changing", type=int, default=2, help="changing rounds (10%% of pages each)")
    parser.add_argument("--warm", type=int, default=3, help="warm rounds")
    parser.add_argument("--cold", type=int, default=2, help="cold rounds, each into a new database")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--processes", type=int, default=None,
                        help="poll worker processes (default: as upstream chooses; 0: poll in-process)")
    parser.add_argument("--ports", type=int, default=20)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--keep", type=Path, help="keep the database at this path")
    args = parser.parse_args()

    if args.loop == "uvloop":
        from aggregator.http import install_fast_loop

        if not install_fast_loop():
            sys.exit("uvloop is not installed")

    from aggregator.adapters import adapter_for
    from aggregator.core import open_store
    from aggregator.poll.provider import relaxed_gc
    from aggregator.poll.runner import PollReport, poll_once
    from aggregator.poll.schedule import PollSettings
    from aggregator.store.writer import Store

    for platform in ("statuspage", "incidentio", "feed"):
        adapter_for(platform)  # imports done before the clock starts, as in a running daemon
    settings = PollSettings(concurrency=args.concurrency, per_host=args.per_host)
    if args.processes is not None:
        settings = replace(settings, poll_processes=args.processes)
    tmp = tempfile.TemporaryDirectory(prefix="upstream-bench-")
    db = args.keep or Path(tmp.name) / "bench.db"
    cycles: list[tuple[Cycle, Cycle]] = []
    fetch_cycles: list[Cycle] = []
    print(f"poll_farm: N={args.n} providers on {args.ports} loopback ports, concurrency {args.concurrency} "
          f"(per host:port {args.per_host}), {args.loop} loop, {os.cpu_count()} CPUs, "
          f"{settings.poll_processes} poll worker processes", flush=True)
    with Farm(args.n, ports=args.ports) as farm:
        floor = Floor(farm.fetch_urls(), args.concurrency)
        client_floor = ClientFloor(farm.fetch_urls(), settings)

        def poll(store: Store) -> PollReport:
            return asyncio.run(poll_once(store, settings=settings))

        def floor_run(which: Floor) -> int:
            # The garbage collector tuned as the poller tunes it for itself, so that the ratios
            # compare the work done and not the collector's settings.
            with relaxed_gc():
                return asyncio.run(which.run())

        def cycle(name: str, store: Store) -> None:
            floor_cycle, _ = measure(f"{name} floor", farm, lambda: floor_run(floor))
            fetch_cycle, _ = measure(f"{name} fetch", farm, lambda: floor_run(client_floor))
            poll_cycle, report = measure(name, farm, lambda: poll(store))
            assert isinstance(report, PollReport)
            rss_now = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            poll_cycle.detail = (f"changed {report.changed}, unchanged {report.unchanged}, "
                                 f"unreachable {len(report.unreachable)}, events {len(report.events)}, "
                                 f"RSS now {rss_now:.0f} MB")
            cycles.append((poll_cycle, floor_cycle))
            fetch_cycles.append(fetch_cycle)
            print_row(poll_cycle, floor_cycle, fetch_cycle)

        print(f"{'cycle':<12}{'wall s':>8}{'req/s':>8}{'CPU s':>7}{'workers':>8}{'floor s':>9}{'ratio':>7}"
              f"{'floor req/s':>12}{'floor CPU s':>12}{'fetch s':>9}{'ratio':>7}{'server CPU s':>13}  outcome",
              flush=True)
        # Cold twice, each into a new database (the floor before each is unconditional: no validators).
        for k in range(args.cold):
            floor.validators.clear()
            client_floor.validators.clear()
            cold_db = db if k == args.cold - 1 else Path(tmp.name) / f"cold{k}.db"
            with open_store(cold_db) as store:
                follow_all(store, farm)
                cycle(f"cold {k + 1}", store)
        with open_store(db) as store:
            for k in range(args.warm):
                cycle(f"warm {k + 1}", store)
            for k in range(args.changing):
                changed = farm.set_round(k + 1)["changed"]
                cycle(f"changing {k + 1}", store)
                print(f"{'':<12}({changed} pages changed this round)", flush=True)
            rows = store.conn.execute("SELECT count(*) FROM events").fetchone()[0]
        size = db.stat().st_size / 1e6
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_rss = peak_rss_of_workers()
    rss = own_rss + sum(workers_rss)
    print(f"peak RSS {rss:.0f} MB: the benchmark process (poller, store, floor clients) {own_rss:.0f} MB + "
          f"{len(workers_rss)} poll workers {' + '.join(f'{w:.0f}' for w in workers_rss) or '0'} MB (each one's "
          f"peak, added as if they came at once); database {size:.1f} MB, "
          f"{rows} events")
    print("floor: the same URLs fetched by raw aiohttp (same validators, same concurrency), no parse, no store;\n"
          "fetch: the same with upstream's own HttpClient.fetch (caps, redirects, size limits), no parse, no store.\n"
          "Each is measured just before its poll cycle. Other load on the machine only slows a run, so the best\n"
          "of each kind is the least disturbed figure:")
    for kind, target in (("cold", 3.0), ("warm", 1.5), ("changing", None)):
        mine = [(p, f, c) for (p, f), c in zip(cycles, fetch_cycles, strict=True) if p.name.startswith(kind)]
        if not mine:
            continue
        best_poll = min(p.wall for p, _, _ in mine)
        best_floor = min(f.wall for _, f, _ in mine)
        best_fetch = min(c.wall for _, _, c in mine)
        ratios = (best_poll / best_floor, best_poll / best_fetch)

        def verdict(ratio: float, target: float | None = target) -> str:
            return "" if target is None else ("met" if ratio <= target else "MISSED")

        print(f"  {kind:<9} best {best_poll:6.2f}s ({args.n / best_poll:.0f} providers/s); "
              f"vs floor {best_floor:5.2f}s = {ratios[0]:4.2f}x {verdict(ratios[0])}; "
              f"vs fetch {best_fetch:5.2f}s = {ratios[1]:4.2f}x {verdict(ratios[1])}"
              + (f"  (target <= {target}x)" if target else ""))
    print(f"  peak RSS {rss:.0f} MB: target < 300 MB: {'met' if rss < 300 else 'MISSED'}")


def print_row(c: Cycle, f: Cycle, h: Cycle) -> None:
    print(f"{c.name:<12}{c.wall:>8.2f}{c.requests / c.wall:>8.0f}{c.cpu:>7.2f}{c.workers_cpu:>8.2f}{f.wall:>9.2f}"
          f"{c.wall / f.wall:>7.2f}"
          f"{f.requests / f.wall:>12.0f}{f.cpu:>12.2f}{h.wall:>9.2f}{c.wall / h.wall:>7.2f}{c.server_cpu:>13.2f}"
          f"  {c.detail}", flush=True)


if __name__ == "__main__":
    main()
