"""AWS Health Dashboard: current events JSON, the legacy ``data.json`` and the RSS feeds.

* ``https://health.aws.amazon.com/public/currentevents`` (key ``currentevents``): a JSON array,
  empty when healthy, served as **UTF-16** (big-endian by default; ``load_json`` sniffs the BOM).
  Event ``status`` is a string code, 0 closed, 1 informational, 2 degradation, 3 disruption;
  ``event_log[]`` (epoch seconds) are the updates; ``impacted_services{slug:{service_name,current}}``
  and ``impacted_service_status_changes[]`` (epoch ms) name the service-regions hit.
* ``status.aws.amazon.com/data.json`` (key ``legacy``): ``{current[], archive[]}`` with the same
  status codes (string or integer) and an HTML ``description`` whose ``<div>`` posts carry only a
  Pacific clock time (``12:53 PM PDT``), sometimes with a date.
* ``status.aws.amazon.com/rss/all.rss`` or ``/rss/<service>-<region>.rss`` (key ``rss``): one item
  per post, title prefixed ``Service disruption:`` etc. (read by ``providers.feed``); posts of one
  event share the ``guid`` slug and are grouped into one incident.

Components are service-regions (``ec2-us-east-1``) with ``region`` set (``us-east-1``); global
services (``cloudfront``, ``iam``) have none. Ids of legacy and RSS events are
``<service-slug>_<epoch of the first post>`` so the two sources agree.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    epoch_seconds,
    impacts_of,
    keep_worst,
    load_json,
    load_object,
    open_impact_status,
    parse_time,
    sort_updates,
    started_sort_key,
    strip_html,
    text_or_none,
)
from aggregator.page.vocab import IMPACT_RANK, SEVERITY, ComponentStatus, Impact, IncidentStatus, worst_status
from providers.feed import (
    FEED_ACCEPT,
    FeedEntry,
    aws_title,
    notice_from_entry,
    parse_clock,
    parse_stamp,
    read_feed,
)

CURRENT_EVENTS_URL = "https://health.aws.amazon.com/public/currentevents"
HISTORY_EVENTS_URL = "https://history-events-us-west-2-prod.s3.amazonaws.com/historyevents.json"
CODE_STATUS: dict[str, ComponentStatus] = {
    "0": ComponentStatus.operational,
    "1": ComponentStatus.degraded_performance,
    "2": ComponentStatus.partial_outage,
    "3": ComponentStatus.major_outage,
}
CODE_IMPACT = impacts_of(CODE_STATUS)
_SLUG_RE = re.compile(r"^(?P<service>.+?)-(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+|us-standard)$")
# Legacy region aliases (S3's "US Standard" is us-east-1).
_REGION_ALIASES = {"us-standard": "us-east-1"}
_GUID_SLUG_RE = re.compile(r"#(?P<slug>[^#_]+)_(?P<epoch>\d+)\s*$")
_POST_RE = re.compile(r'(?is)<div>\s*<span[^>]*>(?P<stamp>[^<]*)</span>(?P<body>.*?)</div>')


def split_slug(slug: str) -> tuple[str, str | None]:
    """``ec2-us-east-1`` -> (``ec2``, ``us-east-1``); ``cloudfront`` -> (``cloudfront``, None)."""
    match = _SLUG_RE.match(slug)
    if not match:
        return slug, None
    region = match.group("region")
    return match.group("service"), _REGION_ALIASES.get(region, region)


def _code(value: Any) -> str | None:
    """Status codes arrive as "3" or 3."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


