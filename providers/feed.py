"""Any RSS or Atom feed, and the feed logic the vendor adapters reuse.

How a feed is read (``read_feed``): after its checks (empty body, the DTD/entity refusal, an
HTML page or JSON where a feed was expected), an ordinary RSS 2.0 or Atom 1.0 body is read by
``providers.feed_fast`` (the C ``xml.etree`` parser, entry HTML sanitized by ``nh3``), which gives
the ``FeedDocument`` built here from feedparser's result, with the same titles, links, times and
text, several times faster (``benchmarks/feed_readers.py``). It declines, and feedparser reads
the body as before, on anything it is not sure of: another format or version (RSS 0.9x/1.0,
Atom 0.3), an encoding other than UTF-8 (or ASCII), any ``<!DOCTYPE``, ``xml:base``,
``type="xhtml"``, elements or namespaces it does not know, repeated single-valued elements,
expat errors, dates it cannot read, and HTML that feedparser's sgmllib and an HTML5 parser would
read into different text (``script``/``style``, tables, comments, stray end tags, ...).
``FAST_PATH = False`` (or ``read_feed(body, fast=False)``) always uses feedparser.

A feed knows no page-wide status, so each entry's state is read from whatever the publisher put in
it, most specific first:

1. Statuspage update markup (escaped HTML, one ``<p>`` per update, newest first)::

       <p><small>Oct <var data-var='date'>30</var>, <var data-var='time'>23:05</var> UTC</small><br>
       <strong>Resolved</strong> - body</p>

   The stamp has no year (it is derived from the entry's published/updated time) and feeds
   from before 2015 have no ``<var>`` tags and may use a local zone (``Jan  1, 09:09 PST``).
   Each ``<p>`` becomes an ``Update``; maintenance labels make the entry a ``Maintenance``.
2. incident.io: the content starts ``<b>Status: Resolved</b>`` and may end with
   ``<b>Affected components</b><ul><li>Name (Operational)</li>...`` (the components' state now).
3. AWS title prefixes: ``Service is operating normally:``, ``Informational message:``,
   ``Performance issues:``, ``Service disruption:`` and ``[RESOLVED]``.
4. Otherwise keywords in the title, then in the text (resolved, monitoring, identified, ...).

The overall status of a feed-only page is the worst state implied by its open entries
(operational when none is open); an empty channel is a healthy page.

Security: feedparser parses with the stdlib SAX/expat reader. It does not fetch external
entities (``feature_external_ges`` is switched off) but it does expand internal entities, so a
"billion laughs" document would be expanded in memory. Any body that declares a DTD with
entities is therefore refused (``check_feed_safety``) before either reader sees it, and bodies
are always handed to feedparser as a stream, never as a string it might take for a URL or a file
name. The fast reader runs only after that refusal and never gives expat a DTD at all: it
declines any body that is not UTF-8 without NUL bytes or that contains ``<!DOCTYPE`` anywhere,
before parsing; ``xml.etree`` fetches nothing. Its entry HTML has been through ``nh3.clean``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import feedparser

from aggregator.page.adapter import (
    Adapter,
    AdapterError,
    Bodies,
    Endpoint,
    NotJSONError,
    NotStatusPageError,
    ParseError,
)
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    STATUS_TO_IMPACT,
    ZONE_ABBREVIATIONS,
    classify_html,
    decode_text,
    parse_time,
    strip_html,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import (
    IMPACT_TO_STATUS,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    component_status,
    worst_status,
)
from providers.feed_fast import read_feed_fast
from providers.feed_model import FeedDocument, FeedEntry, make_entry

FEED_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"

Notice = Incident | Maintenance

# ------------------------------------------------------------------------------------------------
# Reading a feed safely
# ------------------------------------------------------------------------------------------------


_DTD_ENTITY_RE = re.compile(r"<!ENTITY", re.I)
_DOCTYPE_RE = re.compile(r"<!DOCTYPE", re.I)


def check_feed_safety(body: bytes) -> None:
    """Refuse a body that declares entities in a DTD (billion laughs, external entities).

    The body is searched both as ``decode_text`` reads it and as feedparser will: feedparser
    also sniffs UTF-32 without a BOM and EBCDIC and honours the encoding the XML declaration
    names (UTF-7, ...), any of which would hide ``<!ENTITY`` from a search of the bytes.
    """
    from feedparser.encodings import convert_to_utf8

    texts = [decode_text(body)]  # also catches UTF-16 bodies, where a bytes search would miss
    try:
        texts.append(convert_to_utf8({}, body, {}).decode("utf-8", "replace"))
    except Exception as exc:  # noqa: BLE001 - fail closed: a body we cannot vet is not parsed
        raise ParseError(f"feed encoding could not be read ({type(exc).__name__})") from exc
    for text in texts:
        if _DOCTYPE_RE.search(text) and _DTD_ENTITY_RE.search(text):
            raise ParseError("feed declares XML entities in a DTD; refused for safety")


# The fast reader (``providers.feed_fast``) is used unless this is False or a caller says otherwise.
FAST_PATH = True


def read_feed(body: bytes, *, fast: bool | None = None) -> FeedDocument:
    """Parse an RSS/Atom body; anything that is not a feed raises an ``AdapterError``.

    ``fast`` (default: ``FAST_PATH``) tries ``read_feed_fast`` first; feedparser reads whatever
    it declines.
    """
    if not body or not body.strip():
        raise ParseError("empty feed")
    check_feed_safety(body)
    head = decode_text(body[:1024]).lstrip().lower()
    if head.startswith(("<!doctype html", "<html")):
        raise _html_instead_of_feed(body)
    if head[:1] in ("{", "["):
        raise NotStatusPageError("got JSON where an RSS/Atom feed was expected")
    if FAST_PATH if fast is None else fast:
        doc = read_feed_fast(body)
        if doc is not None:
            return doc
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    version = str(parsed.get("version") or "")
    if not version and not parsed.entries:
        if b"<html" in body[:4096].lower():
            raise _html_instead_of_feed(body)
        problem = parsed.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise NotStatusPageError(f"not an RSS or Atom feed{detail}"[:200])
    channel = parsed.feed
    entries = [_entry(raw) for raw in parsed.entries]
    return FeedDocument(
        title=text_or_none(channel.get("title")),
        link=text_or_none(channel.get("link")),
        updated=parse_time(dict.get(channel, "updated") or dict.get(channel, "published")),
        generator=text_or_none(channel.get("generator")),
        version=version,
        entries=[e for e in entries if e is not None],
    )


def _html_instead_of_feed(body: bytes) -> AdapterError:
    error = classify_html(body)
    if isinstance(error, NotJSONError):  # a plain web page: say "feed", not "JSON"
        return NotStatusPageError("got an HTML page where an RSS/Atom feed was expected")
    return error


def _entry(raw: Any) -> FeedEntry | None:
    # dict.get: FeedParserDict maps "updated" to "published" (with a warning) when absent.
    contents = [c.get("value") for c in raw.get("content") or [] if c.get("value")]
    return make_entry(
        link=text_or_none(raw.get("link")),
        raw_id=dict.get(raw, "id"),
        title=str(raw.get("title") or ""),
        html=contents[0] if contents else str(raw.get("summary") or ""),
        published=parse_time(dict.get(raw, "published")) or _struct_time(dict.get(raw, "published_parsed")),
        updated=parse_time(dict.get(raw, "updated")) or _struct_time(dict.get(raw, "updated_parsed")),
        terms=[tag.get("term") for tag in raw.get("tags") or []],
    )


def _struct_time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------
# Year-less stamps ("Oct 30, 23:05 UTC")
# ------------------------------------------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_STAMP_RE = re.compile(
    r"\b(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(?P<day>\d{1,2}),?\s+"
    r"(?:(?P<year>\d{4}),?\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
    r"(?:\s*(?P<zone>[A-Z]{2,5})\b)?")
_TIME_ONLY_RE = re.compile(
    r"^\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?(?:\s*(?P<zone>[A-Z]{2,5})\b)?")
# Abbreviations whose zone has daylight saving: read the wall time in the IANA zone, because old
# Statuspage pages printed a fixed label ("Oct 28, 14:48 PST" for 14:48 PDT). MST stays a fixed
# offset (Arizona has no DST and always says MST).
_ZONE_FAMILIES = {
    "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "MDT": "America/Denver",
    "CST": "America/Chicago", "CDT": "America/Chicago",
    "EST": "America/New_York", "EDT": "America/New_York",
    "AKST": "America/Anchorage", "AKDT": "America/Anchorage",
    "CET": "Europe/Berlin", "CEST": "Europe/Berlin",
    "AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
}


def zone_for(abbreviation: str | None) -> tzinfo | None:
    """A tzinfo for a zone abbreviation printed on a status page, or None if unknown."""
    if not abbreviation:
        return None
    word = abbreviation.upper()
    if word in _ZONE_FAMILIES:
        return ZoneInfo(_ZONE_FAMILIES[word])
    if word in ZONE_ABBREVIATIONS:
        return timezone(timedelta(hours=ZONE_ABBREVIATIONS[word]))
    return None


def _squeeze(text: str) -> str:
    # Text pulled out of markup may read "Jan 12 , 16:04 UTC" (a space where a tag ended).
    return re.sub(r"\s+,", ",", " ".join(text.split()))


def _hour24(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    pm = ampm[0].lower() == "p"
    return (hour % 12) + (12 if pm else 0)


def parse_stamp(text: str, reference: datetime | None, default_zone: tzinfo | None = None) -> datetime | None:
    """``Oct 30, 23:05 UTC`` (no year) -> aware UTC datetime, the year chosen nearest ``reference``.

    Updates are usually just before the reference (published/updated/issued time) but may be
    after it (a postmortem); taking the candidate year closest to the reference gets both right
    across a year boundary (a ``Dec 31`` update in a feed published ``Jan 1`` is last year's).
    """
    match = _STAMP_RE.search(_squeeze(text))
    if not match:
        return None
    zone = zone_for(match.group("zone")) or default_zone or UTC
    month = _MONTHS[match.group("mon").lower()]
    day, minute = int(match.group("day")), int(match.group("minute"))
    hour = _hour24(int(match.group("hour")), match.group("ampm"))
    if hour > 23 or minute > 59:
        return None
    if match.group("year"):
        years = [int(match.group("year"))]
    elif reference is not None:
        years = [reference.year - 1, reference.year, reference.year + 1]
    else:
        return None
    candidates = []
    for year in years:
        try:
            candidates.append(datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC))
        except ValueError:  # Feb 29 in a common year
            continue
    if not candidates:
        return None
    if reference is None:
        return candidates[0]
    return min(candidates, key=lambda c: abs((c - reference).total_seconds()))


def parse_clock(text: str, day_of: datetime, default_zone: tzinfo | None = None) -> datetime | None:
    """``12:53 PM PDT`` on the local date of ``day_of`` (used where a stamp has no date at all)."""
    match = _TIME_ONLY_RE.match(_squeeze(text))
    if not match:
        return None
    zone = zone_for(match.group("zone")) or default_zone or UTC
    hour = _hour24(int(match.group("hour")), match.group("ampm"))
    minute = int(match.group("minute"))
    if hour > 23 or minute > 59:
        return None
    local = day_of.astimezone(zone)
    return datetime(local.year, local.month, local.day, hour, minute, tzinfo=zone).astimezone(UTC)


# ------------------------------------------------------------------------------------------------
# Status words
# ------------------------------------------------------------------------------------------------

Kind = str  # "incident" | "maintenance"

# Statuspage's labels (feeds, HTML pages) and incident.io's "Status:" words.
LABELS: dict[str, tuple[Kind, IncidentStatus | MaintenanceStatus]] = {
    "investigating": ("incident", IncidentStatus.investigating),
    "identified": ("incident", IncidentStatus.identified),
    "monitoring": ("incident", IncidentStatus.monitoring),
    "resolved": ("incident", IncidentStatus.resolved),
    "postmortem": ("incident", IncidentStatus.postmortem),
    "scheduled": ("maintenance", MaintenanceStatus.scheduled),
    "maintenance scheduled": ("maintenance", MaintenanceStatus.scheduled),
    "in progress": ("maintenance", MaintenanceStatus.in_progress),
    "maintenance in progress": ("maintenance", MaintenanceStatus.in_progress),
    "verifying": ("maintenance", MaintenanceStatus.verifying),
    "completed": ("maintenance", MaintenanceStatus.completed),
    "maintenance complete": ("maintenance", MaintenanceStatus.completed),
    "maintenance completed": ("maintenance", MaintenanceStatus.completed),
}
# "Update" carries no state of its own: it keeps the state of the update before it.
NEUTRAL_LABELS = {"update"}


def label_status(label: str) -> tuple[Kind, IncidentStatus | MaintenanceStatus] | None:
    word = " ".join(label.replace("_", " ").lower().split())
    return LABELS.get(word)


# AWS Service Health Dashboard title prefixes: (incident status, impact). Severity follows the
# legacy status codes 1 informational / 2 degradation / 3 disruption (see platforms.md sec. 11).
AWS_PREFIXES: dict[str, tuple[IncidentStatus, Impact]] = {
    "service is operating normally": (IncidentStatus.resolved, Impact.none),
    "informational message": (IncidentStatus.investigating, Impact.minor),
    "performance issues": (IncidentStatus.investigating, Impact.major),
    "service disruption": (IncidentStatus.investigating, Impact.critical),
}
_AWS_PREFIX_RE = re.compile(
    r"^\s*(?P<prefix>service is operating normally|informational message|performance issues|service disruption)\s*:\s*",
    re.I)
_RESOLVED_TAG_RE = re.compile(r"\[\s*resolved\s*\]\s*", re.I)

# Keyword fallback, most advanced state first: an entry that says "resolved" anywhere is resolved.
_INCIDENT_KEYWORDS: list[tuple[re.Pattern[str], IncidentStatus]] = [
    (re.compile(r"\bpost[- ]?mortem\b", re.I), IncidentStatus.postmortem),
    (re.compile(r"\b(resolved|fixed|mitigated|recovered|operating normally|back to normal)\b", re.I),
     IncidentStatus.resolved),
    (re.compile(r"\b(monitoring|watching)\b", re.I), IncidentStatus.monitoring),
    (re.compile(r"\bidentified\b", re.I), IncidentStatus.identified),
    (re.compile(r"\b(investigating|investigation|outage|disruption|degraded|issues?)\b", re.I),
     IncidentStatus.investigating),
]
_MAINTENANCE_KEYWORDS: list[tuple[re.Pattern[str], MaintenanceStatus]] = [
    (re.compile(r"\b(completed?|finished)\b", re.I), MaintenanceStatus.completed),
    (re.compile(r"\bverifying\b", re.I), MaintenanceStatus.verifying),
    (re.compile(r"\b(in progress|underway|under way|started)\b", re.I), MaintenanceStatus.in_progress),
    (re.compile(r"\b(scheduled|upcoming|planned)\b", re.I), MaintenanceStatus.scheduled),
]
_MAINTENANCE_WORD_RE = re.compile(r"\bmaintenance\b", re.I)


def keyword_status(title: str, text: str = "") -> tuple[Kind, IncidentStatus | MaintenanceStatus, str] | None:
    """Guess (kind, status, matched word) from free text; the title is trusted before the body.

    "maintenance" in the title makes the entry a maintenance whose state the body may tell.
    """
    maintenance = bool(_MAINTENANCE_WORD_RE.search(title))
    for source in (title, text):
        if not source:
            continue
        if maintenance or (not any(p.search(source) for p, _ in _INCIDENT_KEYWORDS)
                           and any(p.search(source) for p, _ in _MAINTENANCE_KEYWORDS)):
            for pattern, mstatus in _MAINTENANCE_KEYWORDS:
                if m := pattern.search(source):
                    return "maintenance", mstatus, m.group(0)
            maintenance = maintenance or bool(_MAINTENANCE_WORD_RE.search(source))
            continue
        for pattern, istatus in _INCIDENT_KEYWORDS:
            if m := pattern.search(source):
                return "incident", istatus, m.group(0)
    if maintenance:
        return "maintenance", MaintenanceStatus.scheduled, "maintenance"
    return None


# ------------------------------------------------------------------------------------------------
# Entry -> Incident / Maintenance
# ------------------------------------------------------------------------------------------------

_INCIDENT_CODE_RE = re.compile(r"/incidents/(?P<code>[A-Za-z0-9_-]+)/?(?:[?#].*)?$")
_SP_BLOCK_SPLIT_RE = re.compile(r"(?i)(?=<p>\s*<small\b)")
_SP_UPDATE_RE = re.compile(
    r"(?is)^\s*(?:<p>)?\s*<small\b[^>]*>(?P<stamp>.*?)</small>\s*(?:<br\s*/?>)?\s*"
    r"<strong\b[^>]*>(?P<label>.*?)</strong>\s*(?:-|&#8211;|&ndash;|\u2013)?\s*(?P<body>.*)$")
_IO_STATUS_RE = re.compile(r"(?is)^\s*<b>\s*Status:\s*(?P<label>[^<]+?)\s*</b>\s*(?P<rest>.*)$")
_IO_COMPONENTS_RE = re.compile(r"(?is)<b>\s*Affected components\s*</b>(?P<list>.*)$")
_IO_ITEM_RE = re.compile(r"(?is)<li>\s*(?P<name>.*?)\s*\((?P<state>[^()]*)\)\s*</li>")


def incident_code(link: str | None) -> str | None:
    """``https://status.x.com/incidents/w4j2nj1trtsg`` -> ``w4j2nj1trtsg`` (Statuspage, incident.io)."""
    if not link:
        return None
    match = _INCIDENT_CODE_RE.search(link.strip())
    return match.group("code") if match else None


def notice_id(entry: FeedEntry) -> str:
    """Statuspage's Atom ``<id>`` is an internal number: join on the link's incident code instead."""
    return incident_code(entry.link) or incident_code(entry.id) or entry.id


@dataclass(slots=True)
class ParsedUpdate:
    label: str | None
    kind: Kind | None
    status: IncidentStatus | MaintenanceStatus | None
    body: str
    created_at: datetime | None


def statuspage_updates(html: str, reference: datetime | None) -> list[ParsedUpdate]:
    """The ``<p><small>stamp</small><br><strong>Label</strong> - body</p>`` blocks, newest first."""
    found = []
    for block in _SP_BLOCK_SPLIT_RE.split(html):
        match = _SP_UPDATE_RE.match(block)
        if not match:
            continue
        label = strip_html(match.group("label"))
        body = re.sub(r"(?is)</p>\s*$", "", match.group("body").strip())
        mapped = label_status(label)
        found.append(ParsedUpdate(
            label=label,
            kind=mapped[0] if mapped else None,
            status=mapped[1] if mapped else None,
            body=strip_html(body),
            created_at=parse_stamp(strip_html(match.group("stamp")), reference),
        ))
    return found


def incidentio_components(html: str) -> list[tuple[str, str]]:
    """(name, state word) pairs from an incident.io entry's "Affected components" list."""
    match = _IO_COMPONENTS_RE.search(html)
    if not match:
        return []
    pairs = []
    for item in _IO_ITEM_RE.finditer(match.group("list")):
        name = " ".join(strip_html(item.group("name")).split())
        state = " ".join(item.group("state").split())
        if name:
            pairs.append((name, state))
    return pairs


def word_status(word: str) -> ComponentStatus:
    """``Degraded performance`` / ``Full outage`` / ``under_maintenance`` -> ComponentStatus."""
    return component_status(word_key(word))


def aws_title(title: str) -> tuple[str, str | None, IncidentStatus | None, Impact | None]:
    """Split an AWS item title: (clean title, prefix word, status, impact)."""
    prefix_word: str | None = None
    status: IncidentStatus | None = None
    impact: Impact | None = None
    rest = title
    if match := _AWS_PREFIX_RE.match(title):
        prefix_word = title[match.start("prefix"):match.end("prefix")]
        status, impact = AWS_PREFIXES[match.group("prefix").lower()]
        rest = title[match.end():]
    if _RESOLVED_TAG_RE.search(rest):
        status = IncidentStatus.resolved
        rest = _RESOLVED_TAG_RE.sub("", rest)
        prefix_word = prefix_word or "[RESOLVED]"
    return " ".join(rest.split()), prefix_word, status, impact


def _update_id(notice: str, position: int, single_at: datetime | None = None) -> str:
    # Statuspage blocks are counted from the oldest, so ids stay put as newer updates are
    # prepended. An entry that only ever shows its latest message (incident.io, AWS, keywords)
    # gets a new update id whenever its time moves.
    if single_at is not None:
        return f"{notice}@{single_at.isoformat()}"
    return f"{notice}#{position}"


def notice_from_entry(entry: FeedEntry, default_kind: Kind = "incident") -> Notice:
    """One feed entry -> ``Incident`` or ``Maintenance`` (see the module docstring for the rules)."""
    nid = notice_id(entry)
    reference = entry.reference_time
    title = entry.title
    plain = strip_html(entry.html)
    raw_impact: str | None = None
    impact: Impact | None = None
    component_ids: list[str] = []

    sp_updates = statuspage_updates(entry.html, reference)
    io_match = _IO_STATUS_RE.match(entry.html) if not sp_updates else None
    parsed: list[ParsedUpdate]
    raw_status: str | None
    if sp_updates:
        parsed = sp_updates
        raw_status = sp_updates[0].label
        kind: Kind = "maintenance" if any(u.kind == "maintenance" for u in sp_updates) else "incident"
    elif io_match:
        label = " ".join(io_match.group("label").split())
        mapped = label_status(label)
        rest = io_match.group("rest")
        body_html = rest[:m.start()] if (m := _IO_COMPONENTS_RE.search(rest)) else rest
        listed = incidentio_components(entry.html)
        component_ids = list(dict.fromkeys(name for name, _ in listed))
        if listed:
            worst = worst_status(word_status(state) for _, state in listed)
            if worst in STATUS_TO_IMPACT:
                impact = STATUS_TO_IMPACT[worst]
                raw_impact = next(state for _, state in listed if word_status(state) == worst)
        if mapped is None:
            guessed = keyword_status(label)
            mapped = (guessed[0], guessed[1]) if guessed else None
        kind = mapped[0] if mapped else default_kind
        raw_status = label
        parsed = [ParsedUpdate(label, kind, mapped[1] if mapped else None, strip_html(body_html),
                               entry.updated or entry.published)]
    else:
        clean, prefix, aws_status, aws_impact = aws_title(title)
        when = entry.updated or entry.published
        if prefix is not None:
            title, raw_status, kind = clean or title, prefix, "incident"
            if aws_impact is not None:
                impact, raw_impact = aws_impact, prefix
            parsed = [ParsedUpdate(prefix, kind, aws_status, plain, when)]
        else:
            guessed = keyword_status(title, plain)
            kind = guessed[0] if guessed else default_kind
            raw_status = guessed[2] if guessed else None
            parsed = [ParsedUpdate(raw_status, kind, guessed[1] if guessed else None, plain, when)]

    return _build_notice(nid, kind, title, entry, parsed, raw_status, impact, raw_impact,
                         latest_only=not sp_updates, component_ids=component_ids)


def _build_notice(nid: str, kind: Kind, title: str, entry: FeedEntry, parsed: list[ParsedUpdate],
                  raw_status: str | None, impact: Impact | None, raw_impact: str | None,
                  latest_only: bool, component_ids: list[str]) -> Notice:
    maintenance = kind == "maintenance"
    default: IncidentStatus | MaintenanceStatus = (
        MaintenanceStatus.scheduled if maintenance else IncidentStatus.investigating)
    # Walk oldest -> newest so "Update" inherits the state before it.
    updates: list[Update] = []
    current = default
    single_at = parsed[0].created_at if latest_only else None
    for position, item in enumerate(reversed(parsed), start=1):
        status = _coerce(item.status, maintenance) if item.status is not None else current
        current = status
        updates.append(Update(
            id=_update_id(nid, position, single_at),
            status=status.value,
            raw_status=item.label,
            body=item.body,
            created_at=item.created_at,
        ))
    updates.reverse()
    status = current
    times = [u.created_at for u in updates if u.created_at]
    # A latest-only entry (incident.io has no <published>) does not say when it started.
    started = entry.published if latest_only else (min(times) if times else entry.published)
    updated = max([*times, *(t for t in (entry.updated, entry.published) if t)], default=None)
    closed = {IncidentStatus.resolved, IncidentStatus.postmortem, MaintenanceStatus.completed}
    resolved_at = None
    if status in closed:
        closing = [u.created_at for u in updates
                   if u.created_at and u.status in {"resolved", "completed"}]
        resolved_at = max(closing) if closing else updated
    common: dict[str, Any] = {
        "id": nid,
        "title": title or nid,
        "raw_status": raw_status,
        "raw_impact": raw_impact,
        "started_at": started,
        "updated_at": updated,
        "resolved_at": resolved_at,
        "url": entry.link,
        "component_ids": component_ids,
        "updates": updates,
    }
    if maintenance:
        assert isinstance(status, MaintenanceStatus)
        return Maintenance(**common, status=status, impact=impact or Impact.maintenance)
    assert isinstance(status, IncidentStatus)
    return Incident(**common, status=status, impact=impact or Impact.none)


def _coerce(status: IncidentStatus | MaintenanceStatus, maintenance: bool) -> IncidentStatus | MaintenanceStatus:
    """Keep one vocabulary per notice (a "Resolved" label inside a maintenance means completed)."""
    if maintenance and isinstance(status, IncidentStatus):
        return MaintenanceStatus.completed if status in {IncidentStatus.resolved, IncidentStatus.postmortem} \
            else MaintenanceStatus.in_progress
    if not maintenance and isinstance(status, MaintenanceStatus):
        return IncidentStatus.resolved if status is MaintenanceStatus.completed else IncidentStatus.investigating
    return status


def implied_status(notice: Notice) -> ComponentStatus | None:
    """What an open notice says about the page now; None when it says nothing."""
    if not notice.is_open:
        return None
    if isinstance(notice, Maintenance):
        if notice.status in {MaintenanceStatus.in_progress, MaintenanceStatus.verifying}:
            return ComponentStatus.under_maintenance
        return None
    if notice.raw_impact is not None:
        return IMPACT_TO_STATUS[notice.impact]
    if notice.raw_status is not None:
        # An open incident of unstated severity: something is wrong, how badly is unknown.
        return ComponentStatus.degraded_performance
    return None  # an entry with no status signal at all (announcement, blog post)


def overall_status(notices: Iterable[Notice], components: Iterable[Component] = ()) -> ComponentStatus:
    implied = [s for s in (implied_status(n) for n in notices) if s is not None]
    return worst_status([*implied, *(c.status for c in components)])


def feed_components(entries: Iterable[FeedEntry]) -> list[Component]:
    """Components named in incident.io "Affected components" lists; the newest mention wins."""
    seen: dict[str, Component] = {}
    for entry in entries:  # newest first
        for name, state in incidentio_components(entry.html):
            if name not in seen:
                seen[name] = Component(id=name, name=name, status=word_status(state), raw_status=state,
                                       updated_at=entry.updated or entry.published)
    return sorted(seen.values(), key=lambda c: c.name.lower())


def split_notices(notices: Iterable[Notice]) -> tuple[list[Incident], list[Maintenance]]:
    incidents: dict[str, Incident] = {}
    maintenances: dict[str, Maintenance] = {}
    for notice in notices:
        if isinstance(notice, Maintenance):
            maintenances.setdefault(notice.id, notice)
        else:
            incidents.setdefault(notice.id, notice)
    return list(incidents.values()), list(maintenances.values())


def snapshot_from_feed(doc: FeedDocument, platform: str, base_url: str | None) -> Snapshot:
    notices = [notice_from_entry(e) for e in doc.entries]
    incidents, maintenances = split_notices(notices)
    components = feed_components(doc.entries)
    return Snapshot(
        platform=platform,
        name=doc.title,
        url=doc.link or base_url,
        status=overall_status([*incidents, *maintenances], components),
        components=components,
        incidents=incidents,
        maintenances=maintenances,
    )


class FeedAdapter(Adapter):
    platform = "feed"
    title = "RSS / Atom feed"
    # components: only incident.io feeds name them (with their current state).
    reads = frozenset({"incidents", "maintenances", "updates", "components"})
    keys = ("feed",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("feed", base_url, accept=FEED_ACCEPT)]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # A feed's entries are its history: every entry, open or closed, with its own times.
        return self.endpoints(base_url)

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        return snapshot_from_feed(read_feed(self.body(bodies)), self.platform, base_url)

    build_history = Adapter.build_notices
