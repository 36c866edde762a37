"""The SQLite store: transactions, migrations, no-op writes, unreachable bookkeeping."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from aggregator.adapters import get_adapter
from aggregator.core import open_store
from aggregator.errors import StoreError
from aggregator.page.vocab import ComponentStatus
from aggregator.store.schema import CORE, CORE_MIGRATIONS, migrate
from aggregator.store.writer import PollOutcome, Store
from tests.conftest import FIXTURES

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
adapter = get_adapter("statuspage")


def fixture_snapshot(name: str):
    return adapter.parse({"summary": (FIXTURES / "statuspage" / name).read_bytes()})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "up.db")
    s.add_provider("acme", name="Acme", url="https://status.acme.test", platform="statuspage")
    s.add_provider("beta", name="Beta", url="https://status.beta.test", platform="statuspage")
    yield s
    s.close()


def count(store: Store, table: str) -> int:
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_wal_and_schema_versions(store: Store) -> None:
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = dict(store.conn.execute("SELECT subsystem, version FROM schema_versions").fetchall())
    assert versions["core"] == len(CORE.migrations)


def test_migrations_run_once_and_refuse_a_newer_database(tmp_path: Path) -> None:
    calls = []
    steps = [lambda db: calls.append(1) or db.execute("CREATE TABLE t1 (x)"),
             lambda db: calls.append(2) or db.execute("CREATE TABLE t2 (x)")]
    s = open_store(tmp_path / "m.db")
    migrate(s.db, "demo", steps[:1])
    migrate(s.db, "demo", steps)
    migrate(s.db, "demo", steps)
    assert calls == [1, 2]
    with pytest.raises(StoreError, match="newer"):
        migrate(s.db, "demo", steps[:1])


def test_unchanged_snapshot_writes_no_event(store: Store) -> None:
    snap = fixture_snapshot("acme-1-operational.json")
    assert len(store.apply(PollOutcome("acme", T0, snapshot=snap))) == 1
    before = count(store, "events")
    assert store.apply(PollOutcome("acme", T0 + timedelta(minutes=1), snapshot=snap)) == []
    assert store.apply(PollOutcome("acme", T0 + timedelta(minutes=2), not_modified=True)) == []
    assert count(store, "events") == before
    row = store.get_provider("acme")
    assert row["last_polled_at"] == "2026-11-20T16:02:00Z" and row["last_changed_at"] == "2026-11-20T16:00:00Z"


def test_current_tables_follow_the_snapshot(store: Store) -> None:
    store.apply(PollOutcome("acme", T0, snapshot=fixture_snapshot("acme-1-operational.json")))
    store.apply(PollOutcome("acme", T0 + timedelta(minutes=5),
                            snapshot=fixture_snapshot("acme-3-incident-identified.json")))
    comps = dict(store.conn.execute("SELECT id, status FROM components WHERE provider = 'acme'").fetchall())
    assert comps["cmp0rest0001"] == "partial_outage" and comps["cmp0dash0001"] == "degraded_performance"
    inc = store.conn.execute("SELECT status, is_open, kind FROM incidents WHERE id = 'inc0outage01'").fetchone()
    assert inc == ("identified", 1, "incident")
    assert count(store, "incident_updates") == 2
    # it vanishes without history: closed, with the time we noticed
    store.apply(PollOutcome("acme", T0 + timedelta(minutes=10), snapshot=fixture_snapshot("acme-4-resolved-gone.json")))
    assert store.conn.execute("SELECT is_open, status, resolved_at FROM incidents").fetchone() == (
        0, "resolved", "2026-11-20T16:10:00Z")


def test_unreachable_keeps_last_state_and_records_once(store: Store) -> None:
    store.apply(PollOutcome("acme", T0, snapshot=fixture_snapshot("acme-3-incident-identified.json")))
    first = store.apply(PollOutcome("acme", T0 + timedelta(minutes=1), error="connection refused"))
    again = store.apply(PollOutcome("acme", T0 + timedelta(minutes=2), error="timed out"))
    assert [e.kind.value for e in first] == ["provider.unreachable"] and again == []
    assert first[0].detail == {"reason": "connection refused"}
    row = store.get_provider("acme")
    assert row["reachable"] == 0 and row["last_error"] == "timed out" and row["status"] == "partial_outage"
    assert store.snapshot("acme").status == ComponentStatus.partial_outage
    back = store.apply(PollOutcome("acme", T0 + timedelta(minutes=3), not_modified=True))
    assert [e.kind.value for e in back] == ["provider.recovered"]


def test_batch_rolls_back_only_the_failing_provider(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    good = PollOutcome("beta", T0, snapshot=fixture_snapshot("acme-1-operational.json"))
    bad = PollOutcome("acme", T0, snapshot=fixture_snapshot("acme-2-incident-investigating.json"))
    real = store._execute

    def exploding(plans):
        written = real(plans)
        if any(plan.provider == "acme" and plan.notice_rows for plan in plans):
            raise RuntimeError("disk on fire")
        return written

    monkeypatch.setattr(store, "_execute", exploding)
    with pytest.raises(RuntimeError):
        store.apply_many([good, bad])
    # the whole batch is one transaction: nothing of either is half there
    assert count(store, "events") == 0 and count(store, "components") == 0 and count(store, "incidents") == 0
    failed: list[str] = []
    events = store.apply_many([good, bad], on_error=lambda outcome, exc: failed.append(outcome.provider))
    # one at a time after the batch failed: beta is written, acme only rescheduled
    assert failed == ["acme"] and {e.provider for e in events} == {"beta"}
    assert store.get_provider("acme")["snapshot_hash"] is None and store.get_provider("acme")["last_polled_at"]
    assert count(store, "incidents") == 0 and store.get_provider("beta")["snapshot_hash"]
    monkeypatch.setattr(store, "_execute", real)
    events = store.apply_many([good, bad])
    assert {e.provider for e in events} == {"acme"}
    seqs = [r[0] for r in store.conn.execute("SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))


def test_one_provider_twice_in_a_batch_is_applied_in_order(store: Store) -> None:
    events = store.apply_many([
        PollOutcome("acme", T0, snapshot=fixture_snapshot("acme-1-operational.json")),
        PollOutcome("acme", T0 + timedelta(minutes=1), error="connection refused"),
        PollOutcome("acme", T0 + timedelta(minutes=2), snapshot=fixture_snapshot("acme-3-incident-identified.json")),
    ])
    kinds = [e.kind.value for e in events]
    assert kinds[0] == "provider.status_changed" and kinds[1:3] == ["provider.unreachable", "provider.recovered"]
    assert "incident.opened" in kinds and store.get_provider("acme")["status"] == "partial_outage"


def test_unfollow_keeps_history(store: Store) -> None:
    store.apply(PollOutcome("acme", T0, snapshot=fixture_snapshot("acme-3-incident-identified.json")))
    assert store.remove_provider("acme") is True
    assert store.get_provider("acme") is None and count(store, "components") == 0
    assert count(store, "events") > 0
    assert store.remove_provider("acme") is False


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"junk" * 1000)
    with pytest.raises(StoreError, match="not a usable upstream database"):
        open_store(path)
    assert path.read_bytes() == b"junk" * 1000
    conn = sqlite3.connect(tmp_path / "other.db")
    conn.execute("CREATE TABLE schema_versions (subsystem TEXT PRIMARY KEY, version INTEGER)")
    conn.execute("INSERT INTO schema_versions VALUES ('core', 99)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(tmp_path / "other.db")


def _database_before_v3(path: Path) -> None:
    """A database as upstream wrote it before core v3: each snapshot inline in ``providers``."""
    from aggregator.page.serialize import snapshot_hash
    from aggregator.store.connect import connect
    from aggregator.store.schema import CORE_MIGRATIONS

    conn = connect(path)
    db = sqlite_utils.Database(conn)
    migrate(db, "core", CORE_MIGRATIONS[:2])
    snap = fixture_snapshot("acme-3-incident-identified.json").model_copy(update={"provider": "acme", "fetched_at": T0})
    conn.execute("INSERT INTO providers (id, name, url, platform, added_at, status, snapshot, snapshot_hash, "
                 "last_polled_at) VALUES ('acme', 'Acme', 'https://status.acme.test', 'statuspage', "
                 "'2026-11-20T15:00:00Z', ?, ?, ?, '2026-11-20T16:00:00Z')",
                 [snap.status.value, snap.model_dump_json(exclude_none=False), snapshot_hash(snap)])
    conn.execute("INSERT INTO providers (id, name, url, platform, added_at) VALUES ('beta', 'Beta', "
                 "'https://status.beta.test', 'statuspage', '2026-11-20T15:00:00Z')")
    conn.close()


def test_v3_moves_every_snapshot_out_of_providers(tmp_path: Path) -> None:
    _database_before_v3(tmp_path / "old.db")
    before = sqlite3.connect(tmp_path / "old.db").execute("SELECT snapshot FROM providers WHERE id = 'acme'")
    stored_json = before.fetchone()[0]
    with open_store(tmp_path / "old.db") as s:
        assert dict(s.conn.execute("SELECT subsystem, version FROM schema_versions").fetchall())["core"] == len(CORE_MIGRATIONS)
        assert s.conn.execute("SELECT provider, snapshot FROM snapshots").fetchall() == [("acme", stored_json)]
        columns = {r[1] for r in s.conn.execute("PRAGMA table_info(providers)")}
        if sqlite3.sqlite_version_info >= (3, 35, 0):
            assert "snapshot" not in columns
        else:
            assert s.conn.execute("SELECT count(*) FROM providers WHERE snapshot IS NOT NULL").fetchone()[0] == 0
        assert s.snapshot("acme") == fixture_snapshot("acme-3-incident-identified.json").model_copy(
            update={"provider": "acme", "fetched_at": T0})
        assert s.get_provider("acme")["snapshot"] == stored_json and s.get_provider("beta")["snapshot"] is None
        # The same page again is recognised by the kept hash; the next one is diffed against the
        # migrated snapshot (an incident resolving), not seen for the first time.
        assert s.apply(PollOutcome("acme", T0 + timedelta(minutes=1),
                                   snapshot=fixture_snapshot("acme-3-incident-identified.json"))) == []
        events = s.apply(PollOutcome("acme", T0 + timedelta(minutes=2),
                                     snapshot=fixture_snapshot("acme-4-resolved-gone.json")))
        assert events and not any((e.detail or {}).get("first_sight") for e in events)
        assert "incident.resolved" in {e.kind.value for e in events}
        assert s.snapshot("acme").status == ComponentStatus.operational
        assert s.remove_provider("acme") and count(s, "snapshots") == 0


def test_v4_turns_the_components_table_into_a_view_of_the_snapshots(tmp_path: Path) -> None:
    _database_before_v3(tmp_path / "old.db")
    snap = fixture_snapshot("acme-3-incident-identified.json")
    conn = sqlite3.connect(tmp_path / "old.db")
    # What the writer of core v1-v3 kept beside the snapshot: one row per component.
    conn.executemany("INSERT INTO components (provider, id, name, group_name, status, position) VALUES "
                     "('acme', ?, ?, ?, ?, ?)", [(c.id, c.name, c.group, c.status.value, c.position)
                                                 for c in snap.components])
    conn.commit()
    conn.close()
    with open_store(tmp_path / "old.db") as s:
        kind = s.conn.execute("SELECT type FROM sqlite_master WHERE name = 'components'").fetchone()[0]
        assert kind == "view"
        rows = s.conn.execute("SELECT provider, id, name, group_name, status, position, only_show_if_degraded "
                              "FROM components ORDER BY page_order").fetchall()
        assert rows == [("acme", c.id, c.name, c.group, c.status.value, c.position, int(c.only_show_if_degraded))
                        for c in snap.components]
        assert len(rows) == len(snap.components) > 3
        # The view follows every new snapshot and goes with its provider.
        s.apply(PollOutcome("acme", T0 + timedelta(minutes=1),
                            snapshot=fixture_snapshot("acme-4-resolved-gone.json")))
        assert dict(s.conn.execute("SELECT id, status FROM components WHERE provider = 'acme'").fetchall()) == {
            c.id: c.status.value for c in fixture_snapshot("acme-4-resolved-gone.json").components}
        assert s.remove_provider("acme") and count(s, "components") == 0
    # Opening again runs nothing twice.
    with open_store(tmp_path / "old.db") as s:
        assert count(s, "components") == 0


def test_status_upgrades_an_old_database_before_reading_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import json

    from aggregator.cli.main import main

    _database_before_v3(tmp_path / "old.db")
    main(["--db", str(tmp_path / "old.db"), "status", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert [(s["provider"], s["status"]) for s in out] == [("acme", "partial_outage"), ("beta", "unknown")]
    assert len(out[0]["components"]) == len(fixture_snapshot("acme-3-incident-identified.json").components)


def _first_sight_batch(store: Store) -> list[PollOutcome]:
    """Outcomes as poll workers send them: pages parsed into ParsedPages, with schedules."""
    from aggregator.poll.plan import ParseJob, parse_page

    names = ["acme-1-operational.json", "acme-2-incident-investigating.json", "acme-3-incident-identified.json"]
    outcomes = []
    for i in range(12):
        pid = f"p{i:02d}"
        store.add_provider(pid, name=f"P{i}", url=f"https://p{i}.test", platform="statuspage")
        body = (FIXTURES / "statuspage" / names[i % 3]).read_bytes()
        page = parse_page(ParseJob("statuspage", {"summary": body}, f"https://p{i}.test", pid, T0, first_sight=True))
        outcomes.append(PollOutcome(pid, T0, page=page, fetch_state={"summary": {"url": "u", "hash": str(i)}},
                                    next_due_at=1000.0 + i, failures=0))
    # Not first sights: an unreachable one, and one already stored.
    store.add_provider("down", name="Down", url="https://down.test", platform="statuspage")
    outcomes.append(PollOutcome("down", T0, error="HTTP 503", next_due_at=2000.0, failures=1))
    return outcomes


_POLLED_COLUMNS = ("id", "name", "url", "platform", "category", "page_id", "status", "raw_status", "description",
                   "snapshot_hash", "fetch_state", "reachable", "last_error", "last_polled_at", "last_success_at",
                   "last_changed_at", "interval", "next_due_at", "failures")


def _tables(db: Store) -> dict[str, list[tuple[object, ...]]]:
    return {
        # (every column but added_at, the time each database was filled)
        "providers": db.conn.execute(f"SELECT {', '.join(_POLLED_COLUMNS)} FROM providers ORDER BY id").fetchall(),
        "snapshots": db.conn.execute("SELECT * FROM snapshots ORDER BY provider").fetchall(),
        "incidents": db.conn.execute("SELECT * FROM incidents ORDER BY provider, id").fetchall(),
        "updates": db.conn.execute("SELECT * FROM incident_updates ORDER BY provider, incident_id, id").fetchall(),
        "events": db.conn.execute("SELECT kind, provider, subject_id, subject_name, old, new, observed_at, "
                                  "occurred_at, detail FROM events ORDER BY provider, seq").fetchall(),
    }


def test_first_sights_written_together_are_what_one_by_one_writes(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(tmp_path / "batch.db") as batch, open_store(tmp_path / "single.db") as single:
        real, written = batch._execute, []
        monkeypatch.setattr(batch, "_execute", lambda plans: written.append(len(plans)) or real(plans))
        together = batch.apply_many(_first_sight_batch(batch))
        assert written == [13]  # all twelve and the unreachable one, by one set of statements
        one_by_one = [ev for o in _first_sight_batch(single) for ev in single.apply(o)]
        assert _tables(batch) == _tables(single)
        assert len(together) == len(one_by_one) > 12
        # Every event carries the number the log gave it.
        seqs = dict(batch.conn.execute("SELECT seq, kind FROM events").fetchall())
        assert sorted(ev.seq for ev in together) == sorted(seqs) == list(range(1, len(together) + 1))
        assert all(seqs[ev.seq] == ev.kind.value for ev in together)
        assert count(batch, "components") > 12 and count(batch, "incidents") >= 8


def test_first_sights_fall_back_to_one_at_a_time_if_writing_them_together_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(tmp_path / "batch.db") as batch, open_store(tmp_path / "single.db") as single:
        real = batch._execute

        tried: list[int] = []

        def half_then_fail(plans: list) -> list:
            tried.append(len(plans))
            written = real(plans)  # everything written ... and then rolled back
            if len(plans) > 1:
                raise sqlite3.OperationalError("disk I/O error")
            return written

        monkeypatch.setattr(batch, "_execute", half_then_fail)
        batch.apply_many(_first_sight_batch(batch), on_error=lambda outcome, exc: None)
        for o in _first_sight_batch(single):
            single.apply(o)
        assert tried == [13] + [1] * 13
        assert _tables(batch) == _tables(single)
        assert count(batch, "events") == count(single, "events")


def _changed_and_unchanged_batch(store: Store, minute: int) -> list[PollOutcome]:
    """The second and third polls of ``_first_sight_batch``'s providers: pages moved on one
    fixture (an incident opens, updates, leaves the page), 304s, an error, a recovery."""
    from aggregator.poll.plan import ParseJob, parse_page

    names = ["acme-1-operational.json", "acme-2-incident-investigating.json", "acme-3-incident-identified.json",
             "acme-4-resolved-gone.json"]
    at = T0 + timedelta(minutes=minute)
    outcomes = []
    for i in range(12):
        pid = f"p{i:02d}"
        if i % 4 == 3:
            outcomes.append(PollOutcome(pid, at, not_modified=True, next_due_at=3000.0 + i, failures=0))
            continue
        if i % 4 == 2 and minute == 1:
            outcomes.append(PollOutcome(pid, at, error="timed out", next_due_at=3000.0 + i, failures=1))
            continue
        body = (FIXTURES / "statuspage" / names[(i + minute) % 4]).read_bytes()
        page = parse_page(ParseJob("statuspage", {"summary": body}, f"https://p{i}.test", pid, at, first_sight=False))
        outcomes.append(PollOutcome(pid, at, page=page, fetch_state={"summary": {"url": "u", "hash": f"{minute}"}},
                                    next_due_at=3000.0 + i, failures=0))
    outcomes.append(PollOutcome("down", at, not_modified=minute == 2, error=None if minute == 2 else "HTTP 503",
                                next_due_at=4000.0, failures=0 if minute == 2 else 2))
    return outcomes


def test_changed_unchanged_and_failed_polls_in_one_batch_are_what_one_by_one_writes(tmp_path: Path) -> None:
    with open_store(tmp_path / "batch.db") as batch, open_store(tmp_path / "single.db") as single:
        batch.apply_many(_first_sight_batch(batch))
        for o in _first_sight_batch(single):
            single.apply(o)
        for minute in (1, 2):
            together = batch.apply_many(_changed_and_unchanged_batch(batch, minute))
            one_by_one = [ev for o in _changed_and_unchanged_batch(single, minute) for ev in single.apply(o)]
            assert sorted((e.provider, e.kind.value, e.subject_id) for e in together) == sorted(
                (e.provider, e.kind.value, e.subject_id) for e in one_by_one)
            assert _tables(batch) == _tables(single)
        kinds = {row[0] for row in batch.conn.execute("SELECT kind FROM events")}
        assert {"provider.unreachable", "provider.recovered", "incident.opened", "incident.resolved"} <= kinds


def test_status_of_many_providers_prints_one_aligned_line_each(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    import time

    from aggregator.cli.common import LONG_TABLE
    from aggregator.cli.main import main

    count = LONG_TABLE + 50
    with open_store(tmp_path / "many.db") as s:
        with s.transaction():
            s.conn.executemany("INSERT INTO providers (id, name, url, platform, added_at) VALUES (?, ?, ?, ?, ?)",
                               [(f"v{i:04d}", f"V{i}", f"https://v{i}.test", "statuspage", "2026-11-20T15:00:00Z")
                                for i in range(count)])
        s.apply(PollOutcome("v0001", T0, snapshot=fixture_snapshot("acme-3-incident-identified.json")))
        s.apply(PollOutcome("v0002", T0, error="https://v2.test/api: HTTP 503 [bold]"))
    capsys.readouterr()
    started = time.perf_counter()
    assert main(["--db", str(tmp_path / "many.db"), "status"]) in (0, None)
    seconds = time.perf_counter() - started
    lines = capsys.readouterr().out.splitlines()
    # Piped (issue 16): tab-separated under a header, the same six cells on every line.
    assert lines[0].split("\t") == ["PROVIDER", "STATUS", "INCIDENTS", "CHANGED", "POLLED", "NOTE"]
    assert [line.split("\t")[0] for line in lines[1:]] == [f"v{i:04d}" for i in range(count)]
    assert all(line.count("\t") == 5 for line in lines)
    assert "partial outage" in lines[2] and "1 open" in lines[2]
    assert "unreachable: HTTP 503 [bold]" in lines[3]  # vendor text is shown as it is, not as markup
    assert "not polled yet" in lines[-1]
    assert seconds < 5  # rich's Table took ~0.4 ms a row; this is a sanity bound, not the benchmark
