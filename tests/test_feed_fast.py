"""The fast RSS/Atom reader (providers.feed_fast) against feedparser: same text, same Snapshot.

Every comparison runs both readers on the same body: ``read_feed(body, fast=False)`` (feedparser)
and ``read_feed_fast(body)`` (None when it declines), and through the adapters with the module
switch ``providers.feed.FAST_PATH`` on and off. The two FeedDocuments are compared with each
entry's HTML reduced to its text (``strip_html``): the fast reader's HTML is nh3's serialization,
not feedparser's, but it must carry the same text, and every Snapshot built from it must be equal.
Acceptance is counted so that a fast path that always declined (and so always agreed) would fail.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import providers.feed as feed
import providers.feed_fast as feed_fast
from aggregator.errors import AdapterError, ParseError
from aggregator.page.adapter import Adapter
from aggregator.page.reading import strip_html
from benchmarks.farm import atom_feed, platform_of
from providers.feed import FeedAdapter, FeedDocument, read_feed, read_feed_fast
from providers.statuspage import StatuspageAdapter
from providers.vendors.aws import AwsAdapter
from providers.vendors.azure import AzureAdapter
from tests.conftest import CORPUS, FIXTURES, REPO

HYPOTHESIS = settings(
    max_examples=int(os.environ.get("UPSTREAM_FEED_EXAMPLES", "200")),
    deadline=None,
    derandomize=not os.environ.get("UPSTREAM_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def fast_path(enabled: bool) -> Iterator[None]:
    saved = feed.FAST_PATH
    feed.FAST_PATH = enabled
    try:
        yield
    finally:
        feed.FAST_PATH = saved


def outcome(adapter: Adapter, key: str, body: bytes, *, fast: bool) -> Any:
    """The Snapshot the adapter builds, or the error it raises (type and message)."""
    with fast_path(fast):
        try:
            return adapter.parse({key: body}, "https://status.example.com")
        except AdapterError as exc:
            return (type(exc).__name__, str(exc))


def as_text(doc: Any) -> Any:
    """A FeedDocument with each entry's HTML reduced to the text in it (what must be equal)."""
    if not isinstance(doc, FeedDocument):
        return doc
    return dataclasses.replace(doc, entries=[dataclasses.replace(e, html=strip_html(e.html)) for e in doc.entries])


def slow_document(body: bytes) -> Any:
    try:
        return as_text(read_feed(body, fast=False))
    except AdapterError as exc:
        return (type(exc).__name__, str(exc))


UNSAFE_RE = re.compile(r"<\s*(script|style|iframe|object|embed|svg|math)\b|\son[a-z]+\s*=|javascript:|vbscript:", re.I)


def assert_safe(doc: FeedDocument) -> None:
    for entry in doc.entries:
        assert not UNSAFE_RE.search(entry.html), entry.html


# ------------------------------------------------------------------------------------------------
# Every feed in the corpus and in fixtures/
# ------------------------------------------------------------------------------------------------

FEED_SUFFIXES = {".atom", ".rss", ".xml"}
_FEED_ROOT_RE = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]")


def is_feed_file(path: Path) -> bool:
    if path.suffix in FEED_SUFFIXES:
        return True
    with path.open("rb") as handle:  # a feed body saved under another name
        return bool(_FEED_ROOT_RE.search(handle.read(2048)))


def feed_files() -> list[Path]:
    roots = [FIXTURES] + ([CORPUS] if CORPUS.is_dir() else [])
    return sorted(p for root in roots for p in root.rglob("*")
                  if p.is_file() and p.name not in {"PROVENANCE.tsv", "README.md"} and is_feed_file(p))


FEED_FILES = feed_files()
HOSTILE = {"billion-laughs.xml", "external-entity.xml"}  # refused before any parser runs


