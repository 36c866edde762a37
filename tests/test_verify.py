"""``upstream catalog verify`` as a user meets it, against real servers on 127.0.0.1: "nothing
answered" told apart from "this page is dead" in one line with a non-zero exit; results streamed as
each probe ends, also through a pipe; Ctrl-C keeps what was found; --write records the probe, with
its date, in the user's catalog.toml, and the row then loads as verified with that evidence."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from aggregator.catalog import data as cat
from aggregator.catalog.detect import Detection, Verdict
from tests.conftest import REPO, corpus_file
from tests.loopback import LoopbackServer

GITHUB_SUMMARY = ("statuspage", "github-summary-2026-07-minified.json")


def serve_statuspage(site: LoopbackServer, path: str, delay: float = 0.0) -> None:
    body = corpus_file(*GITHUB_SUMMARY).read_bytes()
    site.set(path, b"<html><head><title>GitHub Status</title></head><body></body></html>", content_type="text/html",
             delay=delay)
    site.set(f"{path}/api/v2/summary.json", body, delay=delay)


def user_catalog(config: Path, pages: dict[str, str]) -> Path:
    config.mkdir(parents=True, exist_ok=True)
    path = config / "catalog.toml"
    path.write_text("".join(f'[providers.{pid}]\nname = "{pid.title()}"\nurl = "{url}"\nplatform = "statuspage"\n\n'
                            for pid, url in pages.items()))
    return path


def cli(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "UPSTREAM_CONFIG_DIR": str(config), "PYTHONUNBUFFERED": "0"}
    return subprocess.Popen([sys.executable, "-m", "aggregator.cli", "catalog", "verify", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def read_line(proc: subprocess.Popen[str], within: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], within)
    assert ready, f"no line within {within}s"
    return proc.stdout.readline()


def closed_port_url() -> str:
    with LoopbackServer() as gone:
        return gone.url("/status")


def failed(url: str, error: str) -> cat.VerifyResult:
    detection = Detection(url=url, verdict=Verdict.unreachable, reasons=[f"the page did not answer ({error})"],
                          network_error=error)
    entry = cat.Entry(id=url.rsplit("/", 1)[-1], name="X", url=url, platform="statuspage")
    return cat.VerifyResult(entry, cat.classify(entry, detection), detection, checked="2026-12-03")


def test_nothing_reached_is_one_judgement_not_a_row_each() -> None:
    same = [failed(f"https://s{i}.example/p{i}", "DNS lookup failed (Temporary failure in name resolution)")
            for i in range(3)]
    line = cat.nothing_reached(same)
    assert line and "none of 3 probes got an answer" in line and "the same way (DNS lookup failed" in line
    assert {r.outcome for r in same} == {"unreachable"}
    mixed = [*same[:2], failed("https://t.example/x", "timed out after 10s")]
    assert "DNS lookup failed (2), timed out (1)" in (cat.nothing_reached(mixed) or "")
    answered = Detection(url="https://u.example", verdict=Verdict.unreachable, reasons=["the page answers HTTP 404"])
    dead = cat.VerifyResult(cat.Entry(id="u", name="U", url="https://u.example", platform="statuspage"),
                            "dead", answered)
    assert cat.classify(dead.entry, answered) == "dead"
    assert cat.nothing_reached([*same, dead]) is None  # one server answered: the network works


@pytest.mark.slow
def test_cli_says_in_one_line_when_nothing_answered(tmp_path: Path) -> None:
    config = tmp_path / "config"
    toml = user_catalog(config, {"one": closed_port_url(), "two": closed_port_url()})
    before = toml.read_text()
    proc = cli(config, "one", "two", "--write", "--timeout", "3")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    errors = [line for line in err.splitlines() if line.startswith("upstream: error:")]
    assert len(errors) == 1 and "could not reach anything: none of 2 probes got an answer" in errors[0]
    assert "every one failed the same way (connection refused" in errors[0]
    assert toml.read_text() == before  # nothing judged, nothing written
    assert out.count("\tunreachable\t") == 2


@pytest.mark.slow
def test_a_dead_page_among_live_ones_is_dead_and_the_run_succeeds(tmp_path: Path) -> None:
    config = tmp_path / "config"
    with LoopbackServer() as site:
        serve_statuspage(site, "/live")
        user_catalog(config, {"live": site.url("/live"), "gone": site.url("/gone")})
        proc = cli(config, "live", "gone", "--timeout", "5")
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "\tlive\tok\t" in out and "\tgone\tdead\t" in out and "HTTP 404" in out
    assert "1 dead, 1 ok" in err


@pytest.mark.slow
def test_results_stream_through_a_pipe_and_ctrl_c_keeps_and_records_them(tmp_path: Path) -> None:
    config = tmp_path / "config"
    with LoopbackServer() as site:
        serve_statuspage(site, "/fast")
        serve_statuspage(site, "/slow", delay=30)
        toml = user_catalog(config, {"fast": site.url("/fast"), "slow": site.url("/slow")})
        started = time.monotonic()
        proc = cli(config, "slow", "fast", "--write", "--timeout", "60")
        first = read_line(proc, within=15)  # the fast page's line, long before the slow one ends
        assert "\tfast\tok\tstatuspage\t" in first and first.startswith("[1/2]")
        assert time.monotonic() - started < 20
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "interrupted after 1 of 2 probes (1 ok)" in err
    assert "recorded 1 results" in err
    recorded = tomllib.loads(toml.read_text())["providers"]
    assert recorded["fast"]["outcome"] == "ok" and len(recorded["fast"]["checked"]) == 10
    assert recorded["fast"]["page_id"] == "kctbh9vrtdwd"
    assert "checked" not in recorded["slow"]
    entry = cat.load_catalog(user_path=toml).get("fast")
    assert entry is not None and entry.confidence == "verified"
    assert entry.evidence[0] == f"probed:verify@{recorded['fast']['checked']}"
    assert entry.platform_from == entry.evidence[0]
    assert f"probed live by your `catalog verify` (checked {recorded['fast']['checked']})" in cat.trust_lines(entry)


def test_write_records_bad_outcomes_as_evidence_too(tmp_path: Path) -> None:
    user = tmp_path / "catalog.toml"
    shipped = cat.Entry(id="acme", name="Acme", url="https://status.acme.example", platform="statuspage",
                        confidence="curated", sources=("stts",), evidence=("polled:stts@2026-03",))
    unclaimed = Detection(url=shipped.url, verdict=Verdict.unclaimed, platform="statuspage",
                          reasons=["the page is Atlassian's Statuspage marketing page"])
    assert cat.record_verification([cat.VerifyResult(shipped, "unclaimed", unclaimed, checked="2026-12-03")],
                                   user) == 1
    loaded = cat.read_user_toml(user, {"acme": shipped})[0]
    assert loaded.confidence == "unverified"
    assert loaded.evidence == ("probed:verify@2026-12-03:unclaimed", "polled:stts@2026-03")
    assert "probed live by your `catalog verify` (checked 2026-12-03): unclaimed" in cat.trust_lines(loaded)
    user.write_text('[providers.acme]\nchecked = "yesterday"\noutcome = "ok"\n')
    with pytest.raises(cat.CatalogError, match="checked must be a date"):
        cat.read_user_toml(user, {"acme": shipped})


@pytest.mark.slow
def test_with_no_answer_at_all_a_long_run_stops_early_and_blames_the_network(tmp_path: Path) -> None:
    config = tmp_path / "config"
    dead = closed_port_url()
    user_catalog(config, {f"p{i:02d}": f"{dead}{i}" for i in range(20)})
    proc = cli(config, *(f"p{i:02d}" for i in range(20)), "--concurrency", "1", "--timeout", "3")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    # It gives up after 12; a probe or two that end while the run winds down are counted too.
    match = re.search(r"could not reach anything: none of (\d+) probes got an answer.*"
                      r"\(stopped after the first (\d+) of 20\)", err)
    assert match and 12 <= int(match.group(1)) == int(match.group(2)) <= 14, err
    assert out.count("\n") == int(match.group(1))
