"""The vendor page of the board (issue 13) for the Courier-like fixture, polled from 127.0.0.1:
backfilled incidents with their markdown rendered and sanitised, the post-mortem, the vendor's
uptime beside what upstream observed, "Get alerted", the category page; in headless Chromium at
1280 and 375 px, at 90 and 365 days (no horizontal scroll, bars aligned across rows), and a
2,000-day request that stays small.

Screenshots go to $UPSTREAM_SHOTS when it is set (the closing note of issue 13 shows them).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from aggregator.cli.main import main
from tests.loopback import LoopbackServer
from tests.test_backfill import serve_courier
from tests.test_board_chromium import Dom

from .conftest import FIXTURES

CHROMIUM = Path("/usr/bin/chromium")
SP = FIXTURES / "statuspage"

# Appended to a copy of the page (its CSP, which forbids scripts, removed from the copy only):
# what the layout measured, written into the DOM that --dump-dom prints.
MEASURE = """<script>
const rows = [...document.querySelectorAll('.component .bars')].map(b => {
  const cells = b.children, first = cells[0].getBoundingClientRect(), last = cells[cells.length - 1].getBoundingClientRect();
  return [Math.round(first.left), Math.round(last.right), cells.length].join(':');
});
document.body.setAttribute('data-measured', JSON.stringify({
  scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, rows: rows}));
</script>"""


def run(*args: str) -> None:
    assert main(list(args)) == 0, args


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vendor-board")
    db = str(root / "up.db")
    with LoopbackServer() as page:
        serve_courier(page)
        page.set("/acme/api/v2/summary.json", (SP / "acme-1-operational.json").read_bytes())
        run("--db", db, "add", page.url(), "--platform", "statuspage", "--id", "courier", "--name", "Courier",
            "--category", "Email & Communication")
        run("--db", db, "add", page.url("/acme"), "--platform", "statuspage", "--id", "acme", "--name", "Acme",
            "--category", "Email & Communication")
        run("--db", db, "poll")
    sites = {}
    for days in (90, 365, 2000):
        sites[str(days)] = root / f"site-{days}"
        run("--db", db, "export", "--format", "html", "-o", str(sites[str(days)]), "--days", str(days))
    return sites


def test_vendor_page_shows_history_rendered_and_safe(board: dict[str, Path]) -> None:
    html = (board["90"] / "providers" / "courier.html").read_text()
    dom = Dom(html)
    tags = [t for t, _ in dom.elements]
    text = dom.text
    # the post-mortem's markdown table and headings became elements, its hostile HTML did not
    assert "table" in tags and "th" in tags and "h2" in tags and "ol" in tags and "pre" in tags
    assert "<script" not in html and "script" not in tags and "img" not in tags
    assert not [a for _, attrs in dom.elements for a in attrs if a.startswith("on")]
    assert not re.search(r"(?i)\son\w+\s*=", html)
    assert not [a for _, a in dom.elements if a.get("href", "").lower().startswith("javascript")]
    assert "b" in tags or "strong" in tags  # vendor <b> kept as allowed markup
    for words in ("Courier", "Email & Communication", "All Systems Operational", "Post-mortem",
                  "Delayed email and SMS delivery major postmortem from the vendor's history",
                  "Webhook retries delayed", "lasted 2h 38m", "Get alerted",
                  "upstream subscribe https://example.com/your-webhook --provider courier",
                  "More Email & Communication status pages", "Acme", "reported by the vendor: 99.98%",
                  "Observed by upstream: - (under 1s observed)", "Database maintenance"):
        assert words in text, words
    assert "uptime over the last 90 days" not in text  # seconds of observation claim no percentage
    links = {a.get("href") for t, a in dom.elements if t == "a"}
    assert {"../categories/email-communication.html", "courier.xml", "acme.html"} <= links
    assert (board["90"] / "providers" / "courier.xml").read_text().count("<entry>") >= 11

    category = Dom((board["90"] / "categories" / "email-communication.html").read_text())
    assert "Email & Communication status pages" in category.text
    assert re.search(r"Courier\b.*?Operational", category.text)  # its row: name, coverage, status
    assert {"../providers/courier.html", "../providers/acme.html"} <= {a.get("href") for t, a in category.elements
                                                                       if t == "a"}


def test_days_drawn_are_capped(board: dict[str, Path]) -> None:
    sizes = {days: (site / "providers" / "courier.html").stat().st_size for days, site in board.items()}
    # the same 365 cells a bar, plus the line saying so
    assert abs(sizes["2000"] - sizes["365"]) < 500 and sizes["365"] < 400_000, sizes
    assert "asked for 2000" in Dom((board["2000"] / "providers" / "courier.html").read_text()).text


def chromium_page(page: Path, width: int, shot: Path, measure: bool, profile: Path) -> str:
    target = page
    if measure:
        target = page.with_name(f".measure-{page.name}")
        text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
        target.write_text(text.replace("</body>", MEASURE + "</body>"))
    out = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={shot}", "--dump-dom", f"--window-size={width},2400",
         target.as_uri()], capture_output=True, text=True, timeout=90, check=True)
    return out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("days", ["90", "365"])
def test_vendor_page_in_chromium_at_desktop_and_phone_width(board: dict[str, Path], days: str,
                                                            tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    import json

    shots = Path(os.environ.get("UPSTREAM_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = board[days] / "providers" / "courier.html"
    for width in (1280, 375):
        dom_text = chromium_page(page, width, shots / f"courier-{days}d-{width}.png", measure=False, profile=tmp_path / "profile")
        assert "<table>" in dom_text and "<script" not in dom_text
        measured = Dom(chromium_page(page, width, tmp_path / "measure.png", measure=True, profile=tmp_path / "profile"))
        (body,) = [a for t, a in measured.elements if t == "body"]
        figures = json.loads(body["data-measured"])
        assert figures["scroll"] <= figures["client"], (width, figures)  # no horizontal scroll
        rows = {tuple(r.split(":")) for r in figures["rows"]}
        assert len(figures["rows"]) == 5 and len(rows) == 1, (width, rows)  # bars aligned, same cells
        assert next(iter(rows))[2] == days
    chromium_page(board["90"] / "categories" / "email-communication.html", 375,
                  shots / "communications-category-375.png", measure=False, profile=tmp_path / "profile")
