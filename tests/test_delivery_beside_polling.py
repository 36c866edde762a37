"""A receiver that never answers does not stall ``watch`` (issue 15, item 6): delivery runs beside
polling, a subscription that keeps timing out is paused by its circuit breaker (and ``subscriptions
list`` says so), and SIGTERM in the middle of a hanging send stops within seconds, nothing half-recorded."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.cli.main import main
from aggregator.core import open_store
from tests.conftest import REPO
from tests.loopback import LoopbackServer
from tests.notify_helpers import Page
from tests.test_watch import _wait_for, changing_page

TIMEOUT = 2.0  # seconds per webhook request (UPSTREAM_WEBHOOK_TIMEOUT), so the test takes seconds


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _spawn(db: Path, log: Path, config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "UPSTREAM_CONFIG_DIR": str(config), "PYTHONPATH": str(REPO),
           "UPSTREAM_WEBHOOK_TIMEOUT": str(TIMEOUT)}
    return subprocess.Popen([sys.executable, "-m", "aggregator.cli.main", "--db", str(db), "watch",
                             "--interval-scale", "0.05"], stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env=env, cwd=str(REPO))


def _stop(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, time.monotonic() - started


@pytest.mark.slow
def test_a_receiver_that_never_answers_stalls_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, log, config = tmp_path / "up.db", tmp_path / "watch.log", tmp_path / "config"
    config.mkdir()
    # Accepts connections (the kernel's backlog) and never reads or answers a byte.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    hanging_url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
    with LoopbackServer() as page:
        page.set("/api/v2/summary.json", handler=changing_page())
        assert main(["--db", str(db), "subscribe", hanging_url]) == 0
        with open_store(db) as store:
            # 36 notifications queued before watch starts (status changes an hour apart, so none is folded).
            feeder = Page(store, provider="acme")
            store.add_provider("acme", name="Acme", url=page.url(), platform="statuspage")
            start = datetime.now(UTC) - timedelta(days=3)
            k = 0
            while _query(db, "SELECT count(*) FROM deliveries WHERE state = 'pending'")[0][0] < 36:
                feeder.show(start + timedelta(hours=k), {"dash": ("operational", "major_outage")[k % 2]})
                k += 1
        queued = _query(db, "SELECT count(*) FROM deliveries WHERE state = 'pending'")[0][0]
        assert queued == 36
        capsys.readouterr()

        # 1. Polling goes on while a send hangs; SIGTERM in the middle of a send stops at once.
        proc = _spawn(db, log, config)
        try:
            _wait_for(lambda: bool(_query(db, "SELECT 1 FROM delivery_attempts WHERE error LIKE 'timed out%'")),
                      timeout=30)
            polls_at = page.hit_count("/api/v2/summary.json")
            _wait_for(lambda: bool(_query(db, "SELECT 1 FROM deliveries WHERE state = 'sending'")), timeout=10)
            # The second send hangs now; the page is polled every ~3 s meanwhile.
            _wait_for(lambda: page.hit_count("/api/v2/summary.json") >= polls_at + 1, timeout=10)
        finally:
            code, took = _stop(proc)
        assert code == 0 and took < 5, (code, took, log.read_text()[-2000:])
        assert _query(db, "SELECT count(*) FROM deliveries WHERE state = 'sending'") == [(0,)]
        assert _query(db, "SELECT count(*) FROM delivery_attempts WHERE outcome IS NULL") == [(0,)]
        assert _query(db, "SELECT count(*) FROM delivery_attempts WHERE outcome = 'interrupted'")[0][0] >= 1

        # 2. Three sends in a row time out: the subscription is paused, and says so; polling never stopped.
        proc = _spawn(db, log, config)
        try:
            _wait_for(lambda: _query(db, "SELECT paused FROM subscriptions") == [(1,)], timeout=60)
            polls_at = page.hit_count("/api/v2/summary.json")
            _wait_for(lambda: page.hit_count("/api/v2/summary.json") >= polls_at + 2, timeout=20)
        finally:
            code, took = _stop(proc)
        assert code == 0 and took < 5, (code, took)
    silent.close()
    text = log.read_text()
    assert "Traceback" not in text
    # Most notifications were never tried: they wait for the subscription to be resumed.
    assert _query(db, "SELECT count(*) FROM deliveries WHERE state = 'pending'")[0][0] >= 36 - 6
    assert main(["--db", str(db), "subscriptions", "list"]) == 0
    listing = " ".join(capsys.readouterr().out.split())
    assert "paused" in listing and "circuit breaker" in listing, listing
    assert main(["--db", str(db), "subscriptions", "list", "--json"]) == 0
    assert "3 sends in a row timed out" in capsys.readouterr().out
