"""Messages for people (chat, email, push): a title, a short body and a severity, from a payload.

Vendor, component, old -> new, incident title, impact and status, the latest update and a link:
what someone paged at night needs to decide whether it is their problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

BAD = {"degraded_performance": "warning", "partial_outage": "failure", "major_outage": "failure",
       "under_maintenance": "warning"}
_MAX_UPDATE = 600


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    level: str  # info, success, warning, failure (Apprise's notify types)


def words(status: str | None) -> str:
    return (status or "unknown").replace("_", " ")


def _when(value: str | None) -> str:
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _status_level(new: str | None) -> str:
    if new == "operational":
        return "success"
    return BAD.get(new or "", "info")


def _flap_text(name: str, flap: dict[str, Any]) -> str:
    path = " -> ".join(words(s) for s in flap["statuses"])
    first = datetime.fromisoformat(flap["first_observed_at"])
    last = datetime.fromisoformat(flap["last_observed_at"])
    minutes = max(1, round((last - first).total_seconds() / 60))
    verb = "flapped" if flap["returned"] else "changed"
    return f"{name} {verb}: {path} ({flap['changes']} changes in {minutes} min)"


def summary_line(payload: dict[str, Any]) -> str:
    """The one line kept in ``data.text``; also the message title."""
    data = payload["data"]
    ev, provider = data["event"], data["provider"]
    vendor = provider["name"]
    kind = payload["type"]
    subject = ev.get("subject_name") or ev.get("subject_id") or ""
    detail = ev.get("detail") or {}
    if data.get("flap"):
        name = vendor if kind.startswith("provider.") else f"{vendor}: {subject}"
        if kind == "provider.reachability_flapped":
            name = f"{vendor} status page"
        return _flap_text(name, data["flap"])
    if kind == "provider.unreachable":
        return f"{vendor}: status page unreachable"
    if kind == "provider.recovered":
        return f"{vendor}: status page reachable again"
    if kind == "provider.status_changed":
        return f"{vendor}: {words(ev['old'])} -> {words(ev['new'])}"
    if kind == "component.status_changed":
        return f"{vendor}: {subject} {words(ev['old'])} -> {words(ev['new'])}"
    if kind == "component.added":
        return f"{vendor}: component added: {subject} ({words(ev['new'])})"
    if kind == "component.removed":
        return f"{vendor}: component removed: {subject}"
    notice = data.get("incident") or data.get("maintenance") or {}
    title = notice.get("title") or subject
    if kind.startswith("incident."):
        verb = {"incident.opened": "incident", "incident.updated": "incident update",
                "incident.resolved": "resolved"}[kind]
        impact = notice.get("impact") or detail.get("impact")
        impact_text = f" [{impact}]" if impact and impact != "none" and kind != "incident.resolved" else ""
        return f"{vendor} {verb}{impact_text}: {title}"
    verb = {"maintenance.scheduled": "maintenance scheduled", "maintenance.started": "maintenance started",
            "maintenance.completed": "maintenance completed"}.get(kind, kind)
    return f"{vendor} {verb}: {title}"


def render(payload: dict[str, Any]) -> Message:
    data = payload["data"]
    ev, provider = data["event"], data["provider"]
    kind = payload["type"]
    detail = ev.get("detail") or {}
    title = summary_line(payload)
    lines: list[str] = []
    level = "info"
    link = provider.get("url")
    notice = data.get("incident") or data.get("maintenance")
    component = data.get("component")

    if data.get("flap"):
        flap = data["flap"]
        lines.append(title)
        lines.append(f"First change {_when(flap['first_observed_at'])}, last {_when(flap['last_observed_at'])}.")
        now = flap["statuses"][-1]
        lines.append(f"Now: {words(now)}.")
        level = "warning" if flap["returned"] else _status_level(now)
    elif kind in ("provider.unreachable", "provider.recovered"):
        if kind == "provider.unreachable":
            lines.append(f"upstream could not fetch the {provider['name']} status page: "
                         f"{detail.get('reason') or provider.get('last_error') or 'unknown error'}.")
            lines.append("This is about the page, not a reported outage: the last known status is kept "
                         f"({words(provider.get('status'))}).")
            level = "warning"
        else:
            lines.append(f"The {provider['name']} status page answers again "
                         f"(status: {words(provider.get('status'))}).")
            level = "success"
    elif kind.startswith("component.") or kind == "provider.status_changed":
        what = ev.get("subject_name") or ev.get("subject_id")
        if kind == "provider.status_changed":
            what = f"{provider['name']} overall"
        lines.append(f"{what}: {words(ev.get('old'))} -> {words(ev.get('new'))}")
        if component and (component.get("group") or component.get("region")):
            where = ", ".join(x for x in (component.get("group") and f"group {component['group']}",
                                          component.get("region") and f"region {component['region']}") if x)
            lines.append(f"({where})")
        if kind == "provider.status_changed" and provider.get("description"):
            lines.append(f"The page says: {provider['description']}")
        level = _status_level(ev.get("new")) if kind != "component.removed" else "info"
    if notice:
        if notice.get("url"):
            link = notice["url"]
        is_maint = data.get("maintenance") is not None
        lines.append(notice["title"])
        facts = [f"Impact: {notice['impact']}", f"Status: {words(notice['status'])}"]
        if is_maint and notice.get("scheduled_for"):
            span = _when(notice["scheduled_for"])
            if notice.get("scheduled_until"):
                span += f" to {_when(notice['scheduled_until'])}"
            facts.append(f"Window: {span}")
        elif notice.get("started_at"):
            facts.append(f"Started: {_when(notice['started_at'])}")
        lines.append(" | ".join(facts))
        affected = [c.get("name") or c["id"] for c in notice.get("components") or []]
        if affected:
            lines.append("Affected: " + ", ".join(affected))
        update = notice.get("latest_update")
        if update and update.get("body"):
            body = update["body"].strip()
            if len(body) > _MAX_UPDATE:
                body = body[:_MAX_UPDATE].rstrip() + "…"
            when = _when(update.get("created_at"))
            lines.append(f"Latest update ({words(update.get('status'))}{', ' + when if when else ''}): {body}")
        if kind == "incident.resolved":
            level = "success"
        elif kind.startswith("incident."):
            level = "failure" if notice["impact"] in ("major", "critical") else "warning"
        else:
            level = "success" if kind == "maintenance.completed" else "info"
    if link:
        lines.append(link)
    if data.get("test"):
        lines.append("(This is a test notification sent by `upstream subscriptions test`.)")
    return Message(title=title, body="\n".join(lines), level=level)
