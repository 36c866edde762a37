"""The vendor's own uptime, as a Statuspage HTML page publishes it for its 90-day uptime bars.

A Statuspage home page draws one bar per component with a day per rectangle, and embeds the data
behind the bars in a script: ``var uptimeData = {...}`` (newer pages: ``window.uptimeData = {...}``
with ``var uptimeData = window.uptimeData`` after it). Per component code it holds the component
(name, ``isGroup``, the ``group`` member codes, an optional ``startDate``) and its days, each with
``outages`` in seconds of partial (``p``) and major (``m``) outage and the incidents behind them.

The colours of the bars are never read: they are a continuous range and custom themes change them.
A day is "no data" where the page's own script says so: a day before the component's
``startDate``, or a day without an ``outages`` object.

Pure: ``read_uptime(body)`` takes the page's bytes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from aggregator.page.adapter import Endpoint, ParseError
from aggregator.page.reading import decode_text, site_root

# The assignment whose right-hand side is the object itself (not the ``window.uptimeData`` alias).
_ASSIGNMENT_RE = re.compile(r"(?:\bwindow\.|\bvar\s+|\blet\s+|\bconst\s+)uptimeData\s*=\s*(?=\{)")

# Statuspage's uptime figure counts a partial outage at 30% of a major one and floors to 2 decimals
# (checked against the figure every captured page prints next to each bar).
PARTIAL_OUTAGE_WEIGHT = 0.3
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class UptimeDay:
    """One day of one component's bar, as the page's data gives it."""

    day: date
    has_data: bool
    partial_outage_seconds: int = 0
    major_outage_seconds: int = 0
    related_incident_ids: tuple[str, ...] = ()

    @property
    def partial_outage_minutes(self) -> float:
        return self.partial_outage_seconds / 60

    @property
    def major_outage_minutes(self) -> float:
        return self.major_outage_seconds / 60


@dataclass(frozen=True, slots=True)
class ComponentUptime:
    """One component's (or group's) bar: its days oldest first."""

    id: str
    name: str
    is_group: bool
    member_ids: tuple[str, ...]
    start_date: date | None
    days: tuple[UptimeDay, ...]

    @property
    def days_with_data(self) -> int:
        return sum(1 for d in self.days if d.has_data)

    @property
    def partial_outage_seconds(self) -> int:
        return sum(d.partial_outage_seconds for d in self.days)

    @property
    def major_outage_seconds(self) -> int:
        return sum(d.major_outage_seconds for d in self.days)

    def uptime_percent(self) -> float | None:
        """The page's own figure for this bar (partial outage weighted 0.3, floored to 0.01), over
        the days with data; None where no day has data."""
        covered = self.days_with_data
        if not covered:
            return None
        weighted = sum(d.major_outage_seconds + PARTIAL_OUTAGE_WEIGHT * d.partial_outage_seconds
                       for d in self.days if d.has_data)
        # The small epsilon keeps 99.7 - float noise from flooring to 99.69.
        return math.floor((1 - weighted / (covered * SECONDS_PER_DAY)) * 10_000 + 1e-6) / 100


@dataclass(frozen=True, slots=True)
class VendorUptime:
    """Every bar a page draws, in the page's data order."""

    components: tuple[ComponentUptime, ...]

    @property
    def first_day(self) -> date | None:
        return min((c.days[0].day for c in self.components if c.days), default=None)

    @property
    def last_day(self) -> date | None:
        return max((c.days[-1].day for c in self.components if c.days), default=None)

    def component(self, component_id: str) -> ComponentUptime | None:
        return next((c for c in self.components if c.id == component_id), None)


def uptime_endpoint(base_url: str) -> Endpoint:
    """The page to GET for its uptime bars: the status page's home page (its HTML, not the API)."""
    # providers.html's HTML_ACCEPT, written out: importing providers.html (which imports
    # providers.statuspage) from here would make an import circle.
    return Endpoint("page", f"{site_root(base_url)}/", required=False,
                    accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")


def find_uptime_data(text: str) -> dict[str, Any] | None:
    """The ``uptimeData`` object a page embeds, or None where it has none."""
    match = _ASSIGNMENT_RE.search(text)
    if match is None:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, match.end())
    except json.JSONDecodeError as exc:
        raise ParseError(f"statuspage uptime: uptimeData is not valid JSON ({exc})"[:200]) from None
    if not isinstance(value, dict):
        raise ParseError("statuspage uptime: uptimeData is not an object")
    return value


def read_uptime(body: bytes) -> VendorUptime | None:
    """The vendor-reported uptime of a Statuspage HTML page: None when the page draws no uptime
    bars; ParseError when it embeds data that is not of the known shape."""
    data = find_uptime_data(decode_text(body))
    if data is None:
        return None
    components = [_component(code, entry) for code, entry in data.items()]
    return VendorUptime(components=tuple(components))


def _component(code: str, entry: Any) -> ComponentUptime:
    if not isinstance(entry, dict) or not isinstance(entry.get("days"), list):
        raise ParseError(f"statuspage uptime: component {code!r} has no list of days")
    component = entry.get("component") if isinstance(entry.get("component"), dict) else {}
    start_date = _date_or_none(component.get("startDate"))
    days = sorted((_day(raw, start_date, code) for raw in entry["days"]), key=lambda d: d.day)
    members = component.get("group")
    return ComponentUptime(
        id=str(component.get("code") or code),
        name=str(component.get("name") or code).strip(),
        is_group=component.get("isGroup") is True,
        member_ids=tuple(str(m) for m in members) if isinstance(members, list) else (),
        start_date=start_date,
        days=tuple(days),
    )


def _day(raw: Any, start_date: date | None, code: str) -> UptimeDay:
    if not isinstance(raw, dict):
        raise ParseError(f"statuspage uptime: component {code!r} has a day that is not an object")
    day = _date_or_none(raw.get("date"))
    if day is None:
        raise ParseError(f"statuspage uptime: component {code!r} has a day without a date ({raw.get('date')!r})")
    outages = raw.get("outages")
    # As the page's tooltip script: before the component's start date there is no data.
    if not isinstance(outages, dict) or (start_date is not None and day < start_date):
        return UptimeDay(day=day, has_data=False)
    related = tuple(str(e["code"]) for e in raw.get("related_events") or []
                    if isinstance(e, dict) and e.get("code"))
    return UptimeDay(day=day, has_data=True, partial_outage_seconds=_seconds(outages.get("p")),
                     major_outage_seconds=_seconds(outages.get("m")), related_incident_ids=related)


def _seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return 0
    return int(value)


def _date_or_none(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
