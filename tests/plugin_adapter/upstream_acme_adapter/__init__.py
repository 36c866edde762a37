"""A made-up platform, ``GET /acme.json`` -> ``{"name": ..., "services": [{"id", "name", "state"}]}``.

It imports nothing of upstream but ``aggregator.page``, as docs/adapters.md asks of every adapter.
"""

from __future__ import annotations

from aggregator.errors import ParseError
from aggregator.page.adapter import Adapter, Bodies, Endpoint
from aggregator.page.model import Component, Snapshot
from aggregator.page.reading import join_url, load_object
from aggregator.page.vocab import ComponentStatus, worst_status

STATES = {"up": ComponentStatus.operational, "slow": ComponentStatus.degraded_performance,
          "down": ComponentStatus.major_outage}


class AcmeJsonAdapter(Adapter):
    platform = "acmejson"
    title = "Acme JSON status (test plugin)"
    reads = frozenset({"components"})
    keys = ("main",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("main", join_url(base_url, "acme.json"))]

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "acme.json")
        services = doc.get("services")
        if not isinstance(services, list):
            raise ParseError("acmejson: no services list")
        components = [Component(id=str(s["id"]), name=str(s["name"]),
                                status=STATES.get(s.get("state"), ComponentStatus.unknown), raw_status=s.get("state"))
                      for s in services if isinstance(s, dict)]
        return Snapshot(platform=self.platform, name=doc.get("name"), url=base_url,
                        status=worst_status(c.status for c in components), components=components)
