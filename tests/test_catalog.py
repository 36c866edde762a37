"""The shipped catalog row by row, lookup and search, the user TOML, verification end to end against
loopback servers, and the catalog CLI commands."""

from __future__ import annotations

import asyncio
import collections
import csv
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import typer

from aggregator.adapters import load_adapters
from aggregator.catalog import data as cat
from aggregator.catalog.data import (
    CATALOG_CSV,
    CATEGORIES,
    FIELDS,
    PLATFORMS,
    AmbiguousName,
    Catalog,
    Entry,
    UnknownProvider,
    add_user_entry,
    load_catalog,
    normalise_url,
    read_csv,
)
from aggregator.catalog.ids import squash
from aggregator.cli.catalog import register
from aggregator.core import open_store
from aggregator.errors import CatalogError
from tests.conftest import FIXTURES, REPO, SHARED, corpus_file
from tests.loopback import LoopbackServer

ROWS = read_csv(CATALOG_CSV)


def load_tool() -> object:
    spec = importlib.util.spec_from_file_location("build_catalog", REPO / "tools" / "build_catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


TOOL = load_tool()


@pytest.fixture(autouse=True)
def no_user_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets an empty config dir: the developer's own catalog.toml never leaks in."""
    config = tmp_path / "config"
    monkeypatch.setenv("UPSTREAM_CONFIG_DIR", str(config))
    return config


# ------------------------------------------------------------------------------------------------
# Every row of the shipped catalog
# ------------------------------------------------------------------------------------------------

def test_header_and_size() -> None:
    with CATALOG_CSV.open(newline="") as handle:
        assert tuple(next(csv.reader(handle))) == FIELDS
    assert len(ROWS) >= 4000


def test_ids_are_unique_slugs() -> None:
    ids = [e.id for e in ROWS]
    assert len(ids) == len(set(ids))
    bad = [i for i in ids if not cat.ID_RE.fullmatch(i)]
    assert not bad


def test_urls_are_normalised_https_and_unique() -> None:
    keys: dict[str, str] = {}
    for e in ROWS:
        parts = urlsplit(e.url)
        assert parts.scheme == "https" and parts.hostname and "." in parts.hostname, e
        assert not parts.query and not parts.fragment and not e.url.endswith("/"), e
        assert normalise_url(e.url) == e.url, e
        key = f"{parts.hostname.removeprefix('www.')}{parts.path}"
        assert key not in keys, f"{e.id} and {keys[key]} are the same page"
        keys[key] = e.id
    # An alternative URL of one row is never another row's page.
    for e in ROWS:
        for alt in e.alt_urls:
            parts = urlsplit(alt)
            assert keys.get(f"{parts.hostname.removeprefix('www.')}{parts.path}") in (None, e.id), (e.id, alt)


def test_platforms_are_known() -> None:
    used = {e.platform for e in ROWS}
    assert used <= PLATFORMS
    # Adapters registered so far all carry names the catalog knows (PLATFORMS lists the module stems).
    assert set(load_adapters()) <= PLATFORMS | {"statuspage-compatible"}


def test_categories_come_from_the_fixed_list() -> None:
    assert 20 <= len(CATEGORIES) <= 30
    assert {e.category for e in ROWS} <= set(CATEGORIES)


def test_page_ids_fit_their_platform_and_are_unique() -> None:
    shapes = {"statuspage": r"[0-9a-z]{12}", "incidentio": r"[0-9A-HJKMNP-TV-Z]{26}", "statusio": r"[0-9a-f]{24}",
              "betterstack": r"\d+", "sorry": r"\d+", "uptimerobot": r"[A-Za-z0-9_-]{3,64}", "uptimecom": r"[a-z0-9-]+"}
    seen: dict[str, str] = {}
    for e in ROWS:
        if not e.page_id:
            continue
        assert e.platform in shapes and re.fullmatch(shapes[e.platform], e.page_id), e
        assert e.page_id not in seen, f"{e.id} and {seen[e.page_id]} share page id {e.page_id}"
        seen[e.page_id] = e.id
    assert len(seen) >= 200


def test_every_row_lists_its_sources_and_their_evidence() -> None:
    sources = TOOL.SOURCES  # type: ignore[attr-defined]
    for e in ROWS:
        assert e.sources and set(e.sources) <= set(sources), e
        # One evidence item per source, "<strength>:<source>[@<when>]", strongest first.
        named = [item.split(":", 1)[1].split("@")[0] for item in e.evidence]
        assert sorted(named) == sorted(e.sources), e
        for item in e.evidence:
            strength, source = item.split(":", 1)
            assert strength == sources[source.split("@")[0]][0], item
        ranks = [cat.STRENGTHS.index(item.split(":", 1)[0]) for item in e.evidence]
        assert ranks == sorted(ranks), e
        if e.feed_url:
            assert e.feed_url.startswith("https://"), e


def test_confidence_follows_the_rule_in_the_readme() -> None:
    """verified: a live probe read this page as this platform; curated: a captured, polled or
    curated source, or two weak lists; unverified otherwise, and always when the platform has no
    evidence. A row whose only evidence is a machine guess is never curated."""
    for e in ROWS:
        kinds = collections.Counter(item.split(":", 1)[0] for item in e.evidence)
        assert e.confidence in cat.CONFIDENCES, e
        if e.platform_from == "none":
            assert e.confidence == "unverified", e
        elif e.confidence == "verified":
            assert kinds["probed"], e
        elif e.confidence == "curated":
            assert kinds["captured"] or kinds["polled"] or kinds["curated"] or kinds["listed"] >= 2, e
            assert not e.platform_from.startswith("guess:") or e.platform_from == "guess:host", e
        else:
            assert not (kinds["captured"] or kinds["polled"] or kinds["curated"] or kinds["listed"] >= 2) or \
                e.platform_from == "none" or e.platform_from.startswith("guess:"), e
        if set(kinds) == {"guess"}:
            assert e.confidence == "unverified", e


def test_a_platform_from_the_host_name_alone_is_marked_a_guess() -> None:
    from aggregator.catalog.detect import host_platform

    for e in ROWS:
        if e.platform_from == "guess:host":  # the row's host, or the hosted alias it was listed under
            assert any(host_platform(u) or TOOL.platform_of_host(u) for u in (e.url, *e.alt_urls)), e  # type: ignore[attr-defined]
        elif e.platform_from not in {"none"}:
            strength, source = e.platform_from.split(":", 1)
            assert source in e.sources and strength == TOOL.SOURCES[source][0], e  # type: ignore[attr-defined]
    guessed = [e for e in ROWS if e.url.endswith(".statuspage.io") and set(e.sources) <= {"statuscraft",
                                                                                         "statuscraft-batch"}]
    assert guessed and all(e.confidence == "unverified" for e in guessed)


def test_no_two_rows_for_one_host() -> None:
    """Hosts that serve several distinct pages by path (regional pages) are the only exception."""
    by_host: dict[str, list[str]] = collections.defaultdict(list)
    for e in ROWS:
        by_host[(urlsplit(e.url).hostname or "").removeprefix("www.")].append(e.id)
    shared = {host: ids for host, ids in by_host.items() if len(ids) > 1}
    assert set(shared) <= TOOL.PATH_PAGES_HOSTS, shared  # type: ignore[attr-defined]


def test_decoys_are_gone_and_dead_vendors_marked() -> None:
    decoys = TOOL.W6W_DECOY_HOSTS  # type: ignore[attr-defined]
    for e in ROWS:
        for url in (e.url, *e.alt_urls):
            host = (urlsplit(url).hostname or "").removeprefix("www.")
            assert host not in decoys, (e.id, url)
            assert host not in TOOL.THIRD_PARTY_HOSTS, (e.id, url)  # type: ignore[attr-defined]
    by_id = Catalog(ROWS).by_id
    assert "JFrog" in by_id["bintray"].defunct and by_id["equinix-metal"].defunct
    assert not by_id["github"].defunct
    # One vendor under several names is one row: renames, acquisitions, a company and its cloud.
    assert "Jira Service Desk" in by_id["jira-service-management"].aliases and "jira-service-desk" not in by_id
    assert {"hetzner-cloud", "nexmo", "balena-io", "lambda-labs", "spark"}.isdisjoint(by_id)
    # Famous vendors in the right category, and few left in "Other".
    for pid, category in TOOL.CATEGORY_FIXES.items():  # type: ignore[attr-defined]
        if pid in by_id:
            assert by_id[pid].category == category
    assert sum(1 for e in ROWS if e.category == "Other") < 0.04 * len(ROWS)


def test_defunct_rows_are_never_followed() -> None:
    class Store:
        def __init__(self) -> None:
            self.added: list[str] = []

        def providers(self) -> list[dict[str, str]]:
            return []

        def add_provider(self, pid: str, **_: object) -> None:
            self.added.append(pid)

    store = Store()
    with pytest.raises(CatalogError, match="bintray is defunct"):
        cat.follow(store, ["bintray", "github"], Catalog(ROWS))
    assert store.added == []
    _, skipped = cat.follow_all(store, Catalog([e for e in ROWS if e.id in {"bintray", "github"}]))
    assert store.added == ["github"] and skipped[0][0] == "bintray" and "defunct" in skipped[0][1]


def test_aliases_never_shadow_another_vendors_name() -> None:
    names = collections.Counter(squash(e.name) for e in ROWS)
    for e in ROWS:
        for alias in e.aliases:
            assert alias.strip() == alias and alias
            assert names[squash(alias)] == 0, (e.id, alias)


def test_counts_per_category_and_platform_are_sensible() -> None:
    categories = collections.Counter(e.category for e in ROWS)
    platforms = collections.Counter(e.platform for e in ROWS)
    assert all(categories[c] >= 20 for c in CATEGORIES if c != "Other"), categories  # Other: the unplaceable
    assert categories["Other"] < 0.05 * len(ROWS)
    assert platforms["statuspage"] > 0.5 * len(ROWS)  # the prevalence docs/platforms.md §1 reports
    for bespoke in ("gcp", "aws", "azure", "slack", "heroku", "salesforce", "apple", "stripe"):
        assert platforms[bespoke] >= 1, bespoke
    for hosted in ("incidentio", "instatus", "betterstack", "statusio"):
        assert platforms[hosted] >= 10, hosted
    confidence = collections.Counter(e.confidence for e in ROWS)
    assert confidence["curated"] >= 300


@pytest.mark.parametrize(("pid", "platform", "url"), [
    ("aws", "aws", "https://health.aws.amazon.com/health/status"),
    ("google-cloud", "gcp", "https://status.cloud.google.com"),
    ("azure", "azure", "https://azure.status.microsoft/en-us/status"),
    ("slack", "slack", "https://slack-status.com"),
    ("heroku", "heroku", "https://status.heroku.com"),
    ("salesforce", "salesforce", "https://status.salesforce.com"),
    ("apple", "apple", "https://www.apple.com/support/systemstatus"),
    ("stripe", "stripe", "https://status.stripe.com"),
    ("github", "statuspage", "https://www.githubstatus.com"),
    ("openai", "incidentio", "https://status.openai.com"),
    ("gitlab", "statusio", "https://status.gitlab.com"),
])
def test_well_known_vendors_have_the_right_platform(pid: str, platform: str, url: str) -> None:
    entry = Catalog(ROWS).get(pid)
    assert entry is not None and (entry.platform, entry.url) == (platform, url)
    assert entry.confidence in {"verified", "curated"}


@pytest.mark.slow
def test_the_build_is_deterministic_and_matches_the_shipped_file(tmp_path: Path) -> None:
    if not (SHARED / "catalog" / "sources").is_dir():
        pytest.skip("../shared/catalog is absent")
    out = tmp_path / "catalog.csv"
    assert TOOL.main(["--out", str(out), "--quiet"]) == 0  # type: ignore[attr-defined]
    assert out.read_bytes() == CATALOG_CSV.read_bytes()


def test_duplicates_are_merged() -> None:
    by_id = Catalog(ROWS).by_id
    # A Statuspage id seen under its custom domain: one row, the alias kept as an alternative.
    assert "https://1k6wzpspjf99.statuspage.io" in by_id["datadog"].alt_urls
    # A renamed vendor: the old host and name are kept on the new row.
    assert "https://status.sendinblue.com" in by_id["brevo"].alt_urls
    assert "Sendinblue" in by_id["brevo"].aliases
    # Same name, different URLs of one vendor: one row.
    assert sum(1 for e in ROWS if squash(e.name) == "slack") == 1
    # Same name, different companies: kept apart.
    assert {"circle", "circle-com"} <= set(by_id)


# ------------------------------------------------------------------------------------------------
# Search and lookup
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "pid"), [
    ("AWS", "aws"), ("amazon web services", "aws"), ("GCP", "google-cloud"), ("Google Cloud", "google-cloud"),
    ("GitHub", "github"), ("github", "github"), ("Slack", "slack"), ("Stripe", "stripe"), ("OpenAI", "openai"),
    ("ChatGPT", "openai"), ("Twilio", "twilio"), ("Datadog", "datadog"), ("Azure", "azure"),
    ("Sendinblue", "brevo"), ("Heroku", "heroku"), ("Salesforce", "salesforce"), ("cloudflare", "cloudflare"),
    ("githubstatus.com", "github"), ("Claude", "anthropic"),
])
def test_search_finds_well_known_vendors_first(word: str, pid: str) -> None:
    hits = load_catalog().search(word, 5)
    assert hits and hits[0].entry.id == pid, [h.entry.id for h in hits]