def readers(path: Path) -> list[tuple[Adapter, str]]:
    """Every adapter that reads this file through providers.feed.read_feed."""
    found: list[tuple[Adapter, str]] = [(FeedAdapter(), "feed")]
    if "statuspage" in path.parts:
        found.append((StatuspageAdapter(), "feed"))
    if "aws" in path.parts:
        found.append((AwsAdapter(), "rss"))
    if "azure" in path.parts:
        found.append((AzureAdapter(), "feed"))
    return found


def test_the_feed_files_are_all_found() -> None:
    names = {p.name for p in FEED_FILES}
    assert {"keywords.rss", "statuspage-year-boundary.atom", "incidentio-open.atom", "feed.atom",
            "all-open.rss", "feed-active-events.xml", "hand-written-feed.xml"} | HOSTILE <= names
    if CORPUS.is_dir():
        rows = (CORPUS / "PROVENANCE.tsv").read_text().splitlines()[1:]
        listed = {row.split("\t")[0] for row in rows if Path(row.split("\t")[0]).suffix in FEED_SUFFIXES}
        assert len(listed) >= 7
        assert {p.relative_to(CORPUS).as_posix() for p in FEED_FILES if CORPUS in p.parents} == listed


@pytest.mark.parametrize("path", FEED_FILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_fast_and_feedparser_agree_on_every_feed_file(path: Path) -> None:
    body = path.read_bytes()
    fast_doc = read_feed_fast(body)
    if fast_doc is not None:
        assert_safe(fast_doc)
        assert as_text(fast_doc) == slow_document(body)
    for adapter, key in readers(path):
        assert outcome(adapter, key, body, fast=True) == outcome(adapter, key, body, fast=False), adapter.platform


def test_fast_path_accepts_the_ordinary_feeds() -> None:
    accepted = {p for p in FEED_FILES if read_feed_fast(p.read_bytes()) is not None}
    # Every ordinary feed (Statuspage Atom/RSS of 2014-2020, incident.io Atom, AWS and Azure RSS,
    # hand-written RSS) is read fast; only the hostile DTD documents are not.
    assert {p.name for p in FEED_FILES} - {p.name for p in accepted} == HOSTILE
    fixtures = [p for p in accepted if FIXTURES in p.parents]
    corpus = [p for p in accepted if CORPUS in p.parents]
    assert len(fixtures) >= 7
    if CORPUS.is_dir():
        assert len(corpus) >= 7  # 2 Statuspage RSS, 1 Statuspage Atom, 1 incident.io Atom, 2 AWS, 1 Azure


# ------------------------------------------------------------------------------------------------
# The benchmark farm's feeds
# ------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_farm_feeds_agree_and_are_all_read_fast() -> None:
    pages = [i for i in range(2000) if platform_of(i) == "feed"][:60] + list(range(140))
    checked = 0
    for i in pages:
        base = f"http://127.0.0.1:{9000 + i % 20}/p/{i}"
        for version in (0, 4):
            body = atom_feed(i, base, version)
            fast_doc = read_feed_fast(body)
            assert fast_doc is not None, (i, version)
            assert as_text(fast_doc) == slow_document(body), (i, version)
            adapter = FeedAdapter()
            assert outcome(adapter, "feed", body, fast=True) == outcome(adapter, "feed", body, fast=False)
            checked += 1
    assert checked == 400


# ------------------------------------------------------------------------------------------------
# Generated feeds
# ------------------------------------------------------------------------------------------------

WORDS = ["Resolved", "Investigating", "Monitoring", "maintenance", "completed", "API", "Q&A", "AT&T",
         "&amp;", "&lt;b&gt;", "&nbsp;", "&#8211;", "&#150;", "Ã©", "é", "\u2019", "\u00a0", "\x85",
         "<", ">", "'", '"', "a < b", "x & y", "&", "&foo;", "&A.B", "  ", "\n", "\r\n", "100%",
         "https://status.example.com/incidents/ab12cd34", "Oct 30, 23:05 UTC", "]]>", "\U0001f525"]
HTML_PIECES = [
    "<p><small>Oct <var data-var='date'>30</var>, <var data-var='time'>23:05</var> UTC</small>"
    "<br><strong>Resolved</strong> - ",
    "<p><small>Jan  1, 09:09 PST</small><br><strong>Identified</strong> - ", "</p>",
    "<b>Status: Identified</b><br/><br/>", "<b>Affected components</b><ul><li>API (Degraded performance)</li>",
    "<li>Login (Operational)</li></ul>", "<br />", "<br>", "<P CLASS='x'>", "<a href=\"https://x.example/?a=1&amp;b=2\">",
    "<a href='javascript:alert(1)'>", "</a>", "<img src=\"x.png\" alt=\"y\"/>", "<script>alert(1)</script>",
    "<style>p {}</style>", "<iframe src=x></iframe>", "<!-- note -->", "<span style=\"color: red\">", "</span>",
    "<font face=\"x\" color=\"red\">", "<var>", "</var>", "<p/>", "<x:y/>", "< p>", "&#39;", "&#x2013;",
]
DATES = ["Wed, 15 Dec 2021 12:16:32 PST", "Sat, 11 Jan 2020 11:57:20 +0000", "2019-10-30T23:05:12Z",
         "2026-08-31T22:16:04.352Z", "2026-09-02T10:00:00+02:00", "Mon, 07 Sep 2026 06:52:00 Z",
         "2004-02-28T18:14:55-08:00", "yesterday", "", "  2021-01-01T00:00:00Z  ", "Thu, 01 Jan 1970 00:00:00 GMT",
         "2026-13-45T25:61:61Z", "1735689600", "Tue, 04 Aug 2026 10:01:00 PDT"]

text_runs = st.lists(st.one_of(st.sampled_from(WORDS), st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_categories=("Cs",)), max_size=8)),
    max_size=5).map(" ".join)
