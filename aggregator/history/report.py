"""Uptime and incident statistics, rebuilt from the event log and the incidents table.

Plain sqlite3 and orjson (no pydantic, no HTTP stack), so ``upstream uptime`` and ``upstream
incidents`` start fast. How the figures are made (the same words are in ``POLICY_NOTE``):

- Timelines come from the ``events`` table, in log order. A provider's first sight
  (``provider.status_changed`` with ``detail.first_sight``) starts every listed component in its
  listed status; ``component.status_changed`` / ``added`` / ``removed`` move it on; the page's own
  overall status comes from ``provider.status_changed``. Before a component is first seen and
  after it is removed there is *no data*: that time is in no figure.
- When a change happened: the source's own time (``occurred_at``) when it is sane, that is not
  after we observed the change and not before the subject's previous change (or, for an added
  component, before the provider's previous observation); otherwise ``observed_at``. Vendors bump
  ``updated_at`` for edits, set it in the future by clock skew, or leave it stale, so an insane
  time is never trusted.
- From ``provider.unreachable`` to ``provider.recovered`` (or to now) we could not see the page:
  every component's status there is ``unknown``. Unknown time (unreachable, or a status the
  vendor did not give) is excluded from uptime by default, never counted as down.
- Uptime = time up / time known, where up is ``operational`` or ``under_maintenance`` by default.
- Incidents (counts by impact, mean time to resolve, longest outage) come from the ``incidents``
  table, kind ``incident`` (maintenances are never incidents): those active at any moment of the
  window. Duration runs from ``started_at`` (else first seen) to ``resolved_at``; an incident
  still open runs to the end of the window and is marked ongoing. MTTR averages resolved
  incidents only; the longest outage is the longest incident, open ones included.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import orjson

from aggregator.errors import ReportError
from aggregator.page.vocab import SEVERITY, ComponentStatus, Impact, iso_z

# The one ladder (aggregator.page.vocab); its StrEnum keys compare and hash as the stored words.
STATUSES = tuple(s.value for s in (ComponentStatus.operational, ComponentStatus.under_maintenance,
                                   ComponentStatus.degraded_performance, ComponentStatus.partial_outage,
                                   ComponentStatus.major_outage, ComponentStatus.unknown))
IMPACTS = tuple(i.value for i in Impact)
NO_DATA = "no_data"

POLICY_NOTE = ("Uptime counts operational{maint} as up; time we could not reach the page or the vendor gave "
               "no status is unknown and {unknown}; before a component was first seen there is no data.")

_TIMELINE_KINDS = ("provider.status_changed", "component.added", "component.removed",
                   "component.status_changed", "provider.unreachable", "provider.recovered")


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def worst(statuses: Iterable[str]) -> str:
    """The most severe status; unknown only when nothing else was seen."""
    return max(statuses, key=lambda s: SEVERITY.get(s, -1), default="unknown")


# ------------------------------------------------------------------------------------------------
# Timelines
# ------------------------------------------------------------------------------------------------

@dataclass
class Segment:
    start: datetime
    end: datetime
    status: str


@dataclass
class Timeline:
    """What one subject (a component, or the page as a whole) said over time; gaps are no data."""

    id: str
    name: str
    group: str | None = None
    listed: bool = True  # still on the page now
    segments: list[Segment] = field(default_factory=list)

    def times(self, start: datetime, end: datetime) -> dict[str, float]:
        """Seconds spent in each status within [start, end), plus ``no_data`` for the rest."""
        out = dict.fromkeys(STATUSES, 0.0)
        covered = 0.0
        for seg in self.segments:
            lo, hi = max(seg.start, start), min(seg.end, end)
            if hi > lo:
                seconds = (hi - lo).total_seconds()
                out[seg.status] = out.get(seg.status, 0.0) + seconds
                covered += seconds
        out[NO_DATA] = max(0.0, (end - start).total_seconds() - covered)
        return out

    def status_at(self, when: datetime) -> str | None:
        for seg in self.segments:
            if seg.start <= when < seg.end:
                return seg.status
        return None


@dataclass
class ProviderHistory:
    provider: str
    name: str
    page: Timeline
    components: list[Timeline]
    unknown: list[tuple[datetime, datetime]]  # periods when the page could not be reached
    first_seen: datetime | None


def _effective(occurred: datetime | None, observed: datetime, lower: datetime | None) -> datetime:
    """The source's own time where it is sane, else when we saw the change (see module doc)."""
    if occurred is None or occurred > observed:
        return observed
    if lower is not None and occurred < lower:
        return observed
    return occurred


