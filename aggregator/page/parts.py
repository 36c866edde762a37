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
    """A page as an adapter read it, before its components become models.

    ``snapshot()`` is the Snapshot ``Adapter.parse`` gives. ``aggregator.page.serialize`` writes the
    parts out as the same JSON without building a model per component, which is most of the cost
    of parsing a large page; tests hold the two to the same bytes."""

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

    def snapshot(self) -> Snapshot:
        return Snapshot(platform=self.platform, name=self.name, url=self.url, page_id=self.page_id,
                        status=self.status, raw_status=self.raw_status, description=self.description,
                        components=_COMPONENT_LIST.validate_python(self.components), incidents=self.incidents,
                        maintenances=self.maintenances)


_COMPONENT_LIST = TypeAdapter(list[Component])
