"""Poll worker processes (aggregator.poll.workers): the same result as polling in-process, a dead
worker's polls taken back, and no worker left behind by a killed or stopped ``watch``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from aggregator.core import open_store
from aggregator.poll.runner import poll_once
from aggregator.poll.schedule import PollSettings
from aggregator.poll.workers import OFFLOAD_MIN, close_shared_workers, current_workers, worker_pids
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer
from tests.test_watch import _event_count, _spawn_watch, _wait_for, check_database_whole

SP = FIXTURES / "statuspage"
COUNT = OFFLOAD_MIN + 6  # enough polls at once for the poller to hand them to workers
PAGES = ["acme-1-operational.json", "acme-2-incident-investigating.json", "acme-3-incident-identified.json"]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="worker processes are tested on POSIX")


@pytest.fixture(autouse=True)
def _fresh_workers() -> None:
    close_shared_workers()
    yield
    close_shared_workers()


def _serve(servers: list[LoopbackServer], version: int, delay: float = 0.0) -> None:
    """Pages spread over two hosts (so both workers get some); a few fail, a few are not JSON."""
    for i in range(COUNT):
        server = servers[i % 2]
        path = f"/p{i}/api/v2/summary.json"
        if i % 23 == 5:
            server.set(path, "<html><body>Bad gateway</body></html>", status=502, content_type="text/html")
        elif i % 29 == 7:
            server.set(path, "<!doctype html><html><title>Acme</title></html>", content_type="text/html")
        else:
            server.set_file(path, SP / PAGES[(i + version) % len(PAGES)], delay=delay)


def _follow(db: Path, servers: list[LoopbackServer]) -> None:
    with open_store(db) as store:
        for i in range(COUNT):
            store.add_provider(f"p{i:03d}", name=f"P{i}", url=servers[i % 2].url(f"/p{i}"), platform="statuspage")


def _state(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Everything a poll writes, without the times at which it was written."""
    conn = sqlite3.connect(db)
    state = {
        "providers": conn.execute("SELECT id, status, raw_status, description, page_id, reachable, last_error, "
                                  "snapshot_hash, failures FROM providers ORDER BY id").fetchall(),
        "components": conn.execute("SELECT provider, id, name, group_name, status FROM components "
                                   "ORDER BY provider, page_order").fetchall(),
        # (a notice that left the page without word of its end is resolved at the time of the poll)
        "incidents": conn.execute("SELECT provider, id, kind, title, impact, status, is_open, started_at, "
                                  "resolved_at IS NULL FROM incidents ORDER BY provider, id").fetchall(),
        "updates": conn.execute("SELECT provider, incident_id, id, status, body FROM incident_updates "
                                "ORDER BY provider, incident_id, id").fetchall(),
        "events": conn.execute("SELECT provider, kind, subject_id, subject_name, old, new, occurred_at "
                               "FROM events ORDER BY provider, seq").fetchall(),
    }
    conn.close()
    return state


def _poll(db: Path, processes: int) -> object:
    with open_store(db) as store:
        return asyncio.run(poll_once(store, settings=PollSettings(poll_processes=processes), workers_from=OFFLOAD_MIN))


def test_workers_write_exactly_what_an_in_process_poll_writes(tmp_path: Path) -> None:
    with LoopbackServer() as one, LoopbackServer() as two:
        servers = [one, two]
        for version in range(3):  # first sight, then pages that change (incidents open, move, end)
            _serve(servers, version)
            if version == 0:
                _follow(tmp_path / "workers.db", servers)
                _follow(tmp_path / "here.db", servers)
            remote = _poll(tmp_path / "workers.db", 2)
            assert len(worker_pids()) == 2  # the poll was large enough to go to the workers
            local = _poll(tmp_path / "here.db", 0)
            assert remote.polled == local.polled == COUNT
            assert not remote.internal_errors and not local.internal_errors
            assert len(remote.unreachable) == len(local.unreachable) > 0
            assert sorted(remote.unreachable) == sorted(local.unreachable)
            assert sorted((e.provider, e.kind, e.subject_id, e.new) for e in remote.events) == sorted(
                (e.provider, e.kind, e.subject_id, e.new) for e in local.events)
            here = _state(tmp_path / "here.db")
            for table, rows in _state(tmp_path / "workers.db").items():
                assert rows == here[table], (table, sorted(set(rows) ^ set(here[table]))[:4])
        state = _state(tmp_path / "workers.db")
        assert len(state["events"]) > COUNT and state["incidents"] and state["components"]


