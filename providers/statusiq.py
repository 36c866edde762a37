"""Site24x7 StatusIQ pages: ``<page host>/sp/api/public/summary_details/statuspages/<enc_statuspage_id>``
(asked with ``Accept: application/json; version=2.0``).

The encrypted page id (``enc_statuspage_id`` in the page HTML; detection finds it) is needed:
``base_url`` may be that API URL or any URL containing ``enc_statuspage_id=<id>``.

Shape (platforms.md §9 and §13; no real capture in the corpus): ``data.current_status[]`` holds
components (``display_name``, ``component_status``, ``last_polled_time``) and groups
(``componentgroup_display_name``, ``componentgroup_status``, ``componentgroup_components[]`` of
components). Status integers: 1 operational, 2 informational (operational), 3 degraded,
4 under maintenance, 5 partial outage, 6 major outage; ``raw_status`` keeps the number. Items
carry no documented id: ``component_id``/``id`` when present, else the display name (prefixed by
the group's name inside a group, as names repeat across groups). Incidents are not read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Snapshot
from aggregator.page.reading import as_list, load_object, parse_time, stated_or_worst, text_or_none, word_key
from aggregator.page.vocab import ComponentStatus

STATUS = {
    "1": ComponentStatus.operational,
    "2": ComponentStatus.operational,  # informational
    "3": ComponentStatus.degraded_performance,
    "4": ComponentStatus.under_maintenance,
    "5": ComponentStatus.partial_outage,
    "6": ComponentStatus.major_outage,
}
API_PATH = "/sp/api/public/summary_details/statuspages/"
_API_RE = re.compile(re.escape(API_PATH) + r"([A-Za-z0-9_-]+)")
_PARAM_RE = re.compile(r"enc_statuspage_id=([A-Za-z0-9_-]+)")


def summary_url(base_url: str) -> str:
    parts = urlsplit(base_url.strip())
    match = _API_RE.search(base_url) or _PARAM_RE.search(base_url)
    if not match or not parts.netloc:
        raise ParseError(
            "statusiq: the encrypted page id (enc_statuspage_id in the page HTML) is needed; give "
            f"<page>{API_PATH}<id> or a URL with enc_statuspage_id=<id> instead of {base_url!r}")
    return urlunsplit((parts.scheme or "https", parts.netloc, API_PATH + match.group(1), "", ""))


class StatusIQAdapter(Adapter):
    platform = "statusiq"
    title = "Site24x7 StatusIQ"
    reads = frozenset({"components", "groups"})
    keys = ("summary",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("summary", summary_url(base_url), accept="application/json; version=2.0")]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "statusiq summary")
        data = doc.get("data")
        if not isinstance(data, dict) or "current_status" not in data:
            raise ParseError("statusiq: no data.current_status (not a StatusIQ summary)")
        components: list[Component] = []
        for position, item in enumerate(as_list(data.get("current_status"))):
            if not isinstance(item, dict):
                continue
            if "componentgroup_components" in item or "componentgroup_display_name" in item:
                group = text_or_none(item.get("componentgroup_display_name"))
                for member in as_list(item.get("componentgroup_components")):
                    if isinstance(member, dict):
                        component = _component(member, group, position)
                        if component is not None:
                            components.append(component)
            else:
                component = _component(item, None, position)
                if component is not None:
                    components.append(component)
        return Snapshot(
            platform=self.platform,
            name=text_or_none(data.get("statuspage_name")) or text_or_none(data.get("display_name")),
            url=base_url,
            status=stated_or_worst(None, components),
            components=components,
        )


def _component(item: dict[str, Any], group: str | None, position: int) -> Component | None:
    name = text_or_none(item.get("display_name")) or text_or_none(item.get("name"))
    ident = text_or_none(item.get("component_id")) or text_or_none(item.get("id"))
    if name is None and ident is None:
        return None
    if ident is None:
        ident = f"{group}/{name}" if group else str(name)
    raw = text_or_none(item.get("component_status"))
    return Component(
        id=ident,
        name=name or ident,
        group=group,
        status=STATUS.get(word_key(raw), ComponentStatus.unknown),
        raw_status=raw,
        position=position,
        updated_at=parse_time(item.get("last_polled_time")),
    )
