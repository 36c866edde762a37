"""What every adapter is: the endpoints it GETs and a pure function from their bodies to a page.

Adapters never do I/O. ``Adapter.parse`` is the only entry point the engine calls; it guarantees
that an adapter returns a valid page or raises an ``AdapterError`` and nothing else, so a
hostile or broken page can never crash a poll. The errors are re-exported here so that an
adapter needs nothing of the engine but ``aggregator.page``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aggregator.errors import (
    AdapterError,
    LoginRequiredError,
    NotJSONError,
    NotStatusPageError,
    PageInactiveError,
    ParseError,
)
from aggregator.page.model import Incident, Maintenance, Snapshot
from aggregator.page.parts import PageParts


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One URL an adapter wants fetched; ``key`` names the body when it is handed back."""

    key: str
    url: str
    required: bool = True
    accept: str = "application/json"


Bodies = Mapping[str, bytes]

class Adapter:
    """Base class of every platform adapter; the engine finds adapters by entry point (``upstream.adapters``).

    Subclasses set the class attributes and implement ``endpoints`` and ``build``.
    """

    platform: ClassVar[str] = ""
    title: ClassVar[str] = ""
    # Which parts of the model this adapter fills: components, incidents, maintenances, updates, regions.
    reads: ClassVar[frozenset[str]] = frozenset()
    # Keys of the bodies ``build`` understands, in the order ``classify`` tries them.
    keys: ClassVar[tuple[str, ...]] = ("main",)
    # Parts of the model the platform itself does not have (part -> why), so that ``upstream
    # platforms`` says so instead of leaving users to wonder why none ever show up.
    lacks: ClassVar[dict[str, str]] = {}

    # --- what to GET -------------------------------------------------------------------------
    def endpoints(self, base_url: str) -> list[Endpoint]:
        """The URLs to fetch for the current state of the page at ``base_url``."""
        raise NotImplementedError

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        """URLs that tell how incidents and maintenances that left the current view ended."""
        return []

    def uptime_endpoints(self, base_url: str) -> list[Endpoint]:
        """URLs where the platform publishes the vendor's own per-day uptime (Statuspage's HTML
        home page and its uptime bars); read when a page is first followed and daily after."""
        return []

    def more_endpoints(self, bodies: Bodies, base_url: str) -> list[Endpoint]:
        """Further URLs that the bodies of ``endpoints`` call for: the other pages of a paginated
        list. The engine fetches them once, after ``endpoints``, and hands every body to ``build``
        together; their keys must be among ``keys``. Most platforms answer in one document."""
        return []

    # --- bodies to snapshot --------------------------------------------------------------------
    def build(self, bodies: Bodies, base_url: str | None) -> PageParts | Snapshot:
        """The page the bodies describe: ``PageParts`` (what large pages are read into), or the
        ``Snapshot`` model where that is simpler to write; ``parse_page`` makes either the page."""
        raise NotImplementedError

    def build_history(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        return []

    def build_notices(self, bodies: Bodies, base_url: str | None) -> list[Incident | Maintenance]:
        """Every incident and maintenance ``build`` reads: the history of an adapter whose history
        endpoints answer in the format of its current view (``build_history = Adapter.build_notices``)."""
        snapshot = self.build(bodies, base_url)
        return [*snapshot.incidents, *snapshot.maintenances]

    def classify(self, body: bytes, filename: str = "") -> str:
        """Which endpoint key a saved body answers (used by ``upstream parse`` on files)."""
        return self.keys[0]

    def check_keys(self, bodies: Bodies) -> None:
        """ParseError unless there is a body and every body is under one of this adapter's keys."""
        if not bodies:
            raise ParseError(f"{self.platform}: nothing to parse")
        unknown = set(bodies) - set(self.keys)
        if unknown:
            raise ParseError(f"{self.platform}: unknown body keys {sorted(unknown)} (expected {self.keys})")

    def body(self, bodies: Bodies, key: str | None = None) -> bytes:
        """The body ``build`` reads under ``key`` (by default the adapter's first key), else ParseError.

        A body is taken only under its own key, never because it is the only one given: the engine
        keys bodies by endpoint and ``upstream parse`` by ``classify``, so a body under another key
        is a caller's mistake (or another document) and is refused, the same way by every adapter.
        """
        wanted = key or self.keys[0]
        found = bodies.get(wanted)
        if found is None:
            article = "an" if wanted[:1] in ("a", "e", "i", "o", "u") else "a"
            raise ParseError(f"{self.platform}: expected {article} {wanted!r} body, got {sorted(bodies)}")
        return found

    def parse_page(self, bodies: Bodies, base_url: str | None = None) -> PageParts:
        """Bodies (by endpoint key) to the page: the one entry point of the engine; raises only
        ``AdapterError``. A page that lists one id twice: the last listing wins, as the store and
        the diff read it."""
        self.check_keys(bodies)
        built = self._guarded(self.build, bodies, base_url)
        page = built if isinstance(built, PageParts) else PageParts.from_snapshot(built)
        page.platform = self.platform
        if len({c["id"] for c in page.components}) != len(page.components):
            page.components = _last_listing_wins(page.components, lambda c: c["id"])
        for field in ("incidents", "maintenances"):
            items = getattr(page, field)
            if len({item.id for item in items}) != len(items):
                setattr(page, field, _last_listing_wins(items, lambda item: item.id))
        return page

    def parse(self, bodies: Bodies, base_url: str | None = None) -> Snapshot:
        """``parse_page`` as the exported ``Snapshot`` model; raises only ``AdapterError``."""
        page = self.parse_page(bodies, base_url)
        return self._guarded(lambda _bodies, _url: page.snapshot(), bodies, base_url)

    def _guarded(self, build: Any, bodies: Bodies, base_url: str | None) -> Any:
        try:
            return build(bodies, base_url)
        except AdapterError:
            raise
        except RecursionError as exc:
            raise ParseError(f"{self.platform}: document nested too deeply") from exc
        except Exception as exc:  # noqa: BLE001 - the contract: nothing but AdapterError escapes
            raise ParseError(f"{self.platform}: unexpected document shape ({type(exc).__name__}: {exc})"[:300]) from exc

    def build_uptime(self, bodies: Bodies, base_url: str | None) -> list[dict[str, Any]] | None:
        """The vendor-reported uptime in ``bodies`` (of ``uptime_endpoints``): per component
        ``{"id", "name", "is_group", "days": [{"date", "has_data", "partial_outage_seconds",
        "major_outage_seconds"}]}``; None where the page publishes none."""
        return None

    def parse_uptime(self, bodies: Bodies, base_url: str | None = None) -> list[dict[str, Any]] | None:
        """``build_uptime``, raising only ``AdapterError``."""
        return self._guarded(self.build_uptime, bodies, base_url)  # type: ignore[no-any-return]

    def parse_history(self, bodies: Bodies, base_url: str | None = None) -> list[Incident | Maintenance]:
        try:
            return self.build_history(bodies, base_url)
        except AdapterError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ParseError(f"{self.platform}: unexpected history shape ({type(exc).__name__}: {exc})"[:300]) from exc


def _last_listing_wins(items: list[Any], key: Any) -> list[Any]:
    last = {key(item): index for index, item in enumerate(items)}
    return [item for index, item in enumerate(items) if last[key(item)] == index]

__all__ = ["Adapter", "AdapterError", "Bodies", "Endpoint", "LoginRequiredError", "NotJSONError", "NotStatusPageError",
           "PageInactiveError", "ParseError"]
