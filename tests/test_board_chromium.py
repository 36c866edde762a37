"""The html board in headless Chromium: what the browser shows, and a screenshot of its colours.

The database is built by replaying recorded Statuspage snapshots (tests/boarddb.py). Skips only
when /usr/bin/chromium is missing outside CI; in CI (env CI set) a missing browser is a failure.
"""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from aggregator.cli.main import main
from tests import boarddb

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1280, 2000)

# The board's palette (templates/base.html), as a browser paints it.
COLOURS = {
    "operational": (0x2F, 0xB8, 0x6A),
    "under_maintenance": (0x3B, 0x82, 0xF6),
    "degraded_performance": (0xEA, 0xB3, 0x08),
    "partial_outage": (0xF9, 0x73, 0x16),
    "major_outage": (0xDC, 0x26, 0x26),
    "no_data": (0xE2, 0xE8, 0xF0),
}


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI is set but /usr/bin/chromium is missing: install Debian's chromium")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def rendered(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, Path]]:
    """page -> (the DOM Chromium built, its screenshot); the three pages render concurrently."""
    root = tmp_path_factory.mktemp("chromium")
    db = boarddb.build(root / "up.db")
    site = root / "site"
    assert main(["--db", str(db), "export", "--format", "html", "-o", str(site)]) == 0
    pages = {"index": site / "index.html", "acme": site / "providers" / "acme.html",
             "evil": site / "providers" / "evil.html"}
    procs = {}
    for name, page in pages.items():
        shot = root / f"{name}.png"
        procs[name] = (shot, subprocess.Popen(
            [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={root / ('profile-' + name)}", f"--screenshot={shot}", "--dump-dom",
             f"--window-size={WINDOW[0]},{WINDOW[1]}", page.as_uri()],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    out = {}
    for name, (shot, proc) in procs.items():
        try:
            dom, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0 and shot.exists(), name
        out[name] = (dom, shot)
    return out


class Dom(HTMLParser):
    """Elements and the text a reader sees (style contents left out)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.words: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.extend(data.split())

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def having_class(self, cls: str) -> list[dict[str, str]]:
        return [a for _, a in self.elements if cls in a.get("class", "").split()]


def read_png(path: Path) -> tuple[int, int, Counter[tuple[int, int, int]]]:
    """Width, height and a count of every colour of an 8-bit RGB(A) PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    width = height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    colours: Counter[tuple[int, int, int]] = Counter()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(zip(line[0::bpp], line[1::bpp], line[2::bpp], strict=True))
        prev = line
    return width, height, colours


def test_provider_page_reads_like_a_status_page(rendered: dict[str, tuple[str, Path]]) -> None:
    dom = Dom(rendered["acme"][0])
    text = dom.text
    assert not [t for t, _ in dom.elements if t == "script"]
    for words in ("Acme Cloud", "Minor Service Outage", "Current incidents",
                  "Delayed webhook deliveries minor identified", "ongoing for 20h 20m so far",
                  "Network switch replacement", "Components", "REST API", "GraphQL API", "Dashboard", "Webhooks",
                  "Past incidents", "Elevated REST API error rates major resolved",
                  "The issue has been identified: a bad deploy. Rolling back.",
                  "GraphQL API unavailable critical resolved", "Past maintenance", "Database upgrade",
                  "The vendor's own status page"):
        assert words in text, words
    # Components in the page's order, each with a 90-day bar whose cells are coloured by that day.
    section = text.index("Components Operational Under maintenance")
    at = [text.index(f"{name} ", section) for name in ("API REST API", "GraphQL API", "Dashboard", "Webhooks")]
    assert at == sorted(at)
    assert len(dom.having_class("bars")) == 4
    days = [a["title"] for _, a in dom.elements if a.get("class", "").startswith("s-") and "title" in a]
    assert len(days) == 4 * 90
    assert sum(d.startswith("2026-11-20: Operational") and "Partial outage 1h 15m" in d for d in days) == 1
    assert "2026-11-22: Operational 22h 17m, Under maintenance 1h 43m" in days
    assert "2026-11-24: Operational 18h, Unknown 6h" in days[3 * 90:]  # the six hours we could not see


def test_screenshot_shows_coloured_bars(rendered: dict[str, tuple[str, Path]]) -> None:
    width, height, colours = read_png(rendered["acme"][1])
    assert (width, height) == WINDOW
    # Every status the replay went through is painted (a day cell is ~8 x 34 pixels).
    for status in ("operational", "partial_outage", "major_outage", "degraded_performance", "under_maintenance",
                   "no_data"):
        assert colours[COLOURS[status]] > 150, (status, colours[COLOURS[status]])
    assert colours[COLOURS["operational"]] > 30 * colours[COLOURS["major_outage"]]  # mostly green
    _, _, index_colours = read_png(rendered["index"][1])
    assert index_colours[COLOURS["major_outage"]] > 150  # evil's outage shows on the overview


def test_index_groups_providers_by_category(rendered: dict[str, tuple[str, Path]]) -> None:
    dom = Dom(rendered["index"][0])
    text = dom.text
    assert text.index("Cloud") < text.index("Acme Cloud") < text.index("Security") < text.index("Evil <Corp>") \
        < text.index("Other") < text.index("Quiet Co")
    assert "1 major outage" in text and "1 degraded performance" in text
    links = [a["href"] for t, a in dom.elements if t == "a"]
    assert {"providers/acme.html", "providers/evil.html", "providers/quiet.html", "feed.xml"} <= set(links)


def test_hostile_text_is_shown_never_run(rendered: dict[str, tuple[str, Path]]) -> None:
    dom = Dom(rendered["evil"][0])
    tags = {t for t, _ in dom.elements}
    assert not tags & {"script", "img", "svg", "iframe", "textarea"}, tags
    assert not [a for _, attrs in dom.elements for a in attrs if a.startswith("on")]
    text = dom.text
    assert "<script>alert(1)</script> Login outage" in text
    # Update bodies are markdown with vendor HTML (issue 13): rendered, and sanitised, so the
    # hostile tags are gone (an unclosed <svg> takes the rest of the text with it), not shown.
    assert "Users see and" in text and "onerror" not in text and "alert(3)" not in text
    assert "<i>Login</i>" in text
    hrefs = [a.get("href", "") for t, a in dom.elements if t == "a"]
    assert not [h for h in hrefs if h.lower().startswith("javascript:")]
