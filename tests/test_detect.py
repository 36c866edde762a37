"""Detection: shapes of real captured responses, HTML markers, host rules, verdicts, and the async
driver end to end against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from aggregator.catalog.detect import (
    ApiRoots,
    Detector,
    Response,
    Verdict,
    detect,
    detect_offline,
    host_platform,
    is_feed,
    read_feed,
    read_html,
    read_json_shape,
)
from aggregator.page.reading import load_json
from tests.conftest import FIXTURES, corpus_file
from tests.loopback import LoopbackServer

DETECT = FIXTURES / "detect"


def corpus_bytes(*parts: str) -> bytes:
    return corpus_file(*parts).read_bytes()


def corpus_html(name: str) -> bytes:
    """A statuspage-html capture without the crawler's triple-backtick fence lines (see corpus notes)."""
    lines = corpus_bytes("statuspage-html", name).split(b"\n")
    return b"\n".join(line for line in lines if not line.startswith(b"```"))


def fixture(name: str) -> bytes:
    return (DETECT / name).read_bytes()


def ok(url: str, body: bytes, final_url: str | None = None, status: int = 200) -> Response:
    return Response(url=url, status=status, body=body, final_url=final_url or url)


# ------------------------------------------------------------------------------------------------
# JSON shapes of real captures
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "platform", "page_id"), [
    (("statuspage", "github-summary-2026-07-minified.json"), "statuspage", "kctbh9vrtdwd"),
    (("statuspage", "github-summary-2022-11-25-packages-incident.json"), "statuspage", "kctbh9vrtdwd"),
    (("statuspage", "twilio-summary-2020-incidents-maintenances.json"), "statuspage", "gpkpyklzq55q"),
    (("statuspage", "instructure-summary-incident.json"), "statuspage", "nlxv32btr6v7"),
    (("statuspage", "box-components.json"), "statuspage", "208q92hckwws"),
    (("statuspage", "coinbase-components.json"), "statuspage", "kr0djjh0jyy9"),
    (("incidentio", "openai-statuspage-compat-summary-2026-07.json"), "incidentio", "01JMDK9XYNY6RXSED6SDWW50WY"),
    (("instatus", "gcore-summary-2026-09-scheduled-maintenances.json"), "instatus", None),
    (("instatus", "instatus-demo-summary-2025-10-two-open-incidents.json"), "instatus", None),
    (("betterstack", "betterstack-index-2026-09-trimmed.json"), "betterstack", "133002"),
    (("cstate", "torproject-index-2025-05-all-ok-edited.json"), "cstate", None),
    (("statusio", "docker-status-2022-04.json"), "statusio", None),
    (("statusio", "gitlab-status-2020-09-maintenance.json"), "statusio", None),
    (("cachet", "cachet-demo-components-2026-09.json"), "cachet", None),
])
def test_real_documents_are_named_by_shape(path: tuple[str, str], platform: str, page_id: str | None) -> None:
    found = read_json_shape(load_json(corpus_bytes(*path)), "/x.json")
    assert found is not None
    assert found.platform == platform
    assert found.page_id == page_id
    assert found.reason


@pytest.mark.parametrize("path", [
    ("slack", "slack-current-2020-07-active-incidents.json"),
    ("heroku", "heroku-current-status-2019-10-incident.json"),
    ("instatus", "gcore-v3-components-2026-09-truncated.json"),
    ("statuspage", "claude-scheduled-maintenances-2026-09.json"),
    ("apple", "apple-developer-system-status-2021-06-no-issues-minified.json"),
])
def test_other_documents_are_not_taken_for_a_platform_summary(path: tuple[str, str]) -> None:
    assert read_json_shape(load_json(corpus_bytes(*path)), "/x.json") is None


def test_statuspage_compatible_shape_with_an_unusual_page_id() -> None:
    doc = {"page": {"id": "page-1", "name": "Rootly"}, "status": {"indicator": "none"}}
    found = read_json_shape(doc, "/api/v2/summary.json")
    assert found is not None and found.platform == "statuspage"
    assert "neither a Statuspage id nor a ULID" in found.reason