class AwsAdapter(Adapter):
    platform = "aws"
    title = "AWS Health Dashboard"
    reads = frozenset({"components", "incidents", "updates", "regions"})
    keys = ("currentevents", "legacy", "rss", "history")
    recent_closed: ClassVar[int] = 25  # data.json's archive is long: closed events kept per snapshot

    def endpoints(self, base_url: str) -> list[Endpoint]:
        url = base_url.strip()
        path = urlsplit(url).path.lower()
        if path.endswith(".rss"):
            return [Endpoint("rss", url, accept=FEED_ACCEPT)]
        if path.endswith("data.json"):
            return [Endpoint("legacy", url)]
        if path.endswith("currentevents"):
            return [Endpoint("currentevents", url)]
        return [Endpoint("currentevents", CURRENT_EVENTS_URL)]

    def classify(self, body: bytes, filename: str = "") -> str:
        if filename.lower().endswith((".rss", ".xml")) or body.lstrip()[:1] == b"<":
            return "rss"
        try:
            doc = load_json(body)
        except Exception:  # noqa: BLE001 - build reports it
            return "currentevents"
        if isinstance(doc, dict) and ("archive" in doc or "current" in doc):
            return "legacy"
        if isinstance(doc, dict) and doc and all(isinstance(v, list) for v in doc.values()):
            return "history"  # historyevents.json: events by service-region
        return "currentevents"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        if set(bodies) == {"history"}:
            from providers.history import snapshot_of_history

            return snapshot_of_history(self.platform, self.build_history(bodies, base_url), base_url)
        name, incidents, components = self._collect(bodies)
        open_incidents = [i for i in incidents if i.is_open]
        closed = [i for i in incidents if not i.is_open][: self.recent_closed]
        implied = [open_impact_status(i.impact) for i in open_incidents]
        return Snapshot(
            platform=self.platform, name=name, url=base_url,
            status=worst_status([*(c.status for c in components), *implied]),
            components=components, incidents=[*open_incidents, *closed],
        )

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # The Health Dashboard's service history (about a year of events, per service-region) for
        # the current dashboard; a legacy data.json or RSS URL is its own history (its archive or items).
        current = self.endpoints(base_url)
        if current[0].key != "currentevents":
            return current
        return [Endpoint("history", HISTORY_EVENTS_URL, required=False), *current]

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        others = {k: b for k, b in bodies.items() if k != "history"}
        known = list(self._collect(others)[1]) if others else []
        if "history" not in bodies:
            return list(known)
        still_open = {i.id for i in known if i.is_open}
        past = [incident for incident in history_events(bodies["history"]) if incident.id not in still_open]
        return list(_dedupe([*known, *past]))

    def _collect(self, bodies: Bodies) -> tuple[str, list[Incident], list[Component]]:
        if not bodies:
            raise ParseError("aws: nothing to parse")
        if not any(k in bodies for k in self.keys):
            raise ParseError(f"aws: no known body (got {', '.join(bodies)})")
        incidents: list[Incident] = []
        components: dict[str, Component] = {}
        name = "AWS Health Dashboard"
        if "currentevents" in bodies:
            events = load_json(bodies["currentevents"], "aws current events")
            if not isinstance(events, list):
                raise ParseError("aws current events: expected a JSON array")
            for raw in events:
                if isinstance(raw, dict):
                    incident, touched = parse_current_event(raw)
                    incidents.append(incident)
                    _merge(components, touched)
        if "legacy" in bodies:
            doc = load_object(bodies["legacy"], "aws data.json")
            legacy = parse_legacy(doc)
            incidents.extend(legacy)
            _merge(components, _legacy_components(doc, legacy))
        if "rss" in bodies:
            feed = read_feed(bodies["rss"])
            name = feed.title or name
            rss_incidents = incidents_from_rss(feed.entries)
            incidents.extend(rss_incidents)
            _merge(components, _rss_components(rss_incidents))
        ordered = sorted(components.values(), key=lambda c: (c.region or "", c.name.lower(), c.id))
        return name, _dedupe(incidents), ordered


def _dedupe(incidents: list[Incident]) -> list[Incident]:
    seen: dict[str, Incident] = {}
    for incident in incidents:
        seen.setdefault(incident.id, incident)
    return sorted(seen.values(), key=started_sort_key)


def _merge(into: dict[str, Component], components: list[Component]) -> None:
    """Several events may name one service-region: the worst state wins."""
    for component in components:
        keep_worst(into, component)


def _service_component(slug: str, name: str | None, code: str | None, when: datetime | None = None) -> Component:
    service, region = split_slug(slug)
    return Component(
        id=slug, name=name or service, region=region,
        status=CODE_STATUS.get(code or "", ComponentStatus.unknown) if code is not None else ComponentStatus.operational,
        raw_status=code, updated_at=when,
    )


# --- current events -----------------------------------------------------------------------------

def history_events(body: bytes) -> list[Incident]:
    """``historyevents.json``: ``{"<service>-<region>": [event, ...]}``, each event shaped as in
    current events. The file lists past events, and an archived event's ``status`` is its peak
    impact, not its state: an event there is over, at its ``end_time`` or else its last post."""
    doc = load_object(body, "aws history events")
    incidents: list[Incident] = []
    for slug, events in doc.items():
        for raw in as_list(events):
            if not isinstance(raw, dict):
                continue
            incident, _ = parse_current_event({"service": slug, **raw})
            if incident.is_open:
                latest = incident.updates[0] if incident.updates else None
                updates = list(incident.updates)
                if latest is not None:
                    updates[0] = latest.model_copy(update={"status": IncidentStatus.resolved.value})
                incident = incident.model_copy(update={
                    "status": IncidentStatus.resolved, "updates": updates,
                    "resolved_at": incident.resolved_at or (latest.created_at if latest else None)})
            incidents.append(incident)
    return incidents