def test_search_orders_exact_prefix_then_fuzzy() -> None:
    hits = load_catalog().search("cloudfl", 5)
    assert hits[0].entry.id == "cloudflare" and hits[0].score == 90
    typo = load_catalog().search("githbu", 5)
    assert "github" in [h.entry.id for h in typo]
    assert all(h.score < 80 for h in typo if h.entry.id == "github")
    assert load_catalog().search("", 5) == []
    assert len(load_catalog().search("status", 7)) == 7


def test_resolve_id_name_alias_and_errors() -> None:
    c = load_catalog()
    assert c.resolve("aws").id == "aws"
    assert c.resolve("Amazon Web Services").id == "aws"
    assert c.resolve("GCP").id == "google-cloud"
    with pytest.raises(AmbiguousName) as amb:
        c.resolve("Circle")
    assert {e.id for e in amb.value.candidates} == {"circle", "circle-com"}
    assert "circle-com" in str(amb.value)
    with pytest.raises(UnknownProvider) as unknown:
        c.resolve("githubbb")
    assert "github" in [e.id for e in unknown.value.suggestions]
    assert "did you mean" in str(unknown.value)


def test_list_and_categories() -> None:
    c = load_catalog()
    counts = c.categories()
    assert list(counts) == list(CATEGORIES)
    assert sum(counts.values()) == len(c)
    ai = c.list_entries(category="ai & ml")
    assert len(ai) == counts["AI & ML"] and "openai" in {e.id for e in ai}
    assert {e.platform for e in c.list_entries(platform="incidentio")} == {"incidentio"}
    assert len(c.list_entries(category="devtools", platform="statusio")) >= 2
    with pytest.raises(CatalogError):
        c.list_entries(category="Knitting")
    with pytest.raises(CatalogError):
        c.list_entries(platform="nope")