# ------------------------------------------------------------------------------------------------
# HTML facts
# ------------------------------------------------------------------------------------------------

def test_statuspage_html_gives_page_id_canonical_and_feeds() -> None:
    facts = read_html(corpus_html("python-infra-status-2021-01-unresolved-incident.html"),
                      "https://2p66nmmycsj3.statuspage.io/")
    assert set(facts.hints) >= {"statuspage"}
    assert facts.statuspage_id == "2p66nmmycsj3"
    assert facts.canonical == "https://status.python.org"
    assert "https://2p66nmmycsj3.statuspage.io/history.atom" in facts.feeds
    assert facts.name == "Python Infrastructure"
    assert not facts.inactive and not facts.login_title


def test_inactive_statuspage_html_is_flagged() -> None:
    facts = read_html(corpus_html("page-inactive-2021-01.html"), "https://64rgldn77lv0.statuspage.io/")
    assert facts.inactive
    assert facts.statuspage_id == "64rgldn77lv0"
    assert facts.name == "GFI Software"


@pytest.mark.parametrize(("name", "platform"), [
    ("incidentio.html", "incidentio"),
    ("instatus.html", "instatus"),
    ("betterstack.html", "betterstack"),
    ("statusio.html", "statusio"),
    ("sorry.html", "sorry"),
    ("cstate.html", "cstate"),
    ("statuspage-login.html", "statuspage"),
])
def test_authored_pages_carry_their_platform_hint(name: str, platform: str) -> None:
    facts = read_html(fixture(name), "https://status.example.com/")
    assert platform in facts.hints


def test_statusio_id_is_read_from_the_html() -> None:
    assert read_html(fixture("statusio.html"), "https://status.gitlab.com/").statusio_id == "5b36dc6502d06804c08349f7"


def test_non_status_pages_carry_no_hint() -> None:
    for name in ("marketing.html", "spa-shell.html", "not-found.html", "generic-login.html"):
        facts = read_html(fixture(name), "https://www.example.com/")
        assert facts.hints == {}, name


# ------------------------------------------------------------------------------------------------
# Host rules and feeds
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "platform"), [
    ("https://kctbh9vrtdwd.statuspage.io", "statuspage"),
    ("https://acme.instatus.com", "instatus"),
    ("https://acme.betteruptime.com", "betterstack"),
    ("https://acme.hund.io", "hund"),
    ("https://acme.statuspal.io", "statuspal"),
    ("https://status.cloud.google.com/", "gcp"),
    ("https://health.aws.amazon.com/health/status", "aws"),
    ("https://status.aws.amazon.com", "aws"),
    ("https://azure.status.microsoft/en-us/status", "azure"),
    ("https://slack-status.com", "slack"),
    ("https://status.slack.com", "slack"),
    ("https://status.heroku.com", "heroku"),
    ("https://status.salesforce.com", "salesforce"),
    ("https://trust.salesforce.com", "salesforce"),
    ("https://www.apple.com/support/systemstatus/", "apple"),
    ("https://status.stripe.com", "stripe"),
    ("https://www.githubstatus.com", None),
    ("https://www.apple.com/iphone/", None),
])
def test_host_rules(url: str, platform: str | None) -> None:
    assert host_platform(url) == platform


@pytest.mark.parametrize("path", [
    ("statuspage", "digitalocean-history-2019-10.atom"),
    ("statuspage", "digitalocean-history-2020-01.rss"),
    ("statuspage", "parse-history-2014.rss"),
    ("incidentio", "openai-feed-atom-2026-08-31.atom"),
    ("aws", "aws-status-all-rss-2023-02-empty.rss"),
    ("azure", "azure-status-feed-2026-09-empty-healthy.xml"),
])
def test_real_feeds_are_recognised(path: tuple[str, str]) -> None:
    assert is_feed(corpus_bytes(*path))