def parse_current_event(raw: dict[str, Any]) -> tuple[Incident, list[Component]]:
    code = _code(raw.get("status"))
    slug = text_or_none(raw.get("service"))
    started = parse_time(raw.get("date"))
    end = parse_time(raw.get("end_time"))
    closed = code == "0" or end is not None
    updates = []
    for entry in as_list(raw.get("event_log")):
        if not isinstance(entry, dict):
            continue
        when = parse_time(entry.get("timestamp"))
        updates.append(Update(
            id=f"{raw.get('arn') or slug}@{entry.get('timestamp')}",
            status=IncidentStatus.investigating.value,
            raw_status=_code(entry.get("status")),
            body=strip_html(str(entry.get("message") or "")),
            created_at=when,
        ))
    sort_updates(updates)
    if closed and updates:
        updates[0] = updates[0].model_copy(update={"status": IncidentStatus.resolved.value})
    touched: dict[str, Component] = {}
    changes = [c for c in as_list(raw.get("impacted_service_status_changes")) if isinstance(c, dict)]
    for change in sorted(changes, key=lambda c: epoch_seconds(parse_time(c.get("timestamp")))):  # latest change wins
        if change.get("service"):
            s = str(change["service"])
            touched[s] = _service_component(s, text_or_none(change.get("service_name")),
                                            "0" if closed else _code(change.get("current_status")),
                                            parse_time(change.get("timestamp")))
    impacted = raw.get("impacted_services")
    if isinstance(impacted, dict):
        for s, info in impacted.items():
            info = info if isinstance(info, dict) else {}
            touched[str(s)] = _service_component(str(s), text_or_none(info.get("service_name")),
                                                 "0" if closed else _code(info.get("current")))
    if slug and slug not in touched:
        touched[slug] = _service_component(slug, text_or_none(raw.get("service_name")), "0" if closed else code)
    regions = list(dict.fromkeys(r for r in (split_slug(s)[1] for s in touched) if r))
    incident = Incident(
        id=text_or_none(raw.get("arn")) or f"{slug}_{raw.get('date')}",
        title=" ".join(str(raw.get("summary") or "").split()) or str(slug or "AWS event"),
        status=IncidentStatus.resolved if closed else IncidentStatus.investigating,
        raw_status=code,
        impact=CODE_IMPACT.get(code or "", Impact.none),
        raw_impact=code,
        started_at=started,
        updated_at=max((u.created_at for u in updates if u.created_at), default=started),
        resolved_at=end or (updates[0].created_at if closed and updates else None),
        component_ids=list(touched),
        regions=regions,
        updates=updates,
    )
    return incident, list(touched.values())


# --- legacy data.json ---------------------------------------------------------------------------

def legacy_posts(description: str, started: datetime | None) -> list[tuple[datetime | None, str]]:
    """The ``<div><span>12:53 PM PDT</span>&nbsp;text</div>`` posts, oldest first, with dates.

    A post usually shows only a clock time: it is on the day of the previous post (the first on
    the event's day), moving to the next day when the clock goes backwards.
    """
    posts: list[tuple[datetime | None, str]] = []
    previous = started
    for match in _POST_RE.finditer(description or ""):
        stamp = " ".join(strip_html(match.group("stamp")).split())
        body = strip_html(match.group("body")).replace("\xa0", " ").strip()
        when = parse_stamp(stamp, previous) if previous else None
        if when is None and previous is not None:
            when = parse_clock(stamp, previous)
            while when is not None and when < previous - timedelta(minutes=1):
                when += timedelta(days=1)
        posts.append((when, body))
        previous = when or previous
    return posts


def parse_legacy(doc: dict[str, Any]) -> list[Incident]:
    out = []
    for bucket in ("current", "archive"):
        for raw in as_list(doc.get(bucket)):
            if isinstance(raw, dict):
                out.append(_legacy_incident(raw, archived=bucket == "archive"))
    return out


