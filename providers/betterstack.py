"""Better Stack (ex Better Uptime) status pages: ``/index.json``, a JSON:API document.

``data`` is the ``status_page``; ``included`` holds ``status_page_section`` (group names),
``status_page_resource`` (components), ``status_report`` (incidents, or maintenances when
``report_type`` is ``maintenance``) and ``status_update`` (their updates).

Quirks handled (platforms.md §6 and §13, and the trimmed real capture):

* relationships may reference ids that ``included`` does not carry (trimmed documents, hidden
  sections): those references are skipped, never fatal;
* a resolved report has ``aggregate_state: resolved`` but no ``resolved_at`` and often a null
  ``ends_at``: the close time is the newest included update's ``published_at``;
* a resource can be ``not_monitored`` (no monitor behind it): its state is unknown unless an open
  report says what it is;
* updates carry no status word of their own, only ``affected_resources[].status``: that list is
  kept in ``raw_status`` and an update whose resources are all ``resolved`` counts as resolved.
"""

from __future__ import annotations

from typing import Any

from aggregator.page.adapter import Adapter, Bodies, Endpoint, ParseError
from aggregator.page.model import Component, Incident, Maintenance, Snapshot, Update
from aggregator.page.reading import (
    as_list,
    by_kind_newest_first,
    impacts_of,
    int_or_none,
    join_url,
    load_object,
    parse_time,
    sort_updates,
    stated_or_worst,
    text_or_none,
    word_key,
)
from aggregator.page.vocab import IMPACT_RANK, ComponentStatus, Impact, IncidentStatus, MaintenanceStatus

STATE = {
    "operational": ComponentStatus.operational,
    "degraded": ComponentStatus.degraded_performance,
    "downtime": ComponentStatus.major_outage,
    "maintenance": ComponentStatus.under_maintenance,
    "not_monitored": ComponentStatus.unknown,
}
STATE_IMPACT = impacts_of(STATE)


def _ref_ids(relationship: Any) -> list[str]:
    data = relationship.get("data") if isinstance(relationship, dict) else None
    return [str(ref["id"]) for ref in as_list(data) if isinstance(ref, dict) and ref.get("id") is not None]


def _affected(value: Any) -> list[tuple[str, str]]:
    """``affected_resources`` -> [(resource id, state word)]."""
    out = []
    for item in as_list(value):
        if isinstance(item, dict) and item.get("status_page_resource_id") is not None:
            out.append((str(item["status_page_resource_id"]), word_key(item.get("status"))))
    return out


