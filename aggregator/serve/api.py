"""The routes of ``upstream serve``: board pages, ``/api/v1/``, feeds, calendars, badges, ``/metrics``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web

from aggregator.serve import data

API = "/api/v1"
JSON = "application/json"
MAX_LIMIT = 1000
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


def _state(request: web.Request) -> Any:
    from aggregator.serve.app import STATE

    return request.app[STATE]


def _db(request: web.Request) -> Path:
    return _state(request).config.db


def _problem(status: int, title: str, detail: str) -> Exception:
    from aggregator.serve.app import Problem

    return Problem(status, title, detail)


def _int(request: web.Request, name: str, default: int, least: int, most: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _problem(400, "Bad Request", f"{name} must be a whole number, not {text!r}") from None
    if not least <= value <= most:
        raise _problem(400, "Bad Request", f"{name} must be from {least} to {most}, not {value}")
    return value


def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in choices:
        raise _problem(400, "Bad Request", f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _bool(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise _problem(400, "Bad Request", f"{name} must be true or false, not {value!r}")
    return value in ("true", "1", "yes")


async def _json(request: web.Request, build: Any, heavy: bool = False) -> web.Response:
    from aggregator.serve.app import answer

    return await answer(request, lambda: data.dumps(build()), JSON, heavy=heavy)


# ------------------------------------------------------------------------------------------------
# JSON API
# ------------------------------------------------------------------------------------------------

async def api_providers(request: web.Request) -> web.Response:
    status = _choice(request, "status", data.STATUSES)
    db = _db(request)
    return await _json(request, lambda: data.providers(db, category=request.query.get("category"), status=status,
                                                       platform=request.query.get("platform")), heavy=True)


async def api_provider(request: web.Request) -> web.Response:
    db, pid = _db(request), request.match_info["id"]
    return await _json(request, lambda: data.provider(db, pid))


async def api_components(request: web.Request) -> web.Response:
    db, pid = _db(request), request.match_info["id"]
    return await _json(request, lambda: data.components(db, pid))


async def api_incidents(request: web.Request) -> web.Response:
    db = _db(request)
    impact = _choice(request, "impact", data.IMPACTS)
    open_only = _bool(request, "open")
    since = request.query.get("since")
    if since:
        from aggregator.store.reader import parse_since

        parse_since(since)  # a bad time is a 400 now, not in the thread
    pid = request.query.get("provider")
    return await _json(request, lambda: data.notices(db, kind="incident", provider_id=pid, open_only=open_only,
                                                     since=since, impact=impact), heavy=pid is None)


async def api_maintenances(request: web.Request) -> web.Response:
    db, pid = _db(request), request.query.get("provider")
    if request.query.get("upcoming", "true").lower() in ("false", "0", "no"):
        return await _json(request, lambda: data.notices(db, kind="maintenance", provider_id=pid))
    return await _json(request, lambda: data.upcoming_maintenances(db, pid))


async def api_events(request: web.Request) -> web.Response:
    db = _db(request)
    after = _int(request, "after_seq", 0, 0, 2**62)
    limit = _int(request, "limit", 100, 1, MAX_LIMIT)
    pid = request.query.get("provider")

    def build() -> dict[str, Any]:
        events = data.events_after(db, after, limit, pid)
        last = events[-1]["seq"] if events else after
        return {"events": events, "next_after_seq": last, "more": len(events) == limit}

    return await _json(request, build)


async def api_catalog(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query:
        raise _problem(400, "Bad Request", "give a search word: ?q=WORD")
    if len(query) > 200:
        raise _problem(400, "Bad Request", "the search word is longer than 200 characters")
    limit = _int(request, "limit", 10, 1, 100)
    return await _json(request, lambda: data.catalog_search(query, limit))


async def api_summary(request: web.Request) -> web.Response:
    db = _db(request)
    return await _json(request, lambda: data.summary(db), heavy=True)


async def api_openapi(request: web.Request) -> web.Response:
    from aggregator.serve.app import answer

    return await answer(request, lambda: data.dumps(openapi()), JSON, cache_key="openapi")


def _schema(name: str) -> dict[str, Any]:
    doc = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    doc.pop("$schema", None)
    return doc


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1 (its snapshot and event schemas are the shipped ones)."""
    ref = {"$ref": "#/components/schemas/Snapshot"}
    problem = {"description": "An RFC 9457 problem", "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}

    def op(summary: str, schema: dict[str, Any], params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"get": {"summary": summary, "parameters": params or [],
                        "responses": {"200": {"description": "OK", "headers": {"ETag": {"schema": {"type": "string"}}},
                                              "content": {JSON: {"schema": schema}}},
                                      "304": {"description": "Not modified (If-None-Match)"},
                                      "400": problem, "401": problem, "404": problem, "429": problem}}}

    def q(name: str, desc: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": desc,
                "schema": schema or {"type": "string"}}

    path_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    notice = {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "upstream", "version": "1", "description": "Read-only status of followed vendors."},
        "paths": {
            f"{API}/providers": op("Followed providers' snapshots", {"type": "array", "items": ref}, [
                q("category", "Category (case-insensitive)"), q("platform", "Platform"),
                q("status", "Status", {"enum": list(data.STATUSES)})]),
            f"{API}/providers/{{id}}": op("One provider's snapshot", ref, [path_id]),
            f"{API}/providers/{{id}}/components": op("One provider's components", {
                "type": "array", "items": {"$ref": "#/components/schemas/Component"}}, [path_id]),
            f"{API}/incidents": op("Incidents, newest first", notice, [
                q("open", "Only open ones", {"type": "boolean"}), q("since", "Active since (2h, 3d, ISO)"),
                q("provider", "Provider id"), q("impact", "Impact", {"enum": list(data.IMPACTS)})]),
            f"{API}/maintenances": op("Maintenances (upcoming and running by default)", notice, [
                q("provider", "Provider id"), q("upcoming", "false: every maintenance", {"type": "boolean"})]),
            f"{API}/events": op("The event log after a sequence number, oldest first", {
                "type": "object", "required": ["events", "next_after_seq", "more"], "properties": {
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                    "next_after_seq": {"type": "integer"}, "more": {"type": "boolean"}}}, [
                q("after_seq", "Only events with a larger seq", {"type": "integer", "minimum": 0}),
                q("limit", "At most this many", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                q("provider", "Provider id")]),
            f"{API}/catalog": op("Search the catalog of known status pages", {"type": "array", "items": {
                "type": "object"}}, [q("q", "Search word"), q("limit", "At most", {"type": "integer"})]),
            f"{API}/summary": op("Is anything I follow down?", {"type": "object", "required": ["anything_down"],
                                                               "properties": {"anything_down": {"type": "boolean"}}}),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Snapshot": _schema("snapshot"), "Event": _schema("event"),
                "Component": {"type": "object"},
                "Notice": {"type": "object", "required": ["provider", "id", "kind", "title", "impact", "status",
                                                          "is_open"]},
                "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}}},
            },
        },
    }


