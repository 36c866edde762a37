"""Detection that knows a decoy: real Statuspage captures, an unclaimed *.statuspage.io subdomain
(Atlassian's marketing page, a real capture), a product page that talks about status pages, a
login-protected page and an inactive one, all served on 127.0.0.1 and probed over real HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aggregator.catalog.detect import Detection, Verdict, detect
from tests.conftest import FIXTURES, corpus_file
from tests.loopback import LoopbackServer

HTML = "text/html; charset=utf-8"
REAL_STATUSPAGE = ["aquafadas-status-2021-01-incident-uptime-bars.html",
                   "clickfunnels-status-2021-01-partial-outage-uptime-bars.html",
                   "postmates-status-2021-01-uptime-bars.html",
                   "python-infra-status-2021-01-unresolved-incident.html",
                   "scalepoint-status-2021-01-maintenances.html", "zoom-status-2021-01.html"]
UNCLAIMED = "unclaimed-subdomain-001xnxqmhdh6-2021-01-atlassian-marketing.html"

# A product site that sells status pages: every status word, no component with a state.
STATUS_PRODUCT_PAGE = b"""<!doctype html><html><head><title>PingBoard - Status pages and uptime monitoring</title>
</head><body><h1>Beautiful status pages for your uptime</h1>
<p>Tell customers about every incident and scheduled maintenance before they ask. Our system status
pages show when you are operational, degraded or in an outage.</p><a href="/signup">Start free trial</a>
<p>All systems operational? Prove it with 99.99% uptime reports.</p></body></html>"""
# A page with a status title but nothing on it: a title alone is no evidence.
TITLE_ONLY_PAGE = b"<html><head><title>Acme System Status</title></head><body><p>Loading...</p></body></html>"
LOGIN_PAGE = b"""<html><head><title>Acme</title></head><body><form action="/session" method="post">
<input name="email"><input type="password" name="password"><button>Continue</button></form></body></html>"""


def capture(name: str) -> bytes:
    """A statuspage-html capture without the crawler's ``` fence lines (see the corpus notes)."""
    lines = corpus_file("statuspage-html", name).read_bytes().split(b"\n")
    return b"\n".join(line for line in lines if not line.startswith(b"```"))


def probe_all(site: LoopbackServer, paths: list[str]) -> dict[str, Detection]:
    from aggregator.http import HttpClient

    async def run() -> list[Detection]:
        async with HttpClient(timeout=5) as http:
            return list(await asyncio.gather(*(detect(site.url(p), http) for p in paths)))

    return dict(zip(paths, asyncio.run(run()), strict=True))


@pytest.mark.slow
def test_real_statuspage_captures_are_statuspage_and_the_unclaimed_one_is_not() -> None:
    corpus_file("statuspage-html")  # skip where ../shared is absent
    with LoopbackServer() as site:
        for i, name in enumerate(REAL_STATUSPAGE):
            site.set(f"/real{i}", capture(name), content_type=HTML)
        # An unclaimed subdomain answers every path with the same marketing HTML, the API path included.
        site.set("/unclaimed", capture(UNCLAIMED), content_type=HTML)
        site.set("/unclaimed/api/v2/summary.json", capture(UNCLAIMED), content_type=HTML)
        found = probe_all(site, [f"/real{i}" for i in range(len(REAL_STATUSPAGE))] + ["/unclaimed"])
    for i, name in enumerate(REAL_STATUSPAGE):
        assert (found[f"/real{i}"].verdict, found[f"/real{i}"].platform) == (Verdict.ok, "statuspage"), name
    unclaimed = found["/unclaimed"]
    assert unclaimed.verdict == Verdict.unclaimed, unclaimed.reasons
    assert "Statuspage | Atlassian" in unclaimed.reasons[-1] and "nobody claimed" in unclaimed.reasons[-1]
    assert unclaimed.api_url is None and unclaimed.feed_url is None


def test_a_redirect_to_the_platforms_marketing_site_is_unclaimed() -> None:
    with LoopbackServer() as marketing, LoopbackServer() as site:
        # Where the redirect lands cannot be atlassian.com on loopback: the capture is served there,
        # and its title and canonical link give it away.
        marketing.set("/software/statuspage", capture(UNCLAIMED), content_type=HTML)
        site.set("/", b"", status=302, headers={"Location": marketing.url("/software/statuspage")})
        site.set("/api/v2/summary.json", b"", status=302, headers={"Location": marketing.url("/software/statuspage")})
        found = probe_all(site, ["/"])["/"]
    assert found.verdict == Verdict.unclaimed, found.reasons


