"""Issue 16: the command line in a pipe and on a narrow terminal, bulk import, one vocabulary.

Every listing runs as the installed ``upstream`` does, in a subprocess, with stdout piped and
then on a 60-column pseudo-terminal, over a real SQLite database holding a provider with a
500-character id, a long alias and a long URL: no ellipsis, no wrapped record, the id whole.
``upstream import`` reads an OPML, a CSV and a URL list of pages served on 127.0.0.1, with
decoys, login pages and duplicates.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from aggregator.core import Upstream
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer

UPSTREAM = [sys.executable, "-m", "aggregator.cli.main"]
LONG_ID = "a" + "-long" * 99 + "-id"  # 499 characters, then one more: 500
LONG_ID += "x"
assert len(LONG_ID) == 500
LONG_NAME = "Acme " + "Extraordinarily Verbose Vendor Name " * 6
LONG_URL = "https://status.acme.example/" + "/".join(f"segment{k}" for k in range(40))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, str]:
    """A database with a long-id provider (and a short one), a user catalog with a long entry, a
    subscription with a long name: every listing has something long to show."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "catalog.toml").write_text(
        f'[providers.{LONG_ID}]\nname = "{LONG_NAME.strip()}"\naliases = ["{LONG_NAME.strip()} Alias"]\n'
        f'url = "{LONG_URL}"\nplatform = "statuspage"\ncategory = "devtools"\n', encoding="utf-8")
    db = tmp_path / "up.db"
    with Upstream(db) as up:
        up.store.add_provider(LONG_ID, name=LONG_NAME, url=LONG_URL, platform="statuspage", category="Other")
        up.store.add_provider("short", name="Short", url="https://status.short.example", platform="statuspage")
    env = {**os.environ, "UPSTREAM_CONFIG_DIR": str(config), "UPSTREAM_DB": str(db)}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    sub = subprocess.run([*UPSTREAM, "subscribe", f"file:{tmp_path / 'out.ndjson'}", "--name", LONG_NAME.strip(),
                          "-p", LONG_ID], env=env, capture_output=True, text=True, timeout=60)
    assert sub.returncode == 0, sub.stderr
    return env


LISTINGS: list[tuple[list[str], bool]] = [  # (arguments, whether the long id must appear)
    (["status"], True),
    (["history", LONG_ID], False),
    (["incidents", "--kind", "all"], False),
    (["providers", "search", "acme extraordinarily"], True),
    (["providers", "list", "--category", "devtools"], True),
    (["categories"], False),
    (["platforms"], False),
    (["subscriptions", "list"], False),
    (["deliveries", "--all"], False),
]


