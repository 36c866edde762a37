"""Crash consistency and concurrent readers: ``upstream watch`` killed with SIGKILL at random
moments of many cycles, and CLI readers running while it writes.

After every kill the database must be whole: ``PRAGMA integrity_check`` ok; every provider's
stored snapshot, hash, components and open notices agree; the event log numbered 1..N with no
hole and no event twice, and its chains (status old -> new, incident opened -> resolved, ...)
replay to the current state, so no event was lost; and the notification outbox holds exactly one
delivery per (subscription, event) that should notify. A last run then carries on and delivers
everything, each notification at least once and under one id.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from aggregator.cli.main import main
from aggregator.core import open_store
from aggregator.page.model import Snapshot
from aggregator.store.writer import snapshot_hash
from providers.statuspage import StatuspageAdapter
from tests.conftest import FIXTURES, REPO
from tests.loopback import LoopbackServer

SP = FIXTURES / "statuspage"
# A page that goes through every kind of change, one state per request, round and round.
STATES = ["acme-1-operational.json", "acme-2-incident-investigating.json", "acme-3-incident-identified.json",
          "acme-4-resolved-gone.json", "acme-5-maintenance-scheduled.json", "acme-6-maintenance-in-progress.json"]
STATE_BODIES = [(SP / name).read_bytes() for name in STATES]
PAGES = 6
KILLS = int(os.environ.get("UPSTREAM_CRASH_KILLS", "20"))
SEED = int(os.environ.get("UPSTREAM_CRASH_SEED", "20261128"))
KINDS = "incident,component,maintenance,provider"


def cycling_page(offset: int, delay: float) -> Callable[[BaseHTTPRequestHandler], None]:
    counter = [offset]
    lock = threading.Lock()

    def handler(request: BaseHTTPRequestHandler) -> None:
        with lock:
            body = STATE_BODIES[counter[0] % len(STATE_BODIES)]
            counter[0] += 1
        if delay:
            time.sleep(delay)  # keeps some polls in flight when the kill comes
        with contextlib.suppress(OSError):  # the client was killed mid-request
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

    return handler


@contextmanager
def farm() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    for i in range(PAGES):
        server.set(f"/p{i}/api/v2/summary.json", handler=cycling_page(i, 0.05 * (i % 3)))
        server.set_file(f"/p{i}/api/v2/incidents.json", SP / "acme-incidents.json")
        server.set_file(f"/p{i}/api/v2/scheduled-maintenances.json", SP / "acme-scheduled-maintenances.json")
    try:
        yield server
    finally:
        server.stop()


def cli(*args: str) -> None:
    assert main(list(args)) == 0, args


def setup_database(db: Path, server: LoopbackServer, sink: Path) -> None:
    for i in range(PAGES):
        cli("--db", str(db), "add", server.url(f"/p{i}"), "--platform", "statuspage", "--id", f"p{i}",
            "--name", f"Page {i}")
    cli("--db", str(db), "subscribe", f"file:{sink}", "--kinds", KINDS, "--flap-window", "0", "--name", "all")


def spawn(db: Path, config: Path, *extra: str, stdout: Any = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    env = {**os.environ, "UPSTREAM_CONFIG_DIR": str(config), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "aggregator.cli.main", "--db", str(db), *extra], cwd=str(REPO),
                            env=env, stdout=stdout, stderr=subprocess.PIPE)


def event_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    except sqlite3.Error:
        return 0


# ------------------------------------------------------------------------------------------------
# What "whole" means
# ------------------------------------------------------------------------------------------------

def check_whole(db: Path) -> dict[str, int]:
    """Every invariant of a consistent database; returns a few counts for the report."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        events = [dict(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]
        _check_log(conn, events)
        for p in conn.execute("SELECT p.*, s.snapshot AS snapshot FROM providers p "
                              "LEFT JOIN snapshots s ON s.provider = p.id"):
            _check_provider(conn, dict(p), [e for e in events if e["provider"] == p["id"]])
        deliveries = _check_outbox(conn, events)
        return {"events": len(events), "deliveries": deliveries}
    finally:
        conn.close()


def _check_log(conn: sqlite3.Connection, events: list[dict[str, Any]]) -> None:
    seqs = [e["seq"] for e in events]
    # A transaction that never committed (killed mid-apply) takes its AUTOINCREMENT bump with
    # it: sqlite_sequence is an ordinary table, rolled back with the rest. So no holes, ever.
    assert seqs == list(range(1, len(seqs) + 1)), "the event log has holes"
    top = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
    assert (top[0] if top else 0) == len(seqs)
    keys = Counter((e["provider"], e["kind"], e["subject_id"], e["old"], e["new"], e["observed_at"])
                   for e in events)
    twice = [k for k, n in keys.items() if n > 1]
    assert not twice, f"events recorded twice: {twice[:3]}"