def test_pages_that_are_not_status_pages() -> None:
    with LoopbackServer() as site:
        site.set("/product", STATUS_PRODUCT_PAGE, content_type=HTML)
        site.set("/marketing", (FIXTURES / "detect" / "marketing.html").read_bytes(), content_type=HTML)
        site.set("/title-only", TITLE_ONLY_PAGE, content_type=HTML)
        site.set("/private", LOGIN_PAGE, content_type=HTML)
        site.set("/walled", b"", status=302, headers={"Location": "/login?ReturnUrl=%2Fwalled"})
        site.set("/login", LOGIN_PAGE, content_type=HTML)
        site.set("/statuspage-login", (FIXTURES / "detect" / "statuspage-login.html").read_bytes(), content_type=HTML)
        site.set("/moved-away", b"", status=302, headers={"Location": "/inactive"})
        site.set("/inactive", b"<html><head><title>Acme</title></head><body>gone</body></html>", content_type=HTML)
        found = probe_all(site, ["/product", "/marketing", "/title-only", "/private", "/walled", "/statuspage-login",
                                 "/moved-away"])
    product = found["/product"]
    assert (product.verdict, product.platform) == (Verdict.not_status_page, None), product.reasons
    assert "marketing page" in product.reasons[-1]
    assert found["/marketing"].verdict == Verdict.not_status_page
    assert found["/title-only"].verdict == Verdict.not_status_page, found["/title-only"].reasons
    assert found["/private"].verdict == Verdict.login_required
    assert found["/walled"].verdict == Verdict.login_required, found["/walled"].reasons
    assert (found["/statuspage-login"].verdict, found["/statuspage-login"].platform) == (Verdict.login_required,
                                                                                         "statuspage")
    assert found["/moved-away"].verdict == Verdict.page_inactive, found["/moved-away"].reasons


def test_the_inactive_capture_is_inactive() -> None:
    corpus_file("statuspage-html")
    with LoopbackServer() as site:
        site.set("/gfi", capture("page-inactive-2021-01.html"), content_type=HTML)
        found = probe_all(site, ["/gfi"])["/gfi"]
    assert (found.verdict, found.platform) == (Verdict.page_inactive, "statuspage")


def test_a_generic_page_needs_components_with_a_state() -> None:
    page = b"""<html><head><title>Example Hosting - Network Status</title></head><body><table>
<tr><td>Web</td><td>Operational</td></tr><tr><td>Mail</td><td>Partial outage</td></tr></table></body></html>"""
    with LoopbackServer() as site:
        site.set("/net", page, content_type=HTML)
        found = probe_all(site, ["/net"])["/net"]
    assert (found.verdict, found.platform) == (Verdict.ok, "html")
    assert "2 state cells" in found.reasons[-1]


@pytest.mark.parametrize("name", REAL_STATUSPAGE)
def test_captures_carry_statuspage_markers_and_no_placeholder(name: str) -> None:
    from aggregator.catalog.detect import read_html

    facts = read_html(capture(name), "https://status.example.com")
    assert "statuspage" in facts.hints and facts.platform_placeholder is None


def test_a_claimed_but_inactive_page_answering_401_is_inactive_not_a_login() -> None:
    # microsoft.statuspage.io as w6w-apps measured it: HTTP 401, "Your page is inactive".
    body = b"<html><head><title>Microsoft</title></head><body><h1>Your page is inactive</h1></body></html>"
    with LoopbackServer() as site:
        site.set("/ms", body, status=401, content_type=HTML)
        site.set("/ms/api/v2/summary.json", body, status=401, content_type=HTML)
        site.set("/locked", b"<html><body>Authorization required</body></html>", status=401, content_type=HTML)
        found = probe_all(site, ["/ms", "/locked"])
    assert found["/ms"].verdict == Verdict.page_inactive, found["/ms"].reasons
    assert found["/locked"].verdict == Verdict.login_required


def test_a_redirect_to_a_localised_marketing_page_is_unclaimed() -> None:
    from aggregator.catalog.detect import Detector, Response

    url = "https://acme.statuspage.io"
    detector = Detector(url)
    marketing = "https://www.atlassian.com/ja/software/statuspage"
    for probe in detector.next_probes():
        detector.feed(probe.key, Response(url=probe.url, status=200, body=b"<html></html>", final_url=marketing))
    found = detector.result()
    assert (found.verdict, found.platform) == (Verdict.unclaimed, "statuspage")
    assert marketing in found.reasons[-1]


def test_add_refuses_an_unclaimed_page_and_names_what_it_is(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from aggregator.cli.main import main

    corpus_file("statuspage-html")
    with LoopbackServer() as site:
        site.set("/", capture(UNCLAIMED), content_type=HTML)
        code = main(["--db", str(tmp_path / "up.db"), "add", site.url("/")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "not a live status page (unclaimed:" in err and "nothing added" in err
