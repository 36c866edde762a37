"""``/metrics``: the state of every followed page and of the daemon, in Prometheus' text format.

Page and component facts are read from the database at each scrape (a custom collector), so a
``serve --no-watch`` beside another ``watch`` exposes the same figures. The daemon's own figures
(polls, lag, poll seconds) come from the polling loop of this process. Labels carry ids, names
of components and groups, regions and status words: never an incident title (unbounded text).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from aggregator.serve import data

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


@dataclass
class DaemonHealth:
    """What this process's polling loop has done (all zero under ``--no-watch``)."""

    watching: bool = False
    started_at: float = field(default_factory=time.time)
    polls: int = 0
    poll_failures: int = 0
    events: int = 0
    lag_last_max: float = 0.0
    lag_max: float = 0.0
    lags: list[float] = field(default_factory=list)  # every start's lateness (the load benchmark reads it)
    poll_seconds: dict[str, float] = field(default_factory=dict)
    last_outcome_at: float | None = None

    def outcome(self, provider: str, failed: bool, events: int, seconds: float | None) -> None:
        self.polls += 1
        self.poll_failures += failed
        self.events += events
        self.last_outcome_at = time.time()
        if seconds is not None:
            self.poll_seconds[provider] = seconds

    def started(self, lags: list[float]) -> None:
        if lags:
            self.lag_last_max = max(lags)
            self.lag_max = max(self.lag_max, self.lag_last_max)
            if len(self.lags) < 1_000_000:
                self.lags.extend(lags)


class UpstreamCollector(Collector):
    def __init__(self, db: Path, health: DaemonHealth) -> None:
        self.db = db
        self.health = health

    def collect(self) -> Iterator[Any]:
        rows = data.metric_rows(self.db)
        # One series per component, labelled with its current status (value 1): 5,000 pages of 20
        # components give 100,000 lines; a full state set (a 0 for every other status) six times that.
        comp = GaugeMetricFamily("upstream_component_status", "Component status: 1, labelled with the current "
                                 "status",
                                 labels=["provider", "component", "group", "region", "status"])
        seen: set[tuple[str, ...]] = set()
        for c in rows["components"]:
            name = c["name"] or c["id"]
            key = (c["provider"], name, c["group_name"] or "", c["region"] or "")
            if key in seen:  # two components of one name in one group: the id tells them apart
                key = (c["provider"], f"{name} ({c['id']})", key[2], key[3])
            seen.add(key)
            comp.add_metric([*key, c["status"] or "unknown"], 1.0)
        yield comp
        prov = GaugeMetricFamily("upstream_provider_status", "Provider (page) status: 1, labelled with the current "
                                 "status",
                                 labels=["provider", "status"])
        up = GaugeMetricFamily("upstream_page_up", "1 when the last poll of the page succeeded, else 0",
                               labels=["provider"])
        last_ok = GaugeMetricFamily("upstream_page_last_success_timestamp_seconds",
                                    "Unix time of the last successful poll", labels=["provider"])
        for p in rows["providers"]:
            current = p["status"] if p["last_success_at"] else "unknown"
            prov.add_metric([p["id"], current], 1.0)
            up.add_metric([p["id"]], 1.0 if p["last_polled_at"] and p["reachable"] else 0.0)
            success = _ts(p["last_success_at"])
            if success is not None:
                last_ok.add_metric([p["id"]], success)
        yield prov
        yield up
        yield last_ok
        fetch = GaugeMetricFamily("upstream_fetch_duration_seconds", "Seconds the last poll of the page took "
                                  "(fetch and parse), polled by this process", labels=["provider"])
        for pid, seconds in sorted(self.health.poll_seconds.items()):
            fetch.add_metric([pid], seconds)
        yield fetch
        inc = GaugeMetricFamily("upstream_incidents_open", "Open incidents by impact",
                                labels=["provider", "impact"])
        for pid, impact, count in rows["incidents"]:
            inc.add_metric([pid, impact], float(count))
        yield inc
        maint = GaugeMetricFamily("upstream_maintenance_next_start_timestamp_seconds",
                                  "Unix time the next scheduled maintenance starts", labels=["provider"])
        for pid, start in rows["next_maintenance"]:
            when = _ts(start)
            if when is not None:
                maint.add_metric([pid], when)
        yield maint
        h = self.health
        yield GaugeMetricFamily("upstream_providers", "Followed providers", value=len(rows["providers"]))
        yield GaugeMetricFamily("upstream_events_last_seq", "Sequence number of the newest event",
                                value=rows["events"])
        yield GaugeMetricFamily("upstream_watching", "1 when this process polls (serve without --no-watch)",
                                value=1.0 if h.watching else 0.0)
        yield CounterMetricFamily("upstream_polls", "Polls written by this process", value=h.polls)
        yield CounterMetricFamily("upstream_poll_failures", "Polls of this process that could not fetch or read "
                                  "the page", value=h.poll_failures)
        yield CounterMetricFamily("upstream_poll_events", "Events this process's polls produced", value=h.events)
        yield GaugeMetricFamily("upstream_poll_lag_seconds", "How late the latest round of polls started after "
                                "their due time (the most late of them)", value=h.lag_last_max)
        yield GaugeMetricFamily("upstream_poll_lag_max_seconds", "The most late any poll of this process started",
                                value=h.lag_max)
        if h.last_outcome_at is not None:
            yield GaugeMetricFamily("upstream_last_poll_timestamp_seconds", "Unix time of the last written poll",
                                    value=h.last_outcome_at)
        deliveries = rows["deliveries"]
        yield GaugeMetricFamily("upstream_deliveries_pending", "Notifications waiting to be sent (or being sent)",
                                value=float(deliveries.get("pending", 0) + deliveries.get("sending", 0)))
        yield GaugeMetricFamily("upstream_deliveries_failed", "Notifications that failed for good",
                                value=float(deliveries.get("failed", 0)))


def metrics_text(db: Path, health: DaemonHealth) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UpstreamCollector(db, health))
    return generate_latest(registry)
