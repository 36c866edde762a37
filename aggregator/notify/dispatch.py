"""The dispatcher: sends what the outbox queued, at least once, retrying with exponential backoff.

Each delivery goes through three steps, each its own short transaction around one network send:

1. claim: state pending -> sending, ``attempts`` + 1, an attempt row with no outcome yet, and a
   lease (``claimed_by`` host:pid, ``lease_until``). Only one dispatcher wins a claim.
2. send (no transaction open, nothing held on the event loop).
3. record: the attempt's outcome; the delivery becomes delivered, pending again at
   ``now + backoff``, or failed after ``max_attempts``.

A dispatcher killed between 2 and 3 leaves the delivery "sending" with an unfinished attempt.
The next run takes it over (its lease expired, or the claiming process on this host is gone),
marks that attempt "interrupted" and sends again: at most one duplicate, with the same
idempotency key (webhook-id), and never a lost notification.

Backoff: ``base * 2**(attempt-1)`` seconds capped at ``cap``, times a random factor in
[1 - jitter, 1 + jitter]; a receiver's Retry-After is honoured when longer (still capped).
Defaults 30 s, 1 h, 20 %, 8 attempts; override with UPSTREAM_NOTIFY_RETRY_BASE,
UPSTREAM_NOTIFY_RETRY_CAP, UPSTREAM_NOTIFY_MAX_ATTEMPTS or per subscription (--max-attempts).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from aggregator.notify.sinks import SendResult, send
from aggregator.notify.subscriptions import Subscription, get_subscription, load_subscriptions

log = logging.getLogger("upstream.notify")


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 30.0
    cap: float = 3600.0
    max_attempts: int = 8
    jitter: float = 0.2
    lease: float = 300.0  # a claim older than this is taken over (sends time out long before)

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = self.base * 2 ** max(0, attempt - 1)
        wait = min(self.cap, raw) * (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(self.cap, wait)

    @classmethod
    def from_env(cls) -> RetryPolicy:
        def number(name: str, default: float) -> float:
            try:
                return float(os.environ.get(name, "") or default)
            except ValueError:
                return default

        return cls(base=number("UPSTREAM_NOTIFY_RETRY_BASE", cls.base),
                   cap=number("UPSTREAM_NOTIFY_RETRY_CAP", cls.cap),
                   max_attempts=int(number("UPSTREAM_NOTIFY_MAX_ATTEMPTS", cls.max_attempts)))


@dataclass
class AttemptResult:
    delivery_id: int
    subscription_id: int
    type: str
    ok: bool
    state: str  # delivered, pending (retry later) or failed
    status: int | None = None
    error: str | None = None
    retry_in: float | None = None


@dataclass
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0  # earlier sends whose outcome was never recorded: sent again
    paused: list[int] = field(default_factory=list)  # subscriptions the circuit breaker paused
    results: list[AttemptResult] = field(default_factory=list)
    next_due: datetime | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"attempted {self.attempted}: delivered {self.delivered}, retrying {self.retrying}, "
                f"failed {self.failed}")
        if self.interrupted:
            text += f" (resumed {self.interrupted} interrupted)"
        if self.paused:
            text += f"; paused by the circuit breaker (sends kept timing out): {', '.join(f'#{i}' for i in self.paused)}"
        return text + f" in {self.seconds:.2f}s"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimer_gone(claimed_by: str | None) -> bool:
    """True when the claim belongs to a process of this host that no longer exists."""
    if not claimed_by or ":" not in claimed_by:
        return True
    host, _, pid_text = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's claim: wait for its lease
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # ours: another task of this process is sending it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Tx:
    """BEGIN IMMEDIATE .. COMMIT on the store's connection (never held across an await)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> Any:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def recover_interrupted(conn: Any, now: float, policy: RetryPolicy) -> int:
    """Deliveries left 'sending' by a dispatcher that died: back to pending, due now."""
    rows = conn.execute("SELECT id, claimed_by, lease_until FROM deliveries WHERE state = 'sending'").fetchall()
    taken = 0
    for delivery_id, claimed_by, lease_until in rows:
        if (lease_until or 0) > now and not _claimer_gone(claimed_by):
            continue
        with _Tx(conn):
            cur = conn.execute("UPDATE deliveries SET state = 'pending', not_before = ?, claimed_by = NULL, "
                               "lease_until = NULL, last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending' "
                               "AND coalesce(claimed_by, '') = coalesce(?, '')",
                               [now, "interrupted: the dispatcher stopped before recording the outcome",
                                _iso(now), delivery_id, claimed_by])
            if cur.rowcount:
                conn.execute("UPDATE delivery_attempts SET outcome = 'interrupted', finished_at = ?, error = ? "
                             "WHERE delivery_id = ? AND outcome IS NULL",
                             [_iso(now), "the dispatcher stopped before recording the outcome", delivery_id])
                taken += 1
                log.warning("delivery %s: previous send was interrupted; sending again", delivery_id)
    return taken


