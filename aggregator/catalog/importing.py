"""Bulk import of status pages: read a list (OPML, CSV, JSON, one URL a line), detect each page's
platform concurrently under the polling caps, and follow those that can be read.

``read_import`` parses; ``import_pages`` detects and (unless a dry run) follows; the facade
(``aggregator.core.Upstream.import_pages``) runs it with the configured caps, and the CLI only
shows the progress and the summary. Each outcome says why: already followed, a decoy (not a
status page), a login page, unreachable.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree

import orjson

from aggregator.errors import UpstreamError, UserError

MAX_IMPORT_BYTES = 64 * 1024 * 1024  # a list of pages, not a database dump


@dataclass(frozen=True, slots=True)
class ImportItem:
    """One page to follow, as the list gave it (``line``: where, for messages)."""

    url: str
    line: int
    name: str | None = None
    provider_id: str | None = None
    platform: str | None = None
    category: str | None = None


@dataclass(slots=True)
class ImportOutcome:
    """What became of one item: ``added``, ``skipped`` (with a reason) or ``failed`` (with a reason)."""

    url: str
    line: int
    result: str
    reason: str = ""
    provider: str | None = None
    platform: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ImportReport:
    outcomes: list[ImportOutcome] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        skipped: dict[str, int] = {}
        for o in self.outcomes:
            if o.result == "skipped":
                skipped[o.reason] = skipped.get(o.reason, 0) + 1
        why = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
        return (f"{verb} {self.count('added')}, skipped {self.count('skipped')}" + (f" ({why})" if why else "")
                + f", failed {self.count('failed')} of {len(self.outcomes)} in {self.seconds:.2f}s")

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.count("added"), "skipped": self.count("skipped"), "failed": self.count("failed"),
                "dry_run": self.dry_run, "seconds": round(self.seconds, 3),
                "pages": [o.to_dict() for o in self.outcomes]}


# ------------------------------------------------------------------------------------------------
# Reading the list
# ------------------------------------------------------------------------------------------------

_COLUMNS = {"url": "url", "name": "name", "id": "provider_id", "platform": "platform", "category": "category"}


def _clean(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def read_import(text: str, source: str = "-") -> list[ImportItem]:
    """The pages listed in ``text``: OPML, CSV with a ``url`` column (optional name, id, platform,
    category), a JSON list (of URLs or of objects with those keys), or one URL a line (``#``
    comments). UserError naming ``source`` for a list that cannot be read."""
    if len(text) > MAX_IMPORT_BYTES:
        raise UserError(f"{source}: larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB; split it")
    body = text.lstrip("\ufeff").strip()
    if not body:
        raise UserError(f"{source}: empty, no pages to import")
    if body.startswith("<"):
        items = _read_opml(body, source)
    elif body.startswith(("[", "{")):
        items = _read_json(body, source)
    else:
        first = body.splitlines()[0]
        header = [c.strip().lower() for c in re.split(r"[,\t;]", first)]
        items = _read_csv(body, source) if "url" in header else _read_lines(body)
    if not items:
        raise UserError(f"{source}: no page URLs found")
    return items


def _read_opml(body: str, source: str) -> list[ImportItem]:
    if "<!DOCTYPE" in body.upper() or "<!ENTITY" in body.upper():
        raise UserError(f"{source}: OPML with a DOCTYPE or entities is refused")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise UserError(f"{source}: not valid OPML/XML ({exc})") from None
    items: list[ImportItem] = []

    def walk(node: ElementTree.Element, category: str | None) -> None:
        for n, outline in enumerate(node.findall("outline"), start=1):
            url = outline.get("htmlUrl") or outline.get("url") or outline.get("xmlUrl")
            name = _clean(outline.get("title") or outline.get("text"))
            if url:
                items.append(ImportItem(url=url.strip(), line=len(items) + 1, name=name,
                                        category=_clean(outline.get("category")) or category))
            else:  # a folder of outlines: its title is their category
                walk(outline, name or category)
            del n

    body_node = root.find("body")
    if root.tag != "opml" or body_node is None:
        raise UserError(f"{source}: XML but not OPML (no <opml><body>)")
    walk(body_node, None)
    return items


def _read_json(body: str, source: str) -> list[ImportItem]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(doc, list):
        raise UserError(f"{source}: JSON must be a list of URLs or of objects with a url")
    items: list[ImportItem] = []
    for n, entry in enumerate(doc, start=1):
        if isinstance(entry, str):
            items.append(ImportItem(url=entry.strip(), line=n))
        elif isinstance(entry, dict) and isinstance(entry.get("url"), str):
            items.append(ImportItem(url=entry["url"].strip(), line=n,
                                    **{_COLUMNS[k]: _clean(entry.get(k)) for k in _COLUMNS if k != "url"}))
        else:
            raise UserError(f"{source}: item {n} is neither a URL nor an object with a url")
    return items


def _read_csv(body: str, source: str) -> list[ImportItem]:
    first = body.splitlines()[0]
    delimiter = "\t" if "\t" in first else ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(body), delimiter=delimiter)
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    unknown = sorted(set(fields) - set(_COLUMNS))
    if unknown:
        raise UserError(f"{source}: unknown CSV column {unknown[0]!r} (known: {', '.join(_COLUMNS)})")
    items = []
    for row in reader:
        values = {_COLUMNS[key]: _clean(row.get(raw)) for key, raw in fields.items()}
        url = values.pop("url")
        if url:
            items.append(ImportItem(url=url, line=reader.line_num, **values))
    return items


def _read_lines(body: str) -> list[ImportItem]:
    items = []
    for n, raw in enumerate(body.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            items.append(ImportItem(url=line, line=n))
    return items


# ------------------------------------------------------------------------------------------------
# Detecting and following
# ------------------------------------------------------------------------------------------------

def follow_plan(url: str, found: Any, *, platform: str | None, name: str | None,
                provider_id: str | None) -> tuple[str, str | None, str, str]:
    """(id, name, URL to poll, platform) for following ``url``, from a detection ``found`` (None
    when the platform is given); UserError when it cannot be followed. Shared by ``add`` and import."""
    from aggregator.adapters import get_adapter, load_adapters, resolve_poll_url
    from aggregator.catalog.ids import MAX_ID_LENGTH, check_id, default_id
    from aggregator.errors import AdapterError

    detected_name = None
    if platform is None:
        if found is not None and found.verdict in {"unclaimed", "page_inactive"}:
            # No platform would read it: a placeholder nobody claimed, or a page switched off.
            raise UserError(f"{url} is not a live status page ({found.verdict}: {found.reasons[-1]}); nothing added")
        if found is None or found.verdict not in {"ok", "moved"} or not found.platform:
            verdict = found.verdict if found is not None else "not detected"
            why = "; ".join(found.reasons[-2:]) if found is not None and found.reasons else verdict
            raise UserError(f"could not tell what platform serves {url} ({verdict}: {why}); give --platform")
        platform = found.platform
        url = found.base_url or url
        detected_name = found.name
    elif platform not in load_adapters():
        raise UserError(f"unknown platform {platform!r} (see: upstream platforms)")
    try:
        poll_url = resolve_poll_url(get_adapter(platform), url, page_id=found.page_id if found else None,
                                    api_url=found.api_url if found else None,
                                    feed_url=found.feed_url if found else None)
    except AdapterError as exc:
        raise UserError(exc.reason) from None
    name = name or detected_name
    # A default id from a vendor's (possibly very long) name is cut to the bound; a given one is refused.
    return (check_id(provider_id or default_id(poll_url, name)[:MAX_ID_LENGTH].rstrip("-._")), name, poll_url,
            platform)


SKIP_VERDICTS = {"login_required": "login page", "not_status_page": "decoy: not a status page"}


def _key(url: str) -> str:
    return url.strip().rstrip("/").lower()


async def import_pages(items: list[ImportItem], store: Any, *, concurrency: int, per_host: int, timeout: float,
                       dry_run: bool = False, check_category: Callable[[str], str] | None = None,
                       on_done: Callable[[ImportItem], None] | None = None) -> list[ImportOutcome]:
    """Detect and follow ``items``: at most ``concurrency`` requests in flight, ``per_host`` per host
    (the polling caps). ``on_done`` is called once per item as it is settled or detected; outcomes
    come back in the list's order."""
    from aggregator.catalog.detect import detect
    from aggregator.http import HttpClient, check_url

    followed = {_key(p["url"]): p["id"] for p in store.providers()}
    taken_ids = set(followed.values())
    seen: dict[str, int] = {}
    outcomes: list[ImportOutcome | None] = [None] * len(items)
    to_detect: list[int] = []
    to_detect_set: set[int] = set()
    categories: dict[int, str | None] = {}

    def settle(k: int, outcome: ImportOutcome) -> None:
        outcomes[k] = outcome
        if on_done is not None and k not in to_detect_set:
            on_done(items[k])

    for k, item in enumerate(items):
        try:
            url = check_url(item.url).rstrip("/")
            categories[k] = check_category(item.category) if item.category and check_category else item.category
        except (ValueError, UpstreamError) as exc:
            settle(k, ImportOutcome(item.url, item.line, "failed", str(exc)))
            continue
        key = _key(url)
        if key in followed:
            settle(k, ImportOutcome(url, item.line, "skipped", "already followed", provider=followed[key]))
        elif key in seen:
            settle(k, ImportOutcome(url, item.line, "skipped", f"duplicate of line {seen[key]}"))
        else:
            seen[key] = item.line
            to_detect.append(k)
            to_detect_set.add(k)

    gate = asyncio.Semaphore(max(1, concurrency))
    async with HttpClient(timeout=timeout, max_connections=concurrency, per_host=per_host) as http:

        async def one(k: int) -> tuple[int, Any]:
            item = items[k]
            if item.platform:
                return k, None
            async with gate:
                return k, await detect(item.url.strip().rstrip("/"), http)

        detected: dict[int, Any] = {}
        for task in asyncio.as_completed([one(k) for k in to_detect]):
            k, found = await task
            detected[k] = found
            if on_done is not None:  # the progress bar moves as detections finish
                on_done(items[k])

    # Ids are given in the list's order (acme, acme-2, ...), whatever order the detections finished in.
    for k in to_detect:
        found, item = detected[k], items[k]
        url = item.url.strip().rstrip("/")
        if found is not None and found.verdict in SKIP_VERDICTS:
            settle(k, ImportOutcome(url, item.line, "skipped", SKIP_VERDICTS[found.verdict]))
            continue
        try:
            pid, name, poll_url, platform = follow_plan(url, found, platform=item.platform, name=item.name,
                                                        provider_id=item.provider_id)
        except UserError as exc:
            reason = str(exc)
            if found is not None and found.verdict not in {"ok", "moved"}:
                reason = f"{found.verdict}: {found.reasons[-1] if found.reasons else 'no reason given'}"
            settle(k, ImportOutcome(url, item.line, "failed", reason))
            continue
        if _key(poll_url) in followed:
            settle(k, ImportOutcome(url, item.line, "skipped", "already followed",
                                    provider=followed[_key(poll_url)], platform=platform))
            continue
        if pid in taken_ids:
            if item.provider_id:
                settle(k, ImportOutcome(url, item.line, "failed", f"id {pid!r} already follows another page"))
                continue
            base, n = pid, 2
            while f"{base}-{n}" in taken_ids:
                n += 1
            pid = f"{base}-{n}"
        taken_ids.add(pid)
        followed[_key(poll_url)] = pid
        if not dry_run:
            store.add_provider(pid, name=name or pid, url=poll_url, platform=platform, category=categories[k])
        settle(k, ImportOutcome(url, item.line, "added", provider=pid, platform=platform))
    return [o for o in outcomes if o is not None]