def test_feed_facts() -> None:
    facts = read_feed(corpus_bytes("incidentio", "openai-feed-atom-2026-08-31.atom"))
    assert facts.generator == "incident.io"
    assert facts.title == "OpenAI status"
    assert facts.link == "https://status.openai.com/"
    assert not is_feed(corpus_html("zoom-status-2021-01.html"))


# ------------------------------------------------------------------------------------------------
# Whole detections over captured responses
# ------------------------------------------------------------------------------------------------

def test_statuspage_from_summary_needs_only_the_first_round() -> None:
    url = "https://www.githubstatus.com"
    responses = {url: ok(url, b"<html><head><title>GitHub Status</title></head></html>"),
                 f"{url}/api/v2/summary.json": ok(f"{url}/api/v2/summary.json",
                                                  corpus_bytes("statuspage", "github-summary-2026-07-minified.json"))}
    detector = Detector(url)
    first = detector.next_probes()
    assert [p.url for p in first] == [url, f"{url}/api/v2/summary.json"]
    for probe in first:
        detector.feed(probe.key, responses[probe.url])
    assert detector.next_probes() == []
    found = detector.result()
    assert (found.verdict, found.platform, found.page_id, found.name) == (Verdict.ok, "statuspage", "kctbh9vrtdwd",
                                                                          "GitHub")
    assert found.api_url == f"{url}/api/v2/summary.json"
    assert found.feed_url == f"{url}/history.atom"
    assert found.base_url == url


def test_statuspage_alias_host_gives_the_custom_domain_as_canonical() -> None:
    url = "https://2p66nmmycsj3.statuspage.io"
    found = detect_offline(url, {url: ok(url, corpus_html("python-infra-status-2021-01-unresolved-incident.html"))})
    assert found.verdict == Verdict.ok and found.platform == "statuspage"
    assert found.page_id == "2p66nmmycsj3"
    assert found.base_url == "https://status.python.org"
    assert any("not confirmed" in r for r in found.reasons)


def test_statuspage_html_alone_is_statuspage_unconfirmed() -> None:
    url = "https://status.zoom.us"
    found = detect_offline(url, {url: ok(url, corpus_html("zoom-status-2021-01.html"))})
    assert (found.verdict, found.platform, found.page_id) == (Verdict.ok, "statuspage", "14qjgk812kgk")
    assert found.base_url == url


def test_page_inactive() -> None:
    url = "https://64rgldn77lv0.statuspage.io"
    found = detect_offline(url, {url: ok(url, corpus_html("page-inactive-2021-01.html"))})
    assert (found.verdict, found.platform, found.page_id) == (Verdict.page_inactive, "statuspage", "64rgldn77lv0")
    assert found.api_url is None
    assert "inactive" in found.reasons[-1]


def test_statuspage_audience_specific_login() -> None:
    url = "https://status.acme-internal.example"
    found = detect_offline(url, {url: ok(url, fixture("statuspage-login.html")),
                                 f"{url}/api/v2/summary.json": ok(url, fixture("statuspage-login.html"))})
    assert (found.verdict, found.platform) == (Verdict.login_required, "statuspage")
    assert "login" in found.reasons[-1]


def test_generic_password_page_is_login_required() -> None:
    url = "https://portal.acme.example"
    found = detect_offline(url, {url: ok(url, fixture("generic-login.html"))})
    assert found.verdict == Verdict.login_required
    assert found.platform is None


def test_http_401_is_login_required_and_404_unreachable() -> None:
    url = "https://status.acme.example"
    assert detect_offline(url, {url: ok(url, b"", status=401)}).verdict == Verdict.login_required
    gone = detect_offline(url, {url: ok(url, fixture("not-found.html"), status=404)})
    assert gone.verdict == Verdict.unreachable
    assert "HTTP 404" in gone.reasons[-1]