class _Builder:
    """Walks one provider's events in log order, closing and opening segments."""

    def __init__(self, subject: str, name: str) -> None:
        self.timeline = Timeline(subject, name)
        self.open: tuple[str, datetime] | None = None

    def set(self, status: str, at: datetime) -> None:
        if self.open is not None:
            if self.open[0] == status:
                return
            self.close(at)
        self.open = (status, at)

    def close(self, at: datetime) -> None:
        if self.open is None:
            return
        status, since = self.open
        if at > since:
            self.timeline.segments.append(Segment(since, at, status))
        self.open = None

    @property
    def since(self) -> datetime | None:
        return self.open[1] if self.open else None


def load_history(conn: sqlite3.Connection, provider: str, until: datetime) -> ProviderHistory:
    """Rebuild a provider's page and component timelines from its events, up to ``until``."""
    prow = conn.execute("SELECT name FROM providers WHERE id = ?", [provider]).fetchone()
    name = prow[0] if prow else provider
    current = conn.execute("SELECT id, name, group_name FROM components WHERE provider = ? ORDER BY page_order",
                           [provider]).fetchall()
    listed = {r[0]: (r[1], r[2]) for r in current}
    order = [r[0] for r in current]
    names: dict[str, tuple[str, str | None]] = {}
    comps: dict[str, _Builder] = {}
    page = _Builder(provider, name)
    unknown: list[tuple[datetime, datetime]] = []
    unreachable_since: datetime | None = None
    first_seen: datetime | None = None
    # The poll being replayed and the one before it that saw the page (a lower bound for changes).
    this_poll: datetime | None = None
    last_poll: datetime | None = None

    def builder(cid: str) -> _Builder:
        if cid not in comps:
            comps[cid] = _Builder(cid, cid)
            if cid not in order:
                order.append(cid)
        return comps[cid]

    marks = ",".join("?" * len(_TIMELINE_KINDS))
    rows = conn.execute(
        f"SELECT kind, subject_id, subject_name, new, observed_at, occurred_at, detail FROM events "
        f"WHERE provider = ? AND kind IN ({marks}) ORDER BY seq", [provider, *_TIMELINE_KINDS])
    for kind, subject, subject_name, new, observed_s, occurred_s, detail_s in rows:
        observed = parse_iso(observed_s)
        if observed is None or observed > until:
            continue
        occurred = parse_iso(occurred_s)
        detail = orjson.loads(detail_s) if detail_s else {}
        if kind != "provider.unreachable" and observed != this_poll:
            last_poll, this_poll = this_poll, observed
        if kind == "provider.unreachable":
            if unreachable_since is None:
                unreachable_since = observed
        elif kind == "provider.recovered":
            if unreachable_since is not None:
                unknown.append((unreachable_since, observed))
                unreachable_since = None
        elif kind == "provider.status_changed":
            if detail.get("first_sight"):
                first_seen = first_seen or observed
                # A first sight (again, after the provider was re-followed) resets every component.
                seen = detail.get("components") or {}
                for cid, b in comps.items():
                    if cid not in seen:
                        b.close(observed)
                for cid, status in seen.items():
                    builder(cid).set(status or "unknown", observed)
            page.set(new or "unknown", observed)
        elif subject:
            b = builder(subject)
            if subject_name:
                names[subject] = (subject_name, detail.get("group"))
            lower = max((t for t in (b.since, last_poll) if t is not None), default=None)
            if kind == "component.removed":
                b.close(observed)
            else:  # component.added / component.status_changed
                b.set(new or "unknown", _effective(occurred, observed, lower))
    if unreachable_since is not None:
        unknown.append((unreachable_since, until))
    page.close(until)
    for b in comps.values():
        b.close(until)

    timelines = []
    for cid in order:
        b = comps.get(cid)
        if b is None:
            continue  # listed now but never in the log (should not happen): nothing to show
        cname, group = listed.get(cid) or names.get(cid) or (cid, None)
        b.timeline.name, b.timeline.group, b.timeline.listed = cname, group, cid in listed
        b.timeline.segments = _overlay_unknown(b.timeline.segments, unknown)
        timelines.append(b.timeline)
    page.timeline.segments = _overlay_unknown(page.timeline.segments, unknown, fill=True)
    return ProviderHistory(provider, name, page.timeline, timelines, unknown, first_seen)


