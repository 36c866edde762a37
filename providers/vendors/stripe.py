"""Stripe status (``status.stripe.com/current``).

``{statuses: {<component>: up|degraded|down}, largestatus, message, time}``: one word per
component, one for the whole page, a free-text message and a time. There is no incident list.
The endpoint is reported to return a frozen document (platforms.md sec. 13, unverified): the
adapter reads it faithfully and leaves staleness to ``time``.
"""

from __future__ import annotations

from aggregator.model import Component, ComponentStatus, Snapshot, worst_status
from providers.base import (
    Adapter,
    Bodies,
    Endpoint,
    ParseError,
    expect_dict,
    join_url,
    load_json,
    parse_time,
    text_or_none,
)

WORDS: dict[str, ComponentStatus] = {
    "up": ComponentStatus.operational,
    "degraded": ComponentStatus.degraded_performance,
    "down": ComponentStatus.major_outage,
}


class StripeAdapter(Adapter):
    platform = "stripe"
    title = "Stripe status"
    reads = frozenset({"components"})
    keys = ("current",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        return [Endpoint("current", join_url(base_url, "current"))]

    def classify(self, body: bytes, filename: str = "") -> str:
        return "current"

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        body = bodies.get("current")
        if body is None:
            if len(bodies) != 1:
                raise ParseError("stripe: expected the /current body")
            body = next(iter(bodies.values()))
        doc = expect_dict(load_json(body, "stripe /current"), "stripe /current")
        statuses = doc.get("statuses") if isinstance(doc.get("statuses"), dict) else {}
        if not statuses and "largestatus" not in doc:
            raise ParseError("stripe /current: no statuses or largestatus")
        when = parse_time(doc.get("time"))
        components = []
        for position, (name, word) in enumerate(statuses.items()):
            raw = text_or_none(word)
            components.append(Component(
                id=str(name), name=str(name), position=position, updated_at=when,
                status=WORDS.get((raw or "").lower(), ComponentStatus.unknown), raw_status=raw,
            ))
        large = text_or_none(doc.get("largestatus"))
        if large and large.lower() in WORDS:
            overall = WORDS[large.lower()]
        elif components:
            overall = worst_status(c.status for c in components)
        else:
            overall = ComponentStatus.unknown
        return Snapshot(
            platform=self.platform, name="Stripe", url=base_url, status=overall, raw_status=large,
            description=text_or_none(doc.get("message")), components=components,
        )