def test_connection_failure_is_unreachable() -> None:
    url = "https://status.nowhere.example"
    failed = Response(url=url, error="connection refused or failed (Cannot connect)")
    found = detect_offline(url, {url: failed, f"{url}/api/v2/summary.json": failed})
    assert found.verdict == Verdict.unreachable
    assert "connection refused" in found.reasons[-1]


def test_marketing_page_is_not_a_status_page() -> None:
    url = "https://www.acme-crm.example"
    found = detect_offline(url, {url: ok(url, fixture("marketing.html"))})
    assert (found.verdict, found.platform) == (Verdict.not_status_page, None)
    assert "does not read like a status page" in found.reasons[-1]


def test_spa_shell_answering_every_path_proves_nothing() -> None:
    url = "https://status.shell.example"
    shell = fixture("spa-shell.html")
    paths = ["", "/api/v2/summary.json", "/summary.json", "/index.json", "/api/v1/status"]
    found = detect_offline(url, {f"{url}{p}": ok(f"{url}{p}", shell) for p in paths})
    assert (found.verdict, found.platform) == (Verdict.not_status_page, None)
    assert "empty shell" in found.reasons[-1]


def test_spa_shell_with_a_json_endpoint_is_found_by_the_fallback_probes() -> None:
    url = "https://status.gcore.com"
    shell = fixture("spa-shell.html")
    responses = {f"{url}{p}": ok(f"{url}{p}", shell) for p in ("", "/api/v2/summary.json", "/index.json",
                                                                 "/api/v1/status")}
    responses[f"{url}/summary.json"] = ok(f"{url}/summary.json",
                                          corpus_bytes("instatus", "gcore-summary-2026-09-scheduled-maintenances.json"))
    found = detect_offline(url, responses)
    assert (found.verdict, found.platform, found.name) == (Verdict.ok, "instatus", "Gcore")
    assert found.api_url == f"{url}/summary.json"


def test_incidentio_page() -> None:
    url = "https://status.openai.com"
    found = detect_offline(url, {
        url: ok(url, fixture("incidentio.html")),
        f"{url}/api/v2/summary.json": ok(url, corpus_bytes("incidentio", "openai-statuspage-compat-summary-2026-07.json")),
    })
    assert (found.verdict, found.platform, found.page_id) == (Verdict.ok, "incidentio", "01JMDK9XYNY6RXSED6SDWW50WY")
    # The feed the page advertises (on its canonical host), not a guess.
    assert found.feed_url == "https://status.acme.example/feed.atom"


def test_incidentio_html_without_the_compat_api_is_incidentio_unconfirmed() -> None:
    url = "https://status.acme.example"
    found = detect_offline(url, {url: ok(url, fixture("incidentio.html"))})
    assert (found.verdict, found.platform) == (Verdict.ok, "incidentio")
    assert "not confirmed" in found.reasons[-1]


def test_instatus_answers_on_the_statuspage_path_too() -> None:
    url = "https://instatus.instatus.com"
    found = detect_offline(url, {
        url: ok(url, fixture("instatus.html")),
        f"{url}/api/v2/summary.json": ok(url, corpus_bytes("instatus", "instatus-demo-summary-2025-10-two-open-incidents.json")),
    })
    assert (found.verdict, found.platform) == (Verdict.ok, "instatus")


def test_betterstack_via_index_json_after_a_redirect_to_en() -> None:
    url = "https://status.betterstack.com"
    body = corpus_bytes("betterstack", "betterstack-index-2026-09-trimmed.json")
    found = detect_offline(url, {
        url: ok(url, fixture("betterstack.html")),
        f"{url}/api/v2/summary.json": ok(url, fixture("betterstack.html")),
        f"{url}/index.json": ok(f"{url}/index.json", body, final_url=f"{url}/en/index.json"),
    })
    assert (found.verdict, found.platform, found.page_id, found.name) == (Verdict.ok, "betterstack", "133002",
                                                                          "Better Stack")
    assert found.feed_url == f"{url}/feed.rss"