class BetterStackAdapter(Adapter):
    platform = "betterstack"
    title = "Better Stack (Better Uptime)"
    reads = frozenset({"components", "groups", "incidents", "maintenances", "updates"})
    keys = ("index",)

    def endpoints(self, base_url: str) -> list[Endpoint]:
        # May redirect to /en/index.json: the fetcher follows redirects.
        return [Endpoint("index", join_url(base_url, "index.json"))]

    def history_endpoints(self, base_url: str) -> list[Endpoint]:
        # index.json includes the status reports (with all their updates) of the page's history
        # window (``attributes.history`` days), resolved ones too. feed.rss is not read: its
        # items do not name the report id, so they would duplicate the reports.
        return self.endpoints(base_url)

    build_history = Adapter.build_notices

    def build(self, bodies: Bodies, base_url: str | None) -> Snapshot:
        doc = load_object(self.body(bodies), "betterstack index.json")
        data = doc.get("data")
        if not isinstance(data, dict) or data.get("type") != "status_page":
            raise ParseError("betterstack: not a Better Stack status page document (data.type != status_page)")
        attributes = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
        tz = text_or_none(attributes.get("timezone"))

        included: dict[tuple[str, str], dict[str, Any]] = {}
        for item in as_list(doc.get("included")):
            if isinstance(item, dict) and item.get("id") is not None and item.get("type"):
                included[(str(item["type"]), str(item["id"]))] = item

        def attrs(kind: str, ident: str) -> dict[str, Any] | None:
            item = included.get((kind, ident))
            if item is None:
                return None
            value = item.get("attributes")
            return value if isinstance(value, dict) else {}

        sections = {ident: text_or_none(a.get("name"))
                    for (kind, ident), item in included.items() if kind == "status_page_section"
                    for a in [attrs(kind, ident) or {}]}

        reports: list[Incident | Maintenance] = []
        # What open reports say each resource is now (a not_monitored resource has no other source).
        open_state: dict[str, str] = {}
        relationships = data.get("relationships") if isinstance(data.get("relationships"), dict) else {}
        report_ids = _ref_ids(relationships.get("status_reports")) or [
            ident for (kind, ident) in included if kind == "status_report"]
        for report_id in dict.fromkeys(report_ids):
            report_attrs = attrs("status_report", report_id)
            if report_attrs is None:
                continue  # referenced but not included
            item = included[("status_report", report_id)]
            report, latest_states = self._report(report_id, report_attrs, item, attrs, tz)
            reports.append(report)
            if report.is_open:
                open_state.update(latest_states)

        resource_ids = _ref_ids(relationships.get("resources")) or [
            ident for (kind, ident) in included if kind == "status_page_resource"]
        components: list[Component] = []
        for rid in dict.fromkeys(resource_ids):
            a = attrs("status_page_resource", rid)
            if a is None:
                continue
            raw_status = text_or_none(a.get("status"))
            status = STATE.get(word_key(raw_status), ComponentStatus.unknown)
            if status is ComponentStatus.unknown and open_state.get(rid) in STATE:
                status = STATE[open_state[rid]]
            section_id = text_or_none(a.get("status_page_section_id"))
            components.append(Component(
                id=rid,
                name=str(a.get("public_name") or rid).strip(),
                group=sections.get(section_id) if section_id else None,
                status=status,
                raw_status=raw_status,
                description=text_or_none(a.get("explanation")),
                position=int_or_none(a.get("position")),
            ))

        raw_state = text_or_none(attributes.get("aggregate_state"))
        page_url = _page_url(attributes) or base_url
        incidents, maintenances = by_kind_newest_first(reports)
        return Snapshot(
            platform=self.platform,
            name=text_or_none(attributes.get("company_name")),
            url=page_url,
            page_id=text_or_none(data.get("id")),
            status=stated_or_worst(STATE.get(word_key(raw_state)), components),
            raw_status=raw_state,
            description=text_or_none(attributes.get("announcement")),
            components=components,
            incidents=incidents,
            maintenances=maintenances,
        )

    def _report(self, report_id: str, a: dict[str, Any], item: dict[str, Any], attrs: Any,
                tz: str | None) -> tuple[Incident | Maintenance, dict[str, str]]:
        """The report, and each affected resource's state as of the newest update naming it."""
        is_maintenance = word_key(a.get("report_type")) == "maintenance"
        raw_state = text_or_none(a.get("aggregate_state"))
        resolved = word_key(raw_state) == "resolved"
        rels = item.get("relationships") if isinstance(item.get("relationships"), dict) else {}
        updates: list[Update] = []
        report_affected = _affected(a.get("affected_resources"))
        states_seen: list[str] = [word_key(raw_state), *(state for _rid, state in report_affected)]
        latest: dict[str, tuple[float, str]] = {rid: (float("-inf"), state) for rid, state in report_affected}
        for uid in dict.fromkeys(_ref_ids(rels.get("status_updates"))):
            ua = attrs("status_update", uid)
            if ua is None:
                continue  # referenced but not included
            affected = _affected(ua.get("affected_resources"))
            words = sorted({state for _rid, state in affected if state})
            states_seen += words
            published = parse_time(ua.get("published_at"), tz)
            stamp = published.timestamp() if published else float("-inf")
            for rid, state in affected:
                if rid not in latest or stamp >= latest[rid][0]:
                    latest[rid] = (stamp, state)
            all_resolved = bool(words) and set(words) == {"resolved"}
            if is_maintenance:
                status = MaintenanceStatus.completed if all_resolved else (
                    MaintenanceStatus.in_progress if "maintenance" in words else MaintenanceStatus.scheduled)
            else:
                status = IncidentStatus.resolved if all_resolved else IncidentStatus.investigating
            updates.append(Update(
                id=uid,
                status=status.value,
                raw_status=",".join(words) or None,
                body=str(ua.get("message") or ""),
                # published_at carries an offset; published_at_timezone is a display name only.
                created_at=published,
            ))
        sort_updates(updates)
        newest = updates[0].created_at if updates else None
        # Impact: the worst outage state any update gave a resource (Better Stack has no impact field).
        worst = max((STATE_IMPACT[s] for s in states_seen if s in STATE_IMPACT and s != "maintenance"),
                    key=IMPACT_RANK.__getitem__, default=Impact.none)
        component_ids = list(dict.fromkeys(rid for rid, _s in report_affected))
        latest_states = {rid: state for rid, (_stamp, state) in latest.items()}
        common: dict[str, Any] = {
            "id": report_id,
            "title": str(a.get("title") or "").strip() or report_id,
            "raw_status": raw_state,
            "raw_impact": None,
            "started_at": parse_time(a.get("starts_at"), tz),
            "updated_at": newest,
            "component_ids": component_ids,
            "updates": updates,
        }
        ends_at = parse_time(a.get("ends_at"), tz)
        if is_maintenance:
            if resolved:
                status = MaintenanceStatus.completed
            elif word_key(raw_state) == "maintenance":
                status = MaintenanceStatus.in_progress
            else:
                status = MaintenanceStatus.scheduled
            return Maintenance(
                **common,
                status=status,
                scheduled_for=common["started_at"],
                scheduled_until=ends_at,
                resolved_at=(newest or ends_at) if resolved else None,
            ), latest_states
        return Incident(
            **common,
            status=IncidentStatus.resolved if resolved else IncidentStatus.investigating,
            impact=worst,
            resolved_at=(newest or ends_at) if resolved else None,
        ), latest_states


def _page_url(attributes: dict[str, Any]) -> str | None:
    domain = text_or_none(attributes.get("custom_domain"))
    if domain:
        return domain if "://" in domain else f"https://{domain}"
    sub = text_or_none(attributes.get("subdomain"))
    return f"https://{sub}.betteruptime.com" if sub else None