def _overlay_unknown(segments: list[Segment], unknown: Sequence[tuple[datetime, datetime]],
                     fill: bool = False) -> list[Segment]:
    """Segments with the unreachable periods turned into ``unknown``; ``fill`` also covers the
    gaps (the page as a whole was followed but not reachable, even before its first sight)."""
    if not unknown:
        return segments
    out: list[Segment] = []
    for seg in segments:
        pieces = [seg]
        for u_start, u_end in unknown:
            nxt = []
            for p in pieces:
                if p.status == "unknown" or u_end <= p.start or u_start >= p.end:
                    nxt.append(p)
                    continue
                if p.start < u_start:
                    nxt.append(Segment(p.start, u_start, p.status))
                nxt.append(Segment(max(p.start, u_start), min(p.end, u_end), "unknown"))
                if u_end < p.end:
                    nxt.append(Segment(u_end, p.end, p.status))
            pieces = nxt
        out.extend(pieces)
    if fill:
        for u_start, u_end in unknown:
            cursor = u_start
            for seg in sorted(out, key=lambda s: s.start):
                if seg.end <= cursor or seg.start >= u_end:
                    continue
                if seg.start > cursor:
                    out.append(Segment(cursor, seg.start, "unknown"))
                cursor = max(cursor, seg.end)
            if cursor < u_end:
                out.append(Segment(cursor, u_end, "unknown"))
    out.sort(key=lambda s: s.start)
    merged: list[Segment] = []
    for seg in out:
        if merged and merged[-1].status == seg.status and merged[-1].end == seg.start:
            merged[-1] = Segment(merged[-1].start, seg.end, seg.status)
        else:
            merged.append(seg)
    return merged


# ------------------------------------------------------------------------------------------------
# Windows, days and uptime
# ------------------------------------------------------------------------------------------------

def midnight(day: date, tz: tzinfo | None) -> datetime:
    """Start of ``day`` in ``tz`` (None: the system's local zone, DST included), as UTC."""
    if tz is None:
        return datetime.combine(day, time()).astimezone().astimezone(UTC)
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """``days`` calendar days ending with today (in ``tz``): the last cell is today so far."""

    start: datetime
    end: datetime
    days: tuple[tuple[date, datetime, datetime], ...]
    tz_name: str

    @classmethod
    def last_days(cls, days: int, now: datetime, tz: tzinfo | None = UTC) -> Window:
        if days < 1:
            raise ValueError("days must be at least 1")
        now = now.astimezone(UTC)
        today = now.astimezone(tz).date() if tz is not None else now.astimezone().date()
        cells = []
        for back in range(days - 1, -1, -1):
            day = today - timedelta(days=back)
            lo, hi = midnight(day, tz), midnight(day + timedelta(days=1), tz)
            cells.append((day, lo, min(hi, now)))
        name = "UTC" if tz is UTC else (str(tz) if tz is not None else (now.astimezone().tzname() or "local"))
        return cls(cells[0][1], now, tuple(cells), name)


@dataclass(frozen=True)
class Policy:
    """What counts as up; the defaults are the ones status pages use."""

    maintenance_up: bool = True
    unknown_as_down: bool = False

    @property
    def up(self) -> frozenset[str]:
        return frozenset({"operational", "under_maintenance"} if self.maintenance_up else {"operational"})

    def note(self) -> str:
        return POLICY_NOTE.format(maint=" or under maintenance" if self.maintenance_up else " only",
                                  unknown="counts as down" if self.unknown_as_down else "is left out")

    def uptime(self, times: dict[str, float]) -> dict[str, Any]:
        up = sum(times.get(s, 0.0) for s in self.up)
        counted = sum(v for s, v in times.items() if s not in (NO_DATA, "unknown"))
        if self.unknown_as_down:
            counted += times.get("unknown", 0.0)
        return {"up_seconds": round(up, 3), "counted_seconds": round(counted, 3),
                "uptime_percent": round(100.0 * up / counted, 4) if counted > 0 else None}


def day_cells(timeline: Timeline, window: Window, policy: Policy) -> list[dict[str, Any]]:
    """One cell per day: the day's worst status (None when there is no data) and its figures."""
    # One sweep: segments are in time order and do not overlap, so each day looks only at its own.
    segments = timeline.segments
    first = 0
    cells = []
    for day, lo, hi in window.days:
        while first < len(segments) and segments[first].end <= lo:
            first += 1
        seconds: dict[str, float] = {}
        for seg in segments[first:]:
            if seg.start >= hi:
                break
            overlap = (min(seg.end, hi) - max(seg.start, lo)).total_seconds()
            if overlap > 0:
                seconds[seg.status] = seconds.get(seg.status, 0.0) + overlap
        cells.append({"date": day.isoformat(), "status": worst(seconds) if seconds else None,
                      "seconds": {k: round(v, 3) for k, v in seconds.items()},
                      "uptime_percent": policy.uptime(seconds)["uptime_percent"] if seconds else None})
    return cells


