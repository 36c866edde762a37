"""Compare HTTP clients on loopback at 50 concurrent connections: which one upstream fetches with.

Serves the farm's synthetic Statuspage summaries (benchmarks/farm.py, its own process) and
fetches the same URLs with each client, full bodies read:

  httpx                  httpx.AsyncClient on its own transport (httpcore)
  httpx+httpx-aiohttp    httpx.AsyncClient on httpx-aiohttp's AiohttpTransport
  httpx+AiohttpTransport httpx.AsyncClient on upstream's lean transport (aggregator.http)
  HttpClient.fetch       upstream's client: caps, redirects, size limits, on aiohttp's session directly
  HttpClient.fetch/httpx the same client through an httpx transport (how tests and proxies plug in)
  aiohttp                raw aiohttp.ClientSession: the floor

    .venv/bin/python benchmarks/http_clients.py [--requests 5000] [--concurrency 50] [--rounds 3] [--loop asyncio|uvloop|both]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.farm import Farm  # noqa: E402

Fetch = Callable[[str], Awaitable[int]]


async def drive(urls: list[str], total: int, concurrency: int, fetch: Fetch) -> tuple[float, int]:
    """``total`` GETs over ``urls`` by ``concurrency`` workers; returns (seconds, bytes)."""
    counter = iter(range(total))
    size = 0

    async def worker() -> None:
        nonlocal size
        for k in counter:
            size += await fetch(urls[k % len(urls)])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, size


async def bench_client(name: str, urls: list[str], total: int, concurrency: int) -> tuple[float, float]:
    import aiohttp
    import httpx

    from aggregator.http import AiohttpTransport, HttpClient

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    closers = []
    if name == "aiohttp":
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))

        async def fetch(url: str) -> int:
            async with session.get(url) as resp:
                return len(await resp.read())
        closers.append(session.close)
    elif name.startswith("HttpClient.fetch"):
        # "/httpx": the same client made to go through an httpx transport (its pluggable path).
        client = HttpClient(max_connections=concurrency, per_host=concurrency,
                            transport=AiohttpTransport(max_connections=concurrency) if "httpx" in name else None)

        async def fetch(url: str) -> int:
            result = await client.fetch(url)
            if result.error:
                raise RuntimeError(result.error)
            return len(result.body)
        closers.append(client.aclose)
    else:
        if name == "httpx":
            transport = httpx.AsyncHTTPTransport(limits=limits)
        elif name == "httpx+httpx-aiohttp":
            from httpx_aiohttp import AiohttpTransport as ThirdPartyTransport

            transport = ThirdPartyTransport(limits=limits)
        else:
            transport = AiohttpTransport(max_connections=concurrency)
        hx = httpx.AsyncClient(transport=transport, limits=limits)

        async def fetch(url: str) -> int:
            resp = await hx.get(url)
            return len(resp.content)
        closers.append(hx.aclose)
    # Warm the pool so that every client is measured on open keep-alive connections.
    await drive(urls, concurrency * 4, concurrency, fetch)
    cpu0 = time.process_time()
    seconds, _ = await drive(urls, total, concurrency, fetch)
    cpu = time.process_time() - cpu0
    for close in closers:
        await close()
    return total / seconds, cpu / seconds


CLIENTS = ("httpx", "httpx+httpx-aiohttp", "httpx+AiohttpTransport", "HttpClient.fetch/httpx", "HttpClient.fetch",
           "aiohttp")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--pages", type=int, default=1000, help="distinct synthetic pages served")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per client, interleaved")
    parser.add_argument("--loop", choices=("asyncio", "uvloop", "both"), default="asyncio")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    args = parser.parse_args()
    loops = ["asyncio", "uvloop"] if args.loop == "both" else [args.loop]
    names = args.clients.split(",")
    with Farm(args.pages, shape="one", fail_share=0.0) as farm:
        urls = farm.fetch_urls()
        print(f"loopback, {args.pages} synthetic pages (Statuspage summaries, mean ~10 KB, and feeds), one server "
              f"process; {args.requests} GETs per client and round at {args.concurrency} concurrent connections, "
              f"{args.rounds} interleaved rounds (best and median shown: other load on the machine only slows)")
        print(f"{'client':<26}{'loop':<9}{'best req/s':>11}{'median':>8}{'client CPU':>12}{'best vs aiohttp':>17}")
        for loop in loops:
            if loop == "uvloop":
                try:
                    import uvloop
                except ImportError:
                    print("uvloop not installed: skipped")
                    continue
                runner: Callable[..., object] = uvloop.run
            else:
                runner = asyncio.run
            rates: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
            for _ in range(args.rounds):
                for name in names:
                    total = args.requests if name != "httpx" else min(args.requests, 1500)
                    rates[name].append(runner(bench_client(name, urls, total, args.concurrency)))  # type: ignore[arg-type]
            floor = max(r for r, _ in rates["aiohttp"]) if rates.get("aiohttp") else None
            for name in names:
                best, cpu = max(rates[name])
                median = statistics.median(r for r, _ in rates[name])
                ratio = f"{best / floor:>16.2f}x" if floor else ""
                print(f"{name:<26}{loop:<9}{best:>11.0f}{median:>8.0f}{cpu * 100:>11.0f}%{ratio}", flush=True)
    print(f"peak RSS of the benchmark process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
