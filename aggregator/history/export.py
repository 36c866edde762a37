"""Exports of what the store holds: json / ndjson / atom / html.

Every export is deterministic: the same database gives the same bytes (providers sorted by id,
events by seq, keys sorted, no clock read: the html board's "as of" is the newest poll in the
data), so exports diff well in git. Only sqlite3, orjson and the standard library are imported
here; Jinja2 is imported when the html board is rendered.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from aggregator.errors import ExportError, QueryError
from aggregator.store.reader import resolve_ids, status_json, status_rows

FORMATS = ("json", "ndjson", "atom", "html")
ATOM_NS = "http://www.w3.org/2005/Atom"
TAG = "tag:upstream,2026:"
BOARD_DAYS = 90
# The most days a board's bars draw: each day is a cell per component, and a page must stay small
# (a 2,000-day request once wrote a 24 MB page). Longer requests draw the last MAX_BOARD_DAYS.
MAX_BOARD_DAYS = 365
# Bars with more cells than this are drawn without gaps, so that they fit a phone's width.
DENSE_BAR_DAYS = 120
GENERATOR_META = '<meta name="generator" content="upstream">'

STATUS_LABEL = {
    "operational": "Operational",
    "under_maintenance": "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "unknown": "Unknown",
}



# ------------------------------------------------------------------------------------------------
# Selection
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """Which providers an export covers: None means every followed provider (and the whole log)."""

    ids: tuple[str, ...] | None = None
    providers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        """The selection as a stable string (part of the Atom feed id)."""
        pairs = [("category", c.lower()) for c in sorted(self.categories)] + \
                [("provider", p) for p in sorted(self.providers)]
        return urlencode(pairs)


def select(conn: sqlite3.Connection, providers: Sequence[str] = (), categories: Sequence[str] = ()) -> Selection:
    """Providers by id/name (each must be followed) and/or by category (case-insensitive)."""
    ids: set[str] | None = None
    if providers:
        try:
            ids = set(resolve_ids(conn, list(providers)))
        except QueryError as exc:
            raise ExportError(str(exc)) from None
    if categories:
        wanted = {c.strip().lower() for c in categories}
        in_category = {r[0] for r in conn.execute("SELECT id, category FROM providers")
                       if (r[1] or "").strip().lower() in wanted}
        if not in_category:
            known = sorted({r[0] for r in conn.execute("SELECT DISTINCT category FROM providers "
                                                       "WHERE category IS NOT NULL")})
            hint = f" (categories: {', '.join(known)})" if known else " (no provider has a category)"
            raise ExportError(f"no followed provider in category {', '.join(sorted(categories))}{hint}")
        ids = in_category if ids is None else ids & in_category
        if not ids:
            raise ExportError("no followed provider matches both --provider and --category")
    if ids is None:
        return Selection()
    named = tuple(sorted(set(resolve_ids(conn, list(providers))))) if providers else ()
    return Selection(tuple(sorted(ids)), named, tuple(categories))


def snapshots(conn: sqlite3.Connection, selection: Selection) -> list[dict[str, Any]]:
    ids = list(selection.ids) if selection.ids is not None else None
    return status_json(status_rows(conn, ids)) if ids is None or ids else []


def events(conn: sqlite3.Connection, selection: Selection, limit: int | None = None, *,
           include_removed: bool = False) -> list[dict[str, Any]]:
    """The event log (of the selected providers), oldest first; ``limit`` keeps the newest N.
    Providers no longer followed are left out unless ``include_removed``."""
    from aggregator.store.reader import event_dict

    sql = "SELECT * FROM events"
    args: list[Any] = []
    if selection.ids is not None:
        sql += f" WHERE provider IN ({','.join('?' * len(selection.ids))})"
        args.extend(selection.ids)
    elif not include_removed:
        sql += " WHERE provider IN (SELECT id FROM providers)"
    sql += " ORDER BY seq DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    cur = conn.execute(sql, args)
    cols = [c[0] for c in cur.description]
    rows = [event_dict(dict(zip(cols, r, strict=True))) for r in cur.fetchall()]
    rows.reverse()
    return rows


# ------------------------------------------------------------------------------------------------
# json / ndjson
# ------------------------------------------------------------------------------------------------

_JSON_OPTS = orjson.OPT_SORT_KEYS


def export_snapshots(conn: sqlite3.Connection, fmt: str = "json", ids: list[str] | None = None, *,
                     selection: Selection | None = None, history: bool = False,
                     limit: int | None = None, include_removed: bool = False) -> bytes:
    """Snapshots sorted by provider id, keys sorted; ``history`` adds the events (see export_models)."""
    if fmt not in ("json", "ndjson"):
        raise ExportError(f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if selection is None:
        selection = Selection(tuple(sorted(ids))) if ids else Selection()
    snaps = snapshots(conn, selection)
    log = events(conn, selection, limit, include_removed=include_removed) if history else None
    if fmt == "ndjson":
        lines = [orjson.dumps(s, option=_JSON_OPTS) for s in snaps]
        lines += [orjson.dumps(e, option=_JSON_OPTS) for e in log or []]
        return b"".join(line + b"\n" for line in lines)
    doc: Any = {"snapshots": snaps, "events": log} if history else snaps
    return orjson.dumps(doc, option=_JSON_OPTS | orjson.OPT_INDENT_2) + b"\n"


# ------------------------------------------------------------------------------------------------
# Atom
# ------------------------------------------------------------------------------------------------

# XML 1.0 forbids most control characters; vendor text sometimes carries them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    return _XML_BAD.sub("", str(value))


def safe_url(value: Any) -> str | None:
    """A URL fit for a link: http(s) with a host, else None (never javascript:, data:, ...)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or _XML_BAD.search(url) or " " in url:
        return None
    return url