html_runs = st.lists(st.one_of(st.sampled_from(HTML_PIECES), text_runs), max_size=7).map("".join)


def xml_text(draw: Any, text: str) -> str:
    """Text as element content: escaped, or in CDATA where it can be."""
    if "]]>" not in text and draw(st.booleans()):
        return f"<![CDATA[{text}]]>"
    return escape(text)


@st.composite
def optional(draw: Any, strategy: st.SearchStrategy[str], name: str, attrs: str = "") -> str:
    if not draw(st.booleans()):
        return ""
    return f"<{name}{attrs}>{xml_text(draw, draw(strategy))}</{name}>"


@st.composite
def atom_entries(draw: Any) -> str:
    parts = []
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["", ' type="html"', ' type="text"', ' type="HTML"']))
        parts.append(draw(optional(html_runs if "html" in kind.lower() else text_runs, "title", kind)))
    parts.append(draw(optional(st.sampled_from(WORDS[-4:-1] + ["tag:x,2005:Incident/1", "", "http:///x"]), "id")))
    for _ in range(draw(st.integers(0, 2))):
        rel = draw(st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="ALTERNATE"', ' rel="related"']))
        kind = draw(st.sampled_from(["", ' type="text/html"', ' type="application/json"']))
        href = draw(st.sampled_from(["https://status.example.com/incidents/w4j2nj1trtsg",
                                     "https://status.example.io//incidents/01M2A", "", "x?a=1&amp;b=2"]))
        parts.append(f'<link{rel}{kind} href="{href}"/>')
    parts.append(draw(optional(st.sampled_from(DATES), "published")))
    parts.append(draw(optional(st.sampled_from(DATES), "updated")))
    for name in draw(st.permutations(["summary", "content"])):
        kind = draw(st.sampled_from([' type="html"', "", ' type="text"']))
        parts.append(draw(optional(html_runs if "html" in kind else text_runs, name, kind)))
    for _ in range(draw(st.integers(0, 2))):
        parts.append(f"<category term={quoteattr(draw(text_runs))}/>")
    if draw(st.integers(0, 9)) == 5:
        parts.append("<author><name>Ops</name><email>ops@example.com</email></author>")
    parts = draw(st.permutations(parts))
    return "<entry>" + "".join(parts) + "</entry>"


@st.composite
def rss_items(draw: Any) -> str:
    parts = [draw(optional(html_runs if draw(st.booleans()) else text_runs, "title"))]
    if draw(st.booleans()):
        permalink = draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"']))
        guid = draw(st.sampled_from(["https://status.example.com/incidents/ab12", "acme-412", "", "http:///x"]))
        parts.append(f"<guid{permalink}>{escape(guid)}</guid>")
    parts.append(draw(optional(st.sampled_from(["https://status.example.com/incidents/zz9",
                                                "https://x.example/?a=1&amp;b=2&c;=3", ""]), "link")))
    parts.append(draw(optional(st.sampled_from(DATES), "pubDate")))
    parts.append(draw(optional(html_runs, "description")))
    parts.append(draw(optional(html_runs, "content:encoded")))
    for _ in range(draw(st.integers(0, 2))):
        domain = draw(st.sampled_from(["", ' domain="region"']))
        parts.append(draw(optional(text_runs, "category", domain)) or f"<category{domain}/>")
    parts = draw(st.permutations(parts))
    return "<item>" + "".join(parts) + "</item>"


# Things the fast reader declines, spliced in now and then so that fallbacks are exercised too.
DECLINED = ['<x:date xmlns:x="http://purl.org/dc/elements/1.1/">2026-01-01</x:date>', "<unknown>1</unknown>",
            '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title>']


@st.composite
def feeds(draw: Any) -> bytes:
    declaration = draw(st.sampled_from(['<?xml version="1.0" encoding="utf-8"?>\n', "",
                                        "<?xml version='1.0' encoding='UTF-8'?>", '<?xml version="1.0"?>']))
    head = [draw(optional(text_runs, "title")), draw(optional(st.sampled_from(["incident.io", "Statuspage"]),
                                                              "generator"))]
    if draw(st.booleans()):
        entries = "".join(draw(st.lists(atom_entries(), max_size=4)))
        head += [draw(optional(st.sampled_from(DATES), "updated")),
                 draw(optional(st.sampled_from(["https://status.example.com/", "tag:x,2005:/history"]), "id")),
                 draw(st.sampled_from(['<link rel="alternate" href="https://status.example.com"/>', "",
                                       '<link rel="self" href="https://status.example.com/history.atom"/>']))]
        extra = draw(st.sampled_from(DECLINED)) if draw(st.integers(0, 9)) == 5 else ""
        lang = draw(st.sampled_from(["", ' xml:lang="en-US"']))
        body = (f'<feed xmlns="http://www.w3.org/2005/Atom"{lang}>' + "".join(draw(st.permutations(head)))
                + extra + entries + "</feed>")
    else:
        entries = "".join(draw(st.lists(rss_items(), max_size=4)))
        head += [draw(optional(st.sampled_from(DATES), "lastBuildDate")),
                 draw(optional(st.sampled_from(DATES), "pubDate")),
                 draw(optional(st.sampled_from(["https://status.example.com", "", "x?a=1&amp;b=2&c;=3"]),
                               "link")),
                 draw(st.sampled_from(["", "<description>Statuspage</description>", "<ttl>5</ttl>",
                                       '<atom:link href="https://status.example.com/feed" rel="self"/>']))]
        extra = draw(st.sampled_from(DECLINED)) if draw(st.integers(0, 9)) == 5 else ""
        body = ('<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
                'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
                + "".join(draw(st.permutations(head))) + extra + entries + "</channel></rss>")
    return (declaration + body).encode("utf-8")


@pytest.mark.slow
def test_generated_feeds_agree_whenever_the_fast_path_accepts() -> None:
    counts = {"accepted": 0, "declined": 0, "entries": 0}

    @HYPOTHESIS
    @given(feeds())
    def check(body: bytes) -> None:
        slow = slow_document(body)
        fast_doc = read_feed_fast(body)
        adapter = FeedAdapter()
        if fast_doc is None:
            counts["declined"] += 1
        else:
            counts["accepted"] += 1
            counts["entries"] += len(fast_doc.entries)
            assert_safe(fast_doc)
            assert as_text(fast_doc) == slow
        # Accepted or not, what the adapter makes of the body does not depend on the switch.
        assert outcome(adapter, "feed", body, fast=True) == outcome(adapter, "feed", body, fast=False)

    check()
    total = counts["accepted"] + counts["declined"]
    assert counts["accepted"] >= total // 3, counts  # most generated feeds are ordinary
    assert counts["declined"] >= 1 and counts["entries"] >= total // 5, counts


MARKUP = st.lists(st.one_of(st.sampled_from(HTML_PIECES + WORDS), st.text("<>&;#/ \"'=abpxA1-.\n", max_size=6)),
                  max_size=10).map("".join)


HOSTILE_HTML = ['<a href="javascript:alert(1)">x</a>', "<a href='JaVaScRiPt:alert(1)'>y</a>",
                '<a href=" javascript:alert(1)">z</a>', '<img src="x.png" onerror="alert(1)"/>',
                '<b onclick="alert(1)">bold</b>', '<a href="vbscript:msgbox(1)">v</a>',
                '<img src="javascript:alert(1)">', '<p onmouseover="x()">p</p>', "<script>alert(1)</script>"]
HOSTILE_MARKUP = st.lists(st.one_of(st.sampled_from(HTML_PIECES + WORDS + HOSTILE_HTML),
                                    st.text("<>&;#/ \"'=abpxA1-.\n", max_size=6)), max_size=10).map("".join)


def test_sanitized_html_is_safe_and_has_feedparsers_text() -> None:
    """HTML in an RSS description: what the fast reader keeps is safe and reads as feedparser's."""
    counts = {"accepted": 0, "declined": 0, "cleaned": 0}

    @HYPOTHESIS
    @given(HOSTILE_MARKUP)
    def check(source: str) -> None:
        body = rss(f"<title>A</title><description>{escape(source)}</description>")
        fast_doc = read_feed_fast(body)
        if fast_doc is None:
            counts["declined"] += 1
            return
        counts["accepted"] += 1
        counts["cleaned"] += any(fast_doc.entries) and fast_doc.entries[0].html != source.strip()
        assert_safe(fast_doc)
        assert as_text(fast_doc) == slow_document(body)

    check()
    assert counts["accepted"] >= counts["declined"] // 2 and counts["cleaned"] >= 10, counts


@pytest.mark.parametrize("html", HOSTILE_HTML[:-1])
def test_hostile_attributes_are_removed_and_the_text_kept(html: str) -> None:
    body = rss(f"<title>A</title><description>{escape(html)} Resolved</description>")
    fast_doc = read_feed_fast(body)
    assert fast_doc is not None
    assert_safe(fast_doc)
    assert as_text(fast_doc) == slow_document(body)
    assert "Resolved" in fast_doc.entries[0].html


def test_script_is_declined_and_feedparser_drops_it() -> None:
    body = rss("<title>A</title><description>&lt;p&gt;a&lt;script&gt;alert(1)&lt;/script&gt;b&lt;/p&gt;</description>")
    assert read_feed_fast(body) is None
    doc = read_feed(body)
    assert "alert" not in doc.entries[0].html and "<script" not in doc.entries[0].html


# ------------------------------------------------------------------------------------------------
# What it declines, and what it reproduces
# ------------------------------------------------------------------------------------------------

ATOM = '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>{}</feed>'
RSS = '<rss version="2.0"><channel><title>T</title>{}</channel></rss>'


def atom(entry: str, head: str = "") -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>' + ATOM.format(head + f"<entry>{entry}</entry>")).encode()


def rss(item: str, head: str = "") -> bytes:
    return RSS.format(head + f"<item>{item}</item>").encode()


DECLINES = {
    "RSS 1.0 (RDF)": b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                     b'xmlns="http://purl.org/rss/1.0/"><channel><title>T</title></channel>'
                     b"<item><title>A</title></item></rdf:RDF>",
    "RSS 0.91": b'<rss version="0.91"><channel><title>T</title><item><title>A</title></item></channel></rss>',
    "Atom 0.3": b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>T</title>'
                b"<entry><title>A</title></entry></feed>",
    "RSS 2.0 declaring the RSS 1.0 namespace": b'<rss version="2.0" xmlns:r="http://purl.org/rss/1.0/">'
                                               b"<channel><item><title>A</title></item></channel></rss>",
    "xml:base": atom('<link href="/incidents/1"/><title>A</title>').replace(
        b"<feed ", b'<feed xml:base="https://status.example.com/" '),
    "base attribute on an inert element": atom("<title>A</title><rights base='https://x.example/'>r</rights>"),
    "xhtml content": atom('<title>A</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
                          "<p>x</p></div></content>"),
    "script in content": atom('<title>A</title><content type="html">&lt;p&gt;a&lt;script&gt;x()&lt;/script&gt;'
                              "b&lt;/p&gt;</content>"),
    "stray end of script": rss("<title>A</title><description>a &lt;/script&gt; b</description>"),
    "style element in RSS": rss("<title>A</title><description><![CDATA[<style>p{}</style>Resolved]]></description>"),
    "comment in HTML": rss("<title>A</title><description><![CDATA[a <!-- b --> c]]></description>"),
    "svg in HTML": rss("<title>A</title><description><![CDATA[<svg><title>x</title></svg>]]></description>"),
    "latin-1 body": '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item>'
                    "<title>Caf\u00e9</title></item></channel></rss>".encode("latin-1"),
    "UTF-16 body": rss("<title>A</title>").decode().encode("utf-16"),
    # feedparser reads the encoding from the declaration's first line only (and then reads UTF-8).
    "declared encoding on the declaration's second line": '<?xml version="1.0"\n encoding="iso-8859-2"?>'
                                                          '<rss version="2.0"><channel><item><title>Caf\u00e9'
                                                          "</title></item></channel></rss>".encode(),
    "DOCTYPE without entities": b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "x.dtd">' + rss("<title>A</title>"),
    "undefined entity": rss("<title>A&nbsp;B</title>"),
    "unclosed element": rss("<title>A</title><description>x"),
    "element off the list": rss('<title>A</title><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">'
                                "2026-01-01</dc:date>"),
    "plain <date>, which feedparser files as updated": rss("<title>A</title><date>2026-01-01</date>"),
    "two titles": rss("<title>A</title><title>B</title>"),
    "content with src": atom('<title>A</title><content src="https://x.example/a"/>'),
    "a prefix feedparser would remap": (b'<rss version="2.0" xmlns:dc="http://purl.org/rss/1.0/modules/content/">'
                                        b"<channel><item><title>A</title>"
                                        b"<dc:encoded>&lt;b&gt;x&lt;/b&gt;</dc:encoded></item></channel></rss>"),
    "item attribute feedparser reads (href)": rss("<title>A</title>").replace(
        b"<item>", b'<item href="https://x.example/">'),
    # HTML that feedparser's sgmllib and an HTML5 parser read into different text
    "table in HTML": rss("<title>A</title><description>&lt;table&gt;&lt;tr&gt;&lt;td&gt;x&lt;/td&gt;&lt;/tr&gt;"
                         "&lt;/table&gt;</description>"),
    "stray end tag": rss("<title>A</title><description>a&lt;/div&gt;b</description>"),
    "block inside <p>": rss("<title>A</title><description>&lt;p&gt;a&lt;ul&gt;&lt;li&gt;x&lt;/li&gt;&lt;/ul&gt;"
                            "&lt;/p&gt;</description>"),
    "<p/>": rss("<title>A</title><description>a&lt;p/&gt;b</description>"),
    "unknown entity with ';'": rss("<title>A</title><description>a &amp;foo; b</description>"),
    "legacy entity without ';'": rss("<title>A</title><description>&amp;notit &amp;copy2</description>"),
    "a name that an HTML5 parser would decode": rss("<title>A</title><description>AT&amp;Tcopy &amp;ampx</description>"),
    "bare < in HTML": rss("<title>A</title><description>a &amp;lt; b &lt; c</description>"),
    "markup in a title": atom('<title type="html">&lt;b&gt;Down&lt;/b&gt;</title>'),
    "plain-text content with <": atom('<title>A</title><content type="text">a &lt;b&gt; c</content>'),
    "a date parse_time cannot read": rss("<title>A</title><pubDate>2004-02-28T18:14:55-08:00 garbage</pubDate>"),
    "mis-decoded UTF-8 next to markup": rss("<title>A</title><description>\u00c3\u00a9 &lt;b&gt;x&lt;/b&gt;"
                                             "</description>"),
}


@pytest.mark.parametrize("body", DECLINES.values(), ids=DECLINES.keys())
def test_declines_and_feedparser_reads_it_as_before(body: bytes) -> None:
    assert read_feed_fast(body) is None
    adapter = FeedAdapter()
    assert outcome(adapter, "feed", body, fast=True) == outcome(adapter, "feed", body, fast=False)


QUIRKS = {
    "Q&A and AT&T in HTML read as text": rss("<title>A</title><description>Q&amp;A, AT&amp;T is &amp;amp; down"
                                             "</description>"),
    "style attributes are removed": rss('<title>A</title><description><![CDATA[<p style="color: red">x</p>]]>'
                                        "</description>"),
    "Statuspage <var data-var> loses its attribute": atom(
        "<title>A</title><content type=\"html\">&lt;p&gt;&lt;small&gt;Oct &lt;var data-var='date'&gt;30&lt;/var&gt;"
        ", &lt;var data-var='time'&gt;23:05&lt;/var&gt; UTC&lt;/small&gt;&lt;br&gt;&lt;strong&gt;Resolved"
        "&lt;/strong&gt; - Done.&lt;/p&gt;</content><published>2019-10-30T23:05:10Z</published>"),
    "guid stands in for a missing link": rss("<title>A</title><guid>https://s.example/incidents/x1</guid>"),
    "a guid that is no permalink does not": rss('<title>A</title><guid isPermaLink="false">x1</guid>'),
    "Atom id stands in for a missing alternate link": atom(
        '<title>A</title><id>https://s.example/incidents/x2</id><link rel="self" href="https://s.example/self"/>'),
    "last alternate link wins": atom('<title>A</title><link href="https://a.example/1"/>'
                                     '<link rel="alternate" type="text/html" href="https://a.example/2"/>'),
    "UTF-8 read as latin-1 is repaired": rss("<title>Caf\u00c3\u00a9</title><description>\u00c3\u00a9</description>"),
    "cp1252 character references": rss("<title>A</title><description>a &amp;#150; b &amp;#x41;</description>"),
    "RSS title with an entity reads as HTML": rss("<title>Down &amp;amp; out</title>"),
    "link query with &amp;": rss("<title>A</title><link>https://x.example/?a=1&amp;amp;b=2&amp;c;=3</link>",
                                 head="<link>https://x.example/?a=1&amp;amp;b=2&amp;c;=3</link>"),
    "extra slashes after the scheme": rss("<title>A</title><link>https:///x.example/a</link>"),
    "an unreadable channel date is no date in either": rss("<title>A</title>",
                                                            head="<lastBuildDate>yesterday</lastBuildDate>"),
    "Statuspage RSS markup": rss("<title>A</title><description>&lt;p&gt;&lt;small&gt;Jan  1, 09:09 PST&lt;/small&gt;"
                                 "&lt;br&gt;&lt;strong&gt;Identified&lt;/strong&gt; - x &amp;amp; y &amp;#8211; z"
                                 "&lt;/p&gt;</description><pubDate>Sat, 11 Jan 2020 11:57:20 +0000</pubDate>"),
    "Q&A, in HTML stays text": rss("<title>A</title><description>the Q&amp;A, and &amp;amp,</description>"),
    "unclosed tags are closed": rss("<title>A</title><description>&lt;b&gt;Resolved - fixed</description>"),
    "categories with and without a domain": rss('<title>A</title><category domain="d">X</category>'
                                                "<category>Y</category><category>X</category>"),
    "content:encoded before the description": rss(
        '<title>A</title><content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "</content:encoded><description>desc</description>"),
    "empty entry is dropped": atom(""),
}


@pytest.mark.parametrize("body", QUIRKS.values(), ids=QUIRKS.keys())
def test_reproduces_feedparser_quirks(body: bytes) -> None:
    fast_doc = read_feed_fast(body)
    assert fast_doc is not None
    assert_safe(fast_doc)
    assert as_text(fast_doc) == slow_document(body)
    for adapter, key in ((FeedAdapter(), "feed"), (AwsAdapter(), "rss"), (AzureAdapter(), "feed")):
        assert outcome(adapter, key, body, fast=True) == outcome(adapter, key, body, fast=False)


def test_no_xml_parser_sees_a_dtd(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entity refusal runs first; the fast reader declines any DOCTYPE before expat runs."""
    parsed: list[bytes] = []
    real_parse = feed_fast._parse
    monkeypatch.setattr(feed_fast, "_parse", lambda body: parsed.append(body) or real_parse(body))
    with pytest.raises(ParseError, match="entities"):
        read_feed((FIXTURES / "feed" / "billion-laughs.xml").read_bytes())
    doctype = b'<?xml version="1.0"?><!DOCTYPE rss>' + rss("<title>A</title>")
    assert feed_fast.read_feed_fast(doctype) is None
    assert feed_fast.read_feed_fast((FIXTURES / "feed" / "external-entity.xml").read_bytes()) is None
    assert parsed == []
    assert feed_fast.read_feed_fast(rss("<title>A</title>")) is not None and len(parsed) == 1


def test_switch_and_parameter_choose_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    monkeypatch.setattr(feed, "read_feed_fast", lambda body: calls.append(body))  # always declines
    body = rss("<title>A</title>")
    read_feed(body)
    read_feed(body, fast=False)
    with fast_path(False):
        read_feed(body)
        read_feed(body, fast=True)
    assert len(calls) == 2


def private_names_used(path: Path) -> set[str]:
    """Names beginning with "_" that a module takes from other packages (imports, attributes)."""
    tree = ast.parse(path.read_text())
    imported: set[str] = set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith(("providers", "aggregator")):
            if node.module.split(".")[0] != "__future__":
                found |= {f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")}
                imported |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in imported:
                found.add(ast.unparse(node))
    return found


def test_the_fast_reader_uses_no_private_part_of_another_package() -> None:
    assert private_names_used(REPO / "providers" / "feed_fast.py") == set()
    assert private_names_used(REPO / "providers" / "feed_model.py") == set()
    assert private_names_used(REPO / "providers" / "feed_html.py") == set()
    imports = [node for name in ("feed_fast.py", "feed_html.py", "feed_model.py")
               for node in ast.walk(ast.parse((REPO / "providers" / name).read_text()))
               if isinstance(node, ast.Import | ast.ImportFrom)]
    names = {a.name for node in imports for a in node.names} | {getattr(node, "module", None) for node in imports}
    assert not any(name and name.startswith("feedparser") for name in names)