def test_statusio_confirmed_through_its_api() -> None:
    url = "https://status.gitlab.com"
    api = "https://api.status.io/1.0/status/5b36dc6502d06804c08349f7"
    found = detect_offline(url, {url: ok(url, fixture("statusio.html")),
                                 api: ok(api, corpus_bytes("statusio", "gitlab-status-2020-09-maintenance.json"))})
    assert (found.verdict, found.platform, found.page_id) == (Verdict.ok, "statusio", "5b36dc6502d06804c08349f7")
    assert found.api_url == api
    assert found.feed_url == "https://status.gitlab.com/pages/5b36dc6502d06804c08349f7/rss"


def test_cstate_and_sorry() -> None:
    url = "https://status.torproject.org"
    found = detect_offline(url, {url: ok(url, fixture("cstate.html")),
                                 f"{url}/index.json": ok(url, corpus_bytes("cstate", "torproject-index-2025-05-all-ok-edited.json"))})
    assert (found.verdict, found.platform, found.name) == (Verdict.ok, "cstate", "Tor Project status")
    url = "https://status.postmarkapp.com"
    found = detect_offline(url, {url: ok(url, fixture("sorry.html")),
                                 f"{url}/api/v1/status": ok(url, fixture("sorry-status.json"))})
    assert (found.verdict, found.platform, found.name) == (Verdict.ok, "sorry", "Postmark")


def test_page_with_only_a_feed_is_platform_feed() -> None:
    url = "https://www.example-hosting.example/status"
    feed = "https://www.example-hosting.example/status/feed.xml"
    found = detect_offline(url, {url: ok(url, fixture("hand-written-with-feed.html")),
                                 feed: ok(feed, fixture("hand-written-feed.xml"))})
    assert (found.verdict, found.platform, found.feed_url) == (Verdict.ok, "feed", feed)
    assert found.base_url == url


def test_page_with_a_dead_feed_and_status_words_is_generic_html() -> None:
    url = "https://www.example-hosting.example/status"
    found = detect_offline(url, {url: ok(url, fixture("hand-written-with-feed.html"))})
    assert (found.verdict, found.platform) == (Verdict.ok, "html")
    assert any("did not answer with RSS/Atom" in r for r in found.reasons)


def test_a_feed_url_is_platform_feed() -> None:
    url = "https://status.digitalocean.com/history.atom"
    found = detect_offline(url, {url: ok(url, corpus_bytes("statuspage", "digitalocean-history-2019-10.atom"))})
    assert (found.verdict, found.platform, found.feed_url, found.base_url) == (Verdict.ok, "feed", url, url)


def test_bespoke_hosts_are_settled_by_the_host_rule() -> None:
    url = "https://status.cloud.google.com"
    found = detect_offline(url, {url: ok(url, b"<html><title>Google Cloud Service Health</title></html>")})
    assert (found.verdict, found.platform) == (Verdict.ok, "gcp")
    assert found.api_url == "https://status.cloud.google.com/incidents.json"
    url = "https://status.aws.amazon.com"
    found = detect_offline(url, {url: ok(url, b"<html></html>", final_url="https://health.aws.amazon.com/health/status")})
    # Another host, even of the same vendor, is a move worth reporting (the catalog URL is stale).
    assert (found.verdict, found.platform, found.moved_to) == (Verdict.moved, "aws",
                                                               "https://health.aws.amazon.com/health/status")


def test_redirect_to_another_host_is_moved_and_followed() -> None:
    url = "https://status.sendinblue.com"
    new = "https://status.brevo.com/"
    found = detect_offline(url, {
        url: ok(url, b"<html><title>Brevo Status</title></html>", final_url=new),
        f"{url}/api/v2/summary.json": ok(url, corpus_bytes("incidentio", "openai-statuspage-compat-summary-2026-07.json"),
                                         final_url="https://status.brevo.com/api/v2/summary.json"),
    })
    assert (found.verdict, found.platform) == (Verdict.moved, "incidentio")
    assert found.moved_to == "https://status.brevo.com"
    assert found.base_url == "https://status.brevo.com"
    assert "redirects to another host" in found.reasons[0]


