"""HTML fallback: the current state read off a rendered status page (beautifulsoup4, html.parser).

For pages whose JSON is out of reach. Three renderings are understood:

* **Statuspage** (server-rendered): ``.page-status.status-<indicator>``, components as
  ``.component-inner-container`` with ``data-component-id`` / ``data-component-status`` (a group
  is the ``component-group-opener`` of a ``.component-container.is-group`` whose children sit in
  ``.child-components-container``), ``.unresolved-incident.impact-<impact>`` with its updates
  (``<strong>Label</strong> - body <br> <small>Jan 12, 16:04 UTC</small>``, no year: read against
  ``<meta name="issued">``) and ``.scheduled-maintenance`` blocks (``data-unix-time`` start).
* **status.io**: ``#statusbar_text`` for the page, ``.component_name`` / ``.component-status`` rows.
* **incident.io**: the ``[data-testid=heads-up]`` banner and its ``text-icon-<state>`` icon.

"Page Inactive" and "Login" placeholders raise ``PageInactiveError`` / ``LoginRequiredError``;
anything else raises ``NotStatusPageError``. Saved pages wrapped in a Markdown code fence
(```` ``` ```` first and last line, as a crawler left them) are unwrapped first.
"""

from __future__ import annotations

import html as html_lib
import re
import warnings
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

from aggregator.page.adapter import (
    Adapter,
    Bodies,
    Endpoint,
    LoginRequiredError,
    NotStatusPageError,
    PageInactiveError,
    ParseError,
)
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import decode_text, stated_or_worst, strip_html, text_or_none
from aggregator.page.vocab import (
    IMPACT_TO_STATUS,
    INDICATOR_TO_STATUS,
    ComponentStatus,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    worst_status,
)
from providers.feed import label_status, parse_clock, parse_stamp, word_status, zone_for
from providers.statuspage import impact_of

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"

_FENCE_OPEN_RE = re.compile(r"\A\s*```[\w.+-]*[ \t]*(?:\r?\n)?")
_FENCE_CLOSE_RE = re.compile(r"(?:\r?\n)?[ \t]*```[ \t]*\s*\Z")
# Big inert blocks (scripts, styles, the phone-country <select> repeated per incident) are
# dropped before parsing: half the bytes of a Statuspage page, none of the status.
_INERT_RE = re.compile(r"(?is)<(script|style|select|svg:style)\b[^>]*>.*?</\1\s*>")
_FEED_ROOT_RE = re.compile(r"(?is)\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b")
_PAGE_ID_RE = re.compile(r"\b([0-9a-z]{12})\.statuspage\.io\b")
_INCIDENT_HREF_RE = re.compile(r"/incidents/([A-Za-z0-9_-]+)")
_COLOR_STATUS = {
    "green": ComponentStatus.operational,
    "blue": ComponentStatus.under_maintenance,
    "yellow": ComponentStatus.degraded_performance,
    "orange": ComponentStatus.partial_outage,
    "red": ComponentStatus.major_outage,
}
# status.io's words (its status codes 100..600 as printed on the page).
STATUSIO_WORDS: dict[str, ComponentStatus] = {
    "operational": ComponentStatus.operational,
    "all systems operational": ComponentStatus.operational,
    "planned maintenance": ComponentStatus.under_maintenance,
    "degraded performance": ComponentStatus.degraded_performance,
    "partial service disruption": ComponentStatus.partial_outage,
    "service disruption": ComponentStatus.major_outage,
    "security event": ComponentStatus.major_outage,
    "security issue": ComponentStatus.major_outage,
}
_INCIDENTIO_ICON_RE = re.compile(
    r"\btext-icon-(operational|degraded-performance|partial-outage|full-outage|under-maintenance)\b")


def strip_fences(text: str) -> str:
    """Remove a Markdown code fence wrapped around a saved page (first and last line)."""
    if _FENCE_OPEN_RE.match(text):
        text = _FENCE_OPEN_RE.sub("", text, count=1)
        text = _FENCE_CLOSE_RE.sub("", text, count=1)
    return text


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class") or []
    return list(value) if isinstance(value, list) else str(value).split()


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ", strip=True).split()) if tag is not None else ""


