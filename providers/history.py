"""Helpers the adapters share to read a platform's history: its past incidents and maintenances.

An adapter's ``history_endpoints(base_url)`` names where the platform publishes its history (a
JSON list, the same document as its current view, or a feed) and ``build_history(bodies,
base_url)`` returns every incident and maintenance those bodies hold, each with its own times and
all its updates. The engine reads them when it first sees a page (backfill) and when an incident
leaves the current view (to learn how it ended). Pure: bodies in, notices out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aggregator.page.adapter import Bodies, Endpoint
from aggregator.page.model import Incident, Maintenance, Snapshot
from aggregator.page.reading import classify_html, looks_like_html, notice_sort_key
from aggregator.page.vocab import IncidentStatus, MaintenanceStatus
from providers.feed import FEED_ACCEPT, notice_from_entry, read_feed, split_notices

Notice = Incident | Maintenance


def feed_endpoint(key: str, url: str) -> Endpoint:
    """An optional feed: a page that has no feed (or moved it) still follows normally."""
    return Endpoint(key, url, required=False, accept=FEED_ACCEPT)


def feed_notices(body: bytes, rename: Callable[[Notice], str | None] | None = None) -> list[Notice]:
    """Every entry of an RSS/Atom body as an incident or maintenance (newest first), read as the
    feed adapter reads it. ``rename`` may give a notice the id the platform's JSON uses for it
    (None keeps the feed's)."""
    doc = read_feed(body)
    incidents, maintenances = split_notices(notice_from_entry(e) for e in doc.entries)
    notices: list[Notice] = [*incidents, *maintenances]
    if rename is not None:
        renamed = []
        for notice in notices:
            new_id = rename(notice)
            renamed.append(notice.model_copy(update={"id": new_id}) if new_id and new_id != notice.id else notice)
        notices = renamed
    return sorted(notices, key=notice_sort_key)


def merge_history(*sources: Iterable[Notice]) -> list[Notice]:
    """Notices from several sources, one per id: an earlier source wins (pass the richest first,
    e.g. the platform's JSON before its feed). Newest first."""
    kept: dict[str, Notice] = {}
    for source in sources:
        for notice in source:
            known = kept.get(notice.id)
            if known is None:
                kept[notice.id] = notice
            elif not known.updates and notice.updates:
                # A current view that shows no posts (Instatus' summary) keeps the feed's text.
                kept[notice.id] = known.model_copy(update={"updates": notice.updates})
    return sorted(kept.values(), key=notice_sort_key)


def bodies_under(bodies: Bodies, keys: Iterable[str]) -> dict[str, bytes]:
    """The bodies under ``keys`` only (what an adapter's ``build`` accepts)."""
    wanted = set(keys)
    return {key: body for key, body in bodies.items() if key in wanted}


def closed_unless_current(notices: Iterable[Notice], open_ids: set[str], *,
                          lists_upcoming_maintenances: bool = False) -> list[Notice]:
    """Feed incidents the current view does not list as open are over, whatever their last entry
    says: a feed keeps old entries whose words (no "resolved" in them) read as open, and an
    incident backfilled as open would never close. Their end time stays unknown (None).

    Maintenances are closed the same way only where the current view lists the upcoming ones
    too (``lists_upcoming_maintenances``); elsewhere an upcoming one may not be in it yet."""
    out: list[Notice] = []
    for notice in notices:
        if notice.is_open and notice.id not in open_ids:
            if isinstance(notice, Incident):
                notice = notice.model_copy(update={"status": IncidentStatus.resolved})
            elif lists_upcoming_maintenances:
                notice = notice.model_copy(update={"status": MaintenanceStatus.completed})
        out.append(notice)
    return out


def refuse_html(body: bytes) -> None:
    """An HTML page where a feed was expected is named as JSON documents' are (inactive, login,
    or not JSON), so that every key of an adapter reports it the same way."""
    if looks_like_html(body):
        raise classify_html(body)


def looks_like_feed(body: bytes) -> bool:
    head = body[:600].lstrip()
    return head.startswith(b"<?xml") or b"<rss" in head or b"<feed" in head


def snapshot_of_history(platform: str, notices: Iterable[Notice], base_url: str | None) -> Snapshot:
    """A history document read on its own (``upstream parse`` of a saved feed or listing): its
    notices, and the page's state as the feed adapter reads a feed's (the worst open notice)."""
    from providers.feed import overall_status

    listed = list(notices)
    incidents = sorted((n for n in listed if isinstance(n, Incident)), key=notice_sort_key)
    maintenances = sorted((n for n in listed if isinstance(n, Maintenance)), key=notice_sort_key)
    return Snapshot(platform=platform, url=base_url, status=overall_status([*incidents, *maintenances]),
                    incidents=incidents, maintenances=maintenances)