def _legacy_incident(raw: dict[str, Any], archived: bool) -> Incident:
    slug = text_or_none(raw.get("service")) or "aws"
    code = _code(raw.get("status"))
    started = parse_time(raw.get("date"))
    title, tag, tag_status, _ = aws_title(str(raw.get("summary") or ""))
    closed = archived or tag_status is IncidentStatus.resolved
    posts = legacy_posts(str(raw.get("description") or ""), started)
    if not posts and raw.get("details"):
        posts = [(started, strip_html(str(raw["details"])))]
    iid = f"{slug}_{raw.get('date')}"
    updates = [Update(id=f"{iid}#{n}", status=IncidentStatus.investigating.value, body=body, created_at=when)
               for n, (when, body) in enumerate(posts, start=1)]
    updates.reverse()
    if closed and updates:
        updates[0] = updates[0].model_copy(update={"status": IncidentStatus.resolved.value})
    _, region = split_slug(slug)
    times = [u.created_at for u in updates if u.created_at]
    return Incident(
        id=iid,
        title=title or slug,
        status=IncidentStatus.resolved if closed else IncidentStatus.investigating,
        raw_status=code,
        impact=CODE_IMPACT.get(code or "", Impact.none),
        raw_impact=code,
        started_at=started,
        updated_at=max(times, default=started),
        resolved_at=max(times, default=started) if closed else None,
        component_ids=[slug],
        regions=[region] if region else [],
        updates=updates,
    )


def _legacy_components(doc: dict[str, Any], incidents: list[Incident]) -> list[Component]:
    """Every service-region the file names; those with an open event take its status."""
    names: dict[str, str | None] = {}
    for bucket in ("current", "archive"):
        for raw in as_list(doc.get(bucket)):
            if isinstance(raw, dict) and raw.get("service"):
                names.setdefault(str(raw["service"]), text_or_none(raw.get("service_name")))
    open_codes: dict[str, list[str]] = {}
    for incident in incidents:
        if incident.is_open:
            for slug in incident.component_ids:
                open_codes.setdefault(slug, []).append(incident.raw_status or "")
    out = []
    for slug, name in names.items():
        codes = open_codes.get(slug)
        code = max(codes, key=lambda c: SEVERITY[CODE_STATUS.get(c, ComponentStatus.unknown)]) if codes else None
        out.append(_service_component(slug, name, code))
    return out


# --- RSS ----------------------------------------------------------------------------------------

def incidents_from_rss(entries: list[FeedEntry]) -> list[Incident]:
    """One incident per event: posts (items) of one service slug and title, oldest post's epoch as id."""
    groups: dict[tuple[str, str], list[tuple[FeedEntry, Incident]]] = {}
    for entry in entries:
        notice = notice_from_entry(entry)
        if not isinstance(notice, Incident):
            notice = Incident(id=notice.id, title=notice.title, raw_status=notice.raw_status,
                              started_at=notice.started_at, updates=notice.updates)
        match = _GUID_SLUG_RE.search(entry.id)
        slug = match.group("slug") if match else "aws"
        groups.setdefault((slug, notice.title.lower()), []).append((entry, notice))
    out = []
    for (slug, _), posts in groups.items():
        posts.sort(key=lambda p: epoch_seconds(p[1].started_at or p[1].updated_at))
        first_entry, first = posts[0]
        latest = posts[-1][1]
        epoch = m.group("epoch") if (m := _GUID_SLUG_RE.search(first_entry.id)) else None
        iid = f"{slug}_{epoch}" if epoch else first.id
        updates = []
        for entry, notice in reversed(posts):
            post = m.group("epoch") if (m := _GUID_SLUG_RE.search(entry.id)) else entry.id
            updates.extend(u.model_copy(update={"id": f"{iid}@{post}"}) for u in notice.updates)
        worst = max((p[1].impact for p in posts), key=IMPACT_RANK.__getitem__)
        _, region = split_slug(slug)
        out.append(Incident(
            id=iid,
            title=latest.title,
            status=latest.status,
            raw_status=latest.raw_status,
            impact=latest.impact if latest.is_open else worst,
            raw_impact=latest.raw_impact,
            started_at=first.started_at,
            updated_at=latest.updated_at or latest.started_at,
            resolved_at=None if latest.is_open else (latest.updated_at or latest.started_at),
            url=latest.url,
            component_ids=[slug],
            regions=[region] if region else [],
            updates=updates,
        ))
    return out


def _rss_components(incidents: list[Incident]) -> list[Component]:
    out: dict[str, Component] = {}
    for incident in sorted(incidents, key=lambda i: epoch_seconds(i.updated_at)):
        for slug in incident.component_ids:
            service, region = split_slug(slug)
            status = open_impact_status(incident.impact) if incident.is_open else ComponentStatus.operational
            out[slug] = Component(id=slug, name=service, region=region, status=status,
                                  raw_status=incident.raw_status, updated_at=incident.updated_at)
    return list(out.values())