def _claim(conn: Any, delivery_id: int, now: float, policy: RetryPolicy, me: str) -> int | None:
    """Take the delivery for sending; returns the attempt row id, None if someone else has it."""
    with _Tx(conn):
        cur = conn.execute("UPDATE deliveries SET state = 'sending', attempts = attempts + 1, claimed_by = ?, "
                           "lease_until = ?, updated_at = ? WHERE id = ? AND state = 'pending' AND not_before <= ?",
                           [me, now + policy.lease, _iso(now), delivery_id, now])
        if not cur.rowcount:
            return None
        (attempt,) = conn.execute("SELECT attempts FROM deliveries WHERE id = ?", [delivery_id]).fetchone()
        cur = conn.execute("INSERT INTO delivery_attempts (delivery_id, attempt, claimed_by, started_at) "
                           "VALUES (?, ?, ?, ?)", [delivery_id, attempt, me, _iso(now)])
        return cur.lastrowid


def _record(conn: Any, delivery_id: int, attempt_id: int, result: SendResult, seconds: float, now: float,
            max_attempts: int, policy: RetryPolicy) -> tuple[str, float | None]:
    with _Tx(conn):
        conn.execute("UPDATE delivery_attempts SET finished_at = ?, outcome = ?, status = ?, error = ?, seconds = ? "
                     "WHERE id = ?", [_iso(now + seconds), "ok" if result.ok else "error", result.status,
                                      result.error, round(seconds, 4), attempt_id])
        (attempts,) = conn.execute("SELECT attempts FROM deliveries WHERE id = ?", [delivery_id]).fetchone()
        stamp = _iso(now + seconds)
        if result.ok:
            conn.execute("UPDATE deliveries SET state = 'delivered', delivered_at = ?, last_error = NULL, "
                         "claimed_by = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
                         [stamp, stamp, delivery_id])
            return "delivered", None
        if attempts >= max_attempts or result.permanent:
            conn.execute("UPDATE deliveries SET state = 'failed', last_error = ?, claimed_by = NULL, "
                         "lease_until = NULL, updated_at = ? WHERE id = ?", [result.error, stamp, delivery_id])
            return "failed", None
        wait = policy.delay(attempts, result.retry_after)
        conn.execute("UPDATE deliveries SET state = 'pending', not_before = ?, last_error = ?, claimed_by = NULL, "
                     "lease_until = NULL, updated_at = ? WHERE id = ?",
                     [now + seconds + wait, result.error, stamp, delivery_id])
        return "pending", wait