def _attr(tag: Tag, name: str) -> str | None:
    value = tag.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return text_or_none(value)


class HtmlAdapter(Adapter):
    platform = "html"
    title = "HTML status page (fallback)"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("page",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("page", base_url, accept=HTML_ACCEPT)]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        body = self.body(bodies)
        if not body or not body.strip():
            raise ParseError("html: empty page")
        text = strip_fences(decode_text(body))
        if text.lstrip()[:1] in ("{", "["):
            raise NotStatusPageError("got JSON where an HTML status page was expected")
        if _FEED_ROOT_RE.match(text[:2048]):
            raise NotStatusPageError("got an RSS/Atom feed where an HTML status page was expected (use 'feed')")
        with warnings.catch_warnings():
            # XHTML pages open with an XML declaration; html.parser reads them fine.
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(_INERT_RE.sub("", text), "html.parser")
        title = _text(soup.title)
        _refuse_placeholders(soup, title)
        if soup.select_one(".page-status, .component-inner-container, [data-component-status], "
                           ".unresolved-incident, .scheduled-maintenance"):
            return self._statuspage(soup, text, title, base_url)
        if soup.select_one("#statusbar_text, .component_name"):
            return self._statusio(soup, title, base_url)
        if soup.select_one("[data-testid=heads-up]"):
            return self._incidentio(soup, title, base_url)
        shown = f" ({title!r})" if title else ""
        raise NotStatusPageError(f"not a status page this adapter can read{shown}"[:200])

    # --- Statuspage ------------------------------------------------------------------------------
    def _statuspage(self, soup: BeautifulSoup, raw_text: str, title: str, base_url: str | None) -> Snapshot:
        issued_tag = soup.find("meta", attrs={"name": "issued"})
        issued = None
        if isinstance(issued_tag, Tag) and (content := _attr(issued_tag, "content")) and content.isdigit():
            issued = datetime.fromtimestamp(int(content), tz=UTC)
        components = _statuspage_components(soup)
        incidents: list[Incident] = []
        maintenances: list[Maintenance] = []
        for block in soup.select(".unresolved-incident"):
            notice = _unresolved_notice(block, issued, base_url)
            if isinstance(notice, Maintenance):
                maintenances.append(notice)
            elif notice is not None:
                incidents.append(notice)
        maintenances.extend(m for m in (_scheduled_maintenance(b, issued, base_url)
                                        for b in soup.select(".scheduled-maintenance")) if m is not None)
        page_status = soup.select_one(".page-status")
        indicator = None
        if page_status is not None:
            indicator = next((c[len("status-"):] for c in _classes(page_status) if c.startswith("status-")), None)
        if indicator in INDICATOR_TO_STATUS:
            overall = INDICATOR_TO_STATUS[indicator]
        else:
            # With an incident open Statuspage hides the banner: derive from what is shown.
            overall = worst_status([*(c.status for c in components),
                                    *(IMPACT_TO_STATUS[i.impact] for i in incidents if i.raw_impact),
                                    *(ComponentStatus.under_maintenance for m in maintenances
                                      if m.status is MaintenanceStatus.in_progress)])
        page_id = _PAGE_ID_RE.search(raw_text)
        return Snapshot(
            platform=self.platform,
            name=title or None,
            url=base_url,
            page_id=page_id.group(1) if page_id else None,
            fetched_at=None,
            status=overall,
            raw_status=indicator,
            description=_text(page_status.select_one(".status")) or None if page_status else None,
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )

    # --- status.io -------------------------------------------------------------------------------
    def _statusio(self, soup: BeautifulSoup, title: str, base_url: str | None) -> Snapshot:
        components = []
        for position, name_tag in enumerate(soup.select(".component_name")):
            name = _text(name_tag)
            if not name:
                continue
            status_tag = _nearest(name_tag, ".component-status")
            word = _text(status_tag)
            components.append(Component(
                id=name, name=name, position=position,
                status=STATUSIO_WORDS.get(word.lower(), ComponentStatus.unknown),
                raw_status=word or None,
            ))
        bar = _text(soup.select_one("#statusbar_text"))
        stated = (STATUSIO_WORDS.get(bar.lower()) or _statusio_sentence(bar)) if bar else None
        return Snapshot(platform=self.platform, name=title or None, url=base_url,
                        status=stated_or_worst(stated, components),
                        raw_status=bar or None, description=bar or None, components=components)

    # --- incident.io -----------------------------------------------------------------------------
    def _incidentio(self, soup: BeautifulSoup, title: str, base_url: str | None) -> Snapshot:
        banner = soup.select_one("[data-testid=heads-up]")
        assert banner is not None
        state = None
        for tag in [banner, *banner.find_all(True)]:
            if match := _INCIDENTIO_ICON_RE.search(" ".join(_classes(tag))):
                state = match.group(1)
                break
        status = word_status(state) if state else ComponentStatus.unknown
        return Snapshot(platform=self.platform, name=title or None, url=base_url, status=status,
                        raw_status=state, description=_text(banner) or None)


