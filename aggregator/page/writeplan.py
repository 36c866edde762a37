"""Pure: (a poll's outcome, what is stored for its provider) -> a ``WritePlan``, the rows and events to write.

Every decision about what a poll changes is made here: whether the page changed, the events
(a first sight, a diff against the stored snapshot, ``provider.unreachable`` and
``provider.recovered``), how notices that left the page are closed, which provider columns
change. Nothing here reads a clock, a database or the network. The writer
(``aggregator.store.writer``) reads the stored state inside its transaction, asks for the plans
and executes them; an unchanged page, a changed one and a first sight are all plans, written by
the same statements.

The plan is made from the state as stored when the batch is written (not when the poll started):
another process (a second ``upstream poll`` beside ``watch``) may have written the provider in
between, and a plan made from an older state would record a first sight or an unreachable twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from aggregator.page.diff import Notice, diff
from aggregator.page.model import Event, Snapshot
from aggregator.page.parts import PageParts
from aggregator.page.serialize import NoticeRows, ParsedPage, notice_rows, prepare
from aggregator.page.vocab import EventKind
from aggregator.page.vocab import iso_z as iso


@dataclass
class PollOutcome:
    """What one poll of one provider produced, ready to be planned and applied by the single writer."""

    provider: str
    observed_at: datetime
    snapshot: Snapshot | None = None
    error: str | None = None
    not_modified: bool = False
    fetch_state: dict[str, Any] | None = None
    history: dict[str, Notice] = field(default_factory=dict)
    page: ParsedPage | None = None  # the snapshot as parsed for the writer (else built from ``snapshot``)
    next_due_at: float | None = None
    failures: int | None = None
    # Read beside the page (aggregator.store.backfill): notices from the platform's history (None:
    # not read), and the vendor's own uptime bars when they were read on this poll.
    backfill: list[Notice] | None = None
    vendor_uptime: list[dict[str, Any]] | None = None
    vendor_uptime_read: bool = False

    @property
    def has_extras(self) -> bool:
        return bool(self.backfill) or self.vendor_uptime_read


@dataclass(slots=True)
class StoredHead:
    """What is stored of a provider that every plan needs (one small row, read for every poll)."""

    snapshot_hash: str | None
    reachable: bool
    name: str


@dataclass(slots=True)
class StoredPage:
    """What is stored of a provider whose page changed: read only for those (see ``needs_stored_page``)."""

    snapshot_json: str | None  # None: no snapshot stored (a first sight)
    open_notices: list[tuple[str, str]]  # (id, kind) of its incidents and maintenances stored as open


@dataclass(slots=True)
class WritePlan:
    """The rows and events one poll writes: ``aggregator.store.writer`` executes it as it is."""

    provider: str
    provider_columns: dict[str, Any]  # columns of its ``providers`` row, in a stable order
    # (Empty tuples rather than lists by default: most polls change nothing, and a writer plans
    # thousands of them per batch.)
    snapshot_json: str | None = None  # the new latest snapshot, when the page changed
    notice_rows: Sequence[NoticeRows] = ()  # incidents (and their updates) to upsert
    closed_notices: Sequence[tuple[str, str, str, str, str]] = ()
    # ^ (status, resolved_at, last_seen_at, provider, id) of open notices that left the page unexplained
    events: Sequence[Event] = ()


def page_of(outcome: PollOutcome, head: StoredHead) -> ParsedPage | None:
    """The page as the store writes it: parsed where it was fetched, or prepared here from the
    in-process snapshot (a first sight when nothing is stored). None for a 304 or an error."""
    if outcome.error is not None:
        return None
    if outcome.page is None and outcome.snapshot is not None:
        outcome.page = prepare(PageParts.from_snapshot(outcome.snapshot), outcome.provider, outcome.observed_at,
                               first_sight=not head.snapshot_hash)
    return outcome.page


def needs_stored_page(page: ParsedPage | None, head: StoredHead) -> bool:
    """Whether planning needs the stored snapshot and open notices: only when the page changed."""
    return page is not None and page.content_hash != head.snapshot_hash


def plan_write(outcome: PollOutcome, head: StoredHead, page: ParsedPage | None,
               stored: StoredPage | None) -> WritePlan:
    """What the poll ``outcome`` writes over ``head`` (and ``stored``, given when
    ``needs_stored_page``); ``page`` is ``page_of(outcome, head)``."""
    now = iso(outcome.observed_at)
    columns = _schedule_columns(outcome, now)
    plan = WritePlan(outcome.provider, columns)
    if outcome.fetch_state is not None:
        columns["fetch_state"] = orjson.dumps(outcome.fetch_state).decode()

    if outcome.error is not None:
        columns["last_error"] = outcome.error
        if head.reachable:
            plan.events = [Event(kind=EventKind.provider_unreachable, provider=outcome.provider,
                                     subject_id=outcome.provider, subject_name=head.name, old="reachable",
                                     new="unreachable", observed_at=outcome.observed_at,
                                     detail={"reason": outcome.error})]
        columns["reachable"] = 0
        return plan

    if not head.reachable:
        plan.events = [Event(kind=EventKind.provider_recovered, provider=outcome.provider,
                             subject_id=outcome.provider, subject_name=head.name, old="unreachable",
                             new="reachable", observed_at=outcome.observed_at)]
    columns["reachable"] = 1
    columns["last_error"] = None
    columns["last_success_at"] = now
    if not needs_stored_page(page, head):
        return plan
    assert page is not None and stored is not None, "a changed page is planned with what is stored"
    if stored.snapshot_json is None and page.first_sight is not None:
        changes = page.first_sight  # computed where the page was parsed
    else:
        previous = Snapshot.model_validate_json(stored.snapshot_json) if stored.snapshot_json else None
        changes = diff(previous, page.model(), outcome.observed_at, outcome.history)
    plan.events = [*plan.events, *changes]
    plan.snapshot_json = page.json
    rows = list(page.notice_rows)
    closed: list[tuple[str, str, str, str, str]] = []
    # Open notices that left the current view are closed, with what history says where known.
    for notice_id, kind in stored.open_notices:
        if notice_id in page.notice_ids:
            continue
        ended = outcome.history.get(notice_id)
        if ended is not None and not ended.is_open:
            rows.append(notice_rows(outcome.provider, ended, now))
        else:
            closed.append(("resolved" if kind == "incident" else "completed", now, now, outcome.provider, notice_id))
    plan.notice_rows, plan.closed_notices = rows, closed
    columns.update(snapshot_hash=page.content_hash, status=page.status, raw_status=page.raw_status,
                   description=page.description, page_id=page.page_id)
    if changes:
        columns["last_changed_at"] = now
    return plan


def reschedule_plan(outcome: PollOutcome) -> WritePlan:
    """What is written for a poll that could not be applied: its time and schedule only, so that
    a page the writer chokes on is not retried in a loop; its state stays as it was."""
    return WritePlan(outcome.provider, _schedule_columns(outcome, iso(outcome.observed_at)))


def _schedule_columns(outcome: PollOutcome, now: str) -> dict[str, Any]:
    columns: dict[str, Any] = {"last_polled_at": now}
    if outcome.next_due_at is not None:
        columns["next_due_at"] = outcome.next_due_at
    if outcome.failures is not None:
        columns["failures"] = outcome.failures
    return columns