# ------------------------------------------------------------------------------------------------
# Board, feeds, calendars, badges, metrics
# ------------------------------------------------------------------------------------------------

async def board_page(request: web.Request) -> web.Response:
    from aggregator.history.export import render_board_page
    from aggregator.serve.app import BOARD_MIN_AGE, answer

    db = _db(request)
    folder = request.match_info.get("folder")
    name = request.match_info.get("file")
    rel = "index.html" if folder is None else f"{folder}/{name}"

    def build() -> bytes:
        if folder == "providers":
            pid = data.provider_files(db).get(name or "")
            if pid is None:
                raise data.NotFound(f"no provider page {name}")
            context = data.board(db, provider_id=pid)
        elif folder == "categories":
            names = data.category_names(db)
            if (name or "") not in names:
                raise data.NotFound(f"no category page {name}")
            # Providers without a category are filed under "Other": that page needs everyone's board.
            context = data.board(db, category=names[name or ""] or None)
        else:
            context = data.board(db)
        page = render_board_page(context, rel, live=True)
        if page is None:
            raise data.NotFound(f"no page {rel}")
        return page.encode()

    return await answer(request, build, "text/html; charset=utf-8", min_age=BOARD_MIN_AGE, cache_key=rel,
                        heavy=folder != "providers")


async def live_js(request: web.Request) -> web.Response:
    from aggregator.serve.app import answer

    path = Path(__file__).with_name("live.js")
    return await answer(request, path.read_bytes, "text/javascript; charset=utf-8", cache_key="live.js")


async def feed(request: web.Request) -> web.Response:
    from aggregator.serve.app import answer

    db = _db(request)
    pid = request.match_info.get("id")
    category = request.match_info.get("category")
    return await answer(request, lambda: data.atom(db, pid, category), "application/atom+xml; charset=utf-8",
                        heavy=pid is None)


async def calendar(request: web.Request) -> web.Response:
    from aggregator.serve.app import answer
    from aggregator.serve.calendar import calendar_bytes

    db = _db(request)
    pid = request.match_info.get("id")
    return await answer(request, lambda: calendar_bytes(db, pid), "text/calendar; charset=utf-8",
                        heavy=pid is None)


async def badge(request: web.Request) -> web.Response:
    from aggregator.serve.app import answer
    from aggregator.serve.badges import badge_svg

    db = _db(request)
    pid = request.match_info["id"]
    component = request.match_info.get("component")

    def build() -> bytes:
        snap = data.provider(db, pid)
        if component is None:
            status = snap.get("status") if snap.get("reachable") is not False or snap.get("status") else "unknown"
            return badge_svg(snap.get("name") or pid, status or "unknown").encode()
        for c in snap.get("components") or []:
            if component in (c.get("id"), c.get("name")):
                return badge_svg(c.get("name") or component, c.get("status") or "unknown").encode()
        raise data.NotFound(f"{pid} has no component {component!r}")

    return await answer(request, build, "image/svg+xml; charset=utf-8")


async def metrics(request: web.Request) -> web.Response:
    from aggregator.serve.app import METRICS_MIN_AGE, answer
    from aggregator.serve.metrics import CONTENT_TYPE, metrics_text

    state = _state(request)
    return await answer(request, lambda: metrics_text(state.config.db, state.health), CONTENT_TYPE,
                        min_age=METRICS_MIN_AGE, cache_key="metrics", heavy=True)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    app.add_routes([
        web.get("/", board_page), web.get("/index.html", board_page),
        web.get(r"/{folder:providers|categories}/{file:[^/]+\.html}", board_page),
        web.get("/static/live.js", live_js),
        web.get("/feed.xml", feed), web.get("/providers/{id}/feed.xml", feed),
        web.get("/categories/{category}/feed.xml", feed),
        web.get("/calendar.ics", calendar), web.get("/providers/{id}/calendar.ics", calendar),
        web.get(r"/badge/{id}/{component}.svg", badge), web.get(r"/badge/{id}.svg", badge),
        web.get("/metrics", metrics), web.get("/healthz", health),
        web.get(f"{API}/providers", api_providers), web.get(f"{API}/providers/{{id}}", api_provider),
        web.get(f"{API}/providers/{{id}}/components", api_components),
        web.get(f"{API}/incidents", api_incidents), web.get(f"{API}/maintenances", api_maintenances),
        web.get(f"{API}/events", api_events), web.get(f"{API}/catalog", api_catalog),
        web.get(f"{API}/summary", api_summary), web.get(f"{API}/openapi.json", api_openapi),
    ])