# ------------------------------------------------------------------------------------------------
# The user's catalog.toml
# ------------------------------------------------------------------------------------------------

def test_user_toml_overrides_and_adds(no_user_catalog: Path) -> None:
    no_user_catalog.mkdir(parents=True)
    (no_user_catalog / "catalog.toml").write_text(
        '[providers.github]\nname = "GitHub (work)"\naliases = ["Octocat"]\n\n'
        '[providers.acme]\nname = "Acme"\nurl = "http://Status.Acme.example/"\nplatform = "statuspage"\n'
        'category = "devtools"\n', encoding="utf-8")
    c = load_catalog()
    github = c.get("github")
    assert github is not None and github.user
    assert (github.name, github.url, github.platform) == ("GitHub (work)", "https://www.githubstatus.com", "statuspage")
    assert github.confidence == "verified" and github.sources[-1] == "user"
    assert c.resolve("Octocat").id == "github"
    acme = c.resolve("acme")
    # The scheme it was given is kept (issue 16: a plain-http internal page must stay http).
    assert (acme.url, acme.confidence, acme.sources) == ("http://status.acme.example", "unverified", ("user",))
    assert acme.category == "DevTools & CI/CD"
    assert len(c) == len(ROWS) + 1
    assert c.search("acme", 3)[0].entry.id == "acme"