async def deliver_pending(store: Any, *, now: datetime | None = None, limit: int = 200,
                          policy: RetryPolicy | None = None, concurrency: int = 8) -> DeliveryReport:
    """Send every delivery that is due (at most ``limit``); one subscription's in order, several
    subscriptions at once. ``now`` is the scheduling clock (tests move it; signatures use real time)."""
    started = time.perf_counter()
    policy = policy or RetryPolicy.from_env()
    clock = (now or datetime.now(UTC)).timestamp()
    conn = store.conn

    def tick() -> float:
        # The scheduling clock moves with real time during the run, so a retry waits its
        # backoff from the end of the failed attempt, not from the start of the run.
        return clock + (time.perf_counter() - started)

    report = DeliveryReport()
    report.interrupted = recover_interrupted(conn, clock, policy)
    due = conn.execute(
        "SELECT d.id, d.subscription_id FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
        "WHERE d.state = 'pending' AND d.not_before <= ? AND s.paused = 0 ORDER BY d.subscription_id, d.id "
        "LIMIT ?", [clock, limit]).fetchall()
    by_sub: dict[int, list[int]] = {}
    for delivery_id, sub_id in due:
        by_sub.setdefault(sub_id, []).append(delivery_id)
    if by_sub:
        subs = {s.id: s for s in load_subscriptions(conn) if s.id in by_sub}
        gate = asyncio.Semaphore(concurrency)
        http = None
        if any(s.sink == "webhook" for s in subs.values()):
            from aggregator.notify.sinks import webhook_client
            http = webhook_client()
        try:
            await asyncio.gather(*(_run_subscription(conn, subs[sid], ids, tick, policy, gate, http, report)
                                   for sid, ids in by_sub.items() if sid in subs))
        finally:
            if http is not None:
                await http.aclose()
    row = conn.execute("SELECT min(d.not_before) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id "
                       "WHERE d.state = 'pending' AND s.paused = 0").fetchone()
    report.next_due = datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None
    report.seconds = time.perf_counter() - started
    return report


BREAKER_TIMEOUTS = 3  # consecutive sends timed out after which a subscription is paused


def _trip_breaker(conn: Any, sub: Subscription) -> bool:
    """Pause ``sub`` if its last BREAKER_TIMEOUTS attempts all timed out (a receiver that hangs):
    each would hold a sender for the whole timeout, for every one of its queued notifications."""
    errors = [r[0] or "" for r in conn.execute(
        "SELECT a.error FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id "
        "WHERE d.subscription_id = ? AND a.outcome IS NOT NULL ORDER BY a.id DESC LIMIT ?",
        [sub.id, BREAKER_TIMEOUTS])]
    if len(errors) < BREAKER_TIMEOUTS or not all(e.startswith("timed out") for e in errors):
        return False
    reason = (f"circuit breaker: {BREAKER_TIMEOUTS} sends in a row timed out; "
              f"upstream subscriptions resume {sub.id} once the receiver answers")
    with _Tx(conn):
        conn.execute("UPDATE subscriptions SET paused = 1, paused_reason = ? WHERE id = ?", [reason, sub.id])
    log.warning("subscription %s paused: %s", sub.display, reason)
    return True


def _interrupted(conn: Any, delivery_id: int, attempt_id: int, now: float) -> None:
    """A send stopped (watch was told to stop): the delivery is pending again, the attempt says why."""
    with _Tx(conn):
        conn.execute("UPDATE deliveries SET state = 'pending', not_before = ?, claimed_by = NULL, lease_until = NULL, "
                     "last_error = ?, updated_at = ? WHERE id = ? AND state = 'sending'",
                     [now, "interrupted: the dispatcher stopped before the receiver answered", _iso(now), delivery_id])
        conn.execute("UPDATE delivery_attempts SET outcome = 'interrupted', finished_at = ?, error = ? WHERE id = ?",
                     [_iso(now), "the dispatcher stopped before the receiver answered", attempt_id])


async def _run_subscription(conn: Any, sub: Subscription, ids: list[int], tick: Callable[[], float],
                            policy: RetryPolicy, gate: asyncio.Semaphore, http: Any, report: DeliveryReport) -> None:
    me = worker_id()
    max_attempts = sub.max_attempts or policy.max_attempts
    async with gate:
        for delivery_id in ids:
            now = tick()
            attempt_id = _claim(conn, delivery_id, now, policy, me)
            if attempt_id is None:
                continue
            (payload_json, kind) = conn.execute("SELECT payload, type FROM deliveries WHERE id = ?",
                                                [delivery_id]).fetchone()
            body = payload_json.encode()
            sent = time.perf_counter()
            try:
                result = await send(sub, orjson.loads(body), body, http=http)
            except asyncio.CancelledError:
                _interrupted(conn, delivery_id, attempt_id, tick())
                raise
            seconds = time.perf_counter() - sent
            state, wait = _record(conn, delivery_id, attempt_id, result, seconds, now, max_attempts, policy)
            report.attempted += 1
            report.results.append(AttemptResult(delivery_id, sub.id, kind, result.ok, state, result.status,
                                                result.error, wait))
            if state == "delivered":
                report.delivered += 1
                log.info("delivered %s #%s to %s", kind, delivery_id, sub.display)
            elif state == "failed":
                report.failed += 1
                log.warning("delivery #%s to %s failed for good: %s", delivery_id, sub.display, result.error)
            else:
                report.retrying += 1
                log.info("delivery #%s to %s failed (%s); retry in %.0fs", delivery_id, sub.display,
                         result.error, wait or 0)
            if not result.ok and (result.error or "").startswith("timed out") and _trip_breaker(conn, sub):
                report.paused.append(sub.id)
                return  # the rest stay pending until the subscription is resumed