def test_redirect_where_the_old_api_path_is_lost_probes_the_new_host() -> None:
    url = "https://status.old.example"
    new = "https://status.new.example"
    summary = corpus_bytes("statuspage", "github-summary-2026-07-minified.json")
    found = detect_offline(url, {
        url: ok(url, b"<html><title>x</title></html>", final_url=new + "/"),
        f"{url}/api/v2/summary.json": ok(url, b"<html><title>x</title></html>", final_url=new + "/"),
        f"{new}/api/v2/summary.json": ok(f"{new}/api/v2/summary.json", summary),
    })
    assert (found.verdict, found.platform, found.base_url) == (Verdict.moved, "statuspage", new)


def test_bad_input_url() -> None:
    assert detect_offline("ftp://x.example", {}).verdict == Verdict.unreachable
    with pytest.raises(ValueError):
        Detector("ftp://x.example/status")


def test_detector_refuses_unasked_responses_and_early_results() -> None:
    detector = Detector("status.example.com")
    assert detector.url == "https://status.example.com"
    with pytest.raises(KeyError):
        detector.feed("page", Response(url="x"))
    detector.next_probes()
    with pytest.raises(RuntimeError):
        detector.result()


# ------------------------------------------------------------------------------------------------
# End to end: the async driver against real HTTP servers on 127.0.0.1
# ------------------------------------------------------------------------------------------------

def serve_platforms(site: LoopbackServer, moved_to: LoopbackServer) -> None:
    html = "text/html"
    site.set("/github", b"<html><head><title>GitHub Status</title></head></html>", content_type=html)
    site.set("/github/api/v2/summary.json", corpus_bytes("statuspage", "github-summary-2026-07-minified.json"))
    site.set("/openai", fixture("incidentio.html"), content_type=html)
    site.set("/openai/api/v2/summary.json", corpus_bytes("incidentio", "openai-statuspage-compat-summary-2026-07.json"))
    # An Instatus SPA shell: the same HTML on every path, the JSON only at /summary.json.
    for path in ("/gcore", "/gcore/api/v2/summary.json", "/gcore/index.json", "/gcore/api/v1/status"):
        site.set(path, fixture("spa-shell.html"), content_type=html)
    site.set("/gcore/summary.json", corpus_bytes("instatus", "gcore-summary-2026-09-scheduled-maintenances.json"))
    # Better Stack: soft 200 everywhere, index.json redirects to /en/index.json.
    for path in ("/bstack", "/bstack/api/v2/summary.json"):
        site.set(path, fixture("betterstack.html"), content_type=html)
    site.set("/bstack/index.json", b"", status=302, headers={"Location": "/bstack/en/index.json"})
    site.set("/bstack/en/index.json", corpus_bytes("betterstack", "betterstack-index-2026-09-trimmed.json"))
    site.set("/gitlab", fixture("statusio.html"), content_type=html)
    site.set("/statusio-api/1.0/status/5b36dc6502d06804c08349f7",
             corpus_bytes("statusio", "gitlab-status-2020-09-maintenance.json"))
    site.set("/tor", fixture("cstate.html"), content_type=html)
    site.set("/tor/index.json", corpus_bytes("cstate", "torproject-index-2025-05-all-ok-edited.json"))
    site.set("/postmark", fixture("sorry.html"), content_type=html)
    site.set("/postmark/api/v1/status", fixture("sorry-status.json"))
    site.set("/hosting", fixture("hand-written-with-feed.html"), content_type=html)
    site.set("/status/feed.xml", fixture("hand-written-feed.xml"), content_type="application/rss+xml")
    site.set("/inactive", corpus_html("page-inactive-2021-01.html"), content_type=html)
    site.set("/private", fixture("statuspage-login.html"), content_type=html)
    site.set("/marketing", fixture("marketing.html"), content_type=html)
    site.set("/feed.atom", corpus_bytes("statuspage", "digitalocean-history-2019-10.atom"),
             content_type="application/atom+xml")
    # Moved: the old path redirects to another host (another port), which serves Statuspage.
    site.set("/old", b"", status=301, headers={"Location": moved_to.url("/new")})
    site.set("/old/api/v2/summary.json", b"", status=301, headers={"Location": moved_to.url("/new")})
    moved_to.set("/new", corpus_html("zoom-status-2021-01.html"), content_type=html)
    moved_to.set("/new/api/v2/summary.json", corpus_bytes("statuspage", "twilio-summary-2020-incidents-maintenances.json"))