def _check_provider(conn: sqlite3.Connection, p: dict[str, Any], events: list[dict[str, Any]]) -> None:
    pid = p["id"]
    if p["snapshot"] is None:
        assert events == [] and p["snapshot_hash"] is None, pid
        return
    snap = Snapshot.model_validate_json(p["snapshot"])
    assert snapshot_hash(snap) == p["snapshot_hash"], pid
    assert snap.status.value == p["status"], pid
    components = dict(conn.execute("SELECT id, status FROM components WHERE provider = ?", [pid]).fetchall())
    assert components == {c.id: c.status.value for c in snap.components}, pid
    open_rows = {r[0] for r in conn.execute("SELECT id FROM incidents WHERE provider = ? AND is_open = 1", [pid])}
    assert open_rows == {n.id for n in (*snap.incidents, *snap.maintenances) if n.is_open}, pid

    # The log replays to the current state: an event lost (or kept from a rolled-back poll)
    # breaks a chain.
    chain = [e for e in events if e["kind"] == "provider.status_changed"]
    assert chain and json.loads(chain[0]["detail"])["first_sight"] is True, pid
    assert sum(1 for e in chain if e["old"] is None) == 1, f"{pid}: first sight twice"
    for before, after in zip(chain, chain[1:], strict=False):
        assert after["old"] == before["new"], (pid, before["seq"], after["seq"])
    assert chain[-1]["new"] == p["status"], pid
    current = dict(json.loads(chain[0]["detail"])["components"])
    for e in events:
        if e["kind"] == "component.status_changed":
            assert current.get(e["subject_id"]) == e["old"], (pid, e["seq"])
            current[e["subject_id"]] = e["new"]
    assert current == components, pid

    opened: dict[str, bool] = {}
    for e in events:
        kind, sid = e["kind"], e["subject_id"]
        if kind in ("incident.opened", "maintenance.scheduled"):
            assert not opened.get(sid), (pid, e["seq"], "opened while open")
            opened[sid] = True
        elif kind in ("maintenance.started",):
            assert opened.get(sid) or json.loads(e["detail"] or "{}").get("first_sight"), (pid, e["seq"])
            opened[sid] = True
        elif kind in ("incident.updated",):
            assert opened.get(sid), (pid, e["seq"], "updated while closed")
        elif kind in ("incident.resolved", "maintenance.completed"):
            assert opened.get(sid), (pid, e["seq"], "closed while closed")
            opened[sid] = False
    assert {sid for sid, is_open in opened.items() if is_open} == open_rows, pid


def _check_outbox(conn: sqlite3.Connection, events: list[dict[str, Any]]) -> int:
    """Exactly one delivery row per (subscription, event) that should notify, and none else."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'deliveries'").fetchone():
        return 0
    families = set(KINDS.split(","))
    subs = [r[0] for r in conn.execute("SELECT id FROM subscriptions")]
    expected = Counter((sub, e["seq"]) for sub in subs for e in events
                       if e["kind"].split(".")[0] in families
                       and not json.loads(e["detail"] or "{}").get("first_sight")
                       # read from the platform's history on first sight: never notified (issue 13)
                       and not json.loads(e["detail"] or "{}").get("backfilled"))
    actual = Counter(tuple(r) for r in conn.execute("SELECT subscription_id, event_seq FROM deliveries"))
    lost = expected - actual
    doubled = [k for k, n in actual.items() if n > 1]
    stray = actual - expected
    assert not lost, f"events without their delivery: {sorted(lost)[:5]}"
    assert not doubled, f"deliveries recorded twice: {doubled[:5]}"
    assert not stray, f"deliveries without their event: {sorted(stray)[:5]}"
    return sum(actual.values())


# ------------------------------------------------------------------------------------------------
# The tests
# ------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_sigkill_at_random_points_never_loses_or_doubles_anything(tmp_path: Path) -> None:
    db, config, sink = tmp_path / "up.db", tmp_path / "config", tmp_path / "notified.ndjson"
    rng = random.Random(SEED)
    with farm() as server:
        setup_database(db, server, sink)
        kills = 0
        for _ in range(KILLS):
            floor = event_count(db)
            proc = spawn(db, config, "watch", "--interval-scale", "0.005")
            # Wait for this run to have written something (so most kills land in the middle of
            # polls, batches and deliveries), then a random moment more.
            deadline = time.monotonic() + 20
            while event_count(db) <= floor and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            check_whole(db)
        killed_at = check_whole(db)

        # A last, clean run carries on: more polls, and every notification goes out.
        proc = spawn(db, config, "watch", "--interval-scale", "0.005", "--max-cycles", "4")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        final = check_whole(db)
    assert final["events"] > killed_at["events"]

    conn = sqlite3.connect(db)
    states = Counter(s for (s,) in conn.execute("SELECT state FROM deliveries"))
    keys = {k for (k,) in conn.execute("SELECT idempotency_key FROM deliveries WHERE state = 'delivered'")}
    conn.close()
    assert set(states) == {"delivered"}, states
    sent = Counter(json.loads(line)["id"] for line in sink.read_text().splitlines())
    assert set(sent) == keys  # nothing lost, nothing that was not queued
    duplicates = sum(n - 1 for n in sent.values())
    # At least once: a kill between writing a line and recording it sends it again, same id.
    assert duplicates <= kills
    print(f"\ncrash: {kills} SIGKILLs, {final['events']} events, {final['deliveries']} deliveries, "
          f"{duplicates} re-sent after a kill, nothing lost")


def _reader_views(out: bytes) -> dict[str, tuple[Any, ...]]:
    return {s["provider"]: view(s) for s in json.loads(out)}


def view(snap: dict[str, Any]) -> tuple[Any, ...]:
    """What must come from one whole poll: overall status, every component's, open notices."""
    return (snap["status"], tuple(sorted((c["id"], c["status"]) for c in snap["components"])),
            tuple(sorted((n["id"], n["status"]) for n in snap["incidents"] if n["status"] not in ("resolved",
                                                                                                  "postmortem"))),
            tuple(sorted((n["id"], n["status"]) for n in snap["maintenances"] if n["status"] != "completed")))