def next_due(store: Any) -> datetime | None:
    """When the earliest pending delivery is due (for a scheduler's sleep), None when none is."""
    row = store.conn.execute("SELECT min(d.not_before) FROM deliveries d JOIN subscriptions s "
                             "ON s.id = d.subscription_id WHERE d.state = 'pending' AND s.paused = 0").fetchone()
    return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None


def retry_deliveries(store: Any, ids: list[int] | None = None, *, all_failed: bool = False,
                     now: datetime | None = None) -> list[int]:
    """Make failed (or waiting) deliveries due now with a fresh set of attempts; returns their ids."""
    clock = (now or datetime.now(UTC)).timestamp()
    conn = store.conn
    if all_failed:
        rows = conn.execute("SELECT id, state, payload FROM deliveries WHERE state = 'failed' ORDER BY id").fetchall()
    else:
        marks = ",".join("?" * len(ids or []))
        rows = conn.execute(f"SELECT id, state, payload FROM deliveries WHERE id IN ({marks}) ORDER BY id",
                            list(ids or [])).fetchall()
        missing = set(ids or []) - {r[0] for r in rows}
        if missing:
            raise KeyError(min(missing))
    done = []
    with _Tx(conn):
        for delivery_id, state, payload in rows:
            if state not in ("failed", "pending") or '"data"' not in payload:
                continue  # delivered, folded or sending: nothing to retry; unbuildable: nothing to send
            conn.execute("UPDATE deliveries SET state = 'pending', attempts = 0, not_before = ?, updated_at = ? "
                         "WHERE id = ?", [clock, _iso(clock), delivery_id])
            done.append(delivery_id)
    return done


def list_deliveries(store: Any, *, states: list[str] | None = None, subscription: int | None = None,
                    delivery_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, without payloads, with the subscription's masked target."""
    sql = ("SELECT d.id, d.subscription_id, s.name AS subscription_name, s.display AS target, d.type, d.provider, "
           "d.event_seq, d.last_event_seq, d.idempotency_key, d.state, d.attempts, d.not_before, d.last_error, "
           "d.created_at, d.delivered_at, d.folded_into, json_extract(d.payload, '$.data.text') AS text "
           "FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE 1 = 1")
    args: list[Any] = []
    if states:
        sql += f" AND d.state IN ({','.join('?' * len(states))})"
        args.extend(states)
    if subscription is not None:
        sql += " AND d.subscription_id = ?"
        args.append(subscription)
    if delivery_id is not None:
        sql += " AND d.id = ?"
        args.append(delivery_id)
    cur = store.conn.execute(sql + " ORDER BY d.id DESC LIMIT ?", [*args, limit])
    cols = [c[0] for c in cur.description]
    out = []
    for row in cur.fetchall():
        item = dict(zip(cols, row, strict=True))
        item["not_before"] = _iso(item["not_before"]) if item["state"] == "pending" else None
        out.append(item)
    return out


def delivery_attempts(store: Any, delivery_id: int) -> list[dict[str, Any]]:
    cur = store.conn.execute("SELECT attempt, started_at, finished_at, outcome, status, error, seconds "
                             "FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt, id", [delivery_id])
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


async def send_test(store: Any, ref: str | int) -> tuple[Subscription, dict[str, Any], SendResult]:
    """Send a sample incident.opened payload through the subscription's real sink, now."""
    from aggregator.notify.outbox import sample_payload

    sub = get_subscription(store.conn, ref)
    payload = sample_payload(store.conn, sub)
    body = orjson.dumps(payload)
    result = await send(sub, payload, body)
    return sub, payload, result
