"""Nothing clobbered (issue 15, items 2, 3, 4, 16): ``export -o`` writes through symlinks, FIFOs and
devices; ``follow`` never re-points an id; ``--db`` names exactly its path, created 0600; over-long
ids and databases from a newer upstream are refused in one line."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.cli.main import main


def upstream(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "up.db"
    code, _, err = upstream(capsys, "--db", str(path), "add", "http://127.0.0.1:9/acme/", "--platform",
                            "statuspage", "--id", "acme")
    assert code == 0, err
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _export(capsys: pytest.CaptureFixture[str], db: Path, output: str) -> tuple[int, str, str]:
    return upstream(capsys, "--db", str(db), "export", "-o", output)


# --- 2. export -o ---------------------------------------------------------------------------------

def test_export_through_a_symlink_replaces_its_target_and_keeps_the_link(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "real.json"
    target.write_bytes(b"old bytes")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, _, err = _export(capsys, db, str(link))
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert b'"provider": "acme"' in target.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # an existing file keeps its mode
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_export_through_a_dangling_symlink_creates_its_target(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], umask_022: None) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    code, _, err = _export(capsys, db, str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert b'"acme"' in (tmp_path / "new.json").read_bytes()
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600


def test_export_into_a_fifo_feeds_its_reader(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = _export(capsys, db, str(fifo))
    reader.join(10)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and b'"provider": "acme"' in got[0]


def _device(tmp_path: Path, name: str, minor: int) -> Path:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    node = tmp_path / name
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        os.close(os.open(node, os.O_WRONLY))
    except OSError as exc:
        pytest.skip(f"no usable device node in {tmp_path} ({exc.strerror}; mounted nodev?)")
    return node


def test_export_to_a_device_writes_to_it_and_leaves_it_a_device(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    null = _device(tmp_path, "null", 3)  # like /dev/null
    code, _, err = _export(capsys, db, str(null))
    assert code == 0, err
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    full = _device(tmp_path, "full", 7)  # like /dev/full: every write fails with ENOSPC
    code, _, err = _export(capsys, db, str(full))
    assert code == 1
    assert err.strip().splitlines() == [f"upstream: error: cannot write {full}: No space left on device"]
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file beside them


def test_export_dash_is_stdout_and_a_regular_file_is_new_and_private(
        db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], umask_022: None) -> None:
    code, out, err = _export(capsys, db, "-")
    assert code == 0, err
    assert '"provider": "acme"' in out
    assert not (tmp_path / "-").exists()
    code, _, err = _export(capsys, db, str(tmp_path / "out.json"))
    assert code == 0, err
    assert stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o600


# --- 3. follow does not re-point an id ------------------------------------------------------------

def test_follow_refuses_an_id_that_follows_another_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "up.db")
    code, _, err = upstream(capsys, "--db", path, "add", "http://127.0.0.1:9/github/", "--platform", "statuspage",
                            "--id", "github")
    assert code == 0, err
    code, out, err = upstream(capsys, "--db", path, "follow", "github")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "id 'github' already follows http://127.0.0.1:9/github" in lines[0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT url FROM providers WHERE id = 'github'").fetchone()[0] == \
            "http://127.0.0.1:9/github"
    # Following a catalog vendor twice is still fine (same page, nothing re-pointed).
    assert upstream(capsys, "--db", path, "follow", "slack")[0] == 0
    assert upstream(capsys, "--db", path, "follow", "slack")[0] == 0


# --- 4. --db names exactly its path; files 0600 ---------------------------------------------------

@pytest.mark.parametrize("name", ["a#b.db", "a?mode=ro.db", "a%23b.db", "a%.db", "sp ace.db"])
def test_db_path_with_uri_characters_opens_that_path(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    umask_022: None) -> None:
    path = tmp_path / name
    code, _, err = upstream(capsys, "--db", str(path), "add", "http://127.0.0.1:9/acme/", "--platform",
                            "statuspage", "--id", "acme")
    assert code == 0, err
    # A reader (a second process could be watching) while the WAL and shared memory exist.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE providers SET name = 'Acme' WHERE id = 'acme'")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, name + "-wal", name + "-shm"])
    for file in tmp_path.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    conn.rollback()
    conn.close()
    code, out, err = upstream(capsys, "--db", str(path), "status", "--json")
    assert code == 0, err
    assert '"acme"' in out


# --- 16. long ids, newer databases ----------------------------------------------------------------

def test_a_10kb_provider_id_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "up.db")
    code, _, err = upstream(capsys, "--db", path, "add", "http://127.0.0.1:9/acme/", "--platform", "statuspage",
                            "--id", "a" * 10_000)
    assert code == 1
    assert err.strip().splitlines() == [
        "upstream: error: id too long (10000 characters; at most 200): choose a shorter one with --id"]
    assert upstream(capsys, "--db", path, "add", "http://127.0.0.1:9/acme/", "--platform", "statuspage",
                    "--id", "a" * 200)[0] == 0
    # A name-derived default id is cut to the bound instead.
    code, out, err = upstream(capsys, "--db", path, "add", "http://127.0.0.1:9/other/", "--platform", "statuspage",
                              "--name", "Very Long " * 100)
    assert code == 0, err
    assert len(out.strip()) <= 200


def test_a_database_from_a_newer_upstream_is_refused_by_readers_and_writers(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_versions SET version = 99 WHERE subsystem = 'core'")
    for args in (["status"], ["status", "--json"], ["history", "acme"], ["export"], ["poll"]):
        code, out, err = upstream(capsys, "--db", str(db), *args)
        assert code == 1, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "newer" in lines[0] and "upgrade upstream" in lines[0], (args, err)