def rounded(times: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in times.items()}


# ------------------------------------------------------------------------------------------------
# Incidents
# ------------------------------------------------------------------------------------------------

def incident_rows(conn: sqlite3.Connection, provider: str | None = None, *, since: datetime | None = None,
                  until: datetime | None = None, open_only: bool = False, kind: str | None = "incident",
                  with_updates: bool = False) -> list[dict[str, Any]]:
    """Incidents (and/or maintenances) active at some moment of [since, until], newest first."""
    sql = ("SELECT i.provider, p.name AS provider_name, i.id, i.kind, i.title, i.impact, i.status, i.is_open, "
           "i.started_at, i.resolved_at, i.scheduled_for, i.scheduled_until, i.updated_at, i.first_seen_at, "
           "i.url, i.component_ids, i.regions, "
           + ("i.backfilled" if has_column(conn, "incidents", "backfilled") else "0") +
           " FROM incidents i LEFT JOIN providers p ON p.id = i.provider WHERE 1 = 1")
    args: list[Any] = []
    if provider:
        sql += " AND i.provider = ?"
        args.append(provider)
    if kind:
        sql += " AND i.kind = ?"
        args.append(kind)
    if open_only:
        sql += " AND i.is_open = 1"
    rows = []
    for r in conn.execute(sql, args).fetchall():
        row = dict(zip(("provider", "provider_name", "id", "kind", "title", "impact", "status", "is_open",
                        "started_at", "resolved_at", "scheduled_for", "scheduled_until", "updated_at",
                        "first_seen_at", "url", "component_ids", "regions", "backfilled"), r, strict=True))
        row["is_open"] = bool(row["is_open"])
        row["backfilled"] = bool(row["backfilled"])
        row["component_ids"] = orjson.loads(row["component_ids"]) if row["component_ids"] else []
        row["regions"] = orjson.loads(row["regions"]) if row["regions"] else []
        start = notice_start(row)
        end = parse_iso(row["resolved_at"]) if not row["is_open"] else None
        if until is not None and start is not None and start > until:
            continue
        if since is not None and not row["is_open"] and end is not None and end < since:
            continue
        row["provider_name"] = row["provider_name"] or row["provider"]
        rows.append(row)
    rows.sort(key=lambda r: (notice_start(r) or datetime.min.replace(tzinfo=UTC), r["provider"], r["id"]),
              reverse=True)
    if with_updates:
        for row in rows:
            row["updates"] = [
                {"id": u[0], "status": u[1], "body": u[2], "created_at": u[3]}
                for u in conn.execute(
                    "SELECT id, status, body, created_at FROM incident_updates WHERE provider = ? AND "
                    "incident_id = ? ORDER BY created_at DESC, id DESC", [row["provider"], row["id"]])]
    return rows


def has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    """Whether the (possibly older, read-only) database has this column yet."""
    return any(r[1] == column for r in conn.execute(f"PRAGMA table_info({table})"))


def notice_start(row: dict[str, Any]) -> datetime | None:
    if row.get("kind") == "maintenance":
        return parse_iso(row.get("scheduled_for")) or parse_iso(row.get("started_at")) \
            or parse_iso(row.get("first_seen_at"))
    return parse_iso(row.get("started_at")) or parse_iso(row.get("first_seen_at"))


def duration(row: dict[str, Any], now: datetime) -> tuple[float | None, bool]:
    """(seconds, ongoing) of one incident; an open one runs to ``now``."""
    start = notice_start(row)
    if start is None:
        return None, bool(row.get("is_open"))
    if row.get("is_open"):
        return max(0.0, (now - start).total_seconds()), True
    end = parse_iso(row.get("resolved_at"))
    return (max(0.0, (end - start).total_seconds()) if end else None), False