def test_user_entries_win_ties_and_can_make_names_ambiguous(no_user_catalog: Path) -> None:
    add_user_entry("Slack", "https://status.my-slack-mirror.example", "statuspage", provider_id="slack-mirror",
                   category="Email & Communication")
    c = load_catalog()
    assert [h.entry.id for h in c.search("Slack", 2)] == ["slack-mirror", "slack"]
    with pytest.raises(AmbiguousName):
        c.resolve("Slack")
    assert c.resolve("slack").id == "slack"  # an exact id always wins


def test_add_user_entry_validates_and_round_trips(no_user_catalog: Path) -> None:
    entry = add_user_entry("Initech", "status.initech.example/", "incidentio", category="collaboration",
                           aliases=["TPS"])
    assert (entry.id, entry.url, entry.category) == ("initech", "https://status.initech.example",
                                                      "Collaboration & Productivity")
    assert load_catalog().resolve("TPS").id == "initech"
    text = (no_user_catalog / "catalog.toml").read_text()
    assert "[providers.initech]" in text
    with pytest.raises(CatalogError, match="unknown platform"):
        add_user_entry("Bad", "https://status.bad.example", "myspace")
    with pytest.raises(CatalogError, match="unknown category"):
        add_user_entry("Bad", "https://status.bad.example", "statuspage", category="Knitting")
    with pytest.raises(CatalogError, match="http"):
        add_user_entry("Bad", "ftp://status.bad.example", "statuspage")
    assert "bad" not in (no_user_catalog / "catalog.toml").read_text()


