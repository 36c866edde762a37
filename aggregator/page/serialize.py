"""A fetched page parsed into what the writer stores: a ``ParsedPage``.

Adapters are pure, so a page can be parsed anywhere, and a poll worker process
(aggregator.poll.workers) parses the pages it fetches. What it sends the writer is a ``ParsedPage``:
the snapshot as the JSON the store keeps, its content hash, the rows of its incidents and
maintenances and, for a provider seen for the first time, its first-sight events. The writer
stores a first sight without rebuilding the model (rebuilding a snapshot from its JSON, or from
any serialised form, costs about as much as parsing the page again); it rebuilds it only to diff against a previous
snapshot. In-process polls build the same ``ParsedPage`` and keep the model on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b
from typing import Any

import orjson
from pydantic import TypeAdapter

from aggregator.page.diff import Notice
from aggregator.page.diff import first_sight as diff_first_sight
from aggregator.page.model import Event, Incident, Maintenance, Snapshot
from aggregator.page.parts import PageParts
from aggregator.page.vocab import ComponentStatus
from aggregator.page.vocab import iso_z as iso

NoticeRows = tuple[tuple[Any, ...], list[tuple[Any, ...]]]  # (incidents row, incident_updates rows)


@dataclass(slots=True)
class ParsedPage:
    """One provider's parsed page, in the form the store writes it."""

    provider: str
    json: str  # the Snapshot (provider and fetched_at set) as stored
    content_hash: str  # ``snapshot_hash``: what the page says, not when it was fetched
    status: str
    raw_status: str | None
    description: str | None
    page_id: str | None
    notice_ids: frozenset[str]  # incidents and maintenances the page lists
    notice_rows: list[NoticeRows]
    first_sight: list[Event] | None  # diff(None, page), when asked for (no snapshot stored yet)
    snapshot: Snapshot | None = None  # the model itself, where it was parsed in this process

    def model(self) -> Snapshot:
        """The Snapshot (rebuilt from the JSON when the page was parsed in another process)."""
        if self.snapshot is None:
            self.snapshot = Snapshot.model_validate_json(self.json)
        return self.snapshot


def snapshot_hash(snap: Snapshot) -> str:
    """Hash of what a stored snapshot says, ignoring when we fetched it: equal hashes mean nothing
    changed (the ``content_hash`` ``prepare`` gives the same page)."""
    page = PageParts.from_snapshot(snap)
    return prepare(page, snap.provider or "", snap.fetched_at or datetime.min, first_sight=False).content_hash


def _content_hash(undated_json: bytes) -> str:
    # Pydantic writes a model's fields in their declared order, so equal snapshots are the same
    # bytes (no dict with free keys is part of a Snapshot), and ``prepare`` writes those bytes.
    return blake2b(undated_json, digest_size=16).hexdigest()


def dated_json(undated_json: str, fetched_at: datetime) -> str:
    """The JSON of an undated snapshot with its ``fetched_at`` filled in, without serialising it again.

    ``"fetched_at":null`` can only be the top-level key: no nested model has such a field, and
    a quote inside a JSON string is escaped (``\\"``)."""
    return undated_json.replace('"fetched_at":null', f'"fetched_at":"{iso(fetched_at)}"', 1)


def notice_rows(provider: str, notice: Notice, now: str | None) -> NoticeRows:
    """The ``incidents`` row and ``incident_updates`` rows of one notice seen at ``now``."""
    maint = notice if isinstance(notice, Maintenance) else None
    incident = (provider, notice.id, "maintenance" if maint else "incident", notice.title, notice.impact.value,
                notice.status.value, notice.raw_status, int(notice.is_open), iso(notice.started_at),
                iso(notice.updated_at), iso(notice.resolved_at), iso(maint.scheduled_for) if maint else None,
                iso(maint.scheduled_until) if maint else None, notice.url,
                _json_list(notice.component_ids), _json_list(notice.regions), now, now)
    updates = [(provider, notice.id, u.id, u.status, u.raw_status, u.body, iso(u.created_at)) for u in notice.updates]
    return incident, updates


def _json_list(values: list[str]) -> str:
    return orjson.dumps(values).decode()


_VALUE = {status: status.value for status in ComponentStatus}  # ``.value`` is a slow property
_INCIDENT_LIST = TypeAdapter(list[Incident])
_NONE = orjson.Fragment(b"[]")
_MAINTENANCE_LIST = TypeAdapter(list[Maintenance])


def prepare(parts: PageParts, provider: str, observed_at: datetime, *, first_sight: bool = True) -> ParsedPage:
    """The page as the store writes it for ``provider``, observed at ``observed_at``: the JSON of
    its ``Snapshot`` (the bytes pydantic would write: field order, times, escapes; tested), its
    content hash, its notice rows and, for a first sight, its first-sight events."""
    now = iso(observed_at)
    notices = (*parts.incidents, *parts.maintenances)
    document = {
        "provider": provider, "name": parts.name, "url": parts.url, "platform": parts.platform,
        "category": None, "page_id": parts.page_id, "fetched_at": None, "status": parts.status,
        "raw_status": parts.raw_status, "description": parts.description, "components": parts.components,
        # The notices (few) are models: pydantic writes them, as it writes any snapshot.
        "incidents": orjson.Fragment(_INCIDENT_LIST.dump_json(parts.incidents)) if parts.incidents else _NONE,
        "maintenances": orjson.Fragment(_MAINTENANCE_LIST.dump_json(parts.maintenances))
        if parts.maintenances else _NONE,
    }
    undated = orjson.dumps(document, option=orjson.OPT_UTC_Z)
    return ParsedPage(
        provider=provider,
        json=dated_json(undated.decode(), observed_at),
        content_hash=_content_hash(undated),
        status=parts.status.value,
        raw_status=parts.raw_status,
        description=parts.description,
        page_id=parts.page_id,
        notice_ids=frozenset(n.id for n in notices),
        notice_rows=[notice_rows(provider, n, now) for n in notices],
        first_sight=diff_first_sight(provider, parts.name, parts.status, parts.description,
                                     {c["id"]: _VALUE[c["status"]] for c in parts.components}, parts.incidents,
                                     parts.maintenances, observed_at) if first_sight else None,
    )
