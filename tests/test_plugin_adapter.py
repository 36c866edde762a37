"""A third-party adapter installed by a real ``pip install`` of a folder is listed and polled.

The package in tests/plugin_adapter/ registers ``acmejson`` in the ``upstream.adapters``
entry-point group; nothing in upstream names it. It is installed into a folder of its own and
put on the path of a fresh ``upstream`` process, as a user's site-packages would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.loopback import LoopbackServer

PLUGIN = REPO / "tests" / "plugin_adapter"


@pytest.mark.slow
def test_an_installed_plugin_adapter_is_listed_and_polled(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                              "--target", str(target), str(PLUGIN)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(REPO)]), "UPSTREAM_DB": str(tmp_path / "up.db"),
           "UPSTREAM_CONFIG_DIR": str(tmp_path / "config")}

    def upstream(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aggregator.cli.main", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    listed = upstream("platforms", "--json")
    assert listed.returncode == 0, listed.stderr
    platforms = {row["platform"]: row for row in json.loads(listed.stdout)}
    assert platforms["acmejson"]["title"] == "Acme JSON status (test plugin)"
    assert "statuspage" in platforms

    with LoopbackServer() as page:
        page.set("/acme.json", json.dumps({"name": "Acme", "services": [
            {"id": "api", "name": "API", "state": "up"}, {"id": "web", "name": "Web", "state": "down"}]}))
        added = upstream("add", page.url(), "--platform", "acmejson", "--id", "acme")
        assert added.returncode == 0, added.stderr
        polled = upstream("poll")
        assert polled.returncode == 0, polled.stderr
        assert page.hit_count("/acme.json") == 1
    status = upstream("status", "acme", "--json")
    assert status.returncode == 0, status.stderr
    [acme] = json.loads(status.stdout)
    assert acme["platform"] == "acmejson" and acme["status"] == "major_outage"
    assert {c["id"]: c["status"] for c in acme["components"]} == {"api": "operational", "web": "major_outage"}
    # Without the plugin on the path the platform is simply unknown: one line, not a traceback.
    env["PYTHONPATH"] = str(REPO)
    gone = upstream("parse", "acmejson", str(PLUGIN / "pyproject.toml"))
    assert gone.returncode != 0 and "unknown platform 'acmejson'" in gone.stderr
    assert "Traceback" not in gone.stderr