@pytest.mark.parametrize(("body", "message"), [
    ("[providers.zz-new]\nname = 'X'\n", "needs url, platform"),
    ("[providers.github]\ncolour = 'red'\n", "unknown keys colour"),
    ("[providers.github]\naliases = 'GH'\n", "aliases must be a list"),
    ("[providers.Bad_Id]\nname='x'\nurl='https://x.example'\nplatform='html'\n", "bad id"),
    ("not toml at all [", "not valid TOML"),
])
def test_broken_user_toml_is_a_clear_error(no_user_catalog: Path, body: str, message: str) -> None:
    no_user_catalog.mkdir(parents=True)
    (no_user_catalog / "catalog.toml").write_text(body, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog()


# ------------------------------------------------------------------------------------------------
# follow / unfollow through the store interface
# ------------------------------------------------------------------------------------------------

class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, object]] = {}

    def add_provider(self, provider_id: str, *, name: str, url: str, platform: str,
                     category: str | None = None) -> None:
        self.rows[provider_id] = {"id": provider_id, "name": name, "url": url, "platform": platform,
                                  "category": category}

    def remove_provider(self, provider_id: str) -> bool:
        return self.rows.pop(provider_id, None) is not None

    def get_provider(self, provider_id: str) -> dict[str, object] | None:
        return self.rows.get(provider_id)


def test_follow_and_unfollow() -> None:
    store = FakeStore()
    followed = cat.follow(store, ["AWS", "github", "ChatGPT"])
    assert [e.id for e in followed] == ["aws", "github", "openai"]
    assert store.rows["openai"]["platform"] == "incidentio"
    assert store.rows["aws"]["category"] == "Cloud & Hosting"
    with pytest.raises(AmbiguousName):
        cat.follow(store, ["stripe", "Circle"])
    assert "stripe" not in store.rows  # all or nothing
    assert cat.unfollow(store, ["aws", "ChatGPT", "stripe"]) == [("aws", True), ("openai", True), ("stripe", False)]
    with pytest.raises(UnknownProvider):
        cat.unfollow(store, ["no-such-vendor-anywhere"])


# ------------------------------------------------------------------------------------------------
# Verification end to end against loopback servers
# ------------------------------------------------------------------------------------------------

def serve_catalog_pages(site: LoopbackServer, other: LoopbackServer) -> None:
    html = "text/html"
    site.set("/ok", b"<html><head><title>Acme Status</title></head></html>", content_type=html)
    site.set("/ok/api/v2/summary.json", corpus_file("statuspage", "github-summary-2026-07-minified.json").read_bytes())
    site.set("/mismatch", (FIXTURES / "detect" / "incidentio.html").read_bytes(), content_type=html)
    site.set("/mismatch/api/v2/summary.json",
             corpus_file("incidentio", "openai-statuspage-compat-summary-2026-07.json").read_bytes())
    site.set("/moved", b"", status=301, headers={"Location": other.url("/new")})
    site.set("/moved/api/v2/summary.json", b"", status=301, headers={"Location": other.url("/new/api/v2/summary.json")})
    other.set("/new", b"<html><head><title>Moved Co Status</title></head></html>", content_type=html)
    other.set("/new/api/v2/summary.json",
              corpus_file("statuspage", "twilio-summary-2020-incidents-maintenances.json").read_bytes())
    site.set("/login", (FIXTURES / "detect" / "statuspage-login.html").read_bytes(), content_type=html)
    lines = corpus_file("statuspage-html", "page-inactive-2021-01.html").read_bytes().split(b"\n")
    site.set("/inactive", b"\n".join(x for x in lines if not x.startswith(b"```")), content_type=html)
    site.set("/marketing", (FIXTURES / "detect" / "marketing.html").read_bytes(), content_type=html)