def incident_stats(rows: Sequence[dict[str, Any]], now: datetime, component: str | None = None) -> dict[str, Any]:
    """Counts by impact, MTTR and the longest outage over ``rows`` (kind incident)."""
    chosen = [r for r in rows if r["kind"] == "incident" and (component is None or component in r["component_ids"])]
    backfilled = sum(1 for r in chosen if r.get("backfilled"))
    by_impact = dict.fromkeys(("critical", "major", "minor", "none"), 0)
    resolved: list[float] = []
    longest: dict[str, Any] | None = None
    for r in chosen:
        by_impact[r["impact"]] = by_impact.get(r["impact"], 0) + 1
        seconds, ongoing = duration(r, now)
        if seconds is None:
            continue
        if not ongoing:
            resolved.append(seconds)
        if longest is None or seconds > longest["seconds"]:
            longest = {"provider": r["provider"], "id": r["id"], "title": r["title"], "impact": r["impact"],
                       "seconds": round(seconds, 3), "ongoing": ongoing, "started_at": r["started_at"],
                       "resolved_at": None if ongoing else r["resolved_at"]}
    return {
        "count": len(chosen),
        "open": sum(1 for r in chosen if r["is_open"]),
        "by_impact": by_impact,
        "resolved": len(resolved),
        "mttr_seconds": round(sum(resolved) / len(resolved), 3) if resolved else None,
        "longest_outage": longest,
        # Which incidents the figures count: read from the vendor's history, or seen by a poll.
        "backfilled": backfilled,
        "observed": len(chosen) - backfilled,
        "mttr_counts": counted_text(len(resolved), "resolved incident"),
        "longest_counts": counted_text(len(chosen), "incident") + (", open ones included" if chosen else ""),
    }


def counted_text(count: int, what: str) -> str:
    return f"over {count} {what}{'s' if count != 1 else ''}" if count else f"no {what}s"


# A figure over less observed time than this is shown as "-" with what it covers, never as a
# percentage of the whole window.
MIN_OBSERVED_SECONDS = 86_400.0


def coverage(counted_seconds: float, days: int) -> dict[str, Any]:
    """What an observed figure covers: the known time in the window, in words."""
    enough = counted_seconds >= MIN_OBSERVED_SECONDS
    if counted_seconds < 1:
        text = "under 1s observed"
    else:
        text = f"over {human_duration(counted_seconds)} observed" + (f" of the last {days} days" if enough else "")
    return {"observed_seconds": round(counted_seconds, 3), "enough": enough, "text": text}


def shown_percent(figure: dict[str, Any]) -> str:
    """An observed uptime as the terminal and the board show it: "-" under a day of observation."""
    if not figure.get("coverage", {}).get("enough"):
        return "-"
    return percent(figure.get("uptime_percent"))


# ------------------------------------------------------------------------------------------------
# The uptime report
# ------------------------------------------------------------------------------------------------

def match_component(history: ProviderHistory, wanted: str) -> list[Timeline]:
    """Components whose id or name (or group/name) is ``wanted``, case-insensitively."""
    low = wanted.strip().lower()
    exact = [t for t in history.components if low in (t.id.lower(), t.name.lower(),
                                                       f"{t.group or ''}/{t.name}".lower())]
    if exact:
        return exact
    return [t for t in history.components if low in t.name.lower()]



def uptime_report(conn: sqlite3.Connection, provider: str, *, days: int = 90, now: datetime | None = None,
                  component: str | None = None, tz: tzinfo | None = UTC,
                  policy: Policy | None = None) -> dict[str, Any]:
    """The figures ``upstream uptime`` prints (and ``--json`` emits): times in UTC, days in ``tz``."""
    policy = policy or Policy()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        window = Window.last_days(days, now, tz)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    history = load_history(conn, provider, now)
    timelines = history.components
    if component is not None:
        timelines = match_component(history, component)
        if not timelines:
            known = ", ".join(t.name for t in history.components[:8])
            raise ReportError(f"{provider} has no component {component!r}" + (f" (has: {known})" if known else ""))
    incidents = incident_rows(conn, provider, since=window.start, until=window.end)

    def figures(timeline: Timeline) -> dict[str, Any]:
        times = timeline.times(window.start, window.end)
        up = policy.uptime(times)
        return {"time_in_status_seconds": rounded(times), **up, "coverage": coverage(up["counted_seconds"], days),
                "current_status": timeline.status_at(now - timedelta(microseconds=1)),
                "days": day_cells(timeline, window, policy)}

    chosen = {t.id for t in timelines}
    return {
        "provider": provider,
        "name": history.name,
        "window": {"start": iso_z(window.start), "end": iso_z(window.end), "days": days, "day_zone": window.tz_name},
        "policy": {"up": sorted(policy.up), "unknown": "down" if policy.unknown_as_down else "excluded",
                   "note": policy.note()},
        "first_seen_at": iso_z(history.first_seen),
        "unreachable": [{"start": iso_z(a), "end": iso_z(b)} for a, b in history.unknown
                        if b > window.start and a < window.end],
        "page": figures(history.page),
        "components": [{"id": t.id, "name": t.name, "group": t.group, "listed": t.listed, **figures(t),
                        "incidents": incident_stats(incidents, now, t.id)} for t in timelines],
        "incidents": incident_stats(incidents if component is None else
                                    [r for r in incidents if chosen & set(r["component_ids"])], now),
        "vendor_uptime": vendor_uptime(conn, provider, window, chosen if component is not None else None),
    }


