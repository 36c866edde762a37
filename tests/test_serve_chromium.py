"""The served board in headless Chromium: a change polled by the same process shows without a reload.

Chromium is driven over the DevTools protocol (aiohttp's websocket client): the page is opened
once, a screenshot taken, the vendor's page changes, and the open page must show the new status
within a few seconds (live.js swaps the board in); a second screenshot shows it. The screenshots
go to $UPSTREAM_SHOTS when set (the closing note of issue 18 names them).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from aggregator.core import open_store
from aggregator.poll.schedule import PollSettings
from aggregator.serve.app import ServeConfig
from tests.conftest import FIXTURES
from tests.loopback import LoopbackServer
from tests.servehelp import running

CHROMIUM = Path("/usr/bin/chromium")
SP = FIXTURES / "statuspage"
FAST = PollSettings(interval=1.0, jitter=0.0, max_backoff=1.0, timeout=2.0, poll_processes=0, concurrency=8)


class Cdp:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        await self.ws.send_json({"id": msg_id, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json(timeout=30)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise AssertionError(msg["error"])
                return msg["result"]

    async def text(self) -> str:
        result = await self.call("Runtime.evaluate", expression="document.getElementById('board').innerText",
                                 returnByValue=True)
        return result["result"].get("value") or ""

    async def shot(self, path: Path) -> None:
        result = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(result["data"]))


async def drive(port_file: Path, change: Any, shots: Path) -> tuple[str, str, float]:
    import aiohttp

    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        assert time.monotonic() < deadline, "chromium did not open its DevTools port"
        await asyncio.sleep(0.2)
    port = port_file.read_text().split()[0]
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
                pages = [t for t in await resp.json() if t["type"] == "page"]
            if pages:
                break
            await asyncio.sleep(0.2)
        async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = Cdp(ws)
            await cdp.call("Runtime.enable")
            while "Acme" not in (before := await cdp.text()):
                await asyncio.sleep(0.2)
            await cdp.shot(shots / "serve-before.png")
            changed_at = time.monotonic()
            change()
            while "1 major outage" not in (after := await cdp.text()):
                assert time.monotonic() - changed_at < 30, after
                await asyncio.sleep(0.25)
            seconds = time.monotonic() - changed_at
            await asyncio.sleep(0.3)
            await cdp.shot(shots / "serve-after.png")
            return before, after, seconds


@pytest.mark.slow
def test_board_shows_a_polled_change_without_a_reload(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    shots = Path(os.environ.get("UPSTREAM_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "up.db"
    major = json.loads((SP / "acme-1-operational.json").read_text())
    major["status"] = {"indicator": "critical", "description": "Major System Outage"}
    for comp in major["components"]:
        if not comp.get("group"):
            comp["status"] = "major_outage"
            break
    with LoopbackServer() as page:
        page.set_file("/api/v2/summary.json", SP / "acme-1-operational.json", headers={"Connection": "close"})
        with open_store(db) as store:
            store.add_provider("acme", name="Acme Cloud", url=page.url(), platform="statuspage", category="Cloud")
        with running(ServeConfig(db=db, port=0, settings=FAST, log=lambda line: None)) as srv:
            deadline = time.monotonic() + 20
            while srv.get("/api/v1/providers/acme").json()["status"] != "operational":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            profile = tmp_path / "profile"
            proc = subprocess.Popen(
                [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1100,800",
                 srv.url("/")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                before, after, seconds = asyncio.run(drive(
                    profile / "DevToolsActivePort",
                    lambda: page.set("/api/v2/summary.json", json.dumps(major), headers={"Connection": "close"}),
                    shots))
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    assert "1 operational" in before and "1 major outage" not in before
    assert "1 major outage" in after and "1 operational" not in after
    assert seconds < 10, seconds
    assert (shots / "serve-before.png").stat().st_size > 1000 and (shots / "serve-after.png").stat().st_size > 1000
