"""Notifications, library level: matching, noise control, retries and backoff, sinks, secrets, schema.

Events are produced the real way (hand-written snapshots applied to a Store), so the outbox is
filled by the event hook inside the apply transaction; sinks deliver to real receivers on
127.0.0.1, to real shell commands and to real files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from aggregator.core import open_store
from aggregator.errors import SubscriptionError
from aggregator.notify.dispatch import RetryPolicy, deliver_pending, retry_deliveries
from aggregator.notify.payload import SCHEMA_PATH, json_schema
from aggregator.notify.subscriptions import Filters, create_subscription, set_paused
from aggregator.page.vocab import Impact, IncidentStatus
from aggregator.store.writer import Store
from tests.notify_helpers import T0, Page, SignedReceiver, deliveries, incident, validate_payload

NO_JITTER = RetryPolicy(jitter=0.0)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(tmp_path / "up.db")
    yield s
    s.close()


@pytest.fixture
def page(store: Store) -> Page:
    p = Page(store)
    p.show(T0)  # first sight
    return p


def subscribe_file(store: Store, path: Path, **filters: Any) -> Any:
    flap = filters.pop("flap_window", 0)
    return create_subscription(store.conn, f"file:{path}", Filters(**filters), flap_window=flap)


def deliver(store: Store, at: Any = None, policy: RetryPolicy = NO_JITTER) -> Any:
    return asyncio.run(deliver_pending(store, now=at, policy=policy))


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = [json.loads(line) for line in path.read_text().splitlines()]
    for payload in out:
        validate_payload(payload)
    return out


# ------------------------------------------------------------------------------------------------
# The schema
# ------------------------------------------------------------------------------------------------

def test_shipped_schema_is_the_generated_one() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(orjson.dumps(json_schema(), option=orjson.OPT_SORT_KEYS))
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"id", "type", "timestamp", "data"}


# ------------------------------------------------------------------------------------------------
# Noise control
# ------------------------------------------------------------------------------------------------

def test_first_sight_notifies_nothing(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    subscribe_file(store, out, kinds=["incident", "component", "maintenance", "provider", "unreachable"])
    page = Page(store)
    events = page.show(T0, {"api": "major_outage"}, [incident("i1", "Outage")])
    assert [e.kind.value for e in events] == ["provider.status_changed", "incident.opened"]
    assert deliveries(store) == []
    # A second provider first seen after failing: neither its failure nor its "recovery" notify.
    other = Page(store, provider="beta")
    other.fail(T0)
    other.show(T0 + timedelta(minutes=1), {"api": "partial_outage"})
    assert deliveries(store) == []
    page.show(T0 + timedelta(minutes=2), {"api": "operational"}, [])
    assert [d["type"] for d in deliveries(store)] == ["provider.status_changed", "component.status_changed",
                                                      "incident.resolved"]


def test_unreachable_only_when_asked(store: Store, page: Page, tmp_path: Path) -> None:
    quiet, loud = tmp_path / "quiet.ndjson", tmp_path / "loud.ndjson"
    subscribe_file(store, quiet)
    subscribe_file(store, loud, kinds=["incident", "unreachable"])
    page.fail(T0 + timedelta(minutes=1), "timed out after 30s")
    page.show(T0 + timedelta(hours=1))
    deliver(store)
    assert lines(quiet) == []
    got = lines(loud)
    assert [p["type"] for p in got] == ["provider.unreachable", "provider.recovered"]
    assert got[0]["data"]["event"]["detail"]["reason"] == "timed out after 30s"
    assert got[0]["data"]["provider"]["reachable"] is False
    assert "not a reported outage" not in got[0]["data"]["text"]  # the one-liner stays short


def test_flapping_component_is_folded_into_one_notification(store: Store, page: Page, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    create_subscription(store.conn, f"file:{out}", Filters(kinds=["component"]), flap_window=300)
    page.show(T0 + timedelta(minutes=10), {"api": "partial_outage"})
    assert deliver(store, T0 + timedelta(minutes=12)).attempted == 0  # held for the window
    page.show(T0 + timedelta(minutes=12), {"api": "operational"})  # back within 2 minutes
    assert deliver(store, T0 + timedelta(minutes=15, seconds=30)).attempted == 0  # hold extended by the fold
    report = deliver(store, T0 + timedelta(minutes=17, seconds=1))
    assert report.delivered == 1
    (flapped,) = lines(out)
    assert flapped["type"] == "component.flapped"
    assert flapped["data"]["flap"]["statuses"] == ["operational", "partial_outage", "operational"]
    assert flapped["data"]["flap"]["returned"] is True and flapped["data"]["flap"]["changes"] == 2
    assert flapped["data"]["text"] == "Acme Cloud: REST API flapped: operational -> partial outage -> operational " \
                                      "(2 changes in 2 min)"
    states = [d["state"] for d in deliveries(store)]
    assert states == ["delivered", "folded"]
    # Down for longer than the window: one plain notification, sent when the window has passed.
    page.show(T0 + timedelta(minutes=30), {"api": "major_outage"})
    assert deliver(store, T0 + timedelta(minutes=34)).attempted == 0
    assert deliver(store, T0 + timedelta(minutes=35, seconds=1)).delivered == 1
    page.show(T0 + timedelta(minutes=50), {"api": "operational"})
    deliver(store, T0 + timedelta(minutes=56))
    assert [(p["type"], p["data"]["event"]["old"], p["data"]["event"]["new"]) for p in lines(out)[1:]] == [
        ("component.status_changed", "operational", "major_outage"),
        ("component.status_changed", "major_outage", "operational")]


def test_no_flap_window_sends_each_change(store: Store, page: Page, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    subscribe_file(store, out, kinds=["component"], flap_window=0)
    page.show(T0 + timedelta(minutes=10), {"api": "partial_outage"})
    page.show(T0 + timedelta(minutes=11), {"api": "operational"})
    assert deliver(store, T0 + timedelta(minutes=11)).delivered == 2
    assert [p["type"] for p in lines(out)] == ["component.status_changed", "component.status_changed"]


# ------------------------------------------------------------------------------------------------
# Filters
# ------------------------------------------------------------------------------------------------

def test_filters_component_region_category_provider(store: Store, page: Page, tmp_path: Path) -> None:
    by_glob = subscribe_file(store, tmp_path / "glob.ndjson", components=["graphql*"])
    by_group = subscribe_file(store, tmp_path / "group.ndjson", components=["api"], kinds=["component"])
    by_region = subscribe_file(store, tmp_path / "region.ndjson", regions=["EU-*"])
    by_category = subscribe_file(store, tmp_path / "cat.ndjson", categories=["CLOUD"], kinds=["incident"])
    other_category = subscribe_file(store, tmp_path / "other.ndjson", categories=["payments"])
    other_provider = subscribe_file(store, tmp_path / "beta.ndjson", providers=["beta"])
    page.show(T0 + timedelta(minutes=5), {"gql": "degraded_performance", "api": "partial_outage"},
              [incident("i1", "API errors", components=("api",))])
    deliver(store)

    def types(path: str) -> list[tuple[str, str | None]]:
        return [(p["type"], p["data"]["event"]["subject_id"]) for p in lines(tmp_path / path)]

    assert types("glob.ndjson") == [("component.status_changed", "gql")]
    assert types("group.ndjson") == [("component.status_changed", "api"), ("component.status_changed", "gql")]
    # The incident affects "api" (eu-west-1): the region filter reaches it through its components.
    assert types("region.ndjson") == [("component.status_changed", "api"), ("incident.opened", "i1")]
    assert types("cat.ndjson") == [("incident.opened", "i1")]
    assert types("other.ndjson") == [] and types("beta.ndjson") == []
    assert {by_glob.id, by_group.id, by_region.id, by_category.id} and other_category and other_provider


def test_min_severity_keeps_recoveries_and_resolutions(store: Store, page: Page, tmp_path: Path) -> None:
    out = tmp_path / "major.ndjson"
    subscribe_file(store, out, min_severity="major", kinds=["component", "incident"])
    at = T0 + timedelta(minutes=5)
    page.show(at, {"dash": "degraded_performance"}, [incident("minor1", "Slow dashboard", Impact.minor)])
    page.show(at + timedelta(minutes=1), {"dash": "operational", "api": "partial_outage"},
              [incident("big1", "API down", Impact.major)])
    # The API recovers through "degraded" (minor): still told, nobody is left believing it is down.
    page.show(at + timedelta(minutes=2), {"api": "degraded_performance"},
              [incident("big1", "API down", Impact.minor, IncidentStatus.monitoring, "Fix deployed.", updates=2)])
    page.show(at + timedelta(minutes=3), {"api": "operational"},
              [incident("big1", "API down", Impact.none, IncidentStatus.resolved, "All good.", updates=3)])
    page.show(at + timedelta(minutes=4), {"api": "degraded_performance"})  # minor again: not told
    deliver(store)
    got = [(p["type"], p["data"]["event"]["subject_id"], p["data"]["event"]["old"], p["data"]["event"]["new"])
           for p in lines(out)]
    assert got == [
        ("component.status_changed", "api", "operational", "partial_outage"),
        ("incident.opened", "big1", None, "investigating"),
        ("component.status_changed", "api", "partial_outage", "degraded_performance"),
        ("incident.updated", "big1", "investigating", "monitoring"),
        ("component.status_changed", "api", "degraded_performance", "operational"),
        ("incident.resolved", "big1", "monitoring", "resolved"),
    ]


def test_paused_subscription_queues_nothing(store: Store, page: Page, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    sub = subscribe_file(store, out)
    set_paused(store.conn, sub.id, True)
    page.show(T0 + timedelta(minutes=1), {"api": "major_outage"})
    set_paused(store.conn, sub.id, False)
    page.show(T0 + timedelta(minutes=2), {"api": "operational"})
    deliver(store)
    assert [p["data"]["event"]["new"] for p in lines(out)] == ["operational"]


def test_a_notify_bug_never_loses_the_poll(store: Store, page: Page, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import aggregator.notify.outbox as outbox

    subscribe_file(store, tmp_path / "events.ndjson")

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(outbox, "build_payload", broken)
    events = page.show(T0 + timedelta(minutes=1), {"api": "major_outage"})
    assert events and store.events(since_seq=events[0].seq - 1)  # the poll committed
    (row,) = deliveries(store)
    assert row["state"] == "failed" and "RuntimeError: boom" in row["last_error"]
    assert retry_deliveries(store, [row["id"]]) == []  # nothing sendable to retry


# ------------------------------------------------------------------------------------------------
# Retries, backoff, failure
# ------------------------------------------------------------------------------------------------

def webhook(store: Store, receiver: SignedReceiver, **kwargs: Any) -> Any:
    sub = create_subscription(store.conn, receiver.url, Filters(kinds=["incident"]), flap_window=0, **kwargs)
    receiver.secret = sub.secret
    return sub


def test_retries_back_off_exponentially_then_deliver(store: Store, page: Page) -> None:
    receiver = SignedReceiver(statuses=[503, 500]).start()
    try:
        webhook(store, receiver)
        page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors")])
        t = T0 + timedelta(minutes=1)
        first = deliver(store, t)
        assert (first.attempted, first.retrying, first.results[0].retry_in) == (1, 1, 30.0)
        assert deliver(store, t + timedelta(seconds=29)).attempted == 0  # not yet
        second = deliver(store, t + timedelta(seconds=31))
        assert second.results[0].retry_in == 60.0 and second.results[0].error.startswith("HTTP 500")
        assert deliver(store, t + timedelta(seconds=31 + 59)).attempted == 0
        third = deliver(store, t + timedelta(seconds=31 + 61))
        assert third.delivered == 1
    finally:
        receiver.stop()
    assert [r.status for r in receiver.received] == [503, 500, 200]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # one idempotency key
    assert len({r.body for r in receiver.received}) == 1  # the identical body every time
    assert receiver.rejected == []
    attempts = store.conn.execute("SELECT attempt, outcome, status FROM delivery_attempts ORDER BY id").fetchall()
    assert attempts == [(1, "error", 503), (2, "error", 500), (3, "ok", 200)]


def test_backoff_seen_on_the_wall_clock(store: Store, page: Page) -> None:
    """A receiver failing twice, a dispatcher run the way watch runs it (sleep until next_due)."""
    receiver = SignedReceiver(statuses=[503, 503]).start()
    policy = RetryPolicy(base=0.15, jitter=0.0)
    try:
        webhook(store, receiver)
        page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors")])
        for _ in range(10):
            report = asyncio.run(deliver_pending(store, policy=policy))
            if report.delivered or report.next_due is None:
                break
            time.sleep(max(0.0, report.next_due.timestamp() - time.time()) + 0.01)
    finally:
        receiver.stop()
    assert [r.status for r in receiver.received] == [503, 503, 200]
    first_gap = receiver.received[1].at - receiver.received[0].at
    second_gap = receiver.received[2].at - receiver.received[1].at
    # Lower bounds are what backoff guarantees; the upper ones only say nobody waited for nothing.
    assert 0.15 <= first_gap < 2.0 and 0.30 <= second_gap < 2.0, (first_gap, second_gap)
    print(f"\nbackoff seen: {first_gap:.3f}s then {second_gap:.3f}s (base 0.15s)")


def test_backoff_grows_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy()
    import random

    rng = random.Random(7)
    for attempt, base in [(1, 30), (2, 60), (3, 120), (5, 480), (7, 1920)]:
        for _ in range(50):
            assert base * 0.8 <= policy.delay(attempt, rng=rng) <= base * 1.2
    assert all(policy.delay(n, rng=rng) <= 3600 for n in range(1, 30))
    assert policy.delay(8, rng=rng) >= 3600 * 0.8
    assert policy.delay(1, retry_after=900, rng=rng) == 900  # a receiver's Retry-After is honoured
    assert policy.delay(1, retry_after=99999, rng=rng) == 3600


def test_fails_after_max_attempts_then_retry_resends(store: Store, page: Page,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    receiver = SignedReceiver(statuses=[500, 500, 500]).start()
    try:
        webhook(store, receiver, max_attempts=3)
        page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors")])
        t = T0 + timedelta(minutes=1)
        for step in range(3):
            deliver(store, t + timedelta(hours=step))
        (row,) = deliveries(store)
        assert row["state"] == "failed" and row["attempts"] == 3 and row["last_error"].startswith("HTTP 500")
        assert deliver(store, t + timedelta(hours=9)).attempted == 0
        assert retry_deliveries(store, all_failed=True, now=t + timedelta(hours=9)) == [row["id"]]
        assert deliver(store, t + timedelta(hours=9)).delivered == 1
    finally:
        receiver.stop()
    assert [r.status for r in receiver.received] == [500, 500, 500, 200]


def test_a_rejected_webhook_fails_at_once_and_can_be_resent(store: Store, page: Page) -> None:
    receiver = SignedReceiver(statuses=[410]).start()
    try:
        webhook(store, receiver, max_attempts=8)
        page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors")])
        deliver(store, T0 + timedelta(minutes=1))
        (row,) = deliveries(store)
        assert row["state"] == "failed" and row["attempts"] == 1 and row["last_error"].startswith("HTTP 410")
        assert retry_deliveries(store, all_failed=True, now=T0 + timedelta(hours=1)) == [row["id"]]
        assert deliver(store, T0 + timedelta(hours=1)).delivered == 1
    finally:
        receiver.stop()
    assert [r.status for r in receiver.received] == [410, 200]


# ------------------------------------------------------------------------------------------------
# Sinks
# ------------------------------------------------------------------------------------------------

def test_command_sink_gets_the_event_on_stdin(store: Store, page: Page, tmp_path: Path) -> None:
    out = tmp_path / "got.ndjson"
    script = tmp_path / "hook.py"
    script.write_text("import json, os, sys\n"
                      "payload = json.load(sys.stdin)\n"
                      f"with open({str(out)!r}, 'a') as f:\n"
                      "    f.write(json.dumps({'env': os.environ['UPSTREAM_EVENT_TYPE'], 'payload': payload}) + '\\n')\n")
    create_subscription(store.conn, f"cmd:{sys.executable} {script}", Filters(kinds=["incident"]), flap_window=0)
    create_subscription(store.conn, "cmd:echo 'disk full' >&2; exit 3", Filters(kinds=["incident"]), flap_window=0)
    page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors", body="Looking into it.")])
    report = deliver(store)
    assert (report.delivered, report.retrying) == (1, 1)
    (got,) = [json.loads(line) for line in out.read_text().splitlines()]
    validate_payload(got["payload"])
    assert got["env"] == "incident.opened"
    assert got["payload"]["data"]["incident"]["latest_update"]["body"] == "Looking into it."
    failed = next(r for r in report.results if not r.ok)
    assert (failed.status, failed.error) == (3, "command exited with 3: disk full")


def test_file_sink_appends_private_ndjson(store: Store, page: Page, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "events.ndjson"
    subscribe_file(store, out)
    page.show(T0 + timedelta(minutes=1), {"api": "partial_outage"}, [incident("i1", "API errors")])
    deliver(store)
    got = lines(out)
    assert [p["type"] for p in got] == ["component.status_changed", "incident.opened"]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert got[0]["data"]["component"] == {"id": "api", "name": "REST API", "group": "API",
                                           "region": "eu-west-1", "status": "partial_outage"}
    assert got[1]["data"]["incident"]["components"] == [{"id": "api", "name": "REST API"}]


# ------------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------------

def test_secrets_are_masked_in_errors_and_logs(store: Store, page: Page, caplog: pytest.LogCaptureFixture) -> None:
    receiver = SignedReceiver().start()
    port = receiver.server.port
    receiver.stop()  # nothing listens there now: connection errors must not leak the token
    token = "Zq9TOKENv3ryS3cretXYZ123"
    sub = create_subscription(store.conn, f"http://bob:hunter2pw@127.0.0.1:{port}/hooks/{token}?key=abc123secret",
                              Filters(kinds=["incident"]), flap_window=0)
    page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors")])
    with caplog.at_level(logging.DEBUG, logger="upstream.notify"):
        report = deliver(store)
    assert report.retrying == 1
    texts = [caplog.text, report.results[0].error or "", json.dumps(deliveries(store)[0]["last_error"]),
             json.dumps(sub.public())]
    for text in texts:
        for secret in (token, "hunter2pw", "abc123secret", sub.secret, sub.secret.removeprefix("whsec_")):
            assert secret not in text
    assert sub.public()["secret"] == sub.secret[:8] + "…"
    assert sub.display == f"http://bob:***@127.0.0.1:{port}/hooks/Z...3?key=***"


def test_bad_sinks_are_refused(store: Store) -> None:
    for sink, message in [("bogus://x", "Apprise does not understand"), ("cmd:", "empty command"),
                          ("ftp//nope", "a sink is"), (str(Path.cwd()), "a sink is")]:
        with pytest.raises(SubscriptionError, match=message):
            create_subscription(store.conn, sink, Filters())
    with pytest.raises(SubscriptionError, match="whsec_"):
        create_subscription(store.conn, "https://example.com/h", Filters(), secret="not base64!")