# Statuspage's own uptime figure (providers/statuspage_uptime.py reads the bars; the engine does not
# import adapters): a partial outage counts 30% of a major one, floored to 0.01, over days with data.
VENDOR_PARTIAL_WEIGHT = 0.3


def vendor_percent(days_with_data: int, partial_seconds: float, major_seconds: float) -> float | None:
    if days_with_data <= 0:
        return None
    weighted = major_seconds + VENDOR_PARTIAL_WEIGHT * partial_seconds
    return math.floor((1 - weighted / (days_with_data * 86_400)) * 10_000 + 1e-6) / 100


def vendor_uptime(conn: sqlite3.Connection, provider: str, window: Window,
                  only: set[str] | None = None) -> dict[str, Any] | None:
    """The uptime the vendor's own page reports (kept apart from what upstream observed), per
    component over the days of ``window`` the vendor gave; None where it was never read."""
    if not has_column(conn, "providers", "vendor_uptime_at"):
        return None
    read = conn.execute("SELECT vendor_uptime_at FROM providers WHERE id = ?", [provider]).fetchone()
    first_day, last_day = window.days[0][0].isoformat(), window.days[-1][0].isoformat()
    rows = conn.execute(
        "SELECT component_id, name, is_group, min(position), day, has_data, partial_outage_seconds, "
        "major_outage_seconds FROM vendor_uptime WHERE provider = ? AND day >= ? AND day <= ? "
        "GROUP BY component_id, day ORDER BY min(position), component_id, day",
        [provider, first_day, last_day]).fetchall()
    if not read or read[0] is None or not rows:
        return None
    comps: dict[str, dict[str, Any]] = {}
    for cid, name, is_group, _, day, has_data, partial, major in rows:
        if only is not None and cid not in only:
            continue
        c = comps.setdefault(cid, {"id": cid, "name": name, "is_group": bool(is_group), "days": {},
                                   "days_with_data": 0, "partial_outage_seconds": 0, "major_outage_seconds": 0})
        c["days"][day] = {"has_data": bool(has_data), "partial_outage_seconds": partial,
                          "major_outage_seconds": major}
        if has_data:
            c["days_with_data"] += 1
            c["partial_outage_seconds"] += partial
            c["major_outage_seconds"] += major
    out = []
    for c in comps.values():
        c["uptime_percent"] = vendor_percent(c["days_with_data"], c["partial_outage_seconds"],
                                             c["major_outage_seconds"])
        c["covers"] = f"vendor-reported, {c['days_with_data']} day{'s' if c['days_with_data'] != 1 else ''}"
        c["days"] = [{"date": d.isoformat(), **c["days"].get(d.isoformat(), {"has_data": False,
                                                                             "partial_outage_seconds": 0,
                                                                             "major_outage_seconds": 0})}
                     for d, _, _ in window.days]
        out.append(c)
    covered = max((c["days_with_data"] for c in out), default=0)
    return {"label": "reported by the vendor", "read_at": iso_z(datetime.fromtimestamp(read[0], UTC)),
            "covers": f"vendor-reported, {covered} day{'s' if covered != 1 else ''}", "components": out}


def human_duration(seconds: float | None) -> str:
    """3d 4h, 2h 5m, 12m, 40s."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m, sec = divmod(rem, 60)
    if d:
        return f"{d}d {h}h" if h else f"{d}d"
    if h:
        return f"{h}h {m}m" if m else f"{h}h"
    if m:
        return f"{m}m"
    return f"{sec}s"


def percent(value: float | None) -> str:
    """Two decimals, never rounding a real loss up to a perfect 100%."""
    if value is None:
        return "n/a"
    if value < 100.0 and round(value, 2) >= 100.0:
        return "99.99%"
    return f"{value:.2f}%"
