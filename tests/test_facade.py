"""The facade reads config.toml once for every command, and ids are made one way everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.catalog.data import load_catalog
from aggregator.catalog.ids import default_id, slugify
from aggregator.cli.main import main
from aggregator.config import load_config
from aggregator.core import open_upstream
from aggregator.errors import ConfigError, UserError
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("UPSTREAM_CONFIG_DIR", str(folder))
    return folder


def test_poll_uses_the_poll_settings_of_config_toml(tmp_path: Path, config_dir: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    with LoopbackServer() as page:
        # The page answers after 0.5 s: with [poll] timeout = 0.2 the poll must give up on it.
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json", delay=0.5)
        assert run(capsys, "--db", db, "add", page.url(), "--platform", "statuspage", "--id", "acme")[0] == 0
        (config_dir / "config.toml").write_text("[poll]\ntimeout = 0.2\n")
        code, out, _ = run(capsys, "--db", db, "poll")
        assert code == 0 and "unreachable" in out
        (config_dir / "config.toml").write_text("[poll]\ntimeout = 5\n")
        code, out, _ = run(capsys, "--db", db, "poll")
        assert code == 0 and "first seen" in out


@pytest.mark.parametrize(("text", "message"), [
    ("this is [not toml", "not valid TOML"),
    ("[pol]\ninterval = 60\n", "unknown table [pol]"),
    ("[poll]\ntimeuot = 5\n", "unknown key poll.timeuot"),
    ("[poll]\ntimeout = 'soon'\n", "poll.timeout must be a number"),
])
def test_a_bad_config_is_the_same_one_line_error_for_every_command(
        tmp_path: Path, config_dir: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    db = str(tmp_path / "up.db")
    (config_dir / "config.toml").write_text(text)
    errors = set()
    for command in (["poll"], ["watch", "--once"], ["add", "http://127.0.0.1:9/", "--platform", "statuspage"]):
        code, _, err = run(capsys, "--db", db, *command)
        assert code != 0 and err.count("\n") == 1 and message in err, (command, err)
        errors.add(err)
    assert len(errors) == 1  # word for word the same
    with pytest.raises(ConfigError, match="config.toml"):
        load_config()


def test_the_library_reads_the_config_once_and_refuses_bad_values(tmp_path: Path, config_dir: Path) -> None:
    (config_dir / "config.toml").write_text("[poll]\ninterval = 120\n[serve]\ntoken = 's3cret'\n")
    with open_upstream(tmp_path / "up.db") as up:
        assert up.config.poll.interval == 120 and up.config.serve_token == "s3cret"
        (config_dir / "config.toml").write_text("broken [")
        assert up.config.poll.interval == 120  # read once
        with pytest.raises(UserError, match="limit must be a positive number"):
            up.history(limit=0)
        with pytest.raises(UserError, match="not an http"):
            up.add("notaurl")


@pytest.mark.parametrize(("name", "slug"), [("Weights & Biases", "weights-and-biases"), ("Zoë Cloud", "zoe-cloud"),
                                            ("  AT&T  ", "at-and-t"), ("***", "provider")])
def test_one_slugify_for_add_and_the_catalog(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert default_id("https://status.example.com", name) == slug


def test_add_gives_a_named_page_the_id_the_catalog_gives_its_vendor(tmp_path: Path) -> None:
    catalog = load_catalog()
    entry = next(e for e in catalog.entries if "&" in e.name and e.id == slugify(e.name))
    with LoopbackServer() as page, open_upstream(tmp_path / "up.db") as up:
        page.set_file("/api/v2/summary.json", FIXTURES / "statuspage" / "acme-1-operational.json")
        row = up.add(page.url(), platform="statuspage", name=entry.name)
        assert row["id"] == entry.id
        report = up.poll()
        assert report.polled == 1 and not report.unreachable
