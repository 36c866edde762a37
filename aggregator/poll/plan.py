"""What a poll does with what it fetched: parse a page for its provider into what the writer stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aggregator.adapters import adapter_for
from aggregator.page.adapter import Bodies
from aggregator.page.serialize import ParsedPage, prepare, prepare_parts


@dataclass(slots=True)
class ParseJob:
    """A page to parse: what the adapter needs, and for whom it is stored."""

    platform: str
    bodies: Bodies
    url: str
    provider: str
    observed_at: datetime
    first_sight: bool


def parse_page(job: ParseJob) -> ParsedPage:
    """Parse one page (raises ``AdapterError`` only, as ``Adapter.parse`` does).

    Where the adapter gives ``PageParts`` (Statuspage, most pages there are), the page is written
    out from them without building its models; its ``snapshot`` is then None until ``model()``."""
    adapter = adapter_for(job.platform)
    parts = adapter.parse_parts(job.bodies, job.url)
    if parts is not None:
        return prepare_parts(parts, job.provider, job.observed_at, first_sight=job.first_sight)
    snap = adapter.parse(job.bodies, job.url)
    return prepare(snap, job.provider, job.observed_at, first_sight=job.first_sight)
