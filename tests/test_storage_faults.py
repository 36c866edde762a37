"""Storage faults of issue 15: kills during a schema upgrade, many processes creating one database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aggregator.core import open_store
from aggregator.notify.tables import NOTIFY_MIGRATIONS
from aggregator.store.schema import CORE_MIGRATIONS
from tests.conftest import REPO
from tests.test_store import T0, _database_before_v3, fixture_snapshot


def _schema(path: Path) -> list[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT type, name, coalesce(sql, '') FROM sqlite_master "
                                   "WHERE name NOT LIKE 'sqlite_%'").fetchall())
    finally:
        conn.close()


def _kill_everywhere(base: str, outdir: Path) -> list[dict[str, object]]:
    done = subprocess.run([sys.executable, "-m", "tests.migration_killer", base, str(outdir)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_a_new_database_killed_at_every_step_of_its_creation_opens_afterwards(tmp_path: Path) -> None:
    with open_store(tmp_path / "clean.db"):
        pass
    clean = _schema(tmp_path / "clean.db")
    points = _kill_everywhere("-", tmp_path)
    killed = [p["k"] for p in points if p["killed"]]
    assert len(killed) >= 20 and points[-1]["killed"] is False  # every statement, then one that finishes
    for k in killed:
        path = tmp_path / f"{k}.db"
        with open_store(path) as store:  # a kill before any statement may leave no file: it is created
            versions = dict(store.conn.execute("SELECT subsystem, version FROM schema_versions").fetchall())
            assert versions == {"core": len(CORE_MIGRATIONS), "notify": len(NOTIFY_MIGRATIONS)}, k
            assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert _schema(path) == clean, k


@pytest.mark.slow
def test_an_upgrade_killed_at_every_step_keeps_the_history(tmp_path: Path) -> None:
    base = tmp_path / "old.db"
    _database_before_v3(base)
    conn = sqlite3.connect(base)
    conn.executemany("INSERT INTO events (kind, provider, subject_id, old, new, observed_at) VALUES "
                     "('component.status_changed', 'acme', ?, 'operational', 'major_outage', ?)",
                     [(f"c{i}", f"2026-11-{1 + i % 19:02d}T10:00:00Z") for i in range(300)])
    conn.commit()
    stored_json = conn.execute("SELECT snapshot FROM providers WHERE id = 'acme'").fetchone()[0]
    conn.close()
    (tmp_path / "kills").mkdir()
    points = _kill_everywhere(str(base), tmp_path / "kills")
    killed = [p["k"] for p in points if p["killed"]]
    assert len(killed) >= 10 and points[-1]["killed"] is False
    snap = fixture_snapshot("acme-3-incident-identified.json").model_copy(update={"provider": "acme",
                                                                                    "fetched_at": T0})
    for k in killed:
        with open_store(tmp_path / "kills" / f"{k}.db") as store:
            assert store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 300, k
            assert store.conn.execute("SELECT snapshot FROM snapshots").fetchall() == [(stored_json,)], k
            assert store.snapshot("acme") == snap
            assert store.get_provider("beta") is not None
            assert len(store.conn.execute("SELECT * FROM components").fetchall()) == len(snap.components)


_OPENER = """
import sys, time
from aggregator.core import open_store
start_at = float(sys.argv[2])
while time.time() < start_at:
    pass
try:
    with open_store(sys.argv[1]) as store:
        store.add_provider(sys.argv[3], name=sys.argv[3], url="https://x.test", platform="statuspage")
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")
    sys.exit(1)
"""


@pytest.mark.slow
def test_four_processes_creating_one_database_at_once_all_succeed(tmp_path: Path) -> None:
    rounds = 6
    failures: list[str] = []
    for r in range(rounds):
        path = tmp_path / f"new{r}.db"
        start_at = time.time() + 2.0  # every process imported upstream and is spinning by then
        procs = [subprocess.Popen([sys.executable, "-c", _OPENER, str(path), str(start_at), f"p{i}"], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(4)]
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                failures.append(out.strip().splitlines()[-1] if out.strip() else f"exit {proc.returncode}")
        with open_store(path) as store:
            assert [p["id"] for p in store.providers()] == ["p0", "p1", "p2", "p3"]
            versions = dict(store.conn.execute("SELECT subsystem, version FROM schema_versions").fetchall())
            assert versions == {"core": len(CORE_MIGRATIONS), "notify": len(NOTIFY_MIGRATIONS)}
    assert failures == []


_LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE providers SET name = name")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.mark.slow
def test_a_write_lock_held_past_the_wait_is_one_line_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with open_store(path) as store:
        store.add_provider("acme", name="Acme", url="https://status.acme.test", platform="statuspage")
    holder = subprocess.Popen([sys.executable, "-c", _LOCK_HOLDER, str(path), "45"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "aggregator.cli.main", "--db", str(path), "remove", "acme"],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "database is locked by another process" in lines[0], done.stderr
    assert f"pid {holder.pid}" in lines[0]
    assert waited >= 29  # it waited for the lock first (busy timeout 30 s)
    with open_store(path) as store:  # nothing was lost: the provider is still followed
        assert store.get_provider("acme") is not None


def test_a_corrupt_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    with open_store(path) as store:
        store.add_provider("acme", name="Acme", url="https://status.acme.test", platform="statuspage")
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree, past the header
    path.write_bytes(bytes(data))
    done = subprocess.run([sys.executable, "-m", "aggregator.cli.main", "--db", str(path), "remove", "acme"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "not a usable upstream database" in lines[0] and "corrupt" in lines[0]
