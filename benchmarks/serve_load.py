"""Load on ``upstream serve`` while it polls: 200 concurrent API clients for 30 s, 5,000 providers.

A loopback farm (benchmarks/farm.py) serves 5,000 synthetic status pages; the database is filled
by one poll of them all, their next polls are spread over the interval, and ``upstream serve``
is started as its own process (it polls them as ``watch`` does). Clients ask a mix of API
questions (one provider, summary, open incidents, the event cursor, badges, a board page); one
more scrapes /metrics every 15 s as Prometheus would. Reported: latency percentiles by
endpoint, and the poll loop's lateness from the server's own /metrics.

    .venv/bin/python benchmarks/serve_load.py [--n 5000] [--clients 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import Farm  # noqa: E402
from benchmarks.poll_farm import follow_all  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def load(base: str, ids: list[str], clients: int, seconds: float) -> tuple[dict[str, list[float]], Counter]:
    import aiohttp

    lat: dict[str, list[float]] = defaultdict(list)
    codes: Counter = Counter()
    stop_at = time.monotonic() + seconds
    rng = random.Random(1)
    mix = [("provider", 30), ("summary", 20), ("incidents", 15), ("events", 15), ("badge", 15), ("board", 5)]
    names = [n for n, w in mix for _ in range(w)]

    async def one(session: aiohttp.ClientSession, name: str, url: str) -> None:
        t0 = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
            codes[resp.status] += 1
        lat[name].append(time.perf_counter() - t0)

    async def client(k: int) -> None:
        after = 0
        conn = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120)) as session:
            while time.monotonic() < stop_at:
                name = rng.choice(names)
                pid = rng.choice(ids)
                url = {"provider": f"{base}/api/v1/providers/{pid}", "summary": f"{base}/api/v1/summary",
                       "incidents": f"{base}/api/v1/incidents?open=true", "badge": f"{base}/badge/{pid}.svg",
                       "events": f"{base}/api/v1/events?after_seq={after}&limit=100",
                       "board": f"{base}/providers/{pid}.html"}[name]
                try:
                    await one(session, name, url)
                except (TimeoutError, aiohttp.ClientError):
                    codes["error"] += 1
                if name == "events":
                    after = rng.randrange(0, 5000)

    async def scraper() -> None:
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < stop_at:
                await one(session, "metrics", f"{base}/metrics")
                await asyncio.sleep(15)

    await asyncio.gather(scraper(), *(client(k) for k in range(clients)))
    return lat, codes


def metric(text: str, name: str) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name:
                return s.value
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=30.0, help="poll interval of every page (s)")
    args = parser.parse_args()

    import urllib.request

    from aggregator.poll import poll_once
    from aggregator.poll.schedule import PollSettings
    from aggregator.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="upstream-serve-bench-"))
    db = tmp / "bench.db"
    config = tmp / "config"
    config.mkdir()
    (config / "config.toml").write_text(f"[poll]\ninterval = {args.interval}\njitter = 0.1\n")
    with Farm(args.n) as farm:
        with Store(db) as store:
            follow_all(store, farm)
            t0 = time.monotonic()
            asyncio.run(poll_once(store, settings=PollSettings(interval=args.interval)))
            print(f"filled: {args.n} providers polled once in {time.monotonic() - t0:.1f}s", flush=True)
            now = time.time()
            rng = random.Random(2)
            with store.transaction():
                store.conn.executemany("UPDATE providers SET next_due_at = ? WHERE id = ?",
                                       [(now + 3 + rng.uniform(0, args.interval), pid)
                                        for pid, _, _ in farm.providers])
            ids = [pid for pid, _, _ in farm.providers]
        farm.set_round(1)  # a tenth of the pages change: the polls write events while clients read
        port = free_port()
        env = {**os.environ, "UPSTREAM_CONFIG_DIR": str(config)}
        log = (tmp / "serve.log").open("w")
        server = subprocess.Popen([sys.executable, "-m", "aggregator.cli", "--db", str(db), "serve", "--port",
                                   str(port), "--rate", "1000000"], env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.1)
            t0 = time.monotonic()
            lat, codes = asyncio.run(load(base, ids, args.clients, args.seconds))
            wall = time.monotonic() - t0
            t1 = time.monotonic()
            text = urllib.request.urlopen(f"{base}/metrics", timeout=300).read().decode()
            scrape = time.monotonic() - t1
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(120)
            except subprocess.TimeoutExpired:
                server.kill()
    every = [v for vs in lat.values() for v in vs]
    print(f"serve_load: {args.n} providers, {args.clients} clients, {wall:.1f}s, {os.cpu_count()} CPUs "
          f"(shared with the farm and the clients)")
    print(f"requests {len(every)} ({len(every) / wall:.0f}/s), status {dict(codes)}")
    print(f"latency all: p50 {pct(every, .5) * 1000:.0f} ms, p99 {pct(every, .99) * 1000:.0f} ms, "
          f"max {max(every) * 1000:.0f} ms")
    for name, vs in sorted(lat.items()):
        print(f"  {name:<10} n={len(vs):>6}  p50 {pct(vs, .5) * 1000:7.1f} ms  p99 {pct(vs, .99) * 1000:7.1f} ms")
    polls = metric(text, "upstream_polls_total")
    lag = metric(text, "upstream_poll_lag_max_seconds")
    print(f"polling: {polls:.0f} polls written during the run; latest start at most {lag:.2f}s after its due "
          f"time (jitter allowance {args.interval * 0.1:.1f}s)")
    print(f"a /metrics scrape after the run: {scrape:.2f}s, {len(text.splitlines())} lines")
    print(f"server log: {tmp / 'serve.log'}")


if __name__ == "__main__":
    main()
