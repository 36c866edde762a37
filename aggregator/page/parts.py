"""``PageParts``: a page as an adapter read it, before its components become models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from aggregator.page.model import Component, Incident, Maintenance, Snapshot
from aggregator.page.vocab import (
    ComponentStatus,
)


@dataclass(slots=True)
class PageParts:
    """The page: what every adapter's ``parse_page`` gives and ``aggregator.page.serialize`` stores.

    Components are plain dicts (every ``Component`` field in the model's order, values as
    validated): building a model per component was most of the cost of parsing a large page, and
    the store writes them out with orjson as they are. Notices, few per page, are models.
    ``snapshot()`` is the same page as the exported ``Snapshot`` model, for whoever reads one
    (``upstream parse``, detection, the diff of a changed page)."""

    platform: str
    name: str | None
    url: str | None
    page_id: str | None
    status: ComponentStatus
    raw_status: str | None
    description: str | None
    components: list[dict[str, Any]]  # every Component field, in the model's order, values as validated
    incidents: list[Incident]
    maintenances: list[Maintenance]

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> PageParts:
        """The page of an adapter that finds it simplest to build the Snapshot model itself."""
        return cls(platform=snap.platform, name=snap.name, url=snap.url, page_id=snap.page_id, status=snap.status,
                   raw_status=snap.raw_status, description=snap.description,
                   components=[c.model_dump() for c in snap.components], incidents=list(snap.incidents),
                   maintenances=list(snap.maintenances))

    def snapshot(self) -> Snapshot:
        return Snapshot(platform=self.platform, name=self.name, url=self.url, page_id=self.page_id,
                        status=self.status, raw_status=self.raw_status, description=self.description,
                        components=_COMPONENT_LIST.validate_python(self.components), incidents=self.incidents,
                        maintenances=self.maintenances)


_COMPONENT_LIST = TypeAdapter(list[Component])
