"""The outbox: events are matched to subscriptions and queued INSIDE the transaction that records
them (``register_event_hook``), so a recorded event is never without its deliveries, nor the
reverse. The dispatcher (dispatch.py) sends what is queued.

Noise control happens here:

* events of a provider's first sight (``detail.first_sight``) never notify, nor does anything else
  in the same poll (a page first reached after failures "recovers" without a message), nor a page
  that has never been reached becoming unreachable;
* unreachable/recovered notify only subscriptions whose kinds include ``unreachable``;
* flapping: a status change (component, provider status, reachability) is held for the
  subscription's flap window (``not_before`` = observed + window). A further change of the same
  subject while it is held is folded into that delivery instead of queuing another: one
  notification tells the whole path (``data.flap``), typed ``*.flapped`` when the subject ended
  where it started. The hold is extended by each folded change, up to three windows from the
  first. The folded event keeps a delivery row of its own in state ``folded`` (for the record).
* min-severity: a status change counts at its worse side (so a recovery from a major outage is
  major), an incident at the highest impact it ever had; and a change of a subject the
  subscriber was last told is not fine is always sent, so nobody is left believing it is down.

A failure to build one payload must not lose the poll: the delivery is recorded as failed with
the reason (visible in ``upstream deliveries --failed``) and the poll commits.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

import orjson

from aggregator.notify.render import summary_line
from aggregator.notify.subscriptions import Subscription, load_subscriptions
from aggregator.page.model import Event
from aggregator.page.vocab import IMPACT_RANK, EventKind
from aggregator.page.vocab import iso_z as iso

log = logging.getLogger("upstream.notify")

STATUS_LEVEL = {"degraded_performance": 1, "partial_outage": 2, "major_outage": 3}
IMPACT_LEVEL = {"minor": 1, "major": 2, "critical": 3}
SEVERITY_LEVEL = IMPACT_RANK  # min_severity is minor, major or critical
FOLDABLE = {EventKind.component_status_changed, EventKind.provider_status_changed,
            EventKind.provider_unreachable, EventKind.provider_recovered}
FLAPPED_TYPE = {"component": "component.flapped", "provider": "provider.flapped",
                "reach": "provider.reachability_flapped"}
MAX_HOLD_WINDOWS = 3


def family(kind: EventKind) -> str:
    """The filter kind an event belongs to."""
    if kind in (EventKind.provider_unreachable, EventKind.provider_recovered):
        return "unreachable"
    if kind == EventKind.provider_status_changed:
        return "provider"
    return kind.value.split(".", 1)[0]


def subject_key(ev: Event) -> str:
    fam = family(ev.kind)
    if fam == "unreachable":
        return f"reach:{ev.provider}"
    if fam == "provider":
        return f"provider:{ev.provider}"
    return f"{fam}:{ev.provider}/{ev.subject_id}"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _instance(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM notify_meta WHERE key = 'instance'").fetchone()
    return row[0] if row else "0"


def idempotency_key(instance: str, event_seq: int | str, subscription_id: int) -> str:
    """Stable per (event, subscription): the webhook-id of every attempt of this notification."""
    return f"msg_{instance}_{event_seq}_{subscription_id}"


class Context:
    """What the hook reads about providers, components and notices, cached for one batch."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._providers: dict[str, dict[str, Any] | None] = {}
        self._components: dict[str, dict[str, dict[str, Any]]] = {}
        self._notices: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._impacts: dict[tuple[str, str], int] = {}
        self.instance = _instance(conn)

    def _one(self, sql: str, args: list[Any]) -> dict[str, Any] | None:
        cur = self.conn.execute(sql, args)
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def provider(self, pid: str) -> dict[str, Any] | None:
        if pid not in self._providers:
            self._providers[pid] = self._one(
                "SELECT id, name, url, platform, category, status, description, reachable, last_error, "
                "last_success_at FROM providers WHERE id = ?", [pid])
        return self._providers[pid]

    def components(self, pid: str) -> dict[str, dict[str, Any]]:
        if pid not in self._components:
            cur = self.conn.execute("SELECT id, name, group_name, region, status FROM components "
                                    "WHERE provider = ?", [pid])
            cols = [c[0] for c in cur.description]
            self._components[pid] = {r[0]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
        return self._components[pid]

    def notice(self, pid: str, nid: str) -> dict[str, Any] | None:
        key = (pid, nid)
        if key not in self._notices:
            row = self._one("SELECT * FROM incidents WHERE provider = ? AND id = ?", [pid, nid])
            if row is not None:
                cur = self.conn.execute("SELECT status, body, created_at FROM incident_updates "
                                        "WHERE provider = ? AND incident_id = ?", [pid, nid])
                updates = [{"status": s, "body": b or "", "created_at": c} for s, b, c in cur.fetchall()]
                updates.sort(key=lambda u: _sort_time(u["created_at"]), reverse=True)
                row["latest_update"] = updates[0] if updates else None
            self._notices[key] = row
        return self._notices[key]

    def max_incident_impact(self, ev: Event) -> int:
        """The highest impact this incident ever had, from the event log."""
        key = (ev.provider, ev.subject_id or "")
        if key not in self._impacts:
            self._impacts[key] = self._max_impact(ev)
        return self._impacts[key]

    def _max_impact(self, ev: Event) -> int:
        cur = self.conn.execute("SELECT detail FROM events WHERE provider = ? AND subject_id = ? "
                                "AND kind LIKE 'incident.%' AND detail IS NOT NULL", [ev.provider, ev.subject_id])
        best = 0
        for (detail,) in cur.fetchall():
            data = orjson.loads(detail)
            best = max(best, IMPACT_LEVEL.get(data.get("impact"), 0), IMPACT_LEVEL.get(data.get("old_impact"), 0))
        return best

    def last_told(self, sub: Subscription, key: str) -> str | None | bool:
        """The subject state of the last notification queued for ``key``; False when none was."""
        row = self.conn.execute("SELECT subject_state FROM deliveries WHERE subscription_id = ? AND subject_key = ? "
                                "AND state != 'folded' ORDER BY id DESC LIMIT 1", [sub.id, key]).fetchone()
        return False if row is None else row[0]


def _sort_time(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return 0.0


# ------------------------------------------------------------------------------------------------
# Matching
# ------------------------------------------------------------------------------------------------

def _affected(ev: Event, ctx: Context) -> list[dict[str, Any]]:
    """The components an event concerns: its subject, or a notice's affected components."""
    fam = family(ev.kind)
    detail = ev.detail or {}
    comps = ctx.components(ev.provider)
    if fam == "component":
        known = comps.get(ev.subject_id or "") or {}
        return [{"id": ev.subject_id, "name": ev.subject_name or known.get("name"),
                 "group_name": detail.get("group") or known.get("group_name"),
                 "region": detail.get("region") or known.get("region")}]
    if fam in ("incident", "maintenance"):
        ids = detail.get("component_ids")
        if ids is None:
            row = ctx.notice(ev.provider, ev.subject_id or "")
            ids = orjson.loads(row["component_ids"]) if row and row.get("component_ids") else []
        return [comps.get(cid) or {"id": cid, "name": None, "group_name": None, "region": None} for cid in ids]
    return []


def _regions(ev: Event, ctx: Context) -> list[str]:
    detail = ev.detail or {}
    found = [r for r in [detail.get("region"), *(detail.get("regions") or [])] if r]
    if family(ev.kind) in ("incident", "maintenance") and not detail.get("regions"):
        row = ctx.notice(ev.provider, ev.subject_id or "")
        if row and row.get("regions"):
            found.extend(orjson.loads(row["regions"]))
    found.extend(c["region"] for c in _affected(ev, ctx) if c.get("region"))
    return found


def _glob(value: str | None, patterns: list[str]) -> bool:
    return bool(value) and any(fnmatchcase(value.lower(), p.lower()) for p in patterns)


def severity(ev: Event, ctx: Context) -> int:
    fam = family(ev.kind)
    if fam in ("component", "provider"):
        return max(STATUS_LEVEL.get(ev.old or "", 0), STATUS_LEVEL.get(ev.new or "", 0))
    if fam == "incident":
        detail = ev.detail or {}
        level = max(IMPACT_LEVEL.get(detail.get("impact"), 0), IMPACT_LEVEL.get(detail.get("old_impact"), 0))
        if ev.kind != EventKind.incident_opened and level < 3:
            level = max(level, ctx.max_incident_impact(ev))
        return level
    return 0


def matches(sub: Subscription, ev: Event, ctx: Context) -> bool:
    f = sub.filters
    fam = family(ev.kind)
    if fam not in f.kinds:
        return False
    if f.providers and ev.provider not in f.providers:
        return False
    if f.categories:
        category = (ctx.provider(ev.provider) or {}).get("category")
        if not category or category.lower() not in {c.lower() for c in f.categories}:
            return False
    if f.components and not any(_glob(c.get("name"), f.components) or _glob(c.get("id"), f.components)
                                or _glob(c.get("group_name"), f.components) for c in _affected(ev, ctx)):
        return False
    if f.regions and not any(_glob(r, f.regions) for r in _regions(ev, ctx)):
        return False
    if f.min_severity and fam in ("component", "provider", "incident"):
        wanted = SEVERITY_LEVEL[f.min_severity]
        if severity(ev, ctx) < wanted and not _told_not_fine(sub, ev, ctx):
            return False
    return True


def _told_not_fine(sub: Subscription, ev: Event, ctx: Context) -> bool:
    """Was this subscriber told about this subject, in a state that this event changes?"""
    told = ctx.last_told(sub, subject_key(ev))
    if told is False:
        return False
    if family(ev.kind) == "incident":
        return True  # updates and the resolution of an incident they were told about
    return STATUS_LEVEL.get(told or "", 0) > 0 and told != ev.new


# ------------------------------------------------------------------------------------------------
# Payloads
# ------------------------------------------------------------------------------------------------

def _event_dict(ev: Event) -> dict[str, Any]:
    return {"seq": ev.seq, "kind": ev.kind.value, "provider": ev.provider, "subject_id": ev.subject_id,
            "subject_name": ev.subject_name, "old": ev.old, "new": ev.new, "observed_at": iso(ev.observed_at),
            "occurred_at": iso(ev.occurred_at), "detail": ev.detail}


def _provider_dict(ev: Event, ctx: Context) -> dict[str, Any]:
    row = ctx.provider(ev.provider) or {}
    return {"id": ev.provider, "name": row.get("name") or ev.provider, "url": row.get("url") or "",
            "platform": row.get("platform") or "", "category": row.get("category"), "status": row.get("status"),
            "description": row.get("description"), "reachable": bool(row.get("reachable", 1)),
            "last_error": row.get("last_error")}


def _component_dict(ev: Event, ctx: Context) -> dict[str, Any] | None:
    if family(ev.kind) != "component":
        return None
    detail = ev.detail or {}
    known = ctx.components(ev.provider).get(ev.subject_id or "") or {}
    return {"id": ev.subject_id or "", "name": ev.subject_name or known.get("name") or "",
            "group": detail.get("group") or known.get("group_name"),
            "region": detail.get("region") or known.get("region"),
            "status": None if ev.kind == EventKind.component_removed else (ev.new or known.get("status"))}


def _notice_dict(ev: Event, ctx: Context) -> dict[str, Any]:
    detail = ev.detail or {}
    row = ctx.notice(ev.provider, ev.subject_id or "") or {}
    comps = ctx.components(ev.provider)
    ids = detail.get("component_ids") or (orjson.loads(row["component_ids"]) if row.get("component_ids") else [])
    latest = row.get("latest_update")
    if latest is None and detail.get("latest_update"):
        latest = {"status": ev.new, "body": detail["latest_update"], "created_at": iso(ev.occurred_at)}
    return {
        "id": ev.subject_id or "",
        "title": row.get("title") or ev.subject_name or "",
        "impact": row.get("impact") or detail.get("impact") or "none",
        "status": ev.new or row.get("status") or "",
        "url": row.get("url") or detail.get("url"),
        "started_at": row.get("started_at"),
        "resolved_at": row.get("resolved_at"),
        "scheduled_for": row.get("scheduled_for"),
        "scheduled_until": row.get("scheduled_until"),
        "components": [{"id": cid, "name": (comps.get(cid) or {}).get("name")} for cid in ids],
        "regions": detail.get("regions") or (orjson.loads(row["regions"]) if row.get("regions") else []),
        "latest_update": latest,
    }


def build_payload(ev: Event, ctx: Context, sub: Subscription, key: str) -> dict[str, Any]:
    fam = family(ev.kind)
    payload: dict[str, Any] = {
        "id": key,
        "type": ev.kind.value,
        "timestamp": iso(ev.observed_at),
        "data": {
            "event": _event_dict(ev),
            "provider": _provider_dict(ev, ctx),
            "component": _component_dict(ev, ctx),
            "incident": _notice_dict(ev, ctx) if fam == "incident" else None,
            "maintenance": _notice_dict(ev, ctx) if fam == "maintenance" else None,
            "flap": None,
            "subscription": {"id": sub.id, "name": sub.name},
            "text": "",
            "test": False,
        },
    }
    payload["data"]["text"] = summary_line(payload)
    return payload


def _dumps(payload: dict[str, Any]) -> str:
    return orjson.dumps(payload).decode()


# ------------------------------------------------------------------------------------------------
# The hook
# ------------------------------------------------------------------------------------------------

def enqueue_events(db: Any, events: list[Event]) -> None:
    """Event hook: runs inside the store's apply transaction, right after ``events`` are appended."""
    conn: sqlite3.Connection = db.conn
    subs = load_subscriptions(conn, active_only=True)
    if not subs or not events:
        return
    ctx = Context(conn)
    first_sight = {ev.provider for ev in events if (ev.detail or {}).get("first_sight")}
    for ev in events:
        if ev.provider in first_sight or ev.seq is None:
            continue
        if ev.kind == EventKind.provider_unreachable and not (ctx.provider(ev.provider) or {}).get("last_success_at"):
            continue  # never reached yet: that is a bad URL, not a page going away
        for sub in subs:
            try:
                if matches(sub, ev, ctx):
                    queue(conn, sub, ev, ctx)
            except Exception as exc:  # noqa: BLE001 - a notify bug must not roll the poll back
                log.exception("could not queue event %s for subscription %s", ev.seq, sub.id)
                _queue_broken(conn, ctx, sub, ev, exc)


def queue(conn: sqlite3.Connection, sub: Subscription, ev: Event, ctx: Context) -> int:
    """Queue ``ev`` for ``sub`` (folding it into a held delivery of the same subject); returns the row id."""
    key = idempotency_key(ctx.instance, ev.seq or 0, sub.id)
    skey = subject_key(ev)
    payload = build_payload(ev, ctx, sub, key)
    observed = ev.observed_at.timestamp()
    now = _now_iso()
    not_before = observed
    if ev.kind in FOLDABLE and sub.flap_window > 0:
        held = conn.execute(
            "SELECT id, payload, not_before, event_seq FROM deliveries WHERE subscription_id = ? "
            "AND subject_key = ? AND state = 'pending' AND attempts = 0 AND not_before > ? "
            "ORDER BY id DESC LIMIT 1", [sub.id, skey, observed]).fetchone()
        if held is not None:
            return _fold(conn, sub, ev, payload, held, key, skey, now)
        not_before = observed + sub.flap_window
    cur = conn.execute(
        "INSERT INTO deliveries (subscription_id, event_seq, last_event_seq, idempotency_key, type, provider, "
        "subject_key, subject_state, state, payload, not_before, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
        [sub.id, ev.seq, ev.seq, key, payload["type"], ev.provider, skey, ev.new, _dumps(payload), not_before,
         now, now])
    return cur.lastrowid or 0


def _fold(conn: sqlite3.Connection, sub: Subscription, ev: Event, payload: dict[str, Any], held: tuple[Any, ...],
          key: str, skey: str, now: str) -> int:
    held_id, held_json, held_not_before, first_seq = held
    previous = orjson.loads(held_json)
    flap = previous["data"].get("flap") or {
        "statuses": [previous["data"]["event"]["old"], previous["data"]["event"]["new"]],
        "event_seqs": [previous["data"]["event"]["seq"]],
        "first_observed_at": previous["timestamp"],
    }
    flap["statuses"] = [*flap["statuses"], ev.new]
    flap["event_seqs"] = [*flap["event_seqs"], ev.seq]
    flap["last_observed_at"] = iso(ev.observed_at)
    flap["changes"] = len(flap["statuses"]) - 1
    flap["returned"] = flap["statuses"][0] == flap["statuses"][-1]
    folded = dict(payload)
    folded["id"] = previous["id"]
    folded["timestamp"] = previous["timestamp"]
    folded["type"] = FLAPPED_TYPE[skey.split(":", 1)[0]] if flap["returned"] else ev.kind.value
    folded["data"] = {**payload["data"], "flap": flap}
    folded["data"]["text"] = summary_line(folded)
    first = datetime.fromisoformat(flap["first_observed_at"]).timestamp()
    not_before = max(held_not_before, min(ev.observed_at.timestamp() + sub.flap_window,
                                          first + MAX_HOLD_WINDOWS * sub.flap_window))
    conn.execute("UPDATE deliveries SET payload = ?, type = ?, subject_state = ?, last_event_seq = ?, "
                 "not_before = ?, updated_at = ? WHERE id = ?",
                 [_dumps(folded), folded["type"], ev.new, ev.seq, not_before, now, held_id])
    conn.execute(
        "INSERT INTO deliveries (subscription_id, event_seq, last_event_seq, idempotency_key, type, provider, "
        "subject_key, subject_state, state, payload, not_before, folded_into, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'folded', ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
        [sub.id, ev.seq, ev.seq, key, payload["type"], ev.provider, skey, ev.new, _dumps(payload),
         ev.observed_at.timestamp(), held_id, now, now])
    log.debug("folded event %s into delivery %s (%s)", ev.seq, held_id, folded["type"])
    return held_id


def _queue_broken(conn: sqlite3.Connection, ctx: Context, sub: Subscription, ev: Event, exc: Exception) -> None:
    key = idempotency_key(ctx.instance, ev.seq or 0, sub.id)
    now = _now_iso()
    error = f"could not build the notification: {type(exc).__name__}: {exc}"[:300]
    try:
        conn.execute(
            "INSERT INTO deliveries (subscription_id, event_seq, last_event_seq, idempotency_key, type, provider, "
            "subject_key, subject_state, state, payload, not_before, last_error, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
            [sub.id, ev.seq, ev.seq, key, ev.kind.value, ev.provider, subject_key(ev), ev.new,
             _dumps({"id": key, "type": ev.kind.value, "event": _event_dict(ev)}), ev.observed_at.timestamp(),
             error, now, now])
    except sqlite3.Error:
        log.exception("could not record the failed delivery of event %s", ev.seq)


def sample_payload(conn: sqlite3.Connection, sub: Subscription) -> dict[str, Any]:
    """A made-up incident.opened (``data.test`` true) for ``upstream subscriptions test``."""
    import uuid

    now = datetime.now(UTC).replace(microsecond=0)
    stamp = iso(now)
    key = f"msg_{_instance(conn)}_test_{uuid.uuid4().hex[:12]}"
    update = "This is a sample notification from upstream: nothing is wrong. Your sink works."
    payload: dict[str, Any] = {
        "id": key,
        "type": "incident.opened",
        "timestamp": stamp,
        "data": {
            "event": {"seq": None, "kind": "incident.opened", "provider": "upstream-test",
                      "subject_id": "test-incident", "subject_name": "Test notification", "old": None,
                      "new": "investigating", "observed_at": stamp, "occurred_at": stamp,
                      "detail": {"impact": "minor", "latest_update": update}},
            "provider": {"id": "upstream-test", "name": "upstream (test)", "url": "https://upstream.invalid/status",
                         "platform": "statuspage", "category": None, "status": "degraded_performance",
                         "description": "Minor Service Outage", "reachable": True, "last_error": None},
            "component": None,
            "incident": {"id": "test-incident", "title": "Test notification", "impact": "minor",
                         "status": "investigating", "url": "https://upstream.invalid/status/incidents/test",
                         "started_at": stamp, "resolved_at": None, "scheduled_for": None, "scheduled_until": None,
                         "components": [{"id": "test-component", "name": "Test component"}], "regions": [],
                         "latest_update": {"status": "investigating", "body": update, "created_at": stamp}},
            "maintenance": None,
            "flap": None,
            "subscription": {"id": sub.id, "name": sub.name},
            "text": "",
            "test": True,
        },
    }
    payload["data"]["text"] = summary_line(payload)
    return payload