def test_async_driver_end_to_end() -> None:
    corpus_file("statuspage")  # skip where ../shared is absent
    from aggregator.http import HttpClient

    with LoopbackServer() as site, LoopbackServer() as other, LoopbackServer() as dead:
        serve_platforms(site, other)
        dead_url = dead.url("/status")
    # ``dead`` is stopped: its port now refuses connections.
    with LoopbackServer() as site, LoopbackServer() as other:
        serve_platforms(site, other)
        apis = ApiRoots(statusio=site.url("/statusio-api/1.0/status/"))
        cases = {
            "/github": (Verdict.ok, "statuspage"),
            "/openai": (Verdict.ok, "incidentio"),
            "/gcore": (Verdict.ok, "instatus"),
            "/bstack": (Verdict.ok, "betterstack"),
            "/gitlab": (Verdict.ok, "statusio"),
            "/tor": (Verdict.ok, "cstate"),
            "/postmark": (Verdict.ok, "sorry"),
            "/hosting": (Verdict.ok, "feed"),
            "/feed.atom": (Verdict.ok, "feed"),
            "/inactive": (Verdict.page_inactive, "statuspage"),
            "/private": (Verdict.login_required, "statuspage"),
            "/marketing": (Verdict.not_status_page, None),
            "/gone": (Verdict.unreachable, None),
            "/old": (Verdict.moved, "statuspage"),
        }

        async def run_all() -> dict[str, object]:
            async with HttpClient(timeout=5) as http:
                urls = [site.url(path) for path in cases] + [dead_url]
                found = await asyncio.gather(*(detect(u, http, apis) for u in urls))
            return dict(zip([*cases, "dead"], found, strict=True))

        results = asyncio.run(run_all())
        for path, (verdict, platform) in cases.items():
            got = results[path]
            assert (got.verdict, got.platform) == (verdict, platform), (path, got.reasons)
        assert results["dead"].verdict == Verdict.unreachable
        assert results["/github"].page_id == "kctbh9vrtdwd"
        assert results["/gitlab"].page_id == "5b36dc6502d06804c08349f7"
        assert results["/bstack"].page_id == "133002"
        assert results["/hosting"].feed_url == site.url("/status/feed.xml")
        assert results["/old"].moved_to == other.url("/new")
        assert results["/old"].page_id == "gpkpyklzq55q"
        # Cheap order: a Statuspage page costs exactly the first round of two GETs.
        assert sorted(p for p, _ in site.hits if p.startswith("/github")) == ["/github", "/github/api/v2/summary.json"]


def test_detect_url_sync_wrapper_against_loopback() -> None:
    from aggregator.catalog.detect import detect_url

    with LoopbackServer() as site:
        site.set("/p", b"<html><head><title>Acme</title></head></html>", content_type="text/html")
        site.set("/p/api/v2/summary.json", b'{"page":{"id":"abcdefghij12","name":"Acme"},"status":{"indicator":"none"}}')
        found = detect_url(site.url("/p"), timeout=5)
    assert (found.verdict, found.platform, found.page_id, found.name) == (Verdict.ok, "statuspage", "abcdefghij12",
                                                                          "Acme")

