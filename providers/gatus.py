"""Gatus (self-hosted health dashboard): ``GET /api/v1/endpoints/statuses``.

The document is a JSON array, one entry per endpoint: ``{name, group, key ("<group>_<name>"),
results[], events[]}``. ``results`` come oldest first, and the request asks for one per endpoint
(``?page=1&pageSize=1``: page 1 is the newest results); the newest is the endpoint's state.
A result is ``{status (HTTP code), hostname, duration (nanoseconds), errors[] (omitted when
empty), conditionResults[]{condition, success}, success, timestamp}``. Endpoints that Gatus reads
from remote instances are listed in the same array.

Status mapping (``raw_status`` is Gatus's own event word for the state):

=============================  ====================  ==========================================
newest result ``success``      component status      source
=============================  ====================  ==========================================
``true``  (``HEALTHY``)        operational           Gatus's own test suite body (the corpus)
``false`` (``UNHEALTHY``)      major_outage          same; Gatus has no degraded state
no result                      unknown               --
=============================  ====================  ==========================================

Components are the endpoints (id = ``key``, group = ``group``); a failing one's description
names its errors, else the conditions that failed. The page's overall state is
``monitor_page_status`` (all failing: major outage, some: partial outage). A zero
``timestamp`` (``0001-01-01T00:00:00Z``) is no time.

Gatus has no incidents and no maintenances on its dashboard, so none are read (``lacks``).
Announcements (newer versions: ``outage``/``warning``/``information``/``operational``/``none``,
written in the server's configuration) are banners, not incidents with a lifecycle, and are not
read. When Gatus's security is configured, this endpoint needs a login (HTTP 401).
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Snapshot
from aggregator.page.reading import as_list, join_url, load_json, parse_time, text_or_none
from aggregator.page.vocab import ComponentStatus
from providers.monitor_pages import monitor_page_status

STATUSES_PATH = "api/v1/endpoints/statuses"


class GatusAdapter(Adapter):
    platform = "gatus"
    title = "Gatus"
    reads = frozenset({"components", "groups"})
    keys = ("statuses",)
    lacks = {"incidents": "Gatus has none", "maintenances": "Gatus has none"}

    def endpoints(self, base_url: str) -> list[Endpoint]:
        root = base_url.split("?", 1)[0].rstrip("/")
        if root.endswith("/" + STATUSES_PATH):
            root = root[: -len(STATUSES_PATH) - 1]
        return [Endpoint("statuses", join_url(root, STATUSES_PATH) + "?page=1&pageSize=1")]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_json(self.body(bodies), "gatus endpoint statuses")
        if not isinstance(doc, list) or any(not isinstance(e, dict) or "key" not in e for e in doc):
            raise ParseError("gatus: not an endpoint status list (expected an array of {key, results})")
        components = [component(entry, position) for position, entry in enumerate(doc)]
        return Snapshot(platform=self.platform, url=base_url, status=monitor_page_status(c.status for c in components),
                        components=components)


def component(entry: dict[str, Any], position: int) -> Component:
    key = str(entry["key"])
    results = [r for r in as_list(entry.get("results")) if isinstance(r, dict)]
    newest = results[-1] if results else None
    description = None
    if newest is None or not isinstance(newest.get("success"), bool):
        status, raw = ComponentStatus.unknown, None
    elif newest["success"]:
        status, raw = ComponentStatus.operational, "HEALTHY"
    else:
        status, raw = ComponentStatus.major_outage, "UNHEALTHY"
        errors = [str(e) for e in as_list(newest.get("errors")) if text_or_none(e)]
        failed = [str(c.get("condition")) for c in as_list(newest.get("conditionResults"))
                  if isinstance(c, dict) and c.get("success") is False and text_or_none(c.get("condition"))]
        description = "; ".join(errors) or (("failed: " + "; ".join(failed)) if failed else None)
    return Component(
        id=key,
        name=text_or_none(entry.get("name")) or key,
        group=text_or_none(entry.get("group")),
        status=status,
        raw_status=raw,
        description=description,
        position=position,
        updated_at=parse_time(newest.get("timestamp")) if newest else None,
    )