def whole_views() -> set[tuple[Any, ...]]:
    adapter = StatuspageAdapter()
    return {view(adapter.parse({"summary": body}).model_dump(mode="json")) for body in STATE_BODIES}


@pytest.mark.slow
def test_readers_never_see_half_a_poll_nor_a_locked_database(tmp_path: Path) -> None:
    db, config, sink = tmp_path / "up.db", tmp_path / "config", tmp_path / "notified.ndjson"
    allowed = whole_views()
    with farm() as server:
        setup_database(db, server, sink)
        writer = spawn(db, config, "watch", "--interval-scale", "0.005")
        deadline = time.monotonic() + 30
        while event_count(db) < PAGES and time.monotonic() < deadline:  # every page seen once
            time.sleep(0.05)
        commands = [["status", "--json"], ["history", "p0", "--json"], ["export"], ["status", "p1"],
                    ["export", "--format", "ndjson"]]
        floor = event_count(db)
        problems: list[str] = []

        def read(n: int) -> int:
            args = commands[n % len(commands)]
            proc = subprocess.run([sys.executable, "-m", "aggregator.cli.main", "--db", str(db), *args], cwd=str(REPO),
                                  env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, timeout=60)
            if proc.returncode != 0 or b"locked" in proc.stderr or b"Traceback" in proc.stderr:
                problems.append(f"{args}: exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
            elif args[0] == "status" and "--json" in args or args == ["export"]:
                for pid, seen in _reader_views(proc.stdout).items():
                    if seen not in allowed:
                        problems.append(f"{args}: {pid} seen half-applied: {seen}")
            return 1

        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                runs = sum(pool.map(read, range(40)))
        finally:
            writer.send_signal(signal.SIGTERM)
            writer.wait(30)
        written = event_count(db) - floor
    assert not problems, "\n".join(problems[:10])
    assert runs == 40 and written > 0  # the readers really ran while the log grew
    check_whole(db)


def test_one_reader_command_sees_one_poll(tmp_path: Path) -> None:
    """A query command reads with several statements (status row, then its components, then its
    notices); a poll committed in between must not show up half-way through the command."""
    from datetime import UTC, datetime

    from aggregator.store.reader import open_readonly, status_rows
    from aggregator.store.writer import PollOutcome

    adapter = StatuspageAdapter()
    with open_store(tmp_path / "up.db") as store:
        store.add_provider("acme", name="Acme", url="https://status.acme.test", platform="statuspage")
        store.apply(PollOutcome("acme", datetime.now(UTC), snapshot=adapter.parse({"summary": STATE_BODIES[0]})))
        reader = open_readonly(tmp_path / "up.db")
        (row,) = status_rows(reader, ["acme"])
        store.apply(PollOutcome("acme", datetime.now(UTC), snapshot=adapter.parse({"summary": STATE_BODIES[1]})))
        components = dict(reader.execute("SELECT id, status FROM components WHERE provider = 'acme'").fetchall())
        notices = reader.execute("SELECT count(*) FROM incidents WHERE provider = 'acme' AND is_open = 1").fetchone()
        reader.close()
    assert row["status"] == "operational" and set(components.values()) == {"operational"}
    assert notices[0] == 0
