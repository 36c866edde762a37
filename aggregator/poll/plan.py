"""What a poll does with what it fetched: parse a page for its provider into what the writer stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aggregator.adapters import adapter_for
from aggregator.page.adapter import Bodies
from aggregator.page.serialize import ParsedPage, prepare


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
    """Parse one page into what the writer stores (raises ``AdapterError`` only, as the adapter does).

    Its ``snapshot`` model is None until ``model()`` is asked for (the diff of a changed page)."""
    adapter = adapter_for(job.platform)
    return prepare(adapter.parse_page(job.bodies, job.url), job.provider, job.observed_at,
                   first_sight=job.first_sight)