def local_catalog(site: LoopbackServer, dead_url: str) -> list[Entry]:
    def entry(pid: str, url: str, platform: str = "statuspage") -> Entry:
        return Entry(id=pid, name=pid.title(), url=url, platform=platform, category="Other",
                     confidence="curated", sources=("test",))

    return [entry("ok", site.url("/ok")), entry("mismatch", site.url("/mismatch")),
            entry("moved", site.url("/moved"), "html"), entry("login", site.url("/login")),
            entry("inactive", site.url("/inactive")), entry("marketing", site.url("/marketing")),
            entry("gone", site.url("/gone")), entry("dead", dead_url)]


EXPECTED = {"ok": "ok", "mismatch": "platform_mismatch", "moved": "moved", "login": "login_only",
            "inactive": "inactive", "marketing": "not_status_page", "gone": "dead", "dead": "unreachable"}


def test_verify_end_to_end_and_write(tmp_path: Path) -> None:
    from aggregator.http import HttpClient

    with LoopbackServer() as closed:
        dead_url = closed.url("/status")
    with LoopbackServer() as site, LoopbackServer() as other:
        serve_catalog_pages(site, other)
        entries = local_catalog(site, dead_url)
        seen: list[str] = []

        async def run() -> list[cat.VerifyResult]:
            async with HttpClient(timeout=5) as http:
                return await cat.verify(entries, http, concurrency=3, on_done=lambda r: seen.append(r.entry.id))

        results = asyncio.run(run())
        assert {r.entry.id: r.outcome for r in results} == EXPECTED
        assert sorted(seen) == sorted(EXPECTED)
        by_id = {r.entry.id: r for r in results}
        assert by_id["mismatch"].platform == "incidentio"
        assert by_id["moved"].detection.moved_to == other.url("/new")

        path = tmp_path / "catalog.csv"
        cat.write_csv(entries, path)
        assert cat.write_verification(path, results) == []
        after = {e.id: e for e in read_csv(path)}
    assert after["ok"].confidence == "verified" and after["ok"].page_id == "kctbh9vrtdwd"
    assert after["ok"].platform_from == after["ok"].evidence[0] == f"probed:verify@{cat.today()}"
    assert (after["mismatch"].platform, after["mismatch"].page_id) == ("incidentio", "01JMDK9XYNY6RXSED6SDWW50WY")
    assert after["moved"].url == other.url("/new") and after["moved"].platform == "statuspage"
    assert site.url("/moved") in after["moved"].alt_urls
    for failed in ("login", "inactive", "marketing", "gone", "dead"):  # one failed probe is no proof
        assert after[failed] == next(e for e in entries if e.id == failed)  # untouched


def test_a_move_onto_another_rows_url_is_not_applied() -> None:
    from aggregator.catalog.detect import Detection, Verdict

    a = Entry(id="a", name="A", url="https://status.a.example", platform="statuspage")
    b = Entry(id="b", name="B", url="https://status.b.example", platform="statuspage")
    moved = Detection(url=a.url, verdict=Verdict.moved, platform="statuspage", base_url=b.url, moved_to=b.url)
    rows, notes = cat.apply_verification([a, b], [cat.VerifyResult(a, "moved", moved)])
    assert rows[0].url == a.url and rows[0].confidence == "verified"
    assert notes and "already has" in notes[0]


# ------------------------------------------------------------------------------------------------
# The CLI commands
# ------------------------------------------------------------------------------------------------

