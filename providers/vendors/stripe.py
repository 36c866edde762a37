"""Stripe status (``status.stripe.com/current``).

``{statuses: {<component>: up|degraded|down}, largestatus, message, time}``: one word per
component, one for the whole page, a free-text message and a time. There is no incident list.
The endpoint is reported to return a frozen document (platforms.md sec. 13, unverified): the
adapter reads it faithfully and leaves staleness to ``time``.
"""

from __future__ import annotations

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Snapshot
from aggregator.page.reading import join_url, load_object, parse_time, stated_or_worst, text_or_none, word_key
from aggregator.page.vocab import ComponentStatus

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

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "stripe /current")
        statuses = doc.get("statuses") if isinstance(doc.get("statuses"), dict) else {}
        if not statuses and "largestatus" not in doc:
            raise ParseError("stripe /current: no statuses or largestatus")
        when = parse_time(doc.get("time"))
        components = []
        for position, (name, word) in enumerate(statuses.items()):
            raw = text_or_none(word)
            components.append(Component(
                id=str(name), name=str(name), position=position, updated_at=when,
                status=WORDS.get(word_key(raw), ComponentStatus.unknown), raw_status=raw,
            ))
        large = text_or_none(doc.get("largestatus"))
        return Snapshot(
            platform=self.platform, name="Stripe", url=base_url,
            status=stated_or_worst(WORDS.get(word_key(large)), components), raw_status=large,
            description=text_or_none(doc.get("message")), components=components,
        )
