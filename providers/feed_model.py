"""What both feed readers give: a ``FeedDocument`` of ``FeedEntry`` values.

It sits apart from ``providers.feed`` (which reads feeds with feedparser and turns entries into
notices) and ``providers.feed_fast`` (the fast reader) so that each of them can build it without
importing the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aggregator.page.reading import strip_html, text_or_none


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One RSS item / Atom entry, reduced to what status logic needs."""

    id: str
    title: str
    link: str | None
    html: str
    published: datetime | None
    updated: datetime | None
    categories: tuple[str, ...] = ()

    @property
    def reference_time(self) -> datetime | None:
        """The time a year-less stamp in this entry is read against."""
        return self.published or self.updated


@dataclass(frozen=True, slots=True)
class FeedDocument:
    title: str | None
    link: str | None
    updated: datetime | None
    generator: str | None
    version: str
    entries: list[FeedEntry] = field(default_factory=list)


def make_entry(link: str | None, raw_id: Any, title: str, html: str, published: datetime | None,
               updated: datetime | None, terms: Iterable[Any]) -> FeedEntry | None:
    """One entry from the values both readers take from a feed (feedparser's names); None for an
    entry with nothing in it."""
    entry_id = text_or_none(raw_id) or link
    title = strip_html(title)
    if entry_id is None:
        if not title and not html:
            return None
        entry_id = title or html[:80]
    return FeedEntry(
        id=entry_id,
        title=" ".join(title.split()),
        link=link,
        html=html,
        published=published,
        updated=updated,
        categories=tuple(t for t in (text_or_none(term) for term in terms) if t),
    )