def _refuse_placeholders(soup: BeautifulSoup, title: str) -> None:
    low = title.lower()
    if re.search(r"-\s*page inactive\s*$", low) or "this page is currently inactive" in _text(soup.body).lower():
        raise PageInactiveError(f"the status page is inactive ({title!r})")
    if re.search(r"-\s*log\s*in\s*$", low):
        raise LoginRequiredError(f"the status page needs a login ({title!r})")


def _nearest(tag: Tag, selector: str) -> Tag | None:
    """The first ``selector`` match in the smallest ancestor of ``tag`` that has one."""
    for parent in tag.parents:
        found = parent.select_one(selector)
        if found is not None:
            return found
    return None


def _statusio_sentence(text: str) -> ComponentStatus | None:
    low = text.lower()
    for words, status in sorted(STATUSIO_WORDS.items(), key=lambda kv: -len(kv[0])):
        if words in low:
            return status
    return None


def _component_status(inner: Tag) -> tuple[ComponentStatus, str | None]:
    raw = _attr(inner, "data-component-status")
    if raw:
        return word_status(raw), raw
    for cls in _classes(inner):
        if cls.startswith("status-") and cls[len("status-"):] in _COLOR_STATUS:
            shown = _text(inner.select_one(".component-status")) or cls
            return _COLOR_STATUS[cls[len("status-"):]], shown
    shown = _text(inner.select_one(".component-status"))
    return (word_status(shown) if shown else ComponentStatus.unknown), shown or None


def _statuspage_components(soup: BeautifulSoup) -> list[Component]:
    out: list[Component] = []
    for inner in soup.select(".component-inner-container"):
        if "component-group-opener" in (_attr(inner, "data-js-hook") or ""):
            continue  # a group: its name is given to its children below
        group_name = None
        children = inner.find_parent(class_="child-components-container")
        if children is not None:
            container = children.find_parent(class_="component-container")
            opener = container.select_one(".component-inner-container") if container else None
            if opener is not None:
                group_name = _text(opener.select_one(".name")) or None
        name = _text(inner.select_one(".name"))
        cid = _attr(inner, "data-component-id") or name
        if not cid:
            continue
        status, raw = _component_status(inner)
        tooltip = next((t for t in inner.find_all(class_="tooltip-base", recursive=False)), None)
        # Statuspage escapes the tooltip twice ("python.org&amp;apos;s").
        description = html_lib.unescape(_attr(tooltip, "title") or "") if tooltip is not None else ""
        out.append(Component(id=cid, name=name or cid, group=group_name, status=status, raw_status=raw,
                             description=description or None, position=len(out)))
    return out


def _incident_ref(block: Tag, base_url: str | None) -> tuple[str | None, str | None, str]:
    link = block.select_one(".incident-title a[href]") or block.select_one("a[href*='/incidents/']")
    title = _text(link) if link is not None else _text(block.select_one(".incident-title"))
    href = _attr(link, "href") if link is not None else None
    match = _INCIDENT_HREF_RE.search(href or "")
    url = urljoin(base_url, href) if href and base_url else href
    return (match.group(1) if match else None), url, title


