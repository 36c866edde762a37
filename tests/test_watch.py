"""``upstream watch``: one line per change, clean stop on SIGTERM, and a SIGKILL that loses nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from aggregator.cli.main import main
from aggregator.core import open_store
from aggregator.page.model import Snapshot
from aggregator.store.writer import Store, snapshot_hash
from tests.conftest import FIXTURES, REPO
from tests.loopback import LoopbackServer

SP = FIXTURES / "statuspage"
BASE = json.loads((SP / "acme-1-operational.json").read_text())
STATUSES = ["operational", "degraded_performance", "partial_outage", "major_outage"]


def changing_page(delay: float = 0.0) -> Callable[[BaseHTTPRequestHandler], None]:
    """A Statuspage summary that is different at every request (components cycle their status)."""
    counter = [0]
    lock = threading.Lock()

    def handler(request: BaseHTTPRequestHandler) -> None:
        with lock:
            counter[0] += 1
            n = counter[0]
        doc = json.loads(json.dumps(BASE))
        for k, comp in enumerate(c for c in doc["components"] if not c.get("group")):
            comp["status"] = STATUSES[(n + k) % len(STATUSES)] if k < 2 else comp["status"]
        doc["status"]["indicator"] = ("none", "minor", "major", "critical")[n % 4]
        body = json.dumps(doc).encode()
        if delay:
            time.sleep(delay)
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out, _ = capsys.readouterr()
    return code, out


def test_watch_once_logs_one_line_per_change_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_CONFIG_DIR", str(tmp_path / "config"))
    db = str(tmp_path / "up.db")
    with LoopbackServer() as page:
        page.set_file("/api/v2/summary.json", SP / "acme-1-operational.json")
        cli(capsys, "--db", db, "add", page.url(), "--platform", "statuspage", "--id", "acme")
        code, out = cli(capsys, "--db", db, "watch", "--once")
        assert code == 0
        assert "watching 1 providers" in out
        assert "acme: first seen: operational (4 components)" in out
        assert "summary: polled 1, changed 1, unreachable 0" in out
        # Nothing is due any more: a second --once polls nobody and says so.
        code, out = cli(capsys, "--db", db, "watch", "--once", "--summary-every", "0.1")
        assert code == 0 and "total polled 0" in out and page.hit_count("/api/v2/summary.json") == 1
        with open_store(db) as store:
            row = store.get_provider("acme")
        assert row["next_due_at"] > time.time() + 40  # the next poll is a full interval away


def _spawn_watch(db: Path, log: Path, config: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "UPSTREAM_CONFIG_DIR": str(config), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "aggregator.cli.main", "--db", str(db), "watch", *extra],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=str(REPO))


def _wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def _event_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    except sqlite3.Error:
        return 0


def _farm(count: int) -> LoopbackServer:
    server = LoopbackServer()  # started by ``with``
    for i in range(count):
        server.set(f"/p{i}/api/v2/summary.json", handler=changing_page(delay=0.2 if i % 3 == 0 else 0.0))
    return server


def _follow(db: Path, server: LoopbackServer, count: int) -> None:
    with open_store(db) as store:
        for i in range(count):
            store.add_provider(f"p{i:02d}", name=f"P{i}", url=server.url(f"/p{i}"), platform="statuspage")


def test_sigterm_finishes_what_is_in_hand_and_exits_zero(tmp_path: Path) -> None:
    db, log = tmp_path / "up.db", tmp_path / "watch.log"
    with _farm(6) as server:
        _follow(db, server, 6)
        proc = _spawn_watch(db, log, tmp_path / "config", "--interval-scale", "0.02", "--summary-every", "0.5")
        _wait_for(lambda: _event_count(db) >= 6)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    text = log.read_text()
    assert "first seen" in text and "summary:" in text and "Traceback" not in text
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def check_database_whole(db: Path) -> None:
    """integrity_check ok; every provider's state agrees with its snapshot; the log is gap-free and
    its chains of old -> new replay to the current state (nothing lost, nothing twice)."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1)), "events have gaps"
    for p in conn.execute("SELECT p.*, s.snapshot AS snapshot FROM providers p "
                          "JOIN snapshots s ON s.provider = p.id"):
        snap = Snapshot.model_validate_json(p["snapshot"])
        assert snapshot_hash(snap) == p["snapshot_hash"], p["id"]
        assert snap.status.value == p["status"]
        rows = {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM components WHERE provider = ?",
                                                           [p["id"]])}
        assert rows == {c.id: c.status.value for c in snap.components}, p["id"]
        events = conn.execute("SELECT * FROM events WHERE provider = ? ORDER BY seq", [p["id"]]).fetchall()
        status_chain = [e for e in events if e["kind"] == "provider.status_changed"]
        assert json.loads(status_chain[0]["detail"])["first_sight"] is True
        assert sum(1 for e in status_chain if e["old"] is None) == 1, "first sight recorded twice"
        for before, after in zip(status_chain, status_chain[1:], strict=False):
            assert after["old"] == before["new"], (p["id"], before["seq"], after["seq"])
        assert status_chain[-1]["new"] == p["status"]
        first = json.loads(status_chain[0]["detail"])["components"]
        for cid, status in rows.items():
            chain = [e for e in events if e["kind"] == "component.status_changed" and e["subject_id"] == cid]
            current = first[cid]
            for e in chain:
                assert e["old"] == current, (p["id"], cid, e["seq"])
                current = e["new"]
            assert current == status, (p["id"], cid)


