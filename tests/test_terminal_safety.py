"""Vendor text never reaches a terminal or a log raw (issue 15, item 14): a page whose name,
components and incident title carry ESC sequences, an OSC 8 link, CR and newlines is polled on
127.0.0.1, then every command that prints it is read for control characters."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from aggregator.cli.main import main
from aggregator.page.termtext import terminal_safe
from tests.loopback import LoopbackServer

from .conftest import FIXTURES

SP = FIXTURES / "statuspage"
CLEAR = "\x1b[2J\x1b[H"
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
HOSTILE_NAME = f"Acme{CLEAR}Cloud{OSC8}\x07"
HOSTILE_COMPONENT = "REST\rAPI\x1b[8mhidden\x9b31m"
HOSTILE_TITLE = "Elevated errors\n2026-01-01 00:00:00 acme: status major_outage -> operational\u2028x"
# Anything a terminal acts on: C0 but newline, DEL, C1, line/paragraph separators.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # a tab separates TSV columns


def _hostile(name: str) -> bytes:
    page = json.loads((SP / name).read_text())
    page["page"]["name"] = HOSTILE_NAME
    for component in page["components"]:
        if component["name"] == "REST API":
            component["name"] = HOSTILE_COMPONENT
    for incident in page["incidents"]:
        incident["name"] = HOSTILE_TITLE
    return json.dumps(page).encode()


def upstream(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, (args, err)
    return out, err


def test_terminal_safe_escapes_every_control_character() -> None:
    assert terminal_safe("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_safe("one\ntwo\rthree\tfour") == "one two three four"
    assert terminal_safe("x\u2028y\x9bz\x7f") == "x\\u2028y\\x9bz\\x7f"
    assert terminal_safe("keep\nlines", keep_newlines=True) == "keep\nlines"
    assert terminal_safe("Ünïcødé ✓ 状态") == "Ünïcødé ✓ 状态"


def test_hostile_vendor_text_is_escaped_in_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    page = LoopbackServer().start()
    outputs: dict[str, str] = {}
    try:
        page.set("/api/v2/incidents.json", b'{"incidents": []}')
        page.set("/api/v2/scheduled-maintenances.json", b'{"scheduled_maintenances": []}')
        page.set("/api/v2/summary.json", _hostile("acme-1-operational.json"))
        upstream(capsys, "--db", db, "add", page.url(), "--platform", "statuspage", "--id", "acme")
        outputs["poll 1"] = "".join(upstream(capsys, "--db", db, "poll"))
        page.set("/api/v2/summary.json", _hostile("acme-2-incident-investigating.json"))
        outputs["poll 2"] = "".join(upstream(capsys, "--db", db, "poll"))
        page.set("/api/v2/summary.json", _hostile("acme-3-incident-identified.json"))
        with sqlite3.connect(db) as conn:  # due now, so that watch --once polls it
            conn.execute("UPDATE providers SET next_due_at = 0")
        outputs["watch"] = "".join(upstream(capsys, "--db", db, "watch", "--once"))
    finally:
        page.stop()
    for args in (["status"], ["status", "acme"], ["history", "acme"], ["incidents"], ["uptime", "acme"]):
        outputs[" ".join(args)] = "".join(upstream(capsys, "--db", db, *args))

    for command, text in outputs.items():
        assert not RAW_CONTROL.findall(text), (command, RAW_CONTROL.findall(text), text)
    for command in ("poll 2", "watch", "history acme", "incidents"):
        text = outputs[command]
        assert "Elevated errors" in text, command
        # The forged log line stays inside the real one: no line starts with the forged stamp.
        assert not any(line.startswith("2026-01-01 00:00:00 acme") for line in text.splitlines()), (command, text)
    # Escaped, not lost: the reader still sees what the vendor wrote (piped, ``status ID`` is one
    # TSV record; its components and notices are in the JSON).