def _update_parts(update: Tag) -> tuple[str | None, str, str]:
    """(label, body, stamp text) of one ``.update`` block, whatever order its parts come in."""
    strong = update.find("strong")
    small = update.find("small")
    label = _text(strong) or None if isinstance(strong, Tag) else None
    stamp = _text(small) if isinstance(small, Tag) else ""
    pieces = []
    for node in update.contents:
        if node is strong or node is small:
            continue
        pieces.append(str(node))
    body = strip_html("".join(pieces)).strip()
    body = re.sub(r"^[-\u2013]\s*", "", body) if label else body
    body = re.sub(r"^Posted on\s*", "", body)
    return label, body, stamp


def _unresolved_notice(block: Tag, issued: datetime | None, base_url: str | None) -> Incident | Maintenance | None:
    code, url, title = _incident_ref(block, base_url)
    if not code and not title:
        return None
    nid = code or title
    impact_word = next((c[len("impact-"):] for c in _classes(block) if c.startswith("impact-")), None)
    parsed = [_update_parts(u) for u in block.select(".update")]
    maintenance = impact_word == "maintenance" or any(
        (m := label_status(label or "")) and m[0] == "maintenance" for label, _, _ in parsed)
    current: IncidentStatus | MaintenanceStatus = (
        MaintenanceStatus.in_progress if maintenance else IncidentStatus.investigating)
    updates = []
    for position, (label, body, stamp) in enumerate(reversed(parsed), start=1):
        mapped = label_status(label or "")
        if mapped is not None:
            status = mapped[1]
            if maintenance and isinstance(status, IncidentStatus):
                status = MaintenanceStatus.completed if status is IncidentStatus.resolved else MaintenanceStatus.in_progress
            elif not maintenance and isinstance(status, MaintenanceStatus):
                status = IncidentStatus.investigating
            current = status
        updates.append(Update(id=f"{nid}#{position}", status=current.value, raw_status=label, body=body,
                              created_at=parse_stamp(stamp, issued)))
    updates.reverse()
    times = [u.created_at for u in updates if u.created_at]
    common: dict[str, Any] = {
        "id": nid, "title": title or nid, "url": url, "raw_impact": impact_word,
        "raw_status": updates[0].raw_status if updates else None,
        "started_at": min(times) if times else None, "updated_at": max(times) if times else None,
        "updates": updates,
    }
    if maintenance:
        assert isinstance(current, MaintenanceStatus)
        return Maintenance(**common, status=current, impact=impact_of(impact_word, Impact.maintenance))
    assert isinstance(current, IncidentStatus)
    return Incident(**common, status=current, impact=impact_of(impact_word))


def _scheduled_maintenance(block: Tag, issued: datetime | None, base_url: str | None) -> Maintenance | None:
    code, url, title = _incident_ref(block, base_url)
    if not code and not title:
        return None
    nid = code or title
    window = block.select_one("[data-unix-time]")
    start = None
    end = None
    if window is not None:
        unix = _attr(window, "data-unix-time") or ""
        start = datetime.fromtimestamp(int(unix), tz=UTC) if unix.isdigit() else None
        start_text, _, end_text = _text(window).partition(" - ")
        zone = zone_for(m.group(1)) if (m := re.search(r"\b([A-Z]{2,5})\s*$", end_text)) else None
        reference = start or issued
        start = start or parse_stamp(start_text, reference, zone)
        end = parse_stamp(end_text, reference, zone) or (
            parse_clock(end_text, start, zone) if start else None)
    updates = []
    parsed = [_update_parts(u) for u in block.select(".update")]
    for position, (label, body, stamp) in enumerate(reversed(parsed), start=1):
        mapped = label_status(label or "")
        status = mapped[1].value if mapped and mapped[0] == "maintenance" else MaintenanceStatus.scheduled.value
        updates.append(Update(id=f"{nid}#{position}", status=status, raw_status=label, body=body,
                              created_at=parse_stamp(stamp, issued)))
    updates.reverse()
    return Maintenance(
        id=nid, title=title or nid, url=url, status=MaintenanceStatus.scheduled,
        scheduled_for=start, scheduled_until=end, started_at=start,
        updated_at=max((u.created_at for u in updates if u.created_at), default=None),
        updates=updates,
    )
