"""Notifications end to end: the CLI as a new user runs it, real receivers on 127.0.0.1, Apprise
delivering to a local endpoint, and a dispatcher killed between sending and recording."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from aggregator.cli.main import main
from aggregator.core import open_store
from aggregator.notify.subscriptions import Filters, create_subscription
from tests.conftest import FIXTURES, REPO
from tests.loopback import LoopbackServer
from tests.notify_helpers import T0, Page, SignedReceiver, deliveries, incident, validate_payload

SP = FIXTURES / "statuspage"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def receiver() -> SignedReceiver:
    r = SignedReceiver().start()
    yield r
    r.stop()


def test_new_user_gets_exactly_one_signed_notification(tmp_path: Path, receiver: SignedReceiver,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    page = LoopbackServer().start()
    page.set_file("/api/v2/summary.json", SP / "acme-1-operational.json")
    # History as it stood at the first poll: without the incident that opens at the second one.
    later = {i["id"] for i in json.loads((SP / "acme-2-incident-investigating.json").read_bytes())["incidents"]}
    history = json.loads((SP / "acme-incidents.json").read_bytes())
    page.set("/api/v2/incidents.json", json.dumps({**history, "incidents": [
        i for i in history["incidents"] if i["id"] not in later]}))
    page.set_file("/api/v2/scheduled-maintenances.json", SP / "acme-scheduled-maintenances.json")
    db = str(tmp_path / "up.db")
    try:
        assert run(capsys, "--db", db, "add", page.url(), "--platform", "statuspage", "--id", "acme",
                   "--name", "Acme")[0] == 0
        code, out, err = run(capsys, "--db", db, "subscribe", receiver.url, "--provider", "acme", "--kinds",
                             "incident", "--json")
        assert code == 0, err
        created = json.loads(out)
        assert created["signing_secret"].startswith("whsec_") and created["secret"].endswith("…")
        receiver.secret = created["signing_secret"]

        assert run(capsys, "--db", db, "poll")[0] == 0  # first sight: nothing to tell
        code, out, _ = run(capsys, "--db", db, "deliver")
        assert code == 0 and out.startswith("attempted 0")

        page.set_file("/api/v2/summary.json", SP / "acme-2-incident-investigating.json")
        assert run(capsys, "--db", db, "poll")[0] == 0  # incident opened + a component down
        code, out, _ = run(capsys, "--db", db, "deliver", "--json")
        assert code == 0 and json.loads(out)["delivered"] == 1
        code, out, _ = run(capsys, "--db", db, "deliver", "--json")
        assert json.loads(out)["attempted"] == 0
    finally:
        page.stop()

    assert receiver.rejected == []
    (got,) = receiver.received
    payload = got.payload
    validate_payload(payload)
    assert got.headers["webhook-id"] == payload["id"]
    assert got.headers["content-type"] == "application/json"
    assert payload["type"] == "incident.opened"
    data = payload["data"]
    assert data["incident"]["title"] == "Elevated REST API error rates"
    assert (data["incident"]["impact"], data["incident"]["status"]) == ("major", "investigating")
    assert data["incident"]["latest_update"]["body"] == "We are investigating elevated error rates on the REST API."
    assert data["incident"]["url"] == "https://stspg.io/acme01"
    assert data["incident"]["components"] == [{"id": "cmp0rest0001", "name": "REST API"}]
    assert data["provider"]["id"] == "acme" and data["provider"]["status"] == "partial_outage"
    assert data["text"] == "Acme incident [major]: Elevated REST API error rates"

    code, out, _ = run(capsys, "--db", db, "deliveries", "--json")
    (row,) = json.loads(out)
    assert (row["state"], row["attempts"], row["idempotency_key"]) == ("delivered", 1, payload["id"])


def test_killed_between_send_and_record_loses_nothing(tmp_path: Path, receiver: SignedReceiver) -> None:
    db = tmp_path / "up.db"
    with open_store(db) as store:
        page = Page(store)
        page.show(T0)
        sub = create_subscription(store.conn, receiver.url, Filters(kinds=["incident"]), flap_window=0)
        receiver.secret = sub.secret
        page.show(T0 + timedelta(minutes=1), incidents=[incident(f"i{n}", f"Incident {n}") for n in range(1, 6)])
        assert len(deliveries(store, "pending")) == 5

    dispatcher: dict[str, subprocess.Popen[bytes]] = {}

    def kill_on_third(number: int) -> None:
        # The receiver has the third notification; the dispatcher dies before it hears back.
        if number == 3:
            os.kill(dispatcher["proc"].pid, signal.SIGKILL)

    receiver.on_request = kill_on_third
    dispatcher["proc"] = subprocess.Popen([sys.executable, "-m", "aggregator.cli.main", "--db", str(db), "deliver"],
                                          cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dispatcher["proc"].communicate(timeout=60)
    assert dispatcher["proc"].returncode == -signal.SIGKILL
    receiver.on_request = None
    assert len(receiver.received) == 3

    with open_store(db) as store:
        states = [d["state"] for d in deliveries(store)]
        assert states == ["delivered", "delivered", "sending", "pending", "pending"]
        from aggregator.http import run as run_async
        from aggregator.notify.dispatch import deliver_pending

        report = run_async(deliver_pending(store))
        assert (report.interrupted, report.delivered) == (1, 3)
        assert [d["state"] for d in deliveries(store)] == ["delivered"] * 5
        third = deliveries(store)[2]["id"]
        outcomes = store.conn.execute("SELECT outcome FROM delivery_attempts WHERE delivery_id = ? ORDER BY id",
                                      [third]).fetchall()
        assert [o for (o,) in outcomes] == ["interrupted", "ok"]
        assert run_async(deliver_pending(store)).attempted == 0

    ids = [r.headers["webhook-id"] for r in receiver.received]
    titles = [r.payload["data"]["incident"]["title"] for r in receiver.received]
    assert len(set(ids)) == 5  # nothing lost
    assert sorted(Counter(ids).values()) == [1, 1, 1, 1, 2]  # one duplicate, with the same webhook-id
    assert Counter(titles)["Incident 3"] == 2
    assert receiver.rejected == []


def test_apprise_delivers_readable_messages_to_local_endpoints(tmp_path: Path) -> None:
    endpoint = LoopbackServer().start()
    endpoint.set("/notify", b"{}")
    endpoint.set("/hooks/abcdefghij1234567890abcd", b"ok", content_type="text/plain")
    try:
        with open_store(tmp_path / "up.db") as store:
            page = Page(store)
            page.show(T0)
            create_subscription(store.conn, f"json://127.0.0.1:{endpoint.port}/notify",
                                Filters(kinds=["incident", "component"]), flap_window=0)
            # Mattermost's incoming webhooks are Slack-compatible ({"text": ...} to /hooks/TOKEN).
            create_subscription(store.conn, f"mmost://127.0.0.1:{endpoint.port}/abcdefghij1234567890abcd",
                                Filters(kinds=["incident"]), flap_window=0)
            page.show(T0 + timedelta(minutes=3), {"api": "partial_outage"},
                      [incident("inc9", "Elevated API errors", body="Errors are elevated on the REST API; "
                                "a fix is being rolled out.")])
            from aggregator.http import run as run_async
            from aggregator.notify.dispatch import deliver_pending

            report = run_async(deliver_pending(store))
            assert (report.delivered, report.failed, report.retrying) == (3, 0, 0), report.results
    finally:
        endpoint.stop()
    by_path: dict[str, list[dict[str, object]]] = {}
    for post in endpoint.posts:
        by_path.setdefault(post.path.split("?")[0], []).append(json.loads(post.body))
    component_msg, incident_msg = by_path["/notify"]
    assert component_msg["title"] == "Acme Cloud: REST API operational -> partial outage"
    assert "REST API: operational -> partial outage" in component_msg["message"]
    assert "https://status.acme.test" in component_msg["message"]
    assert incident_msg["title"] == "Acme Cloud incident [major]: Elevated API errors"
    assert incident_msg["type"] == "failure"
    body = incident_msg["message"]
    for expected in ("Impact: major | Status: investigating", "Affected: REST API",
                     "Latest update (investigating, 2026-11-20 16:01 UTC): Errors are elevated on the REST API; "
                     "a fix is being rolled out.", "https://stspg.io/inc9"):
        assert expected in body, (expected, body)
    (slack_like,) = by_path["/hooks/abcdefghij1234567890abcd"]
    assert "Elevated API errors" in slack_like["text"] and "https://stspg.io/inc9" in slack_like["text"]


def test_subscription_commands_never_print_secrets(tmp_path: Path, receiver: SignedReceiver,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "up.db")
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops"
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    code, out, _ = run(capsys, "--db", db, "subscribe", slack, "--name", "ops", "--min-severity", "major")
    assert code == 0 and "TIiajkdnlazkcOXrIdevi7FQ" not in out and "slack://T...2/A...D/T...Q/" in out
    code, out, _ = run(capsys, "--db", db, "subscribe", receiver.url, "--secret", secret)
    assert code == 0 and secret not in out  # a secret the user gave is not echoed back
    receiver.secret = secret
    outputs = [run(capsys, "--db", db, *args)[1] for args in (
        ("subscriptions", "list"), ("subscriptions", "list", "--json"), ("subscriptions", "show", "ops"),
        ("subscriptions", "show", "2", "--json"), ("deliveries", "--json"))]
    for text in outputs:
        for leaked in ("TIiajkdnlazkcOXrIdevi7FQ", "T1JJ3T3L2", "A1BRTD4JD", secret, secret[6:]):
            assert leaked not in text
    listed = json.loads(outputs[1])
    assert [s["target"] for s in listed] == ["slack://T...2/A...D/T...Q/%23ops/", receiver.url]
    assert listed[1]["secret"] == "whsec_Mf…"

    # test: a sample event through the real sink, signed with the secret.
    code, out, err = run(capsys, "--db", db, "subscriptions", "test", "2")
    assert code == 0, err
    (sample,) = receiver.received
    validate_payload(sample.payload)
    assert sample.payload["data"]["test"] is True and receiver.rejected == []

    # pause / resume / remove, by id or name
    assert run(capsys, "--db", db, "subscriptions", "pause", "ops")[1].strip() == "paused subscription #1 (ops)"
    code, out, _ = run(capsys, "--db", db, "subscriptions", "list", "--json")
    assert [s["paused"] for s in json.loads(out)] == [True, False]
    assert run(capsys, "--db", db, "subscriptions", "resume", "1")[0] == 0
    assert run(capsys, "--db", db, "subscriptions", "remove", "ops")[0] == 0
    code, _, err = run(capsys, "--db", db, "subscriptions", "show", "ops")
    assert code == 1 and err.startswith("upstream: error: no subscription 'ops'") and err.count("\n") == 1

    receiver.stop()
    code, _, err = run(capsys, "--db", db, "subscriptions", "test", "2")
    assert code == 1 and "test notification to" in err and err.count("\n") == 1


def test_failed_deliveries_are_listed_and_resent_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_NOTIFY_MAX_ATTEMPTS", "1")
    db = tmp_path / "up.db"
    out_file = tmp_path / "events.ndjson"
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    with open_store(db) as store:
        page = Page(store)
        page.show(T0)
        # A file sink whose path is a directory: every attempt fails until it is fixed.
        create_subscription(store.conn, f"file:{out_file}", Filters(kinds=["incident"]), flap_window=0)
        store.conn.execute("UPDATE subscriptions SET target = ?", [str(blocker)])
        page.show(T0 + timedelta(minutes=1), incidents=[incident("i1", "API errors")])
    code, out, _ = run(capsys, "--db", str(db), "deliver")
    assert code == 0 and "failed 1" in out
    code, out, _ = run(capsys, "--db", str(db), "deliveries", "--failed", "--json")
    (failed,) = json.loads(out)
    assert failed["state"] == "failed" and "IsADirectoryError" in failed["last_error"]
    code, out, err = run(capsys, "--db", str(db), "deliveries", "--failed")
    assert "API errors" in out and "retry" in err  # the hint on stderr: stdout stays one record a line
    with open_store(db) as store:
        store.conn.execute("UPDATE subscriptions SET target = ?", [str(out_file)])
    code, out, _ = run(capsys, "--db", str(db), "deliveries", "retry", str(failed["id"]))
    assert code == 0 and f"#{failed['id']}" in out
    code, out, _ = run(capsys, "--db", str(db), "deliver")
    assert "delivered 1" in out
    (line,) = out_file.read_text().splitlines()
    validate_payload(json.loads(line))
    code, out, _ = run(capsys, "--db", str(db), "deliveries", "show", str(failed["id"]), "--json")
    shown = json.loads(out)
    assert [a["outcome"] for a in shown["attempts"]] == ["error", "ok"]
    assert run(capsys, "--db", str(db), "deliveries", "retry", "999")[0] == 1