def run_piped(env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPSTREAM, *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("args,has_id", LISTINGS, ids=[" ".join(a[:2])[:30] for a, _ in LISTINGS])
def test_piped_listing_is_one_record_a_line(world: dict[str, str], args: list[str], has_id: bool) -> None:
    done = run_piped(world, args)
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout and "..." not in done.stdout
    lines = done.stdout.splitlines()
    if lines and "\t" in lines[0]:  # a table: a header, then as many cells on every line
        width = lines[0].count("\t")
        assert all(line.count("\t") == width for line in lines), lines
    if has_id:
        rows = [line for line in lines if LONG_ID in line]
        assert rows, done.stdout
        assert all(line.split("\t")[0] == LONG_ID for line in rows)
    if args[0] == "status":
        assert LONG_URL not in done.stdout or all(len(line.split("\t")) == 6 for line in lines)
        assert {line.split("\t")[0] for line in lines[1:]} == {LONG_ID, "short"}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tsv", "csv", "json", "ndjson"])
def test_every_format_of_status_and_search(world: dict[str, str], fmt: str) -> None:
    for args in (["status"], ["providers", "search", "acme extraordinarily"]):
        done = run_piped(world, [*args, "--format", fmt])
        assert done.returncode == 0, done.stderr
        if fmt == "json":
            assert LONG_ID in [r.get("provider") or r.get("id") for r in json.loads(done.stdout)]
        elif fmt == "ndjson":
            assert all(json.loads(line) for line in done.stdout.splitlines())
        else:
            assert LONG_ID in done.stdout and "…" not in done.stdout


def run_on_pty(env: dict[str, str], args: list[str], columns: int = 60) -> str:
    """Output of ``upstream ARGS`` on a pseudo-terminal ``columns`` wide, escapes removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([*UPSTREAM, *args], env={**env, "TERM": "xterm"}, stdout=follower,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@pytest.mark.slow
@pytest.mark.parametrize("args,has_id", LISTINGS, ids=[" ".join(a[:2])[:30] for a, _ in LISTINGS])
def test_sixty_column_terminal_keeps_ids_whole(world: dict[str, str], args: list[str], has_id: bool) -> None:
    out = run_on_pty(world, args)
    assert "…" not in out
    if has_id:
        # The terminal folds a 500-character id over lines by itself; upstream never cuts or breaks it.
        assert LONG_ID in out, out


def test_status_letters_without_colour(world: dict[str, str]) -> None:
    done = run_piped({**world, "NO_COLOR": "1"}, ["status"])
    assert "\t? unknown\t" in done.stdout


# ------------------------------------------------------------------------------------------------
# One vocabulary of values
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["history", "short", "--limit", "0"], "greater than or equal to 1"),
    (["history", "short", "--limit", "-1"], "greater than or equal to 1"),
    (["export", "-f", "json", "--limit", "3"], "--limit"),
    (["export", "-f", "json", "--days", "5"], "--days"),
    (["export", "-f", "atom", "--history"], "--history"),
    (["add", "https://status.example.com", "--platform", "statuspage", "--category", "Bogus Cat"],
     "unknown category"),
    (["set-interval", "short", "1e9"], "cannot read interval"),
    (["set-interval", "short", "2d"], "between 5s and 1d"),
    (["set-interval", "short", "2s"], "between 5s and 1d"),
    (["status", "--format", "xml"], "unknown format"),
])
def test_values_are_checked_with_one_line(world: dict[str, str], args: list[str], message: str) -> None:
    done = run_piped(world, args)
    assert done.returncode != 0
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_set_interval_reads_durations(world: dict[str, str]) -> None:
    done = run_piped(world, ["set-interval", "short", "5m"])
    assert (done.returncode, done.stdout.strip()) == (0, "short: every 5m"), done.stderr
    with Upstream(world["UPSTREAM_DB"]) as up:
        assert up.store.get_provider("short")["interval"] == 300


# ------------------------------------------------------------------------------------------------
# Removal
# ------------------------------------------------------------------------------------------------

def test_history_of_a_removed_provider_and_purge(world: dict[str, str]) -> None:
    with Upstream(world["UPSTREAM_DB"]) as up:
        up.store.conn.execute("INSERT INTO events (kind, provider, observed_at) VALUES "
                              "('provider.first_seen', 'short', '2026-11-20T08:00:00Z')")
    done = run_piped(world, ["remove", "short"])
    assert done.returncode == 0 and "history kept" in done.stdout
    after = run_piped(world, ["history", "short", "--json"])
    assert after.returncode == 0, after.stderr
    assert "no longer followed" in after.stderr and len(json.loads(after.stdout)) == 1
    with Upstream(world["UPSTREAM_DB"]) as up:
        up.store.add_provider("short", name="Short", url="https://status.short.example", platform="statuspage")
    purged = run_piped(world, ["remove", "short", "--purge"])
    assert purged.returncode == 0 and "deleted 1 events" in purged.stdout
    gone = run_piped(world, ["history", "short"])
    assert gone.returncode != 0 and "not following" in gone.stderr


# ------------------------------------------------------------------------------------------------
# upstream import
# ------------------------------------------------------------------------------------------------

SUMMARY = (FIXTURES / "statuspage" / "acme-1-operational.json").read_bytes()


def serve_pages(site: LoopbackServer, count: int) -> None:
    for k in range(count):
        site.set(f"/p{k}", f"<html><head><title>Acme {k} Status</title></head></html>", content_type="text/html")
        site.set(f"/p{k}/api/v2/summary.json", SUMMARY)
    site.set("/decoy", (FIXTURES / "detect" / "marketing.html").read_bytes(), content_type="text/html")
    site.set("/login", (FIXTURES / "detect" / "statuspage-login.html").read_bytes(), content_type="text/html")


def check_report(report: dict[str, object], added: int) -> None:
    pages = report["pages"]
    assert isinstance(pages, list)
    reasons = {p["url"].rsplit("/", 1)[-1]: (p["result"], p["reason"]) for p in pages}
    assert report["added"] == added
    assert reasons["decoy"] == ("skipped", "decoy: not a status page")
    assert reasons["login"] == ("skipped", "login page")
    assert reasons["gone"][0] == "failed" and "404" in reasons["gone"][1]
    assert any(r == ("skipped", "duplicate of line 1") or r[1].startswith("duplicate") for r in reasons.values())


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["opml", "csv", "lines"])
def test_import_each_format(world: dict[str, str], tmp_path: Path, kind: str) -> None:
    with LoopbackServer() as site:
        serve_pages(site, 4)
        urls = [site.url(f"/p{k}") for k in range(4)] + [site.url(p) for p in ("/decoy", "/login", "/gone")]
        urls.append(urls[0])  # a duplicate
        if kind == "opml":
            outlines = "".join(f'<outline text="Page {n}" htmlUrl="{u}"/>' for n, u in enumerate(urls))
            text = f'<?xml version="1.0"?><opml version="2.0"><body><outline text="Cloud">{outlines}' \
                   f'</outline></body></opml>'
        elif kind == "csv":
            text = "url,name,category\n" + "".join(f"{u},Page {n},devtools\n" for n, u in enumerate(urls))
        else:
            text = "# my pages\n" + "\n".join(urls) + "\n"
        path = tmp_path / f"pages.{kind}"
        path.write_text(text, encoding="utf-8")
        dry = run_piped(world, ["import", str(path), "--dry-run", "--json"])
        assert dry.returncode == 0, dry.stderr
        check_report(json.loads(dry.stdout), 4)
        with Upstream(world["UPSTREAM_DB"]) as up:
            assert len(up.store.providers()) == 2  # a dry run follows nothing
        done = run_piped(world, ["import", str(path), "--json"])
        check_report(json.loads(done.stdout), 4)
        again = json.loads(run_piped(world, ["import", str(path), "--json"]).stdout)
        assert again["added"] == 0
        # the four pages, and the line that repeats one of them
        assert sum(1 for p in again["pages"] if p["reason"] == "already followed") == 5
    with Upstream(world["UPSTREAM_DB"]) as up:
        rows = {r["id"]: r for r in up.store.providers()}
    imported = [r for r in rows.values() if r["url"].startswith("http://127.0.0.1")]
    assert len(imported) == 4
    if kind == "csv":
        assert {r["category"] for r in imported} == {"DevTools & CI/CD"}
        assert {r["name"] for r in imported} == {f"Page {n}" for n in range(4)}


def test_import_refuses_a_bad_list(world: dict[str, str], tmp_path: Path) -> None:
    for text, message in (("", "empty"), ("url,colour\nhttp://x,red\n", "unknown CSV column"),
                          ("<opml><body>", "not valid OPML"), ('{"url": 1}', "must be a list")):
        path = tmp_path / "bad.txt"
        path.write_text(text, encoding="utf-8")
        done = run_piped(world, ["import", str(path)])
        assert done.returncode != 0 and message in done.stderr, (text, done.stderr)


# ------------------------------------------------------------------------------------------------
# Every --json validates against the shipped schema of its kind
# ------------------------------------------------------------------------------------------------

SCHEMAS = Path(__file__).resolve().parent.parent / "aggregator" / "schema"


def validator(name: str, items: bool = False) -> object:
    import jsonschema

    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    if items:
        schema = {"$schema": schema["$schema"], "type": "array", "items": {"$ref": "#/$defs/item"},
                  "$defs": {**schema.get("$defs", {}), "item": {k: v for k, v in schema.items() if k not in ("$defs", "$id", "$schema")}}}
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.slow
def test_every_json_output_validates(world: dict[str, str], tmp_path: Path) -> None:
    with LoopbackServer() as site:
        site.set("/acme", "<html><head><title>Acme Status</title></head></html>", content_type="text/html")
        site.set("/acme/api/v2/summary.json",
                 (FIXTURES / "statuspage" / "acme-2-incident-investigating.json").read_bytes())
        added = run_piped(world, ["add", site.url("/acme"), "--id", "acme", "--category", "cloud"])
        assert added.returncode == 0, added.stderr
        polled = run_piped(world, ["poll", "--json"])
        assert polled.returncode == 0, polled.stderr
        path = tmp_path / "list.txt"
        path.write_text(site.url("/acme") + "\n" + site.url("/nothing") + "\n", encoding="utf-8")
        imported = run_piped(world, ["import", str(path), "--json", "--dry-run"])
    checks = [
        (["status", "--json"], "snapshot", True),
        (["history", "acme", "--json"], "event", True),
        (["incidents", "--kind", "all", "--json"], "incident-row", True),
        (["export", "-f", "json"], "export", False),
        (["export", "-f", "json", "--history"], "export", False),
    ]
    seen_incident = False
    for args, schema, items in checks:
        done = run_piped(world, args)
        assert done.returncode == 0, (args, done.stderr)
        doc = json.loads(done.stdout)
        errors = [e.message for e in validator(schema, items).iter_errors(doc)]  # type: ignore[attr-defined]
        assert not errors, (args, errors[:3])
        seen_incident |= args[0] == "incidents" and bool(doc)
    assert seen_incident, "the fixture has an open incident: the schema was checked on a real one"
    report = json.loads(imported.stdout)
    assert not list(validator("import-report").iter_errors(report))  # type: ignore[attr-defined]
    assert report["pages"][0]["reason"] == "already followed"


def test_following_again_does_not_replay_recorded_incidents(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        site.set("/acme/api/v2/summary.json",
                 (FIXTURES / "statuspage" / "acme-2-incident-investigating.json").read_bytes())
        with Upstream(tmp_path / "up.db", config=tmp_path / "none.toml") as up:
            up.add(site.url("/acme"), platform="statuspage", provider_id="acme")
            up.poll()
            opened = [e for e in up.history("acme") if e["kind"] == "incident.opened"]
            assert len(opened) == 1
            up.remove(["acme"])
            up.add(site.url("/acme"), platform="statuspage", provider_id="acme")
            up.poll()
            kinds = [e["kind"] for e in up.history("acme")]
    assert kinds.count("incident.opened") == 1, kinds
    assert kinds.count("provider.status_changed") == 2  # the state when followed again is recorded


# ------------------------------------------------------------------------------------------------
# Help
# ------------------------------------------------------------------------------------------------

COMMANDS = ["add", "import", "remove", "poll", "status", "history", "parse", "categories", "detect", "platforms",
            "follow", "unfollow", "export", "schema", "uptime", "incidents", "subscribe", "deliver", "watch",
            "set-interval", "providers search", "providers list", "providers show", "catalog verify",
            "subscriptions list", "subscriptions show", "subscriptions pause", "subscriptions resume",
            "subscriptions remove", "subscriptions test", "subscriptions schema", "deliveries",
            "deliveries retry", "deliveries show"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_plain_metavars_and_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    from aggregator.cli.main import main

    assert main([*command.split(), "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example: upstream " in out
    assert not re.search(r"<(str|int|float|path|int range|list\[str\])>|\{\w+\}", out), out


def test_command_list_summaries_are_whole(capsys: pytest.CaptureFixture[str]) -> None:
    from aggregator.cli.main import main

    assert main(["--help"]) == 0
    listing = capsys.readouterr().out.split("Commands:", 1)[1]
    assert "..." not in listing and "…" not in listing
