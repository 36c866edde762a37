"""StatusHub pages: ``<page>/api/statuses``, which gives only counters of services by state.

``counters.count_status_1`` (up), ``count_status_2`` (affected) and ``count_status_3`` (down)
(platforms.md §9 and §13: they are nested under ``counters``; older documents had them at the top
level, accepted too). The page state is derived from them: any service down -> major outage when
nothing is up or affected, else partial outage; any affected -> degraded performance; only up ->
operational; no counters -> unknown. ``raw_status`` keeps the counters verbatim. No components or
incidents are public in this API.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Snapshot
from aggregator.page.reading import join_url, load_object
from aggregator.page.vocab import ComponentStatus

COUNTERS = ("count_status_1", "count_status_2", "count_status_3")


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class StatusHubAdapter(Adapter):
    platform = "statushub"
    title = "StatusHub"
    reads = frozenset()  # counters only
    keys = ("statuses",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("statuses", join_url(base_url, "api/statuses"))]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "statushub statuses")
        counters = doc.get("counters") if isinstance(doc.get("counters"), dict) else doc
        if not any(key in counters for key in COUNTERS):
            raise ParseError("statushub: no count_status_1/2/3 counters")
        up, affected, down = (_count(counters.get(key)) or 0 for key in COUNTERS)
        if down:
            status = ComponentStatus.partial_outage if up or affected else ComponentStatus.major_outage
        elif affected:
            status = ComponentStatus.degraded_performance
        elif up:
            status = ComponentStatus.operational
        else:
            status = ComponentStatus.unknown
        raw = ",".join(f"{key}={counters.get(key)}" for key in COUNTERS if key in counters)
        return Snapshot(platform=self.platform, url=base_url, status=status, raw_status=raw)
