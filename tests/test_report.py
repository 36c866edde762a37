"""Uptime arithmetic on constructed event histories, written into a real SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from aggregator.cli.main import main
from aggregator.core import open_store
from aggregator.history import report
from aggregator.history.report import Policy, Window, load_history, uptime_report
from aggregator.page.model import Component, Snapshot
from aggregator.page.vocab import SEVERITY, ComponentStatus
from aggregator.store.reader import open_readonly
from tests.conftest import REPO

H = 3600.0
D = 86400.0
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # the 10-day window is Nov 1 00:00 .. Nov 10 12:00


def t(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day - 1, hours=hour)


def z(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


class History:
    """Writes events, components and incidents rows the way the store does, for one provider."""

    def __init__(self, path: Path, provider: str = "acme") -> None:
        self.path = path
        self.provider = provider
        self.components: list[Component] = []
        with open_store(path) as store:
            store.add_provider(provider, name="Acme", url="https://status.acme.test", platform="statuspage")

    def _exec(self, sql: str, args: list[Any]) -> None:
        with open_store(self.path) as store, store.transaction():
            store.conn.execute(sql, args)

    def event(self, kind: str, observed: datetime, subject: str | None = None, new: str | None = None,
              old: str | None = None, occurred: datetime | None = None, name: str | None = None,
              **detail: Any) -> None:
        self._exec("INSERT INTO events (kind, provider, subject_id, subject_name, old, new, observed_at, "
                   "occurred_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [kind, self.provider, subject, name, old, new, z(observed), z(occurred),
                    orjson.dumps(detail).decode() if detail else None])

    def first_sight(self, observed: datetime, status: str = "operational", **components: str) -> None:
        self.event("provider.status_changed", observed, self.provider, status, first_sight=True,
                   components=components)

    def change(self, observed: datetime, cid: str, old: str, new: str, occurred: datetime | None = None) -> None:
        self.event("component.status_changed", observed, cid, new, old, occurred, name=cid.title())

    def component(self, cid: str, name: str, group: str | None = None, status: str = "operational") -> None:
        """List a component on the provider's current page (the ``components`` view reads the snapshot)."""
        self.components.append(Component(id=cid, name=name, group=group, status=status))
        snap = Snapshot(provider=self.provider, platform="statuspage", components=self.components)
        self._exec("INSERT INTO snapshots (provider, snapshot) VALUES (?, ?) ON CONFLICT (provider) "
                   "DO UPDATE SET snapshot = excluded.snapshot", [self.provider, snap.model_dump_json()])

    def incident(self, iid: str, impact: str, started: datetime | None, resolved: datetime | None,
                 kind: str = "incident", components: tuple[str, ...] = (), first_seen: datetime | None = None) -> None:
        is_open = resolved is None
        self._exec(
            "INSERT INTO incidents (provider, id, kind, title, impact, status, is_open, started_at, resolved_at, "
            "component_ids, regions, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [self.provider, iid, kind, f"Incident {iid}", impact,
             ("investigating" if is_open else "resolved") if kind == "incident" else
             ("in_progress" if is_open else "completed"), int(is_open), z(started), z(resolved),
             json.dumps(list(components)), "[]", z(first_seen or started or t(1)), z(first_seen or started or t(1))])

    def report(self, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("days", 10)
        kwargs.setdefault("now", NOW)
        return uptime_report(open_readonly(self.path), self.provider, **kwargs)


@pytest.fixture
def hist(tmp_path: Path) -> History:
    return History(tmp_path / "up.db")


def comp(rep: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in rep["components"] if c["id"] == cid)


def cell(fig: dict[str, Any], date: str) -> dict[str, Any]:
    return next(c for c in fig["days"] if c["date"] == date)


def test_ladder_matches_the_model() -> None:
    assert {s.value: n for s, n in SEVERITY.items()} == report.SEVERITY
    assert set(report.STATUSES) == {s.value for s in ComponentStatus}


def test_window_is_calendar_days_ending_now() -> None:
    w = Window.last_days(10, NOW)
    assert w.start == t(1) and w.end == NOW and len(w.days) == 10
    assert w.days[-1][1:] == (t(10), NOW)  # today so far
    with pytest.raises(ValueError):
        Window.last_days(0, NOW)


def test_window_starting_mid_outage(hist: History) -> None:
    hist.component("api", "API")
    hist.first_sight(t(-10), api="operational")
    hist.change(t(0, 12), "api", "operational", "major_outage")  # Oct 31 12:00, before the window
    hist.change(t(1, 6), "api", "major_outage", "operational")
    rep = hist.report()
    api = comp(rep, "api")
    times = api["time_in_status_seconds"]
    assert times["major_outage"] == 6 * H  # only the part inside the window
    assert times["operational"] == 9.5 * D - 6 * H
    assert times["no_data"] == 0
    assert api["uptime_percent"] == pytest.approx(100 * (9.5 * D - 6 * H) / (9.5 * D), abs=1e-4)
    assert cell(api, "2026-11-01")["status"] == "major_outage"
    assert cell(api, "2026-11-01")["seconds"] == {"major_outage": 6 * H, "operational": 18 * H}
    assert cell(api, "2026-11-02")["status"] == "operational"
    assert api["current_status"] == "operational"


def test_unreachable_periods_are_unknown_and_left_out(hist: History) -> None:
    hist.component("api", "API")
    hist.first_sight(t(1), api="operational")
    hist.event("provider.unreachable", t(3), "acme", "unreachable", "reachable", reason="timeout")
    hist.event("provider.unreachable", t(3, 5), "acme", "unreachable", "reachable")  # repeated: no new period
    hist.event("provider.recovered", t(4), "acme", "reachable", "unreachable")
    # Seen on recovery, with the vendor's own time inside the blind spot: the blind spot stays unknown.
    hist.change(t(4), "api", "operational", "partial_outage", occurred=t(3, 18))
    hist.event("provider.status_changed", t(4), "acme", "partial_outage", "operational")
    hist.change(t(5), "api", "partial_outage", "operational")
    hist.event("provider.status_changed", t(5), "acme", "operational", "partial_outage")
    hist.event("provider.unreachable", t(10, 6), "acme", "unreachable", "reachable")  # still unreachable now
    rep = hist.report()
    api = comp(rep, "api")
    times = api["time_in_status_seconds"]
    assert times["unknown"] == D + 6 * H
    assert times["partial_outage"] == 1 * D
    assert times["operational"] == 7.25 * D
    assert api["uptime_percent"] == pytest.approx(100 * 7.25 / 8.25)
    assert api["current_status"] == "unknown"
    assert cell(api, "2026-11-03")["status"] == "unknown"
    assert cell(api, "2026-11-03")["uptime_percent"] is None  # nothing known that day
    assert cell(api, "2026-11-04")["status"] == "partial_outage"
    assert cell(api, "2026-11-10")["status"] == "operational"  # worst of operational and unknown
    assert rep["unreachable"] == [{"start": "2026-11-03T00:00:00Z", "end": "2026-11-04T00:00:00Z"},
                                  {"start": "2026-11-10T06:00:00Z", "end": "2026-11-10T12:00:00Z"}]
    page = rep["page"]["time_in_status_seconds"]
    assert (page["unknown"], page["partial_outage"], page["operational"]) == (D + 6 * H, 1 * D, 7.25 * D)
    # Counting unknown as down is a choice the user can make.
    strict = hist.report(policy=Policy(unknown_as_down=True))
    assert comp(strict, "api")["uptime_percent"] == pytest.approx(100 * 7.25 / 9.5)
    assert "left out" in rep["policy"]["note"] and "counts as down" in strict["policy"]["note"]


def test_unreachable_before_first_sight_is_unknown_for_the_page_only(hist: History) -> None:
    hist.event("provider.unreachable", t(1), "acme", "unreachable", "reachable", reason="DNS")
    hist.event("provider.recovered", t(2), "acme", "reachable", "unreachable")
    hist.first_sight(t(2), api="operational")
    rep = hist.report()
    assert rep["page"]["time_in_status_seconds"]["unknown"] == D
    assert comp(rep, "api")["time_in_status_seconds"]["no_data"] == D
    assert comp(rep, "api")["time_in_status_seconds"]["unknown"] == 0


def test_component_added_and_removed_mid_window(hist: History) -> None:
    hist.component("api", "API", group="Core")
    hist.component("search", "Search")
    hist.first_sight(t(1), api="operational", legacy="operational")
    hist.change(t(3), "api", "operational", "degraded_performance")
    # Added with the vendor's own time between the previous observation (day 3) and now: trusted.
    hist.event("component.added", t(6), "search", "degraded_performance", occurred=t(5, 12), name="Search")
    hist.change(t(7), "search", "degraded_performance", "operational")
    hist.event("component.removed", t(8), "legacy", None, "operational", name="Legacy", group="Old")
    rep = hist.report()
    search = comp(rep, "search")
    times = search["time_in_status_seconds"]
    assert times["no_data"] == 4.5 * D
    assert times["degraded_performance"] == 1.5 * D
    assert times["operational"] == 3.5 * D
    assert search["uptime_percent"] == pytest.approx(100 * 3.5 / 5)
    assert [cell(search, f"2026-11-0{d}")["status"] for d in (4, 5, 6, 7)] == \
        [None, "degraded_performance", "degraded_performance", "operational"]
    legacy = comp(rep, "legacy")
    assert legacy["listed"] is False and legacy["name"] == "Legacy" and legacy["group"] == "Old"
    assert legacy["time_in_status_seconds"]["operational"] == 7 * D
    assert legacy["current_status"] is None
    api = comp(rep, "api")
    assert api["group"] == "Core"
    assert [c["id"] for c in rep["components"]] == ["api", "search", "legacy"]  # page order, removed last


def test_when_a_change_happened_trusts_only_sane_source_times(hist: History) -> None:
    hist.component("a", "A")
    hist.component("b", "B")
    hist.component("c", "C")
    hist.first_sight(t(1), a="operational", b="operational", c="operational")
    hist.event("provider.status_changed", t(2), "acme", "operational", "operational")
    # a: the vendor's time is between our last observation (day 2) and now: used.
    hist.change(t(3), "a", "operational", "major_outage", occurred=t(2, 20))
    # b: the vendor's time is in the future (clock skew): we use when we saw it.
    hist.change(t(3), "b", "operational", "major_outage", occurred=t(3, 2))
    # c: the vendor's time is before our previous observation of the page (a stale updated_at).
    hist.change(t(3), "c", "operational", "major_outage", occurred=t(1, 12))
    for cid in "abc":
        hist.change(t(4), cid, "major_outage", "operational")
    rep = hist.report()
    assert comp(rep, "a")["time_in_status_seconds"]["major_outage"] == 28 * H
    assert comp(rep, "b")["time_in_status_seconds"]["major_outage"] == D
    assert comp(rep, "c")["time_in_status_seconds"]["major_outage"] == D


def test_maintenance_counts_as_up_by_default(hist: History) -> None:
    hist.component("db", "Database")
    hist.first_sight(t(1), db="operational")
    hist.change(t(2), "db", "operational", "under_maintenance")
    hist.change(t(2, 12), "db", "under_maintenance", "operational")
    assert comp(hist.report(), "db")["uptime_percent"] == 100.0
    assert comp(hist.report(policy=Policy(maintenance_up=False)), "db")["uptime_percent"] == \
        pytest.approx(100 * (9.5 * D - 12 * H) / (9.5 * D))
    assert cell(comp(hist.report(), "db"), "2026-11-02")["status"] == "under_maintenance"


def test_vendor_unknown_status_is_left_out(hist: History) -> None:
    hist.component("x", "X", status="unknown")
    hist.first_sight(t(6), x="unknown")
    x = comp(hist.report(), "x")
    assert x["uptime_percent"] is None and x["time_in_status_seconds"]["unknown"] == 4.5 * D
    assert cell(x, "2026-11-06")["status"] == "unknown"


def test_refollowed_provider_first_sight_resets_components(hist: History) -> None:
    hist.first_sight(t(1), a="operational", b="major_outage")
    hist.first_sight(t(5), a="operational")  # unfollowed and followed again; b is gone
    history = load_history(open_readonly(hist.path), "acme", NOW)
    b = next(tl for tl in history.components if tl.id == "b")
    assert [(s.start, s.end, s.status) for s in b.segments] == [(t(1), t(5), "major_outage")]
    assert history.first_seen == t(1)


def test_incident_figures_with_a_still_open_incident(hist: History) -> None:
    hist.first_sight(t(1), api="operational", web="operational")
    hist.incident("old", "critical", t(-20), t(-19))  # ended before the window: not counted
    hist.incident("spans", "major", t(0, 20), t(1, 2), components=("api",))  # started before, ended inside
    hist.incident("r1", "minor", t(3), t(3, 2), components=("web",))
    hist.incident("notice", "none", t(4), t(4, 1))
    hist.incident("open", "critical", t(9), None, components=("api", "web"))
    hist.incident("nostart", "minor", None, t(6), first_seen=t(5, 23))  # no vendor start: first seen
    hist.incident("maint", "maintenance", t(2), t(2, 4), kind="maintenance", components=("api",))
    hist.incident("future", "minor", t(12), None)  # starts after the window ends
    rep = hist.report()
    inc = rep["incidents"]
    assert inc["count"] == 5 and inc["open"] == 1
    assert inc["by_impact"] == {"critical": 1, "major": 1, "minor": 2, "none": 1}
    assert inc["resolved"] == 4
    assert inc["mttr_seconds"] == pytest.approx((6 * H + 2 * H + 1 * H + 1 * H) / 4)
    longest = inc["longest_outage"]
    assert (longest["id"], longest["ongoing"], longest["seconds"]) == ("open", True, 36 * H)
    api = comp(rep, "api")["incidents"]
    assert (api["count"], api["open"], api["mttr_seconds"]) == (2, 1, 6 * H)
    web = comp(rep, "web")["incidents"]
    assert (web["count"], web["by_impact"]["minor"], web["longest_outage"]["id"]) == (2, 1, "open")
    only_web = hist.report(component="web")
    assert [c["id"] for c in only_web["components"]] == ["web"]
    assert only_web["incidents"]["count"] == 2


def test_unknown_component_is_a_one_line_error(hist: History) -> None:
    hist.component("api", "API")
    hist.first_sight(t(1), api="operational")
    with pytest.raises(report.ReportError, match="no component 'nope'"):
        hist.report(component="nope")


def test_local_day_boundaries_follow_the_zone(hist: History) -> None:
    from zoneinfo import ZoneInfo

    hist.first_sight(t(1), api="operational")
    hist.change(t(5, 23), "api", "operational", "major_outage")  # 23:00 UTC = 08:00 next day in Tokyo
    hist.change(t(6, 1), "api", "major_outage", "operational")
    tokyo = comp(hist.report(tz=ZoneInfo("Asia/Tokyo")), "api")
    assert cell(tokyo, "2026-11-06")["status"] == "major_outage"
    assert cell(tokyo, "2026-11-05")["status"] == "operational"


def test_human_figures() -> None:
    assert report.human_duration(3 * D + 4 * H + 59) == "3d 4h"
    assert report.human_duration(2 * H + 5 * 60) == "2h 5m"
    assert report.human_duration(40) == "40s"
    assert report.human_duration(None) == "-"
    assert report.percent(99.9999) == "99.99%"
    assert report.percent(100.0) == "100.00%"
    assert report.percent(None) == "n/a"


def test_uptime_and_incidents_commands(hist: History, capsys: pytest.CaptureFixture[str]) -> None:
    hist.component("api", "API")
    hist.first_sight(t(1), api="operational")
    hist.change(t(2), "api", "operational", "partial_outage")
    hist.change(t(2, 6), "api", "partial_outage", "operational")
    hist.incident("r1", "major", t(2), t(2, 6), components=("api",))
    db = str(hist.path)
    until = "2026-11-10T12:00:00Z"
    assert main(["--db", db, "uptime", "acme", "--days", "10", "--until", until, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["window"] == {"start": "2026-11-01T00:00:00Z", "end": until, "days": 10, "day_zone": "UTC"}
    assert comp(data, "api")["time_in_status_seconds"]["partial_outage"] == 6 * H
    assert main(["--db", db, "uptime", "Acme", "--days", "10", "--until", until]) == 0
    out = capsys.readouterr().out
    assert "API" in out and "97.37%" in out and "Mean time to resolve: 6h" in out
    assert "operational or under maintenance as up" in out
    assert main(["--db", db, "incidents", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["id"], row["duration_seconds"], row["is_open"]) == ("r1", 6 * H, False)
    assert main(["--db", db, "incidents", "--open"]) == 0
    assert "No incidents open" in capsys.readouterr().out
    for args in (["uptime", "ghost"], ["uptime", "acme", "--component", "nope"], ["incidents", "--since", "x"],
                 ["incidents", "--kind", "bogus"], ["uptime", "acme", "--until", "soon"]):
        assert main(["--db", db, *args]) == 1
        err = capsys.readouterr().err
        assert err.startswith("upstream: error:") and err.count("\n") == 1, (args, err)


def test_query_commands_do_not_import_the_heavy_stack() -> None:
    code = ("import sys, aggregator.history.report, aggregator.cli.export, aggregator.history.export; "
            "print(sorted(m for m in ('pydantic', 'httpx', 'aiohttp', 'feedparser', 'bs4', 'sqlite_utils', "
            "'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