def _provider_info(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    out = {}
    for pid, name, url, snapshot in conn.execute("SELECT p.id, p.name, p.url, s.snapshot FROM providers p "
                                                   "LEFT JOIN snapshots s ON s.provider = p.id"):
        page_url = None
        if snapshot:
            page_url = orjson.loads(snapshot).get("url")
        out[pid] = {"name": name, "url": safe_url(page_url) or safe_url(url)}
    return out


def event_text(ev: dict[str, Any], provider_name: str) -> str:
    """The plain-text body of one event's feed entry."""
    detail = ev.get("detail") or {}
    lines = [f"Provider: {provider_name} ({ev['provider']})", f"Change: {ev['kind']}"]
    if ev.get("subject_name") or ev.get("subject_id"):
        lines.append(f"Subject: {ev.get('subject_name') or ev.get('subject_id')}")
    if ev.get("old") is not None:
        lines.append(f"From: {ev['old']}")
    if ev.get("new") is not None:
        lines.append(f"To: {ev['new']}")
    lines.append(f"Observed: {ev['observed_at']}")
    if ev.get("occurred_at"):
        lines.append(f"Source time: {ev['occurred_at']}")
    for key, label in (("impact", "Impact"), ("group", "Group"), ("region", "Region"), ("reason", "Reason"),
                       ("description", "Page says")):
        if detail.get(key):
            lines.append(f"{label}: {detail[key]}")
    if detail.get("regions"):
        lines.append(f"Regions: {', '.join(map(str, detail['regions']))}")
    if detail.get("components") and detail.get("first_sight"):
        lines.append("Components: " + ", ".join(f"{k}={v}" for k, v in sorted(detail["components"].items())))
    if detail.get("latest_update"):
        lines += ["", str(detail["latest_update"])]
    return "\n".join(lines)


def export_atom(conn: sqlite3.Connection, selection: Selection | None = None, limit: int | None = None) -> bytes:
    """One Atom feed of every change (newest first), each event an entry with a stable id."""
    import xml.etree.ElementTree as ET

    from aggregator.page.wording import describe_event

    selection = selection or Selection()
    log = events(conn, selection, limit)
    info = _provider_info(conn)
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = xml_text(text)
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    query = selection.query
    sub(feed, "id", f"{TAG}feed" + (f"?{query}" if query else ""))
    sub(feed, "title", "upstream: status page changes" + (f" ({query.replace('&', ', ')})" if query else ""))
    newest = max((e["observed_at"] for e in log), default=None) or _newest_poll(conn, selection) \
        or "1970-01-01T00:00:00Z"
    sub(feed, "updated", newest)
    author = sub(feed, "author")
    sub(author, "name", "upstream")
    sub(feed, "generator", "upstream")
    for ev in reversed(log):
        prov = info.get(ev["provider"], {"name": ev["provider"], "url": None})
        name = prov["name"] or ev["provider"]
        entry = sub(feed, "entry")
        sub(entry, "id", f"{TAG}event/{ev['provider']}/{ev['seq']}")
        sub(entry, "title", f"{name}: {describe_event(ev)}")
        sub(entry, "updated", ev["observed_at"])
        link = safe_url((ev.get("detail") or {}).get("url")) or prov["url"]
        if link:
            sub(entry, "link", rel="alternate", type="text/html", href=xml_text(link))
        sub(entry, "category", term=ev["kind"], scheme=f"{TAG}kind")
        sub(entry, "category", term=ev["provider"], label=xml_text(name), scheme=f"{TAG}provider")
        sub(entry, "content", event_text(ev, name), type="text")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _newest_poll(conn: sqlite3.Connection, selection: Selection) -> str | None:
    sql = "SELECT max(last_polled_at) FROM providers"
    args: list[Any] = []
    if selection.ids is not None:
        sql += f" WHERE id IN ({','.join('?' * len(selection.ids))})"
        args.extend(selection.ids)
    row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


# ------------------------------------------------------------------------------------------------
# HTML status board
# ------------------------------------------------------------------------------------------------

def page_name(provider_id: str) -> str:
    """A file name for a provider's page that cannot escape the output directory."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", provider_id)
    return ("_" + name if name.startswith(".") or not name else name) + ".html"


def utc_text(value: str | None, with_time: bool = True) -> str:
    if not value:
        return "-"
    try:
        when = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return value
    return when.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


def _cell_title(cell: dict[str, Any]) -> str:
    from aggregator.history.report import human_duration

    if cell["status"] is None:
        return f"{cell['date']}: no data"
    parts = [f"{STATUS_LABEL.get(s, s)} {human_duration(sec)}"
             for s, sec in sorted(cell["seconds"].items(), key=lambda kv: -kv[1])]
    return f"{cell['date']}: " + ", ".join(parts)


def board_context(conn: sqlite3.Connection, selection: Selection, days: int = BOARD_DAYS) -> dict[str, Any]:
    """Everything the board's templates show, computed once (and sorted: same data, same page)."""
    from aggregator.history.markup import to_html
    from aggregator.history.report import (
        Policy,
        duration,
        human_duration,
        incident_rows,
        parse_iso,
        percent,
        shown_percent,
        uptime_report,
    )

    requested_days = days
    days = max(1, min(days, MAX_BOARD_DAYS))

    rows = status_rows(conn, list(selection.ids) if selection.ids is not None else None)
    newest_event = conn.execute(
        "SELECT max(observed_at) FROM events" + (f" WHERE provider IN ({','.join('?' * len(selection.ids))})"
                                                 if selection.ids is not None else ""),
        list(selection.ids or ())).fetchone()[0]
    as_of_text = max(filter(None, [_newest_poll(conn, selection), newest_event]), default=None)
    as_of = parse_iso(as_of_text) or datetime(1970, 1, 1, tzinfo=UTC)
    policy = Policy()
    providers = []
    for row in rows:
        snap = orjson.loads(row["snapshot"]) if row["snapshot"] else {}
        report = uptime_report(conn, row["id"], days=days, now=as_of, tz=UTC, policy=policy)
        figures = {c["id"]: c for c in report["components"]}
        vendor = report["vendor_uptime"]
        vendor_by_id = {c["id"]: c for c in vendor["components"]} if vendor else {}
        comps = conn.execute("SELECT id, name, group_name, status, description FROM components "
                             "WHERE provider = ? ORDER BY page_order", [row["id"]]).fetchall()
        groups: list[dict[str, Any]] = []
        for cid, name, group, status, description in comps:
            fig = figures.get(cid)
            reported = vendor_by_id.get(cid)
            entry = {"id": cid, "name": name, "status": status, "label": STATUS_LABEL.get(status, status),
                     "description": description,
                     "uptime": shown_percent(fig) if fig and fig["uptime_percent"] is not None else None,
                     "covers": fig["coverage"]["text"] if fig else "nothing observed",
                     "vendor_uptime": percent(reported["uptime_percent"]) if reported else None,
                     "vendor_covers": reported["covers"] if reported else None,
                     "cells": [{"status": c["status"] or "none", "title": _cell_title(c)} for c in fig["days"]]
                     if fig else []}
            if not groups or groups[-1]["name"] != group:
                groups.append({"name": group, "components": []})
            groups[-1]["components"].append(entry)
        notices = incident_rows(conn, row["id"], since=parse_iso(report["window"]["start"]),
                                kind=None, with_updates=True)
        component_names = {c[0]: c[1] for c in comps}
        for n in notices:
            n["affects"] = [component_names.get(cid, cid) for cid in n["component_ids"]]
            seconds, ongoing = duration(n, as_of)
            n["duration"] = human_duration(seconds) + (" so far" if ongoing else "")
            n["safe_url"] = safe_url(n["url"])
            # Vendor text is markdown with a little HTML of its own: rendered, then sanitised
            # (aggregator.history.markup); the template marks only this output safe.
            for u in n["updates"]:
                u["html"] = to_html(u["body"])
            n["postmortem"] = next((u for u in n["updates"] if u["status"] == "postmortem"), None)
            n["updates"] = [u for u in n["updates"] if u is not n["postmortem"]]
        active = [n for n in notices if n["kind"] == "incident" and n["is_open"]]
        past = [n for n in notices if n["kind"] == "incident" and not n["is_open"]]
        maintenances = [n for n in notices if n["kind"] == "maintenance"]
        maintenances.sort(key=lambda n: (not n["is_open"], n["scheduled_for"] or n["started_at"] or ""),
                          reverse=False)
        page_fig = report["page"]
        status = row["status"] if row["last_success_at"] else "unknown"
        providers.append({
            "id": row["id"],
            "file": page_name(row["id"]),
            "name": row["name"] or row["id"],
            "category": row["category"],
            "platform": row["platform"],
            "status": status,
            "label": STATUS_LABEL.get(status, status),
            "description": row["description"],
            "vendor_url": safe_url(snap.get("url")) or safe_url(row["url"]),
            "reachable": bool(row["reachable"]),
            "polled": row["last_polled_at"] is not None,
            "last_error": row["last_error"],
            "last_polled_at": row["last_polled_at"],
            "last_success_at": row["last_success_at"],
            "uptime": shown_percent(page_fig) if page_fig["uptime_percent"] is not None else None,
            "uptime_covers": page_fig["coverage"]["text"],
            "uptime_enough": page_fig["coverage"]["enough"],
            "vendor_covers": vendor["covers"] if vendor else None,
            "feed_file": page_name(row["id"]).removesuffix(".html") + ".xml",
            "category_file": category_file(row["category"] or "Other"),
            "cells": [{"status": c["status"] or "none", "title": _cell_title(c)} for c in page_fig["days"]],
            "groups": groups,
            "active": active,
            "maintenances": maintenances,
            "past": past,
            "incident_stats": report["incidents"],
            "mttr": human_duration(report["incidents"]["mttr_seconds"]),
            "longest": _longest_text(report["incidents"]["longest_outage"]),
        })
    categories: dict[str, list[dict[str, Any]]] = {}
    for p in providers:
        categories.setdefault(p["category"] or "", []).append(p)
    ordered = [{"name": name or "Other", "file": category_file(name or "Other"),
                "providers": sorted(items, key=lambda p: (p["name"].lower(), p["id"]))}
               for name, items in sorted(categories.items(), key=lambda kv: (kv[0] == "", kv[0].lower()))]
    counts: dict[str, int] = {}
    for p in providers:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    return {"as_of": utc_text(as_of_text) if as_of_text else None, "days": days, "requested_days": requested_days,
            "dense": days > DENSE_BAR_DAYS, "categories": ordered,
            "providers": providers, "counts": counts, "policy": policy.note(), "labels": STATUS_LABEL}


def category_file(category: str) -> str:
    """The file name of a category's page (``categories/<this>``)."""
    return page_name(re.sub(r"[^a-z0-9]+", "-", category.strip().lower()).strip("-") or "category")


def _longest_text(longest: dict[str, Any] | None) -> str | None:
    from aggregator.history.report import human_duration

    if not longest:
        return None
    return human_duration(longest["seconds"]) + (" (ongoing)" if longest["ongoing"] else "")


def board_environment() -> Any:
    """The Jinja2 environment of the board's templates (shared by the static export and ``serve``)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).with_name("templates"))),
        autoescape=True,  # vendor text is never markup: everything is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Control characters are invalid in HTML and XML text; vendors send them now and then.
        finalize=lambda value: xml_text(value) if isinstance(value, str) and not hasattr(value, "__html__")
        else value,
    )
    env.filters["utc"] = utc_text
    env.filters["day"] = lambda v: utc_text(v, with_time=False)
    return env


def render_board_page(context: dict[str, Any], rel: str, *, live: bool = False, env: Any = None) -> str | None:
    """One page of the board by its relative path (``index.html``, ``providers/X.html``,
    ``categories/X.html``), or None when the context has no such page. ``live``: the page
    served by ``upstream serve``, which refreshes itself (the static export carries no script)."""
    env = env or board_environment()
    if rel == "index.html":
        return env.get_template("index.html").render(**context, root="", live=live)
    folder, _, name = rel.partition("/")
    if folder == "providers":
        by_category = {c["name"]: c for c in context["categories"]}
        for p in context["providers"]:
            if p["file"] == name:
                category = by_category.get(p["category"] or "Other")
                others = [o for o in (category["providers"] if category else []) if o["id"] != p["id"]]
                return env.get_template("provider.html").render(**context, provider=p, others=others, root="../",
                                                                live=live)
    if folder == "categories":
        for c in context["categories"]:
            if c["file"] and c["file"] == name:
                return env.get_template("category.html").render(**context, category=c, root="../", live=live)
    return None


def render_board(context: dict[str, Any]) -> dict[str, str]:
    """Relative path -> HTML text for the index, every provider page and every category page."""
    env = board_environment()
    rels = ["index.html", *(f"providers/{p['file']}" for p in context["providers"]),
            *(f"categories/{c['file']}" for c in context["categories"] if c["file"])]
    return {rel: page for rel in rels if (page := render_board_page(context, rel, env=env)) is not None}


def export_html(conn: sqlite3.Connection, out_dir: Path, selection: Selection | None = None,
                days: int = BOARD_DAYS) -> list[Path]:
    """Write the static board (index, one page per provider, the Atom feed) into ``out_dir``.

    Pages of providers no longer exported are removed, but only files this board wrote (they
    carry its generator tag): nothing else in the directory is touched.
    """
    selection = selection or Selection()
    pages = render_board(board_context(conn, selection, days))
    pages["feed.xml"] = export_atom(conn, selection).decode()
    for pid in (selection.ids if selection.ids is not None else [r[0] for r in conn.execute(
            "SELECT id FROM providers ORDER BY id")]):
        # One feed per vendor, for "Get alerted" on its page.
        pages[f"providers/{page_name(pid).removesuffix('.html')}.xml"] = export_atom(
            conn, Selection((pid,), (pid,))).decode()
    written = []
    try:
        (out_dir / "providers").mkdir(parents=True, exist_ok=True)
        (out_dir / "categories").mkdir(parents=True, exist_ok=True)
        for rel, text in sorted(pages.items()):
            path = out_dir / rel
            write_atomic(path, text.encode())
            written.append(path)
        for old in sorted([*(out_dir / "providers").glob("*.html"), *(out_dir / "categories").glob("*.html"),
                           *(out_dir / "providers").glob("*.xml")]):
            head = old.read_text(errors="replace")[:2000]
            if old not in written and (GENERATOR_META in head or "<generator>upstream</generator>" in head):
                old.unlink()
    except OSError as exc:
        raise ExportError(f"cannot write the board to {out_dir}: {exc.strerror or exc}") from None
    return written


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def export_bytes(conn: sqlite3.Connection, fmt: str, selection: Selection, *, history: bool = False,
                 limit: int | None = None, include_removed: bool = False) -> bytes:
    """json, ndjson or atom as bytes (html writes a directory: ``export_html``)."""
    if fmt in ("json", "ndjson"):
        return export_snapshots(conn, fmt, selection=selection, history=history, limit=limit,
                                include_removed=include_removed)
    if fmt == "atom":
        return export_atom(conn, selection, limit)
    raise ExportError(f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")

