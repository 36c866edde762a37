"""iCalendar (RFC 5545) of scheduled maintenances: ``/calendar.ics``, per provider, ``export --format ics``.

Each maintenance is one VEVENT whose UID is its provider and id (stable across polls and restarts).
SEQUENCE grows whenever the vendor changes the notice: it is the number of seconds from when we
first saw the maintenance to its latest change (the vendor's updated_at, its newest update, or
when it closed), so it only goes up, is the same on every read and needs no write. A maintenance
that closed without ever starting (it vanished from the page while scheduled) is STATUS:CANCELLED;
the others are CONFIRMED.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aggregator.serve import data

WINDOW = "30d"  # closed maintenances this recent stay in the feed, so calendars learn of cancellations
PRODID = "-//upstream//status page maintenances//EN"


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return None


def sequence(row: dict[str, Any]) -> int:
    first = _when(row.get("first_seen_at"))
    changes = [_when(row.get("updated_at")), _when(row.get("resolved_at")) if not row["is_open"] else None,
               *(_when(u.get("created_at")) for u in row.get("updates") or [])]
    latest = max((c for c in changes if c is not None), default=None)
    if first is None or latest is None:
        return 0
    return max(0, int((latest - first).total_seconds()))


def cancelled(row: dict[str, Any], told: list[str]) -> bool:
    return not row["is_open"] and "maintenance.started" not in told


def calendar_bytes(db: Path, provider_id: str | None = None) -> bytes:
    import icalendar

    rows = data.notices(db, kind="maintenance", provider_id=provider_id, since=WINDOW)
    told = data.maintenance_history(db, provider_id)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{provider_id} maintenances" if provider_id else "Vendor maintenances")
    for row in sorted(rows, key=lambda r: (r["provider"], r["id"])):
        start = _when(row["scheduled_for"]) or _when(row["started_at"]) or _when(row["first_seen_at"])
        if start is None:
            continue
        end = _when(row["scheduled_until"]) or _when(row["resolved_at"]) or start + timedelta(hours=1)
        if end <= start:
            end = start + timedelta(minutes=1)
        ev = icalendar.Event()
        ev.add("uid", f"{row['provider']}/{row['id']}@upstream")
        ev.add("summary", f"{row['provider_name']}: {row['title']}")
        ev.add("dtstart", start)
        ev.add("dtend", end)
        stamp = _when(row.get("updated_at")) or _when(row["first_seen_at"]) or start
        ev.add("dtstamp", stamp)
        ev.add("last-modified", stamp)
        ev.add("sequence", sequence(row))
        ev.add("status", "CANCELLED" if cancelled(row, told.get((row["provider"], row["id"]), [])) else "CONFIRMED")
        ev.add("transp", "TRANSPARENT")
        ev.add("categories", ["maintenance", row["provider"]])
        latest = (row.get("updates") or [{}])[0]
        description = f"Status: {row['status'].replace('_', ' ')}"
        if latest.get("body"):
            description += f"\n\n{latest['body']}"
        ev.add("description", description)
        from aggregator.history.export import safe_url

        if safe_url(row.get("url")):
            ev.add("url", row["url"])
        cal.add_component(ev)
    return cal.to_ical()
