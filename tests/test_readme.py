"""The README's quick start and platform table stay true."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, REPO


def test_platform_table_matches_the_adapters() -> None:
    if not CORPUS.is_dir():
        pytest.skip("the real-capture counts need ../shared/corpus")
    readme = (REPO / "README.md").read_text()
    table = re.search(r"<!-- platform-table.*?-->\n(.*?)<!-- /platform-table -->", readme, re.S).group(1)
    generated = subprocess.run([sys.executable, "tools/platform_table.py"], cwd=REPO, capture_output=True,
                               text=True, check=True).stdout
    assert table == generated, "README platform table is stale: run python tools/platform_table.py"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"```sh\n(python3 -m venv .*?)\n```", readme)
    assert len(commands) == 2
    assert commands[1] in (REPO / ".ci" / "run").read_text()