def test_sigkill_mid_cycle_leaves_the_database_whole_and_the_next_run_carries_on(tmp_path: Path) -> None:
    db, log, config = tmp_path / "up.db", tmp_path / "watch.log", tmp_path / "config"
    count = 12
    with _farm(count) as server:
        _follow(db, server, count)
        for kill in range(3):
            proc = _spawn_watch(db, log, config, "--interval-scale", "0.01")
            floor = _event_count(db)
            # Killed while polls are in flight and batches are being written (pages change at every
            # request, so every poll writes): at a different moment each time.
            _wait_for(lambda floor=floor: _event_count(db) >= floor + count)
            time.sleep(0.1 * kill)
            assert proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            check_database_whole(db)
        before = _event_count(db)
        with open_store(db) as store:
            polled_before = {r["id"]: r["last_polled_at"] for r in store.providers()}
        proc = _spawn_watch(db, log, config, "--interval-scale", "0.01", "--max-cycles", "30")
        assert proc.wait(60) == 0
        check_database_whole(db)
        assert _event_count(db) > before
        with open_store(db) as store:
            rows = store.providers()
        assert all(r["last_polled_at"] > polled_before[r["id"]] for r in rows)
        assert all(r["reachable"] == 1 and r["failures"] == 0 for r in rows)


def test_watch_delivers_notifications_after_new_events(tmp_path: Path) -> None:
    import asyncio
    from types import SimpleNamespace

    from aggregator.poll.watch import watch

    calls: list[int] = []

    async def deliver(store: Store, *, limit: int) -> SimpleNamespace:
        calls.append(store.conn.execute("SELECT count(*) FROM events").fetchone()[0])
        return SimpleNamespace(attempted=1, summary=lambda: "attempted 1: delivered 1", next_due=None)

    lines: list[str] = []
    with LoopbackServer() as page, open_store(tmp_path / "up.db") as store:
        page.set_file("/api/v2/summary.json", SP / "acme-1-operational.json")
        store.add_provider("acme", name="Acme", url=page.url(), platform="statuspage")
        asyncio.run(watch(store, once=True, deliver=deliver, log=lines.append, handle_signals=False))
    # Once at start (what an earlier run left queued), once after the first-sight event was written.
    assert calls == [0, 1]
    assert "notifications: attempted 1: delivered 1" in lines
