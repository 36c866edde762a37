"""A database built by replaying recorded Statuspage snapshots at chosen times, for export tests.

acme (category Cloud) is replayed from fixtures/statuspage/acme-*.json over ten weeks: a resolved
critical GraphQL outage, the recorded REST incident (opened, identified, resolved from
incidents.json), the recorded database maintenance (scheduled, in progress, completed), six hours
when the page could not be reached, a webhook incident still open at the end and a maintenance
scheduled after it. evil (category Security) is a page whose every text is hostile markup. quiet
is followed but never polled.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aggregator.core import open_store
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.vocab import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from aggregator.store.writer import PollOutcome
from providers.statuspage import StatuspageAdapter
from tests.conftest import FIXTURES

SP = FIXTURES / "statuspage"
ACME_URL = "https://status.acme.test"
AS_OF = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
HOSTILE_TITLE = "<script>alert(1)</script> Login outage"
HOSTILE_BODY = "Users see <img src=x onerror=alert(2)> and </textarea><svg onload=alert(3)> & \"quotes\"\x01"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def acme(name: str) -> Snapshot:
    return StatuspageAdapter().parse({"summary": (SP / f"acme-{name}.json").read_bytes()}, ACME_URL)


def acme_history() -> dict[str, Incident]:
    notices = StatuspageAdapter().parse_history({
        "incidents": (SP / "acme-incidents.json").read_bytes(),
        "scheduled_maintenances": (SP / "acme-scheduled-maintenances.json").read_bytes()}, ACME_URL)
    return {n.id: n for n in notices}


def with_component(snap: Snapshot, cid: str, status: ComponentStatus) -> Snapshot:
    comps = [c.model_copy(update={"status": status, "raw_status": status.value}) if c.id == cid else c
             for c in snap.components]
    return snap.model_copy(update={"components": comps})


def graphql_outage(resolved: bool) -> Incident:
    updates = [Update(id="upd0gql00001", status="investigating", body="GraphQL queries fail with 503.",
                      created_at=at("2026-10-08T14:05:00Z"))]
    if resolved:
        updates.insert(0, Update(id="upd0gql00002", status="resolved", body="A config rollback fixed it.",
                                 created_at=at("2026-10-08T17:20:00Z")))
    return Incident(id="inc0gql00001", title="GraphQL API unavailable", impact=Impact.critical,
                    status=IncidentStatus.resolved if resolved else IncidentStatus.investigating,
                    started_at=at("2026-10-08T14:00:00Z"),
                    resolved_at=at("2026-10-08T17:20:00Z") if resolved else None,
                    url="https://stspg.io/acmegql", component_ids=["cmp0graphql1"], updates=updates)


def webhook_incident() -> Incident:
    return Incident(id="inc0hook0001", title="Delayed webhook deliveries", impact=Impact.minor,
                    status=IncidentStatus.identified, started_at=at("2026-11-26T13:40:00Z"),
                    url="https://stspg.io/acmehook", component_ids=["cmp0webhook1"],
                    updates=[Update(id="upd0hook0002", status="identified",
                                    body="A queue backlog delays deliveries by up to 20 minutes.\n"
                                         "We are draining it.", created_at=at("2026-11-26T14:30:00Z")),
                             Update(id="upd0hook0001", status="investigating",
                                    body="We are looking into delayed webhooks.",
                                    created_at=at("2026-11-26T13:45:00Z"))])


def switch_maintenance() -> Maintenance:
    return Maintenance(id="mnt0switch01", title="Network switch replacement", status=MaintenanceStatus.scheduled,
                       scheduled_for=at("2026-11-29T06:00:00Z"), scheduled_until=at("2026-11-29T08:00:00Z"),
                       started_at=at("2026-11-26T09:00:00Z"), component_ids=["cmp0rest0001", "cmp0graphql1"],
                       updates=[Update(id="upd0switch01", status="scheduled",
                                       body="Brief API blips are possible while we swap a core switch.",
                                       created_at=at("2026-11-26T09:00:00Z"))])


def evil_snapshot() -> Snapshot:
    return Snapshot(
        platform="statuspage", name="Evil <Corp>", url="javascript:alert(4)",
        status=ComponentStatus.major_outage, raw_status="critical", description="<b>Everything</b> is down",
        components=[Component(id="login", name="<i>Login</i>", status=ComponentStatus.major_outage,
                              description="<script>alert(5)</script>")],
        incidents=[Incident(id="inc0evil0001", title=HOSTILE_TITLE, impact=Impact.critical,
                            status=IncidentStatus.investigating, started_at=at("2026-11-25T00:00:00Z"),
                            url="javascript:alert(6)", component_ids=["login"],
                            updates=[Update(id="u1", status="investigating", body=HOSTILE_BODY,
                                            created_at=at("2026-11-25T00:05:00Z"))])],
    )


def build(path: Path) -> Path:
    """Replay the sequence into a new database at ``path``."""
    history = acme_history()
    one = acme("1-operational")
    gql_down = with_component(one, "cmp0graphql1", ComponentStatus.major_outage).model_copy(
        update={"status": ComponentStatus.major_outage, "raw_status": "critical",
                "description": "Major System Outage", "incidents": [graphql_outage(False)]})
    hook = with_component(one, "cmp0webhook1", ComponentStatus.degraded_performance).model_copy(
        update={"status": ComponentStatus.degraded_performance, "raw_status": "minor",
                "description": "Minor Service Outage", "incidents": [webhook_incident()],
                "maintenances": [switch_maintenance()]})
    steps: list[tuple[str, Snapshot | str, dict]] = [
        ("2026-09-15T12:00:00Z", one, {}),
        ("2026-10-08T14:06:00Z", gql_down, {}),
        ("2026-10-08T17:25:00Z", one, {"inc0gql00001": graphql_outage(True)}),
        ("2026-11-20T16:05:00Z", acme("2-incident-investigating"), {}),
        ("2026-11-20T16:35:00Z", acme("3-incident-identified"), {}),
        ("2026-11-20T17:20:00Z", acme("4-resolved-gone"), history),
        ("2026-11-21T12:00:00Z", acme("5-maintenance-scheduled"), {}),
        ("2026-11-22T09:02:00Z", acme("6-maintenance-in-progress"), {}),
        ("2026-11-22T10:45:00Z", one, history),
        ("2026-11-24T03:00:00Z", "http://127.0.0.1:9/api/v2/summary.json: connection refused", {}),
        ("2026-11-24T09:00:00Z", one, {}),
        ("2026-11-26T14:00:00Z", hook, {}),
        (AS_OF.isoformat(), hook, {}),
    ]
    with open_store(path) as store:
        store.add_provider("acme", name="Acme Cloud", url=ACME_URL, platform="statuspage", category="Cloud")
        store.add_provider("evil", name="Evil <Corp>", url="https://evil.test", platform="statuspage",
                           category="Security")
        store.add_provider("quiet", name="Quiet Co", url="https://quiet.test", platform="statuspage")
        for when, state, hist in steps:
            if isinstance(state, str):
                store.apply(PollOutcome("acme", at(when), error=state))
            else:
                store.apply(PollOutcome("acme", at(when), snapshot=state, history=hist))
        store.apply(PollOutcome("evil", at("2026-11-25T00:10:00Z"), snapshot=evil_snapshot()))
        store.apply(PollOutcome("evil", at("2026-11-27T09:00:00Z"), snapshot=evil_snapshot()))
    return path