def test_the_polls_of_a_worker_that_dies_are_taken_back(tmp_path: Path) -> None:
    db = tmp_path / "up.db"
    with LoopbackServer() as one, LoopbackServer() as two:
        _serve([one, two], 0, delay=0.3)
        _follow(db, [one, two])

        async def poll_and_kill() -> object:
            nonlocal first_workers
            with open_store(db) as store:
                task = asyncio.create_task(poll_once(store, settings=PollSettings(poll_processes=2),
                                                     workers_from=OFFLOAD_MIN))
                while (workers := current_workers()) is None or not workers.ready:
                    await asyncio.sleep(0.01)
                first_workers = set(worker_pids())
                await asyncio.sleep(0.1)  # the workers hold polls now (each page takes 0.3 s)
                os.kill(worker_pids()[0], signal.SIGKILL)
                return await task

        first_workers: set[int] = set()
        report = asyncio.run(poll_and_kill())
    assert report.polled == COUNT and not report.internal_errors
    with open_store(db) as store:
        assert all(row["last_polled_at"] for row in store.providers())
    check_database_whole(db)
    # The next poll starts new workers.
    with LoopbackServer() as one, LoopbackServer() as two:
        _serve([one, two], 1)
        with open_store(db) as store:
            for i in range(COUNT):
                store.add_provider(f"p{i:03d}", name=f"P{i}", url=[one, two][i % 2].url(f"/p{i}"),
                                   platform="statuspage")
        assert _poll(db, 2).polled == COUNT
        # ... in new worker processes (one that dies after it answered is not a failed start)
        assert len(worker_pids()) == 2 and not first_workers & set(worker_pids())
        assert all(not _gone(pid) for pid in worker_pids())


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != "Z":
                found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited; waiting for whoever adopted it to reap it


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_watch_leaves_no_worker_behind(tmp_path: Path, how: str) -> None:
    db, log = tmp_path / "up.db", tmp_path / "watch.log"
    with LoopbackServer() as one, LoopbackServer() as two:
        _serve([one, two], 0, delay=0.05)
        _follow(db, [one, two])
        proc = _spawn_watch(db, log, tmp_path / "config", "--interval-scale", "0.05")
        try:
            _wait_for(lambda: len(_children(proc.pid)) >= 2)
            workers = _children(proc.pid)
            _wait_for(lambda: _event_count(db) >= 10)
            proc.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
            code = proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
        deadline = time.monotonic() + 20
        while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(_gone(pid) for pid in workers), "a poll worker outlived its watch"
    assert "2 worker processes for large polls" in log.read_text()
    if how == "SIGTERM":
        assert code == 0 and "Traceback" not in log.read_text()
    check_database_whole(db)


def _socket_owners(pids: list[int]) -> dict[str, int]:
    """Socket inode -> the process (of ``pids``) holding it."""
    owners = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        owners[target[8:-1]] = pid
    return owners


def _inode_of_client(client_port: int, server_port: int) -> str | None:
    """The inode of the loopback TCP socket whose local port is ``client_port`` (per /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":"), fields[2].split(":")
        if int(local[1], 16) == client_port and int(remote[1], 16) == server_port:
            return fields[9]
    return None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs /proc/net/tcp")
def test_one_hosts_pages_are_spread_over_the_workers_within_the_per_host_cap(tmp_path: Path) -> None:
    """Counted at the server: requests to one host come from more than one worker process, and never
    more than ``per_host`` of them are in flight at once."""
    per_host, pages = 4, 160
    lock = threading.Lock()
    in_flight = 0
    most = 0
    senders: dict[int, int] = {}  # worker pid -> requests it sent
    body = (SP / PAGES[0]).read_bytes()

    def answer(handler: BaseHTTPRequestHandler) -> None:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            inode = _inode_of_client(handler.client_address[1], handler.server.server_address[1])
            owner = _socket_owners(worker_pids()).get(inode or "")
            with lock:
                senders[owner or 0] = senders.get(owner or 0, 0) + 1
            time.sleep(0.02)  # long enough for requests to overlap if the cap let them
        finally:
            with lock:
                in_flight -= 1
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    db = tmp_path / "up.db"
    with LoopbackServer() as server:
        for i in range(pages):
            server.set(f"/p{i}/api/v2/summary.json", handler=answer)
        with open_store(db) as store:
            for i in range(pages):
                store.add_provider(f"p{i:03d}", name=f"P{i}", url=server.url(f"/p{i}"), platform="statuspage")
            report = asyncio.run(poll_once(store, settings=PollSettings(poll_processes=2, per_host=per_host),
                                           workers_from=OFFLOAD_MIN))
    assert report.polled == pages and not report.unreachable and not report.internal_errors
    assert sum(senders.values()) == pages
    workers = set(worker_pids())
    assert len(workers) == 2 and senders.get(0, 0) == 0, senders  # every request came from a worker
    assert all(senders.get(pid, 0) >= pages // 4 for pid in workers), senders  # both took a fair part
    assert most <= per_host, most
    assert most == per_host  # the cap is used, not just respected
