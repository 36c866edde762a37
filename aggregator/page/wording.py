"""Events in words: the one line a person reads for an event, in the terminal, logs and feeds."""

from __future__ import annotations

import re
from typing import Any

from aggregator.page.termtext import terminal_safe


def short_error(error: str | None) -> str:
    """A fetch error without the URL it concerns (shown next to the provider already)."""
    if not error:
        return ""
    return re.sub(r"^https?://\S+?: ", "", error)


def describe_event(ev: dict[str, Any]) -> str:
    """One human line for an event (vendor text in it made terminal-safe: it reaches logs too)."""
    return terminal_safe(_describe_event(ev))


def _describe_event(ev: dict[str, Any]) -> str:
    kind, name = ev["kind"], ev.get("subject_name") or ev.get("subject_id") or ""
    old, new = ev.get("old"), ev.get("new")
    detail = ev.get("detail") or {}
    if kind == "provider.unreachable":
        return f"page unreachable: {short_error(detail.get('reason'))}"
    if kind == "provider.recovered":
        return "page reachable again"
    if kind == "provider.status_changed":
        if detail.get("first_sight"):
            return f"first seen: {new} ({len(detail.get('components') or {})} components)"
        return f"status {old} -> {new}" + (f" ({detail['description']})" if detail.get("description") else "")
    if kind == "component.added":
        return f"component added: {name} ({new})"
    if kind == "component.removed":
        return f"component removed: {name}"
    if kind == "component.status_changed":
        return f"{name}: {old} -> {new}"
    what = "incident" if kind.startswith("incident") else "maintenance"
    verb = kind.split(".", 1)[1]
    change = f"{old} -> {new}" if old and old != new else (new or "")
    impact = f" [{detail['impact']}]" if detail.get("impact") and what == "incident" else ""
    # Read from the platform's history on first sight (issue 13): past, never notified.
    backfilled = " (from history)" if detail.get("backfilled") else ""
    return f"{what} {verb}: {name}{impact} ({change}){backfilled}"


def vendor_time_note(ev: dict[str, Any], show: Any) -> str:
    """``"; at vendor TIME"`` when the vendor's own time of the event (``occurred_at``) is known and
    is not when upstream saw it (a minute apart or more); ``show`` formats a stored time."""
    occurred, observed = ev.get("occurred_at"), ev.get("observed_at")
    if not occurred or not observed:
        return ""
    from datetime import datetime

    try:
        apart = abs((datetime.fromisoformat(observed) - datetime.fromisoformat(occurred)).total_seconds())
    except ValueError:
        return ""
    return f"  (at vendor {show(occurred)})" if apart >= 60 else ""
