"""Compare RSS/Atom readers on every corpus and fixture feed and on the farm's feeds.

Each reader turns a body into what upstream reads from it; per feed, the time of one call is the
median of repeated calls (at least ``--runs``, more for fast ones, about ``--budget`` seconds a
reader and feed), and the table sums those medians per group of feeds:

  feedparser          feedparser.parse (sanitize_html=True), the library call alone
  feedparser+doc      providers.feed.read_feed(fast=False): the call, its safety checks and
                      the FeedDocument built from its result (what the fallback costs)
  before              the fast reader this replaced (providers/feed_fast.py at --before, read
                      with git; it imported feedparser's private sanitizer), FeedDocument built
  feed_fast           providers.feed_fast.read_feed_fast (xml.etree + nh3): the new fast path
  read_feed           providers.feed.read_feed(): safety checks + the fast path (+ feedparser
                      for what it declines), what an adapter pays
  fastfeedparser      fastfeedparser.parse (lxml), the library call alone
  fastfeedparser+doc  the same mapped to a FeedDocument, its HTML sanitized by nh3
  feedparser-rs       feedparser_rs.parse (Rust), the library call alone
  feedparser-rs+doc   the same mapped to a FeedDocument (the library sanitizes HTML itself)

It also counts, for each reader that gives a FeedDocument, on how many feeds the Snapshot that
``FeedAdapter`` builds from it equals the one built through feedparser (declines count as equal:
feedparser reads those), which is what a replacement must keep.

    .venv/bin/python benchmarks/feed_readers.py [--runs 7] [--budget 0.3] [--farm-pages 20]
                                                 [--before 8609623] [--per-feed] [--generated 300]

The libraries compared are not dependencies of upstream: ``pip install fastfeedparser
feedparser-rs`` (the ``bench`` extra lists them) to include them.
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402
import nh3  # noqa: E402

from aggregator.errors import AdapterError  # noqa: E402
from aggregator.page.reading import parse_time, text_or_none  # noqa: E402
from benchmarks.farm import atom_feed, platform_of  # noqa: E402
from providers.feed import FeedAdapter, read_feed  # noqa: E402
from providers.feed_fast import read_feed_fast  # noqa: E402
from providers.feed_model import FeedDocument, make_entry  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
FIXTURES = REPO / "fixtures"
_FEED_ROOT_RE = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]")
HOSTILE = {"billion-laughs.xml", "external-entity.xml"}  # refused before any reader runs

Reader = Callable[[bytes], Any]


def feed_files() -> list[Path]:
    roots = [FIXTURES] + ([CORPUS] if CORPUS.is_dir() else [])
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name in HOSTILE | {"PROVENANCE.tsv", "README.md"}:
                continue
            if path.suffix in {".atom", ".rss", ".xml"} or _FEED_ROOT_RE.search(path.read_bytes()[:2048]):
                found.append(path)
    return found


def farm_feeds(pages: int) -> list[tuple[str, bytes]]:
    ids = [i for i in range(20 * pages) if platform_of(i) == "feed"][:pages]
    return [(f"{i}v{version}", atom_feed(i, f"http://127.0.0.1:{9000 + i % 20}/p/{i}", version))
            for i in ids for version in (0, 4)]


# --- the readers ----------------------------------------------------------------------------------

def feedparser_call(body: bytes) -> Any:
    return feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)


def load_before(revision: str) -> Reader | None:
    """The fast reader at ``revision`` (it read feedparser's internals), building a FeedDocument."""
    try:
        source = subprocess.run(["git", "-C", str(REPO), "show", f"{revision}:providers/feed_fast.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("feed_fast_before")
    sys.modules[module.__name__] = module  # its dataclasses look their module up
    try:
        exec(compile(source, f"{revision}:providers/feed_fast.py", "exec"), module.__dict__)  # noqa: S102
    except ImportError:
        return None
    read_plain_feed = module.read_plain_feed

    def before(body: bytes) -> FeedDocument | None:
        plain = read_plain_feed(body)
        if plain is None:
            return None
        entries = [make_entry(link=text_or_none(e.link), raw_id=e.id, title=e.title or "", html=e.html,
                              published=parse_time(e.published), updated=parse_time(e.updated),
                              terms=[tag[0] for tag in e.tags]) for e in plain.entries]
        return FeedDocument(title=text_or_none(plain.title), link=text_or_none(plain.link),
                            updated=parse_time(plain.updated or plain.published),
                            generator=text_or_none(plain.generator), version=plain.version,
                            entries=[e for e in entries if e is not None])

    return before


def fastfeedparser_doc(body: bytes) -> FeedDocument:
    """fastfeedparser's result as a FeedDocument, its HTML sanitized by nh3."""
    import fastfeedparser

    parsed = fastfeedparser.parse(body)
    channel = parsed["feed"]
    entries = []
    for raw in parsed["entries"]:
        contents = [c.get("value") for c in raw.get("content") or [] if c.get("value")]
        html = contents[0] if contents else str(raw.get("description") or "")
        entries.append(make_entry(
            link=text_or_none(raw.get("link")), raw_id=raw.get("id"), title=str(raw.get("title") or ""),
            html=nh3.clean(html) if html else "", published=parse_time(raw.get("published")),
            updated=parse_time(raw.get("updated")), terms=[t.get("term") for t in raw.get("tags") or []]))
    return FeedDocument(title=text_or_none(channel.get("title")), link=text_or_none(channel.get("link")),
                        updated=parse_time(channel.get("updated") or channel.get("published")),
                        generator=text_or_none(channel.get("generator")), version="",
                        entries=[e for e in entries if e is not None])


def feedparser_rs_doc(body: bytes) -> FeedDocument:
    """feedparser-rs's result (feedparser's names, HTML sanitized by the library) as a FeedDocument."""
    import feedparser_rs

    parsed = feedparser_rs.parse(body)
    channel = parsed.feed
    entries = []
    for raw in parsed.entries:
        contents = [c.get("value") for c in raw.get("content") or [] if c.get("value")]
        entries.append(make_entry(
            link=text_or_none(raw.get("link")), raw_id=raw.get("id"), title=str(raw.get("title") or ""),
            html=contents[0] if contents else str(raw.get("summary") or ""),
            published=parse_time(raw.get("published")), updated=parse_time(raw.get("updated")),
            terms=[t.get("term") for t in raw.get("tags") or []]))
    return FeedDocument(title=text_or_none(channel.get("title")), link=text_or_none(channel.get("link")),
                        updated=parse_time(channel.get("updated") or channel.get("published")),
                        generator=text_or_none(channel.get("generator")), version=str(parsed.version or ""),
                        entries=[e for e in entries if e is not None])


def readers(before_revision: str) -> dict[str, Reader]:
    found: dict[str, Reader] = {
        "feedparser": feedparser_call,
        "feedparser+doc": lambda body: read_feed(body, fast=False),
    }
    if (before := load_before(before_revision)) is not None:
        found["before"] = before
    found["feed_fast"] = read_feed_fast
    found["read_feed"] = read_feed
    try:
        import fastfeedparser

        found["fastfeedparser"] = fastfeedparser.parse
        found["fastfeedparser+doc"] = fastfeedparser_doc
    except ImportError:
        pass
    try:
        import feedparser_rs

        found["feedparser-rs"] = feedparser_rs.parse
        found["feedparser-rs+doc"] = feedparser_rs_doc
    except ImportError:
        pass
    return found


# Readers whose result is (or may be) a FeedDocument, checked against feedparser's Snapshot.
DOCUMENT_READERS = ("before", "feed_fast", "fastfeedparser+doc", "feedparser-rs+doc")


# --- measuring ------------------------------------------------------------------------------------

def median_call(reader: Reader, body: bytes, runs: int, budget: float) -> float | None:
    """Median seconds of one call; None if the reader raises on this body."""
    try:
        reader(body)
    except Exception:  # noqa: BLE001 - a library that cannot read a feed gets no time for it
        return None
    times: list[float] = []
    spent = 0.0
    while len(times) < runs or (spent < budget and len(times) < 2000):
        start = time.perf_counter()
        reader(body)
        took = time.perf_counter() - start
        times.append(took)
        spent += took
    return statistics.median(times)


def snapshot_of(doc: Any) -> Any:
    adapter = FeedAdapter()
    try:
        from providers.feed import snapshot_from_feed

        return snapshot_from_feed(doc, adapter.platform, "https://status.example.com")
    except AdapterError as exc:
        return (type(exc).__name__, str(exc))


def same_snapshot(reader: Reader, body: bytes) -> bool | None:
    """Whether the reader's FeedDocument makes feedparser's Snapshot (None: it declined)."""
    try:
        doc = reader(body)
    except Exception:  # noqa: BLE001
        return False
    if doc is None:
        return None
    return snapshot_of(doc) == snapshot_of(read_feed(body, fast=False))


def generated_agreement(readers_by_name: dict[str, Reader], examples: int) -> dict[str, list[int]]:
    """same/differs/declined per reader over feeds generated by tests/test_feed_fast.py's strategy
    (ordinary feeds with odd text, markup, dates and links spliced in), feedparser's Snapshot the
    reference; feeds feedparser itself rejects are skipped."""
    from hypothesis import HealthCheck, given, settings

    from tests.test_feed_fast import feeds

    counts = {name: [0, 0, 0] for name in DOCUMENT_READERS if name in readers_by_name}

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(feeds())
    def check(body: bytes) -> None:
        try:
            read_feed(body, fast=False)
        except AdapterError:
            return
        for name, tally in counts.items():
            verdict = same_snapshot(readers_by_name[name], body)
            tally[0 if verdict else 2 if verdict is None else 1] += 1

    check()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.3, help="seconds per reader and feed")
    parser.add_argument("--farm-pages", type=int, default=20)
    parser.add_argument("--before", default="8609623", help="git revision of the replaced fast reader")
    parser.add_argument("--per-feed", action="store_true", help="print every feed's medians")
    parser.add_argument("--generated", type=int, default=300, help="generated feeds to check agreement on")
    args = parser.parse_args()

    groups: dict[str, list[tuple[str, bytes]]] = {
        "fixtures": [(p.relative_to(FIXTURES).as_posix(), p.read_bytes())
                     for p in feed_files() if FIXTURES in p.parents],
        "corpus": [(p.relative_to(CORPUS).as_posix(), p.read_bytes())
                   for p in feed_files() if CORPUS in p.parents],
        "farm": farm_feeds(args.farm_pages),
    }
    found = readers(args.before)
    names = list(found)
    totals: dict[str, dict[str, float | None]] = {}
    agreement: dict[str, dict[str, list[int]]] = {}
    for group, feeds in groups.items():
        if not feeds:
            continue
        totals[group] = dict.fromkeys(names, 0.0)
        agreement[group] = {name: [0, 0, 0] for name in DOCUMENT_READERS if name in found}  # same/differ/declined
        for label, body in feeds:
            row = []
            for name in names:
                took = median_call(found[name], body, args.runs, args.budget)
                row.append(took)
                total = totals[group][name]
                totals[group][name] = None if took is None or total is None else total + took
            for name, counts in agreement[group].items():
                verdict = same_snapshot(found[name], body)
                counts[0 if verdict else 2 if verdict is None else 1] += 1
            if args.per_feed:
                cells = " | ".join("-" if t is None else f"{t * 1e3:.3f}" for t in row)
                print(f"| {group}/{label} ({len(body):,} B) | {cells} |")
    print(f"\nmedian ms per call, summed over each group's feeds; {sys.version.split()[0]}, "
          f"feedparser {feedparser.__version__}, nh3 {getattr(nh3, '__version__', '?')}")
    print("| feeds | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for group, row in totals.items():
        cells = " | ".join("fails" if t is None else f"{t * 1e3:.2f}" for t in row.values())
        size = sum(len(b) for _, b in groups[group])
        print(f"| {group} ({len(groups[group])} feeds, {size / 1024:.0f} KB) | {cells} |")
    print("\nSnapshot equal to feedparser's (same / differs / declined to feedparser):")
    if args.generated:
        agreement[f"generated ({args.generated})"] = generated_agreement(found, args.generated)
    for group, by_reader in agreement.items():
        print(f"  {group}: " + ", ".join(f"{name} {s}/{d}/{n}" for name, (s, d, n) in by_reader.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