def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = {"db": None}

    register(app)
    try:
        result = app(args=args, standalone_mode=False, prog_name="upstream")
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_search_list_show_categories(capsys: pytest.CaptureFixture[str]) -> None:
    import orjson

    code, out, err = run_cli(["providers", "search", "GCP", "--json", "--limit", "3"], capsys)
    assert code == 0 and orjson.loads(out)[0]["id"] == "google-cloud"
    code, out, _ = run_cli(["providers", "search", "stripe"], capsys)
    assert code == 0 and "status.stripe.com" in out
    code, out, err = run_cli(["providers", "search", "qqqqzzzzxxxx"], capsys)
    assert code == 1 and err.startswith("upstream: error: no provider matches") and err.count("\n") == 1
    code, out, _ = run_cli(["providers", "show", "AWS", "--json"], capsys)
    assert orjson.loads(out)["platform"] == "aws"
    code, out, _ = run_cli(["providers", "show", "aws"], capsys)
    assert code == 0 and "health.aws.amazon.com" in out
    code, _, err = run_cli(["providers", "show", "Circle"], capsys)
    assert code == 1 and "names 2 providers" in err and "Traceback" not in err
    code, out, _ = run_cli(["providers", "list", "--platform", "statusio", "--json"], capsys)
    assert {e["platform"] for e in orjson.loads(out)} == {"statusio"}
    code, _, err = run_cli(["providers", "list", "--category", "Knitting"], capsys)
    assert code == 1 and "unknown category" in err
    code, out, _ = run_cli(["categories", "--json"], capsys)
    assert list(orjson.loads(out)) == list(CATEGORIES)


def test_cli_platforms(capsys: pytest.CaptureFixture[str]) -> None:
    import orjson

    code, out, _ = run_cli(["platforms", "--json"], capsys)
    rows = {r["platform"]: r for r in orjson.loads(out)}
    assert code == 0 and rows["statuspage"]["title"] == "Atlassian Statuspage"
    assert "components" in rows["statuspage"]["reads"]


def test_cli_detect_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import orjson

    with LoopbackServer() as closed:
        dead_url = closed.url("/status")
    with LoopbackServer() as site, LoopbackServer() as other:
        serve_catalog_pages(site, other)
        code, out, _ = run_cli(["detect", site.url("/ok"), "--json", "--timeout", "5"], capsys)
        assert code == 0 and orjson.loads(out)["page_id"] == "kctbh9vrtdwd"
        code, out, err = run_cli(["detect", site.url("/marketing"), "--timeout", "5"], capsys)
        assert code == 1 and "not_status_page" in err and "verdict" in out
        path = tmp_path / "catalog.csv"
        cat.write_csv(local_catalog(site, dead_url), path)
        code, out, err = run_cli(["catalog", "verify", "--catalog", str(path), "--json", "--write",
                                  "--concurrency", "4", "--timeout", "5"], capsys)
        assert code == 0, err
        assert {r["id"]: r["outcome"] for r in orjson.loads(out)} == EXPECTED
        code, out, err = run_cli(["catalog", "verify", "ok", "gone", "--catalog", str(path)], capsys)
        assert code == 0 and "1 dead, 1 ok" in err
    assert {e.id: e.confidence for e in read_csv(path)}["mismatch"] == "verified"


def test_cli_follow_unfollow_with_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("UPSTREAM_DB", str(tmp_path / "u.db"))
    code, out, err = run_cli(["follow", "AWS", "GitHub"], capsys)
    assert code == 0, err
    assert "following aws" in out and "following github" in out

    with open_store(tmp_path / "u.db") as store:
        assert store.get_provider("github")["platform"] == "statuspage"
    code, _, err = run_cli(["follow", "Circle"], capsys)
    assert code == 1 and "names 2 providers" in err
    code, out, _ = run_cli(["unfollow", "aws"], capsys)
    assert code == 0 and "unfollowed aws" in out
    code, _, err = run_cli(["unfollow", "aws"], capsys)
    assert code == 1 and "not following aws" in err


def test_query_commands_do_not_import_the_http_or_parsing_stack() -> None:
    code = ("import sys; from aggregator.cli.catalog import providers_search; "
            "from aggregator.catalog.data import load_catalog; load_catalog().search('aws', 10); "
            "load_catalog().search('githb', 10); "
            "heavy = [m for m in ('httpx', 'aiohttp', 'feedparser', 'bs4', 'pydantic') if m in sys.modules]; "
            "print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == ""
